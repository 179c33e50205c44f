using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using LstmSimd.Kernels;

namespace LstmSimd.Benchmarking;

/// <summary>
/// The few vector operations the roofline probes run, at one of the widths the engine's kernels run. Each probe is one
/// generic loop that the JIT specialises per width, as the engine's kernels are.
/// </summary>
internal interface IProbeLanes<TSelf> where TSelf : struct, IProbeLanes<TSelf>
{
    static abstract int Count { get; }

    static abstract TSelf Zero { get; }

    static abstract TSelf Create(float value);

    static abstract TSelf Load(ref float source);

    static abstract TSelf MultiplyAdd(TSelf a, TSelf b, TSelf c);

    static abstract TSelf operator +(TSelf a, TSelf b);

    static abstract float Sum(TSelf value);
}

/// <summary>A probe that runs at whatever width <see cref="ProbeLanes.Run"/> hands it.</summary>
internal interface IProbe<TResult>
{
    TResult Run<TLanes>() where TLanes : struct, IProbeLanes<TLanes>;
}

/// <summary>Runs a probe at the width of a kernel path, resolved as the engine resolves it.</summary>
internal static class ProbeLanes
{
    public static TResult Run<TProbe, TResult>(KernelPath path, TProbe probe) where TProbe : IProbe<TResult> => KernelSelector.Resolve(path) switch
    {
        KernelPath.Vector512 => probe.Run<Lanes512>(),
        KernelPath.Vector256 => probe.Run<Lanes256>(),
        KernelPath.Vector128 => probe.Run<Lanes128>(),
        _ => probe.Run<LanesScalar>(),
    };
}

internal readonly struct Lanes128(Vector128<float> value) : IProbeLanes<Lanes128>
{
    private readonly Vector128<float> _value = value;
    public static int Count => Vector128<float>.Count;
    public static Lanes128 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128 Create(float value) => new(Vector128.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128 Load(ref float source) => new(Vector128.LoadUnsafe(ref source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128 MultiplyAdd(Lanes128 a, Lanes128 b, Lanes128 c) => new(Vector128.MultiplyAddEstimate(a._value, b._value, c._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes128 operator +(Lanes128 a, Lanes128 b) => new(a._value + b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes128 value) => Vector128.Sum(value._value);
}

internal readonly struct Lanes256(Vector256<float> value) : IProbeLanes<Lanes256>
{
    private readonly Vector256<float> _value = value;
    public static int Count => Vector256<float>.Count;
    public static Lanes256 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Create(float value) => new(Vector256.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 Load(ref float source) => new(Vector256.LoadUnsafe(ref source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 MultiplyAdd(Lanes256 a, Lanes256 b, Lanes256 c) => new(Vector256.MultiplyAddEstimate(a._value, b._value, c._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes256 operator +(Lanes256 a, Lanes256 b) => new(a._value + b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes256 value) => Vector256.Sum(value._value);
}

internal readonly struct Lanes512(Vector512<float> value) : IProbeLanes<Lanes512>
{
    private readonly Vector512<float> _value = value;
    public static int Count => Vector512<float>.Count;
    public static Lanes512 Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Create(float value) => new(Vector512.Create(value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 Load(ref float source) => new(Vector512.LoadUnsafe(ref source));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 MultiplyAdd(Lanes512 a, Lanes512 b, Lanes512 c) => new(Vector512.MultiplyAddEstimate(a._value, b._value, c._value));
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static Lanes512 operator +(Lanes512 a, Lanes512 b) => new(a._value + b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(Lanes512 value) => Vector512.Sum(value._value);
}

/// <summary>One float: the engine's scalar path, which assumes no hardware FMA (a separate multiply and add).</summary>
internal readonly struct LanesScalar(float value) : IProbeLanes<LanesScalar>
{
    private readonly float _value = value;
    public static int Count => 1;
    public static LanesScalar Zero => default;
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesScalar Create(float value) => new(value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesScalar Load(ref float source) => new(source);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesScalar MultiplyAdd(LanesScalar a, LanesScalar b, LanesScalar c) => new(a._value * b._value + c._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static LanesScalar operator +(LanesScalar a, LanesScalar b) => new(a._value + b._value);
    [MethodImpl(MethodImplOptions.AggressiveInlining)] public static float Sum(LanesScalar value) => value._value;
}
