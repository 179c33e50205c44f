using System.Runtime.CompilerServices;

namespace LstmSimd.Kernels;

/// <summary>
/// Vectorised sigmoid and tanh for every width, with absolute error under 5e-7 against double precision,
/// results inside [0, 1] and [-1, 1], and NaN in giving NaN out.
/// </summary>
internal static class Activations
{
    // Beyond |x| = 80, σ(-|x|) < 2e-35: clamping there keeps exp's result a normal float, so no lane
    // ever takes the subnormal slow path, at an absolute cost far below the error budget.
    private const float SigmoidClamp = 80f;

    // Eigen's rational tanh (generic_fast_tanh_float): odd numerator of degree 13 over even denominator of degree 6, fitted
    // on [-7.99881172, 7.99881172]. Clamped at ±9 instead: the rational stays within 2.4e-7 of tanh up to there and is exactly
    // ±1 in float at 9, fused or not, so the clamp alone saturates ±Inf exactly (no select on |x|).
    private const float TanhClamp = 9f;

    /// <summary>
    /// σ(x) from e = exp(-|x|) and reflection: σ(|x|) = 1/(1+e), σ(-|x|) = e/(1+e), so no lane overflows; the numerator is
    /// picked by x's sign bit rather than computed twice. NaN passes through every step (see <see cref="ISimdVector{TSelf}.MinNative"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Sigmoid<TVec>(TVec x) where TVec : struct, ISimdVector<TVec>
    {
        TVec e = ExpOfNegative(TVec.MinNative(TVec.Create(SigmoidClamp), TVec.Abs(x)));
        return TVec.Select(TVec.IsNegative(x), e, TVec.Create(1f)) / (TVec.Create(1f) + e);
    }

    /// <summary>
    /// tanh(x) as a clamped rational function; exact to a few float ulps and never outside [-1, 1]; NaN passes through both clamps.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Tanh<TVec>(TVec x) where TVec : struct, ISimdVector<TVec>
    {
        TVec clamped = TVec.MaxNative(TVec.Create(-TanhClamp), TVec.MinNative(TVec.Create(TanhClamp), x));
        TVec x2 = clamped * clamped;
        TVec p = TVec.MultiplyAdd(x2, TVec.Create(-2.76076847742355e-16f), TVec.Create(2.00018790482477e-13f));
        p = TVec.MultiplyAdd(x2, p, TVec.Create(-8.60467152213735e-11f));
        p = TVec.MultiplyAdd(x2, p, TVec.Create(5.12229709037114e-08f));
        p = TVec.MultiplyAdd(x2, p, TVec.Create(1.48572235717979e-05f));
        p = TVec.MultiplyAdd(x2, p, TVec.Create(6.37261928875436e-04f));
        p = TVec.MultiplyAdd(x2, p, TVec.Create(4.89352455891786e-03f));
        p *= clamped;
        TVec q = TVec.MultiplyAdd(x2, TVec.Create(1.19825839466702e-06f), TVec.Create(1.18534705686654e-04f));
        q = TVec.MultiplyAdd(x2, q, TVec.Create(2.26843463243900e-03f));
        q = TVec.MultiplyAdd(x2, q, TVec.Create(4.89352518554385e-03f));
        return TVec.MaxNative(TVec.Create(-1f), TVec.MinNative(TVec.Create(1f), p / q));
    }

    /// <summary>
    /// e^-a for a in [0, 80]: a = -n·ln2 + q with |q| ≤ ln2/2 (ln2 split in two for an exact reduction), e^-q from Cephes'
    /// degree-5 minimax polynomial for expf (relative error ~1e-7) in -q, written in q (odd coefficients negated, so no
    /// negation is spent), times 2^n.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec ExpOfNegative<TVec>(TVec a) where TVec : struct, ISimdVector<TVec>
    {
        TVec n = TVec.Round(a * TVec.Create(-1.44269504088896341f));
        TVec q = TVec.MultiplyAdd(n, TVec.Create(0.693359375f), a);
        q = TVec.MultiplyAdd(n, TVec.Create(-2.12194440e-4f), q);
        TVec p = TVec.MultiplyAdd(TVec.Create(-1.9875691500e-4f), q, TVec.Create(1.3981999507e-3f));
        p = TVec.MultiplyAdd(p, q, TVec.Create(-8.3334519073e-3f));
        p = TVec.MultiplyAdd(p, q, TVec.Create(4.1665795894e-2f));
        p = TVec.MultiplyAdd(p, q, TVec.Create(-1.6666665459e-1f));
        p = TVec.MultiplyAdd(p, q, TVec.Create(5.0000001201e-1f));
        return TVec.ScaleByPow2(TVec.MultiplyAdd(p, q * q, TVec.Create(1f) - q), n);
    }

    /// <summary>
    /// A new cell state with lanes below the smallest normal float set to 0. .NET cannot set flush-to-zero: a cell state
    /// decaying through subnormals would put every later step's FMAs on the slow path (1.3× a normal step at H=64 on
    /// Zen 5). Below the smallest normal float, c is 0 to within 1.2e-38, far inside the numerics contract; NaN compares
    /// false and passes through.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec FlushBelowNormal<TVec>(TVec c) where TVec : struct, ISimdVector<TVec> =>
        TVec.Select(TVec.GreaterThan(TVec.Create(1.17549435e-38f), TVec.Abs(c)), TVec.Zero, c);

    /// <summary>Applies <see cref="Sigmoid{TVec}(TVec)"/> to a span (tails run on the same formula, one lane at a time).</summary>
    public static void Sigmoid<TVec>(ReadOnlySpan<float> source, Span<float> destination) where TVec : struct, ISimdVector<TVec>
    {
        int i = 0;
        for (; i + TVec.Count <= source.Length; i += TVec.Count)
            TVec.Store(Sigmoid(TVec.Load(in source[i])), ref destination[i]);
        for (; i < source.Length; i++)
            VecScalar.Store(Sigmoid(VecScalar.Load(in source[i])), ref destination[i]);
    }

    /// <summary>Applies <see cref="Tanh{TVec}(TVec)"/> to a span.</summary>
    public static void Tanh<TVec>(ReadOnlySpan<float> source, Span<float> destination) where TVec : struct, ISimdVector<TVec>
    {
        int i = 0;
        for (; i + TVec.Count <= source.Length; i += TVec.Count)
            TVec.Store(Tanh(TVec.Load(in source[i])), ref destination[i]);
        for (; i < source.Length; i++)
            VecScalar.Store(Tanh(VecScalar.Load(in source[i])), ref destination[i]);
    }
}
