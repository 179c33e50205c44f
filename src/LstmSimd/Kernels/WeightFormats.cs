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

    /// <summary>
    /// What the kernels multiply each activation by, and each accumulator by the inverse of, because <see cref="Load"/>
    /// returns weights times 1/<see cref="ActivationScale"/>². 1 for formats that load exact values (the kernels then
    /// skip the scaling at compile time). Powers of two, so the products are the unscaled ones, bit for bit.
    /// </summary>
    static abstract float ActivationScale { get; }

    /// <summary>
    /// <c>TVec.Count</c> weights as fp32 times 1/<see cref="ActivationScale"/>²: those at element <paramref name="offset"/>
    /// (a gate times the width) of input k = 2p + <paramref name="half"/>, where <paramref name="pair"/> is where k-pair p
    /// of a block with <paramref name="rows"/> (gates × width) rows starts (see <see cref="PairBytes"/>).
    /// </summary>
    static abstract TVec Load<TVec>(ref byte pair, int offset, int rows, int half) where TVec : struct, ISimdVector<TVec>;

    /// <summary>
    /// Bytes per pair of inputs (k, k + 1) in a block of <paramref name="rows"/> rows. fp32 stores k's rows, then k + 1's;
    /// the 16-bit formats interleave them, one 32-bit word per row holding k (low half) and k + 1 (high half), so one load
    /// serves two weight vectors and each widens with a shift or a mask on the ALUs instead of a shuffle.
    /// </summary>
    static abstract nint PairBytes(int rows);

    /// <summary>
    /// Whether panels hold integers with per-row scales (<see cref="Int8Weights"/>): the kernels then take the integer path,
    /// which reads activations as <see cref="QuantizedRows"/>, instead of <see cref="Load"/>. A JIT-time constant.
    /// </summary>
    static abstract bool Quantized { get; }

    /// <summary>
    /// Whether the activation rows the kernels read hold x times <see cref="ActivationScale"/> already (the caller scaled them
    /// once for every block), so a broadcast reads them as they are. A JIT-time constant.
    /// </summary>
    static abstract bool ActivationsPrescaled { get; }

    /// <summary>Bytes of one block of a panel over <paramref name="depth"/> inputs with <paramref name="rows"/> (gates × width) outputs.</summary>
    static abstract nint BlockBytes(int depth, int rows);
}

internal readonly struct Float32Weights : IWeightFormat
{
    public static bool Quantized => false;

    public static bool ActivationsPrescaled => false;

    public static nint BlockBytes(int depth, int rows) => (nint)depth * rows * sizeof(float);

    public static nint PairBytes(int rows) => 2 * rows * sizeof(float);

    public static WeightFormat Format => WeightFormat.Float32;

    public static float ActivationScale => 1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(ref byte pair, int offset, int rows, int half) where TVec : struct, ISimdVector<TVec> =>
        TVec.Load(in Unsafe.Add(ref Unsafe.As<byte, float>(ref pair), (nint)half * rows + offset));
}

/// <summary>How a Float16 panel codes its halves (see <see cref="Float16Bits"/>).</summary>
internal enum Float16Codes
{
    /// <summary>Rebiased so that every weight, fp16's subnormals included, widens to a normal fp32: weights below 2^7 in magnitude.</summary>
    Normalised,

    /// <summary>The halves' own bits: any finite weight, fp16's subnormals widening to fp32 subnormals. For models with a weight of 2^7 or more.</summary>
    Ieee,
}

/// <summary>Half-precision weights in <see cref="Float16Codes.Normalised"/> codes, which widen to the weight times 2^-102.</summary>
internal readonly struct Float16Weights : IWeightFormat
{
    public static bool Quantized => false;

    public static bool ActivationsPrescaled => false;

    public static nint BlockBytes(int depth, int rows) => (nint)(depth + 1) / 2 * PairBytes(rows);

    public static nint PairBytes(int rows) => rows * sizeof(uint);

    public static WeightFormat Format => WeightFormat.Float16;

    /// <summary>2^51: activations up to 2^77 in magnitude stay finite, and accumulators down to 2^-75 stay normal.</summary>
    public static float ActivationScale => Float16Bits.NormalisedActivationScale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(ref byte pair, int offset, int rows, int half) where TVec : struct, ISimdVector<TVec> =>
        TVec.LoadFloat16(in Unsafe.Add(ref Unsafe.As<byte, uint>(ref pair), offset), half);
}

/// <summary>Half-precision weights in <see cref="Float16Codes.Ieee"/> codes, which widen to the weight times 2^-112: the layout and loads of <see cref="Float16Weights"/>.</summary>
internal readonly struct Float16IeeeWeights : IWeightFormat
{
    public static bool Quantized => false;

    public static bool ActivationsPrescaled => false;

    public static nint BlockBytes(int depth, int rows) => Float16Weights.BlockBytes(depth, rows);

    public static nint PairBytes(int rows) => Float16Weights.PairBytes(rows);

    public static WeightFormat Format => WeightFormat.Float16;

    /// <summary>2^56: activations up to 2^72 in magnitude stay finite, and accumulators down to 2^-70 stay normal.</summary>
    public static float ActivationScale => Float16Bits.IeeeActivationScale;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(ref byte pair, int offset, int rows, int half) where TVec : struct, ISimdVector<TVec> =>
        TVec.LoadFloat16(in Unsafe.Add(ref Unsafe.As<byte, uint>(ref pair), offset), half);
}

internal readonly struct BFloat16Weights : IWeightFormat
{
    public static bool Quantized => false;

    public static bool ActivationsPrescaled => false;

    public static nint BlockBytes(int depth, int rows) => (nint)(depth + 1) / 2 * PairBytes(rows);

    public static nint PairBytes(int rows) => rows * sizeof(uint);

    public static WeightFormat Format => WeightFormat.BFloat16;

    public static float ActivationScale => 1f;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(ref byte pair, int offset, int rows, int half) where TVec : struct, ISimdVector<TVec> =>
        TVec.LoadBFloat16(in Unsafe.Add(ref Unsafe.As<byte, uint>(ref pair), offset), half);
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

    public static float ActivationScale => 1f;

    public static bool Quantized => true;

    public static bool ActivationsPrescaled => false;

    public static nint BlockBytes(int depth, int rows) => (nint)Groups(depth) * 4 * rows + 2 * rows * sizeof(float);

    public static nint PairBytes(int rows) => throw new NotSupportedException("Int8 panels group four inputs, not two.");

    /// <summary>Groups of four inputs over <paramref name="depth"/> (the last one zero-padded).</summary>
    public static int Groups(int depth) => (depth + 3) / 4;

    public static TVec Load<TVec>(ref byte pair, int offset, int rows, int half) where TVec : struct, ISimdVector<TVec> =>
        throw new NotSupportedException("Int8 panels are read by the integer kernels, four inputs at a time.");
}

/// <summary>
/// A block of a 16-bit panel widened to fp32 in a scratch buffer, laid out as <see cref="Float32Weights"/> lays out a
/// block: each element is exactly what <typeparamref name="TSource"/>'s <see cref="IWeightFormat.Load"/> returns, and the
/// activation scale is the source's, so a tile over the widened block computes the same bits as over the 16-bit one.
/// Batched tiles widen a block once and run every tile of rows over it with plain loads (see
/// <see cref="CellKernels{TVec, TFormat}.Widens"/>): the widening shifts and masks would otherwise compete with the FMAs for
/// the vector ALUs in every tile. For the same reason a scaled format's activations are scaled once per call, not per broadcast.
/// </summary>
internal readonly struct WidenedWeights<TSource> : IWeightFormat where TSource : struct, IWeightFormat
{
    public static bool Quantized => false;

    public static nint BlockBytes(int depth, int rows) => (nint)(depth + 1) / 2 * PairBytes(rows);

    public static nint PairBytes(int rows) => 2 * rows * sizeof(float);

    public static WeightFormat Format => TSource.Format;

    public static float ActivationScale => TSource.ActivationScale;

    /// <summary>
    /// A scaled source's activation rows are scaled once by the caller (see <see cref="CellKernels{TVec, TFormat}.Prescale"/>),
    /// not per broadcast; for an exact source there is nothing to scale. A constant, not the source's scale: the kernels' inline
    /// budget is spent by the time they read it.
    /// </summary>
    public static bool ActivationsPrescaled => true;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Load<TVec>(ref byte pair, int offset, int rows, int half) where TVec : struct, ISimdVector<TVec> =>
        TVec.Load(in Unsafe.Add(ref Unsafe.As<byte, float>(ref pair), (nint)half * rows + offset));
}

