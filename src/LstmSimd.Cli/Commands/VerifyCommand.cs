using System.CommandLine;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary>`verify`: random models and inputs, fast path against the double reference on every kernel path.</summary>
internal static class VerifyCommand
{
    private sealed record Shape(string Name, LstmSpec Spec, int Steps, int Batch, bool Lengths, SequenceLayout Layout);

    private static readonly Shape[] Shapes =
    [
        new("1 layer, I=H=1", new LstmSpec(1, 1), 40, 1, false, SequenceLayout.TimeMajor),
        new("I=7 H=17", new LstmSpec(7, 17), 30, 3, false, SequenceLayout.TimeMajor),
        new("I=H=33, B=9", new LstmSpec(33, 33), 20, 9, false, SequenceLayout.TimeMajor),
        new("I=H=129, B=1", new LstmSpec(129, 129), 12, 1, false, SequenceLayout.TimeMajor),
        new("2 layers bidir, lengths", new LstmSpec(16, 31, 2, bidirectional: true), 15, 5, true, SequenceLayout.TimeMajor),
        new("3 layers, no bias, batch-first", new LstmSpec(9, 15, 3, bias: false), 10, 4, false, SequenceLayout.BatchFirst),
        new("projection 63→17", new LstmSpec(20, 63, 2, projectionSize: 17), 12, 2, true, SequenceLayout.TimeMajor),
        new("I=H=257, B=2", new LstmSpec(257, 257), 4, 2, false, SequenceLayout.TimeMajor),
    ];

    public static Command Create()
    {
        var seed = new Option<int>("--seed") { Description = "Seed for weights and inputs.", DefaultValueFactory = _ => 1 };
        var command = new Command("verify", "Check the fast path against the double-precision reference on random models, on every kernel path this machine can run; exit code 1 on any violation.")
        {
            seed,
        };
        command.SetAction(parse => Run(parse.GetValue(seed)));
        return command;
    }

    /// <summary>Runs every shape on every path and prints a table; returns the number of violations.</summary>
    internal static int Check(int seed, bool print)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("shape");
        foreach (KernelPath path in KernelSelector.All)
            table.AddColumn(new TableColumn(KernelSelector.IsAccelerated(path) ? path.ToString() : $"{path} (sw)").RightAligned());

        int violations = 0;
        foreach (Shape shape in Shapes)
        {
            LstmWeights weights = LstmWeights.CreateRandom(shape.Spec, seed);
            float[] input = Uniform(shape.Steps * shape.Batch * shape.Spec.InputSize, seed + 1);
            int[] lengths = shape.Lengths ? [.. Enumerable.Range(0, shape.Batch).Select(b => shape.Steps - b * shape.Steps / (shape.Batch + 1))] : [];
            ReferenceResult expected = ReferenceLstm.Forward(weights, input, shape.Steps, shape.Batch, lengths: lengths, layout: shape.Layout);
            var cells = new List<string> { shape.Name };
            foreach (KernelPath path in KernelSelector.All)
            {
                using LstmSession session = LstmModel.Create(weights, new LstmModelOptions { Kernel = path }).CreateSession(shape.Batch, shape.Steps);
                float[] output = new float[expected.Output.Length];
                float[] h = new float[expected.HiddenState.Length], c = new float[expected.CellState.Length];
                session.Forward(input, shape.Steps, shape.Batch, output, h, c, lengths: lengths, layout: shape.Layout);
                (double maxError, bool ok) = Compare(expected.Output, output);
                (double hError, bool hOk) = Compare(expected.HiddenState, h);
                (double cError, bool cOk) = Compare(expected.CellState, c);
                maxError = Math.Max(maxError, Math.Max(hError, cError));
                bool pass = ok && hOk && cOk;
                if (!pass) violations++;
                cells.Add(pass ? $"[green]{maxError:E1}[/]" : $"[red]{maxError:E1} FAIL[/]");
            }

            table.AddRow([.. cells]);
        }

        if (print)
        {
            AnsiConsole.Write(table);
            Console.WriteLine("max |fast − reference| over output, h_n and c_n; bound per element: 1e-5 + 1e-4·|reference|");
        }

        return violations;
    }

    private static int Run(int seed)
    {
        int violations = Check(seed, print: true);
        Console.WriteLine(violations == 0 ? "verify: all paths match the reference" : $"verify: {violations} violation(s)");
        return violations == 0 ? 0 : 1;
    }

    private static (double MaxError, bool WithinBound) Compare(double[] expected, float[] actual)
    {
        double max = 0;
        bool ok = true;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            max = Math.Max(max, error);
            ok &= error <= 1e-5 + 1e-4 * Math.Abs(expected[i]);
        }

        return (max, ok);
    }

    private static float[] Uniform(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
