using FsCheck;
using FsCheck.Fluent;

namespace LstmSimd.Tests.Training;

/// <summary>A small random LSTM problem: a spec, weights, inputs, optional states and lengths, and upstream gradients.</summary>
public sealed record GradientCase(
    LstmSpec Spec, LstmWeights Weights, float[] Input, int Steps, int Batch, float[] H0, float[] C0, int[] Lengths,
    SequenceLayout Layout, double[] GradOutput, double[] GradHN, double[] GradCN)
{
    public override string ToString() =>
        $"I={Spec.InputSize} H={Spec.HiddenSize} L={Spec.NumLayers} bidir={Spec.Bidirectional} P={Spec.ProjectionSize} bias={Spec.Bias} " +
        $"T={Steps} B={Batch} h0={H0.Length > 0} c0={C0.Length > 0} lengths=[{string.Join(",", Lengths)}] {Layout} " +
        $"gradOut={GradOutput.Length > 0} gradHN={GradHN.Length > 0} gradCN={GradCN.Length > 0}";

    /// <summary>Every feature the forward supports, in small sizes so that finite differences over all parameters stay cheap.</summary>
    public static Arbitrary<GradientCase> Small(int maxHidden = 3, int maxSteps = 4, int maxBatch = 3, int maxLayers = 2) =>
        (from input in Gen.Choose(1, 3)
         from hidden in Gen.Choose(1, maxHidden)
         from layers in Gen.Choose(1, maxLayers)
         from flags in Gen.Choose(0, 255)
         from steps in Gen.Choose(0, maxSteps)
         from batch in Gen.Choose(1, maxBatch)
         from seed in Gen.Choose(0, int.MaxValue - 1)
         select Create(input, hidden, layers, flags, steps, batch, seed)).ToArbitrary();

    /// <summary>Builds a case; the bits of <paramref name="flags"/> switch the optional features on.</summary>
    public static GradientCase Create(int inputSize, int hidden, int layers, int flags, int steps, int batch, int seed)
    {
        var random = new Random(seed);
        bool bidirectional = (flags & 1) != 0, bias = (flags & 2) == 0, hasH0 = (flags & 4) != 0, hasC0 = (flags & 8) != 0;
        bool hasLengths = (flags & 16) != 0, batchFirst = (flags & 32) != 0, projection = (flags & 64) != 0 && hidden > 1;
        int upstream = random.Next(1, 8); // which of gradOutput, gradHN, gradCN are non-empty (at least one)
        var spec = new LstmSpec(inputSize, hidden, layers, bidirectional, projection ? random.Next(1, hidden) : 0, bias);
        // Weights up to ±0.9 push the gates away from their linear region, where a wrong derivative would hide.
        LstmWeights weights = LstmWeights.CreateRandom(spec, seed);
        float scale = (float)(0.5 + random.NextDouble()) * MathF.Sqrt(hidden) * 0.6f;
        for (int l = 0; l < layers; l++)
            for (int d = 0; d < spec.Directions; d++)
            {
                LstmLayerWeights w = weights[l, d];
                foreach (float[] a in new[] { w.WeightIh, w.WeightHh, w.BiasIh, w.BiasHh, w.WeightHr })
                    for (int k = 0; k < a.Length; k++) a[k] *= scale;
            }

        int slots = layers * spec.Directions;
        float[] Floats(int n) => Enumerable.Range(0, n).Select(_ => (float)(random.NextDouble() * 2 - 1)).ToArray();
        double[] Doubles(int n) => Enumerable.Range(0, n).Select(_ => random.NextDouble() * 2 - 1).ToArray();
        float[] input = Floats(steps * batch * inputSize);
        float[] h0 = hasH0 ? Floats(slots * batch * spec.OutputHiddenSize) : [];
        float[] c0 = hasC0 ? Floats(slots * batch * hidden) : [];
        int[] lengths = hasLengths ? Enumerable.Range(0, batch).Select(_ => random.Next(0, steps + 1)).ToArray() : [];
        double[] gradOutput = (upstream & 1) != 0 ? Doubles(steps * batch * spec.OutputSize) : [];
        double[] gradHN = (upstream & 2) != 0 ? Doubles(slots * batch * spec.OutputHiddenSize) : [];
        double[] gradCN = (upstream & 4) != 0 ? Doubles(slots * batch * hidden) : [];
        return new GradientCase(spec, weights, input, steps, batch, h0, c0, lengths,
            batchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor, gradOutput, gradHN, gradCN);
    }
}
