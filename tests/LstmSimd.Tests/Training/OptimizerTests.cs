using LstmSimd.Training;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Training;

public sealed class OptimizerTests
{
    private static (ParameterSet Set, float[] Values, float[] Gradients, float[] Bias, float[] BiasGradients) OneTensor(float[] values, float[] gradients)
    {
        var set = new ParameterSet();
        set.Add("w", values, gradients);
        float[] bias = [0.5f], biasGradients = [0f];
        set.Add("b", bias, biasGradients, weightDecay: false);
        return (set, values, gradients, bias, biasGradients);
    }

    [Fact]
    public void Plain_sgd_moves_each_parameter_against_its_gradient_by_the_learning_rate()
    {
        var (set, p, _, _, _) = OneTensor([1f, -2f, 3f], [0.5f, -1f, 0f]);
        new SgdOptimizer(set, learningRate: 0.1).Step();
        Assert.Equal([0.95f, -1.9f, 3f], p);
    }

    [Fact]
    public void Sgd_momentum_under_a_constant_gradient_adds_up_the_geometric_series_of_past_steps()
    {
        const float g = 0.25f, lr = 0.1f, mu = 0.9f;
        var (set, p, _, _, _) = OneTensor([1f], [g]);
        var sgd = new SgdOptimizer(set, lr, momentum: mu);
        for (int i = 0; i < 3; i++) sgd.Step();
        // Buffers g, (1 + μ)g, (1 + μ + μ²)g.
        double expected = 1 - lr * g * (1 + (1 + mu) + (1 + mu + mu * mu));
        Assert.Equal(expected, p[0], 6);
    }

    [Fact]
    public void Nesterov_sgd_takes_the_gradient_plus_momentum_times_the_buffer_on_the_first_step()
    {
        var (set, p, _, _, _) = OneTensor([0f], [1f]);
        new SgdOptimizer(set, 0.1, momentum: 0.5, nesterov: true).Step();
        Assert.Equal(-0.1 * (1 + 0.5), p[0], 6);
    }

    [Fact]
    public void Sgd_weight_decay_shrinks_weights_but_not_tensors_registered_without_decay()
    {
        var (set, p, _, bias, _) = OneTensor([2f], [0f]);
        var sgd = new SgdOptimizer(set, 0.1, weightDecay: 0.5);
        sgd.Step();
        sgd.Step();
        Assert.Equal(2 * 0.95 * 0.95, p[0], 6);
        Assert.Equal(0.5f, bias[0]);
    }

    /// <summary>
    /// SGD updates a long tensor a vector at a time: every element must move exactly as it does alone (a one-element tensor
    /// takes the scalar path), with and without momentum, Nesterov's and weight decay.
    /// </summary>
    [Theory]
    [InlineData(0.0, false, 0.0)]
    [InlineData(0.0, false, 0.01)]
    [InlineData(0.9, false, 0.0)]
    [InlineData(0.9, true, 0.01)]
    public void Sgd_moves_each_element_of_a_long_tensor_exactly_as_it_moves_alone(double momentum, bool nesterov, double weightDecay)
    {
        const int Length = 37; // whole vectors at every width, and a tail
        var random = new Random(7);
        float[] values = new float[Length], gradients = new float[Length];
        var whole = new ParameterSet();
        whole.Add("w", values, gradients);
        var alone = new ParameterSet();
        var aloneValues = new float[Length][];
        var aloneGradients = new float[Length][];
        for (int i = 0; i < Length; i++)
        {
            values[i] = (float)(random.NextDouble() * 4 - 2);
            aloneValues[i] = [values[i]];
            aloneGradients[i] = [0f];
            alone.Add($"w{i}", aloneValues[i], aloneGradients[i]);
        }

        var wholeSgd = new SgdOptimizer(whole, 0.05, momentum, weightDecay, nesterov);
        var aloneSgd = new SgdOptimizer(alone, 0.05, momentum, weightDecay, nesterov);
        for (int step = 0; step < 3; step++)
        {
            for (int i = 0; i < Length; i++) gradients[i] = aloneGradients[i][0] = (float)(random.NextDouble() * 2 - 1);
            wholeSgd.Step();
            aloneSgd.Step();
            for (int i = 0; i < Length; i++)
                Assert.True(BitConverter.SingleToInt32Bits(values[i]) == BitConverter.SingleToInt32Bits(aloneValues[i][0]), $"step {step}, element {i}: {values[i]:R} vs {aloneValues[i][0]:R}");
        }
    }

    [Fact]
    public void Adams_first_step_has_the_size_of_the_learning_rate_whatever_the_gradient_scale()
    {
        var (set, p, _, _, _) = OneTensor([1f, 1f, 1f], [1e-3f, -50f, 2f]);
        new AdamOptimizer(set, learningRate: 0.01).Step();
        Assert.Equal(0.99, p[0], 5);
        Assert.Equal(1.01, p[1], 5);
        Assert.Equal(0.99, p[2], 5);
    }

    [Fact]
    public void Adams_second_step_follows_the_bias_corrected_moments()
    {
        const double lr = 0.01, b1 = 0.9, b2 = 0.999, g1 = 1.0, g2 = -3.0;
        var (set, p, grad, _, _) = OneTensor([0f], [(float)g1]);
        var adam = new AdamOptimizer(set, lr, b1, b2);
        adam.Step();
        grad[0] = (float)g2;
        adam.Step();
        double m = (1 - b1) * (b1 * g1 + g2), v = (1 - b2) * (b2 * g1 * g1 + g2 * g2);
        double second = lr * (m / (1 - b1 * b1)) / (Math.Sqrt(v / (1 - b2 * b2)) + 1e-8);
        Assert.Equal(-lr - second, p[0], 5);
    }

    [Fact]
    public void AdamW_decays_weights_even_where_the_gradient_is_zero_while_adam_puts_the_decay_into_the_gradient()
    {
        var (setW, pW, _, biasW, _) = OneTensor([2f], [0f]);
        AdamOptimizer.AdamW(setW, learningRate: 0.1, weightDecay: 0.5).Step();
        Assert.Equal(2 * (1 - 0.1 * 0.5), pW[0], 6);
        Assert.Equal(0.5f, biasW[0]);

        // Adam's L2 decay makes the gradient λ·p = 1, so the first step has the size of the learning rate.
        var (setL2, pL2, _, _, _) = OneTensor([2f], [0f]);
        new AdamOptimizer(setL2, learningRate: 0.1, weightDecay: 0.5).Step();
        Assert.Equal(2 - 0.1, pL2[0], 5);
    }

    [Theory]
    [InlineData("sgd")]
    [InlineData("momentum")]
    [InlineData("adam")]
    [InlineData("adamw")]
    public void Each_optimiser_finds_the_minimum_of_a_quadratic(string kind)
    {
        float[] p = [3f, -4f], g = new float[2];
        var set = new ParameterSet();
        set.Add("p", p, g);
        Optimizer optimizer = kind switch
        {
            "sgd" => new SgdOptimizer(set, 0.1),
            "momentum" => new SgdOptimizer(set, 0.05, momentum: 0.9),
            "adam" => new AdamOptimizer(set, 0.05),
            _ => AdamOptimizer.AdamW(set, 0.05, weightDecay: 1e-4),
        };
        for (int i = 0; i < 2000; i++)
        {
            // loss = (p0 − 1)² + 2(p1 + 2)²
            g[0] = 2 * (p[0] - 1);
            g[1] = 4 * (p[1] + 2);
            optimizer.Step();
        }

        Assert.Equal(1.0, p[0], 2);
        Assert.Equal(-2.0, p[1], 2);
    }

    [Fact]
    public void An_optimiser_step_allocates_nothing()
    {
        var weights = LstmWeights.CreateRandom(new LstmSpec(3, 4, numLayers: 2, bidirectional: true), 1);
        var gradients = LstmWeights.CreateZero(weights.Spec);
        var set = new ParameterSet();
        set.Add(weights, gradients);
        Optimizer[] optimizers = [new SgdOptimizer(set, 0.1, momentum: 0.9), new AdamOptimizer(set), AdamOptimizer.AdamW(set)];
        foreach (Optimizer o in optimizers) o.Step();
        set.ClipGradientNorm(1.0);
        set.ZeroGradients();
        Assert.Equal(0, Allocations.LeastOver(() =>
        {
            foreach (Optimizer o in optimizers) o.Step();
            set.ClipGradientNorm(1.0);
            set.ZeroGradients();
        }, 10));
    }

    [Fact]
    public void An_optimiser_refuses_to_step_after_tensors_were_added_behind_its_back()
    {
        var (set, _, _, _, _) = OneTensor([1f], [1f]);
        var sgd = new SgdOptimizer(set, 0.1);
        set.Add("late", [1f], [1f]);
        Assert.Throws<InvalidOperationException>(sgd.Step);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Adams_vector_loop_gives_bitwise_what_one_element_at_a_time_gives(bool decoupled)
    {
        // One tensor of 37 values runs the vector loop and its tail; 37 one-value tensors run the scalar loop only.
        var random = new SeededRandom(4);
        float[] values = new float[37], gradients = new float[37];
        random.Fill(values, -1, 1);
        var whole = new ParameterSet();
        float[] wholeValues = (float[])values.Clone(), wholeGradients = new float[37];
        whole.Add("w", wholeValues, wholeGradients);
        var single = new ParameterSet();
        var singles = new float[37][];
        var singleGradients = new float[37][];
        for (int i = 0; i < 37; i++)
        {
            singles[i] = [values[i]];
            singleGradients[i] = [0f];
            single.Add($"w{i}", singles[i], singleGradients[i]);
        }

        var a = new AdamOptimizer(whole, 0.01, weightDecay: 0.1, decoupledWeightDecay: decoupled);
        var b = new AdamOptimizer(single, 0.01, weightDecay: 0.1, decoupledWeightDecay: decoupled);
        for (int step = 0; step < 4; step++)
        {
            random.Fill(gradients, -2, 2);
            gradients.CopyTo(wholeGradients, 0);
            for (int i = 0; i < 37; i++) singleGradients[i][0] = gradients[i];
            a.Step();
            b.Step();
        }

        for (int i = 0; i < 37; i++) Assert.Equal(singles[i][0], wholeValues[i]);
    }
}
