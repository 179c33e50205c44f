using LstmSimd.Kernels;
using Xunit;

namespace LstmSimd.Tests.Kernels;

/// <summary>Scans every width's sigmoid and tanh against double precision, and feeds them the special values.</summary>
public class ActivationTests
{
    private const double Bound = 5e-7;

    public static TheoryData<string> Widths() => [.. KernelWidths.All.Select(w => w.Name)];

    [Theory]
    [MemberData(nameof(Widths))]
    public void Sigmoid_is_within_5e7_of_double_and_inside_0_1_on_a_dense_scan(string width)
    {
        float[] x = DenseScan();
        float[] y = new float[x.Length];
        KernelWidths.Get(width).Sigmoid(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = 1.0 / (1.0 + Math.Exp(-(double)x[i]));
            Assert.True(Math.Abs(y[i] - expected) <= Bound, $"σ({x[i]:R}) = {y[i]:R}, expected {expected:R}");
            Assert.InRange(y[i], 0f, 1f);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Tanh_is_within_5e7_of_double_and_inside_minus1_1_on_a_dense_scan(string width)
    {
        float[] x = DenseScan();
        float[] y = new float[x.Length];
        KernelWidths.Get(width).Tanh(x, y);
        for (int i = 0; i < x.Length; i++)
        {
            double expected = Math.Tanh(x[i]);
            Assert.True(Math.Abs(y[i] - expected) <= Bound, $"tanh({x[i]:R}) = {y[i]:R}, expected {expected:R}");
            Assert.InRange(y[i], -1f, 1f);
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Tanh_keeps_a_small_relative_error_near_zero(string width)
    {
        float[] x = [.. Enumerable.Range(0, 200).Select(i => MathF.Pow(10f, -8f + i * 0.035f))];
        float[] y = new float[x.Length];
        KernelWidths.Get(width).Tanh(x, y);
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(y[i] - Math.Tanh(x[i])) <= 1e-6 * Math.Tanh(x[i]), $"tanh({x[i]:R}) = {y[i]:R}");
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Special_values_saturate_propagate_nan_and_keep_signed_zero(string width)
    {
        float subnormal = BitConverter.Int32BitsToSingle(1), bigSubnormal = BitConverter.Int32BitsToSingle(0x007FFFFF);
        float[] x = [float.NaN, float.PositiveInfinity, float.NegativeInfinity, 0f, -0f, subnormal, -subnormal, bigSubnormal, float.MaxValue, float.MinValue, 88.8f, -88.8f, 1e30f, -1e30f];
        // Pad so every width sees the special values in full vectors and in the scalar tail.
        float[] input = [.. x, .. x, .. x, .. x, .. x];
        float[] s = new float[input.Length], t = new float[input.Length];
        KernelWidths kernels = KernelWidths.Get(width);
        kernels.Sigmoid(input, s);
        kernels.Tanh(input, t);
        for (int i = 0; i < input.Length; i++)
        {
            float v = input[i];
            if (float.IsNaN(v))
            {
                Assert.True(float.IsNaN(s[i]) && float.IsNaN(t[i]), "NaN in must give NaN out");
                continue;
            }

            Assert.False(float.IsNaN(s[i]) || float.IsNaN(t[i]), $"no NaN from finite or infinite input {v:R}");
            Assert.True(Math.Abs(s[i] - (1.0 / (1.0 + Math.Exp(-(double)v)))) <= Bound, $"σ({v:R}) = {s[i]:R}");
            Assert.True(Math.Abs(t[i] - Math.Tanh(v)) <= Bound, $"tanh({v:R}) = {t[i]:R}");
        }

        Assert.Equal(1f, s[Array.IndexOf(input, float.PositiveInfinity)]);
        Assert.Equal(1f, t[Array.IndexOf(input, float.PositiveInfinity)]);
        Assert.Equal(-1f, t[Array.IndexOf(input, float.NegativeInfinity)]);
        Assert.Equal(0.5f, s[Array.IndexOf(input, 0f)]);
        Assert.True(float.IsNegative(t[Array.IndexOf(input, -0f)]) || t[Array.IndexOf(input, -0f)] == 0f);
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_length_from_0_to_70_matches_the_scalar_lane(string width)
    {
        var random = new Random(5);
        for (int length = 0; length <= 70; length++)
        {
            float[] x = [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 30 - 15))];
            float[] wide = new float[length], scalar = new float[length];
            KernelWidths.Get(width).Sigmoid(x, wide);
            KernelWidths.Get("scalar").Sigmoid(x, scalar);
            for (int i = 0; i < length; i++)
                Assert.True(Math.Abs(wide[i] - scalar[i]) <= 2 * Bound, $"length {length} index {i}");
        }
    }

    /// <summary>Every float in [-1, 1] at a fine step, then [-100, 100] more coarsely, then the saturation region.</summary>
    private static float[] DenseScan()
    {
        var values = new List<float>();
        for (int i = -200_000; i <= 200_000; i++) values.Add(i * 5e-6f);
        for (int i = -200_000; i <= 200_000; i++) values.Add(i * 5e-4f);
        for (int i = 0; i < 2000; i++) values.Add(-100f - i * 0.5f);
        for (int i = 0; i < 2000; i++) values.Add(100f + i * 0.5f);
        return [.. values];
    }
}
