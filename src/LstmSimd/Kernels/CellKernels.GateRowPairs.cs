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
        int panelRows = GruGateRows.Count * TVec.Count;
        bool four = TileRows == 4;
        ref float initA1 = ref Unsafe.Add(ref initA, initStride), initA2 = ref Unsafe.Add(ref initA1, initStride), initA3 = ref Unsafe.Add(ref initA2, four ? initStride : 0);
        ref float initB1 = ref Unsafe.Add(ref initB, initStride), initB2 = ref Unsafe.Add(ref initB1, initStride), initB3 = ref Unsafe.Add(ref initB2, four ? initStride : 0);
        // r and z of block A and B, rows 0–3.
        TVec ra0 = Start<GruGateRows>(ref initA, 0), za0 = Start<GruGateRows>(ref initA, 1), rb0 = Start<GruGateRows>(ref initB, 0), zb0 = Start<GruGateRows>(ref initB, 1);
        TVec ra1 = Start<GruGateRows>(ref initA1, 0), za1 = Start<GruGateRows>(ref initA1, 1), rb1 = Start<GruGateRows>(ref initB1, 0), zb1 = Start<GruGateRows>(ref initB1, 1);
        TVec ra2 = Start<GruGateRows>(ref initA2, 0), za2 = Start<GruGateRows>(ref initA2, 1), rb2 = Start<GruGateRows>(ref initB2, 0), zb2 = Start<GruGateRows>(ref initB2, 1);
        TVec ra3 = TVec.Zero, za3 = TVec.Zero, rb3 = TVec.Zero, zb3 = TVec.Zero;
        if (four) (ra3, za3, rb3, zb3) = (Start<GruGateRows>(ref initA3, 0), Start<GruGateRows>(ref initA3, 1), Start<GruGateRows>(ref initB3, 0), Start<GruGateRows>(ref initB3, 1));

        // Scaled formats only (a constant condition, as in RunTile: the JIT drops the block and its inlinees for exact formats,
        // which keeps this kernel inside the JIT's inline budget).
        if (TFormat.ActivationScale != 1f)
        {
            (ra0, za0, rb0, zb0) = (Scaled(ra0), Scaled(za0), Scaled(rb0), Scaled(zb0));
            (ra1, za1, rb1, zb1) = (Scaled(ra1), Scaled(za1), Scaled(rb1), Scaled(zb1));
            (ra2, za2, rb2, zb2) = (Scaled(ra2), Scaled(za2), Scaled(rb2), Scaled(zb2));
            if (four) (ra3, za3, rb3, zb3) = (Scaled(ra3), Scaled(za3), Scaled(rb3), Scaled(zb3));
        }

        TVec unused = TVec.Zero; // the third and fourth gates' accumulators of TileProducts, which a two-gate panel does not touch
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
            // Pairs of k with the half a constant, as RunTile's (block A's products of k, then block B's, then k + 1's).
            nint k = 0;
            for (; k + 2 <= depth; k += 2, wa = ref Unsafe.Add(ref wa, pairBytes), wb = ref Unsafe.Add(ref wb, pairBytes))
            {
                TileProducts<GruGateRows>(ref wa, 0, ref source0, ref source1, ref source2, ref source3, k,
                    ref ra0, ref za0, ref unused, ref unused, ref ra1, ref za1, ref unused, ref unused, ref ra2, ref za2, ref unused, ref unused, ref ra3, ref za3, ref unused, ref unused);
                TileProducts<GruGateRows>(ref wb, 0, ref source0, ref source1, ref source2, ref source3, k,
                    ref rb0, ref zb0, ref unused, ref unused, ref rb1, ref zb1, ref unused, ref unused, ref rb2, ref zb2, ref unused, ref unused, ref rb3, ref zb3, ref unused, ref unused);
                TileProducts<GruGateRows>(ref wa, 1, ref source0, ref source1, ref source2, ref source3, k + 1,
                    ref ra0, ref za0, ref unused, ref unused, ref ra1, ref za1, ref unused, ref unused, ref ra2, ref za2, ref unused, ref unused, ref ra3, ref za3, ref unused, ref unused);
                TileProducts<GruGateRows>(ref wb, 1, ref source0, ref source1, ref source2, ref source3, k + 1,
                    ref rb0, ref zb0, ref unused, ref unused, ref rb1, ref zb1, ref unused, ref unused, ref rb2, ref zb2, ref unused, ref unused, ref rb3, ref zb3, ref unused, ref unused);
            }

            if (k < depth)
            {
                TileProducts<GruGateRows>(ref wa, 0, ref source0, ref source1, ref source2, ref source3, k,
                    ref ra0, ref za0, ref unused, ref unused, ref ra1, ref za1, ref unused, ref unused, ref ra2, ref za2, ref unused, ref unused, ref ra3, ref za3, ref unused, ref unused);
                TileProducts<GruGateRows>(ref wb, 0, ref source0, ref source1, ref source2, ref source3, k,
                    ref rb0, ref zb0, ref unused, ref unused, ref rb1, ref zb1, ref unused, ref unused, ref rb2, ref zb2, ref unused, ref unused, ref rb3, ref zb3, ref unused, ref unused);
            }
        }

        StorePairTileBlock(ra0, za0, ra1, za1, ra2, za2, ra3, za3, ref preA, preStride, ref initA, initStride);
        StorePairTileBlock(rb0, zb0, rb1, zb1, rb2, zb2, rb3, zb3, ref preB, preStride, ref initB, initStride);
    }

    /// <summary>
    /// One block's r and z of a <see cref="RunGateRowPairTile"/> (rows 0–3), out of the scaled domain, into slots 0 and 1 of the
    /// rows at <paramref name="pre"/>, slots 2 and 3 carried from <paramref name="init"/>'s.
    /// </summary>
    // Out of line: inlined, the tile's loop had spent the JIT's inline budget and these stores became calls per row.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void StorePairTileBlock(TVec r0, TVec z0, TVec r1, TVec z1, TVec r2, TVec z2, TVec r3, TVec z3, ref float pre, int preStride, ref float init, int initStride)
    {
        StoreSlots<GruGateRows>(Unscaled(r0), Unscaled(z0), default, default, ref pre, ref init);
        StoreSlots<GruGateRows>(Unscaled(r1), Unscaled(z1), default, default, ref Unsafe.Add(ref pre, preStride), ref Unsafe.Add(ref init, initStride));
        StoreSlots<GruGateRows>(Unscaled(r2), Unscaled(z2), default, default, ref Unsafe.Add(ref pre, 2 * preStride), ref Unsafe.Add(ref init, 2 * initStride));
        if (TileRows == 4) StoreSlots<GruGateRows>(Unscaled(r3), Unscaled(z3), default, default, ref Unsafe.Add(ref pre, 3 * preStride), ref Unsafe.Add(ref init, 3 * initStride));
    }
}
