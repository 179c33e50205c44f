using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using LstmSimd.Kernels;

namespace LstmSimd;

/// <summary>
/// Runs an <see cref="LstmModel"/> on one thread: owns the streaming state (h and c of every layer) and every
/// scratch buffer, all sized at creation, so that <see cref="Forward"/> and <see cref="Step"/> allocate nothing.
/// Not thread-safe: create one session per thread (they can share the model).
/// </summary>
public sealed class LstmSession : IDisposable
{
    private readonly LstmModel _model;
    private readonly LstmSpec _spec;
    private readonly KernelSet _kernels;

    // Row strides, padded to whole vectors so the kernels store full blocks.
    private readonly int _hiddenStride;   // c and the unprojected h: H rounded up
    private readonly int _outputStride;   // h as layers see it: H_out rounded up
    private readonly int _gateStride;     // a row of pre-activations: 4 × padded H

    private readonly float[] _gates;          // [maxSteps·maxBatch, gateStride]: the hoisted input projection of one direction
    private readonly float[][] _layerOutputs; // two [maxSteps, maxBatch, D·H_out] buffers, for the layers below the top one
    private readonly float[] _hPrevious, _hNext, _hRaw, _cell; // per-direction working state, [maxBatch, stride]
    private readonly byte[] _active;          // per row: still inside its sequence at this step
    private readonly float[] _stateH, _stateC; // streaming state, [L, maxBatch, stride]

    internal LstmSession(LstmModel model, int maxBatch, int maxSteps)
    {
        ShapeChecks.Positive(maxBatch, nameof(maxBatch));
        ShapeChecks.Positive(maxSteps, nameof(maxSteps));
        _model = model;
        _spec = model.Spec;
        _kernels = model.Kernels;
        MaxBatch = maxBatch;
        MaxSteps = maxSteps;
        int width = _kernels.Width;
        _hiddenStride = RoundUp(_spec.HiddenSize, width);
        _outputStride = RoundUp(_spec.OutputHiddenSize, width);
        _gateStride = 4 * _hiddenStride;
        _gates = new float[(long)maxSteps * maxBatch * _gateStride];
        long layerOutput = (long)maxSteps * maxBatch * _spec.OutputSize;
        _layerOutputs = _spec.NumLayers > 1 ? [new float[layerOutput], new float[_spec.NumLayers > 2 ? layerOutput : 0]] : [[], []];
        _hPrevious = new float[maxBatch * _outputStride];
        _hNext = new float[maxBatch * _outputStride];
        _hRaw = new float[_spec.ProjectionSize > 0 ? maxBatch * _hiddenStride : 0];
        _cell = new float[maxBatch * _hiddenStride];
        _active = new byte[maxBatch];
        _stateH = new float[_spec.NumLayers * maxBatch * _outputStride];
        _stateC = new float[_spec.NumLayers * maxBatch * _hiddenStride];
    }

    /// <summary>The model this session runs.</summary>
    public LstmModel Model => _model;

    /// <summary>The largest batch a call may pass.</summary>
    public int MaxBatch { get; }

    /// <summary>The longest sequence <see cref="Forward"/> may pass.</summary>
    public int MaxSteps { get; }

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
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Forward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output,
        Span<float> hN = default, Span<float> cN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default,
        ReadOnlySpan<int> lengths = default, SequenceLayout layout = SequenceLayout.TimeMajor)
    {
        ShapeChecks.Sequence(_spec, steps, batch, input.Length, output.Length, h0.Length, c0.Length, lengths, hN.Length, cN.Length, outputRequired: true);
        CheckCapacity(steps, batch);
        if (layout is not (SequenceLayout.TimeMajor or SequenceLayout.BatchFirst))
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown sequence layout.");

        int dirs = _spec.Directions, hOut = _spec.OutputHiddenSize, hidden = _spec.HiddenSize;
        bool batchFirst = layout == SequenceLayout.BatchFirst;
        ReadOnlySpan<float> layerInput = input;
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            bool top = layer == _spec.NumLayers - 1;
            Span<float> layerOutput = top ? output : _layerOutputs[layer % 2].AsSpan(0, steps * batch * _spec.OutputSize);

            // Only the caller's tensors can be batch-first; the buffers between layers are time-major.
            bool inputBatchFirst = batchFirst && layer == 0, outputBatchFirst = batchFirst && top;
            for (int d = 0; d < dirs; d++)
            {
                int slot = layer * dirs + d;
                PackedLayer weights = _model.Layers[slot];
                _kernels.InputProjection(weights.Input, weights.Bias, layerInput, steps * batch, _gates);
                LoadRows(h0, slot, batch, hOut, _hPrevious, _outputStride);
                LoadRows(c0, slot, batch, hidden, _cell, _hiddenStride);
                RunDirection(weights, steps, batch, reverse: d == 1, lengths, inputBatchFirst, layerOutput, outputBatchFirst, d * hOut);
                if (!hN.IsEmpty) StoreRows(_hPrevious, _outputStride, hN, slot, batch, hOut);
                if (!cN.IsEmpty) StoreRows(_cell, _hiddenStride, cN, slot, batch, hidden);
            }

            layerInput = layerOutput;
        }
    }

    /// <summary>
    /// Advances the streaming state by one time step for <paramref name="batch"/> sequences and writes the top layer's h.
    /// </summary>
    /// <param name="input">x_t: [B, I].</param>
    /// <param name="batch">B, at most <see cref="MaxBatch"/>; rows past it keep their state.</param>
    /// <param name="output">Receives h_t of the top layer: [B, H_out].</param>
    /// <exception cref="InvalidOperationException">The model is bidirectional: its reverse direction needs the whole sequence.</exception>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Step(ReadOnlySpan<float> input, int batch, Span<float> output)
    {
        if (_spec.Bidirectional) throw new InvalidOperationException("Step streams forward in time; a bidirectional model needs the whole sequence: call Forward.");
        ShapeChecks.Positive(batch, nameof(batch));
        CheckCapacity(1, batch);
        ShapeChecks.Length(input.Length, (long)batch * _spec.InputSize, nameof(input), $"[B={batch}, I={_spec.InputSize}]");
        ShapeChecks.Length(output.Length, (long)batch * _spec.OutputHiddenSize, nameof(output), $"[B={batch}, H_out={_spec.OutputHiddenSize}]");

        ref float x = ref MemoryMarshal.GetReference(input);
        int xStride = _spec.InputSize;
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            PackedLayer weights = _model.Layers[layer];
            Span<float> h = _stateH.AsSpan(layer * MaxBatch * _outputStride, MaxBatch * _outputStride);
            Span<float> c = _stateC.AsSpan(layer * MaxBatch * _hiddenStride, MaxBatch * _hiddenStride);
            var args = new CellStepArgs
            {
                Init = ref weights.Bias[0],
                InitRowStride = 0,
                PanelX = ref weights.Input.Data[0],
                DepthX = weights.Input.Depth,
                X = ref x,
                XRowStride = xStride,
                PanelH = ref weights.Recurrent.Data[0],
                DepthH = weights.Recurrent.Depth,
                H = ref MemoryMarshal.GetReference(h),
                HRowStride = _outputStride,
                C = ref MemoryMarshal.GetReference(c),
                CRowStride = _hiddenStride,
                Rows = batch,
                BlockStart = 0,
                BlockEnd = weights.Recurrent.Blocks,
            };
            FinishCell(ref args, weights, batch, ReadOnlySpan<byte>.Empty);
            _hNext.AsSpan(0, batch * _outputStride).CopyTo(h);

            // The next layer reads this layer's new h straight from the state.
            x = ref MemoryMarshal.GetReference(h);
            xStride = _outputStride;
        }

        int hOut = _spec.OutputHiddenSize;
        Span<float> top = _stateH.AsSpan((_spec.NumLayers - 1) * MaxBatch * _outputStride);
        for (int b = 0; b < batch; b++)
            top.Slice(b * _outputStride, hOut).CopyTo(output.Slice(b * hOut, hOut));
    }

    /// <summary>Sets the streaming state of every row to zero.</summary>
    public void ResetState()
    {
        Array.Clear(_stateH);
        Array.Clear(_stateC);
    }

    /// <summary>Sets the streaming state of rows [0, <paramref name="batch"/>) from h [L, B, H_out] and c [L, B, H].</summary>
    public void SetState(ReadOnlySpan<float> h, ReadOnlySpan<float> c, int batch)
    {
        ShapeChecks.Positive(batch, nameof(batch));
        CheckCapacity(1, batch);
        CheckState(h.Length, c.Length, batch);
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            LoadRows(h, layer, batch, _spec.OutputHiddenSize, _stateH.AsSpan(layer * MaxBatch * _outputStride), _outputStride);
            LoadRows(c, layer, batch, _spec.HiddenSize, _stateC.AsSpan(layer * MaxBatch * _hiddenStride), _hiddenStride);
        }
    }

    /// <summary>Copies the streaming state of rows [0, <paramref name="batch"/>) into h [L, B, H_out] and c [L, B, H].</summary>
    public void GetState(Span<float> h, Span<float> c, int batch)
    {
        ShapeChecks.Positive(batch, nameof(batch));
        CheckCapacity(1, batch);
        CheckState(h.Length, c.Length, batch);
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            StoreRows(_stateH.AsSpan(layer * MaxBatch * _outputStride), _outputStride, h, layer, batch, _spec.OutputHiddenSize);
            StoreRows(_stateC.AsSpan(layer * MaxBatch * _hiddenStride), _hiddenStride, c, layer, batch, _spec.HiddenSize);
        }
    }

    /// <summary>Releases nothing today (every buffer is managed); present so that sessions can later rent pooled or pinned memory without breaking callers.</summary>
    public void Dispose()
    {
    }

    /// <summary>One direction of one layer over all steps: the recurrent product, fused cell, output rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void RunDirection(PackedLayer weights, int steps, int batch, bool reverse, ReadOnlySpan<int> lengths,
        bool inputBatchFirst, Span<float> output, bool outputBatchFirst, int outputColumn)
    {
        int hOut = _spec.OutputHiddenSize, features = _spec.OutputSize;

        // Rows of the hoisted projection follow the input's memory order.
        int gatesPerStep = inputBatchFirst ? _gateStride : batch * _gateStride;
        int gatesPerRow = inputBatchFirst ? steps * _gateStride : _gateStride;
        Span<byte> active = _active.AsSpan(0, batch);
        if (lengths.IsEmpty) active.Fill(1);
        for (int s = 0; s < steps; s++)
        {
            int t = reverse ? steps - 1 - s : s;
            if (!lengths.IsEmpty)
            {
                for (int b = 0; b < batch; b++) active[b] = t < lengths[b] ? (byte)1 : (byte)0;
            }

            var args = new CellStepArgs
            {
                Init = ref _gates[t * gatesPerStep],
                InitRowStride = gatesPerRow,
                PanelX = ref weights.Input.Data[0],
                DepthX = 0,
                X = ref _gates[0],
                XRowStride = 0,
                PanelH = ref weights.Recurrent.Data[0],
                DepthH = weights.Recurrent.Depth,
                H = ref _hPrevious[0],
                HRowStride = _outputStride,
                C = ref _cell[0],
                CRowStride = _hiddenStride,
                Rows = batch,
                BlockStart = 0,
                BlockEnd = weights.Recurrent.Blocks,
            };
            FinishCell(ref args, weights, batch, lengths.IsEmpty ? ReadOnlySpan<byte>.Empty : active);

            for (int b = 0; b < batch; b++)
            {
                Span<float> destination = output.Slice((outputBatchFirst ? b * steps + t : t * batch + b) * features + outputColumn, hOut);
                if (active[b] != 0)
                {
                    _hNext.AsSpan(b * _outputStride, hOut).CopyTo(destination);
                }
                else
                {
                    // A finished (or not yet started, in reverse) sequence keeps its state and outputs zeros.
                    _hPrevious.AsSpan(b * _outputStride, _outputStride).CopyTo(_hNext.AsSpan(b * _outputStride));
                    destination.Clear();
                }
            }

            _hNext.AsSpan(0, batch * _outputStride).CopyTo(_hPrevious);
        }
    }

    /// <summary>Runs the cell kernel into <see cref="_hNext"/>, through W_hr when the model has a projection.</summary>
    private void FinishCell(ref CellStepArgs args, PackedLayer weights, int batch, ReadOnlySpan<byte> active)
    {
        args.Active = active;
        if (weights.Projection is null)
        {
            args.HOut = ref _hNext[0];
            args.HOutRowStride = _outputStride;
            _kernels.Step(args);
            return;
        }

        args.HOut = ref _hRaw[0];
        args.HOutRowStride = _hiddenStride;
        _kernels.Step(args);
        _kernels.Project(weights.Projection, ref _hRaw[0], _hiddenStride, ref _hNext[0], _outputStride, batch, active);
    }

    private void CheckCapacity(int steps, int batch)
    {
        if (batch > MaxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch {batch} is above this session's MaxBatch {MaxBatch}; create the session with a larger maxBatch.");
        if (steps > MaxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps {steps} is above this session's MaxSteps {MaxSteps}; create the session with a larger maxSteps.");
    }

    private void CheckState(int hLength, int cLength, int batch)
    {
        ShapeChecks.Length(hLength, (long)_spec.NumLayers * batch * _spec.OutputHiddenSize, "h", $"[L={_spec.NumLayers}, B={batch}, H_out={_spec.OutputHiddenSize}]");
        ShapeChecks.Length(cLength, (long)_spec.NumLayers * batch * _spec.HiddenSize, "c", $"[L={_spec.NumLayers}, B={batch}, H={_spec.HiddenSize}]");
    }

    /// <summary>Copies slot <paramref name="slot"/> of a [slots, B, size] tensor into padded rows (zeros when the tensor is empty).</summary>
    private static void LoadRows(ReadOnlySpan<float> source, int slot, int batch, int size, Span<float> rows, int stride)
    {
        rows.Slice(0, batch * stride).Clear();
        if (source.IsEmpty) return;
        for (int b = 0; b < batch; b++)
            source.Slice((slot * batch + b) * size, size).CopyTo(rows.Slice(b * stride));
    }

    private static void StoreRows(ReadOnlySpan<float> rows, int stride, Span<float> destination, int slot, int batch, int size)
    {
        for (int b = 0; b < batch; b++)
            rows.Slice(b * stride, size).CopyTo(destination.Slice((slot * batch + b) * size, size));
    }

    private static int RoundUp(int value, int multiple) => (value + multiple - 1) / multiple * multiple;
}
