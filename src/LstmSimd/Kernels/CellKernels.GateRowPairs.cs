using System.Runtime.CompilerServices;

namespace LstmSimd.Kernels;

/// <summary>
/// The original GRU's first product (r and z, a two-gate panel: <see cref="GruGateRows"/>) over two blocks at once. A tile
/// of one two-gate block keeps only eight chains (rows × 2 gates) behind each set of broadcasts, too few to hide the FMA
/// latency and to pay for the loop's loads; two blocks give the sixteen chains of an LSTM tile (rows × 2 blocks × 2 gates),
/// each still summed over k in one chain in the same order, so a row gets the same bits in a pair, a tile or alone.
/// </summary>
internal static partial class CellKernels<TVec, TFormat>
{
    /// <summary>Whether a step over <typeparamref name="TGates"/> panels runs its whole tiles two blocks at a time (<see cref="TileBlockPair"/>). A JIT-time constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool PairsBlocks<TGates>() where TGates : struct, IGateLayout => typeof(TGates) == typeof(GruGateRows) && !TFormat.Quantized;

    /// <summary>
    /// The whole tiles of blocks <paramref name="first"/> and <paramref name="second"/> (adjacent, in the step's order) of a step
    /// over the two-gate panel, widened first for 16-bit panels (<paramref name="widen"/>: both blocks into <paramref name="wide"/>,
    /// <paramref name="wideFloats"/> apart, each as <see cref="Step"/> lays out one; <paramref name="wideArgs"/> reads the prescaled rows).
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TileBlockPair(scoped in CellStepArgs a, scoped in CellStepArgs wideArgs, int first, int second, int tiled,
        bool widen, ref float wide, int wideXFloats, int wideFloats)
    {
        int panelRows = GruGateRows.Count * TVec.Count;
        nint xBytes = TFormat.BlockBytes(a.DepthX, panelRows), hBytes = TFormat.BlockBytes(a.DepthH, panelRows);
        ref byte panelXA = ref Unsafe.Add(ref a.PanelX, first * xBytes), panelXB = ref Unsafe.Add(ref a.PanelX, second * xBytes);
        ref byte panelHA = ref Unsafe.Add(ref a.PanelH, first * hBytes), panelHB = ref Unsafe.Add(ref a.PanelH, second * hBytes);
        if (!widen)
        {
            PairTiles(a, first, second, ref panelXA, ref panelXB, ref panelHA, ref panelHB, tiled);
            return;
        }

        ref float wideB = ref Unsafe.Add(ref wide, wideFloats);
        WidenBlock(ref panelXA, a.DepthX, panelRows, ref wide);
        WidenBlock(ref panelHA, a.DepthH, panelRows, ref Unsafe.Add(ref wide, wideXFloats));
        WidenBlock(ref panelXB, a.DepthX, panelRows, ref wideB);
        WidenBlock(ref panelHB, a.DepthH, panelRows, ref Unsafe.Add(ref wideB, wideXFloats));
        CellKernels<TVec, WidenedWeights<TFormat>>.PairTiles(wideArgs, first, second,
            ref Unsafe.As<float, byte>(ref wide), ref Unsafe.As<float, byte>(ref wideB),
            ref Unsafe.As<float, byte>(ref Unsafe.Add(ref wide, wideXFloats)), ref Unsafe.As<float, byte>(ref Unsafe.Add(ref wideB, wideXFloats)), tiled);
    }

    /// <summary>The whole tiles of active rows over two blocks of the two-gate panel (their parts at the four panel refs, in this class's format), as <see cref="TileBlock"/> runs one.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void PairTiles(scoped in CellStepArgs a, int first, int second, ref byte panelXA, ref byte panelXB, ref byte panelHA, ref byte panelHB, int tiled)
    {
        int gateStride = Slots * TVec.Count;
        for (int row = 0; row < tiled; row += TileRows)
        {
            if (!a.Active.IsEmpty && !AllActive(a.Active.Slice(row, TileRows))) continue;
            if (a.InitRowStride != 0)
            {
                // The next tile's start values (of the next pair of blocks after the last tile), both blocks.
                bool lastTile = row + TileRows >= tiled;
                int step = a.Descending ? -2 : 2;
                int nextFirst = lastTile ? first + step : first, nextSecond = lastTile ? second + step : second;
                ref float nextRow = ref Unsafe.Add(ref a.Init, (nint)(lastTile ? 0 : row + TileRows) * a.InitRowStride);
                if (nextFirst >= a.BlockStart && nextFirst < a.BlockEnd) PrefetchTileStart(ref Unsafe.Add(ref nextRow, nextFirst * gateStride), a.InitRowStride);
                if (nextSecond >= a.BlockStart && nextSecond < a.BlockEnd) PrefetchTileStart(ref Unsafe.Add(ref nextRow, nextSecond * gateStride), a.InitRowStride);
            }

            ref float init = ref Unsafe.Add(ref a.Init, (nint)row * a.InitRowStride);
            ref float pre = ref Unsafe.Add(ref a.PreActivations, (nint)row * a.PreActivationsRowStride);
            RunGateRowPairTile(ref Unsafe.Add(ref init, first * gateStride), ref Unsafe.Add(ref init, second * gateStride), a.InitRowStride,
                ref panelXA, ref panelXB, ref Unsafe.Add(ref a.X, (nint)row * a.XRowStride), a.XRowStride, a.DepthX,
                ref panelHA, ref panelHB, ref Unsafe.Add(ref a.H, (nint)row * a.HRowStride), a.HRowStride, a.DepthH,
                ref Unsafe.Add(ref pre, first * gateStride), ref Unsafe.Add(ref pre, second * gateStride), a.PreActivationsRowStride);
        }
    }

    /// <summary>
    /// One tile of <see cref="TileRows"/> rows over blocks A and B of the two-gate panel: init + x·panelX + h·panelH (either depth
    /// may be 0) into slots 0 and 1 (r, z) of each block's pre-activations at <paramref name="preA"/> and <paramref name="preB"/>,
    /// slots 2 and 3 carried from the start values (see <see cref="RunTile"/>, whose sums these are). The k loop takes a whole
    /// pair of inputs per iteration, so each weight vector is a load at a constant offset from one pointer per block.
    /// </summary>
    // Its own compilation unit, as RunTile: compiled fully optimised from the first call.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunGateRowPairTile(ref float initA, ref float initB, int initStride,
        ref byte panelXA, ref byte panelXB, ref float x, int xStride, int depthX,
        ref byte panelHA, ref byte panelHB, ref float h, int hStride, int depthH, ref float preA, ref float preB, int preStride)
    {
        int width = TVec.Count, panelRows = GruGateRows.Count * width;
        bool four = TileRows == 4;
        ref float initA1 = ref Unsafe.Add(ref initA, initStride), initA2 = ref Unsafe.Add(ref initA1, initStride), initA3 = ref Unsafe.Add(ref initA2, four ? initStride : 0);
        ref float initB1 = ref Unsafe.Add(ref initB, initStride), initB2 = ref Unsafe.Add(ref initB1, initStride), initB3 = ref Unsafe.Add(ref initB2, four ? initStride : 0);
        // r and z of block A and B, rows 0–3.
        TVec ra0 = Scaled(Start<GruGateRows>(ref initA, 0)), za0 = Scaled(Start<GruGateRows>(ref initA, 1));
        TVec ra1 = Scaled(Start<GruGateRows>(ref initA1, 0)), za1 = Scaled(Start<GruGateRows>(ref initA1, 1));
        TVec ra2 = Scaled(Start<GruGateRows>(ref initA2, 0)), za2 = Scaled(Start<GruGateRows>(ref initA2, 1));
        TVec rb0 = Scaled(Start<GruGateRows>(ref initB, 0)), zb0 = Scaled(Start<GruGateRows>(ref initB, 1));
        TVec rb1 = Scaled(Start<GruGateRows>(ref initB1, 0)), zb1 = Scaled(Start<GruGateRows>(ref initB1, 1));
        TVec rb2 = Scaled(Start<GruGateRows>(ref initB2, 0)), zb2 = Scaled(Start<GruGateRows>(ref initB2, 1));
        TVec ra3 = TVec.Zero, za3 = TVec.Zero, rb3 = TVec.Zero, zb3 = TVec.Zero;
        if (four)
        {
            (ra3, za3) = (Scaled(Start<GruGateRows>(ref initA3, 0)), Scaled(Start<GruGateRows>(ref initA3, 1)));
            (rb3, zb3) = (Scaled(Start<GruGateRows>(ref initB3, 0)), Scaled(Start<GruGateRows>(ref initB3, 1)));
        }

        nint pairBytes = TFormat.PairBytes(panelRows);
        for (int part = 0; part < 2; part++)
        {
            ref byte wa = ref part == 0 ? ref panelXA : ref panelHA;
            ref byte wb = ref part == 0 ? ref panelXB : ref panelHB;
            ref float source0 = ref part == 0 ? ref x : ref h;
            int stride = part == 0 ? xStride : hStride;
            int depth = part == 0 ? depthX : depthH;
            ref float source1 = ref Unsafe.Add(ref source0, stride);
            ref float source2 = ref Unsafe.Add(ref source1, stride);
            ref float source3 = ref Unsafe.Add(ref source2, four ? stride : 0);
            int k = 0;
            for (; k + 2 <= depth; k += 2)
            {
                // A whole pair per iteration: k's half, then k + 1's, at constant offsets from wa and wb.
                TVec s0 = Broadcast(ref source0, k), s1 = Broadcast(ref source1, k), s2 = Broadcast(ref source2, k);
                TVec s3 = four ? Broadcast(ref source3, k) : TVec.Zero;
                TVec wv = TFormat.Load<TVec>(ref wa, 0, panelRows, 0);
                ra0 = TVec.MultiplyAdd(wv, s0, ra0); ra1 = TVec.MultiplyAdd(wv, s1, ra1); ra2 = TVec.MultiplyAdd(wv, s2, ra2);
                if (four) ra3 = TVec.MultiplyAdd(wv, s3, ra3);
                wv = TFormat.Load<TVec>(ref wa, width, panelRows, 0);
                za0 = TVec.MultiplyAdd(wv, s0, za0); za1 = TVec.MultiplyAdd(wv, s1, za1); za2 = TVec.MultiplyAdd(wv, s2, za2);
                if (four) za3 = TVec.MultiplyAdd(wv, s3, za3);
                wv = TFormat.Load<TVec>(ref wb, 0, panelRows, 0);
                rb0 = TVec.MultiplyAdd(wv, s0, rb0); rb1 = TVec.MultiplyAdd(wv, s1, rb1); rb2 = TVec.MultiplyAdd(wv, s2, rb2);
                if (four) rb3 = TVec.MultiplyAdd(wv, s3, rb3);
                wv = TFormat.Load<TVec>(ref wb, width, panelRows, 0);
                zb0 = TVec.MultiplyAdd(wv, s0, zb0); zb1 = TVec.MultiplyAdd(wv, s1, zb1); zb2 = TVec.MultiplyAdd(wv, s2, zb2);
                if (four) zb3 = TVec.MultiplyAdd(wv, s3, zb3);

                s0 = Broadcast(ref source0, k + 1);
                s1 = Broadcast(ref source1, k + 1);
                s2 = Broadcast(ref source2, k + 1);
                s3 = four ? Broadcast(ref source3, k + 1) : TVec.Zero;
                wv = TFormat.Load<TVec>(ref wa, 0, panelRows, 1);
                ra0 = TVec.MultiplyAdd(wv, s0, ra0); ra1 = TVec.MultiplyAdd(wv, s1, ra1); ra2 = TVec.MultiplyAdd(wv, s2, ra2);
                if (four) ra3 = TVec.MultiplyAdd(wv, s3, ra3);
                wv = TFormat.Load<TVec>(ref wa, width, panelRows, 1);
                za0 = TVec.MultiplyAdd(wv, s0, za0); za1 = TVec.MultiplyAdd(wv, s1, za1); za2 = TVec.MultiplyAdd(wv, s2, za2);
                if (four) za3 = TVec.MultiplyAdd(wv, s3, za3);
                wv = TFormat.Load<TVec>(ref wb, 0, panelRows, 1);
                rb0 = TVec.MultiplyAdd(wv, s0, rb0); rb1 = TVec.MultiplyAdd(wv, s1, rb1); rb2 = TVec.MultiplyAdd(wv, s2, rb2);
                if (four) rb3 = TVec.MultiplyAdd(wv, s3, rb3);
                wv = TFormat.Load<TVec>(ref wb, width, panelRows, 1);
                zb0 = TVec.MultiplyAdd(wv, s0, zb0); zb1 = TVec.MultiplyAdd(wv, s1, zb1); zb2 = TVec.MultiplyAdd(wv, s2, zb2);
                if (four) zb3 = TVec.MultiplyAdd(wv, s3, zb3);
                wa = ref Unsafe.Add(ref wa, pairBytes);
                wb = ref Unsafe.Add(ref wb, pairBytes);
            }

            if (k < depth)
            {
                TVec s0 = Broadcast(ref source0, k), s1 = Broadcast(ref source1, k), s2 = Broadcast(ref source2, k);
                TVec s3 = four ? Broadcast(ref source3, k) : TVec.Zero;
                TVec wv = TFormat.Load<TVec>(ref wa, 0, panelRows, 0);
                ra0 = TVec.MultiplyAdd(wv, s0, ra0); ra1 = TVec.MultiplyAdd(wv, s1, ra1); ra2 = TVec.MultiplyAdd(wv, s2, ra2);
                if (four) ra3 = TVec.MultiplyAdd(wv, s3, ra3);
                wv = TFormat.Load<TVec>(ref wa, width, panelRows, 0);
                za0 = TVec.MultiplyAdd(wv, s0, za0); za1 = TVec.MultiplyAdd(wv, s1, za1); za2 = TVec.MultiplyAdd(wv, s2, za2);
                if (four) za3 = TVec.MultiplyAdd(wv, s3, za3);
                wv = TFormat.Load<TVec>(ref wb, 0, panelRows, 0);
                rb0 = TVec.MultiplyAdd(wv, s0, rb0); rb1 = TVec.MultiplyAdd(wv, s1, rb1); rb2 = TVec.MultiplyAdd(wv, s2, rb2);
                if (four) rb3 = TVec.MultiplyAdd(wv, s3, rb3);
                wv = TFormat.Load<TVec>(ref wb, width, panelRows, 0);
                zb0 = TVec.MultiplyAdd(wv, s0, zb0); zb1 = TVec.MultiplyAdd(wv, s1, zb1); zb2 = TVec.MultiplyAdd(wv, s2, zb2);
                if (four) zb3 = TVec.MultiplyAdd(wv, s3, zb3);
            }
        }

        StoreSlots<GruGateRows>(Unscaled(ra0), Unscaled(za0), default, default, ref preA, ref initA);
        StoreSlots<GruGateRows>(Unscaled(ra1), Unscaled(za1), default, default, ref Unsafe.Add(ref preA, preStride), ref initA1);
        StoreSlots<GruGateRows>(Unscaled(ra2), Unscaled(za2), default, default, ref Unsafe.Add(ref preA, 2 * preStride), ref initA2);
        StoreSlots<GruGateRows>(Unscaled(rb0), Unscaled(zb0), default, default, ref preB, ref initB);
        StoreSlots<GruGateRows>(Unscaled(rb1), Unscaled(zb1), default, default, ref Unsafe.Add(ref preB, preStride), ref initB1);
        StoreSlots<GruGateRows>(Unscaled(rb2), Unscaled(zb2), default, default, ref Unsafe.Add(ref preB, 2 * preStride), ref initB2);
        if (four)
        {
            StoreSlots<GruGateRows>(Unscaled(ra3), Unscaled(za3), default, default, ref Unsafe.Add(ref preA, 3 * preStride), ref initA3);
            StoreSlots<GruGateRows>(Unscaled(rb3), Unscaled(zb3), default, default, ref Unsafe.Add(ref preB, 3 * preStride), ref initB3);
        }
    }
}
