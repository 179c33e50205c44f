using System.Globalization;
using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Reference;

/// <summary>
/// The float64 GRU reference against PyTorch: nn.GRU for the cell with the reset gate after the recurrent product, and
/// the ONNX equations differentiated by torch's autograd (their forward pass checked against ONNX Runtime when the files
/// were made) for the original cell; plus finite differences of its backward on cases no file covers.
/// </summary>
public sealed class ReferenceGruTests
{
    private const double Tolerance = 1e-10;

    public static TheoryData<string> ForwardCases => new()
    {
        "single_layer", "two_layer_bidirectional", "batch_first_no_bias", "variable_lengths", "original_single_layer", "original_bidirectional",
    };

    public static TheoryData<string> GradientCases => new() { "grad_two_layer_bidirectional", "grad_variable_lengths", "grad_original_two_layer", "grad_original_lengths" };

    [Theory]
    [MemberData(nameof(ForwardCases))]
    [MemberData(nameof(GradientCases))]
    public void The_forward_pass_matches_the_golden_case(string name)
    {
        using var golden = new GoldenGru(name);
        ReferenceGruResult result = ReferenceGru.Forward(golden.Weights, golden.Input, golden.Steps, golden.Batch, golden.H0, golden.Lengths, golden.Layout);
        AssertClose(golden.File.ReadDoubles("output"), result.Output, name + " output");
        AssertClose(golden.File.ReadDoubles("h_n"), result.HiddenState, name + " h_n");
    }

    [Theory]
    [MemberData(nameof(GradientCases))]
    public void The_backward_pass_matches_autograd_on_the_golden_case(string name)
    {
        using var golden = new GoldenGru(name);
        ReferenceGruGradients g = ReferenceGru.Backward(golden.Weights, golden.Input, golden.Steps, golden.Batch,
            golden.File.ReadDoubles("grad_output"), golden.File.ReadDoubles("grad_h_n"), golden.H0, golden.Lengths, golden.Layout);
        AssertClose(golden.File.ReadDoubles("output"), g.Forward.Output, name + " output");
        AssertClose(golden.File.ReadDoubles("grad.input"), g.Input, name + " grad.input");
        AssertClose(golden.File.ReadDoubles("grad.h0"), g.H0, name + " grad.h0");
        int compared = 0;
        foreach (string tensor in golden.File.Tensors.Select(t => t.Name).Where(n => n.StartsWith("grad.weight", StringComparison.Ordinal) || n.StartsWith("grad.bias", StringComparison.Ordinal)))
        {
            // grad.weight_ih_l1_reverse → weight_ih of layer 1, direction 1.
            string[] parts = tensor["grad.".Length..].Split('_');
            ReferenceLayerGradients layer = g[int.Parse(parts[2][1..], CultureInfo.InvariantCulture), parts.Length > 3 ? 1 : 0];
            double[] actual = (parts[0] + "_" + parts[1]) switch
            {
                "weight_ih" => layer.WeightIh, "weight_hh" => layer.WeightHh, "bias_ih" => layer.BiasIh, "bias_hh" => layer.BiasHh,
                _ => throw new InvalidDataException(tensor),
            };
            AssertClose(golden.File.ReadDoubles(tensor), actual, $"{name} {tensor}");
            compared++;
        }

        Assert.Equal(golden.Weights.Spec.LayerDirections * (golden.Weights.Spec.Bias ? 4 : 2), compared);
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, false)]
    [InlineData(true, true)]
    [InlineData(false, true)]
    public void The_backward_pass_matches_finite_differences_batch_first_with_lengths(bool linearBeforeReset, bool hardSigmoid)
    {
        // Batch-first with a length-0 sequence and no bias: a combination the golden files do not hold. Hard sigmoid
        // gates (Keras 2's) are differentiated where they are not clipped, which these small weights keep them.
        var spec = new GruSpec(inputSize: 2, hiddenSize: 3, numLayers: 2, bidirectional: true, bias: false, linearBeforeReset: linearBeforeReset)
        {
            GateActivation = hardSigmoid ? new Activation(ActivationKind.HardSigmoid, 0.2f, 0.5f) : Activation.Sigmoid,
        };
        GruWeights weights = GruWeights.CreateRandom(spec, seed: 11);
        const int Steps = 3, Batch = 3;
        var random = new Random(12);
        float[] input = Draw(random, Batch * Steps * spec.InputSize), h0 = Draw(random, spec.LayerDirections * Batch * spec.HiddenSize);
        double[] gradOutput = [.. Draw(random, Batch * Steps * spec.OutputSize).Select(v => (double)v)];
        double[] gradHN = [.. Draw(random, h0.Length).Select(v => (double)v)];
        int[] lengths = [3, 0, 2];
        double Loss()
        {
            ReferenceGruResult r = ReferenceGru.Forward(weights, input, Steps, Batch, h0, lengths, SequenceLayout.BatchFirst);
            return r.Output.Select((v, i) => v * gradOutput[i]).Sum() + r.HiddenState.Select((v, i) => v * gradHN[i]).Sum();
        }

        ReferenceGruGradients g = ReferenceGru.Backward(weights, input, Steps, Batch, gradOutput, gradHN, h0, lengths, SequenceLayout.BatchFirst);
        CheckByFiniteDifferences(input, g.Input, Loss, "input");
        CheckByFiniteDifferences(h0, g.H0, Loss, "h0");
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                CheckByFiniteDifferences(weights[l, d].WeightIh, g[l, d].WeightIh, Loss, $"W_ih layer {l} direction {d}");
                CheckByFiniteDifferences(weights[l, d].WeightHh, g[l, d].WeightHh, Loss, $"W_hh layer {l} direction {d}");
            }
        }

        // The length-0 sequence takes no gradient from its input and passes gradHN straight to h0.
        for (int k = 0; k < Steps * spec.InputSize; k++) Assert.Equal(0.0, g.Input[1 * Steps * spec.InputSize + k]);
        for (int slot = 0; slot < spec.LayerDirections; slot++)
        {
            for (int u = 0; u < spec.HiddenSize; u++)
            {
                int i = (slot * Batch + 1) * spec.HiddenSize + u;
                Assert.Equal(gradHN[i], g.H0[i]);
            }
        }
    }

    [Fact]
    public void A_gate_activation_other_than_sigmoid_or_hard_sigmoid_is_refused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new GruSpec(2, 3) { GateActivation = new Activation(ActivationKind.Relu) });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GruSpec(2, 3) { GateActivation = new Activation(ActivationKind.Tanh) });
        Assert.Throws<ArgumentOutOfRangeException>(() => new GruSpec(2, 3) { GateActivation = new Activation(ActivationKind.HardSigmoid, float.NaN, 0.5f) });
        Assert.Equal(Activation.Sigmoid, new GruSpec(2, 3).GateActivation);
    }

    [Fact]
    public void A_hard_sigmoid_gru_step_matches_a_hand_calculation()
    {
        // One unit, one input, x = 1, h0 = 0, PyTorch's cell: r = clip(0.2·(1 + 0.5) + 0.5) = 0.8, z = clip(0.2·(−3) + 0.5) = 0
        // (clipped), n = tanh(0.4 + r·0.2) = tanh(0.56), h = n.
        var spec = new GruSpec(1, 1) { GateActivation = new Activation(ActivationKind.HardSigmoid, 0.2f, 0.5f) };
        var weights = new GruWeights(spec, [new GruLayerWeights { WeightIh = [1f, -3f, 0.4f], WeightHh = [0f, 0f, 0f], BiasIh = [0.5f, 0f, 0f], BiasHh = [0f, 0f, 0.2f] }]);
        ReferenceGruResult result = ReferenceGru.Forward(weights, [1f], 1, 1);
        Assert.Equal(Math.Tanh(0.4 + 0.8 * 0.2), result.Output[0], 1e-7);
    }

    [Fact]
    public void Wrong_sizes_are_refused_naming_the_tensor()
    {
        GruWeights weights = GruWeights.CreateRandom(new GruSpec(inputSize: 2, hiddenSize: 3), seed: 1);
        Assert.Contains("input holds 5 values; the reference expects 6", Assert.Throws<ArgumentException>(() => ReferenceGru.Forward(weights, new float[5], 3, 1)).Message, StringComparison.Ordinal);
        Assert.Contains("h0 holds 2 values; the reference expects 3", Assert.Throws<ArgumentException>(() => ReferenceGru.Forward(weights, new float[6], 3, 1, h0: new float[2])).Message, StringComparison.Ordinal);
        Assert.Contains("lengths[0] is 4", Assert.Throws<ArgumentOutOfRangeException>(() => ReferenceGru.Forward(weights, new float[6], 3, 1, lengths: new[] { 4 })).Message, StringComparison.Ordinal);
        Assert.Contains("gradHN holds 1 values", Assert.Throws<ArgumentException>(() => ReferenceGru.Backward(weights, new float[6], 3, 1, gradHN: new double[1])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_spec_is_valid_whatever_way_it_was_made_and_weights_must_fit_it()
    {
        var spec = new GruSpec(inputSize: 2, hiddenSize: 3);
        Assert.Throws<ArgumentOutOfRangeException>(() => spec with { HiddenSize = 0 });
        Assert.Contains("3 × HiddenSize", Assert.Throws<ArgumentOutOfRangeException>(() => spec with { HiddenSize = 1 << 30 }).Message, StringComparison.Ordinal);
        var layer = new GruLayerWeights { WeightIh = new float[18], WeightHh = new float[26], BiasIh = new float[9], BiasHh = new float[9] };
        Assert.Contains("WeightHh of layer 0 must hold 27 values, got 26", Assert.Throws<ArgumentException>(() => new GruWeights(spec, [layer])).Message, StringComparison.Ordinal);
        Assert.Contains("Expected 2 layer-direction weight sets", Assert.Throws<ArgumentException>(() => new GruWeights(spec with { Bidirectional = true }, [layer])).Message, StringComparison.Ordinal);
    }

    private static void CheckByFiniteDifferences(float[] parameter, double[] gradient, Func<double> loss, string what)
    {
        // Central differences in float32 parameters: a step of 1e-2 keeps the rounding of the parameter itself negligible.
        const float Step = 1e-2f;
        for (int i = 0; i < parameter.Length; i++)
        {
            float original = parameter[i];
            parameter[i] = original + Step;
            double up = loss();
            parameter[i] = original - Step;
            double down = loss();
            parameter[i] = original;
            double numeric = (up - down) / ((double)(original + Step) - (original - Step));
            Assert.True(Math.Abs(numeric - gradient[i]) <= 1e-3 + 1e-3 * Math.Abs(numeric), $"{what}[{i}]: backward {gradient[i]:R}, finite differences {numeric:R}");
        }
    }

    private static float[] Draw(Random random, int length) => [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1))];

    private static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(actual[i] - expected[i]) <= Tolerance * (1 + Math.Abs(expected[i])), $"{what}[{i}]: reference {actual[i]:R}, golden {expected[i]:R}");
    }
}
