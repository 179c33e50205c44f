using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

public class WarmupTests
{
    public static TheoryData<string, LstmSpec, WeightFormat, int> Models => new()
    {
        { "stacked", new LstmSpec(6, 19, numLayers: 2), WeightFormat.Float32, 1 },
        { "bidirectional, projected", new LstmSpec(5, 24, bidirectional: true, projectionSize: 7), WeightFormat.Float32, 1 },
        { "peepholes and clip", new LstmSpec(4, 17) { Cell = new CellVariant(Peepholes: true, Clip: 3, InputForget: false, Activation.Sigmoid, Activation.Tanh, Activation.Tanh) }, WeightFormat.Float32, 1 },
        { "int8, two threads", new LstmSpec(8, 33), WeightFormat.Int8, 2 },
        { "bf16", new LstmSpec(8, 40), WeightFormat.BFloat16, 1 },
        { "fp16", new LstmSpec(8, 40), WeightFormat.Float16, 1 },
    };

    /// <summary>Warmup runs on a scratch session of its own: every kind of model takes it, and no later answer changes.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void Warmup_runs_every_kind_of_model_and_changes_no_answer(string name, LstmSpec spec, WeightFormat format, int threads)
    {
        var options = new LstmModelOptions { Weights = format, Threads = threads };
        var sequence = new LstmCase(spec, Steps: 9, Batch: 3, WithInitialState: true, WithLengths: true, SequenceLayout.TimeMajor, Seed: 5);
        float[] cold = sequence.RunFast(LstmModel.Create(sequence.Weights, options)).Output;

        LstmModel warmed = LstmModel.Create(sequence.Weights, options);
        warmed.Warmup();
        float[] afterWarmup = sequence.RunFast(warmed).Output;

        Assert.True(cold.AsSpan().SequenceEqual(afterWarmup), name);
    }
}
