using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>
/// Activations (rows of x or h) quantised for <see cref="Int8Weights"/> panels, one scale and zero point per row, redone
/// every step: a row of <see cref="Stride"/> floats holds [scale, zero point, then the row's bytes, four per float], and
/// each value v is stored as q = clamp(round(v · 127 / range) + zeroPoint, 0, 127), with range = max(v, 0) − min(v, 0)
/// and zeroPoint = round(−min(v, 0) · 127 / range), so that v ≈ scale · (q − zeroPoint) with scale = range / 127 (finite
/// for every finite row).
/// Seven bits, not eight: the integer products are then exact on every ISA (see <see cref="ISimdVector{TSelf}.DotAccumulate"/>).
/// A row with a NaN or infinite value gets a NaN scale, so its products are NaN, not a silently clamped number.
/// </summary>
internal static class QuantizedRows
{
    /// <summary>Floats before a row's bytes: its scale and its zero point.</summary>
    public const int Header = 2;

    /// <summary>Floats per quantised row of <paramref name="depth"/> values (bytes padded to a whole group of four).</summary>
    public static int Stride(int depth) => Header + Int8Weights.Groups(depth);

    /// <summary>Quantises <paramref name="rows"/> rows of <paramref name="depth"/> values into rows of <see cref="Stride"/> floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize<TVec>(ReadOnlySpan<float> source, int sourceStride, int rows, int depth, Span<float> destination) where TVec : struct, ISimdVector<TVec>
    {
        int stride = Stride(depth);
        for (int r = 0; r < rows; r++)
            Quantize<TVec>(source.Slice(r * sourceStride, depth), destination.Slice(r * stride, stride));
    }

    /// <summary>Quantises one row of values into <paramref name="row"/> (<see cref="Stride"/> floats), on <typeparamref name="TVec"/>'s width.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Quantize<TVec>(ReadOnlySpan<float> values, Span<float> row) where TVec : struct, ISimdVector<TVec>
    {
        ref float source = ref MemoryMarshal.GetReference(values);
        int width = TVec.Count, depth = values.Length, vectorEnd = depth - depth % width;

        // Range: hardware min/max (NaN is caught by the poison sum instead: v·0 is NaN for NaN and ±Inf).
        float low = 0f, high = 0f, poison = 0f;
        if (vectorEnd > 0)
        {
            TVec lows = TVec.Zero, highs = TVec.Zero, poisons = TVec.Zero;
            for (int k = 0; k < vectorEnd; k += width)
            {
                TVec v = TVec.Load(in Unsafe.Add(ref source, k));
                lows = TVec.MinNative(lows, v);
                highs = TVec.MaxNative(highs, v);
                poisons += v * TVec.Zero;
            }

            Span<float> lanes = stackalloc float[3 * width];
            TVec.Store(lows, ref lanes[0]);
            TVec.Store(highs, ref lanes[width]);
            TVec.Store(poisons, ref lanes[2 * width]);
            for (int lane = 0; lane < width; lane++)
            {
                low = MathF.Min(low, lanes[lane]);
                high = MathF.Max(high, lanes[width + lane]);
                poison += lanes[2 * width + lane];
            }
        }

        for (int k = vectorEnd; k < depth; k++)
        {
            float v = Unsafe.Add(ref source, k);
            low = v < low ? v : low;
            high = v > high ? v : high;
            poison += v * 0f;
        }

        // In halves: high − low overflows for extremes near ±3.4e38, while 127 / range and range / 127 are the same
        // numbers computed from half the range (scaling by 2 is exact above fp32's subnormals).
        float halfRange = high * 0.5f - low * 0.5f;
        float inverse = halfRange > 0f ? 63.5f / halfRange : 0f;
        float zeroPoint = MathF.Round(-low * inverse);
        row[0] = halfRange / 63.5f + poison;
        row[1] = zeroPoint;

        Span<byte> bytes = MemoryMarshal.AsBytes(row.Slice(Header));
        ref byte destination = ref MemoryMarshal.GetReference(bytes);
        int k2 = 0;
        TVec scale = TVec.Create(inverse), zero = TVec.Create(zeroPoint), top = TVec.Create(127f);
        for (; k2 + 4 * width <= depth; k2 += 4 * width)
        {
            TVec.StoreBytes(Level(TVec.Load(in Unsafe.Add(ref source, k2)), scale, zero, top), Level(TVec.Load(in Unsafe.Add(ref source, k2 + width)), scale, zero, top),
                Level(TVec.Load(in Unsafe.Add(ref source, k2 + 2 * width)), scale, zero, top), Level(TVec.Load(in Unsafe.Add(ref source, k2 + 3 * width)), scale, zero, top),
                ref Unsafe.Add(ref destination, k2));
        }

        for (; k2 < depth; k2++)
            Unsafe.Add(ref destination, k2) = (byte)Math.Clamp(MathF.Round(Unsafe.Add(ref source, k2) * inverse) + zeroPoint, 0f, 127f);

        // Padding: the zero point, i.e. the value 0 (the padded weights are 0 too).
        for (; k2 < bytes.Length; k2++) Unsafe.Add(ref destination, k2) = (byte)zeroPoint;
    }

    /// <summary>clamp(round(v · scale) + zero, 0, 127) as integers; the same arithmetic as the scalar tail, so the two agree exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Level<TVec>(TVec v, TVec scale, TVec zero, TVec top) where TVec : struct, ISimdVector<TVec> =>
        TVec.ConvertToInt32(TVec.MinNative(TVec.MaxNative(TVec.Round(v * scale) + zero, TVec.Zero), top));
}
