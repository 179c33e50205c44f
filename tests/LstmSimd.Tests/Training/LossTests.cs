using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

public sealed class LossTests
{
    [Fact]
    public void Mean_squared_error_averages_the_squared_differences_and_its_gradient_is_two_differences_over_n()
    {
        float[] gradient = new float[3];
        double loss = Losses.MeanSquaredError([1f, 2f, 3f], [1f, 0f, 4f], gradient);
        Assert.Equal((0 + 4 + 1) / 3.0, loss, 12);
        Assert.Equal([0f, 4f / 3, -2f / 3], gradient);
    }

    [Fact]
    public void Cross_entropy_of_equal_logits_is_the_log_of_the_class_count()
    {
        float[] gradient = new float[8];
        double loss = Losses.SoftmaxCrossEntropy(new float[8], 2, 4, [1, 3], gradient);
        Assert.Equal(Math.Log(4), loss, 6);
        Assert.Equal([0.125f, -0.375f, 0.125f, 0.125f, 0.125f, 0.125f, 0.125f, -0.375f], gradient);
    }

    [Fact]
    public void Cross_entropy_stays_finite_for_huge_logits()
    {
        float[] gradient = new float[4];
        double loss = Losses.SoftmaxCrossEntropy([1000f, 0f, 0f, 1000f], 2, 2, [0, 0], gradient);
        Assert.Equal(1000 / 2.0, loss, 6);
        Assert.All(gradient, g => Assert.True(float.IsFinite(g)));
    }

    [Fact]
    public void Cross_entropy_gradient_matches_central_finite_differences()
    {
        var random = new Random(3);
        const int rows = 3, classes = 5;
        float[] logits = Enumerable.Range(0, rows * classes).Select(_ => (float)(random.NextDouble() * 6 - 3)).ToArray();
        int[] labels = [4, 0, 2];
        float[] gradient = new float[logits.Length], scratch = new float[logits.Length];
        Losses.SoftmaxCrossEntropy(logits, rows, classes, labels, gradient);
        for (int k = 0; k < logits.Length; k++)
        {
            float original = logits[k], up = original + 1e-3f, down = original - 1e-3f;
            logits[k] = up;
            double lossUp = Losses.SoftmaxCrossEntropy(logits, rows, classes, labels, scratch);
            logits[k] = down;
            double lossDown = Losses.SoftmaxCrossEntropy(logits, rows, classes, labels, scratch);
            logits[k] = original;
            Assert.Equal((lossUp - lossDown) / ((double)up - down), gradient[k], 5);
        }
    }

    [Fact]
    public void A_label_outside_the_classes_is_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Losses.SoftmaxCrossEntropy(new float[2], 1, 2, [2], new float[2]));
    }

    [Fact]
    public void A_target_of_the_wrong_length_is_rejected_with_its_name_and_expected_shape()
    {
        var e = Assert.Throws<ArgumentException>(() => Losses.MeanSquaredError(new float[3], new float[2], new float[3]));
        Assert.Equal("target", e.ParamName);
        Assert.Contains("[3] like the prediction", e.Message, StringComparison.Ordinal);
    }
}
