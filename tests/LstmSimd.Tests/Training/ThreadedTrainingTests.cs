using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

/// <summary>
/// Training on several threads: the kernels' work is split so that every element is computed as on one thread, so the
/// forward results and every gradient must be bitwise those of one thread, and warm steps must still allocate nothing.
/// </summary>
public sealed class ThreadedTrainingTests
{
    [Fact]
    public void Two_and_three_threads_give_bitwise_the_gradients_of_one()
    {
        Gen<GradientCase> cases =
            from input in Gen.Elements(1, 5, 17, 40)
            from hidden in Gen.Elements(1, 7, 16, 33, 70)
            from layers in Gen.Choose(1, 3)
            from flags in Gen.Choose(0, 255)
            from steps in Gen.Choose(0, 7)
            from batch in Gen.Choose(1, 11)
            from seed in Gen.Choose(0, int.MaxValue - 1)
            let c = GradientCase.Create(input, hidden, layers, flags, steps, batch, seed)
            select c with { Weights = LstmWeights.CreateRandom(c.Spec, seed) };
        Prop.ForAll(cases.ToArbitrary(), c =>
        {
            LstmGradients one = Run(c, 1);
            foreach (int threads in new[] { 2, 3 })
            {
                LstmGradients many = Run(c, threads);
                string where = $"{threads} threads: {c}";
                AssertBitwise(one.Output, many.Output, "output " + where);
                AssertBitwise(one.HiddenState, many.HiddenState, "h_n " + where);
                AssertBitwise(one.CellState, many.CellState, "c_n " + where);
                AssertBitwise(one.Input, many.Input, "grad input " + where);
                AssertBitwise(one.H0, many.H0, "grad h0 " + where);
                AssertBitwise(one.C0, many.C0, "grad c0 " + where);
                for (int l = 0; l < c.Spec.NumLayers; l++)
                    for (int d = 0; d < c.Spec.Directions; d++)
                    {
                        LstmLayerWeights a = one.Parameters[l, d], b = many.Parameters[l, d];
                        AssertBitwise(a.WeightIh, b.WeightIh, $"weight_ih_l{l} d{d} " + where);
                        AssertBitwise(a.WeightHh, b.WeightHh, $"weight_hh_l{l} d{d} " + where);
                        AssertBitwise(a.BiasIh, b.BiasIh, $"bias_ih_l{l} d{d} " + where);
                        AssertBitwise(a.WeightHr, b.WeightHr, $"weight_hr_l{l} d{d} " + where);
                    }
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(40));
    }

    [Fact]
    public void A_trainer_on_two_threads_trains_bitwise_as_on_one_and_its_warm_steps_allocate_nothing()
    {
        float[] Train(int threads, bool checkAllocations)
        {
            var spec = new LstmSpec(6, 40, 2, bidirectional: true, projectionSize: 20);
            using var trainer = new LstmTrainer(LstmWeights.CreateRandom(spec, 3, forgetBias: 1), new TrainableLinearHead(spec.OutputSize, 2, new SeededRandom(3)),
                p => new AdamOptimizer(p, 1e-2), new LstmTrainerOptions
                {
                    MaxBatch = 5, MaxSteps = 8, Readout = Readout.EveryStep, Dropout = 0.2, Seed = 4, ClipNorm = 1, Threads = threads,
                });
            Assert.Equal(threads, trainer.Session.Threads);
            trainer.Session.ShareEveryCall();
            int[] lengths = [8, 3, 6, 1, 8];
            float[] input = LstmCase.Uniform(8 * 5 * 6, 5, 1), targets = LstmCase.Uniform(lengths.Sum() * 2, 6, 1); // every active step's two outputs
            for (int i = 0; i < 4; i++) trainer.Step(input, 8, 5, targets, lengths);
            if (checkAllocations) Assert.Equal(0, Allocations.LeastOver(() => trainer.Step(input, 8, 5, targets, lengths), 3));
            return [.. trainer.Session.Weights[1, 1].WeightHh, .. trainer.Session.Weights[0, 0].WeightHr, .. trainer.Head.Weight];
        }

        float[] one = Train(1, checkAllocations: false), two = Train(2, checkAllocations: false);
        AssertBitwise(one, two, "weights after 4 steps");
        Train(2, checkAllocations: true);
    }

    [Fact]
    public void Thread_counts_outside_1_to_64_are_refused()
    {
        LstmWeights weights = LstmWeights.CreateRandom(new LstmSpec(2, 3), 1);
        Assert.Throws<ArgumentOutOfRangeException>(() => new LstmTrainingSession(weights, 1, 1, threads: 0));
        Assert.Throws<ArgumentOutOfRangeException>(() => new LstmTrainingSession(weights, 1, 1, threads: 65));
    }

    /// <summary>A forward and backward pass with every kernel call shared among the threads (as ComputeGradients runs them).</summary>
    private static LstmGradients Run(GradientCase c, int threads)
    {
        LstmSpec spec = c.Spec;
        int ld = spec.NumLayers * spec.Directions;
        using var session = new LstmTrainingSession(c.Weights, c.Batch, Math.Max(1, c.Steps), threads: threads);
        session.ShareEveryCall();
        var result = new LstmGradients(
            new float[c.Steps * c.Batch * spec.OutputSize], new float[ld * c.Batch * spec.OutputHiddenSize], new float[ld * c.Batch * spec.HiddenSize],
            session.Gradients,
            new float[c.Steps * c.Batch * spec.InputSize], new float[ld * c.Batch * spec.OutputHiddenSize], new float[ld * c.Batch * spec.HiddenSize]);
        session.Forward(c.Input, c.Steps, c.Batch, result.Output, result.HiddenState, result.CellState, c.H0, c.C0, c.Lengths, c.Layout);
        session.Backward(FastBackwardTests.ToFloat(c.GradOutput), FastBackwardTests.ToFloat(c.GradHN), FastBackwardTests.ToFloat(c.GradCN), result.Input, result.H0, result.C0);
        return result;
    }

    private static void AssertBitwise(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(BitConverter.SingleToInt32Bits(expected[i]) == BitConverter.SingleToInt32Bits(actual[i]), $"{what}[{i}] = {actual[i]:R}, one thread {expected[i]:R}");
    }
}
