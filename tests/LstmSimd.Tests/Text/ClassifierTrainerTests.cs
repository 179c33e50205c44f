using LstmSimd.Tests.Support;
using LstmSimd.Text;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Text;

/// <summary>The classifier's training step: allocation-free once warm, and the same step <see cref="ClassifierTraining"/> runs.</summary>
public sealed class ClassifierTrainerTests
{
    private static (ClassifierNetwork Network, ClassifierTrainer Trainer, int[][] Texts, int[] Labels) Build(SequencePooling pooling, bool bidirectional, int layers, double dropout, int paddingId)
    {
        var random = new SeededRandom(3);
        var embedding = new Embedding(40, 8, random, paddingId);
        var spec = new LstmSpec(8, 6, layers, bidirectional);
        var head = new TrainableLinearHead(spec.OutputSize, 3, random);
        var network = new ClassifierNetwork(embedding, LstmWeights.CreateRandom(spec, 3, forgetBias: 1), head, pooling, maxBatch: 4, maxSteps: 12, dropout: dropout, seed: 5);
        int[][] texts = [.. new[] { 3, 12, 7, 1, 9, 5 }.Select(n => Enumerable.Range(0, n).Select(_ => random.NextInt32(40)).ToArray())];
        return (network, new ClassifierTrainer(network, [1f, 2f, 0.5f], 1e-2), texts, [0, 1, 2, 1, 0, 2]);
    }

    [Theory]
    [InlineData(SequencePooling.Max, true, 1, 0.0, 0)]
    [InlineData(SequencePooling.Mean, false, 2, 0.25, 0)]
    [InlineData(SequencePooling.LastStep, true, 2, 0.0, -1)]
    public void A_warm_training_step_allocates_zero_bytes(SequencePooling pooling, bool bidirectional, int layers, double dropout, int paddingId)
    {
        var (network, trainer, texts, labels) = Build(pooling, bidirectional, layers, dropout, paddingId);
        using (network)
        {
            int[] first = [0, 1, 2, 3], second = [4, 5];
            for (int i = 0; i < 3; i++)
            {
                trainer.Step(texts, first, labels);
                trainer.Step(texts, second, labels);
            }

            Assert.Equal(0, Allocations.LeastOver(() =>
            {
                trainer.Step(texts, first, labels);
                trainer.Step(texts, second, labels);
            }, 3));
        }
    }

    [Fact]
    public void Steps_on_one_batch_lower_its_loss()
    {
        var (network, trainer, texts, labels) = Build(SequencePooling.Max, true, 1, 0, 0);
        using (network)
        {
            int[] batch = [0, 1, 2, 3];
            double first = trainer.Step(texts, batch, labels), last = first;
            for (int i = 0; i < 30; i++) last = trainer.Step(texts, batch, labels);
            Assert.True(last < first / 4, $"loss {first} → {last}");
            Assert.Equal(0, trainer.SkippedSteps);
        }
    }

    [Fact]
    public void A_text_without_a_label_is_refused()
    {
        var (network, trainer, texts, _) = Build(SequencePooling.Max, true, 1, 0, 0);
        using (network) Assert.Throws<ArgumentOutOfRangeException>(() => trainer.Step(texts, [0, 5], [0, 1, 2]));
    }
}
