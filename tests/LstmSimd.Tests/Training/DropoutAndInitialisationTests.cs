using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

public sealed class DropoutAndInitialisationTests
{
    [Fact]
    public void Dropout_zeroes_about_p_of_the_values_and_scales_the_rest_by_one_over_one_minus_p()
    {
        const int n = 100_000;
        var dropout = new Dropout(0.3, seed: 5, capacity: n);
        float[] x = Enumerable.Repeat(1f, n).ToArray();
        dropout.Forward(x);
        int dropped = x.Count(v => v == 0f);
        Assert.InRange(dropped / (double)n, 0.29, 0.31);
        Assert.All(x, v => Assert.True(v == 0f || Math.Abs(v - 1 / 0.7) < 1e-6));
    }

    [Fact]
    public void Dropout_backward_applies_the_same_mask_as_its_forward()
    {
        var dropout = new Dropout(0.5, seed: 9, capacity: 64);
        float[] x = Enumerable.Repeat(1f, 64).ToArray(), g = Enumerable.Repeat(1f, 64).ToArray();
        dropout.Forward(x);
        dropout.Backward(g);
        Assert.Equal(x, g);
    }

    [Fact]
    public void Dropout_with_the_same_seed_draws_the_same_masks_and_another_seed_other_masks()
    {
        float[] Masks(ulong seed)
        {
            var dropout = new Dropout(0.5, seed, 32);
            float[] a = Enumerable.Repeat(1f, 32).ToArray(), b = Enumerable.Repeat(1f, 32).ToArray();
            dropout.Forward(a);
            dropout.Forward(b);
            return [.. a, .. b];
        }

        Assert.Equal(Masks(1), Masks(1));
        Assert.NotEqual(Masks(1), Masks(2));
        float[] m = Masks(1);
        Assert.NotEqual(m[..32], m[32..]);
    }

    [Fact]
    public void Dropout_with_probability_zero_is_the_identity()
    {
        var dropout = new Dropout(0, seed: 1, capacity: 3);
        float[] x = [1f, -2f, 3f];
        dropout.Forward(x);
        Assert.Equal([1f, -2f, 3f], x);
    }

    [Fact]
    public void The_forget_gate_bias_sums_to_the_chosen_value_and_other_gates_keep_their_biases()
    {
        var spec = new LstmSpec(2, 3, numLayers: 2, bidirectional: true);
        LstmWeights original = LstmWeights.CreateRandom(spec, 4), weights = original.Clone();
        weights.SetForgetGateBias(1f);
        for (int l = 0; l < 2; l++)
            for (int d = 0; d < 2; d++)
                for (int r = 0; r < 12; r++)
                {
                    float sum = weights[l, d].BiasIh[r] + weights[l, d].BiasHh[r];
                    if (r is >= 3 and < 6) Assert.Equal(1f, sum);
                    else Assert.Equal(original[l, d].BiasIh[r] + original[l, d].BiasHh[r], sum);
                }
    }

    [Fact]
    public void The_seeded_generator_produces_the_published_xoshiro256_starstar_sequence()
    {
        // Expected values from an independent Python transcription of splitmix64 seeding and xoshiro256** (prng.di.unimi.it).
        var zero = new SeededRandom(0);
        Assert.Equal(0x99ec5f36cb75f2b4UL, zero.NextUInt64());
        Assert.Equal(0xbf6e1f784956452aUL, zero.NextUInt64());
        Assert.Equal(0x1a5f849d4933e6e0UL, zero.NextUInt64());
        Assert.Equal(0x15780b2e0c2ec716UL, new SeededRandom(42).NextUInt64());
    }

    [Fact]
    public void The_seeded_generator_draws_integers_evenly_inside_their_range()
    {
        var random = new SeededRandom(3);
        int[] counts = new int[7];
        for (int i = 0; i < 70_000; i++) counts[random.NextInt32(7)]++;
        Assert.All(counts, c => Assert.InRange(c, 9_500, 10_500));
    }
}
