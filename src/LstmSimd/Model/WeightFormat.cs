namespace LstmSimd;

/// <summary>
/// How a model stores its weight matrices (W_ih, W_hh, W_hr). Biases, states and every sum stay fp32; compressed
/// formats are widened to fp32 in registers inside the kernels, so they trade a bounded error (documented per
/// format in the README) for fewer bytes streamed per step, which is what bounds a batch-1 step.
/// </summary>
public enum WeightFormat
{
    /// <summary>IEEE single precision: 4 bytes a weight, the reference answer.</summary>
    Float32,

    /// <summary>IEEE half precision (10-bit mantissa): 2 bytes a weight, rounded to nearest even; weights beyond ±65504 or not finite are refused.</summary>
    Float16,

    /// <summary>bfloat16 (fp32's exponent, 7-bit mantissa): 2 bytes a weight, rounded to nearest even.</summary>
    BFloat16,

    /// <summary>
    /// Signed 8-bit integers with one fp32 scale per output row (symmetric: max|w|/127): 1 byte a weight. The activations
    /// each product reads (x and h) are quantised per step and row to 7-bit unsigned integers with their own scale and zero
    /// point, the products are exact integer dot products, and the epilogue (scales, bias, gates, state) runs in fp32.
    /// A packing choice only: model files keep F32, F16 or BF16.
    /// </summary>
    Int8,
}

/// <summary>The accuracy each weight format is documented (README, Compressed weights) and tested to hold.</summary>
public static class WeightFormatAccuracy
{
    /// <summary>
    /// The largest |Δh| (over outputs and h_n) that storing the weights in <paramref name="format"/> may cause, against the
    /// same model in fp32, for PyTorch-initialised weights (U(−1/√H, 1/√H)) and inputs of order 1: 0 for Float32, 5e-4
    /// Float16, 4e-3 BFloat16, 2e-2 Int8 (measured: 7.4e-5, 6.6e-4, 3.4e-3 on random models; about 3× that on PyTorch's
    /// golden cases). Larger weights or inputs scale the rounding with them.
    /// </summary>
    public static double MaxAbsoluteChange(WeightFormat format) => format switch
    {
        WeightFormat.Float32 => 0,
        WeightFormat.Float16 => 5e-4,
        WeightFormat.BFloat16 => 4e-3,
        WeightFormat.Int8 => 2e-2,
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weight format."),
    };
}

/// <summary>Scalar conversions between fp32 and the stored formats (done once: when a model is packed or a file is written).</summary>
internal static class WeightConversion
{
    /// <summary>fp32 → bfloat16 bits, rounded to nearest even; NaN stays a (quiet) NaN.</summary>
    public static ushort ToBFloat16(float value)
    {
        uint bits = BitConverter.SingleToUInt32Bits(value);
        if (float.IsNaN(value)) return (ushort)((bits >> 16) | 0x0040);
        return (ushort)((bits + 0x7FFFu + ((bits >> 16) & 1)) >> 16);
    }

    public static float FromBFloat16(ushort bits) => BitConverter.Int32BitsToSingle(bits << 16);

    /// <summary>fp32 → IEEE half bits, rounded to nearest even.</summary>
    public static ushort ToFloat16(float value) => BitConverter.HalfToUInt16Bits((Half)value);

    public static float FromFloat16(ushort bits) => (float)BitConverter.UInt16BitsToHalf(bits);

    /// <summary>fp32 → IEEE half bits for a weight a Float16 model stores: its value must round to a finite half.</summary>
    /// <exception cref="ArgumentException">The weight is beyond ±65504 or not finite.</exception>
    public static ushort ToFiniteFloat16(float value)
    {
        ushort bits = ToFloat16(value);
        if ((bits & 0x7C00) == 0x7C00)
            throw new ArgumentException($"Weight {value:R} has no finite fp16 value (|w| must be at most 65504 and finite); use BFloat16 or Float32 for this model.");
        return bits;
    }

    /// <summary>
    /// Int8's scale for one output row: max|w|/127, so that the row uses the whole ±127 (0 for an all-zero row);
    /// <paramref name="inverse"/> receives what weights are multiplied by before rounding (127/max|w|, or 0).
    /// </summary>
    /// <exception cref="ArgumentException">A weight is NaN or infinite.</exception>
    public static float Int8RowScale(ReadOnlySpan<float> row, out float inverse)
    {
        float largest = 0f;
        foreach (float w in row)
        {
            if (!float.IsFinite(w)) throw new ArgumentException($"Weight {w:R} is not finite; Int8 needs finite weights.");
            largest = MathF.Max(largest, MathF.Abs(w));
        }

        inverse = largest == 0f ? 0f : 127f / largest;
        return largest / 127f;
    }

    /// <summary>One weight of a row as Int8: round(w · inverse) (ties to even), within ±127.</summary>
    public static sbyte ToInt8(float value, float inverse) => (sbyte)Math.Clamp(MathF.Round(value * inverse), -127f, 127f);

    /// <summary>What <paramref name="value"/> becomes once stored in <paramref name="format"/> and widened back (a 16-bit or 32-bit format).</summary>
    public static float RoundTrip(float value, WeightFormat format) => format switch
    {
        WeightFormat.Int8 => throw new ArgumentOutOfRangeException(nameof(format), format, "Int8 rounds whole rows (see QuantizedWeights), not single values."),
        WeightFormat.Float16 => FromFloat16(ToFloat16(value)),
        WeightFormat.BFloat16 => FromBFloat16(ToBFloat16(value)),
        _ => value,
    };
}
