using LstmSimd.Training;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Training;

/// <summary>
/// Training keeps its fp32 sums finite as inference does: inputs and initial states that could overflow them are refused
/// with the element named, and weights that training grew past the same limit are refused when they are repacked.
/// </summary>
public class TrainingSumBoundsTests
{
    [Fact]
    public void An_input_that_could_overflow_the_sums_is_refused_before_the_forward_pass()
    {
        var spec = new LstmSpec(64, 8);
        using var session = new LstmTrainingSession(LstmWeights.CreateRandom(spec, 3), 1, 2);
        float[] input = LstmCase.Uniform(2 * 64, 1, 1);
        input[70] = 3e38f;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => session.Forward(input, 2, 1, new float[2 * 8]));
        Assert.Equal("input", error.ParamName);
        Assert.Contains("input[70]", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_initial_state_that_could_overflow_the_sums_is_refused()
    {
        var spec = new LstmSpec(4, 8);
        using var session = new LstmTrainingSession(LstmWeights.CreateRandom(spec, 3), 1, 2);
        float[] h0 = new float[8];
        h0[5] = float.PositiveInfinity;
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => session.Forward(new float[2 * 4], 2, 1, new float[2 * 8], h0: h0));
        Assert.Equal("h0", error.ParamName);
    }

    [Fact]
    public void Weights_grown_past_the_limit_are_refused_when_repacked()
    {
        var spec = new LstmSpec(4, 8);
        LstmWeights weights = LstmWeights.CreateRandom(spec, 3);
        using var session = new LstmTrainingSession(weights, 1, 2);
        weights[0, 0].WeightHh.AsSpan().Fill(1e38f); // a diverged optimiser step
        Assert.Throws<ArgumentException>(session.RefreshWeights);
    }

    [Fact]
    public void Inputs_within_the_bounds_train_as_before()
    {
        var spec = new LstmSpec(64, 8);
        using var session = new LstmTrainingSession(LstmWeights.CreateRandom(spec, 3), 1, 2);
        float[] input = [.. LstmCase.Uniform(2 * 64, 1, 1).Select(v => v * 1e30f)];
        float[] output = new float[2 * 8];
        session.Forward(input, 2, 1, output);
        Assert.All(output, v => Assert.InRange(v, -1f, 1f));
    }
}
