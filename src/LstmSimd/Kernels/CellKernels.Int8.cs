using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

// The Int8 side of the cell kernels: the same tiles, rows and epilogues, with the k loops replaced by 4-wide integer dot
// products over Int8Weights panels and QuantizedRows activations. Each part (x or h) accumulates in int32 lanes, and is
// then folded into the fp32 pre-activations once: pre += (activation scale · row scale) · (Σ q_w·q_a − zeroPoint · Σ q_w),
// which is the product of the dequantised weights and activations.
internal static partial class CellKernels<TVec, TFormat>
{
    /// <summary>One row's gate pre-activations (the panel's gates 0–3) for one block of Int8 panels (the quantised twin of <see cref="RowBlock"/>).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void QuantizedRowBlock<TGates>(ref float init, ref byte panelX, ref float x, int depthX, ref byte panelH, ref float h, int depthH,
        out TVec i, out TVec f, out TVec g, out TVec o) where TGates : struct, IGateLayout
    {
        int width = TVec.Count, rows = TGates.Count * width;
        bool third = TGates.Count > 2, fourth = TGates.Count > 3;
        i = Start<TGates>(ref init, 0);
        f = Start<TGates>(ref init, 1);
        g = Start<TGates>(ref init, 2);
        o = Start<TGates>(ref init, 3);
        for (int part = 0; part < 2; part++)
        {
            ref byte panel = ref part == 0 ? ref panelX : ref panelH;
            ref float source = ref part == 0 ? ref x : ref h;
            int depth = part == 0 ? depthX : depthH;
            if (depth == 0) continue;

            // Even and odd groups in separate accumulators: eight dependency chains, as in the fp32 row kernel.
            ref byte activations = ref Unsafe.As<float, byte>(ref Unsafe.Add(ref source, QuantizedRows.Header));
            int groups = Int8Weights.Groups(depth), group = 0;
            TVec i0 = TVec.Zero, f0 = TVec.Zero, g0 = TVec.Zero, o0 = TVec.Zero, i1 = TVec.Zero, f1 = TVec.Zero, g1 = TVec.Zero, o1 = TVec.Zero;
            for (; group + 2 <= groups; group += 2)
            {
                ref byte w = ref Unsafe.Add(ref panel, (nint)group * 4 * rows);
                ref byte next = ref Unsafe.Add(ref w, 4 * rows);
                TVec a0 = TVec.BroadcastGroup(in Unsafe.Add(ref activations, 4 * group)), a1 = TVec.BroadcastGroup(in Unsafe.Add(ref activations, 4 * group + 4));
                i0 = TVec.DotAccumulate(i0, a0, TVec.LoadGroups(in w));
                f0 = TVec.DotAccumulate(f0, a0, TVec.LoadGroups(in Unsafe.Add(ref w, 4 * width)));
                if (third) g0 = TVec.DotAccumulate(g0, a0, TVec.LoadGroups(in Unsafe.Add(ref w, 8 * width)));
                if (fourth) o0 = TVec.DotAccumulate(o0, a0, TVec.LoadGroups(in Unsafe.Add(ref w, 12 * width)));
                i1 = TVec.DotAccumulate(i1, a1, TVec.LoadGroups(in next));
                f1 = TVec.DotAccumulate(f1, a1, TVec.LoadGroups(in Unsafe.Add(ref next, 4 * width)));
                if (third) g1 = TVec.DotAccumulate(g1, a1, TVec.LoadGroups(in Unsafe.Add(ref next, 8 * width)));
                if (fourth) o1 = TVec.DotAccumulate(o1, a1, TVec.LoadGroups(in Unsafe.Add(ref next, 12 * width)));
            }

            if (group < groups)
            {
                ref byte w = ref Unsafe.Add(ref panel, (nint)group * 4 * rows);
                TVec a0 = TVec.BroadcastGroup(in Unsafe.Add(ref activations, 4 * group));
                i0 = TVec.DotAccumulate(i0, a0, TVec.LoadGroups(in w));
                f0 = TVec.DotAccumulate(f0, a0, TVec.LoadGroups(in Unsafe.Add(ref w, 4 * width)));
                if (third) g0 = TVec.DotAccumulate(g0, a0, TVec.LoadGroups(in Unsafe.Add(ref w, 8 * width)));
                if (fourth) o0 = TVec.DotAccumulate(o0, a0, TVec.LoadGroups(in Unsafe.Add(ref w, 12 * width)));
            }

            ref float scales = ref RowScales(ref panel, groups, rows);
            TVec activationScale = TVec.Create(source), negativeZero = TVec.Create(-Unsafe.Add(ref source, 1));
            i = Dequantized(i, TVec.ConvertInt32(i0) + TVec.ConvertInt32(i1), ref scales, 0, rows, activationScale, negativeZero);
            f = Dequantized(f, TVec.ConvertInt32(f0) + TVec.ConvertInt32(f1), ref scales, 1 * width, rows, activationScale, negativeZero);
            if (third) g = Dequantized(g, TVec.ConvertInt32(g0) + TVec.ConvertInt32(g1), ref scales, 2 * width, rows, activationScale, negativeZero);
            if (fourth) o = Dequantized(o, TVec.ConvertInt32(o0) + TVec.ConvertInt32(o1), ref scales, 3 * width, rows, activationScale, negativeZero);
        }
    }

    /// <summary>
    /// One tile of <see cref="TileRows"/> rows for one block of Int8 panels (the quantised twin of <see cref="RunTile"/>):
    /// the pre-activations live in a stack tile (L1), each part's integer sums are folded into it once, then the
    /// fused cell epilogue or a plain store follows.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunQuantizedTile<TGates>(ref float init, int initStride,
        ref byte panelX, ref float x, int xStride, int depthX, ref byte panelH, ref float h, int hStride, int depthH,
        bool fuseCell, ref float c, int cStride, ref float hOut, int hOutStride, bool keepGates, Activation gruGate) where TGates : struct, IGateLayout
    {
        int width = TVec.Count, gateStride = Slots * width, panelRows = TGates.Count * width, tileRows = TileRows;
        bool four = tileRows == 4, third = TGates.Count > 2, fourth = TGates.Count > 3;
        Span<float> tile = stackalloc float[4 * Slots * TVec.Count];
        ref float pre = ref MemoryMarshal.GetReference(tile);
        for (int r = 0; r < tileRows; r++)
            MemoryMarshal.CreateReadOnlySpan(ref Unsafe.Add(ref init, r * initStride), gateStride).CopyTo(tile.Slice(r * gateStride));

        for (int part = 0; part < 2; part++)
        {
            ref byte panel = ref part == 0 ? ref panelX : ref panelH;
            ref float source0 = ref part == 0 ? ref x : ref h;
            int stride = part == 0 ? xStride : hStride;
            int depth = part == 0 ? depthX : depthH;
            if (depth == 0) continue;
            ref float source1 = ref Unsafe.Add(ref source0, stride);
            ref float source2 = ref Unsafe.Add(ref source1, four ? stride : 0);
            ref float source3 = ref Unsafe.Add(ref source2, four ? stride : 0);
            ref byte q0 = ref Unsafe.As<float, byte>(ref Unsafe.Add(ref source0, QuantizedRows.Header));
            ref byte q1 = ref Unsafe.As<float, byte>(ref Unsafe.Add(ref source1, QuantizedRows.Header));
            ref byte q2 = ref Unsafe.As<float, byte>(ref Unsafe.Add(ref source2, QuantizedRows.Header));
            ref byte q3 = ref Unsafe.As<float, byte>(ref Unsafe.Add(ref source3, QuantizedRows.Header));
            TVec ai0 = TVec.Zero, af0 = TVec.Zero, ag0 = TVec.Zero, ao0 = TVec.Zero, ai1 = TVec.Zero, af1 = TVec.Zero, ag1 = TVec.Zero, ao1 = TVec.Zero;
            TVec ai2 = TVec.Zero, af2 = TVec.Zero, ag2 = TVec.Zero, ao2 = TVec.Zero, ai3 = TVec.Zero, af3 = TVec.Zero, ag3 = TVec.Zero, ao3 = TVec.Zero;
            int groups = Int8Weights.Groups(depth);
            for (int group = 0; group < groups; group++)
            {
                ref byte w = ref Unsafe.Add(ref panel, (nint)group * 4 * panelRows);
                TVec s0 = TVec.BroadcastGroup(in Unsafe.Add(ref q0, 4 * group)), s1 = TVec.BroadcastGroup(in Unsafe.Add(ref q1, 4 * group));
                TVec s2 = four ? TVec.BroadcastGroup(in Unsafe.Add(ref q2, 4 * group)) : TVec.Zero, s3 = four ? TVec.BroadcastGroup(in Unsafe.Add(ref q3, 4 * group)) : TVec.Zero;
                TVec wv = TVec.LoadGroups(in w);
                ai0 = TVec.DotAccumulate(ai0, s0, wv);
                ai1 = TVec.DotAccumulate(ai1, s1, wv);
                if (four) ai2 = TVec.DotAccumulate(ai2, s2, wv);
                if (four) ai3 = TVec.DotAccumulate(ai3, s3, wv);
                wv = TVec.LoadGroups(in Unsafe.Add(ref w, 4 * width));
                af0 = TVec.DotAccumulate(af0, s0, wv);
                af1 = TVec.DotAccumulate(af1, s1, wv);
                if (four) af2 = TVec.DotAccumulate(af2, s2, wv);
                if (four) af3 = TVec.DotAccumulate(af3, s3, wv);
                if (third)
                {
                    wv = TVec.LoadGroups(in Unsafe.Add(ref w, 8 * width));
                    ag0 = TVec.DotAccumulate(ag0, s0, wv);
                    ag1 = TVec.DotAccumulate(ag1, s1, wv);
                    if (four) ag2 = TVec.DotAccumulate(ag2, s2, wv);
                    if (four) ag3 = TVec.DotAccumulate(ag3, s3, wv);
                }

                if (fourth)
                {
                    wv = TVec.LoadGroups(in Unsafe.Add(ref w, 12 * width));
                    ao0 = TVec.DotAccumulate(ao0, s0, wv);
                    ao1 = TVec.DotAccumulate(ao1, s1, wv);
                    if (four) ao2 = TVec.DotAccumulate(ao2, s2, wv);
                    if (four) ao3 = TVec.DotAccumulate(ao3, s3, wv);
                }
            }

            ref float scales = ref RowScales(ref panel, groups, panelRows);
            FoldTileRow<TGates>(ref pre, ai0, af0, ag0, ao0, ref scales, ref source0);
            FoldTileRow<TGates>(ref Unsafe.Add(ref pre, gateStride), ai1, af1, ag1, ao1, ref scales, ref source1);
            if (four)
            {
                FoldTileRow<TGates>(ref Unsafe.Add(ref pre, 2 * gateStride), ai2, af2, ag2, ao2, ref scales, ref source2);
                FoldTileRow<TGates>(ref Unsafe.Add(ref pre, 3 * gateStride), ai3, af3, ag3, ao3, ref scales, ref source3);
            }
        }

        if (fuseCell)
        {
            FusedUpdate<TGates>(ref pre, tileRows, ref c, cStride, ref hOut, hOutStride, keepGates, ref init, initStride, gruGate);
            return;
        }

        for (int r = 0; r < tileRows; r++)
            tile.Slice(r * gateStride, gateStride).CopyTo(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref c, r * cStride), gateStride));
    }

    /// <summary>y[r] = W_hr·h[r] from an Int8 panel (one gate) and quantised rows of h; see <see cref="Project"/>.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void QuantizedProject(PackedPanel panel, ref float h, int hRowStride, ref float y, int yRowStride, int rows, ReadOnlySpan<byte> active, int blockStart, int blockEnd)
    {
        int width = TVec.Count, depth = panel.Depth, groups = Int8Weights.Groups(depth);
        for (int row = 0; row < rows; row++)
        {
            if (!active.IsEmpty && active[row] == 0) continue;
            ref float source = ref Unsafe.Add(ref h, (nint)row * hRowStride);
            ref byte activations = ref Unsafe.As<float, byte>(ref Unsafe.Add(ref source, QuantizedRows.Header));
            for (int block = blockStart; block < blockEnd; block++)
            {
                ref byte weights = ref Unsafe.Add(ref panel.Start, block * panel.BlockBytes);
                TVec even = TVec.Zero, odd = TVec.Zero;
                int group = 0;
                for (; group + 2 <= groups; group += 2)
                {
                    even = TVec.DotAccumulate(even, TVec.BroadcastGroup(in Unsafe.Add(ref activations, 4 * group)), TVec.LoadGroups(in Unsafe.Add(ref weights, (nint)group * 4 * width)));
                    odd = TVec.DotAccumulate(odd, TVec.BroadcastGroup(in Unsafe.Add(ref activations, 4 * group + 4)), TVec.LoadGroups(in Unsafe.Add(ref weights, (nint)(group + 1) * 4 * width)));
                }

                if (group < groups) even = TVec.DotAccumulate(even, TVec.BroadcastGroup(in Unsafe.Add(ref activations, 4 * group)), TVec.LoadGroups(in Unsafe.Add(ref weights, (nint)group * 4 * width)));
                TVec projected = Dequantized(TVec.Zero, TVec.ConvertInt32(even) + TVec.ConvertInt32(odd), ref Unsafe.As<byte, float>(ref Unsafe.Add(ref weights, (nint)groups * 4 * width)), 0, width,
                    TVec.Create(source), TVec.Create(-Unsafe.Add(ref source, 1)));
                TVec.Store(projected, ref Unsafe.Add(ref y, (nint)row * yRowStride + block * width));
            }
        }
    }

    /// <summary>Adds one row's integer sums of the panel's gates, dequantised, to their slots of the row's pre-activations in the tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldTileRow<TGates>(ref float pre, TVec i, TVec f, TVec g, TVec o, ref float scales, ref float quantizedRow) where TGates : struct, IGateLayout
    {
        int width = TVec.Count, rows = TGates.Count * width;
        TVec activationScale = TVec.Create(quantizedRow), negativeZero = TVec.Create(-Unsafe.Add(ref quantizedRow, 1));
        FoldSlot(ref Unsafe.Add(ref pre, TGates.Slot(0) * width), i, ref scales, 0, rows, activationScale, negativeZero);
        FoldSlot(ref Unsafe.Add(ref pre, TGates.Slot(1) * width), f, ref scales, width, rows, activationScale, negativeZero);
        if (TGates.Count > 2) FoldSlot(ref Unsafe.Add(ref pre, TGates.Slot(2) * width), g, ref scales, 2 * width, rows, activationScale, negativeZero);
        if (TGates.Count > 3) FoldSlot(ref Unsafe.Add(ref pre, TGates.Slot(3) * width), o, ref scales, 3 * width, rows, activationScale, negativeZero);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FoldSlot(ref float slot, TVec products, ref float scales, int offset, int blockRows, TVec activationScale, TVec negativeZero) =>
        TVec.Store(Dequantized(TVec.Load(in slot), TVec.ConvertInt32(products), ref scales, offset, blockRows, activationScale, negativeZero), ref slot);

    /// <summary>
    /// sum + (activation scale · row scale) · (products − zeroPoint · row sum) for the rows at <paramref name="offset"/> of a
    /// block of <paramref name="blockRows"/> rows: its row scales start at <paramref name="scales"/>, its row sums follow
    /// them (see <see cref="Int8Weights"/>).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Dequantized(TVec sum, TVec products, ref float scales, int offset, int blockRows, TVec activationScale, TVec negativeZero)
    {
        TVec rowScale = TVec.Load(in Unsafe.Add(ref scales, offset)), rowSum = TVec.Load(in Unsafe.Add(ref scales, blockRows + offset));
        return TVec.MultiplyAdd(activationScale * rowScale, TVec.MultiplyAdd(negativeZero, rowSum, products), sum);
    }

    /// <summary>The per-row scales of a block of <paramref name="rows"/> rows, after its <paramref name="groups"/> groups of weights.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float RowScales(ref byte block, int groups, int rows) => ref Unsafe.As<byte, float>(ref Unsafe.Add(ref block, (nint)groups * 4 * rows));
}
