using System.Runtime.CompilerServices;

namespace LstmSimd.Kernels;

/// <summary>
/// The weight-format dimension of the generic kernels: how a panel element is stored and how a vector of them is
/// loaded as fp32. The kernels address panels in elements from a <c>ref byte</c> base, so one kernel body serves
/// every format and the JIT specialises it per (width, format) with no branch left in the loop.
/// </summary>
internal interface IWeightFormat
{
    static abstract WeightFormat Format { get; }

    /// <summary>Bytes per stored weight.</summary>
    static abstract int ElementSize { get; }

    /// <summary>
    /// What the kernels multiply each activation by, and each accumulator by the inverse of, because <see cref="Load"/>
    /// returns weights times 1/<see cref="ActivationScale"/>². 1 for formats that load exact values (the kernels then
    /// skip the scaling at compile time). Powers of two, so the products are the unscaled ones, bit for bit.
    /// </summary>
    static abstract float ActivationScale { get; }

    /// <summary><c>TVec.Count</c> weights starting at element <paramref name="index"/> of <paramref name="panel"/>, as fp32 times 1/<see cref="ActivationScale"/>².</summary>
    static abstract TVec Load<TVec>(ref byte panel, nint index) where TVec : struct, ISimdVector<TVec>;

    /// <summary>
    /// Whether panels hold integers with per-row scales (<see cref="Int8Weights"/>): the kernels then take the integer path,
    /// which reads activations as <see cref="QuantizedRows"/>, instead of <see cref="Load"/>. A JIT-time constant.
    /// </summary>
    static abstract bool Quantized { get; }

    /// <summary>Bytes of one block of a panel over <paramref name="depth"/> inputs with <paramref name="rows"/> (gates × width) outputs.</summary>
    static abstract nint BlockBytes(int depth, int rows);
}

internal readonly struct Float32Weights : IWeightFormat
{
    public static bool Quantized => false;

    public static nint BlockBytes(int depth, int rows) => (nint)depth * rows * sizeof(float);

    public static WeightFormat Format => WeightFormat.Float32;

    public static int ElementSize => sizeof(float);

    public static float ActivationScale => 1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(ref byte panel, nint index) where TVec : struct, ISimdVector<TVec> =>
        TVec.Load(in Unsafe.Add(ref Unsafe.As<byte, float>(ref panel), index));
}

internal readonly struct Float16Weights : IWeightFormat
{
    public static bool Quantized => false;

    public static nint BlockBytes(int depth, int rows) => (nint)depth * rows * sizeof(ushort);

    public static WeightFormat Format => WeightFormat.Float16;

    public static int ElementSize => sizeof(ushort);

    /// <summary>2^56: activations up to 2^72 in magnitude stay finite, and accumulators down to 2^-70 stay normal.</summary>
    public static float ActivationScale => Float16Bits.RebiasRoot;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(ref byte panel, nint index) where TVec : struct, ISimdVector<TVec> =>
        TVec.LoadFloat16(in Unsafe.Add(ref Unsafe.As<byte, ushort>(ref panel), index));
}

internal readonly struct BFloat16Weights : IWeightFormat
{
    public static bool Quantized => false;

    public static nint BlockBytes(int depth, int rows) => (nint)depth * rows * sizeof(ushort);

    public static WeightFormat Format => WeightFormat.BFloat16;

    public static int ElementSize => sizeof(ushort);

    public static float ActivationScale => 1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(ref byte panel, nint index) where TVec : struct, ISimdVector<TVec> =>
        TVec.LoadBFloat16(in Unsafe.Add(ref Unsafe.As<byte, ushort>(ref panel), index));
}

/// <summary>
/// Signed 8-bit weights with one fp32 scale per output row. A block of a panel is laid out for 4-wide integer dot
/// products: for each group of four inputs k..k+3 (depth rounded up to 4, padding zero), for each gate, for each lane,
/// the lane's four weights; after the groups, the block's per-row scales and per-row sums of the integer weights (fp32,
/// gate-major like a packed bias row), which the epilogue needs to undo the activations' zero point.
/// </summary>
internal readonly struct Int8Weights : IWeightFormat
{
    public static WeightFormat Format => WeightFormat.Int8;

    public static int ElementSize => sizeof(sbyte);

    public static float ActivationScale => 1f;

    public static bool Quantized => true;

    public static nint BlockBytes(int depth, int rows) => (nint)Groups(depth) * 4 * rows + 2 * rows * sizeof(float);

    /// <summary>Groups of four inputs over <paramref name="depth"/> (the last one zero-padded).</summary>
    public static int Groups(int depth) => (depth + 3) / 4;

    public static TVec Load<TVec>(ref byte panel, nint index) where TVec : struct, ISimdVector<TVec> =>
        throw new NotSupportedException("Int8 panels are read by the integer kernels, four inputs at a time.");
}
