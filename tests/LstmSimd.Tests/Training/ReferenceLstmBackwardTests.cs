using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Reference;
using Xunit;

namespace LstmSimd.Tests.Training;

public sealed class ReferenceLstmBackwardTests
{
    private const double Epsilon = 1e-6, AbsoluteTolerance = 1e-5, RelativeTolerance = 1e-3;

    [Fact]
    public void Every_gradient_matches_central_finite_differences_of_the_reference_forward()
    {
        // 300 cases: each of the eight feature switches is on in about half of them.
        Check.One(Config.QuickThrowOnFailure.WithMaxTest(300), Prop.ForAll(GradientCase.Small(), c =>
        {
            CheckAgainstFiniteDifferences(c);
            return true;
        }));
    }

    [Fact]
    public void Gradients_match_finite_differences_on_a_three_layer_bidirectional_projected_model_with_lengths()
    {
        // flags: bidirectional, h0, c0, lengths, projection.
        CheckAgainstFiniteDifferences(GradientCase.Create(inputSize: 2, hidden: 4, layers: 3, flags: 1 | 4 | 8 | 16 | 64, steps: 5, batch: 3, seed: 7));
    }

    [Fact]
    public void The_forward_pass_inside_the_backward_reproduces_the_reference_forward()
    {
        Prop.ForAll(GradientCase.Small(maxHidden: 5, maxSteps: 6), c =>
        {
            ReferenceResult expected = ReferenceLstm.Forward(c.Weights, c.Input, c.Steps, c.Batch, c.H0, c.C0, c.Lengths, c.Layout);
            ReferenceResult actual = Backward(c).Forward;
            AssertClose(expected.Output, actual.Output, 1e-12, "output");
            AssertClose(expected.HiddenState, actual.HiddenState, 1e-12, "h_n");
            AssertClose(expected.CellState, actual.CellState, 1e-12, "c_n");
            return true;
        }).QuickCheckThrowOnFailure();
    }

    [Fact]
    public void A_zero_length_sequence_passes_the_final_state_gradients_straight_to_the_initial_state()
    {
        GradientCase c = GradientCase.Create(inputSize: 2, hidden: 3, layers: 1, flags: 4 | 8 | 16, steps: 3, batch: 2, seed: 11)
            with { Lengths = [0, 3], GradHN = Enumerable.Range(0, 6).Select(i => i + 1.0).ToArray(), GradCN = Enumerable.Range(0, 6).Select(i => -i - 1.0).ToArray() };
        ReferenceGradients g = Backward(c);
        Assert.Equal([1.0, 2.0, 3.0], g.H0.AsSpan(0, 3).ToArray());
        Assert.Equal([-1.0, -2.0, -3.0], g.C0.AsSpan(0, 3).ToArray());
        for (int t = 0; t < 3; t++)
            for (int k = 0; k < 2; k++)
                Assert.Equal(0.0, g.Input[(t * 2 + 0) * 2 + k]);
    }

    [Fact]
    public void Inputs_past_a_sequences_length_receive_no_gradient()
    {
        GradientCase c = GradientCase.Create(inputSize: 3, hidden: 2, layers: 2, flags: 1, steps: 6, batch: 3, seed: 5) with { Lengths = [6, 2, 4] };
        ReferenceGradients g = Backward(c);
        for (int b = 0; b < 3; b++)
            for (int t = 0; t < 6; t++)
                for (int k = 0; k < 3; k++)
                {
                    double value = g.Input[(t * 3 + b) * 3 + k];
                    if (t >= c.Lengths[b]) Assert.Equal(0.0, value);
                    else Assert.NotEqual(0.0, value);
                }
    }

    [Fact]
    public void The_two_bias_gradients_are_equal_because_the_biases_enter_only_through_their_sum()
    {
        ReferenceGradients g = Backward(GradientCase.Create(inputSize: 2, hidden: 3, layers: 2, flags: 1, steps: 4, batch: 2, seed: 3));
        for (int l = 0; l < 2; l++)
            for (int d = 0; d < 2; d++)
                Assert.Equal(g[l, d].BiasIh, g[l, d].BiasHh);
    }

    [Fact]
    public void An_onnx_cell_variant_is_rejected_because_it_has_no_backward()
    {
        var spec = new LstmSpec(2, 2) { Cell = CellVariant.Standard with { Clip = 1f } };
        var weights = LstmWeights.CreateRandom(spec, 1);
        Assert.Throws<NotSupportedException>(() => ReferenceLstmBackward.Backward(weights, new float[2], 1, 1));
    }

    [Fact]
    public void A_gradient_of_the_wrong_length_is_rejected_with_its_name()
    {
        var weights = LstmWeights.CreateRandom(new LstmSpec(2, 2), 1);
        var e = Assert.Throws<ArgumentException>(() => ReferenceLstmBackward.Backward(weights, new float[4], 2, 1, gradOutput: new double[3]));
        Assert.Equal("gradOutput", e.ParamName);
    }

    internal static ReferenceGradients Backward(GradientCase c) =>
        ReferenceLstmBackward.Backward(c.Weights, c.Input, c.Steps, c.Batch, c.GradOutput, c.GradHN, c.GradCN, c.H0, c.C0, c.Lengths, c.Layout);

    /// <summary>loss = Σ output·gradOutput + Σ h_n·gradHN + Σ c_n·gradCN, through the public reference forward.</summary>
    private static double Loss(GradientCase c, LstmWeights weights, float[] input, float[] h0, float[] c0)
    {
        ReferenceResult r = ReferenceLstm.Forward(weights, input, c.Steps, c.Batch, h0, c0, c.Lengths, c.Layout);
        return Dot(r.Output, c.GradOutput) + Dot(r.HiddenState, c.GradHN) + Dot(r.CellState, c.GradCN);
    }

    private static double Dot(double[] a, double[] g)
    {
        if (g.Length == 0) return 0;
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += a[i] * g[i];
        return sum;
    }

    private static void CheckAgainstFiniteDifferences(GradientCase c)
    {
        ReferenceGradients g = Backward(c);
        LstmSpec spec = c.Spec;
        int slots = spec.NumLayers * spec.Directions;
        // An empty state is a zero state: perturb explicit zeros.
        float[] h0 = c.H0.Length > 0 ? c.H0 : new float[slots * c.Batch * spec.OutputHiddenSize];
        float[] c0 = c.C0.Length > 0 ? c.C0 : new float[slots * c.Batch * spec.HiddenSize];
        LstmWeights weights = c.Weights.Clone();
        float[] input = (float[])c.Input.Clone();
        double Evaluate() => Loss(c, weights, input, h0, c0);

        for (int l = 0; l < spec.NumLayers; l++)
            for (int d = 0; d < spec.Directions; d++)
            {
                LstmLayerWeights w = weights[l, d];
                ReferenceLayerGradients gw = g[l, d];
                string where = $"layer {l} direction {d}";
                CheckArray(w.WeightIh, gw.WeightIh, Evaluate, $"WeightIh {where}", c);
                CheckArray(w.WeightHh, gw.WeightHh, Evaluate, $"WeightHh {where}", c);
                CheckArray(w.BiasIh, gw.BiasIh, Evaluate, $"BiasIh {where}", c);
                CheckArray(w.BiasHh, gw.BiasHh, Evaluate, $"BiasHh {where}", c);
                CheckArray(w.WeightHr, gw.WeightHr, Evaluate, $"WeightHr {where}", c);
            }

        CheckArray(input, g.Input, Evaluate, "input", c);
        CheckArray(h0, g.H0, Evaluate, "h0", c);
        CheckArray(c0, g.C0, Evaluate, "c0", c);
    }

    /// <summary>
    /// Central differences in double. The parameters are floats, so each side's step is the float nearest to
    /// value ± 1e-6 and the quotient divides by the step actually taken.
    /// </summary>
    private static void CheckArray(float[] values, double[] analytic, Func<double> loss, string name, GradientCase c)
    {
        Assert.Equal(values.Length, analytic.Length);
        for (int k = 0; k < values.Length; k++)
        {
            float original = values[k];
            float up = (float)(original + Epsilon), down = (float)(original - Epsilon);
            values[k] = up;
            double lossUp = loss();
            values[k] = down;
            double lossDown = loss();
            values[k] = original;
            double numeric = (lossUp - lossDown) / ((double)up - down);
            if (!(Math.Abs(analytic[k] - numeric) <= AbsoluteTolerance + RelativeTolerance * Math.Abs(numeric)))
                Assert.Fail($"{name}[{k}]: backward {analytic[k]:R}, finite differences {numeric:R} ({c})");
        }
    }

    private static void AssertClose(double[] expected, double[] actual, double tolerance, string name)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (!(Math.Abs(expected[i] - actual[i]) <= tolerance))
                Assert.Fail($"{name}[{i}]: expected {expected[i]:R}, got {actual[i]:R}");
    }
}
