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

    /// <summary>The engines that run every model, ONNX cell variants included: the reference and the fast path.</summary>
    public static IEnumerable<EnginePath> Engines(ImportedLstm model) => [EnginePath.Reference, EnginePath.Fast];

    public static (double[] Output, double[] H, double[] C) Run(EnginePath engine, ImportedLstm model, float[] input, int steps, int batch,
        float[] h0, float[] c0, int[] lengths, SequenceLayout layout, WeightFormat weights = WeightFormat.Float32)
    {
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

        double[] output, h, c;
        if (engine == EnginePath.Reference)
        {
            ReferenceResult r = ReferenceLstm.Forward(model.Weights, input, steps, batch, h0, c0, lengths, layout);
            (output, h, c) = (r.Output, r.HiddenState, r.CellState);
        }
        else
        {
            LstmModel fast = LstmModel.Create(model.Weights, new LstmModelOptions { Weights = weights });
            using LstmSession session = fast.CreateSession(batch, Math.Max(1, steps));
            float[] o = new float[steps * batch * spec.OutputSize];
            float[] hn = new float[spec.NumLayers * spec.Directions * batch * spec.OutputHiddenSize];
            float[] cn = new float[spec.NumLayers * spec.Directions * batch * spec.HiddenSize];
            session.Forward(input, steps, batch, o, hn, cn, h0, c0, lengths, layout);
            (output, h, c) = (ToDouble(o), ToDouble(hn), ToDouble(cn));
        }

        if (reverse)
        {
            // The output is in double here: move it back with the test's own reversal (the library's is tested separately).
            output = ReverseDoubles(output, steps, batch, spec.OutputSize, lengths, layout);
        }

        return (output, h, c);
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
