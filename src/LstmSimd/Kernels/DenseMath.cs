using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

namespace LstmSimd.Kernels;

/// <summary>
/// The few dense loops around the LSTM (linear heads and their gradients), with the same bits on every CPU and kernel
/// path by design: a head is small beside the LSTM, and a head validated during training on one machine then computes
/// exactly what was measured on any other. Sums go in one fixed order (eight partial sums, products added unfused), run
/// 256 bits wide where the CPU has it and in two 128-bit halves or plain code otherwise; element-wise updates give the
/// same bits at any width.
/// </summary>
internal static class DenseMath
{
    /// <summary>The partial sums of <see cref="Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>.</summary>
    public const int Lanes = 8;

    /// <summary>How the eight partial sums are combined.</summary>
    public static float Combine(float s0, float s1, float s2, float s3, float s4, float s5, float s6, float s7) =>
        ((s0 + s1) + (s2 + s3)) + ((s4 + s5) + (s6 + s7));

    /// <summary>Σ a[i]·b[i]: lane j of eight sums the products at i ≡ j (mod 8) over whole groups of eight, then the lanes
    /// are combined pairwise, ((s0+s1)+(s2+s3)) + ((s4+s5)+(s6+s7)), and the tail added in order.</summary>
    public static float Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        int n = a.Length, whole = n / Lanes * Lanes;
        b = b[..n];
        ref float pa = ref MemoryMarshal.GetReference(a), pb = ref MemoryMarshal.GetReference(b);
        float sum = 0;
        if (whole > 0)
        {
            Vector128<float> low, high;
            if (Vector256.IsHardwareAccelerated)
            {
                Vector256<float> acc = Vector256<float>.Zero;
                for (int i = 0; i < whole; i += Lanes)
                    acc += Vector256.LoadUnsafe(ref pa, (nuint)i) * Vector256.LoadUnsafe(ref pb, (nuint)i);
                (low, high) = (acc.GetLower(), acc.GetUpper());
            }
            else
            {
                low = high = Vector128<float>.Zero;
                for (int i = 0; i < whole; i += Lanes)
                {
                    low += Vector128.LoadUnsafe(ref pa, (nuint)i) * Vector128.LoadUnsafe(ref pb, (nuint)i);
                    high += Vector128.LoadUnsafe(ref pa, (nuint)(i + 4)) * Vector128.LoadUnsafe(ref pb, (nuint)(i + 4));
                }
            }

            sum = Combine(low.GetElement(0), low.GetElement(1), low.GetElement(2), low.GetElement(3),
                high.GetElement(0), high.GetElement(1), high.GetElement(2), high.GetElement(3));
        }

        for (int i = whole; i < n; i++) sum += Unsafe.Add(ref pa, i) * Unsafe.Add(ref pb, i);
        return sum;
    }

    /// <summary>
    /// Σ_p a[aStart + p·aStep] · b[bStart + p·bStep] for p &lt; <paramref name="count"/>, in the order of
    /// <see cref="Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/> (plain code: for strided operands, such as a transposed Gemm's).
    /// </summary>
    public static float Dot(float[] a, int aStart, int aStep, float[] b, int bStart, int bStep, int count)
    {
        int whole = count / Lanes * Lanes;
        Span<float> lanes = stackalloc float[Lanes];
        lanes.Clear();
        for (int p = 0; p < whole; p++) lanes[p % Lanes] += a[aStart + p * aStep] * b[bStart + p * bStep];
        float sum = Combine(lanes[0], lanes[1], lanes[2], lanes[3], lanes[4], lanes[5], lanes[6], lanes[7]);
        for (int p = whole; p < count; p++) sum += a[aStart + p * aStep] * b[bStart + p * bStep];
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

    /// <summary>y[i] += x[i].</summary>
    public static void Add(ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, width = Vector<float>.Count, i = 0;
        y = y[..n];
        for (; i + width <= n; i += width) (new Vector<float>(y[i..]) + new Vector<float>(x[i..])).CopyTo(y[i..]);
        for (; i < n; i++) y[i] += x[i];
    }

    /// <summary>y[i] *= alpha (the same bits at every vector width).</summary>
    public static void Scale(float alpha, Span<float> y)
    {
        int n = y.Length, width = Vector<float>.Count, i = 0;
        for (; i + width <= n; i += width) (alpha * new Vector<float>(y[i..])).CopyTo(y[i..]);
        for (; i < n; i++) y[i] *= alpha;
    }

    /// <summary>y[i] += alpha·x[i] (the product rounded, then added: the same bits at every vector width).</summary>
    public static void MultiplyAdd(float alpha, ReadOnlySpan<float> x, Span<float> y)
    {
        int n = x.Length, width = Vector<float>.Count, i = 0;
        y = y[..n];
        for (; i + width <= n; i += width) (new Vector<float>(y[i..]) + alpha * new Vector<float>(x[i..])).CopyTo(y[i..]);
        for (; i < n; i++) y[i] += alpha * x[i];
    }
}
