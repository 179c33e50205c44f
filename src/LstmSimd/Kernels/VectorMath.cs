using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>
/// Loops over whole spans that run beside the cell kernels (input checks, optimiser updates), written once
/// over <see cref="ISimdVector{TSelf}"/> so that they too run on the width the selector chose.
/// </summary>
internal static class VectorMath<TVec> where TVec : struct, ISimdVector<TVec>
{
    /// <summary>The largest |v| of <paramref name="values"/>, NaN ignored (a NaN lane never compares greater).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float LargestMagnitude(ReadOnlySpan<float> values)
    {
        ref float start = ref MemoryMarshal.GetReference(values);
        int width = TVec.Count, k = 0;
        // Four running maxima: one would make every vector wait for the compare and select of the one before.
        TVec lanes0 = TVec.Zero, lanes1 = TVec.Zero, lanes2 = TVec.Zero, lanes3 = TVec.Zero;
        for (; k + 4 * width <= values.Length; k += 4 * width)
        {
            ref float at = ref Unsafe.Add(ref start, k);
            lanes0 = Larger(TVec.Abs(TVec.Load(in at)), lanes0);
            lanes1 = Larger(TVec.Abs(TVec.Load(in Unsafe.Add(ref at, width))), lanes1);
            lanes2 = Larger(TVec.Abs(TVec.Load(in Unsafe.Add(ref at, 2 * width))), lanes2);
            lanes3 = Larger(TVec.Abs(TVec.Load(in Unsafe.Add(ref at, 3 * width))), lanes3);
        }

        for (; k + width <= values.Length; k += width) lanes0 = Larger(TVec.Abs(TVec.Load(in Unsafe.Add(ref start, k))), lanes0);
        float largest = HorizontalMax(Larger(Larger(lanes0, lanes1), Larger(lanes2, lanes3)));
        for (; k < values.Length; k++)
        {
            float v = Math.Abs(Unsafe.Add(ref start, k));
            if (v > largest) largest = v;
        }

        return largest;
    }

    /// <summary>Per lane, <paramref name="candidate"/> where it is greater than <paramref name="lanes"/>, else <paramref name="lanes"/> (NaN never wins).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Larger(TVec candidate, TVec lanes) => TVec.Select(TVec.GreaterThan(candidate, lanes), candidate, lanes);

    /// <summary>
    /// One Adam step over a tensor: g = grad + l2·p; m = β1·m + (1 − β1)·g; v = β2·v + (1 − β2)·g²;
    /// p = p·shrink − stepSize·m / (√v / rootCorrection2 + ε). The scalar tail does the same operations in the same order
    /// (no fused multiply-add), so every element rounds alike whatever the width.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void AdamUpdate(Span<float> p, Span<float> m, Span<float> v, ReadOnlySpan<float> grad, in AdamStep step)
    {
        int width = TVec.Count, k = 0;
        ref float pStart = ref MemoryMarshal.GetReference(p), mStart = ref MemoryMarshal.GetReference(m), vStart = ref MemoryMarshal.GetReference(v);
        ref float gStart = ref MemoryMarshal.GetReference(grad);
        TVec l2 = TVec.Create(step.L2), b1 = TVec.Create(step.Beta1), b2 = TVec.Create(step.Beta2), c1 = TVec.Create(1 - step.Beta1), c2 = TVec.Create(1 - step.Beta2);
        TVec shrink = TVec.Create(step.Shrink), stepSize = TVec.Create(step.StepSize), root = TVec.Create(step.RootCorrection2), eps = TVec.Create(step.Epsilon);
        for (; k + width <= p.Length; k += width)
        {
            ref float pk = ref Unsafe.Add(ref pStart, k), mk = ref Unsafe.Add(ref mStart, k), vk = ref Unsafe.Add(ref vStart, k);
            TVec parameter = TVec.Load(in pk);
            TVec g = TVec.Load(in Unsafe.Add(ref gStart, k)) + l2 * parameter;
            TVec first = b1 * TVec.Load(in mk) + c1 * g;
            TVec second = b2 * TVec.Load(in vk) + c2 * g * g;
            TVec.Store(first, ref mk);
            TVec.Store(second, ref vk);
            TVec.Store(parameter * shrink - stepSize * first / (TVec.Sqrt(second) / root + eps), ref pk);
        }

        for (; k < p.Length; k++)
        {
            float g = grad[k] + step.L2 * p[k];
            float first = m[k] = step.Beta1 * m[k] + (1 - step.Beta1) * g;
            float second = v[k] = step.Beta2 * v[k] + (1 - step.Beta2) * g * g;
            p[k] = p[k] * step.Shrink - step.StepSize * first / (MathF.Sqrt(second) / step.RootCorrection2 + step.Epsilon);
        }
    }

    // Lanes are never NaN and never below zero here (NaN never compares greater), so a plain comparison is the maximum.
    [SkipLocalsInit]
    private static float HorizontalMax(TVec value)
    {
        Span<float> lanes = stackalloc float[TVec.Count];
        TVec.Store(value, ref MemoryMarshal.GetReference(lanes));
        float largest = 0f;
        foreach (float lane in lanes) largest = lane > largest ? lane : largest;
        return largest;
    }
}

/// <summary>The scalars of one Adam step (see <see cref="VectorMath{TVec}.AdamUpdate"/>).</summary>
internal readonly record struct AdamStep(float StepSize, float RootCorrection2, float Beta1, float Beta2, float Epsilon, float L2, float Shrink);
