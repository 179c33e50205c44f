using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>Once warm, the hot calls allocate nothing: measured exactly with the per-thread allocation counter.</summary>
public class AllocationTests
{
    public static TheoryData<KernelPath> Paths() => [.. LstmSimd.Kernels.KernelSelector.All];

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_warm_forward_allocates_zero_bytes(KernelPath path)
    {
        var testCase = new LstmCase(new LstmSpec(17, 33, 3, bidirectional: true, projectionSize: 9), Steps: 12, Batch: 7,
            WithInitialState: true, WithLengths: true, SequenceLayout.BatchFirst, Seed: 3);
        LstmModel model = LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path });
        using LstmSession session = model.CreateSession(testCase.Batch, testCase.Steps);
        float[] output = new float[testCase.OutputLength], h = new float[testCase.HLength], c = new float[testCase.CLength];
        float[] input = testCase.Input, h0 = testCase.H0, c0 = testCase.C0;
        int[] lengths = testCase.Lengths;
        void Run() => session.Forward(input, testCase.Steps, testCase.Batch, output, h, c, h0, c0, lengths, SequenceLayout.BatchFirst);

        Run();
        Assert.Equal(0, Allocations.LeastOver(() => Run(), 5));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_warm_streaming_step_allocates_zero_bytes(KernelPath path)
    {
        var spec = new LstmSpec(16, 40, 2, projectionSize: 8);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 1), new LstmModelOptions { Kernel = path });
        using LstmSession session = model.CreateSession(maxBatch: 4);
        float[] x = LstmCase.Uniform(4 * 16, 2, 1), y = new float[4 * 8];
        session.Step(x, 4, y);
        session.Step(x.AsSpan(0, 16), 1, y.AsSpan(0, 8));
        Assert.Equal(0, Allocations.LeastOver(() =>
        {
            session.Step(x, 4, y);
            session.Step(x.AsSpan(0, 16), 1, y.AsSpan(0, 8));
        }, 10));
    }
}

public class AllocationProbeTests
{
    private static object? _sink;

    [Fact]
    public void The_probe_sees_an_allocation_made_in_every_call()
    {
        Assert.True(Allocations.LeastOver(() => _sink = new byte[100], 3) >= 300);
        Assert.NotNull(_sink);
    }
}
