using LstmSimd.IO;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

public class HeadArithmeticTests
{
    /// <summary>Validation during training measures what inference runs: the trained head and the imported one agree bit for bit.</summary>
    [Theory]
    [InlineData(1, 1, 1)]
    [InlineData(37, 3, 5)]
    [InlineData(256, 12, 4)]
    public void The_inference_head_computes_exactly_what_the_training_head_computes(int inputs, int outputs, int rows)
    {
        var trained = new TrainableLinearHead(inputs, outputs, new SeededRandom(9));
        var imported = new LinearHead(inputs, outputs, trained.Weight, trained.Bias);
        var random = new Random(4);
        float[] input = [.. Enumerable.Range(0, inputs * rows).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        float[] fromTraining = new float[outputs * rows], fromInference = new float[outputs * rows];

        trained.Forward(input, rows, fromTraining);
        imported.Apply(input, rows, fromInference);

        Assert.Equal(fromTraining.Select(BitConverter.SingleToInt32Bits), fromInference.Select(BitConverter.SingleToInt32Bits));
    }
}
