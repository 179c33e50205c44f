using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Reference;

namespace LstmSimd.Tests.IO;

/// <summary>Which engine produced a result, so every golden assertion names the path that ran.</summary>
public enum EnginePath
{
    Reference,
    Fast,
}

/// <summary>Runs an imported model on one engine, applying what the import says (reverse-only direction, layout, constant state).</summary>
public static class GoldenRunner
{
    public static string GoldenPath(string folder, string file) => Path.Combine(AppContext.BaseDirectory, "Golden", folder, file);

    public static JsonElement Config(SafetensorsFile file) => JsonDocument.Parse(file.Metadata["config"]).RootElement;

    /// <summary>Each golden case on every kernel path, for theories that run a case once per path.</summary>
    public static Xunit.TheoryData<string, KernelPath> OnEveryKernelPath(IEnumerable<string> cases)
    {
        var data = new Xunit.TheoryData<string, KernelPath>();
        foreach (string name in cases)
            foreach (KernelPath path in LstmSimd.Kernels.KernelSelector.All) data.Add(name, path);
        return data;
    }

    /// <summary>The engines that run every model, ONNX cell variants included: the reference and the fast path.</summary>
    public static IEnumerable<EnginePath> Engines(ImportedLstm model) => [EnginePath.Reference, EnginePath.Fast];

    /// <summary>
    /// The fast path runs through <see cref="ImportedLstm.Run"/>, which applies the import's semantics itself; the reference
    /// side applies them here, by the test's own hand, so the two are independent.
    /// </summary>
    public static (double[] Output, double[] H, double[] C) Run(EnginePath engine, ImportedLstm model, float[] input, int steps, int batch,
        float[] h0, float[] c0, int[] lengths, SequenceLayout layout, WeightFormat weights = WeightFormat.Float32)
    {
        if (engine == EnginePath.Fast)
        {
            ImportedRun run = model.Run(input, steps, batch, h0, c0, lengths, layout, new LstmModelOptions { Weights = weights });
            return (ToDouble(model.IsCell ? run.HiddenState : run.Output), ToDouble(run.HiddenState), ToDouble(run.CellState));
        }

        LstmSpec spec = model.Weights.Spec;
        if (h0.Length == 0) h0 = model.InitialHidden;
        if (c0.Length == 0) c0 = model.InitialCell;
        if (lengths.Length == 0) lengths = model.SequenceLengths;
        bool reverse = model.Direction == ImportedDirection.Reverse;
        if (reverse)
        {
            input = (float[])input.Clone();
            SequenceReversal.ReverseInPlace(input, steps, batch, spec.InputSize, lengths, layout);
        }

        ReferenceResult r = ReferenceLstm.Forward(model.Weights, input, steps, batch, h0, c0, lengths, layout);

        // The output is in double here: move it back with the test's own reversal (the library's is tested separately).
        double[] output = reverse ? ReverseDoubles(r.Output, steps, batch, spec.OutputSize, lengths, layout) : r.Output;
        return (output, r.HiddenState, r.CellState);
    }

    public static double[] ToDouble(float[] values) => [.. values.Select(v => (double)v)];

    public static int[] ToInt32(long[] values) => [.. values.Select(v => checked((int)v))];

    private static double[] ReverseDoubles(double[] data, int steps, int batch, int features, int[] lengths, SequenceLayout layout)
    {
        var result = (double[])data.Clone();
        for (int b = 0; b < batch; b++)
        {
            int n = lengths.Length == 0 ? steps : lengths[b];
            for (int t = 0; t < n; t++)
            {
                int from = layout == SequenceLayout.TimeMajor ? (t * batch + b) * features : (b * steps + t) * features;
                int to = layout == SequenceLayout.TimeMajor ? ((n - 1 - t) * batch + b) * features : (b * steps + n - 1 - t) * features;
                Array.Copy(data, from, result, to, features);
            }
        }

        return result;
    }
}
