using System.Numerics;
using System.Runtime.InteropServices;

namespace LstmSimd.Training;

/// <summary>
/// The few dense loops the training pieces need (dot products and row updates), on <see cref="Vector{T}"/>.
/// Small and layer-agnostic; the LSTM's own products run on the kernels in <c>Kernels/</c>.
/// </summary>
internal static class DenseMath
{
    /// <summary>Σ a[i]·b[i].</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, i = 0;
        float sum = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            ReadOnlySpan<Vector<float>> va = MemoryMarshal.Cast<float, Vector<float>>(a), vb = MemoryMarshal.Cast<float, Vector<float>>(b[..n]);
            var acc = Vector<float>.Zero;
            for (int k = 0; k < va.Length; k++) acc += va[k] * vb[k];
            sum = Vector.Sum(acc);
            i = va.Length * Vector<float>.Count;
        }

        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y[i] += alpha·x[i].</summary>
    public static void MultiplyAdd(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, i = 0;
        if (Vector.IsHardwareAccelerated && n >= Vector<float>.Count)
        {
            ReadOnlySpan<Vector<float>> vx = MemoryMarshal.Cast<float, Vector<float>>(x);
            Span<Vector<float>> vy = MemoryMarshal.Cast<float, Vector<float>>(y[..n]);
            var a = new Vector<float>(alpha);
            for (int k = 0; k < vx.Length; k++) vy[k] += a * vx[k];
            i = vx.Length * Vector<float>.Count;
        }

        for (; i < n; i++) y[i] += alpha * x[i];
    }
}
