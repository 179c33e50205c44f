using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>
/// Where one step of the LSTM cell reads and writes, for a range of batch rows and hidden-unit blocks.
/// Pre-activations start from <see cref="Init"/> (the hoisted input projection of this step, or the bias
/// with <see cref="InitRowStride"/> 0), then accumulate x·W_ih (skipped when <see cref="DepthX"/> is 0: the
/// sequence path has hoisted it) and h·W_hh over packed panels.
/// </summary>
internal ref struct CellStepArgs
{
    public ref float Init;
    public int InitRowStride;
    public ref float PanelX;
    public int DepthX;
    public ref float X;
    public int XRowStride;
    public ref float PanelH;
    public int DepthH;
    public ref float H;
    public int HRowStride;
    public ref float C;
    public int CRowStride;
    public ref float HOut;
    public int HOutRowStride;
    public int Rows;
    public int BlockStart;
    public int BlockEnd;

    /// <summary>Per row: 1 to compute, 0 to leave its c and h untouched (a finished sequence). Empty: all rows.</summary>
    public ReadOnlySpan<byte> Active;
}

/// <summary>
/// The LSTM micro-kernels for one vector width: the recurrent (and, for streaming steps, input) products
/// over gate-interleaved panels with the cell update fused in registers, the hoisted input projection
/// GEMM and the projection GEMM. Written once, generic over <see cref="ISimdVector{TSelf}"/>.
/// </summary>
/// <remarks>
/// Register blocking: three batch rows × four gates (12 accumulators, plus one weight and three broadcasts
/// = 16 registers on AVX2) when there are rows to share each weight load; a single row (batch 1, bound by
/// how fast weights stream) splits k over two accumulator sets instead, so eight FMA chains hide the latency.
/// </remarks>
internal static class CellKernels<TVec> where TVec : struct, ISimdVector<TVec>
{
    private const int Gates = 4;

    /// <summary>One cell step over <see cref="CellStepArgs.Rows"/> rows and the block range given.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Step(scoped in CellStepArgs a)
    {
        int width = TVec.Count, gateStride = Gates * width;
        for (int block = a.BlockStart; block < a.BlockEnd; block++)
        {
            ref float panelX = ref Unsafe.Add(ref a.PanelX, (nint)block * a.DepthX * gateStride);
            ref float panelH = ref Unsafe.Add(ref a.PanelH, (nint)block * a.DepthH * gateStride);
            int gateOffset = block * gateStride, unitOffset = block * width;
            int row = 0;
            for (; row + 3 <= a.Rows; row += 3)
            {
                if (a.Active.IsEmpty || (a.Active[row] & a.Active[row + 1] & a.Active[row + 2]) != 0)
                {
                    StepThreeRows(a, row, gateOffset, unitOffset, ref panelX, ref panelH);
                    continue;
                }

                for (int r = row; r < row + 3; r++)
                {
                    if (a.Active[r] != 0) StepOneRow(a, r, gateOffset, unitOffset, ref panelX, ref panelH);
                }
            }

            for (; row < a.Rows; row++)
            {
                if (a.Active.IsEmpty || a.Active[row] != 0) StepOneRow(a, row, gateOffset, unitOffset, ref panelX, ref panelH);
            }
        }
    }

    /// <summary>gx[m] = bias + x[m]·W for every row m and the block range given: the input projection of all steps at once.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void InputProjection(PackedPanel panel, ReadOnlySpan<float> packedBias, ReadOnlySpan<float> x, int rows, Span<float> gx, int blockStart, int blockEnd)
    {
        int width = TVec.Count, gateStride = Gates * width, depth = panel.Depth, gxStride = panel.Blocks * gateStride;
        ref float bias = ref MemoryMarshal.GetReference(packedBias);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(gx);
        for (int block = blockStart; block < blockEnd; block++)
        {
            ref float weights = ref panel.Data[(nint)block * panel.BlockStride];
            int gateOffset = block * gateStride;
            ref float blockBias = ref Unsafe.Add(ref bias, gateOffset);
            int row = 0;
            for (; row + 3 <= rows; row += 3)
            {
                ref float out0 = ref Unsafe.Add(ref destination, (nint)row * gxStride + gateOffset);
                AccumulateThreeRows(ref blockBias, 0, ref weights, ref Unsafe.Add(ref source, (nint)row * depth), depth, depth, ref weights, ref source, 0, 0,
                    out TVec i0, out TVec f0, out TVec g0, out TVec o0, out TVec i1, out TVec f1, out TVec g1, out TVec o1, out TVec i2, out TVec f2, out TVec g2, out TVec o2);
                StoreGates(i0, f0, g0, o0, ref out0);
                StoreGates(i1, f1, g1, o1, ref Unsafe.Add(ref out0, gxStride));
                StoreGates(i2, f2, g2, o2, ref Unsafe.Add(ref out0, 2 * gxStride));
            }

            for (; row < rows; row++)
            {
                AccumulateOneRow(ref blockBias, ref weights, ref Unsafe.Add(ref source, (nint)row * depth), depth, ref weights, ref source, 0,
                    out TVec i, out TVec f, out TVec g, out TVec o);
                StoreGates(i, f, g, o, ref Unsafe.Add(ref destination, (nint)row * gxStride + gateOffset));
            }
        }
    }

    /// <summary>
    /// y[r] = W_hr·h[r] for the active rows (PyTorch's projection, gates = 1 panel): each output block
    /// accumulates over the hidden units with two chains.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Project(PackedPanel panel, ref float h, int hRowStride, ref float y, int yRowStride, int rows, ReadOnlySpan<byte> active, int blockStart, int blockEnd)
    {
        int width = TVec.Count, depth = panel.Depth;
        for (int row = 0; row < rows; row++)
        {
            if (!active.IsEmpty && active[row] == 0) continue;
            ref float source = ref Unsafe.Add(ref h, (nint)row * hRowStride);
            for (int block = blockStart; block < blockEnd; block++)
            {
                ref float weights = ref panel.Data[(nint)block * panel.BlockStride];
                TVec even = TVec.Zero, odd = TVec.Zero;
                int k = 0;
                for (; k + 2 <= depth; k += 2)
                {
                    even = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref weights, (nint)k * width)), TVec.Create(Unsafe.Add(ref source, k)), even);
                    odd = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref weights, (nint)(k + 1) * width)), TVec.Create(Unsafe.Add(ref source, k + 1)), odd);
                }

                if (k < depth) even = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref weights, (nint)k * width)), TVec.Create(Unsafe.Add(ref source, k)), even);
                TVec.Store(even + odd, ref Unsafe.Add(ref y, (nint)row * yRowStride + block * width));
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepOneRow(scoped in CellStepArgs a, int row, int gateOffset, int unitOffset, ref float panelX, ref float panelH)
    {
        AccumulateOneRow(ref Unsafe.Add(ref a.Init, (nint)row * a.InitRowStride + gateOffset),
            ref panelX, ref Unsafe.Add(ref a.X, (nint)row * a.XRowStride), a.DepthX,
            ref panelH, ref Unsafe.Add(ref a.H, (nint)row * a.HRowStride), a.DepthH,
            out TVec i, out TVec f, out TVec g, out TVec o);
        UpdateCell(i, f, g, o, ref Unsafe.Add(ref a.C, (nint)row * a.CRowStride + unitOffset), ref Unsafe.Add(ref a.HOut, (nint)row * a.HOutRowStride + unitOffset));
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StepThreeRows(scoped in CellStepArgs a, int row, int gateOffset, int unitOffset, ref float panelX, ref float panelH)
    {
        AccumulateThreeRows(ref Unsafe.Add(ref a.Init, (nint)row * a.InitRowStride + gateOffset), a.InitRowStride,
            ref panelX, ref Unsafe.Add(ref a.X, (nint)row * a.XRowStride), a.XRowStride, a.DepthX,
            ref panelH, ref Unsafe.Add(ref a.H, (nint)row * a.HRowStride), a.HRowStride, a.DepthH,
            out TVec i0, out TVec f0, out TVec g0, out TVec o0, out TVec i1, out TVec f1, out TVec g1, out TVec o1, out TVec i2, out TVec f2, out TVec g2, out TVec o2);
        ref float c = ref Unsafe.Add(ref a.C, (nint)row * a.CRowStride + unitOffset);
        ref float hOut = ref Unsafe.Add(ref a.HOut, (nint)row * a.HOutRowStride + unitOffset);
        UpdateCell(i0, f0, g0, o0, ref c, ref hOut);
        UpdateCell(i1, f1, g1, o1, ref Unsafe.Add(ref c, a.CRowStride), ref Unsafe.Add(ref hOut, a.HOutRowStride));
        UpdateCell(i2, f2, g2, o2, ref Unsafe.Add(ref c, 2 * a.CRowStride), ref Unsafe.Add(ref hOut, 2 * a.HOutRowStride));
    }

    /// <summary>
    /// One row's four gate pre-activations for one block: init + x·panelX + h·panelH (either depth may be 0).
    /// The accumulators are this method's own locals (never passed by reference, which would pin them to the
    /// stack), and even and odd k go to separate sets so that eight FMA chains are in flight.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateOneRow(ref float init, ref float panelX, ref float x, int depthX, ref float panelH, ref float h, int depthH,
        out TVec i, out TVec f, out TVec g, out TVec o)
    {
        int width = TVec.Count, gateStride = Gates * width;
        TVec i0 = TVec.Load(in init), f0 = TVec.Load(in Unsafe.Add(ref init, width)), g0 = TVec.Load(in Unsafe.Add(ref init, 2 * width)), o0 = TVec.Load(in Unsafe.Add(ref init, 3 * width));
        TVec i1 = TVec.Zero, f1 = TVec.Zero, g1 = TVec.Zero, o1 = TVec.Zero;
        for (int part = 0; part < 2; part++)
        {
            ref float panel = ref part == 0 ? ref panelX : ref panelH;
            ref float source = ref part == 0 ? ref x : ref h;
            int depth = part == 0 ? depthX : depthH;
            int k = 0;
            for (; k + 2 <= depth; k += 2)
            {
                ref float w = ref Unsafe.Add(ref panel, (nint)k * gateStride);
                TVec s0 = TVec.Create(Unsafe.Add(ref source, k)), s1 = TVec.Create(Unsafe.Add(ref source, k + 1));
                i0 = TVec.MultiplyAdd(TVec.Load(in w), s0, i0);
                f0 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, width)), s0, f0);
                g0 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, 2 * width)), s0, g0);
                o0 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, 3 * width)), s0, o0);
                i1 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, 4 * width)), s1, i1);
                f1 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, 5 * width)), s1, f1);
                g1 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, 6 * width)), s1, g1);
                o1 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, 7 * width)), s1, o1);
            }

            if (k < depth)
            {
                ref float w = ref Unsafe.Add(ref panel, (nint)k * gateStride);
                TVec s0 = TVec.Create(Unsafe.Add(ref source, k));
                i0 = TVec.MultiplyAdd(TVec.Load(in w), s0, i0);
                f0 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, width)), s0, f0);
                g0 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, 2 * width)), s0, g0);
                o0 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref w, 3 * width)), s0, o0);
            }
        }

        i = i0 + i1;
        f = f0 + f1;
        g = g0 + g1;
        o = o0 + o1;
    }

    /// <summary>Three rows' gate pre-activations for one block: each weight vector is loaded once and used three times.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void AccumulateThreeRows(ref float init, int initStride,
        ref float panelX, ref float x, int xStride, int depthX, ref float panelH, ref float h, int hStride, int depthH,
        out TVec i0, out TVec f0, out TVec g0, out TVec o0, out TVec i1, out TVec f1, out TVec g1, out TVec o1,
        out TVec i2, out TVec f2, out TVec g2, out TVec o2)
    {
        int width = TVec.Count, gateStride = Gates * width;
        ref float init1 = ref Unsafe.Add(ref init, initStride);
        ref float init2 = ref Unsafe.Add(ref init1, initStride);
        TVec ai0 = TVec.Load(in init), af0 = TVec.Load(in Unsafe.Add(ref init, width)), ag0 = TVec.Load(in Unsafe.Add(ref init, 2 * width)), ao0 = TVec.Load(in Unsafe.Add(ref init, 3 * width));
        TVec ai1 = TVec.Load(in init1), af1 = TVec.Load(in Unsafe.Add(ref init1, width)), ag1 = TVec.Load(in Unsafe.Add(ref init1, 2 * width)), ao1 = TVec.Load(in Unsafe.Add(ref init1, 3 * width));
        TVec ai2 = TVec.Load(in init2), af2 = TVec.Load(in Unsafe.Add(ref init2, width)), ag2 = TVec.Load(in Unsafe.Add(ref init2, 2 * width)), ao2 = TVec.Load(in Unsafe.Add(ref init2, 3 * width));
        for (int part = 0; part < 2; part++)
        {
            ref float panel = ref part == 0 ? ref panelX : ref panelH;
            ref float source0 = ref part == 0 ? ref x : ref h;
            int stride = part == 0 ? xStride : hStride;
            int depth = part == 0 ? depthX : depthH;
            ref float source1 = ref Unsafe.Add(ref source0, stride);
            ref float source2 = ref Unsafe.Add(ref source1, stride);
            for (int k = 0; k < depth; k++)
            {
                ref float w = ref Unsafe.Add(ref panel, (nint)k * gateStride);
                TVec s0 = TVec.Create(Unsafe.Add(ref source0, k)), s1 = TVec.Create(Unsafe.Add(ref source1, k)), s2 = TVec.Create(Unsafe.Add(ref source2, k));
                TVec wv = TVec.Load(in w);
                ai0 = TVec.MultiplyAdd(wv, s0, ai0);
                ai1 = TVec.MultiplyAdd(wv, s1, ai1);
                ai2 = TVec.MultiplyAdd(wv, s2, ai2);
                wv = TVec.Load(in Unsafe.Add(ref w, width));
                af0 = TVec.MultiplyAdd(wv, s0, af0);
                af1 = TVec.MultiplyAdd(wv, s1, af1);
                af2 = TVec.MultiplyAdd(wv, s2, af2);
                wv = TVec.Load(in Unsafe.Add(ref w, 2 * width));
                ag0 = TVec.MultiplyAdd(wv, s0, ag0);
                ag1 = TVec.MultiplyAdd(wv, s1, ag1);
                ag2 = TVec.MultiplyAdd(wv, s2, ag2);
                wv = TVec.Load(in Unsafe.Add(ref w, 3 * width));
                ao0 = TVec.MultiplyAdd(wv, s0, ao0);
                ao1 = TVec.MultiplyAdd(wv, s1, ao1);
                ao2 = TVec.MultiplyAdd(wv, s2, ao2);
            }
        }

        (i0, f0, g0, o0) = (ai0, af0, ag0, ao0);
        (i1, f1, g1, o1) = (ai1, af1, ag1, ao1);
        (i2, f2, g2, o2) = (ai2, af2, ag2, ao2);
    }

    /// <summary>The fused epilogue: i, f, o = σ(·), g = tanh(·), c = f·c + i·g, h = o·tanh(c), all in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateCell(TVec i, TVec f, TVec g, TVec o, ref float c, ref float h)
    {
        TVec cNew = TVec.MultiplyAdd(Activations.Sigmoid(f), TVec.Load(in c), Activations.Sigmoid(i) * Activations.Tanh(g));
        TVec.Store(cNew, ref c);
        TVec.Store(Activations.Sigmoid(o) * Activations.Tanh(cNew), ref h);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreGates(TVec i, TVec f, TVec g, TVec o, ref float destination)
    {
        int width = TVec.Count;
        TVec.Store(i, ref destination);
        TVec.Store(f, ref Unsafe.Add(ref destination, width));
        TVec.Store(g, ref Unsafe.Add(ref destination, 2 * width));
        TVec.Store(o, ref Unsafe.Add(ref destination, 3 * width));
    }
}
