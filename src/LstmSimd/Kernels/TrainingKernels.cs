using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>The training kernels of one width behind virtual calls, created with the width's <see cref="KernelSet"/>.</summary>
internal abstract class TrainingKernelSet
{
    /// <summary>
    /// The gate derivatives of one step, fused in one pass: from the activated gates (overwritten with
    /// ∂loss/∂pre-activations), c_t, c_{t−1}, ∂loss/∂m_t and ∂loss/∂c_t (overwritten with ∂loss/∂c_{t−1}).
    /// Inactive rows get zero gate derivatives and keep their dc.
    /// </summary>
    public abstract void BackwardCell(ref float gates, int gateRowStride, ref float c, ref float cPrevious, int cRowStride,
        ref float dm, int dmRowStride, ref float dc, int rows, int blocks, ReadOnlySpan<byte> active);

    /// <summary>The GRU's step derivatives over its four gate slots (see <see cref="GruCellKernels{TVec}.Backward"/>).</summary>
    public abstract void BackwardGruCell(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dh, ref float dhPrevious, int dhRowStride,
        int rows, int blocks, ReadOnlySpan<byte> active);

    /// <summary>The original GRU's step derivatives but the reset gate's (see <see cref="GruCellKernels{TVec}.BackwardBeforeReset"/>).</summary>
    public abstract void BackwardGruBeforeReset(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dh, ref float dhPrevious, int dhRowStride,
        ref float dCandidate, int dCandidateRowStride, int rows, int blocks, ReadOnlySpan<byte> active);

    /// <summary>The original GRU's reset-gate derivatives (see <see cref="GruCellKernels{TVec}.BackwardResetGate"/>).</summary>
    public abstract void BackwardGruResetGate(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dGated, int dGatedRowStride,
        ref float dhPrevious, int dhRowStride, int rows, int blocks, ReadOnlySpan<byte> active);

    /// <summary>C (+)= A·B with A addressed by two strides; see <see cref="Gemm{TVec}"/>.</summary>
    public abstract void Multiply(ref float a, nint aRowStride, nint aColumnStride, ref float b, nint bRowStride,
        ref float c, nint cRowStride, int m, int n, int k, bool accumulate);

    /// <summary>sums[j] += Σ_r values[r·stride + j] for j &lt; columns (columns a whole number of vectors).</summary>
    public abstract void AddColumnSums(ReadOnlySpan<float> values, int rows, int stride, int columns, Span<float> sums);

    /// <summary>One Adam step over a tensor (see <see cref="VectorMath{TVec}.AdamUpdate"/>).</summary>
    public abstract void AdamUpdate(Span<float> parameters, Span<float> firstMoments, Span<float> secondMoments, ReadOnlySpan<float> gradients, in AdamStep step);
}

internal sealed class TrainingKernelSet<TVec> : TrainingKernelSet where TVec : struct, ISimdVector<TVec>
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void BackwardCell(ref float gates, int gateRowStride, ref float c, ref float cPrevious, int cRowStride,
        ref float dm, int dmRowStride, ref float dc, int rows, int blocks, ReadOnlySpan<byte> active) =>
        TrainingKernels<TVec>.BackwardCell(ref gates, gateRowStride, ref c, ref cPrevious, cRowStride, ref dm, dmRowStride, ref dc, rows, blocks, active);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void BackwardGruCell(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dh, ref float dhPrevious, int dhRowStride,
        int rows, int blocks, ReadOnlySpan<byte> active) =>
        GruCellKernels<TVec>.Backward(ref pre, preRowStride, ref hPrevious, hRowStride, ref dh, ref dhPrevious, dhRowStride, rows, blocks, active);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void BackwardGruBeforeReset(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dh, ref float dhPrevious, int dhRowStride,
        ref float dCandidate, int dCandidateRowStride, int rows, int blocks, ReadOnlySpan<byte> active) =>
        GruCellKernels<TVec>.BackwardBeforeReset(ref pre, preRowStride, ref hPrevious, hRowStride, ref dh, ref dhPrevious, dhRowStride,
            ref dCandidate, dCandidateRowStride, rows, blocks, active);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void BackwardGruResetGate(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dGated, int dGatedRowStride,
        ref float dhPrevious, int dhRowStride, int rows, int blocks, ReadOnlySpan<byte> active) =>
        GruCellKernels<TVec>.BackwardResetGate(ref pre, preRowStride, ref hPrevious, hRowStride, ref dGated, dGatedRowStride, ref dhPrevious, dhRowStride, rows, blocks, active);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Multiply(ref float a, nint aRowStride, nint aColumnStride, ref float b, nint bRowStride,
        ref float c, nint cRowStride, int m, int n, int k, bool accumulate) =>
        Gemm<TVec>.Multiply(ref a, aRowStride, aColumnStride, ref b, bRowStride, ref c, cRowStride, m, n, k, accumulate);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void AddColumnSums(ReadOnlySpan<float> values, int rows, int stride, int columns, Span<float> sums) =>
        TrainingKernels<TVec>.AddColumnSums(values, rows, stride, columns, sums);

    public override void AdamUpdate(Span<float> parameters, Span<float> firstMoments, Span<float> secondMoments, ReadOnlySpan<float> gradients, in AdamStep step) =>
        VectorMath<TVec>.AdamUpdate(parameters, firstMoments, secondMoments, gradients, step);
}

/// <summary>
/// The cell's part of training for one vector width: the forward step that keeps its activated gates, and the
/// fused backward through the gates. Rows and blocks follow <see cref="CellKernels{TVec, TFormat}"/>: a gate row is
/// blocks × (i, f, g, o) × width, a state row is blocks × width.
/// </summary>
internal static class TrainingKernels<TVec> where TVec : struct, ISimdVector<TVec>
{
    private const int Gates = 4;

    // Not inlined into its caller (the kernel set's override): inlined there, the JIT's inline budget ran out and left the
    // vector operators and tanh as calls (about a tenth of train-b32-h256's time). Compiled fully optimised on its own instead.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void BackwardCell(ref float gates, int gateRowStride, ref float c, ref float cPrevious, int cRowStride,
        ref float dm, int dmRowStride, ref float dc, int rows, int blocks, ReadOnlySpan<byte> active)
    {
        int width = TVec.Count;
        TVec one = TVec.Create(1f);
        for (int row = 0; row < rows; row++)
        {
            ref float gateRow = ref Unsafe.Add(ref gates, (nint)row * gateRowStride);
            if (!active.IsEmpty && active[row] == 0)
            {
                MemoryMarshal.CreateSpan(ref gateRow, blocks * Gates * width).Clear();
                continue;
            }

            ref float cRow = ref Unsafe.Add(ref c, (nint)row * cRowStride);
            ref float cPreviousRow = ref Unsafe.Add(ref cPrevious, (nint)row * cRowStride);
            ref float dcRow = ref Unsafe.Add(ref dc, (nint)row * cRowStride);
            ref float dmRow = ref Unsafe.Add(ref dm, (nint)row * dmRowStride);
            for (int block = 0; block < blocks; block++)
            {
                ref float g4 = ref Unsafe.Add(ref gateRow, block * Gates * width);
                int unit = block * width;
                TVec i = TVec.Load(in g4), f = TVec.Load(in Unsafe.Add(ref g4, width));
                TVec g = TVec.Load(in Unsafe.Add(ref g4, 2 * width)), o = TVec.Load(in Unsafe.Add(ref g4, 3 * width));
                TVec tc = Activations.Tanh(TVec.Load(in Unsafe.Add(ref cRow, unit)));
                TVec dmv = TVec.Load(in Unsafe.Add(ref dmRow, unit));
                TVec dcv = TVec.MultiplyAdd(dmv * o, one - tc * tc, TVec.Load(in Unsafe.Add(ref dcRow, unit)));
                TVec cp = TVec.Load(in Unsafe.Add(ref cPreviousRow, unit));
                TVec.Store(dcv * g * i * (one - i), ref g4);
                TVec.Store(dcv * cp * f * (one - f), ref Unsafe.Add(ref g4, width));
                TVec.Store(dcv * i * (one - g * g), ref Unsafe.Add(ref g4, 2 * width));
                TVec.Store(dmv * tc * o * (one - o), ref Unsafe.Add(ref g4, 3 * width));
                TVec.Store(dcv * f, ref Unsafe.Add(ref dcRow, unit));
            }
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void AddColumnSums(ReadOnlySpan<float> values, int rows, int stride, int columns, Span<float> sums)
    {
        // Four vectors of columns per pass down the rows (each row read as a run of whole cache lines, not one vector a page
        // apart), then one at a time; every column sums its even rows and its odd rows apart and adds both at the end.
        int width = TVec.Count, column = 0;
        ref float source = ref MemoryMarshal.GetReference(values);
        ref float destination = ref MemoryMarshal.GetReference(sums);
        for (; column + 4 * width <= columns; column += 4 * width)
        {
            TVec even0 = TVec.Zero, even1 = TVec.Zero, even2 = TVec.Zero, even3 = TVec.Zero, odd0 = TVec.Zero, odd1 = TVec.Zero, odd2 = TVec.Zero, odd3 = TVec.Zero;
            int row = 0;
            for (; row + 2 <= rows; row += 2)
            {
                ref float e = ref Unsafe.Add(ref source, (nint)row * stride + column);
                ref float o = ref Unsafe.Add(ref e, stride);
                even0 += TVec.Load(in e);
                even1 += TVec.Load(in Unsafe.Add(ref e, width));
                even2 += TVec.Load(in Unsafe.Add(ref e, 2 * width));
                even3 += TVec.Load(in Unsafe.Add(ref e, 3 * width));
                odd0 += TVec.Load(in o);
                odd1 += TVec.Load(in Unsafe.Add(ref o, width));
                odd2 += TVec.Load(in Unsafe.Add(ref o, 2 * width));
                odd3 += TVec.Load(in Unsafe.Add(ref o, 3 * width));
            }

            if (row < rows)
            {
                ref float e = ref Unsafe.Add(ref source, (nint)row * stride + column);
                even0 += TVec.Load(in e);
                even1 += TVec.Load(in Unsafe.Add(ref e, width));
                even2 += TVec.Load(in Unsafe.Add(ref e, 2 * width));
                even3 += TVec.Load(in Unsafe.Add(ref e, 3 * width));
            }

            ref float sum = ref Unsafe.Add(ref destination, column);
            TVec.Store(TVec.Load(in sum) + even0 + odd0, ref sum);
            TVec.Store(TVec.Load(in Unsafe.Add(ref sum, width)) + even1 + odd1, ref Unsafe.Add(ref sum, width));
            TVec.Store(TVec.Load(in Unsafe.Add(ref sum, 2 * width)) + even2 + odd2, ref Unsafe.Add(ref sum, 2 * width));
            TVec.Store(TVec.Load(in Unsafe.Add(ref sum, 3 * width)) + even3 + odd3, ref Unsafe.Add(ref sum, 3 * width));
        }

        for (; column + width <= columns; column += width)
        {
            TVec even = TVec.Zero, odd = TVec.Zero;
            int row = 0;
            for (; row + 2 <= rows; row += 2)
            {
                even += TVec.Load(in Unsafe.Add(ref source, (nint)row * stride + column));
                odd += TVec.Load(in Unsafe.Add(ref source, (nint)(row + 1) * stride + column));
            }

            if (row < rows) even += TVec.Load(in Unsafe.Add(ref source, (nint)row * stride + column));
            ref float sum = ref Unsafe.Add(ref destination, column);
            TVec.Store(TVec.Load(in sum) + even + odd, ref sum);
        }
    }
}
