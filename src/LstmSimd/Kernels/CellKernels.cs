using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

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
    public ref byte PanelX;
    public int DepthX;
    public ref float X;
    public int XRowStride;
    public ref byte PanelH;
    public int DepthH;
    public ref float H;
    public int HRowStride;

    /// <summary>
    /// <see cref="PanelH"/> already widened to fp32 for every step of the call (<see cref="CellKernels{TVec, TFormat}.WidenPanel"/>),
    /// which a step's whole tiles read instead of widening each block again; a null ref to widen per step (or for formats
    /// the tiles read as they are).
    /// </summary>
    public ref float WidePanelH;

    /// <summary>
    /// The state the fused update reads: c for the LSTM (updated in place); for a GRU (<see cref="Layout"/> GruRecurrent, not
    /// <see cref="PreActivationsOnly"/>) h_{t−1} in fp32 rows, which <see cref="H"/> may not be (Int8 quantises it).
    /// </summary>
    public ref float C;
    public int CRowStride;
    public ref float HOut;
    public int HOutRowStride;
    public int Rows;
    public int BlockStart;
    public int BlockEnd;

    /// <summary>
    /// The gates the panels hold (<see cref="PackedPanel.Layout"/>); with both depths nonzero both panels must share it, so a
    /// GRU's streaming step (whose W_ih and W_hh hold different slots) runs as two calls. The fused update is the LSTM's cell
    /// for the LSTM's panels and the GRU's for a GRU's recurrent panel; other panels stop at the pre-activations.
    /// </summary>
    public GateLayout Layout;

    /// <summary>A fused GRU update's gate activation (of r and z).</summary>
    public Activation GruGate;

    /// <summary>Per row: 1 to compute, 0 to leave its c and h untouched (a finished sequence). Empty: all rows.</summary>
    public ReadOnlySpan<byte> Active;

    /// <summary>
    /// Training: also overwrite each row's pre-activations at <see cref="Init"/> (which must then be per-row, not a
    /// shared bias) with the activated gates i, f, g, o that the backward pass needs.
    /// </summary>
    public bool KeepGates;

    /// <summary>
    /// Stop at the pre-activations: write them to <see cref="PreActivations"/> (rows <see cref="PreActivationsRowStride"/>
    /// apart; may be <see cref="Init"/> itself) and leave c and h alone, for a cell variant's own epilogue (ONNX cells).
    /// </summary>
    public bool PreActivationsOnly;

    public ref float PreActivations;
    public int PreActivationsRowStride;

    /// <summary>
    /// Visit the blocks from the last to the first. Callers alternate it from one step to the next (a serpentine): the
    /// blocks a step reads first are then the ones the step before read last, still in L1 or L2 when the panel is larger
    /// than the cache, which an ascending sweep would have evicted (LRU). Every block's result is the same either way.
    /// </summary>
    public bool Descending;
}

/// <summary>
/// A whole batch-1 sequence of the standard cell (or a GRU) over hoisted pre-activations (see <see cref="CellKernels{TVec, TFormat}.Sequence"/>).
/// </summary>
internal ref struct SequenceArgs
{
    /// <summary>Step 0's pre-activations (bias + x·W_ih), one padded gate row; step t's are <see cref="InitStepStride"/> floats further.</summary>
    public ref float Init;
    public int InitStepStride;
    public int Steps;

    /// <summary>Run the steps from the last to the first (the reverse direction of a bidirectional layer).</summary>
    public bool Reverse;

    /// <summary>The recurrent panel's data, which the kernel set fills in from the panel it is given (see <see cref="KernelSet.Sequence"/>).</summary>
    public ref byte PanelH;
    public int DepthH;

    /// <summary>The hidden-unit blocks this call computes: all of them, or a team member's share.</summary>
    public int BlockStart, BlockEnd;

    /// <summary>With a share of the blocks: where the members meet after each step, as the next reads all of h (null alone).</summary>
    public StepBarrier? Barrier;

    /// <summary>A GRU layer (reset gate after the recurrent product): each step ends in the GRU's update with gates
    /// <see cref="GruGate"/> instead of the LSTM's cell (<see cref="C"/> is then unused).</summary>
    public bool Gru;
    public Activation GruGate;

    /// <summary>h before step 0, padded; on return it holds h after the last step. <see cref="HSpare"/> is the other buffer of the ping-pong.</summary>
    public ref float H;
    public ref float HSpare;

    /// <summary>c, padded, updated in place.</summary>
    public ref float C;

    /// <summary>Where step 0's h goes (its first unit); step t's row is <see cref="OutputStepStride"/> floats further, <see cref="OutputCount"/> floats long (all units, of which this call writes its blocks').</summary>
    public ref float Output;
    public int OutputStepStride;
    public int OutputCount;
}

/// <summary>
/// The LSTM micro-kernels for one vector width: the recurrent (and, for streaming steps, input) products
/// over gate-interleaved panels with the cell update fused in registers, the hoisted input projection
/// GEMM and the projection GEMM. Written once, generic over <see cref="ISimdVector{TSelf}"/> and over the
/// <see cref="IWeightFormat"/> the panels are stored in (panels are addressed in elements from a <c>ref byte</c>;
/// every weight vector is loaded through <typeparamref name="TFormat"/>, so fp32 compiles to plain loads).
/// </summary>
/// <remarks>
/// Register blocking: a tile of batch rows × four gates (see <c>TileRows</c>: 4 rows where there are 32 vector
/// registers, 3 where there are 16) shares each weight load; a single row (batch 1, bound by how fast weights
/// stream) runs two blocks at once instead, so eight FMA chains hide the latency. Both sum each gate in one chain over
/// k, so a row's answer has the same bits in a tile or alone.
/// </remarks>
internal static partial class CellKernels<TVec, TFormat> where TVec : struct, ISimdVector<TVec> where TFormat : struct, IWeightFormat
{
    private const int Slots = GateLayouts.Slots;

    /// <summary>
    /// One cell step over <see cref="CellStepArgs.Rows"/> rows and the block range given. Whole tiles of active rows
    /// run block by block (each panel block stays in cache across the tiles); the remaining rows (batch 1, a
    /// batch's tail, tiles with a finished sequence) run one row at a time over all blocks in a single call.
    /// </summary>
    public static void Step(scoped in CellStepArgs a)
    {
        switch (a.Layout)
        {
            case GateLayout.Lstm: Step<LstmGates>(a); break;
            case GateLayout.GruInput: Step<GruInputGates>(a); break;
            case GateLayout.GruRecurrent: Step<GruRecurrentGates>(a); break;
            case GateLayout.GruGates: Step<GruGateRows>(a); break;
            default: throw new ArgumentOutOfRangeException(nameof(a), a.Layout, "A cell step needs a panel of gates, not a single-gate panel.");
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Step<TGates>(scoped in CellStepArgs a) where TGates : struct, IGateLayout
    {
        int width = TVec.Count, gateStride = Slots * width, panelRows = TGates.Count * width, tiled = a.Rows / TileRows * TileRows;
        bool fuse = !a.PreActivationsOnly;
        if (fuse && !HasFusedUpdate<TGates>()) throw new InvalidOperationException($"A step over a {a.Layout} panel stops at the pre-activations: only the LSTM's and a GRU's recurrent panel end in a fused update.");
        // 16-bit panels: a block that serves two tiles or more is widened to fp32 once, its tiles then run on plain loads.
        bool widen = WidensTiles(tiled);
        int wideXFloats = WideBlockFloats(a.DepthX, panelRows), wideFloats = wideXFloats + WideBlockFloats(a.DepthH, panelRows);
        bool prescale = widen && TFormat.ActivationScale != 1f;
        int passBlocks = PairsBlocks<TGates>() ? 2 : 1; // the original GRU's two-gate panel runs two blocks a pass (TileBlockPair)
        ref float wide = ref widen ? ref WideningScratch.Rent(passBlocks * wideFloats + (prescale ? tiled * (a.DepthX + a.DepthH) : 0)) : ref Unsafe.NullRef<float>();
        CellStepArgs wideArgs = a;
        if (prescale)
        {
            ref float scaledX = ref Unsafe.Add(ref wide, passBlocks * wideFloats);
            ref float scaledH = ref Unsafe.Add(ref scaledX, tiled * a.DepthX);
            Prescale(ref a.X, a.XRowStride, tiled, a.DepthX, ref scaledX);
            Prescale(ref a.H, a.HRowStride, tiled, a.DepthH, ref scaledH);
            wideArgs.X = ref scaledX;
            wideArgs.XRowStride = a.DepthX;
            wideArgs.H = ref scaledH;
            wideArgs.HRowStride = a.DepthH;
        }

        for (int n = 0; n < a.BlockEnd - a.BlockStart && tiled > 0; n += passBlocks)
        {
            int block = a.Descending ? a.BlockEnd - 1 - n : a.BlockStart + n;
            if (passBlocks == 2 && n + 1 < a.BlockEnd - a.BlockStart)
            {
                TileBlockPair(a, wideArgs, block, a.Descending ? block - 1 : block + 1, tiled, widen, ref wide, wideXFloats, wideFloats);
                continue;
            }

            ref byte panelX = ref Unsafe.Add(ref a.PanelX, block * TFormat.BlockBytes(a.DepthX, panelRows));
            ref byte panelH = ref Unsafe.Add(ref a.PanelH, block * TFormat.BlockBytes(a.DepthH, panelRows));
            if (!widen)
            {
                TileBlock<TGates>(a, block, ref panelX, ref panelH, tiled, fuse);
                continue;
            }

            ref float wideH = ref Unsafe.Add(ref wide, wideXFloats);
            if (!Unsafe.IsNullRef(ref a.WidePanelH) && a.DepthX == 0)
                wideH = ref Unsafe.Add(ref a.WidePanelH, (nint)block * WideBlockFloats(a.DepthH, panelRows)); // widened once for the call
            else
            {
                WidenBlock(ref panelX, a.DepthX, panelRows, ref wide);
                WidenBlock(ref panelH, a.DepthH, panelRows, ref wideH);
            }

            CellKernels<TVec, WidenedWeights<TFormat>>.TileBlock<TGates>(wideArgs, block, ref Unsafe.As<float, byte>(ref wide), ref Unsafe.As<float, byte>(ref wideH), tiled, fuse);
        }

        for (int row = 0; row < a.Rows; row++)
        {
            bool active = a.Active.IsEmpty || a.Active[row] != 0;
            int tileStart = row - row % TileRows;
            bool doneByTile = row < tiled && (a.Active.IsEmpty || AllActive(a.Active.Slice(tileStart, TileRows)));
            if (!active || doneByTile) continue;
            RunRow<TGates>(ref Unsafe.Add(ref a.Init, (nint)row * a.InitRowStride),
                ref a.PanelX, ref Unsafe.Add(ref a.X, (nint)row * a.XRowStride), a.DepthX,
                ref a.PanelH, ref Unsafe.Add(ref a.H, (nint)row * a.HRowStride), a.DepthH,
                fuse, ref fuse ? ref Unsafe.Add(ref a.C, (nint)row * a.CRowStride) : ref Unsafe.Add(ref a.PreActivations, (nint)row * a.PreActivationsRowStride),
                ref Unsafe.Add(ref a.HOut, (nint)row * a.HOutRowStride), a.KeepGates, a.BlockStart, a.BlockEnd, a.Descending, a.GruGate);
        }
    }

    /// <summary>
    /// The whole tiles of one block of a step (see <see cref="Step"/>): <paramref name="panelX"/> and <paramref name="panelH"/> are
    /// the block's parts of the panels, in this class's format.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void TileBlock<TGates>(scoped in CellStepArgs a, int block, ref byte panelX, ref byte panelH, int tiled, bool fuse) where TGates : struct, IGateLayout
    {
        int width = TVec.Count, gateStride = Slots * width;
        int gateOffset = block * gateStride, unitOffset = block * width;
        for (int row = 0; row < tiled; row += TileRows)
        {
            if (!a.Active.IsEmpty && !AllActive(a.Active.Slice(row, TileRows))) continue;
            if (a.InitRowStride != 0)
            {
                bool lastTile = row + TileRows >= tiled;
                int nextBlock = !lastTile ? block : a.Descending ? block - 1 : block + 1;
                if (nextBlock >= a.BlockStart && nextBlock < a.BlockEnd)
                    PrefetchTileStart(ref Unsafe.Add(ref a.Init, (nint)(lastTile ? 0 : row + TileRows) * a.InitRowStride + nextBlock * gateStride), a.InitRowStride);
            }

            RunTile<TGates>(ref Unsafe.Add(ref a.Init, (nint)row * a.InitRowStride + gateOffset), a.InitRowStride,
                ref panelX, ref Unsafe.Add(ref a.X, (nint)row * a.XRowStride), a.XRowStride, a.DepthX,
                ref panelH, ref Unsafe.Add(ref a.H, (nint)row * a.HRowStride), a.HRowStride, a.DepthH,
                fuse, ref fuse ? ref Unsafe.Add(ref a.C, (nint)row * a.CRowStride + unitOffset) : ref Unsafe.Add(ref a.PreActivations, (nint)row * a.PreActivationsRowStride + gateOffset),
                fuse ? a.CRowStride : a.PreActivationsRowStride,
                ref Unsafe.Add(ref a.HOut, (nint)row * a.HOutRowStride + unitOffset), a.HOutRowStride, a.KeepGates, a.GruGate);
        }
    }

    /// <summary>
    /// Whether whole tiles run over 16-bit blocks widened to fp32 first (<see cref="WidenedWeights{TSource}"/>): the same
    /// bits, with the widening done once per block instead of once per tile.
    /// </summary>
    internal static bool Widens =>
        typeof(TFormat) == typeof(Float16Weights) || typeof(TFormat) == typeof(Float16IeeeWeights) || typeof(TFormat) == typeof(BFloat16Weights);

    /// <summary>Whether <paramref name="tiledRows"/> rows of whole tiles read their blocks widened: a 16-bit block that serves two tiles or more.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool WidensTiles(int tiledRows) => Widens && tiledRows >= 2 * TileRows;

    /// <summary>
    /// Floats that <see cref="WidenPanel"/> writes for a recurrent panel whose steps run <paramref name="rows"/> rows, or 0 where
    /// those steps read it as it is (fp32, Int8, fewer rows than two tiles) or widen two blocks a pass (the original GRU).
    /// </summary>
    public static int WidenedPanelFloats(PackedPanel panel, int rows) =>
        WidensTiles(rows / TileRows * TileRows) && panel.Layout is GateLayout.Lstm or GateLayout.GruRecurrent
            ? checked(panel.Blocks * WideBlockFloats(panel.Depth, panel.Gates * TVec.Count))
            : 0;

    /// <summary>
    /// Every block of <paramref name="panel"/> widened as a step's tiles widen it (block b at b × the widened block's floats), for
    /// the steps of one call to read through <see cref="CellStepArgs.WidePanelH"/>: the panel is widened once, not once per step.
    /// </summary>
    public static void WidenPanel(PackedPanel panel, Span<float> destination)
    {
        if (!Widens) throw new InvalidOperationException($"{TFormat.Format} kernels read their panels as they are; only 16-bit panels are widened.");
        int panelRows = panel.Gates * TVec.Count, wideBlockFloats = WideBlockFloats(panel.Depth, panelRows);
        if (destination.Length < panel.Blocks * wideBlockFloats)
            throw new ArgumentException($"The widened panel needs {panel.Blocks * wideBlockFloats} floats; the destination holds {destination.Length}.", nameof(destination));
        for (int block = 0; block < panel.Blocks; block++)
            WidenBlock(ref Unsafe.Add(ref panel.Start, block * panel.BlockBytes), panel.Depth, panelRows, ref destination[block * wideBlockFloats]);
    }

    /// <summary>Floats of one block of <paramref name="depth"/> inputs and <paramref name="panelRows"/> rows widened by <see cref="WidenBlock"/>.</summary>
    private static int WideBlockFloats(int depth, int panelRows) => (int)(WidenedWeights<TFormat>.BlockBytes(depth, panelRows) / sizeof(float));

    /// <summary>
    /// <paramref name="rows"/> activation rows of <paramref name="depth"/> values times the format's activation scale, into
    /// <paramref name="destination"/> (rows <paramref name="depth"/> apart): the values a broadcast of the scaled format computes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void Prescale(ref float source, int stride, int rows, int depth, ref float destination)
    {
        TVec scale = TVec.Create(TFormat.ActivationScale);
        for (int row = 0; row < rows; row++)
        {
            ref float from = ref Unsafe.Add(ref source, (nint)row * stride);
            ref float to = ref Unsafe.Add(ref destination, (nint)row * depth);
            int k = 0;
            for (; k + TVec.Count <= depth; k += TVec.Count) TVec.Store(TVec.Load(in Unsafe.Add(ref from, k)) * scale, ref Unsafe.Add(ref to, k));
            for (; k < depth; k++) Unsafe.Add(ref to, k) = Unsafe.Add(ref from, k) * TFormat.ActivationScale;
        }
    }

    /// <summary>
    /// One block of <paramref name="depth"/> inputs and <paramref name="panelRows"/> rows, widened into
    /// <paramref name="destination"/> in <see cref="WidenedWeights{TSource}"/>'s layout: every value as <see cref="IWeightFormat.Load"/>
    /// returns it.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidenBlock(ref byte block, int depth, int panelRows, ref float destination)
    {
        nint pairBytes = TFormat.PairBytes(panelRows);
        for (int pair = 0; pair < (depth + 1) / 2; pair++)
        {
            ref byte source = ref Unsafe.Add(ref block, pair * pairBytes);
            ref float wide = ref Unsafe.Add(ref destination, (nint)pair * 2 * panelRows);
            for (int offset = 0; offset < panelRows; offset += TVec.Count)
            {
                TVec.Store(TFormat.Load<TVec>(ref source, offset, panelRows, 0), ref Unsafe.Add(ref wide, offset));
                TVec.Store(TFormat.Load<TVec>(ref source, offset, panelRows, 1), ref Unsafe.Add(ref wide, panelRows + offset));
            }
        }
    }

    /// <summary>
    /// Asks the caches for the start values of the tile that runs next (its rows' slots of one block, from the hoisted input
    /// projection of the step): those rows lie a row of gates apart in a buffer of every step's, usually beyond the caches,
    /// and a tile's chains cannot start before its start values arrive. Fetched one tile ahead, they come in while this tile
    /// computes. A hint only: nothing on other CPUs.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void PrefetchTileStart(ref float init, int rowStride)
    {
        if (!Sse.IsSupported) return;
        for (int row = 0; row < TileRows; row++)
        {
            byte* start = (byte*)Unsafe.AsPointer(ref Unsafe.Add(ref init, (nint)row * rowStride));
            for (int offset = 0; offset < Slots * TVec.Count * sizeof(float); offset += CacheLineBytes) Sse.Prefetch0(start + offset);
        }
    }

    private const int CacheLineBytes = 64;

    /// <summary>
    /// Every step of one batch-1 sequence, back to back: per step the recurrent product and the fused cell update of
    /// <see cref="RunRow"/> over this call's blocks, then their h copied to its output row. The step loop stays inside the
    /// kernel because at batch 1 a step is short: per-step bookkeeping outside would sit between one step's σ/tanh tail and
    /// the next step's first products, where the out-of-order window could otherwise overlap them. A team shares the blocks
    /// (each member's part of the panel stays in its own core's cache) and meets at <see cref="SequenceArgs.Barrier"/>
    /// after every step.
    /// </summary>
    public static void Sequence(PackedPanel panel, scoped in SequenceArgs a)
    {
        if (panel.WidenedCopy is { } widened)
        {
            // A small 16-bit panel's fp32 copy (the same values): the fp32 kernel, no widening on the step's serial path.
            CellKernels<TVec, Float32Weights>.Sequence(widened, a);
            return;
        }

        SequenceArgs own = a;
        own.PanelH = ref panel.Start;
        if (a.Gru) RunSequence<GruRecurrentGates>(own);
        else RunSequence<LstmGates>(own);
    }

    /// <summary>The step loop of <see cref="Sequence"/> over this class's format.</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void RunSequence<TGates>(scoped in SequenceArgs a) where TGates : struct, IGateLayout
    {
        if (typeof(TGates) == typeof(LstmGates) && TVec.Count > 1 && !TFormat.Quantized && a.Barrier is null
            && a.BlockStart == 0 && a.BlockEnd <= EpilogueBlocks && a.DepthH <= a.BlockEnd * TVec.Count)
        {
            RunSequenceInRegisters(a);
            return;
        }

        ref float hPrevious = ref a.H, hNext = ref a.HSpare;
        int first = a.BlockStart * TVec.Count, units = a.BlockEnd * TVec.Count - first;
        int outputs = Math.Clamp(a.OutputCount - first, 0, units);
        for (int s = 0; s < a.Steps; s++)
        {
            int t = a.Reverse ? a.Steps - 1 - s : s;
            ref float init = ref Unsafe.Add(ref a.Init, (nint)t * a.InitStepStride);
            bool descending = s % 2 == 1; // a serpentine, see CellStepArgs.Descending
            if (!a.Gru)
            {
                RunRow<TGates>(ref init, ref a.PanelH, ref hPrevious, 0, ref a.PanelH, ref hPrevious, a.DepthH,
                    fuseCell: true, ref a.C, ref hNext, keepGates: false, a.BlockStart, a.BlockEnd, descending);
            }
            else
            {
                // The GRU's update runs once over the step's blocks after their products (over the step's hoisted projection,
                // which nothing reads again), not per pair of blocks as the LSTM's cell: one row's short update chains then
                // overlap each other, which measured faster at batch 1 (ab-gru-fused-update in perf/results).
                RunRow<TGates>(ref init, ref a.PanelH, ref hPrevious, 0, ref a.PanelH, ref hPrevious, a.DepthH,
                    fuseCell: false, ref init, ref hNext, keepGates: false, a.BlockStart, a.BlockEnd, descending);
                GruCellKernels<TVec>.Update(a.GruGate, ref init, a.InitStepStride, ref hPrevious, 0, ref hNext, 0, 1, a.BlockStart, a.BlockEnd, default);
            }

            CopyRow(ref Unsafe.Add(ref hNext, first), ref Unsafe.Add(ref a.Output, (nint)t * a.OutputStepStride + first), outputs);
            a.Barrier?.SignalAndWait();
            ref float written = ref hNext;
            hNext = ref hPrevious;
            hPrevious = ref written;
        }

        // The caller's h buffer holds the last h whichever buffer the last step wrote (every member is past its last read of it).
        if (a.Steps % 2 == 1) CopyRow(ref Unsafe.Add(ref hPrevious, first), ref Unsafe.Add(ref a.H, first), units);
    }

    /// <summary>
    /// <see cref="RunSequence"/> for an LSTM whose whole h is the one pair of blocks (or the one block) this call computes
    /// alone: h and c stay in registers from one step to the next, and each product's h_{t−1}[k] is a permute of a register.
    /// The general path's trip through memory (h stored by the cell update, broadcast back by the next step's first product;
    /// pre-activations through a stack tile) sits on the serial path of every step, where nothing else hides it. The same
    /// operations in the same order as <see cref="RowBlockPair"/> (or <see cref="RowBlock"/>) and <see cref="CellEpilogue"/>:
    /// the same bits. A lone block runs as a pair with itself (its chains are latency-bound, so the copy is free) whose second
    /// half is never stored.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunSequenceInRegisters(scoped in SequenceArgs a)
    {
        int width = TVec.Count, gateStride = Slots * width, depth = a.DepthH;
        bool pair = a.BlockEnd == 2;
        int units = a.BlockEnd * width, outputs = Math.Min(a.OutputCount, units);
        nint pairBytes = TFormat.PairBytes(gateStride);
        ref byte panelA = ref a.PanelH;
        ref byte panelB = ref Unsafe.Add(ref a.PanelH, pair ? TFormat.BlockBytes(depth, gateStride) : 0);
        int secondBlock = pair ? gateStride : 0;
        TVec hA = TVec.Load(in a.H), hB = pair ? TVec.Load(in Unsafe.Add(ref a.H, width)) : hA;
        TVec cA = TVec.Load(in a.C), cB = pair ? TVec.Load(in Unsafe.Add(ref a.C, width)) : cA;
        for (int s = 0; s < a.Steps; s++)
        {
            int t = a.Reverse ? a.Steps - 1 - s : s;
            ref float initA = ref Unsafe.Add(ref a.Init, (nint)t * a.InitStepStride);
            ref float initB = ref Unsafe.Add(ref initA, secondBlock);
            TVec ia = Scaled(Start<LstmGates>(ref initA, 0)), fa = Scaled(Start<LstmGates>(ref initA, 1)), ga = Scaled(Start<LstmGates>(ref initA, 2)), oa = Scaled(Start<LstmGates>(ref initA, 3));
            TVec ib = Scaled(Start<LstmGates>(ref initB, 0)), fb = Scaled(Start<LstmGates>(ref initB, 1)), gb = Scaled(Start<LstmGates>(ref initB, 2)), ob = Scaled(Start<LstmGates>(ref initB, 3));
            for (int part = 0; part < 2; part++)
            {
                // h_{t−1}[k] for k in [width·part, width·(part + 1)) is lane k − width·part of this part's vector (width is even), times the
                // format's activation scale as a broadcast (or a prescaled row) gives it.
                TVec source = part == 0 ? hA : hB;
                if (TFormat.ActivationScale != 1f) source *= TVec.Create(TFormat.ActivationScale);
                int first = part * width, end = Math.Min(depth, first + width), k = first;
                for (; k + 2 <= end; k += 2)
                {
                    nint offset = (k >> 1) * pairBytes;
                    ref byte wa = ref Unsafe.Add(ref panelA, offset), wb = ref Unsafe.Add(ref panelB, offset);
                    TVec s0 = BroadcastLane(source, k - first), s1 = BroadcastLane(source, k + 1 - first);
                    GateProducts<LstmGates>(ref wa, 0, s0, ref ia, ref fa, ref ga, ref oa);
                    GateProducts<LstmGates>(ref wb, 0, s0, ref ib, ref fb, ref gb, ref ob);
                    GateProducts<LstmGates>(ref wa, 1, s1, ref ia, ref fa, ref ga, ref oa);
                    GateProducts<LstmGates>(ref wb, 1, s1, ref ib, ref fb, ref gb, ref ob);
                }

                if (k < end) // an odd depth's last k: the low half of its pair
                {
                    nint offset = (k >> 1) * pairBytes;
                    TVec s0 = BroadcastLane(source, k - first);
                    GateProducts<LstmGates>(ref Unsafe.Add(ref panelA, offset), 0, s0, ref ia, ref fa, ref ga, ref oa);
                    GateProducts<LstmGates>(ref Unsafe.Add(ref panelB, offset), 0, s0, ref ib, ref fb, ref gb, ref ob);
                }
            }

            if (TFormat.ActivationScale != 1f)
            {
                (ia, fa, ga, oa) = (Unscaled(ia), Unscaled(fa), Unscaled(ga), Unscaled(oa));
                (ib, fb, gb, ob) = (Unscaled(ib), Unscaled(fb), Unscaled(gb), Unscaled(ob));
            }

            // Each block's cell in turn and each of its σ gates in turn, so that σ and the cell are written once (the inline budget
            // holds one copy of each): values rotate through the variables, the turns are independent and overlap in the core.
            for (int turn = 0; turn < 2; turn++)
            {
                for (int gate = 0; gate < 3; gate++) (ia, fa, oa) = (fa, oa, Activations.Sigmoid(ia));
                (TVec cNew, TVec hNew) = ActivatedCell(ia, fa, Activations.Tanh(ga), oa, cA);
                (ia, fa, ga, oa, cA, hA, cB, hB) = (ib, fb, gb, ob, cB, hB, cNew, hNew);
            }

            // The output row through the spare buffer, which holds whole vectors, as the row may end inside one.
            TVec.Store(hA, ref a.HSpare);
            if (pair) TVec.Store(hB, ref Unsafe.Add(ref a.HSpare, width));
            CopyRow(ref a.HSpare, ref Unsafe.Add(ref a.Output, (nint)t * a.OutputStepStride), outputs);
        }

        TVec.Store(hA, ref a.H);
        TVec.Store(cA, ref a.C);
        if (!pair) return;
        TVec.Store(hB, ref Unsafe.Add(ref a.H, width));
        TVec.Store(cB, ref Unsafe.Add(ref a.C, width));
    }

    /// <summary>
    /// Lane <paramref name="lane"/> of <paramref name="value"/> in every lane: one permute where the ISA has a variable one,
    /// else the lane read through memory (Arm, SSE only; the one lane of the scalar path).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec BroadcastLane(TVec value, int lane)
    {
        if (typeof(TVec) == typeof(VecScalar)) return value;
        if (typeof(TVec) == typeof(Vec512) && Avx512F.IsSupported)
            return Unsafe.BitCast<Vector512<float>, TVec>(Avx512F.PermuteVar16x32(Unsafe.BitCast<TVec, Vector512<float>>(value), Vector512.Create(lane)));
        if (typeof(TVec) == typeof(Vec256) && Avx2.IsSupported)
            return Unsafe.BitCast<Vector256<float>, TVec>(Avx2.PermuteVar8x32(Unsafe.BitCast<TVec, Vector256<float>>(value), Vector256.Create(lane)));
        if (typeof(TVec) == typeof(Vec128) && Avx.IsSupported)
            return Unsafe.BitCast<Vector128<float>, TVec>(Avx.PermuteVar(Unsafe.BitCast<TVec, Vector128<float>>(value), Vector128.Create(lane)));
        return TVec.Create(Unsafe.Add(ref Unsafe.As<TVec, float>(ref value), lane));
    }

    /// <summary>Copies <paramref name="count"/> floats, whole vectors then the tail.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyRow(ref float source, ref float destination, int count)
    {
        int i = 0;
        for (; i + TVec.Count <= count; i += TVec.Count) TVec.Store(TVec.Load(in Unsafe.Add(ref source, i)), ref Unsafe.Add(ref destination, i));
        for (; i < count; i++) Unsafe.Add(ref destination, i) = Unsafe.Add(ref source, i);
    }

    /// <summary>
    /// gx[m] = bias + x[m]·W for every row m and the block range given: the input projection of all steps at once. Rows of
    /// x are <paramref name="xRowStride"/> floats apart (quantised rows for Int8 panels, see <see cref="QuantizedRows"/>).
    /// </summary>
    public static void InputProjection(PackedPanel panel, ReadOnlySpan<float> packedBias, ReadOnlySpan<float> x, int xRowStride, int rows, Span<float> gx, int blockStart, int blockEnd)
    {
        if (panel.WidenedCopy is { } widened)
        {
            // A small 16-bit panel's fp32 copy (the same values): no widening per call, no activation scaling.
            CellKernels<TVec, Float32Weights>.InputProjection(widened, packedBias, x, xRowStride, rows, gx, blockStart, blockEnd);
            return;
        }

        switch (panel.Layout)
        {
            case GateLayout.Lstm: InputProjection<LstmGates>(panel, packedBias, x, xRowStride, rows, gx, blockStart, blockEnd); break;
            case GateLayout.GruInput: InputProjection<GruInputGates>(panel, packedBias, x, xRowStride, rows, gx, blockStart, blockEnd); break;
            default: throw new ArgumentOutOfRangeException(nameof(panel), panel.Layout, "An input projection runs W_ih's panel (the LSTM's or a GRU's).");
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void InputProjection<TGates>(PackedPanel panel, ReadOnlySpan<float> packedBias, ReadOnlySpan<float> x, int xRowStride, int rows, Span<float> gx, int blockStart, int blockEnd)
        where TGates : struct, IGateLayout
    {
        int width = TVec.Count, gateStride = Slots * width, depth = panel.Depth, gxStride = panel.Blocks * gateStride, panelRows = TGates.Count * width;
        ref float bias = ref MemoryMarshal.GetReference(packedBias);
        ref float source = ref MemoryMarshal.GetReference(x);
        ref float destination = ref MemoryMarshal.GetReference(gx);
        int tiled = rows / TileRows * TileRows;

        // Rows go in chunks whose x fits in L2 beside a weight block, each chunk over every block: x is then read from L2
        // for all blocks (the weights once per chunk, from L3) instead of from L3 once per block.
        int chunkRows = Math.Max(TileRows, ProjectionChunkBytes / Math.Max(1, xRowStride * sizeof(float)) / TileRows * TileRows);
        for (int chunk = 0; chunk < tiled; chunk += chunkRows)
        {
            int chunkEnd = Math.Min(tiled, chunk + chunkRows);
            bool widen = WidensTiles(chunkEnd - chunk); // as a step's blocks (see Step)
            int wideFloats = WideBlockFloats(depth, panelRows);
            bool prescale = widen && TFormat.ActivationScale != 1f;
            ref float wide = ref widen ? ref WideningScratch.Rent(wideFloats + (prescale ? (chunkEnd - chunk) * depth : 0)) : ref Unsafe.NullRef<float>();
            ref float wideSource = ref Unsafe.Add(ref source, (nint)chunk * xRowStride);
            int wideSourceStride = xRowStride;
            if (prescale)
            {
                wideSource = ref Unsafe.Add(ref wide, wideFloats);
                wideSourceStride = depth;
                Prescale(ref Unsafe.Add(ref source, (nint)chunk * xRowStride), xRowStride, chunkEnd - chunk, depth, ref wideSource);
            }

            for (int block = blockStart; block < blockEnd; block++)
            {
                ref byte weights = ref Unsafe.Add(ref panel.Start, block * panel.BlockBytes);
                ref float gx0 = ref Unsafe.Add(ref destination, block * gateStride);
                ref float bias0 = ref Unsafe.Add(ref bias, block * gateStride);
                if (!widen)
                {
                    ProjectTiles<TGates>(ref bias0, ref weights, depth, ref source, xRowStride, chunk, chunkEnd, ref gx0, gxStride);
                    continue;
                }

                WidenBlock(ref weights, depth, panelRows, ref wide);
                CellKernels<TVec, WidenedWeights<TFormat>>.ProjectTiles<TGates>(ref bias0, ref Unsafe.As<float, byte>(ref wide), depth, ref wideSource, wideSourceStride, 0, chunkEnd - chunk,
                    ref Unsafe.Add(ref gx0, (nint)chunk * gxStride), gxStride);
            }
        }

        for (int row = tiled; row < rows; row++)
        {
            ref float out0 = ref Unsafe.Add(ref destination, (nint)row * gxStride);
            RunRow<TGates>(ref bias, ref panel.Start, ref Unsafe.Add(ref source, (nint)row * xRowStride), depth, ref panel.Start, ref source, 0,
                fuseCell: false, ref out0, ref out0, keepGates: false, blockStart, blockEnd);
        }
    }

    /// <summary>The input projection's whole tiles of rows <paramref name="rowStart"/> to <paramref name="rowEnd"/> over one block (<paramref name="weights"/>, in this class's format).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void ProjectTiles<TGates>(ref float bias, ref byte weights, int depth, ref float x, int xRowStride, int rowStart, int rowEnd, ref float gx, int gxStride)
        where TGates : struct, IGateLayout
    {
        for (int row = rowStart; row < rowEnd; row += TileRows)
        {
            ref float out0 = ref Unsafe.Add(ref gx, (nint)row * gxStride);
            RunTile<TGates>(ref bias, 0, ref weights, ref Unsafe.Add(ref x, (nint)row * xRowStride), xRowStride, depth, ref weights, ref x, 0, 0,
                fuseCell: false, ref out0, gxStride, ref out0, 0, keepGates: false);
        }
    }

    /// <summary>
    /// Bytes of x rows the input projection keeps in L2 while it sweeps the weight blocks: within the 512 KiB to 1 MiB L2 of
    /// the cores this ran on, beside a weight block. Each chunk streams the weights again, so x that fits one chunk is not
    /// split (seq-b4-h1024's 400 KiB: 256 KiB chunks cost it 7–11 %); seq-b64-h512's 6.4 MiB of x runs 3 % faster in chunks.
    /// </summary>
    private const int ProjectionChunkBytes = 512 << 10;

    /// <summary>
    /// y[r] = W·h[r] for the active rows over a one-gate panel (PyTorch's projection W_hr, the original GRU's W_hn). Each
    /// output vector is one FMA chain over k, so a row gets the same bits in a tile as alone: whole tiles of active rows share
    /// each weight load across their rows (<see cref="ProjectTile"/>); the other rows (batch 1, a batch's tail, tiles with a
    /// finished sequence) run alone over <see cref="RowProjectBlocks"/> blocks at once, whose chains hide the FMA latency.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Project(PackedPanel panel, ref float h, int hRowStride, ref float y, int yRowStride, int rows, ReadOnlySpan<byte> active, int blockStart, int blockEnd)
    {
        if (TFormat.Quantized)
        {
            QuantizedProject(panel, ref h, hRowStride, ref y, yRowStride, rows, active, blockStart, blockEnd);
            return;
        }

        int tiled = rows / TileRows * TileRows;
        if (WidensTiles(tiled))
        {
            WidenedProjectTiles(panel, ref h, hRowStride, ref y, yRowStride, tiled, active, blockStart, blockEnd);
        }
        else
        {
            // Each group of blocks serves every tile of rows before the next (from L2), as a step's blocks do: a panel larger than
            // L2 (the original GRU's W_hn at H = 512) would otherwise stream from L3 once per tile.
            for (int block = blockStart; block < blockEnd; block += ProjectBlocks)
            {
                for (int row = 0; row < tiled; row += TileRows)
                {
                    if (!active.IsEmpty && !AllActive(active.Slice(row, TileRows))) continue;
                    ProjectTile(ref panel.Start, panel.BlockBytes, panel.Depth, ref Unsafe.Add(ref h, (nint)row * hRowStride), hRowStride,
                        ref Unsafe.Add(ref y, (nint)row * yRowStride), yRowStride, block, Math.Min(ProjectBlocks, blockEnd - block));
                }
            }
        }

        for (int row = 0; row < rows; row++)
        {
            bool doneByTile = row < tiled && (active.IsEmpty || AllActive(active.Slice(row - row % TileRows, TileRows)));
            if (doneByTile || (!active.IsEmpty && active[row] == 0)) continue;
            for (int block = blockStart; block < blockEnd; block += RowProjectBlocks)
                ProjectRow(panel, ref Unsafe.Add(ref h, (nint)row * hRowStride), ref Unsafe.Add(ref y, (nint)row * yRowStride), block, Math.Min(RowProjectBlocks, blockEnd - block));
        }
    }

    /// <summary>
    /// The whole tiles of <see cref="Project"/> over 16-bit weights: each group of blocks is widened once (and fp16's rows
    /// scaled once) for all the tiles of rows, as a step's blocks are (see <see cref="Step"/>); the same bits.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidenedProjectTiles(PackedPanel panel, ref float h, int hRowStride, ref float y, int yRowStride, int tiled, ReadOnlySpan<byte> active,
        int blockStart, int blockEnd)
    {
        int width = TVec.Count, depth = panel.Depth;
        nint wideBlockBytes = WidenedWeights<TFormat>.BlockBytes(depth, width);
        int wideFloats = (int)(ProjectBlocks * wideBlockBytes / sizeof(float));
        bool prescale = TFormat.ActivationScale != 1f;
        ref float wide = ref WideningScratch.Rent(wideFloats + (prescale ? tiled * depth : 0));
        ref float rows = ref h;
        int rowStride = hRowStride;
        if (prescale)
        {
            rows = ref Unsafe.Add(ref wide, wideFloats);
            rowStride = depth;
            Prescale(ref h, hRowStride, tiled, depth, ref rows);
        }

        for (int block = blockStart; block < blockEnd; block += ProjectBlocks)
        {
            int count = Math.Min(ProjectBlocks, blockEnd - block);
            for (int b = 0; b < count; b++)
                WidenBlock(ref Unsafe.Add(ref panel.Start, (block + b) * panel.BlockBytes), depth, width, ref Unsafe.Add(ref wide, b * (wideBlockBytes / sizeof(float))));
            for (int row = 0; row < tiled; row += TileRows)
            {
                if (!active.IsEmpty && !AllActive(active.Slice(row, TileRows))) continue;
                CellKernels<TVec, WidenedWeights<TFormat>>.ProjectTile(ref Unsafe.As<float, byte>(ref wide), wideBlockBytes, depth,
                    ref Unsafe.Add(ref rows, (nint)row * rowStride), rowStride, ref Unsafe.Add(ref y, (nint)row * yRowStride + block * width), yRowStride, 0, count);
            }
        }
    }

    /// <summary>Blocks of a one-gate panel that <see cref="ProjectTile"/> runs together (its rows × these = the tile's chains).</summary>
    private const int ProjectBlocks = 4;

    /// <summary>Blocks of a one-gate panel that <see cref="ProjectRow"/> runs together: eight chains, as a row's gate kernels keep.</summary>
    private const int RowProjectBlocks = 8;

    /// <summary>
    /// <see cref="TileRows"/> rows × <paramref name="count"/> blocks (up to four) of <see cref="Project"/>, from
    /// <paramref name="block"/> of the panel at <paramref name="panel"/> (blocks <paramref name="blockBytes"/> apart):
    /// one chain per row and block, each weight vector used by every row. Missing blocks repeat the first one's weights
    /// and are not stored.
    /// </summary>
    // Its own compilation unit, as RunTile: compiled fully optimised from the first call.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    internal static void ProjectTile(ref byte panel, nint blockBytes, int depth, ref float h, int hStride, ref float y, int yStride, int block, int count)
    {
        int width = TVec.Count;
        bool four = TileRows == 4;
        nint pairBytes = TFormat.PairBytes(width);
        ref byte w0 = ref Unsafe.Add(ref panel, block * blockBytes);
        ref byte w1 = ref Unsafe.Add(ref w0, count > 1 ? blockBytes : 0);
        ref byte w2 = ref Unsafe.Add(ref w0, count > 2 ? 2 * blockBytes : 0);
        ref byte w3 = ref Unsafe.Add(ref w0, count > 3 ? 3 * blockBytes : 0);
        ref float h1 = ref Unsafe.Add(ref h, hStride);
        ref float h2 = ref Unsafe.Add(ref h1, hStride);
        ref float h3 = ref Unsafe.Add(ref h2, four ? hStride : 0);
        TVec a00 = TVec.Zero, a01 = TVec.Zero, a02 = TVec.Zero, a03 = TVec.Zero, a10 = TVec.Zero, a11 = TVec.Zero, a12 = TVec.Zero, a13 = TVec.Zero;
        TVec a20 = TVec.Zero, a21 = TVec.Zero, a22 = TVec.Zero, a23 = TVec.Zero, a30 = TVec.Zero, a31 = TVec.Zero, a32 = TVec.Zero, a33 = TVec.Zero;
        for (int k = 0; k < depth; k++)
        {
            nint offset = (k >> 1) * pairBytes;
            int half = k & 1;
            TVec s0 = Broadcast(ref h, k), s1 = Broadcast(ref h1, k), s2 = Broadcast(ref h2, k);
            TVec s3 = four ? Broadcast(ref h3, k) : TVec.Zero;
            TVec wv = TFormat.Load<TVec>(ref Unsafe.Add(ref w0, offset), 0, width, half);
            a00 = TVec.MultiplyAdd(wv, s0, a00);
            a10 = TVec.MultiplyAdd(wv, s1, a10);
            a20 = TVec.MultiplyAdd(wv, s2, a20);
            if (four) a30 = TVec.MultiplyAdd(wv, s3, a30);
            wv = TFormat.Load<TVec>(ref Unsafe.Add(ref w1, offset), 0, width, half);
            a01 = TVec.MultiplyAdd(wv, s0, a01);
            a11 = TVec.MultiplyAdd(wv, s1, a11);
            a21 = TVec.MultiplyAdd(wv, s2, a21);
            if (four) a31 = TVec.MultiplyAdd(wv, s3, a31);
            wv = TFormat.Load<TVec>(ref Unsafe.Add(ref w2, offset), 0, width, half);
            a02 = TVec.MultiplyAdd(wv, s0, a02);
            a12 = TVec.MultiplyAdd(wv, s1, a12);
            a22 = TVec.MultiplyAdd(wv, s2, a22);
            if (four) a32 = TVec.MultiplyAdd(wv, s3, a32);
            wv = TFormat.Load<TVec>(ref Unsafe.Add(ref w3, offset), 0, width, half);
            a03 = TVec.MultiplyAdd(wv, s0, a03);
            a13 = TVec.MultiplyAdd(wv, s1, a13);
            a23 = TVec.MultiplyAdd(wv, s2, a23);
            if (four) a33 = TVec.MultiplyAdd(wv, s3, a33);
        }

        ref float out0 = ref Unsafe.Add(ref y, block * width);
        StoreBlocks(a00, a01, a02, a03, ref out0, count);
        StoreBlocks(a10, a11, a12, a13, ref Unsafe.Add(ref out0, yStride), count);
        StoreBlocks(a20, a21, a22, a23, ref Unsafe.Add(ref out0, 2 * yStride), count);
        if (four) StoreBlocks(a30, a31, a32, a33, ref Unsafe.Add(ref out0, 3 * yStride), count);
    }

    /// <summary>
    /// One row × <paramref name="count"/> blocks (up to eight) of <see cref="Project"/>, from <paramref name="block"/>: one
    /// chain per block, summed over k in the order <see cref="ProjectTile"/> uses. Missing blocks repeat the first one's
    /// weights and are not stored.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void ProjectRow(PackedPanel panel, ref float h, ref float y, int block, int count)
    {
        int width = TVec.Count, depth = panel.Depth;
        nint blockBytes = panel.BlockBytes, pairBytes = TFormat.PairBytes(width);
        ref byte w0 = ref Unsafe.Add(ref panel.Start, block * blockBytes);
        ref byte w1 = ref Unsafe.Add(ref w0, count > 1 ? blockBytes : 0);
        ref byte w2 = ref Unsafe.Add(ref w0, count > 2 ? 2 * blockBytes : 0);
        ref byte w3 = ref Unsafe.Add(ref w0, count > 3 ? 3 * blockBytes : 0);
        ref byte w4 = ref Unsafe.Add(ref w0, count > 4 ? 4 * blockBytes : 0);
        ref byte w5 = ref Unsafe.Add(ref w0, count > 5 ? 5 * blockBytes : 0);
        ref byte w6 = ref Unsafe.Add(ref w0, count > 6 ? 6 * blockBytes : 0);
        ref byte w7 = ref Unsafe.Add(ref w0, count > 7 ? 7 * blockBytes : 0);
        TVec a0 = TVec.Zero, a1 = TVec.Zero, a2 = TVec.Zero, a3 = TVec.Zero, a4 = TVec.Zero, a5 = TVec.Zero, a6 = TVec.Zero, a7 = TVec.Zero;
        for (int k = 0; k < depth; k++)
        {
            nint offset = (k >> 1) * pairBytes;
            int half = k & 1;
            TVec s = Broadcast(ref h, k);
            a0 = TVec.MultiplyAdd(TFormat.Load<TVec>(ref Unsafe.Add(ref w0, offset), 0, width, half), s, a0);
            a1 = TVec.MultiplyAdd(TFormat.Load<TVec>(ref Unsafe.Add(ref w1, offset), 0, width, half), s, a1);
            a2 = TVec.MultiplyAdd(TFormat.Load<TVec>(ref Unsafe.Add(ref w2, offset), 0, width, half), s, a2);
            a3 = TVec.MultiplyAdd(TFormat.Load<TVec>(ref Unsafe.Add(ref w3, offset), 0, width, half), s, a3);
            a4 = TVec.MultiplyAdd(TFormat.Load<TVec>(ref Unsafe.Add(ref w4, offset), 0, width, half), s, a4);
            a5 = TVec.MultiplyAdd(TFormat.Load<TVec>(ref Unsafe.Add(ref w5, offset), 0, width, half), s, a5);
            a6 = TVec.MultiplyAdd(TFormat.Load<TVec>(ref Unsafe.Add(ref w6, offset), 0, width, half), s, a6);
            a7 = TVec.MultiplyAdd(TFormat.Load<TVec>(ref Unsafe.Add(ref w7, offset), 0, width, half), s, a7);
        }

        ref float out0 = ref Unsafe.Add(ref y, block * width);
        StoreBlocks(a0, a1, a2, a3, ref out0, Math.Min(count, 4));
        if (count > 4) StoreBlocks(a4, a5, a6, a7, ref Unsafe.Add(ref out0, 4 * width), count - 4);
    }

    /// <summary>One row's outputs of up to four consecutive blocks, out of the scaled domain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreBlocks(TVec block0, TVec block1, TVec block2, TVec block3, ref float destination, int count)
    {
        int width = TVec.Count;
        TVec.Store(Unscaled(block0), ref destination);
        if (count > 1) TVec.Store(Unscaled(block1), ref Unsafe.Add(ref destination, width));
        if (count > 2) TVec.Store(Unscaled(block2), ref Unsafe.Add(ref destination, 2 * width));
        if (count > 3) TVec.Store(Unscaled(block3), ref Unsafe.Add(ref destination, 3 * width));
    }

    /// <summary>
    /// One row over the blocks [<paramref name="blockStart"/>, <paramref name="blockEnd"/>): init + x·panelX + h·panelH
    /// (either depth may be 0; <paramref name="init"/>, the panels, c and hOut point at block 0), then the fused cell
    /// update (into c and hOut) or a plain store of the pre-activations (into <paramref name="c"/>). Blocks go in pairs
    /// (<see cref="RowBlockPair"/>). Not inlined: the JIT's inline budget would run out on kernels this size and leave
    /// callees as tier-0 code; compiled fully optimised from the first call instead.
    /// </summary>
    /// <remarks>
    /// Each pair's cell update runs in one out-of-line <see cref="CellEpilogue"/> call from a stack tile (L1), as a tile's
    /// rows do. Out of line so that the Int8 instantiation, whose products are larger, stays inside the JIT's inline
    /// budget (inlined σ/tanh became calls there and halved its speed). A pair's σ/tanh chains overlap each other and the
    /// next pair's products.
    /// </remarks>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunRow<TGates>(ref float init, ref byte panelX, ref float x, int depthX, ref byte panelH, ref float h, int depthH,
        bool fuseCell, ref float c, ref float hOut, bool keepGates, int blockStart, int blockEnd, bool descending = false, Activation gruGate = default)
        where TGates : struct, IGateLayout
    {
        int width = TVec.Count, gateStride = Slots * width, panelRows = TGates.Count * width, order = descending ? -1 : 1, count = blockEnd - blockStart;
        Span<float> tile = stackalloc float[EpilogueBlocks * Slots * TVec.Count];
        ref float pre = ref MemoryMarshal.GetReference(tile);
        for (int n = 0; n < count; n += EpilogueBlocks)
        {
            int block = descending ? blockEnd - 1 - n : blockStart + n;
            bool pair = n + 1 < count;
            int second = pair ? block + order : block;
            ref float initA = ref Unsafe.Add(ref init, block * gateStride), initB = ref Unsafe.Add(ref init, second * gateStride);
            ref float destinationA = ref fuseCell ? ref pre : ref Unsafe.Add(ref c, block * gateStride);
            ref float destinationB = ref fuseCell ? ref Unsafe.Add(ref pre, gateStride) : ref Unsafe.Add(ref c, second * gateStride);
            if (TFormat.Quantized)
            {
                QuantizedRowBlock<TGates>(ref initA, ref Unsafe.Add(ref panelX, block * TFormat.BlockBytes(depthX, panelRows)), ref x, depthX,
                    ref Unsafe.Add(ref panelH, block * TFormat.BlockBytes(depthH, panelRows)), ref h, depthH, out TVec i, out TVec f, out TVec g, out TVec o);
                StoreSlots<TGates>(i, f, g, o, ref destinationA, ref initA);
                if (pair)
                {
                    QuantizedRowBlock<TGates>(ref initB, ref Unsafe.Add(ref panelX, second * TFormat.BlockBytes(depthX, panelRows)), ref x, depthX,
                        ref Unsafe.Add(ref panelH, second * TFormat.BlockBytes(depthH, panelRows)), ref h, depthH, out i, out f, out g, out o);
                    StoreSlots<TGates>(i, f, g, o, ref destinationB, ref initB);
                }
            }
            else if (pair) RowBlockPair<TGates>(ref initA, ref initB, ref panelX, ref x, depthX, ref panelH, ref h, depthH, block, second, ref destinationA, ref destinationB);
            else RowBlock<TGates>(ref initA, ref Unsafe.Add(ref panelX, block * TFormat.BlockBytes(depthX, panelRows)), ref x, depthX,
                ref Unsafe.Add(ref panelH, block * TFormat.BlockBytes(depthH, panelRows)), ref h, depthH, ref destinationA);

            // One row's blocks are laid out like a tile's rows: pre-activations gateStride apart, c and h width apart (going
            // down through the blocks when descending).
            if (fuseCell)
                FusedUpdate<TGates>(ref pre, pair ? 2 : 1, ref Unsafe.Add(ref c, block * width), order * width, ref Unsafe.Add(ref hOut, block * width), order * width,
                    keepGates, ref initA, order * gateStride, gruGate);
        }
    }

    /// <summary>Blocks of one row whose products run together and whose cell updates <see cref="RunRow"/> runs together.</summary>
    private const int EpilogueBlocks = 2;

    /// <summary>
    /// One row's gate pre-activations for blocks <paramref name="blockA"/> and <paramref name="blockB"/>, stored at the two
    /// destinations (slots the panels do not hold keep their start values). Each gate of each block is one FMA chain over k,
    /// x's part then h's, in the order a tile's rows use (<see cref="RunTile"/>): a row gives the same bits alone as in a tile,
    /// so a batch's answer for one sequence does not depend on which rows shared its step. Two blocks keep eight chains (a
    /// GRU's six) in flight and share each broadcast. The accumulators are named after the LSTM's gates i, f, g, o: the
    /// panel's gates 0–3.
    /// </summary>
    // Its own compilation unit: inlined into RunRow, the inline budget ran out and the loads and FMAs became calls.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RowBlockPair<TGates>(ref float initA, ref float initB, ref byte panelX, ref float x, int depthX, ref byte panelH, ref float h, int depthH,
        int blockA, int blockB, ref float destinationA, ref float destinationB) where TGates : struct, IGateLayout
    {
        int width = TVec.Count, panelRows = TGates.Count * width;
        bool third = TGates.Count > 2, fourth = TGates.Count > 3;
        TVec ia = Scaled(Start<TGates>(ref initA, 0)), fa = Scaled(Start<TGates>(ref initA, 1)), ga = Scaled(Start<TGates>(ref initA, 2)), oa = Scaled(Start<TGates>(ref initA, 3));
        TVec ib = Scaled(Start<TGates>(ref initB, 0)), fb = Scaled(Start<TGates>(ref initB, 1)), gb = Scaled(Start<TGates>(ref initB, 2)), ob = Scaled(Start<TGates>(ref initB, 3));
        nint pairBytes = TFormat.PairBytes(panelRows);
        for (int part = 0; part < 2; part++)
        {
            int depth = part == 0 ? depthX : depthH;
            ref byte panel = ref part == 0 ? ref panelX : ref panelH;
            ref byte a = ref Unsafe.Add(ref panel, blockA * TFormat.BlockBytes(depth, panelRows));
            ref byte b = ref Unsafe.Add(ref panel, blockB * TFormat.BlockBytes(depth, panelRows));
            ref float source = ref part == 0 ? ref x : ref h;
            int k = 0;
            // The products written out rather than through GateProducts: through it the JIT keeps one more address on the stack
            // across this loop, the hottest of a batch-1 step.
            for (; k + 2 <= depth; k += 2) // a whole pair per iteration: its two halves at constant offsets
            {
                nint offset = (k >> 1) * pairBytes;
                ref byte wa = ref Unsafe.Add(ref a, offset), wb = ref Unsafe.Add(ref b, offset);
                TVec s0 = Broadcast(ref source, k), s1 = Broadcast(ref source, k + 1);
                ia = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 0, panelRows, 0), s0, ia);
                fa = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, width, panelRows, 0), s0, fa);
                if (third) ga = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 2 * width, panelRows, 0), s0, ga);
                if (fourth) oa = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 3 * width, panelRows, 0), s0, oa);
                ib = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 0, panelRows, 0), s0, ib);
                fb = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, width, panelRows, 0), s0, fb);
                if (third) gb = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 2 * width, panelRows, 0), s0, gb);
                if (fourth) ob = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 3 * width, panelRows, 0), s0, ob);
                ia = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 0, panelRows, 1), s1, ia);
                fa = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, width, panelRows, 1), s1, fa);
                if (third) ga = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 2 * width, panelRows, 1), s1, ga);
                if (fourth) oa = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 3 * width, panelRows, 1), s1, oa);
                ib = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 0, panelRows, 1), s1, ib);
                fb = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, width, panelRows, 1), s1, fb);
                if (third) gb = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 2 * width, panelRows, 1), s1, gb);
                if (fourth) ob = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 3 * width, panelRows, 1), s1, ob);
            }

            if (k < depth)
            {
                nint offset = (k >> 1) * pairBytes;
                ref byte wa = ref Unsafe.Add(ref a, offset), wb = ref Unsafe.Add(ref b, offset);
                TVec s0 = Broadcast(ref source, k);
                ia = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 0, panelRows, 0), s0, ia);
                fa = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, width, panelRows, 0), s0, fa);
                if (third) ga = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 2 * width, panelRows, 0), s0, ga);
                if (fourth) oa = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wa, 3 * width, panelRows, 0), s0, oa);
                ib = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 0, panelRows, 0), s0, ib);
                fb = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, width, panelRows, 0), s0, fb);
                if (third) gb = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 2 * width, panelRows, 0), s0, gb);
                if (fourth) ob = TVec.MultiplyAdd(TFormat.Load<TVec>(ref wb, 3 * width, panelRows, 0), s0, ob);
            }
        }

        StoreSlots<TGates>(Unscaled(ia), Unscaled(fa), Unscaled(ga), Unscaled(oa), ref destinationA, ref initA);
        StoreSlots<TGates>(Unscaled(ib), Unscaled(fb), Unscaled(gb), Unscaled(ob), ref destinationB, ref initB);
    }

    /// <summary>
    /// One input k of one block of a row (<see cref="RowBlock"/>, <see cref="RunSequenceInRegisters"/>; <see cref="RowBlockPair"/> spells it out):
    /// the <paramref name="half"/> of the pair at <paramref name="pair"/> times <paramref name="s"/>, added to the block's gate
    /// chains, gate by gate (the panel's gates 0–3, named after the LSTM's).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GateProducts<TGates>(ref byte pair, int half, TVec s, ref TVec i, ref TVec f, ref TVec g, ref TVec o) where TGates : struct, IGateLayout
    {
        int width = TVec.Count, panelRows = TGates.Count * width;
        i = TVec.MultiplyAdd(TFormat.Load<TVec>(ref pair, 0, panelRows, half), s, i);
        f = TVec.MultiplyAdd(TFormat.Load<TVec>(ref pair, width, panelRows, half), s, f);
        if (TGates.Count > 2) g = TVec.MultiplyAdd(TFormat.Load<TVec>(ref pair, 2 * width, panelRows, half), s, g);
        if (TGates.Count > 3) o = TVec.MultiplyAdd(TFormat.Load<TVec>(ref pair, 3 * width, panelRows, half), s, o);
    }

    /// <summary>One block of <see cref="RowBlockPair"/>, for a row's odd last block.</summary>
    // Its own compilation unit: inlined into RunRow, the inline budget ran out and the loads and FMAs became calls.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RowBlock<TGates>(ref float init, ref byte panelX, ref float x, int depthX, ref byte panelH, ref float h, int depthH, ref float destination)
        where TGates : struct, IGateLayout
    {
        int panelRows = TGates.Count * TVec.Count;
        TVec i = Scaled(Start<TGates>(ref init, 0)), f = Scaled(Start<TGates>(ref init, 1)), g = Scaled(Start<TGates>(ref init, 2)), o = Scaled(Start<TGates>(ref init, 3));
        nint pairBytes = TFormat.PairBytes(panelRows);
        for (int part = 0; part < 2; part++)
        {
            ref byte panel = ref part == 0 ? ref panelX : ref panelH;
            ref float source = ref part == 0 ? ref x : ref h;
            int depth = part == 0 ? depthX : depthH;
            int k = 0;
            for (; k + 2 <= depth; k += 2)
            {
                ref byte w = ref Unsafe.Add(ref panel, (k >> 1) * pairBytes);
                GateProducts<TGates>(ref w, 0, Broadcast(ref source, k), ref i, ref f, ref g, ref o);
                GateProducts<TGates>(ref w, 1, Broadcast(ref source, k + 1), ref i, ref f, ref g, ref o);
            }

            if (k < depth) GateProducts<TGates>(ref Unsafe.Add(ref panel, (k >> 1) * pairBytes), 0, Broadcast(ref source, k), ref i, ref f, ref g, ref o);
        }

        StoreSlots<TGates>(Unscaled(i), Unscaled(f), Unscaled(g), Unscaled(o), ref destination, ref init);
    }

    /// <summary>
    /// Rows per register tile: each weight vector loaded is used by this many rows. 4 rows × 4 gates need
    /// 16 accumulators + 4 broadcasts + 1 weight = 21 vector registers, which AVX-512 (32 registers at every
    /// width) and Arm64 (32) have; x64 without AVX-512 has 16, so it takes 3 rows (16 registers exactly).
    /// A JIT-time constant: the code for the unused fourth row is removed. Int8 tiles need a spare register for the
    /// 16-bit products, so with 16 registers they take 2 rows.
    /// </summary>
    internal static int TileRows
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        get => Avx512F.IsSupported || AdvSimd.Arm64.IsSupported ? 4 : TFormat.Quantized ? 2 : 3;
    }

    /// <summary>
    /// One tile of <see cref="TileRows"/> rows for one block: init + x·panelX + h·panelH (either depth may be 0),
    /// then either the fused cell update (c and h rows) or a plain store of the pre-activations (gx rows, in
    /// <paramref name="c"/> with <paramref name="cStride"/>; slots the panels do not hold keep their start values). The
    /// accumulators stay this method's own locals, named after the LSTM's gates (the panel's gates 0–3) and row.
    /// </summary>
    // Too large for the JIT to inline into its callers; compiled fully optimised from the first call instead
    // (otherwise it would start as tier-0 code). One call per tile and block is noise beside its k loop.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void RunTile<TGates>(ref float init, int initStride,
        ref byte panelX, ref float x, int xStride, int depthX, ref byte panelH, ref float h, int hStride, int depthH,
        bool fuseCell, ref float c, int cStride, ref float hOut, int hOutStride, bool keepGates, Activation gruGate = default) where TGates : struct, IGateLayout
    {
        if (TFormat.Quantized)
        {
            RunQuantizedTile<TGates>(ref init, initStride, ref panelX, ref x, xStride, depthX, ref panelH, ref h, hStride, depthH, fuseCell, ref c, cStride, ref hOut, hOutStride, keepGates, gruGate);
            return;
        }

        int width = TVec.Count, gateStride = Slots * width, panelRows = TGates.Count * width, tileRows = TileRows;
        bool four = tileRows == 4, third = TGates.Count > 2, fourth = TGates.Count > 3;
        ref float init1 = ref Unsafe.Add(ref init, initStride);
        ref float init2 = ref Unsafe.Add(ref init1, initStride);
        ref float init3 = ref Unsafe.Add(ref init2, four ? initStride : 0);
        TVec ai0 = Start<TGates>(ref init, 0), af0 = Start<TGates>(ref init, 1), ag0 = Start<TGates>(ref init, 2), ao0 = Start<TGates>(ref init, 3);
        TVec ai1 = Start<TGates>(ref init1, 0), af1 = Start<TGates>(ref init1, 1), ag1 = Start<TGates>(ref init1, 2), ao1 = Start<TGates>(ref init1, 3);
        TVec ai2 = Start<TGates>(ref init2, 0), af2 = Start<TGates>(ref init2, 1), ag2 = Start<TGates>(ref init2, 2), ao2 = Start<TGates>(ref init2, 3);
        TVec ai3 = TVec.Zero, af3 = TVec.Zero, ag3 = TVec.Zero, ao3 = TVec.Zero;
        if (four)
        {
            ai3 = Start<TGates>(ref init3, 0);
            af3 = Start<TGates>(ref init3, 1);
            ag3 = Start<TGates>(ref init3, 2);
            ao3 = Start<TGates>(ref init3, 3);
        }

        // Scaled formats only (a constant condition: the JIT drops the block, and its inlinees, for exact formats,
        // which keeps this kernel inside the JIT's inline budget).
        if (TFormat.ActivationScale != 1f)
        {
            (ai0, af0, ag0, ao0) = (Scaled(ai0), Scaled(af0), Scaled(ag0), Scaled(ao0));
            (ai1, af1, ag1, ao1) = (Scaled(ai1), Scaled(af1), Scaled(ag1), Scaled(ao1));
            (ai2, af2, ag2, ao2) = (Scaled(ai2), Scaled(af2), Scaled(ag2), Scaled(ao2));
            if (four) (ai3, af3, ag3, ao3) = (Scaled(ai3), Scaled(af3), Scaled(ag3), Scaled(ao3));
        }

        for (int part = 0; part < 2; part++)
        {
            ref byte panel = ref part == 0 ? ref panelX : ref panelH;
            ref float source0 = ref part == 0 ? ref x : ref h;
            int stride = part == 0 ? xStride : hStride;
            int depth = part == 0 ? depthX : depthH;
            ref float source1 = ref Unsafe.Add(ref source0, stride);
            ref float source2 = ref Unsafe.Add(ref source1, stride);
            ref float source3 = ref Unsafe.Add(ref source2, four ? stride : 0);
            // Pairs of k (one pair of a 16-bit panel's words, two rows of fp32's) with the half a constant in each call, so each
            // k costs its loads and FMAs and no address arithmetic; an odd depth ends with the first half of a pair.
            nint pairBytes = TFormat.PairBytes(panelRows);
            ref byte pair = ref panel;
            nint k = 0;
            for (; k + 2 <= depth; k += 2, pair = ref Unsafe.Add(ref pair, pairBytes))
            {
                TileProducts<TGates>(ref pair, 0, ref source0, ref source1, ref source2, ref source3, k,
                    ref ai0, ref af0, ref ag0, ref ao0, ref ai1, ref af1, ref ag1, ref ao1, ref ai2, ref af2, ref ag2, ref ao2, ref ai3, ref af3, ref ag3, ref ao3);
                TileProducts<TGates>(ref pair, 1, ref source0, ref source1, ref source2, ref source3, k + 1,
                    ref ai0, ref af0, ref ag0, ref ao0, ref ai1, ref af1, ref ag1, ref ao1, ref ai2, ref af2, ref ag2, ref ao2, ref ai3, ref af3, ref ag3, ref ao3);
            }

            if (k < depth)
            {
                TileProducts<TGates>(ref pair, 0, ref source0, ref source1, ref source2, ref source3, k,
                    ref ai0, ref af0, ref ag0, ref ao0, ref ai1, ref af1, ref ag1, ref ao1, ref ai2, ref af2, ref ag2, ref ao2, ref ai3, ref af3, ref ag3, ref ao3);
            }
        }

        if (TFormat.ActivationScale != 1f)
        {
            (ai0, af0, ag0, ao0) = (Unscaled(ai0), Unscaled(af0), Unscaled(ag0), Unscaled(ao0));
            (ai1, af1, ag1, ao1) = (Unscaled(ai1), Unscaled(af1), Unscaled(ag1), Unscaled(ao1));
            (ai2, af2, ag2, ao2) = (Unscaled(ai2), Unscaled(af2), Unscaled(ag2), Unscaled(ao2));
            if (four) (ai3, af3, ag3, ao3) = (Unscaled(ai3), Unscaled(af3), Unscaled(ag3), Unscaled(ao3));
        }

        // The pre-activations go to c's rows (no fused update), or through a small stack tile (L1) to the epilogue, which is
        // its own method: inlining four copies of σ and tanh here would exhaust the JIT's inline budget for the whole kernel.
        Span<float> tile = stackalloc float[4 * Slots * TVec.Count];
        ref float pre = ref fuseCell ? ref MemoryMarshal.GetReference(tile) : ref c;
        int preStride = fuseCell ? gateStride : cStride;
        StoreSlots<TGates>(ai0, af0, ag0, ao0, ref pre, ref init);
        StoreSlots<TGates>(ai1, af1, ag1, ao1, ref Unsafe.Add(ref pre, preStride), ref init1);
        StoreSlots<TGates>(ai2, af2, ag2, ao2, ref Unsafe.Add(ref pre, 2 * preStride), ref init2);
        if (four) StoreSlots<TGates>(ai3, af3, ag3, ao3, ref Unsafe.Add(ref pre, 3 * preStride), ref init3);
        if (fuseCell) FusedUpdate<TGates>(ref pre, tileRows, ref c, cStride, ref hOut, hOutStride, keepGates, ref init, initStride, gruGate);
    }

    /// <summary>
    /// One input k of <see cref="RunTile"/>: each row's activation at k (broadcast) times the block's weights of k (the
    /// <paramref name="half"/> of the pair at <paramref name="pair"/>), added to the row's gate accumulators. One weight vector
    /// is live at a time (a 4-row tile has no registers for a second set of broadcasts).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void TileProducts<TGates>(ref byte pair, int half, ref float source0, ref float source1, ref float source2, ref float source3, nint k,
        ref TVec ai0, ref TVec af0, ref TVec ag0, ref TVec ao0, ref TVec ai1, ref TVec af1, ref TVec ag1, ref TVec ao1,
        ref TVec ai2, ref TVec af2, ref TVec ag2, ref TVec ao2, ref TVec ai3, ref TVec af3, ref TVec ag3, ref TVec ao3) where TGates : struct, IGateLayout
    {
        int width = TVec.Count, panelRows = TGates.Count * width;
        bool four = TileRows == 4, third = TGates.Count > 2, fourth = TGates.Count > 3;
        TVec s0 = Broadcast(ref source0, k), s1 = Broadcast(ref source1, k), s2 = Broadcast(ref source2, k);
        TVec s3 = four ? Broadcast(ref source3, k) : TVec.Zero;
        TVec wv = TFormat.Load<TVec>(ref pair, 0, panelRows, half);
        ai0 = TVec.MultiplyAdd(wv, s0, ai0);
        ai1 = TVec.MultiplyAdd(wv, s1, ai1);
        ai2 = TVec.MultiplyAdd(wv, s2, ai2);
        if (four) ai3 = TVec.MultiplyAdd(wv, s3, ai3);
        wv = TFormat.Load<TVec>(ref pair, width, panelRows, half);
        af0 = TVec.MultiplyAdd(wv, s0, af0);
        af1 = TVec.MultiplyAdd(wv, s1, af1);
        af2 = TVec.MultiplyAdd(wv, s2, af2);
        if (four) af3 = TVec.MultiplyAdd(wv, s3, af3);
        if (third)
        {
            wv = TFormat.Load<TVec>(ref pair, 2 * width, panelRows, half);
            ag0 = TVec.MultiplyAdd(wv, s0, ag0);
            ag1 = TVec.MultiplyAdd(wv, s1, ag1);
            ag2 = TVec.MultiplyAdd(wv, s2, ag2);
            if (four) ag3 = TVec.MultiplyAdd(wv, s3, ag3);
        }

        if (fourth)
        {
            wv = TFormat.Load<TVec>(ref pair, 3 * width, panelRows, half);
            ao0 = TVec.MultiplyAdd(wv, s0, ao0);
            ao1 = TVec.MultiplyAdd(wv, s1, ao1);
            ao2 = TVec.MultiplyAdd(wv, s2, ao2);
            if (four) ao3 = TVec.MultiplyAdd(wv, s3, ao3);
        }
    }

    /// <summary>
    /// Whether a step over <typeparamref name="TGates"/> panels can end in a fused update: the LSTM's cell (its four gates)
    /// or the GRU's (its recurrent panel, reset gate after the product). A JIT-time constant.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool HasFusedUpdate<TGates>() where TGates : struct, IGateLayout => TGates.Count == Slots || typeof(TGates) == typeof(GruRecurrentGates);

    /// <summary>
    /// The fused update of <paramref name="rows"/> rows (or one row's blocks) from their pre-activations, all four slots,
    /// <c>Slots × width</c> apart at <paramref name="pre"/>: the LSTM's cell (<paramref name="state"/> is c) or the GRU's
    /// (<paramref name="state"/> is h_{t−1}, gates by <paramref name="gruGate"/>). With <paramref name="keepGates"/>
    /// (training) the LSTM's activated gates, or the GRU's pre-activations (what its backward reads), go to
    /// <paramref name="gatesOut"/>.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FusedUpdate<TGates>(ref float pre, int rows, ref float state, int stateStride, ref float hOut, int hOutStride,
        bool keepGates, ref float gatesOut, int gatesOutStride, Activation gruGate) where TGates : struct, IGateLayout
    {
        int gateStride = Slots * TVec.Count;
        if (TGates.Count == Slots)
        {
            CellEpilogue(ref pre, rows, ref state, stateStride, ref hOut, hOutStride, keepGates, ref gatesOut, gatesOutStride);
            return;
        }

        if (keepGates)
        {
            for (int r = 0; r < rows; r++)
                CopyRow(ref Unsafe.Add(ref pre, r * gateStride), ref Unsafe.Add(ref gatesOut, r * gatesOutStride), gateStride);
        }

        GruCellKernels<TVec>.Update(gruGate, ref pre, gateStride, ref state, stateStride, ref hOut, hOutStride, rows, 0, 1, default);
    }

    /// <summary>
    /// The cell update for <paramref name="rows"/> rows of one block, from their pre-activations (rows × 4 gates × width);
    /// with <paramref name="keepGates"/>, the activated gates are also stored at <paramref name="gatesOut"/> (training).
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static void CellEpilogue(ref float pre, int rows, ref float c, int cStride, ref float hOut, int hOutStride,
        bool keepGates, ref float gatesOut, int gatesOutStride)
    {
        int width = TVec.Count;
        for (int r = 0; r < rows; r++)
        {
            ref float gates = ref Unsafe.Add(ref pre, r * Slots * width);
            TVec i = Activations.Sigmoid(TVec.Load(in gates)), f = Activations.Sigmoid(TVec.Load(in Unsafe.Add(ref gates, width)));
            TVec g = Activations.Tanh(TVec.Load(in Unsafe.Add(ref gates, 2 * width))), o = Activations.Sigmoid(TVec.Load(in Unsafe.Add(ref gates, 3 * width)));
            if (keepGates) StoreGates(i, f, g, o, ref Unsafe.Add(ref gatesOut, r * gatesOutStride));
            UpdateActivatedCell(i, f, g, o, ref Unsafe.Add(ref c, r * cStride), ref Unsafe.Add(ref hOut, r * hOutStride));
        }
    }

    /// <summary>
    /// An activation broadcast, times the format's <see cref="IWeightFormat.ActivationScale"/> (a no-op the JIT removes for exact
    /// formats): <paramref name="source"/>[<paramref name="index"/>]. Taken as base and index, both plain locals at every call
    /// site, so that once inlined the broadcast still reads straight from memory (a float argument would go through a
    /// temporary and cost a load and a register broadcast per activation).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Broadcast(ref float source, nint index) =>
        TFormat.ActivationsPrescaled || TFormat.ActivationScale == 1f ? TVec.Create(Unsafe.Add(ref source, index)) : TVec.Create(Unsafe.Add(ref source, index) * TFormat.ActivationScale);

    /// <summary>A starting value moved into the scaled domain the accumulators run in.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Scaled(TVec value) => TFormat.ActivationScale == 1f ? value : value * TVec.Create(1f / TFormat.ActivationScale);

    /// <summary>An accumulator moved back out of the scaled domain.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Unscaled(TVec value) => TFormat.ActivationScale == 1f ? value : value * TVec.Create(TFormat.ActivationScale);

    private static bool AllActive(ReadOnlySpan<byte> rows)
    {
        foreach (byte row in rows)
        {
            if (row == 0) return false;
        }

        return true;
    }

    /// <summary>The cell update from activated gates: c = f·c + i·g, h = o·tanh(c), in registers.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void UpdateActivatedCell(TVec i, TVec f, TVec g, TVec o, ref float c, ref float h)
    {
        (TVec cNew, TVec hNew) = ActivatedCell(i, f, g, o, TVec.Load(in c));
        TVec.Store(cNew, ref c);
        TVec.Store(hNew, ref h);
    }

    /// <summary>The new c (flushed below normal) and h of <see cref="UpdateActivatedCell"/>, from c in a register.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (TVec C, TVec H) ActivatedCell(TVec i, TVec f, TVec g, TVec o, TVec c)
    {
        TVec cNew = Activations.FlushBelowNormal(TVec.MultiplyAdd(f, c, i * g));
        return (cNew, o * Activations.Tanh(cNew));
    }

    /// <summary>The start value of the panel's gate <paramref name="gate"/>: its slot of <paramref name="init"/> (zero past the panel's gates).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Start<TGates>(ref float init, int gate) where TGates : struct, IGateLayout =>
        gate < TGates.Count ? TVec.Load(in Unsafe.Add(ref init, TGates.Slot(gate) * TVec.Count)) : TVec.Zero;

    /// <summary>
    /// Stores the panel's gates into their slots of <paramref name="destination"/>, and the slots it does not hold from
    /// <paramref name="start"/> as they are (a GRU's other part of n: its input part, or b_hn alone).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreSlots<TGates>(TVec gate0, TVec gate1, TVec gate2, TVec gate3, ref float destination, ref float start) where TGates : struct, IGateLayout
    {
        int width = TVec.Count;
        TVec.Store(gate0, ref Unsafe.Add(ref destination, TGates.Slot(0) * width));
        TVec.Store(gate1, ref Unsafe.Add(ref destination, TGates.Slot(1) * width));
        if (TGates.Count > 2) TVec.Store(gate2, ref Unsafe.Add(ref destination, TGates.Slot(2) * width));
        if (TGates.Count > 3) TVec.Store(gate3, ref Unsafe.Add(ref destination, TGates.Slot(3) * width));
        if (!TGates.Holds(2)) TVec.Store(TVec.Load(in Unsafe.Add(ref start, 2 * width)), ref Unsafe.Add(ref destination, 2 * width));
        if (!TGates.Holds(3)) TVec.Store(TVec.Load(in Unsafe.Add(ref start, 3 * width)), ref Unsafe.Add(ref destination, 3 * width));
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
