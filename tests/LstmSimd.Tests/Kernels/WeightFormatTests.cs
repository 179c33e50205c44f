using LstmSimd.Kernels;
using Xunit;

namespace LstmSimd.Tests.Kernels;

/// <summary>The in-register widening of 16-bit weights, on every width (those the CPU lacks run in software).</summary>
public class WeightFormatTests
{
    public static TheoryData<string> Widths() => ["scalar", "vector128", "vector256", "vector512"];

    public static TheoryData<string, bool> WidthsAndCodes()
    {
        var data = new TheoryData<string, bool>();
        foreach (string width in Widths()) { data.Add(width, false); data.Add(width, true); }
        return data;
    }

    [Theory]
    [MemberData(nameof(WidthsAndCodes))]
    public void Every_half_the_codes_hold_widens_to_its_exact_value_times_their_power_of_two(string width, bool ieeeCodes)
    {
        Float16Codes codes = ieeeCodes ? Float16Codes.Ieee : Float16Codes.Normalised;
        // IEEE codes hold every finite half; normalised ones every half below 2^7 in magnitude.
        ushort[] halves = [.. Enumerable.Range(0, 65536).Select(i => (ushort)i)
            .Where(b => (b & 0x7C00) != 0x7C00 && (codes == Float16Codes.Ieee || Math.Abs((double)BitConverter.UInt16BitsToHalf((ushort)b)) < 128))];
        ushort[] coded = [.. halves.Select(b => Float16Bits.Code(b, codes))];
        double scale = codes == Float16Codes.Ieee ? Math.Pow(2, -112) : Math.Pow(2, -102);
        for (int half = 0; half < 2; half++)
        {
            float[] widened = Widen(width, coded, float16: true, half);
            for (int i = 0; i < halves.Length; i++)
            {
                float expected = (float)((double)BitConverter.UInt16BitsToHalf(halves[i]) * scale);
                Assert.True(BitConverter.SingleToInt32Bits(expected) == BitConverter.SingleToInt32Bits(widened[i]), $"half 0x{halves[i]:X4} in the {(half == 0 ? "low" : "high")} half: {widened[i]:R}, expected {expected:R}");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Normalised_codes_widen_every_half_including_fp16s_subnormals_to_a_normal_fp32(string width)
    {
        ushort[] halves = [.. Enumerable.Range(0, 65536).Select(i => (ushort)i).Where(b => (b & 0x7FFF) != 0 && (b & 0x7FFF) < 0x5800)]; // 0x5800 = 128
        float[] widened = Widen(width, [.. halves.Select(b => Float16Bits.Code(b, Float16Codes.Normalised))], float16: true, half: 1);
        Assert.All(widened, value => Assert.True(float.IsNormal(value), $"{value:R} is not a normal fp32"));
        Assert.Contains(halves, b => (b & 0x7C00) == 0); // the subnormal halves are among them
    }

    [Fact]
    public void Normalised_codes_refuse_halves_from_128_and_every_code_refuses_what_is_not_finite()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Float16Bits.Code(BitConverter.HalfToUInt16Bits((Half)128), Float16Codes.Normalised));
        Assert.Throws<ArgumentOutOfRangeException>(() => Float16Bits.Code(BitConverter.HalfToUInt16Bits((Half)(-65504)), Float16Codes.Normalised));
        Assert.Equal(BitConverter.HalfToUInt16Bits((Half)65504), Float16Bits.Code(BitConverter.HalfToUInt16Bits((Half)65504), Float16Codes.Ieee));
        Assert.Throws<ArgumentOutOfRangeException>(() => Float16Bits.Code(0x7C00, Float16Codes.Ieee));
        Assert.Throws<ArgumentOutOfRangeException>(() => Float16Bits.Code(0xFE00, Float16Codes.Normalised));
    }

    [Theory]
    [MemberData(nameof(Widths))]
    public void Every_bfloat16_widens_to_the_fp32_with_those_upper_bits(string width)
    {
        ushort[] bits = [.. Enumerable.Range(0, 65536).Select(i => (ushort)i)];
        for (int half = 0; half < 2; half++)
        {
            float[] widened = Widen(width, bits, float16: false, half);
            for (int i = 0; i < bits.Length; i++)
                Assert.Equal(bits[i] << 16, BitConverter.SingleToInt32Bits(widened[i]));
        }
    }

    [Fact]
    public void Packing_rounds_to_the_nearest_16_bit_value_ties_to_even()
    {
        var random = new Random(5);
        for (int i = 0; i < 100_000; i++)
        {
            float x = (float)((random.NextDouble() * 2 - 1) * Math.Pow(2, random.Next(-20, 15)));
            float half = WeightConversion.RoundTrip(x, WeightFormat.Float16);
            Assert.Equal((float)(Half)x, half);
            float bf = WeightConversion.RoundTrip(x, WeightFormat.BFloat16);
            int bits = BitConverter.SingleToInt32Bits(x), low = bits & 0xFFFF;
            int down = bits & ~0xFFFF, expected = low > 0x8000 || (low == 0x8000 && (bits & 0x10000) != 0) ? down + 0x10000 : down;
            Assert.Equal(expected, BitConverter.SingleToInt32Bits(bf));
        }

        Assert.True(float.IsNaN(WeightConversion.RoundTrip(float.NaN, WeightFormat.BFloat16)));
        Assert.Equal(float.PositiveInfinity, WeightConversion.RoundTrip(float.PositiveInfinity, WeightFormat.BFloat16));
    }

    /// <summary>Widens each value from the given half of a pair word whose other half holds a different value (bits reversed).</summary>
    private static float[] Widen(string width, ushort[] bits, bool float16, int half) => width switch
    {
        "scalar" => Widen<VecScalar>(bits, float16, half),
        "vector128" => Widen<Vec128>(bits, float16, half),
        "vector256" => Widen<Vec256>(bits, float16, half),
        _ => Widen<Vec512>(bits, float16, half),
    };

    private static float[] Widen<TVec>(ushort[] bits, bool float16, int half) where TVec : struct, ISimdVector<TVec>
    {
        int n = TVec.Count, blocks = (bits.Length + n - 1) / n;
        uint[] pairs = new uint[blocks * n];
        for (int i = 0; i < bits.Length; i++)
        {
            uint other = (ushort)~bits[i];
            pairs[i] = half == 0 ? bits[i] | other << 16 : other | (uint)bits[i] << 16;
        }

        float[] result = new float[pairs.Length];
        for (int i = 0; i < pairs.Length; i += n)
            TVec.Store(float16 ? TVec.LoadFloat16(in pairs[i], half) : TVec.LoadBFloat16(in pairs[i], half), ref result[i]);
        return result[..bits.Length];
    }

    [Theory]
    [InlineData(WeightFormat.Float16, 32, 32, true)]
    [InlineData(WeightFormat.Float16, 64, 64, true)] // 64 KiB of fp32 panel
    [InlineData(WeightFormat.Float16, 128, 128, false)] // 256 KiB
    [InlineData(WeightFormat.BFloat16, 32, 32, true)] // 16 KiB
    [InlineData(WeightFormat.BFloat16, 64, 64, false)] // 64 KiB
    [InlineData(WeightFormat.Float32, 32, 32, false)]
    public void A_small_16_bit_panel_also_holds_its_rounded_weights_as_an_fp32_panel(WeightFormat format, int units, int depth, bool kept)
    {
        var random = new Random(units + (int)format);
        float[] weights = [.. Enumerable.Range(0, 4 * units * depth).Select(_ => (float)(random.NextDouble() * 4 - 2) * (float)Math.Pow(2, random.Next(-12, 2)))];
        PackedPanel panel = PackedPanel.Pack(weights, GateLayout.Lstm, units, depth, 16, format);
        Assert.Equal(kept, panel.WidenedCopy is not null);
        if (!kept) return;

        float[] rounded = [.. weights.Select(w => format == WeightFormat.Float16 ? (float)(Half)w : NearestBFloat16(w))];
        PackedPanel expected = PackedPanel.Pack(rounded, GateLayout.Lstm, units, depth, 16);
        Assert.Equal(Bytes(expected).ToArray(), Bytes(panel.WidenedCopy!).ToArray());

        static ReadOnlySpan<byte> Bytes(PackedPanel p) => System.Runtime.InteropServices.MemoryMarshal.CreateReadOnlySpan(ref p.Start, (int)(p.Blocks * p.BlockBytes));
    }

    [Fact]
    public void A_panel_that_no_whole_call_kernel_reads_keeps_no_fp32_copy()
    {
        float[] weights = [.. Enumerable.Range(0, 32 * 32).Select(i => i / 1024f)];
        Assert.Null(PackedPanel.Pack(weights, GateLayout.Single, 32, 32, 16, WeightFormat.Float16).WidenedCopy); // a projection's W_hr
    }

    /// <summary>The nearer of the two bfloat16 values around <paramref name="value"/> (ties to the even one), found in double.</summary>
    private static float NearestBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value) & 0xFFFF0000u;
        float below = BitConverter.UInt32BitsToSingle(bits), above = BitConverter.UInt32BitsToSingle(bits + 0x10000u);
        double toBelow = Math.Abs((double)value - below), toAbove = Math.Abs((double)above - value);
        if (toBelow != toAbove) return toBelow < toAbove ? below : above;
        return (bits & 0x10000u) == 0 ? below : above;
    }
}
