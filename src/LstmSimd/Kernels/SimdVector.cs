using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

// Widening a half in registers (no half conversion is exposed for vectors in .NET 10): a Float16 panel stores 16-bit codes,
// sign, 5-bit exponent and 10-bit mantissa. With a code in the upper 16 bits of a lane (the high half of a pair as it is, the
// low one shifted up by 16), an arithmetic shift right by 3 puts exponent and mantissa in fp32's fields with copies of the
// sign above them; clearing the three copies (bits 28-30) and whatever the other half left in bits 0-12 leaves an fp32
// whose exponent field is the code's. The codes are chosen when a panel is packed (Float16Bits.Code) so that this is the
// weight times a power of two, exactly; the kernels fold that power into the activations (IWeightFormat.ActivationScale)
// rather than spend a multiply per weight vector. The half's own bits (IEEE, bias 15) would widen to the weight times
// 2^-112 and leave fp16's subnormal weights subnormal in fp32, operands on which Intel cores take microcode assists in
// every product; codes rebiased by 10 widen to the weight times 2^-102, a normal fp32 for every half below 2^7 in
// magnitude, subnormals included (renormalised when packed). Models with a larger weight keep the IEEE codes.
// Inf and NaN are never stored: Float16 packing refuses them.

namespace LstmSimd.Kernels;

/// <summary>
/// The operations the kernels need from a float vector, as static abstract members so that one generic
/// kernel (<c>Kernel&lt;TVec&gt;</c>) is compiled once per width and specialised by the JIT, with no call or
/// box left in the loop. <see cref="Vec128"/>, <see cref="Vec256"/> and <see cref="Vec512"/> wrap the
/// cross-platform vectors (AVX-512, AVX2+FMA, SSE/NEON); <see cref="VecScalar"/> is one float lane, the
/// fallback when no vector hardware is enabled.
/// </summary>
internal interface ISimdVector<TSelf> where TSelf : struct, ISimdVector<TSelf>
{
    static abstract int Count { get; }
    static abstract TSelf Zero { get; }
    static abstract TSelf Create(float value);
    static abstract TSelf Load(ref readonly float source);

    /// <summary>
    /// <see cref="Count"/> IEEE half-precision values from <see cref="Count"/> 32-bit words that each hold two halves (a
    /// k-pair: the low half is k, the high half k + 1), the low halves for <paramref name="half"/> 0 and the high ones
    /// for 1; widened to fp32: the weight the code stands for times a power of two (exactly: see the note at the top of this
    /// file and <see cref="Float16Bits"/>).
    /// </summary>
    static abstract TSelf LoadFloat16(ref readonly uint pairs, int half);

    /// <summary><see cref="Count"/> bfloat16 values, the low (<paramref name="half"/> 0) or high (1) halves of 32-bit words, widened to fp32 exactly.</summary>
    static abstract TSelf LoadBFloat16(ref readonly uint pairs, int half);
    static abstract void Store(TSelf value, ref float destination);
    static abstract TSelf operator +(TSelf left, TSelf right);
    static abstract TSelf operator -(TSelf left, TSelf right);
    static abstract TSelf operator *(TSelf left, TSelf right);
    static abstract TSelf operator /(TSelf left, TSelf right);

    /// <summary>a·b + c: fused where the hardware has FMA, a multiply then an add where it does not.</summary>
    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    /// <summary>
    /// The hardware min/max. Where one operand is NaN the result is <paramref name="right"/> (x86's minps/maxps) or NaN (Arm's
    /// fmin/fmax): with a constant on the left and the value on the right, NaN passes through on every platform.
    /// </summary>
    static abstract TSelf MinNative(TSelf left, TSelf right);
    static abstract TSelf MaxNative(TSelf left, TSelf right);
    static abstract TSelf Abs(TSelf value);

    /// <summary>Lanes of <paramref name="value"/> whose sign bit is set, as an all-ones mask (the sign bit shifted across the lane).</summary>
    static abstract TSelf IsNegative(TSelf value);

    /// <summary>Lanes where left &gt; right, as an all-ones mask.</summary>
    static abstract TSelf GreaterThan(TSelf left, TSelf right);

    /// <summary>Lanes that are NaN, as an all-ones mask.</summary>
    static abstract TSelf IsNaN(TSelf value);

    /// <summary>Per lane: mask ? ifTrue : ifFalse (mask lanes all-ones or all-zeros).</summary>
    static abstract TSelf Select(TSelf mask, TSelf ifTrue, TSelf ifFalse);

    /// <summary>
    /// value · 2^n, for lanes of <paramref name="wholeNumbers"/> holding whole numbers n and results that stay normal floats
    /// (one vscalefps where AVX-512 has it, else n added to the exponent bits); NaN values stay NaN.
    /// </summary>
    static abstract TSelf ScaleByPow2(TSelf value, TSelf wholeNumbers);

    /// <summary>Rounds each lane to the nearest whole number (ties to even).</summary>
    static abstract TSelf Round(TSelf value);

    /// <summary>The square root of each lane (correctly rounded, as <see cref="MathF.Sqrt"/>).</summary>
    static abstract TSelf Sqrt(TSelf value);

    static abstract float Sum(TSelf value);

    // Integer dot products for Int8 panels. The vector's bits then hold Count int32 lanes (zero is the same bits).

    /// <summary>The four bytes at <paramref name="source"/> (a group of four quantised activations) repeated in every 32-bit lane.</summary>
    static abstract TSelf BroadcastGroup(ref readonly byte source);

    /// <summary>4 × <see cref="Count"/> bytes at <paramref name="source"/>, as they are: each 32-bit lane's group of four weights.</summary>
    static abstract TSelf LoadGroups(ref readonly byte source);

    /// <summary>
    /// Integer lanes: <paramref name="accumulator"/> plus, per 32-bit lane, the dot product of its four bytes of
    /// <paramref name="activations"/> (unsigned, 0 to 127) with its four bytes of <paramref name="weights"/> (signed).
    /// Exact: 7-bit activations keep even the pairwise 16-bit sums of the non-VNNI sequences from saturating.
    /// </summary>
    static abstract TSelf DotAccumulate(TSelf accumulator, TSelf activations, TSelf weights);

    /// <summary>The instructions <see cref="DotAccumulate"/> compiles to in this process (for <c>lstmsimd info</c>).</summary>
    static abstract string DotInstructions { get; }

    /// <summary>Integer lanes to fp32.</summary>
    static abstract TSelf ConvertInt32(TSelf integers);

    /// <summary>Lanes holding whole numbers, to integer lanes (the inverse of <see cref="ConvertInt32"/>).</summary>
    static abstract TSelf ConvertToInt32(TSelf wholeNumbers);

    /// <summary>Four vectors of integer lanes in [0, 127], narrowed to 4 × <see cref="Count"/> bytes at <paramref name="destination"/>, in order.</summary>
    static abstract void StoreBytes(TSelf q0, TSelf q1, TSelf q2, TSelf q3, ref byte destination);
}

internal readonly struct Vec128(Vector128<float> value) : ISimdVector<Vec128>
{
    private readonly Vector128<float> _value = value;

    public static int Count => Vector128<float>.Count;
    public static Vec128 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 Create(float value) => new(Vector128.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 Load(ref readonly float source) => new(Vector128.LoadUnsafe(in source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 LoadFloat16(ref readonly uint pairs, int half) => new((((Vector128.LoadUnsafe(in pairs).AsInt32() << (16 - 16 * half)) >> 3) & Vector128.Create(Float16Bits.SignExponentMantissa)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 LoadBFloat16(ref readonly uint pairs, int half) => new(((Vector128.LoadUnsafe(in pairs) << (16 - 16 * half)) & Vector128.Create(0xFFFF0000u)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vec128 value, ref float destination) => value._value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 operator +(Vec128 left, Vec128 right) => new(left._value + right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 operator -(Vec128 left, Vec128 right) => new(left._value - right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 operator *(Vec128 left, Vec128 right) => new(left._value * right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 operator /(Vec128 left, Vec128 right) => new(left._value / right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 MultiplyAdd(Vec128 a, Vec128 b, Vec128 c) => new(Vector128.MultiplyAddEstimate(a._value, b._value, c._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 MinNative(Vec128 left, Vec128 right) => new(Vector128.MinNative(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 MaxNative(Vec128 left, Vec128 right) => new(Vector128.MaxNative(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 Abs(Vec128 value) => new(Vector128.Abs(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 IsNegative(Vec128 value) => new((value._value.AsInt32() >> 31).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 GreaterThan(Vec128 left, Vec128 right) => new(Vector128.GreaterThan(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 IsNaN(Vec128 value) => new(Vector128.IsNaN(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 Select(Vec128 mask, Vec128 ifTrue, Vec128 ifFalse) => new(Vector128.ConditionalSelect(mask._value, ifTrue._value, ifFalse._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 ScaleByPow2(Vec128 value, Vec128 wholeNumbers) =>
        Avx512F.VL.IsSupported ? new(Avx512F.VL.Scale(value._value, wholeNumbers._value)) : new((value._value.AsInt32() + (Vector128.ConvertToInt32Native(wholeNumbers._value) << 23)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 Round(Vec128 value) => new(Vector128.Round(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 Sqrt(Vec128 value) => new(Vector128.Sqrt(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vec128 value) => Vector128.Sum(value._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 BroadcastGroup(ref readonly byte source) => new(Vector128.Create(Unsafe.ReadUnaligned<int>(in source)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 LoadGroups(ref readonly byte source) => new(Vector128.LoadUnsafe(in source).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 ConvertInt32(Vec128 integers) => new(Vector128.ConvertToSingle(integers._value.AsInt32()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec128 ConvertToInt32(Vec128 wholeNumbers) => new(Vector128.ConvertToInt32(wholeNumbers._value).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreBytes(Vec128 q0, Vec128 q1, Vec128 q2, Vec128 q3, ref byte destination) =>
        Vector128.Narrow(Vector128.Narrow(q0._value.AsInt32(), q1._value.AsInt32()), Vector128.Narrow(q2._value.AsInt32(), q3._value.AsInt32())).AsByte().StoreUnsafe(ref destination);

    public static string DotInstructions =>
        AvxVnni.IsSupported ? "vpdpbusd (AVX-VNNI)" : Ssse3.IsSupported ? "pmaddubsw + pmaddwd (SSSE3)" : Dp.IsSupported ? "sdot (NEON dot product)" : "shifts and multiplies (no dot-product instruction)";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vec128 DotAccumulate(Vec128 accumulator, Vec128 activations, Vec128 weights)
    {
        Vector128<int> sum = accumulator._value.AsInt32();
        Vector128<sbyte> w = weights._value.AsSByte();
        if (AvxVnni.IsSupported) return new(AvxVnni.MultiplyWideningAndAdd(sum, activations._value.AsByte(), w).AsSingle());
        if (Ssse3.IsSupported) return new((sum + Sse2.MultiplyAddAdjacent(Ssse3.MultiplyAddAdjacent(activations._value.AsByte(), w), Vector128<short>.One)).AsSingle());
        if (Dp.IsSupported) return new(Dp.DotProduct(sum, activations._value.AsSByte(), w).AsSingle());
        Vector128<int> a = activations._value.AsInt32(), wi = w.AsInt32();
        return new((sum + ((wi << 24) >> 24) * ((a << 24) >> 24) + ((wi << 16) >> 24) * ((a << 16) >> 24)
            + ((wi << 8) >> 24) * ((a << 8) >> 24) + (wi >> 24) * (a >> 24)).AsSingle());
    }
}

internal readonly struct Vec256(Vector256<float> value) : ISimdVector<Vec256>
{
    private readonly Vector256<float> _value = value;

    public static int Count => Vector256<float>.Count;
    public static Vec256 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 Create(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 Load(ref readonly float source) => new(Vector256.LoadUnsafe(in source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 LoadFloat16(ref readonly uint pairs, int half) => new((((Vector256.LoadUnsafe(in pairs).AsInt32() << (16 - 16 * half)) >> 3) & Vector256.Create(Float16Bits.SignExponentMantissa)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 LoadBFloat16(ref readonly uint pairs, int half) => new(((Vector256.LoadUnsafe(in pairs) << (16 - 16 * half)) & Vector256.Create(0xFFFF0000u)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vec256 value, ref float destination) => value._value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 operator +(Vec256 left, Vec256 right) => new(left._value + right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 operator -(Vec256 left, Vec256 right) => new(left._value - right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 operator *(Vec256 left, Vec256 right) => new(left._value * right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 operator /(Vec256 left, Vec256 right) => new(left._value / right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 MultiplyAdd(Vec256 a, Vec256 b, Vec256 c) => new(Vector256.MultiplyAddEstimate(a._value, b._value, c._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 MinNative(Vec256 left, Vec256 right) => new(Vector256.MinNative(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 MaxNative(Vec256 left, Vec256 right) => new(Vector256.MaxNative(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 Abs(Vec256 value) => new(Vector256.Abs(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 IsNegative(Vec256 value) => new((value._value.AsInt32() >> 31).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 GreaterThan(Vec256 left, Vec256 right) => new(Vector256.GreaterThan(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 IsNaN(Vec256 value) => new(Vector256.IsNaN(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 Select(Vec256 mask, Vec256 ifTrue, Vec256 ifFalse) => new(Vector256.ConditionalSelect(mask._value, ifTrue._value, ifFalse._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 ScaleByPow2(Vec256 value, Vec256 wholeNumbers) =>
        Avx512F.VL.IsSupported ? new(Avx512F.VL.Scale(value._value, wholeNumbers._value)) : new((value._value.AsInt32() + (Vector256.ConvertToInt32Native(wholeNumbers._value) << 23)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 Round(Vec256 value) => new(Vector256.Round(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 Sqrt(Vec256 value) => new(Vector256.Sqrt(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vec256 value) => Vector256.Sum(value._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 BroadcastGroup(ref readonly byte source) => new(Vector256.Create(Unsafe.ReadUnaligned<int>(in source)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 LoadGroups(ref readonly byte source) => new(Vector256.LoadUnsafe(in source).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 ConvertInt32(Vec256 integers) => new(Vector256.ConvertToSingle(integers._value.AsInt32()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec256 ConvertToInt32(Vec256 wholeNumbers) => new(Vector256.ConvertToInt32(wholeNumbers._value).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreBytes(Vec256 q0, Vec256 q1, Vec256 q2, Vec256 q3, ref byte destination) =>
        Vector256.Narrow(Vector256.Narrow(q0._value.AsInt32(), q1._value.AsInt32()), Vector256.Narrow(q2._value.AsInt32(), q3._value.AsInt32())).AsByte().StoreUnsafe(ref destination);

    public static string DotInstructions =>
        AvxVnni.IsSupported ? "vpdpbusd (AVX-VNNI)" : Avx2.IsSupported ? "vpmaddubsw + vpmaddwd (AVX2)" : "shifts and multiplies (software)";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vec256 DotAccumulate(Vec256 accumulator, Vec256 activations, Vec256 weights)
    {
        Vector256<int> sum = accumulator._value.AsInt32();
        Vector256<sbyte> w = weights._value.AsSByte();
        if (AvxVnni.IsSupported) return new(AvxVnni.MultiplyWideningAndAdd(sum, activations._value.AsByte(), w).AsSingle());
        if (Avx2.IsSupported) return new((sum + Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(activations._value.AsByte(), w), Vector256<short>.One)).AsSingle());
        Vector256<int> a = activations._value.AsInt32(), wi = w.AsInt32();
        return new((sum + ((wi << 24) >> 24) * ((a << 24) >> 24) + ((wi << 16) >> 24) * ((a << 16) >> 24)
            + ((wi << 8) >> 24) * ((a << 8) >> 24) + (wi >> 24) * (a >> 24)).AsSingle());
    }
}

internal readonly struct Vec512(Vector512<float> value) : ISimdVector<Vec512>
{
    private readonly Vector512<float> _value = value;

    public static int Count => Vector512<float>.Count;
    public static Vec512 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 Create(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 Load(ref readonly float source) => new(Vector512.LoadUnsafe(in source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 LoadFloat16(ref readonly uint pairs, int half) => new((((Vector512.LoadUnsafe(in pairs).AsInt32() << (16 - 16 * half)) >> 3) & Vector512.Create(Float16Bits.SignExponentMantissa)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 LoadBFloat16(ref readonly uint pairs, int half) => new(((Vector512.LoadUnsafe(in pairs) << (16 - 16 * half)) & Vector512.Create(0xFFFF0000u)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(Vec512 value, ref float destination) => value._value.StoreUnsafe(ref destination);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 operator +(Vec512 left, Vec512 right) => new(left._value + right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 operator -(Vec512 left, Vec512 right) => new(left._value - right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 operator *(Vec512 left, Vec512 right) => new(left._value * right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 operator /(Vec512 left, Vec512 right) => new(left._value / right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 MultiplyAdd(Vec512 a, Vec512 b, Vec512 c) => new(Vector512.MultiplyAddEstimate(a._value, b._value, c._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 MinNative(Vec512 left, Vec512 right) => new(Vector512.MinNative(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 MaxNative(Vec512 left, Vec512 right) => new(Vector512.MaxNative(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 Abs(Vec512 value) => new(Vector512.Abs(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 IsNegative(Vec512 value) => new((value._value.AsInt32() >> 31).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 GreaterThan(Vec512 left, Vec512 right) => new(Vector512.GreaterThan(left._value, right._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 IsNaN(Vec512 value) => new(Vector512.IsNaN(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 Select(Vec512 mask, Vec512 ifTrue, Vec512 ifFalse) => new(Vector512.ConditionalSelect(mask._value, ifTrue._value, ifFalse._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 ScaleByPow2(Vec512 value, Vec512 wholeNumbers) =>
        Avx512F.IsSupported ? new(Avx512F.Scale(value._value, wholeNumbers._value)) : new((value._value.AsInt32() + (Vector512.ConvertToInt32Native(wholeNumbers._value) << 23)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 Round(Vec512 value) => new(Vector512.Round(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 Sqrt(Vec512 value) => new(Vector512.Sqrt(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Vec512 value) => Vector512.Sum(value._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 BroadcastGroup(ref readonly byte source) => new(Vector512.Create(Unsafe.ReadUnaligned<int>(in source)).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 LoadGroups(ref readonly byte source) => new(Vector512.LoadUnsafe(in source).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 ConvertInt32(Vec512 integers) => new(Vector512.ConvertToSingle(integers._value.AsInt32()));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Vec512 ConvertToInt32(Vec512 wholeNumbers) => new(Vector512.ConvertToInt32(wholeNumbers._value).AsSingle());
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void StoreBytes(Vec512 q0, Vec512 q1, Vec512 q2, Vec512 q3, ref byte destination) =>
        Vector512.Narrow(Vector512.Narrow(q0._value.AsInt32(), q1._value.AsInt32()), Vector512.Narrow(q2._value.AsInt32(), q3._value.AsInt32())).AsByte().StoreUnsafe(ref destination);

    public static string DotInstructions => Avx512BW.IsSupported ? "vpmaddubsw + vpmaddwd (AVX-512BW)" : "shifts and multiplies (software)";

    // .NET 10 exposes VNNI at 128 and 256 bits only (AvxVnni), so 512 bits take the AVX512BW pair: u8×s8 → pairwise
    // 16-bit sums (exact for 7-bit activations), then × 1 → 32-bit sums.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vec512 DotAccumulate(Vec512 accumulator, Vec512 activations, Vec512 weights)
    {
        Vector512<int> sum = accumulator._value.AsInt32();
        Vector512<sbyte> w = weights._value.AsSByte();
        if (Avx512BW.IsSupported) return new((sum + Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(activations._value.AsByte(), w), Vector512<short>.One)).AsSingle());
        Vector512<int> a = activations._value.AsInt32(), wi = w.AsInt32();
        return new((sum + ((wi << 24) >> 24) * ((a << 24) >> 24) + ((wi << 16) >> 24) * ((a << 16) >> 24)
            + ((wi << 8) >> 24) * ((a << 8) >> 24) + (wi >> 24) * (a >> 24)).AsSingle());
    }
}

/// <summary>One float lane: the same generic kernels, compiled to plain scalar code.</summary>
internal readonly struct VecScalar(float value) : ISimdVector<VecScalar>
{
    private readonly float _value = value;

    public static int Count => 1;
    public static VecScalar Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar Create(float value) => new(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar Load(ref readonly float source) => new(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar LoadFloat16(ref readonly uint pairs, int half) => new(BitConverter.Int32BitsToSingle((((int)pairs << (16 - 16 * half)) >> 3) & Float16Bits.SignExponentMantissa));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar LoadBFloat16(ref readonly uint pairs, int half) => new(BitConverter.UInt32BitsToSingle((pairs << (16 - 16 * half)) & 0xFFFF0000u));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static void Store(VecScalar value, ref float destination) => destination = value._value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar operator +(VecScalar left, VecScalar right) => new(left._value + right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar operator -(VecScalar left, VecScalar right) => new(left._value - right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar operator *(VecScalar left, VecScalar right) => new(left._value * right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar operator /(VecScalar left, VecScalar right) => new(left._value / right._value);

    // No hardware FMA is assumed on this path: MathF.FusedMultiplyAdd would fall back to a slow software routine.
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar MultiplyAdd(VecScalar a, VecScalar b, VecScalar c) => new(a._value * b._value + c._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar MinNative(VecScalar left, VecScalar right) => new(left._value < right._value ? left._value : right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar MaxNative(VecScalar left, VecScalar right) => new(left._value > right._value ? left._value : right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar Abs(VecScalar value) => new(MathF.Abs(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar IsNegative(VecScalar value) => Mask(float.IsNegative(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar GreaterThan(VecScalar left, VecScalar right) => Mask(left._value > right._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar IsNaN(VecScalar value) => Mask(float.IsNaN(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar Select(VecScalar mask, VecScalar ifTrue, VecScalar ifFalse) => BitConverter.SingleToInt32Bits(mask._value) != 0 ? ifTrue : ifFalse;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar ScaleByPow2(VecScalar value, VecScalar wholeNumbers) =>
        new(BitConverter.Int32BitsToSingle(BitConverter.SingleToInt32Bits(value._value) + ((int)wholeNumbers._value << 23)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar Round(VecScalar value) => new(MathF.Round(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar Sqrt(VecScalar value) => new(MathF.Sqrt(value._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(VecScalar value) => value._value;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar BroadcastGroup(ref readonly byte source) => new(BitConverter.Int32BitsToSingle(Unsafe.ReadUnaligned<int>(in source)));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar LoadGroups(ref readonly byte source) => BroadcastGroup(in source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar ConvertInt32(VecScalar integers) => new(BitConverter.SingleToInt32Bits(integers._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static VecScalar ConvertToInt32(VecScalar wholeNumbers) => new(BitConverter.Int32BitsToSingle((int)wholeNumbers._value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void StoreBytes(VecScalar q0, VecScalar q1, VecScalar q2, VecScalar q3, ref byte destination)
    {
        destination = (byte)BitConverter.SingleToInt32Bits(q0._value);
        Unsafe.Add(ref destination, 1) = (byte)BitConverter.SingleToInt32Bits(q1._value);
        Unsafe.Add(ref destination, 2) = (byte)BitConverter.SingleToInt32Bits(q2._value);
        Unsafe.Add(ref destination, 3) = (byte)BitConverter.SingleToInt32Bits(q3._value);
    }

    public static string DotInstructions => "scalar integer multiplies";

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static VecScalar DotAccumulate(VecScalar accumulator, VecScalar activations, VecScalar weights)
    {
        int a = BitConverter.SingleToInt32Bits(activations._value), w = BitConverter.SingleToInt32Bits(weights._value);
        int sum = BitConverter.SingleToInt32Bits(accumulator._value)
            + (a & 0xFF) * (sbyte)w + ((a >> 8) & 0xFF) * (sbyte)(w >> 8) + ((a >> 16) & 0xFF) * (sbyte)(w >> 16) + ((a >> 24) & 0xFF) * (sbyte)(w >> 24);
        return new(BitConverter.Int32BitsToSingle(sum));
    }

    private static VecScalar Mask(bool set) => new(set ? BitConverter.Int32BitsToSingle(-1) : 0f);
}

/// <summary>The codes of Float16 panels and the constants of their in-register widening (see the note at the top of this file).</summary>
internal static class Float16Bits
{
    /// <summary>Keeps the sign (bit 31) and the 15 shifted exponent and mantissa bits (27-13).</summary>
    public const int SignExponentMantissa = unchecked((int)0x8FFFE000);

    /// <summary>How far the normalised codes' exponent sits above the half's: every half below 2^7 in magnitude widens to a normal fp32.</summary>
    public const int NormalisedRebias = 10;

    /// <summary>The smallest magnitude the normalised codes cannot hold (2^7): a model with a weight this large keeps the IEEE codes.</summary>
    public const float NormalisedLimit = 128f;

    /// <summary>2^51, the square root of the 2^102 a widened normalised code is short of its weight: the kernels scale activations up and accumulators down by it.</summary>
    public const float NormalisedActivationScale = 2251799813685248f;

    /// <summary>2^56, the square root of the 2^112 a widened IEEE code is short of its weight.</summary>
    public const float IeeeActivationScale = 72057594037927936f;

    /// <summary>
    /// The power of two a widened code is the weight times: 2^-112 for the IEEE codes (fp32's exponent bias is 127, the
    /// half's 15), 2^-102 for the normalised ones.
    /// </summary>
    public static int WidenedExponent(Float16Codes codes) => codes == Float16Codes.Ieee ? -112 : NormalisedRebias - 112;

    /// <summary>
    /// The code a panel stores for the half <paramref name="half"/> (its IEEE bits): the 16 bits that widen, by the shift and
    /// mask above, to its value times 2^<see cref="WidenedExponent"/>. For the IEEE codes, the half's bits as they are.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The half is not finite, or is beyond what <paramref name="codes"/> can hold.</exception>
    public static ushort Code(ushort half, Float16Codes codes)
    {
        float value = (float)BitConverter.UInt16BitsToHalf(half);
        if (!float.IsFinite(value)) throw new ArgumentOutOfRangeException(nameof(half), value, "Float16 panels store finite weights only.");
        if (codes == Float16Codes.Ieee) return half;

        // Exact: a half has at most 11 significant bits, and 2^-102 keeps every one of them a normal fp32 below 2^-95.
        uint bits = BitConverter.SingleToUInt32Bits(MathF.ScaleB(value, WidenedExponent(codes)));
        if ((bits & 0x7FFFFFFFu) >= 32u << 23)
            throw new ArgumentOutOfRangeException(nameof(half), value, $"Normalised Float16 codes hold weights below {NormalisedLimit} in magnitude.");
        return (ushort)(((bits >> 16) & 0x8000u) | ((bits >> 13) & 0x7FFFu));
    }
}
