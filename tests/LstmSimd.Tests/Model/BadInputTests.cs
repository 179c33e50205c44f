using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>Every malformed call throws an ArgumentException that names the argument and both sizes, and writes nothing.</summary>
public class BadInputTests
{
    private static readonly LstmSpec Spec = new(5, 6, 2, bidirectional: false, projectionSize: 0);
    private const int Steps = 4, Batch = 3;

    // Valid shapes: input [4,3,5]=60, output [4,3,6]=72, h/c [2,3,6]=36.
    private static void Forward(int input = 60, int output = 72, int hN = 36, int cN = 36, int h0 = 0, int c0 = 0, int[]? lengths = null,
        int steps = Steps, int batch = Batch, float[]? outputBuffer = null)
    {
        using LstmSession session = LstmModel.Create(LstmWeights.CreateRandom(Spec, 1)).CreateSession(Batch, Steps);
        session.Forward(new float[input], steps, batch, outputBuffer ?? new float[output], new float[hN], new float[cN], new float[h0], new float[c0], lengths ?? [], SequenceLayout.TimeMajor);
    }

    [Theory]
    [InlineData(59, "input", "expected 60")]
    [InlineData(61, "input", "expected 60")]
    public void An_input_of_the_wrong_length_is_named_with_both_sizes(int length, string name, string expected)
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Forward(input: length));
        Assert.Equal(name, error.ParamName);
        Assert.Contains(expected, error.Message);
        Assert.Contains($"length {length}", error.Message);
    }

    [Fact]
    public void An_output_h0_c0_hN_or_cN_of_the_wrong_length_is_named()
    {
        Assert.Equal("output", Assert.ThrowsAny<ArgumentException>(() => Forward(output: 71)).ParamName);
        Assert.Equal("h0", Assert.ThrowsAny<ArgumentException>(() => Forward(h0: 35)).ParamName);
        Assert.Equal("c0", Assert.ThrowsAny<ArgumentException>(() => Forward(c0: 37)).ParamName);
        Assert.Equal("hN", Assert.ThrowsAny<ArgumentException>(() => Forward(hN: 12)).ParamName);
        Assert.Equal("cN", Assert.ThrowsAny<ArgumentException>(() => Forward(cN: 1)).ParamName);
        Assert.Contains("expected 36", Assert.ThrowsAny<ArgumentException>(() => Forward(h0: 35)).Message);
    }

    [Fact]
    public void Lengths_outside_zero_to_T_or_of_the_wrong_count_are_rejected()
    {
        Assert.Contains("outside [0, T=4]", Assert.ThrowsAny<ArgumentException>(() => Forward(lengths: [4, 5, 1])).Message);
        Assert.Contains("outside [0, T=4]", Assert.ThrowsAny<ArgumentException>(() => Forward(lengths: [-1, 2, 1])).Message);
        Assert.Equal("lengths", Assert.ThrowsAny<ArgumentException>(() => Forward(lengths: [1, 2])).ParamName);
    }

    [Fact]
    public void A_batch_or_sequence_above_the_sessions_capacity_is_rejected_with_the_limit()
    {
        var error = Assert.ThrowsAny<ArgumentException>(() => Forward(input: 80, output: 96, hN: 48, cN: 48, batch: 4));
        Assert.Equal("batch", error.ParamName);
        Assert.Contains("MaxBatch 3", error.Message);
        error = Assert.ThrowsAny<ArgumentException>(() => Forward(input: 75, output: 90, steps: 5));
        Assert.Equal("steps", error.ParamName);
        Assert.Contains("MaxSteps 4", error.Message);
    }

    [Fact]
    public void Non_positive_sizes_are_rejected_everywhere()
    {
        Assert.Equal("InputSize", Assert.ThrowsAny<ArgumentException>(() => new LstmSpec(0, 4)).ParamName);
        Assert.Equal("HiddenSize", Assert.ThrowsAny<ArgumentException>(() => new LstmSpec(4, -1)).ParamName);
        Assert.Equal("NumLayers", Assert.ThrowsAny<ArgumentException>(() => new LstmSpec(4, 4, 0)).ParamName);
        Assert.Equal("ProjectionSize", Assert.ThrowsAny<ArgumentException>(() => new LstmSpec(4, 4, projectionSize: 4)).ParamName);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(Spec, 1));
        Assert.Equal("maxBatch", Assert.ThrowsAny<ArgumentException>(() => model.CreateSession(0, 1)).ParamName);
        Assert.Equal("maxSteps", Assert.ThrowsAny<ArgumentException>(() => model.CreateSession(1, -2)).ParamName);
        Assert.Equal("batch", Assert.ThrowsAny<ArgumentException>(() => Forward(input: 0, output: 0, hN: 0, cN: 0, batch: 0)).ParamName);
        Assert.Equal("steps", Assert.ThrowsAny<ArgumentException>(() => Forward(input: 0, output: 0, steps: -1)).ParamName);
    }

    [Fact]
    public void Weights_of_the_wrong_shape_are_rejected_with_the_parameter_and_layer()
    {
        LstmWeights good = LstmWeights.CreateRandom(Spec, 1);
        var layers = new List<LstmLayerWeights> { good[0, 0], new() { WeightIh = new float[24 * 6 + 1], WeightHh = good[1, 0].WeightHh, BiasIh = good[1, 0].BiasIh, BiasHh = good[1, 0].BiasHh } };
        var error = Assert.ThrowsAny<ArgumentException>(() => new LstmWeights(Spec, layers));
        Assert.Equal("WeightIh", error.ParamName);
        Assert.Contains("layer 1", error.Message);
        Assert.Contains("144", error.Message);
        Assert.Contains("145", error.Message);
    }

    [Fact]
    public void A_rejected_forward_writes_nothing_to_the_output()
    {
        float[] output = Enumerable.Repeat(42f, 72).ToArray();
        Assert.ThrowsAny<ArgumentException>(() => Forward(lengths: [9, 9, 9], outputBuffer: output));
        Assert.All(output, v => Assert.Equal(42f, v));
    }

    [Fact]
    public void A_rejected_step_leaves_the_streaming_state_as_it_was()
    {
        using LstmSession session = LstmModel.Create(LstmWeights.CreateRandom(Spec, 1)).CreateSession(Batch);
        float[] x = LstmCase.Uniform(15, 1, 1), y = new float[18];
        session.Step(x, 3, y);
        float[] h = new float[36], c = new float[36], hAfter = new float[36], cAfter = new float[36];
        session.GetState(h, c, 3);
        Assert.Equal("input", Assert.ThrowsAny<ArgumentException>(() => session.Step(x.AsSpan(1), 3, y)).ParamName);
        Assert.Equal("output", Assert.ThrowsAny<ArgumentException>(() => session.Step(x, 3, y.AsSpan(1))).ParamName);
        Assert.Equal("batch", Assert.ThrowsAny<ArgumentException>(() => session.Step(new float[20], 4, new float[24])).ParamName);
        session.GetState(hAfter, cAfter, 3);
        Assert.Equal(h, hAfter);
        Assert.Equal(c, cAfter);
        Assert.Equal("h", Assert.ThrowsAny<ArgumentException>(() => session.SetState(new float[35], c, 3)).ParamName);
    }

    [Fact]
    public void Streaming_a_bidirectional_model_is_refused_with_the_reason()
    {
        using LstmSession session = LstmModel.Create(LstmWeights.CreateRandom(new LstmSpec(2, 3, bidirectional: true), 1)).CreateSession();
        Assert.Contains("bidirectional", Assert.Throws<InvalidOperationException>(() => session.Step(new float[2], 1, new float[3])).Message);
    }
}
