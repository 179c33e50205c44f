using LstmSimd.Kernels;
using Xunit;

namespace LstmSimd.Tests.Kernels;

/// <summary>
/// The linear heads' arithmetic has one order on every CPU: each CI run (AVX-512, AVX2, 128-bit, no SIMD) holds it to the
/// documented order, so the bits are the same everywhere.
/// </summary>
public class DenseMathTests
{
    private static readonly int[] Lengths = [0, 1, 3, 7, 8, 9, 15, 16, 17, 31, 33, 64, 100, 1025];

    [Fact]
    public void Dot_sums_in_eight_lanes_combined_pairwise_then_the_tail_in_order()
    {
        var random = new Random(11);
        foreach (int length in Lengths)
            for (int trial = 0; trial < 20; trial++)
            {
                // Magnitudes spread over six decades, so a different order would round differently.
                float[] a = Values(random, length), b = Values(random, length);
                var lanes = new float[8];
                int whole = length / 8 * 8;
                for (int i = 0; i < whole; i++) lanes[i % 8] += a[i] * b[i];
                float expected = ((lanes[0] + lanes[1]) + (lanes[2] + lanes[3])) + ((lanes[4] + lanes[5]) + (lanes[6] + lanes[7]));
                for (int i = whole; i < length; i++) expected += a[i] * b[i];
                Assert.Equal(BitConverter.SingleToInt32Bits(expected), BitConverter.SingleToInt32Bits(DenseMath.Dot(a, b)));
            }
    }

    [Fact]
    public void The_strided_dot_sums_in_the_same_order_as_the_contiguous_one()
    {
        var random = new Random(13);
        foreach (int length in Lengths)
        {
            // a is read every 3rd element from 2, b every 5th from 1: a transposed operand's column.
            float[] a = Values(random, 2 + 3 * length), b = Values(random, 1 + 5 * length);
            float[] aDense = [.. Enumerable.Range(0, length).Select(p => a[2 + 3 * p])], bDense = [.. Enumerable.Range(0, length).Select(p => b[1 + 5 * p])];
            Assert.Equal(BitConverter.SingleToInt32Bits(DenseMath.Dot(aDense, bDense)), BitConverter.SingleToInt32Bits(DenseMath.Dot(a, 2, 3, b, 1, 5, length)));
        }
    }

    [Fact]
    public void Multiply_add_rounds_each_product_then_adds_it()
    {
        var random = new Random(12);
        foreach (int length in Lengths)
        {
            float[] x = Values(random, length), y = Values(random, length);
            float alpha = (float)random.NextDouble() * 3 - 1.5f;
            float[] expected = [.. y.Select((v, i) => v + alpha * x[i])];
            DenseMath.MultiplyAdd(alpha, x, y);
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
        }
    }

    [Fact]
    public void Scale_multiplies_every_element_by_alpha_alone()
    {
        var random = new Random(14);
        foreach (int length in Lengths)
        {
            float[] y = Values(random, length);
            float alpha = (float)random.NextDouble() * 3 - 1.5f;
            float[] expected = [.. y.Select(v => v * alpha)];
            DenseMath.Scale(alpha, y);
            Assert.Equal(expected.Select(BitConverter.SingleToInt32Bits), y.Select(BitConverter.SingleToInt32Bits));
        }
    }

    private static float[] Values(Random random, int length) =>
        [.. Enumerable.Range(0, length).Select(_ => (float)((random.NextDouble() - 0.5) * Math.Pow(10, random.Next(-3, 3))))];
}
