using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

public sealed class LstmTrainerTests
{
    public static TheoryData<KernelPath> Paths() => [.. LstmSimd.Kernels.KernelSelector.All];

    private static LstmTrainer Create(LstmSpec spec, int outputs, LstmTrainerOptions options, Func<ParameterSet, Optimizer>? optimizer = null, int seed = 1) =>
        new(LstmWeights.CreateRandom(spec, seed, forgetBias: 1), new TrainableLinearHead(spec.OutputSize, outputs, new SeededRandom((ulong)seed)),
            optimizer ?? (p => new AdamOptimizer(p, 1e-2)), options);

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_warm_training_step_allocates_zero_bytes(KernelPath path)
    {
        // Two bidirectional layers with a projection, dropout, clipping, lengths, cross-entropy at every step, batch-first.
        var spec = new LstmSpec(5, 11, 2, bidirectional: true, projectionSize: 6);
        LstmTrainer trainer = Create(spec, 3, new LstmTrainerOptions
        {
            MaxBatch = 4, MaxSteps = 7, Readout = Readout.EveryStep, Loss = LossKind.CrossEntropy, ClipNorm = 1, Dropout = 0.2,
            Kernel = path, Layout = SequenceLayout.BatchFirst,
        }, p => AdamOptimizer.AdamW(p, 1e-2));
        float[] input = LstmCase.Uniform(4 * 7 * 5, 3, 1);
        int[] lengths = [7, 3, 5, 1];
        int[] labels = new int[16];
        for (int i = 0; i < labels.Length; i++) labels[i] = i % 3;

        trainer.Step(input, 7, 4, labels, lengths);
        trainer.Step(input, 7, 4, labels, lengths);
        Assert.Equal(0, Allocations.LeastOver(() => trainer.Step(input, 7, 4, labels, lengths), 3));
    }

    [Fact]
    public void A_warm_truncated_bptt_step_with_mse_allocates_zero_bytes()
    {
        LstmTrainer trainer = Create(new LstmSpec(3, 16), 1, new LstmTrainerOptions { MaxBatch = 2, MaxSteps = 5, Readout = Readout.EveryStep },
            p => new SgdOptimizer(p, 0.1, momentum: 0.9));
        trainer.CarryState = true;
        float[] input = LstmCase.Uniform(5 * 2 * 3, 1, 1), targets = LstmCase.Uniform(10, 2, 1);
        trainer.Step(input, 5, 2, targets);
        Assert.Equal(0, Allocations.LeastOver(() => trainer.Step(input, 5, 2, targets), 3));
    }

    [Fact]
    public void The_same_seed_and_data_give_bitwise_the_same_weights()
    {
        float[] Train()
        {
            var spec = new LstmSpec(4, 9, 2, bidirectional: true);
            LstmTrainer trainer = Create(spec, 2, new LstmTrainerOptions { MaxBatch = 3, MaxSteps = 6, Dropout = 0.3, Seed = 5, ClipNorm = 0.5 }, seed: 7);
            float[] input = LstmCase.Uniform(6 * 3 * 4, 9, 1), targets = LstmCase.Uniform(3 * 2, 10, 1);
            for (int i = 0; i < 5; i++) trainer.Step(input, 6, 3, targets);
            return [.. trainer.Session.Weights[1, 1].WeightHh, .. trainer.Head.Weight];
        }

        Assert.Equal(Train(), Train());
    }

    [Fact]
    public void Truncated_bptt_carries_the_state_across_chunks_and_no_gradient_across_the_boundary()
    {
        var spec = new LstmSpec(3, 8, 2);
        LstmWeights weights = LstmWeights.CreateRandom(spec, 4);
        LstmWeights original = weights.Clone();
        // Learning rate 0: the weights stay put, so the chunks can be compared with one pass over the whole stream.
        var trainer = new LstmTrainer(weights, new TrainableLinearHead(8, 1, new SeededRandom(1)), p => new SgdOptimizer(p, 0),
            new LstmTrainerOptions { MaxBatch = 2, MaxSteps = 4 }) { CarryState = true };
        float[] stream = LstmCase.Uniform(8 * 2 * 3, 12, 1), targets = [0.5f, -0.5f];
        trainer.Step(stream.AsSpan(0, 24), 4, 2, targets);

        // The second chunk's gradients are those of the chunk alone, starting from the first chunk's final state.
        ReferenceResult first = ReferenceLstm.Forward(original, stream.AsSpan(0, 24), 4, 2);
        float[] h0 = Array.ConvertAll(first.HiddenState, v => (float)v), c0 = Array.ConvertAll(first.CellState, v => (float)v);
        trainer.Step(stream.AsSpan(24), 4, 2, targets);
        float[] gradOutput = new float[4 * 2 * 8];
        ReadOnlySpan<float> prediction = trainer.LastPrediction;
        for (int b = 0; b < 2; b++)
            for (int k = 0; k < 8; k++)
                gradOutput[(3 * 2 + b) * 8 + k] = (prediction[b] - targets[b]) * trainer.Head.Weight[k]; // MSE over 2 rows: 2(p − t)/2
        ReferenceGradients expected = ReferenceLstmBackward.Backward(original, stream.AsSpan(24), 4, 2, FastBackwardTests.ToDouble(gradOutput), h0: h0, c0: c0);
        FastBackwardTests.AssertClose(expected[0, 0].WeightHh, trainer.Session.Gradients[0, 0].WeightHh, "weight_hh_l0 of the second chunk");
        FastBackwardTests.AssertClose(expected[1, 0].WeightIh, trainer.Session.Gradients[1, 0].WeightIh, "weight_ih_l1 of the second chunk");

        // The carried state is the whole stream's final state.
        ReferenceResult whole = ReferenceLstm.Forward(original, stream, 8, 2);
        trainer.CarryState = false;
        var session = new LstmTrainingSession(original, 2, 8);
        float[] output = new float[8 * 2 * 8], hN = new float[2 * 2 * 8], cN = new float[2 * 2 * 8];
        session.Forward(stream, 8, 2, output, hN, cN);
        Tolerance.AssertClose(whole.HiddenState, hN, "h_n of the whole stream");
        Assert.Equal(weights[0, 0].WeightHh, original[0, 0].WeightHh);
    }

    [Fact]
    public void Training_lowers_the_loss_on_a_small_regression()
    {
        // Predict the mean of the first input channel over the sequence.
        var random = new SeededRandom(3);
        LstmTrainer trainer = Create(new LstmSpec(2, 12), 1, new LstmTrainerOptions { MaxBatch = 8, MaxSteps = 10 });
        float[] input = new float[10 * 8 * 2], targets = new float[8];
        double first = 0, last = 0;
        for (int step = 0; step < 150; step++)
        {
            random.Fill(input, -1, 1);
            for (int b = 0; b < 8; b++)
            {
                float sum = 0;
                for (int t = 0; t < 10; t++) sum += input[(t * 8 + b) * 2];
                targets[b] = sum / 10;
            }

            double loss = trainer.Step(input, 10, 8, targets);
            if (step < 10) first += loss;
            if (step >= 140) last += loss;
        }

        Assert.True(last < first / 5, $"loss went from {first / 10} to {last / 10}");
    }
}
