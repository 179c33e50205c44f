using System.CommandLine;
using LstmSimd.Cli.Tool;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary>`verify`: random LSTMs and GRUs and inputs, fast path against the double reference on every kernel path.</summary>
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

    private sealed record GruShape(string Name, GruSpec Spec, int Steps, int Batch, bool Lengths, SequenceLayout Layout);

    private static readonly GruShape[] GruShapes =
    [
        new("GRU I=7 H=17", new GruSpec(7, 17), 30, 3, false, SequenceLayout.TimeMajor),
        new("GRU I=H=33, B=9", new GruSpec(33, 33), 20, 9, false, SequenceLayout.TimeMajor),
        new("GRU 2 layers bidir, lengths", new GruSpec(16, 31, 2, bidirectional: true), 15, 5, true, SequenceLayout.TimeMajor),
        new("GRU 3 layers, no bias, batch-first", new GruSpec(9, 15, 3, bias: false), 10, 4, false, SequenceLayout.BatchFirst),
        new("GRU I=H=257, B=2", new GruSpec(257, 257), 4, 2, false, SequenceLayout.TimeMajor),
    ];

    public static Command Create()
    {
        var seed = new Option<int>("--seed") { Description = "Seed for weights and inputs.", DefaultValueFactory = _ => 1 };
        var weights = WeightsOption.Create("How the checked models store their weights; fp16/bf16 are held to the usual bound against the reference on their rounded weights, int8 to its documented accuracy");
        var command = new Command("verify", "Check the fast path against the double-precision reference on random LSTM and GRU models, on every kernel path this machine can run; exit code 1 on any violation.")
        {
            seed,
            weights,
        };
        command.SetAction(parse => ToolExit.Run("verify", () => Run(parse.GetValue(seed), WeightsOption.Parse(parse.GetValue(weights)))));
        return command;
    }

    /// <summary>
    /// Runs every shape on every path and prints a table; returns the number of violations. Models store their weights
    /// in <paramref name="format"/>; the reference runs on the weights as stored (<see cref="LstmWeights.StoredAs"/>).
    /// </summary>
    internal static int Check(int seed, bool print, WeightFormat format = WeightFormat.Float32)
    {
        // Int8 also quantises activations every step, which the reference does not: its documented accuracy is the bound.
        double absolute = format == WeightFormat.Int8 ? WeightFormatAccuracy.MaxAbsoluteChange(format) : 1e-5, relative = format == WeightFormat.Int8 ? 0 : 1e-4;
        var table = new Table().Border(TableBorder.Rounded).AddColumn("shape");
        foreach (KernelPath path in KernelSelector.All)
            table.AddColumn(new TableColumn(KernelSelector.IsAccelerated(path) ? path.ToString() : $"{path} (sw)").RightAligned());

        int violations = 0;

        // One row per shape: on every path, each fast result against the reference's, to the bound.
        void Row(string name, Func<KernelPath, (double[] Expected, float[] Actual)[]> run)
        {
            var cells = new List<string> { name };
            foreach (KernelPath path in KernelSelector.All)
            {
                double maxError = 0;
                bool pass = true;
                foreach ((double[] expected, float[] actual) in run(path))
                {
                    (double error, bool ok) = Compare(expected, actual, absolute, relative);
                    (maxError, pass) = (Math.Max(maxError, error), pass && ok);
                }

                if (!pass) violations++;
                cells.Add(pass ? $"[green]{maxError:E1}[/]" : $"[red]{maxError:E1} FAIL[/]");
            }

            table.AddRow([.. cells]);
        }

        foreach (Shape shape in Shapes)
        {
            LstmWeights weights = LstmWeights.CreateRandom(shape.Spec, seed);
            float[] input = Uniform(shape.Steps * shape.Batch * shape.Spec.InputSize, seed + 1);
            int[] lengths = Lengths(shape.Lengths, shape.Steps, shape.Batch);
            ReferenceResult expected = ReferenceLstm.Forward(weights.StoredAs(format), input, shape.Steps, shape.Batch, lengths: lengths, layout: shape.Layout);
            Row(shape.Name, path =>
            {
                using LstmSession session = LstmModel.Create(weights, new LstmModelOptions { Kernel = path, Weights = format }).CreateSession(shape.Batch, shape.Steps);
                float[] output = new float[expected.Output.Length];
                float[] h = new float[expected.HiddenState.Length], c = new float[expected.CellState.Length];
                session.Forward(input, shape.Steps, shape.Batch, output, h, c, lengths: lengths, layout: shape.Layout);
                return [(expected.Output, output), (expected.HiddenState, h), (expected.CellState, c)];
            });
        }

        foreach (GruShape shape in GruShapes)
        {
            GruWeights weights = GruWeights.CreateRandom(shape.Spec, seed);
            float[] input = Uniform(shape.Steps * shape.Batch * shape.Spec.InputSize, seed + 1);
            int[] lengths = Lengths(shape.Lengths, shape.Steps, shape.Batch);
            ReferenceGruResult expected = ReferenceGru.Forward(weights.StoredAs(format), input, shape.Steps, shape.Batch, lengths: lengths, layout: shape.Layout);
            Row(shape.Name, path =>
            {
                using GruSession session = GruModel.Create(weights, new LstmModelOptions { Kernel = path, Weights = format }).CreateSession(shape.Batch, shape.Steps);
                float[] output = new float[expected.Output.Length], h = new float[expected.HiddenState.Length];
                session.Forward(input, shape.Steps, shape.Batch, output, h, lengths: lengths, layout: shape.Layout);
                return [(expected.Output, output), (expected.HiddenState, h)];
            });
        }

        if (print)
        {
            AnsiConsole.Write(table);
            string weightsNote = format == WeightFormat.Float32 ? "" : $", {WeightsOption.NameOf(format)} weights (the reference runs on the weights as stored)";
            Console.WriteLine($"max |fast − reference| over output, h_n and c_n (a GRU: output and h_n){weightsNote}; bound per element: {absolute:G3} + {relative:G3}·|reference|");
        }

        return violations;
    }

    private static int Run(int seed, WeightFormat format)
    {
        int violations = Check(seed, print: true, format);
        Console.WriteLine(violations == 0 ? "verify: all paths match the reference" : $"verify: {violations} violation(s)");
        return violations == 0 ? 0 : 1;
    }

    private static (double MaxError, bool WithinBound) Compare(double[] expected, float[] actual, double absolute, double relative)
    {
        double max = 0;
        bool ok = true;
        for (int i = 0; i < expected.Length; i++)
        {
            double error = Math.Abs(actual[i] - expected[i]);
            max = Math.Max(max, error);
            ok &= error <= absolute + relative * Math.Abs(expected[i]);
        }

        return (max, ok);
    }

    /// <summary>Lengths from T down, one per sequence, when the shape asks for them; else empty (every sequence T steps).</summary>
    private static int[] Lengths(bool wanted, int steps, int batch) =>
        wanted ? [.. Enumerable.Range(0, batch).Select(b => steps - b * steps / (batch + 1))] : [];

    private static float[] Uniform(int length, int seed)
    {
        var random = new Random(seed);
        var values = new float[length];
        for (int i = 0; i < values.Length; i++) values[i] = (float)(random.NextDouble() * 2 - 1);
        return values;
    }
}
