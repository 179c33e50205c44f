using System.Numerics;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>
/// The few dense loops around the LSTM (linear heads, the tanh RNN, row updates), on <see cref="Vector{T}"/>.
/// Small and layer-agnostic; the LSTM's own products run on the cell kernels.
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

    /// <summary>
    /// A linear layer, y[r] = W·x[r] + b for each of <paramref name="rows"/> rows, in float: the one arithmetic of every
    /// linear head, so a head validated during training computes at inference exactly what was measured.
    /// </summary>
    /// <param name="weight">[outputs, inputs], row-major.</param>
    /// <param name="bias">[outputs], or empty.</param>
    /// <param name="inputs">Features per input row.</param>
    /// <param name="outputs">Values per output row.</param>
    /// <param name="input">[rows, inputs].</param>
    /// <param name="rows">How many rows.</param>
    /// <param name="output">[rows, outputs].</param>
    public static void Linear(ReadOnlySpan<float> weight, ReadOnlySpan<float> bias, int inputs, int outputs, ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * inputs, inputs);
            Span<float> y = output.Slice(r * outputs, outputs);
            for (int o = 0; o < outputs; o++) y[o] = (bias.IsEmpty ? 0f : bias[o]) + Dot(weight.Slice(o * inputs, inputs), x);
        }
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
