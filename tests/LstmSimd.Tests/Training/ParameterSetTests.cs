using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

public sealed class ParameterSetTests
{
    [Fact]
    public void Clipping_scales_all_gradients_together_to_the_maximum_global_norm_and_reports_the_norm_before()
    {
        var set = new ParameterSet();
        float[] a = [3f], b = [0f, 4f];
        set.Add("a", [0f], a);
        set.Add("b", [0f, 0f], b);
        double norm = set.ClipGradientNorm(1.0);
        Assert.Equal(5.0, norm, 6);
        Assert.Equal(0.6, a[0], 5);
        Assert.Equal(0.8, b[1], 5);
        Assert.Equal(1.0, set.GradientNorm(), 5);
    }

    [Fact]
    public void Clipping_leaves_gradients_below_the_maximum_norm_alone()
    {
        var set = new ParameterSet();
        float[] g = [0.3f, -0.4f];
        set.Add("g", new float[2], g);
        Assert.Equal(0.5, set.ClipGradientNorm(1.0), 6);
        Assert.Equal([0.3f, -0.4f], g);
    }

    [Fact]
    public void An_lstm_registers_every_tensor_under_its_pytorch_name_and_biases_without_decay()
    {
        var spec = new LstmSpec(3, 4, numLayers: 2, bidirectional: true, projectionSize: 2);
        var weights = LstmWeights.CreateRandom(spec, 1);
        var set = new ParameterSet();
        set.Add(weights, LstmWeights.CreateZero(spec));
        Assert.Equal(20, set.Parameters.Count);
        Assert.Contains(set.Parameters, p => p.Name == "weight_hr_l1_reverse" && p.WeightDecay);
        Assert.Contains(set.Parameters, p => p.Name == "bias_ih_l0" && !p.WeightDecay);
        long expected = 0;
        for (int l = 0; l < 2; l++)
            for (int d = 0; d < 2; d++)
                expected += weights[l, d].WeightIh.Length + weights[l, d].WeightHh.Length + weights[l, d].BiasIh.Length + weights[l, d].BiasHh.Length + weights[l, d].WeightHr.Length;
        Assert.Equal(expected, set.Count);
    }

    [Fact]
    public void A_gradient_buffer_of_another_length_is_rejected()
    {
        var set = new ParameterSet();
        Assert.Throws<ArgumentException>(() => set.Add("w", new float[3], new float[2]));
    }

    [Fact]
    public void The_gradient_norm_is_within_1e15_relative_of_a_plain_double_loop_whatever_the_lengths()
    {
        var random = new Random(2);
        var set = new ParameterSet();
        double expected = 0;
        foreach (int length in new[] { 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 1023, 1024, 1025, 3000 })
        {
            float[] gradients = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 6 - 3))];
            foreach (float g in gradients) expected += (double)g * g;
            set.Add($"p{length}", new float[length], gradients);
        }

        expected = Math.Sqrt(expected);
        Assert.True(Math.Abs(set.GradientNorm() - expected) <= 1e-15 * expected * 100, $"{set.GradientNorm():R}, expected {expected:R}");
    }

    [Fact]
    public void The_gradient_norm_sums_in_its_four_fixed_chains_on_every_path_whatever_the_length()
    {
        // The order the norm promises (so that clipping never makes two kernel paths train apart): element k goes to chain
        // k mod 4 over whole groups of four, the tail to chain 0, then ((s0 + s1) + s2) + s3.
        var random = new Random(3);
        foreach (int length in new[] { 1, 4, 7, 8, 9, 15, 16, 17, 100, 1027 })
        {
            float[] gradients = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2e3 - 1e3) * (float)Math.Pow(2, random.Next(-20, 20)))];
            var chains = new double[4];
            int whole = length / 4 * 4;
            for (int k = 0; k < whole; k++) chains[k % 4] += (double)gradients[k] * gradients[k];
            for (int k = whole; k < length; k++) chains[0] += (double)gradients[k] * gradients[k];
            var set = new ParameterSet();
            set.Add("p", new float[length], gradients);
            Assert.Equal(Math.Sqrt(chains[0] + chains[1] + chains[2] + chains[3]), set.GradientNorm());
        }
    }
}
