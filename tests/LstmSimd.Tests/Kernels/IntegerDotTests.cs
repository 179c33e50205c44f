using System.Runtime.InteropServices;
using LstmSimd.Kernels;
using Xunit;

namespace LstmSimd.Tests.Kernels;

/// <summary>
/// The building blocks of the Int8 kernels on every width (those the CPU lacks run in software): the 4-wide integer dot
/// product and the per-row activation quantiser.
/// </summary>
public class IntegerDotTests
{
    public static TheoryData<string> Widths() => ["scalar", "vector128", "vector256", "vector512"];

    [Theory]
    [MemberData(nameof(Widths))]
    public void Dot_products_are_exact_at_the_extremes_and_on_random_bytes(string width)
    {
        var random = new Random(11);
        int lanes = width switch { "scalar" => 1, "vector128" => 4, "vector256" => 8, _ => 16 };
        var cases = new List<(byte[] Activations, sbyte[] Weights)>
        {
            // The largest sums the 16-bit pairs of the non-VNNI sequences see: 127·127 + 127·127 and 127·(−128) twice.
            ([127, 127, 127, 127], Enumerable.Repeat((sbyte)127, 4 * lanes).ToArray()),
            ([127, 127, 127, 127], Enumerable.Repeat((sbyte)-128, 4 * lanes).ToArray()),
            ([0, 127, 0, 127], Enumerable.Range(0, 4 * lanes).Select(i => (sbyte)(i % 2 == 0 ? 127 : -127)).ToArray()),
        };
        for (int i = 0; i < 2000; i++)
        {
            byte[] a = [.. Enumerable.Range(0, 4).Select(_ => (byte)random.Next(0, 128))];
            sbyte[] w = [.. Enumerable.Range(0, 4 * lanes).Select(_ => (sbyte)random.Next(-128, 128))];
            cases.Add((a, w));
        }

        foreach ((byte[] activations, sbyte[] weights) in cases)
        {
            int start = random.Next(-1_000_000, 1_000_000);
            int[] actual = Dot(width, start, activations, weights);
            for (int lane = 0; lane < lanes; lane++)
            {
                int expected = start;
                for (int j = 0; j < 4; j++) expected += activations[j] * weights[4 * lane + j];
                Assert.Equal(expected, actual[lane]);
            }
        }
    }

    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    /// <summary>One row quantised on <paramref name="path"/>'s width.</summary>
    private static void Quantize(KernelPath path, float[] values, float[] row) =>
        KernelSelector.Create(path, WeightFormat.Int8).QuantizeRows(values, values.Length, 1, values.Length, row);

    [Theory]
    [MemberData(nameof(Paths))]
    public void The_quantiser_follows_its_documented_rule_and_its_vector_loop_agrees_with_its_scalar_tail(KernelPath path)
    {
        var random = new Random(3);
        foreach (int depth in new[] { 1, 3, 4, 31, 32, 33, 64, 100, 257 })
        {
            for (int trial = 0; trial < 50; trial++)
            {
                float spread = (float)Math.Pow(10, random.Next(-3, 3)), shift = trial % 3 == 0 ? spread : 0f;
                float[] values = [.. Enumerable.Range(0, depth).Select(_ => (random.NextSingle() * 2 - 1) * spread + shift)];
                float[] row = new float[QuantizedRows.Stride(depth)];
                Quantize(path, values, row);
                byte[] bytes = MemoryMarshal.AsBytes(row.AsSpan(QuantizedRows.Header)).ToArray();

                // The rule, written out plainly: range over the values and 0, 127 levels, a whole zero point.
                float low = Math.Min(0f, values.Min()), high = Math.Max(0f, values.Max()), range = high - low;
                float inverse = range > 0f ? 127f / range : 0f, zero = MathF.Round(-low * inverse);
                Assert.Equal(range / 127f, row[0]);
                Assert.Equal(zero, row[1]);
                for (int k = 0; k < depth; k++)
                {
                    Assert.Equal((byte)Math.Clamp(MathF.Round(values[k] * inverse) + zero, 0f, 127f), bytes[k]);
                    // Half a level, or one where the rounded zero point pushes the largest value against the clamp.
                    Assert.True(Math.Abs(row[0] * (bytes[k] - zero) - values[k]) <= 1.0001 * row[0] + 1e-6 * spread, $"depth {depth}: value {values[k]:R} is off by more than a level");
                }

                for (int k = depth; k < bytes.Length; k++) Assert.Equal((byte)zero, bytes[k]);
            }
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_row_holding_NaN_or_infinity_gets_a_NaN_scale_and_an_all_zero_row_a_zero_one(KernelPath path)
    {
        foreach (float bad in new[] { float.NaN, float.PositiveInfinity, float.NegativeInfinity })
        {
            float[] values = [.. Enumerable.Range(0, 40).Select(i => i * 0.01f)];
            values[37] = bad;
            float[] row = new float[QuantizedRows.Stride(values.Length)];
            Quantize(path, values, row);
            Assert.True(float.IsNaN(row[0]), $"{bad}: scale {row[0]}");
        }

        float[] zeros = new float[40], quantized = new float[QuantizedRows.Stride(40)];
        Quantize(path, zeros, quantized);
        Assert.Equal(0f, quantized[0]);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_row_spanning_fp32s_extremes_gets_a_finite_scale_and_levels_within_a_step_of_each_value(KernelPath path)
    {
        float[] values = [3e38f, -3e38f, 1e38f, -2.9e38f, 0f, 3.4e38f, -3.4e38f];
        float[] row = new float[QuantizedRows.Stride(values.Length)];
        Quantize(path, values, row);
        float scale = row[0], zeroPoint = row[1];
        Assert.True(float.IsFinite(scale) && scale > 0, $"scale {scale}");
        byte[] levels = MemoryMarshal.AsBytes(row.AsSpan(QuantizedRows.Header)).ToArray();
        for (int k = 0; k < values.Length; k++)
        {
            double restored = (double)scale * (levels[k] - zeroPoint);
            Assert.True(Math.Abs(restored - values[k]) <= scale, $"v[{k}] = {values[k]:R} restored as {restored:R} (scale {scale:R})");
        }
    }

    private static int[] Dot(string width, int start, byte[] activations, sbyte[] weights) => width switch
    {
        "scalar" => Dot<VecScalar>(start, activations, weights),
        "vector128" => Dot<Vec128>(start, activations, weights),
        "vector256" => Dot<Vec256>(start, activations, weights),
        _ => Dot<Vec512>(start, activations, weights),
    };

    private static int[] Dot<TVec>(int start, byte[] activations, sbyte[] weights) where TVec : struct, ISimdVector<TVec>
    {
        int[] lanes = new int[TVec.Count];
        Array.Fill(lanes, start);
        float[] bits = MemoryMarshal.Cast<int, float>(lanes).ToArray();
        TVec sum = TVec.DotAccumulate(TVec.Load(in bits[0]), TVec.BroadcastGroup(in activations[0]),
            TVec.LoadGroups(in MemoryMarshal.AsBytes(weights.AsSpan())[0]));
        TVec.Store(sum, ref bits[0]);
        return MemoryMarshal.Cast<float, int>(bits).ToArray();
    }
}
