using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Training;
using Xunit;
using Xunit.Sdk;

namespace LstmSimd.Tests.Training;

/// <summary>The fast backward (SIMD kernels, float) against the double reference backward, on every kernel path.</summary>
public sealed class FastBackwardTests
{
    /// <summary>
    /// The bound for gradients: |Δ| ≤ 1e-4 + 1e-3·|ref|. Gradients are sums over every step and row, so
    /// float rounding grows with T·B, and the activations carry ~5e-7 absolute error into every term.
    /// </summary>
    public const double Absolute = 1e-4, Relative = 1e-3;

    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    private static readonly int[] Hidden = [1, 3, 4, 7, 8, 9, 16, 17, 33];
    private static readonly int[] Inputs = [1, 2, 5, 8, 9, 17];

    /// <summary>
    /// Every feature switch of <see cref="GradientCase.Create"/>, with sizes around the vector widths, and weights as
    /// PyTorch initialises them: the regime of the numerics contract. (GradientCase's own weights, up to 5× larger for
    /// finite differences, make three projected layers chaotic enough that float rounding alone exceeds the bound.)
    /// </summary>
    private static Gen<GradientCase> Cases(bool software) =>
        from input in Gen.Elements(Inputs)
        from hidden in Gen.Elements(Hidden)
        from layers in Gen.Choose(1, software ? 2 : 3)
        from flags in Gen.Choose(0, 255)
        from steps in Gen.Choose(0, software ? 5 : 9)
        from batch in Gen.Choose(1, software ? 5 : 9)
        from seed in Gen.Choose(0, int.MaxValue - 1)
        let c = GradientCase.Create(input, hidden, layers, flags, steps, batch, seed)
        select c with { Weights = LstmWeights.CreateRandom(c.Spec, seed) };

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_gradient_matches_the_reference_backward_on_random_models(KernelPath path)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(Cases(software).ToArbitrary(), c =>
        {
            AssertMatchesReference(c, path);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 25 : 120));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_three_layer_bidirectional_projected_model_with_lengths_matches_the_reference(KernelPath path)
    {
        // flags: bidirectional, h0, c0, lengths, projection; B = 7 exercises both the 3-row and the 4-row kernels and their edges.
        AssertMatchesReference(GradientCase.Create(inputSize: 9, hidden: 19, layers: 3, flags: 1 | 4 | 8 | 16 | 64, steps: 6, batch: 7, seed: 17), path);
    }

    [Fact]
    public void Larger_layers_match_the_reference()
    {
        // 4H = 260 rows and K = T·B = 96 rows of the weight-gradient GEMMs: every blocking edge of the GEMM.
        AssertMatchesReference(GradientCase.Create(inputSize: 37, hidden: 65, layers: 1, flags: 4 | 8 | 32, steps: 12, batch: 8, seed: 23), KernelPath.Auto);
        AssertMatchesReference(GradientCase.Create(inputSize: 20, hidden: 40, layers: 2, flags: 1 | 16 | 64, steps: 10, batch: 3, seed: 29), KernelPath.Auto);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void The_training_forward_gives_bitwise_the_inference_forward(KernelPath path)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        // Time-major only: with a batch-first input the inference session projects rows in the input's order, so rows
        // fall differently into the kernels' three-row and one-row groups, whose sums round differently (by an ulp).
        Prop.ForAll(Cases(software).Select(c => c with { Layout = SequenceLayout.TimeMajor }).ToArbitrary(), c =>
        {
            int ld = c.Spec.NumLayers * c.Spec.Directions;
            float[] expected = new float[c.Steps * c.Batch * c.Spec.OutputSize], expectedH = new float[ld * c.Batch * c.Spec.OutputHiddenSize];
            float[] actual = new float[expected.Length], actualH = new float[expectedH.Length];
            using (LstmSession session = LstmModel.Create(c.Weights, new LstmModelOptions { Kernel = path }).CreateSession(c.Batch, Math.Max(1, c.Steps)))
                session.Forward(c.Input, c.Steps, c.Batch, expected, expectedH, default, c.H0, c.C0, c.Lengths, c.Layout);
            new LstmTrainingSession(c.Weights, c.Batch, Math.Max(1, c.Steps), path).Forward(c.Input, c.Steps, c.Batch, actual, actualH, default, c.H0, c.C0, c.Lengths, c.Layout);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedH, actualH);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 15 : 50));
    }

    internal static void AssertMatchesReference(GradientCase c, KernelPath path)
    {
        float[] gradOutput = ToFloat(c.GradOutput), gradHN = ToFloat(c.GradHN), gradCN = ToFloat(c.GradCN);
        ReferenceGradients expected = ReferenceLstmBackward.Backward(c.Weights, c.Input, c.Steps, c.Batch,
            ToDouble(gradOutput), ToDouble(gradHN), ToDouble(gradCN), c.H0, c.C0, c.Lengths, c.Layout);
        LstmGradients actual = LstmTrainingSession.ComputeGradients(c.Weights, c.Input, c.Steps, c.Batch,
            gradOutput, gradHN, gradCN, c.H0, c.C0, c.Lengths, c.Layout, path);

        string where = $"{path}: {c}";
        Support.Tolerance.AssertClose(expected.Forward.Output, actual.Output, $"output ({where})");
        Support.Tolerance.AssertClose(expected.Forward.HiddenState, actual.HiddenState, $"h_n ({where})");
        Support.Tolerance.AssertClose(expected.Forward.CellState, actual.CellState, $"c_n ({where})");
        LstmSpec spec = c.Spec;
        for (int l = 0; l < spec.NumLayers; l++)
            for (int d = 0; d < spec.Directions; d++)
            {
                string suffix = $"_l{l}{(d == 1 ? "_reverse" : "")} ({where})";
                AssertClose(expected[l, d].WeightIh, actual.Parameters[l, d].WeightIh, "weight_ih" + suffix);
                AssertClose(expected[l, d].WeightHh, actual.Parameters[l, d].WeightHh, "weight_hh" + suffix);
                AssertClose(expected[l, d].BiasIh, actual.Parameters[l, d].BiasIh, "bias_ih" + suffix);
                AssertClose(expected[l, d].BiasHh, actual.Parameters[l, d].BiasHh, "bias_hh" + suffix);
                AssertClose(expected[l, d].WeightHr, actual.Parameters[l, d].WeightHr, "weight_hr" + suffix);
            }

        AssertClose(expected.Input, actual.Input, $"input ({where})");
        AssertClose(expected.H0, actual.H0, $"h0 ({where})");
        AssertClose(expected.C0, actual.C0, $"c0 ({where})");
    }

    internal static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(a - e) <= Absolute + Relative * Math.Abs(e)))
                throw new XunitException($"{what}[{i}] = {a:R}, reference {e:R}, |Δ| = {Math.Abs(a - e):E3}");
        }
    }

    internal static float[] ToFloat(double[] values) => Array.ConvertAll(values, v => (float)v);

    internal static double[] ToDouble(float[] values) => Array.ConvertAll(values, v => (double)v);
}
