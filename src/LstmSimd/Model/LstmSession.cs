using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LstmSimd.Execution;
using LstmSimd.Kernels;

namespace LstmSimd;

/// <summary>
/// Runs an <see cref="LstmModel"/> on one thread: owns the streaming state (h and c of every layer) and every
/// scratch buffer, all sized at creation, so that <see cref="Forward"/> and <see cref="Step"/> allocate nothing.
/// One caller at a time: create one session per thread (they can share the model). A call made while another is running
/// throws <see cref="InvalidOperationException"/> (every public method checks, with one interlocked operation) instead of
/// sharing its buffers. With <see cref="LstmModel.Threads"/> above 1 the session also owns persistent worker threads;
/// dispose it to stop them. Calls check their inputs' magnitudes too (see the README's Numerics section): an input that
/// could overflow the fp32 sums is refused with <see cref="ArgumentOutOfRangeException"/>.
/// </summary>
public sealed unsafe partial class LstmSession : IDisposable
{
    private readonly LstmModel _model;
    private readonly LstmSpec _spec;
    private readonly KernelSet _kernels;
    private readonly KernelTeam _team;
    private readonly ConcurrentDirectionsWork _directions;

    // Row strides, padded to whole vectors so the kernels store full blocks.
    private readonly int _hiddenStride;   // c and the unprojected h: H rounded up
    private readonly int _outputStride;   // h as layers see it: H_out rounded up
    private readonly int _gateStride;     // a row of pre-activations: 4 × padded H

    private readonly DirectionScratch[] _scratch; // one, or one per direction when directions run concurrently
    private readonly float[][] _layerOutputs;     // two [maxSteps, maxBatch, D·H_out] buffers, for the layers below the top one
    private readonly AlignedBuffer<float> _stateH, _stateC; // streaming state, [L, maxBatch, stride]

    private ForwardCall _call; // the current Forward's arguments, pinned, for whichever thread runs a direction
    private bool _descendingStep; // Step's block order, alternated per call (see CellStepArgs.Descending)
    private readonly SingleCaller _caller;
    private float[]? _stateMagnitudes; // per layer, the largest |h| SetState loaded since the last reset (null: none)

    internal LstmSession(LstmModel model, int maxBatch, int maxSteps)
    {
        ShapeChecks.Positive(maxBatch, nameof(maxBatch));
        ShapeChecks.Positive(maxSteps, nameof(maxSteps));
        _model = model;
        _spec = model.Spec;
        _kernels = model.Kernels;
        MaxBatch = maxBatch;
        MaxSteps = maxSteps;
        // Every buffer is planned before any is allocated, in checked 64-bit arithmetic: a session too large to represent
        // fails here, and the calls may index the buffers with int products, which then cannot wrap.
        int width = _kernels.Width;
        _hiddenStride = Sizes.RoundUp("padded H", _spec.HiddenSize, width);
        _outputStride = Sizes.RoundUp("padded H_out", _spec.OutputHiddenSize, width);
        _gateStride = Sizes.Elements("gate row 4 × padded H", 4, _hiddenStride);
        bool quantizes = _kernels.QuantizesActivations;
        var scratchSizes = new ScratchSizes(
            Gates: Sizes.Elements("pre-activations maxSteps × maxBatch × 4 × padded H", maxSteps, maxBatch, _gateStride),
            QuantizedInput: quantizes ? Sizes.Elements("quantised inputs maxSteps × maxBatch × row stride", maxSteps, maxBatch, QuantizedRows.Stride(Math.Max(_spec.InputSize, _spec.OutputSize))) : 0,
            QuantizedState: quantizes ? Sizes.Elements("quantised state maxBatch × row stride", maxBatch, QuantizedRows.Stride(Math.Max(_spec.HiddenSize, _spec.OutputHiddenSize))) : 0,
            H: Sizes.Elements("h maxBatch × padded H_out", maxBatch, _outputStride),
            HRaw: _spec.ProjectionSize > 0 || _spec.Cell.ResetBeforeProduct ? Sizes.Elements("unprojected h (or a GRU's r ⊙ h) maxBatch × padded H", maxBatch, _hiddenStride) : 0,
            Cell: Sizes.Elements("c maxBatch × padded H", maxBatch, _hiddenStride),
            Batch: maxBatch,
            WidePanel: maxSteps >= 2 ? model.Layers.Max(layer => _kernels.WidenedPanelFloats(layer.Recurrent, maxBatch)) : 0);
        int layerOutput = _spec.NumLayers > 1 ? Sizes.Elements("layer outputs maxSteps × maxBatch × D·H_out", maxSteps, maxBatch, _spec.OutputSize) : 0;
        int stateH = Sizes.Elements("streaming h layers × maxBatch × padded H_out", _spec.NumLayers, maxBatch, _outputStride);
        int stateC = Sizes.Elements("streaming c layers × maxBatch × padded H", _spec.NumLayers, maxBatch, _hiddenStride);

        ConcurrentDirections = _spec.Bidirectional && model.Threads >= 2;
        _scratch = new DirectionScratch[ConcurrentDirections ? 2 : 1];
        for (int i = 0; i < _scratch.Length; i++) _scratch[i] = new DirectionScratch(scratchSizes);
        _layerOutputs = _spec.NumLayers > 1 ? [new float[layerOutput], new float[_spec.NumLayers > 2 ? layerOutput : 0]] : [[], []];
        _stateH = new AlignedBuffer<float>(stateH);
        _stateC = new AlignedBuffer<float>(stateC);
        _directions = new ConcurrentDirectionsWork(this);
        _caller = new SingleCaller(this, "session");
        _team = new KernelTeam(model.Threads, _kernels);
    }

    /// <summary>The model this session runs.</summary>
    public LstmModel Model => _model;

    /// <summary>The largest batch a call may pass.</summary>
    public int MaxBatch { get; }

    /// <summary>The longest sequence <see cref="Forward"/> may pass.</summary>
    public int MaxSteps { get; }

    /// <summary>Whether the two directions of a bidirectional layer run on two threads at once.</summary>
    internal bool ConcurrentDirections { get; }

    /// <summary>
    /// Runs the whole model over a batch of sequences, as PyTorch's <c>nn.LSTM</c> forward does. The streaming
    /// state of <see cref="Step"/> is neither read nor changed.
    /// </summary>
    /// <param name="input">[T, B, I] time-major, or [B, T, I] with <see cref="SequenceLayout.BatchFirst"/>.</param>
    /// <param name="steps">T, at most <see cref="MaxSteps"/>.</param>
    /// <param name="batch">B, at most <see cref="MaxBatch"/>.</param>
    /// <param name="output">[T, B, D·H_out] (or [B, T, D·H_out]); zero past each sequence's length.</param>
    /// <param name="hN">Receives h_n [L·D, B, H_out] unless empty.</param>
    /// <param name="cN">Receives c_n [L·D, B, H] unless empty.</param>
    /// <param name="h0">Initial h [L·D, B, H_out]; empty for zeros.</param>
    /// <param name="c0">Initial c [L·D, B, H]; empty for zeros.</param>
    /// <param name="lengths">[B] lengths in [0, T] with packed-sequence meaning; empty when every sequence has T steps.</param>
    /// <param name="layout">The layout of <paramref name="input"/> and <paramref name="output"/>.</param>
    /// <exception cref="ArgumentException">A span's length does not match the shapes, or a size is out of range; nothing is written.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An element of <paramref name="input"/> or <paramref name="h0"/> could overflow the fp32 sums (it is named); nothing is written.</exception>
    /// <exception cref="OverflowException">A cell with a ReLU activation (which has no bound to check inputs against) overflowed fp32 from finite inputs; the outputs are not valid.</exception>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void Forward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output,
        Span<float> hN = default, Span<float> cN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default,
        ReadOnlySpan<int> lengths = default, SequenceLayout layout = SequenceLayout.TimeMajor)
    {
        _caller.Enter();
        try
        {
            ShapeChecks.Sequence(_spec, steps, batch, input.Length, output.Length, h0.Length, c0.Length, lengths, hN.Length, cN.Length, outputRequired: true);
            CheckCapacity(steps, batch);
            ShapeChecks.Layout(layout);
            _model.Bounds.CheckSequence(input, h0, batch);
            bool watch = _model.Bounds.StateMayOverflow && !SumBounds.HasNaN(input) && !SumBounds.HasNaN(h0) && !SumBounds.HasNaN(c0);
            RunForward(input, steps, batch, output, hN, cN, h0, c0, lengths, layout, watch);
            if (watch) ThrowOnCellOverflow();
        }
        finally
        {
            _caller.Exit();
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunForward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output, Span<float> hN, Span<float> cN,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<int> lengths, SequenceLayout layout, bool watchOverflow)
    {
        foreach (DirectionScratch scratch in _scratch) scratch.Overflow = (-1, 0, 0);

        // Everything a layer reads or writes stays pinned for the whole call: a layer's output buffer is the next layer's input.
        fixed (float* pInput = input, pOutput = output, pHn = hN, pCn = cN, pH0 = h0, pC0 = c0)
        fixed (float* pBuffer0 = _layerOutputs[0], pBuffer1 = _layerOutputs[1])
        fixed (int* pLengths = lengths)
        {
            _call = new ForwardCall
            {
                Steps = steps,
                Batch = batch,
                Output = pOutput,
                HN = pHn,
                CN = pCn,
                H0 = pH0,
                C0 = pC0,
                Lengths = lengths.IsEmpty ? null : pLengths,
                BatchFirst = layout == SequenceLayout.BatchFirst,
                WatchOverflow = watchOverflow,
                LayerInput = pInput,
            };
            int dirs = _spec.Directions;
            for (int layer = 0; layer < _spec.NumLayers; layer++)
            {
                bool top = layer == _spec.NumLayers - 1;
                _call.Layer = layer;
                _call.LayerOutput = top ? pOutput : layer % 2 == 0 ? pBuffer0 : pBuffer1;
                if (ConcurrentDirections)
                {
                    _team.RunOnEveryMember(_directions);
                }
                else
                {
                    for (int d = 0; d < dirs; d++) RunDirection(d, _scratch[0], share: true);
                }

                _call.LayerInput = _call.LayerOutput;
            }

            _call = default;
        }
    }

    /// <summary>
    /// Advances the streaming state by one time step for <paramref name="batch"/> sequences and writes the top layer's h.
    /// </summary>
    /// <param name="input">x_t: [B, I].</param>
    /// <param name="batch">B, at most <see cref="MaxBatch"/>; rows past it keep their state.</param>
    /// <param name="output">Receives h_t of the top layer: [B, H_out].</param>
    /// <exception cref="InvalidOperationException">The model is bidirectional: its reverse direction needs the whole sequence; or another call of this session is running.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An element of <paramref name="input"/> could overflow the fp32 sums (it is named); nothing changes.</exception>
    /// <exception cref="OverflowException">A cell with a ReLU activation overflowed fp32 from a finite input and state; the state holds the overflowed values until <see cref="ResetState"/> or <see cref="SetState"/>.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void Step(ReadOnlySpan<float> input, int batch, Span<float> output)
    {
        _caller.Enter();
        try
        {
            if (_spec.Bidirectional) throw new InvalidOperationException("Step streams forward in time; a bidirectional model needs the whole sequence: call Forward.");
            ShapeChecks.Positive(batch, nameof(batch));
            CheckCapacity(1, batch);
            ShapeChecks.Length(input.Length, (long)batch * _spec.InputSize, nameof(input), "[B={0}, I={1}]", batch, _spec.InputSize);
            ShapeChecks.Length(output.Length, (long)batch * _spec.OutputHiddenSize, nameof(output), "[B={0}, H_out={1}]", batch, _spec.OutputHiddenSize);
            _model.Bounds.CheckStep(input, _stateMagnitudes);
            bool watch = _model.Bounds.StateMayOverflow && !SumBounds.HasNaN(input) && FirstNonFiniteState(batch) is null;
            RunStep(input, batch, output);
            if (watch && FirstNonFiniteState(batch) is (int layer, int index, float value)) throw _model.Bounds.CellOverflow(layer, index, value);
        }
        finally
        {
            _caller.Exit();
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunStep(ReadOnlySpan<float> input, int batch, Span<float> output)
    {
        DirectionScratch scratch = _scratch[0];
        fixed (float* pInput = input)
        {
            float* pStateH = _stateH.Pointer, pStateC = _stateC.Pointer, pNext = scratch.HNext.Pointer, pRaw = scratch.HRaw.Pointer;
            float* pQuantizedInput = scratch.QuantizedInput.Pointer, pQuantizedState = scratch.QuantizedState.Pointer, pGates = scratch.Gates.Pointer;
            float* x = pInput;
            int xStride = _spec.InputSize;
            for (int layer = 0; layer < _spec.NumLayers; layer++)
            {
                float* h = pStateH + layer * MaxBatch * _outputStride;
                var step = new CellStep
                {
                    Layer = _model.Layers[layer],
                    Init = null, // a streaming step: the bias, with x·W_ih fused in
                    X = _team.KernelRows(x, batch, xStride, _spec.LayerInputSize(layer), pQuantizedInput, out int kernelXStride),
                    XRowStride = kernelXStride,
                    H = _team.KernelRows(h, batch, _outputStride, _spec.OutputHiddenSize, pQuantizedState, out int kernelHStride),
                    HRowStride = kernelHStride,
                    HPrevious = h,
                    C = pStateC + layer * MaxBatch * _hiddenStride,
                    CRowStride = _hiddenStride,
                    HNext = pNext,
                    HNextRowStride = _outputStride,
                    HRaw = pRaw,
                    HRawRowStride = _hiddenStride,
                    QuantizedState = pQuantizedState,
                    PreActivations = pGates, // the bias is shared: a cell variant's pre-activations need rows of their own
                    PreActivationsRowStride = _gateStride,
                    Rows = batch,
                    Descending = _descendingStep,
                };
                _team.Cell(ref step, share: true);
                new ReadOnlySpan<float>(pNext, batch * _outputStride).CopyTo(new Span<float>(h, batch * _outputStride));

                // The next layer reads this layer's new h straight from the state.
                x = h;
                xStride = _outputStride;
            }
        }

        _descendingStep = !_descendingStep;
        int hOut = _spec.OutputHiddenSize;
        Span<float> top = _stateH.Span.Slice((_spec.NumLayers - 1) * MaxBatch * _outputStride);
        for (int b = 0; b < batch; b++)
            top.Slice(b * _outputStride, hOut).CopyTo(output.Slice(b * hOut, hOut));
    }

    /// <summary>The first non-finite c of the streaming state's rows [0, <paramref name="batch"/>), layer by layer; null when every one is finite.</summary>
    private (int Layer, int Index, float Value)? FirstNonFiniteState(int batch)
    {
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            if (FirstNonFiniteCell(_stateC.Span.Slice(layer * MaxBatch * _hiddenStride), batch) is (int index, float value)) return (layer, index, value);
        }

        return null;
    }

    /// <summary>Sets the streaming state of every row to zero.</summary>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void ResetState()
    {
        _caller.Enter();
        try
        {
            _stateH.Span.Clear();
            _stateC.Span.Clear();
            _stateMagnitudes = null;
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>Sets the streaming state of rows [0, <paramref name="batch"/>) from h [L, B, H_out] and c [L, B, H].</summary>
    /// <exception cref="ArgumentOutOfRangeException">An element of <paramref name="h"/> could overflow the fp32 sums of the next steps (it is named); nothing changes.</exception>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void SetState(ReadOnlySpan<float> h, ReadOnlySpan<float> c, int batch)
    {
        _caller.Enter();
        try
        {
            ShapeChecks.Positive(batch, nameof(batch));
            CheckCapacity(1, batch);
            CheckState(h.Length, c.Length, batch);
            Span<float> magnitudes = stackalloc float[_spec.NumLayers];
            _model.Bounds.CheckState(h, batch, magnitudes);
            _stateMagnitudes ??= new float[_spec.NumLayers];
            for (int layer = 0; layer < _spec.NumLayers; layer++)
            {
                _stateMagnitudes[layer] = Math.Max(_stateMagnitudes[layer], magnitudes[layer]); // rows past batch keep theirs
                int hRows = batch * _spec.OutputHiddenSize, cRows = batch * _spec.HiddenSize;
                PaddedRows.Load(h.Slice(layer * hRows, hRows), _spec.OutputHiddenSize, batch, _stateH.Span.Slice(layer * MaxBatch * _outputStride), _outputStride);
                PaddedRows.Load(c.Slice(layer * cRows, cRows), _spec.HiddenSize, batch, _stateC.Span.Slice(layer * MaxBatch * _hiddenStride), _hiddenStride);
            }
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>Copies the streaming state of rows [0, <paramref name="batch"/>) into h [L, B, H_out] and c [L, B, H].</summary>
    /// <exception cref="InvalidOperationException">Another call of this session is running.</exception>
    /// <exception cref="ObjectDisposedException">The session was disposed.</exception>
    public void GetState(Span<float> h, Span<float> c, int batch)
    {
        _caller.Enter();
        try
        {
            ShapeChecks.Positive(batch, nameof(batch));
            CheckCapacity(1, batch);
            CheckState(h.Length, c.Length, batch);
            for (int layer = 0; layer < _spec.NumLayers; layer++)
            {
                int hRows = batch * _spec.OutputHiddenSize, cRows = batch * _spec.HiddenSize;
                PaddedRows.Store(_stateH.Span.Slice(layer * MaxBatch * _outputStride), _outputStride, h.Slice(layer * hRows, hRows), _spec.OutputHiddenSize, batch);
                PaddedRows.Store(_stateC.Span.Slice(layer * MaxBatch * _hiddenStride), _hiddenStride, c.Slice(layer * cRows, cRows), _spec.HiddenSize, batch);
            }
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>
    /// Stops the session's worker threads, if it has any; every later call throws <see cref="ObjectDisposedException"/>.
    /// A call running on another thread is waited for (it finishes normally), so nothing is torn down under it; calling
    /// Dispose again does nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from inside one of the session's own calls.</exception>
    public void Dispose()
    {
        if (_caller.TryDispose()) _team.Dispose();
    }

    /// <summary>
    /// One direction of one layer of the current <see cref="Forward"/> (see <see cref="DirectionRunner"/>). <paramref name="share"/>
    /// shares each kernel call across the team; it is false when this direction already runs on a team member of its own.
    /// </summary>
    private void RunDirection(int direction, DirectionScratch scratch, bool share)
    {
        ref readonly ForwardCall call = ref _call;
        int batch = call.Batch, layer = call.Layer;
        int slot = layer * _spec.Directions + direction;
        bool top = layer == _spec.NumLayers - 1;
        fixed (byte* pActive = scratch.Active)
        {
            DirectionPass pass = DirectionPass.Create(_spec, _model.Layers[slot], layer, direction, call.Steps, batch, _outputStride, _hiddenStride);
            pass.Input = call.LayerInput;
            pass.InputBatchFirst = call.BatchFirst && layer == 0; // only the caller's tensors can be batch-first
            pass.QuantizedInput = scratch.QuantizedInput.Pointer;
            pass.QuantizedState = scratch.QuantizedState.Pointer;
            pass.Gates = scratch.Gates.Pointer;
            pass.H = scratch.HPrevious.Pointer;
            pass.HSpare = scratch.HNext.Pointer;
            pass.C = scratch.Cell.Pointer;
            pass.Raw = scratch.HRaw.Pointer;
            pass.WidePanel = scratch.WidePanel.Length > 0 ? scratch.WidePanel.Pointer : null;
            pass.SetStates(slot, call.H0, call.C0, call.HN, call.CN);
            pass.Lengths = call.Lengths;
            pass.Active = pActive;
            pass.Output = call.LayerOutput;
            pass.OutputBatchFirst = call.BatchFirst && top;
            float* cells = DirectionRunner.Run(_team, share, pass);
            if (call.WatchOverflow && scratch.Overflow.Slot < 0 && FirstNonFiniteCell(new ReadOnlySpan<float>(cells, batch * _hiddenStride), batch) is (int index, float value))
                scratch.Overflow = (slot, index, value);
        }
    }

    /// <summary>
    /// The first non-finite c of rows [0, <paramref name="batch"/>) of <paramref name="cells"/> (rows <see cref="_hiddenStride"/>
    /// apart), as its index into [B, H] and its value; null when every one is finite.
    /// </summary>
    private (int Index, float Value)? FirstNonFiniteCell(ReadOnlySpan<float> cells, int batch)
    {
        int hidden = _spec.HiddenSize;
        for (int b = 0; b < batch; b++)
        {
            ReadOnlySpan<float> row = cells.Slice(b * _hiddenStride, hidden);
            int i = SumBounds.FirstNonFinite(row);
            if (i >= 0) return (b * hidden + i, row[i]);
        }

        return null;
    }

    private void ThrowOnCellOverflow()
    {
        (int Slot, int Index, float Value) first = (-1, 0, 0);
        foreach (DirectionScratch scratch in _scratch)
        {
            if (scratch.Overflow.Slot >= 0 && (first.Slot < 0 || scratch.Overflow.Slot < first.Slot)) first = scratch.Overflow;
        }

        if (first.Slot >= 0) throw _model.Bounds.CellOverflow(first.Slot, first.Index, first.Value);
    }

    /// <summary>Tests: share every step however small, so that small shapes exercise the team's split too.</summary>
    internal void ShareEveryStep() => _team.MinSharedWork = 0;

    private void CheckCapacity(int steps, int batch) => ShapeChecks.Capacity(steps, batch, MaxSteps, MaxBatch);

    private void CheckState(int hLength, int cLength, int batch)
    {
        ShapeChecks.Length(hLength, (long)_spec.NumLayers * batch * _spec.OutputHiddenSize, "h", "[L={0}, B={1}, H_out={2}]", _spec.NumLayers, batch, _spec.OutputHiddenSize);
        ShapeChecks.Length(cLength, (long)_spec.NumLayers * batch * _spec.HiddenSize, "c", "[L={0}, B={1}, H={2}]", _spec.NumLayers, batch, _spec.HiddenSize);
    }

    /// <summary>The lengths of a <see cref="DirectionScratch"/>'s buffers, planned (and checked) before any is allocated.</summary>
    private readonly record struct ScratchSizes(int Gates, int QuantizedInput, int QuantizedState, int H, int HRaw, int Cell, int Batch, int WidePanel);

    /// <summary>
    /// The working buffers of one direction: pre-activations of every step, h (double-buffered), c, row activity; for Int8
    /// models also the quantised layer input and the quantised h (or unprojected h) of the current step. Aligned, so that
    /// the kernels' vector loads and stores of whole rows never straddle cache lines.
    /// </summary>
    private sealed class DirectionScratch(ScratchSizes sizes)
    {
        public AlignedBuffer<float> QuantizedInput { get; } = new(sizes.QuantizedInput);

        public AlignedBuffer<float> QuantizedState { get; } = new(sizes.QuantizedState);

        public AlignedBuffer<float> Gates { get; } = new(sizes.Gates);

        public AlignedBuffer<float> HPrevious { get; } = new(sizes.H);

        public AlignedBuffer<float> HNext { get; } = new(sizes.H);

        public AlignedBuffer<float> HRaw { get; } = new(sizes.HRaw);

        public AlignedBuffer<float> Cell { get; } = new(sizes.Cell);

        /// <summary>W_hh of a 16-bit model widened to fp32 for a batch's steps (empty for other models and small batches).</summary>
        public AlignedBuffer<float> WidePanel { get; } = new(sizes.WidePanel);

        public byte[] Active { get; } = new byte[sizes.Batch];

        /// <summary>The first cell state a run of an unbounded cell left non-finite: layer-direction, index into [B, H] and value (slot -1: none).</summary>
        public (int Slot, int Index, float Value) Overflow;
    }

    /// <summary>A Forward call's tensors, pinned for its duration, so that team members can reach them.</summary>
    private struct ForwardCall
    {
        public int Steps, Batch, Layer;
        public bool BatchFirst, WatchOverflow;
        public float* LayerInput, LayerOutput, Output, HN, CN, H0, C0;
        public int* Lengths;
    }

    /// <summary>The two directions of a bidirectional layer at once, one per team member, each running its kernels alone.</summary>
    private sealed class ConcurrentDirectionsWork(LstmSession session) : ITeamWork
    {
        public void Execute(int member, int members)
        {
            if (member < 2) session.RunDirection(member, session._scratch[member], share: false);
        }
    }
}
