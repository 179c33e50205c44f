using System.Runtime.CompilerServices;
using LstmSimd.Execution;
using LstmSimd.Kernels;

namespace LstmSimd.Training;

/// <summary>
/// Forward and backward passes through time on the SIMD kernels, for training. <see cref="Forward"/> runs the
/// model as <see cref="LstmSession.Forward"/> does and keeps what the backward pass needs (the activated gates,
/// c and h of every step); <see cref="Backward"/> then accumulates ∂loss/∂parameters into <see cref="Gradients"/>
/// and writes ∂loss/∂input, ∂loss/∂h0 and ∂loss/∂c0. The session trains <see cref="Weights"/> in place: after an
/// optimiser changes them, <see cref="RefreshWeights"/> repacks the kernels' copies. Every buffer is sized at
/// creation for <c>maxBatch × maxSteps</c>, so warm calls allocate nothing; bitwise deterministic, and with several
/// threads bitwise the same as with one. Dispose it to stop its worker threads (when created with more than one).
/// One caller at a time: a call made while another is running throws <see cref="InvalidOperationException"/> (every
/// public method checks) instead of sharing its buffers; create one session per thread.
/// </summary>
/// <remarks>
/// Per layer and direction, going back in time: the fused gate pass turns (dh, dc) into the gate derivatives dG_t
/// (stored over the gates) and dc_{t−1}; dh_{t−1} = dG_t·W_hh is a GEMM per step. After the last step the weight
/// gradients are GEMMs over all steps at once: dW_hh = Σ_t dG_tᵀ·h_{t−1}, dW_ih = dGᵀ·X, db = Σ dG, and the
/// layer below receives dX = dG·W_ih. With a projection h = W_hr·m: dm = W_hrᵀ·dh and dW_hr = Σ_t dh_tᵀ·m_t.
/// The standard (PyTorch) cell only, and the GRU in the four gate slots (see <see cref="GruTrainingSession"/>): the gates
/// then hold its slots' pre-activations and their derivatives, and the same GEMMs give its gradients (the original cell's
/// W_hn, which multiplies r ⊙ h, has its own product per step and its own weight gradient).
/// </remarks>
public sealed unsafe class LstmTrainingSession : IDisposable, ITrainingPasses
{
    private readonly LstmSpec _spec;
    private readonly KernelSet _kernels;
    private readonly KernelTeam _team;            // every kernel call goes through it, shared by its threads
    private readonly PackedLayer[] _packed;       // W_ih, W_hh, bias, W_hr panels for the forward kernels
    private readonly SumBounds _bounds;           // keeps the fp32 sums finite, measured again whenever the weights change
    private readonly AlignedBuffer<float>[] _inputRows; // W_ih with rows in panel order: [4·Hp, I_l], for dX = dG·W_ih
    private readonly AlignedBuffer<float>[] _recurrentRows; // W_hh likewise: [4·Hp, H_out], for dh_{t−1} = dG_t·W_hh
    private readonly float[] _biasSum;            // [4H] scratch for repacking b_ih + b_hh
    private readonly RepackWork _repack;          // Repack's two sides, for a team
    private readonly BackwardStepsWork _backwardSteps;
    private readonly long _repackedFloats;        // what Repack copies, for whether a team shares it
    private readonly int _width, _hp, _hOutP, _gateStride;

    // Caches of the last forward, per layer-direction (slot), indexed by time step (the forward runner's history layout),
    // pinned: the team's members reach them by pointer.
    private readonly AlignedBuffer<float>[] _gates;   // [T, B, 4·Hp]: the input projection, then the activated gates, then dG
    private readonly AlignedBuffer<float>[] _cells;   // [T+1, B, Hp]: c_t at slot t+1 (forward) or t (reverse); c0 at slot 0 or T
    private readonly AlignedBuffer<float>[] _hidden;  // [T+1, B, H_outP]: h_t, laid out as the cells
    private readonly AlignedBuffer<float>[] _mRaw;    // [T, B, Hp]: m_t = o⊙tanh(c_t) before the projection, or the original GRU's r_t ⊙ h_{t−1}
    private readonly AlignedBuffer<float>[] _layerIO; // [L+1][T, B, D·H_out]: [0] the input (time-major), [l+1] layer l's output
    private readonly byte[] _active;     // [T, B]: 1 where step t lies inside sequence b
    private readonly byte[] _stepActive; // [B]: the forward runner's room for one step's activity

    // Backward scratch.
    private readonly AlignedBuffer<float> _dh, _dhNext, _dc, _dm, _dHidden, _weightGrad;
    private readonly AlignedBuffer<float>[] _dLayer;  // two [T, B, max features] buffers: ∂loss/∂(layer output), layer by layer
    private readonly AlignedBuffer<float> _dCandidates, _dGated; // the original GRU: da_n of every step [T, B, Hp]; ∂loss/∂(r ⊙ h) of one [B, Hp]
    private readonly float[] _recurrentScratch;       // the original GRU: W_hh with W_hn's slot cleared, for the first product phase
    private readonly Dropout?[] _dropouts;

    private readonly SingleCaller _caller;
    private bool _training = true;
    private int _steps = -1, _batch;
    private bool _hasLengths;
    private SequenceLayout _layout;

    /// <summary>Creates a session that trains <paramref name="weights"/> in place (the arrays are used, not copied).</summary>
    /// <param name="weights">The model; its cell must be <see cref="CellVariant.Standard"/>.</param>
    /// <param name="maxBatch">The largest batch a call may pass.</param>
    /// <param name="maxSteps">The longest sequence a call may pass.</param>
    /// <param name="kernel">The kernel width (see <see cref="KernelSelector"/>).</param>
    /// <param name="dropout">Dropout probability on the outputs of every layer but the top one, in training forwards (PyTorch's <c>dropout</c>).</param>
    /// <param name="seed">Seeds the dropout masks.</param>
    /// <param name="threads">
    /// Threads each pass computes with (1 to 64): the calling thread plus persistent workers that split hidden-unit blocks
    /// and the rows or columns of the gradient GEMMs. Results are bitwise those of one thread. Pays off for large layers
    /// or batches; small ones are dominated by the per-step hand-offs.
    /// </param>
    public LstmTrainingSession(LstmWeights weights, int maxBatch, int maxSteps, KernelPath kernel = KernelPath.Auto, double dropout = 0, ulong seed = 0, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ShapeChecks.Positive(maxBatch, nameof(maxBatch));
        ShapeChecks.Positive(maxSteps, nameof(maxSteps));
        LstmSpec spec = weights.Spec;
        if (!spec.Cell.IsStandard && !spec.Cell.IsGru)
            throw new NotSupportedException("Training runs PyTorch's standard cell; ONNX's cell variants have no backward.");
        _spec = spec;
        _caller = new SingleCaller(this, "session");
        Weights = weights;
        MaxBatch = maxBatch;
        MaxSteps = maxSteps;
        if (threads is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(threads), threads, "Threads must be in [1, 64].");
        if (!(dropout >= 0 && dropout < 1)) throw new ArgumentOutOfRangeException(nameof(dropout), dropout, "dropout must be in [0, 1).");
        _kernels = KernelSelector.Create(kernel, WeightFormat.Float32);
        _width = _kernels.Width;
        // Every buffer is planned before any is allocated, in checked 64-bit arithmetic: a session too large to represent
        // fails here, and the passes may index the buffers with int products, which then cannot wrap.
        _hp = Sizes.RoundUp("padded H", spec.HiddenSize, _width);
        _hOutP = Sizes.RoundUp("padded H_out", spec.OutputHiddenSize, _width);
        _gateStride = Sizes.Elements("gate row 4 × padded H", 4, _hp);
        int slots = spec.LayerDirections, hOut = spec.OutputHiddenSize;
        int maxFeatures = Math.Max(spec.InputSize, spec.OutputSize);
        int rows = Sizes.Elements("rows maxSteps × maxBatch", maxSteps, maxBatch);
        int gateLength = Sizes.Elements("gates maxSteps × maxBatch × 4 × padded H", rows, _gateStride);
        int cellLength = Sizes.Elements("c of every step (maxSteps + 1) × maxBatch × padded H", rows + (long)maxBatch, _hp);
        int hiddenLength = Sizes.Elements("h of every step (maxSteps + 1) × maxBatch × padded H_out", rows + (long)maxBatch, _hOutP);
        bool resetFirst = spec.Cell.ResetBeforeProduct;
        int rawLength = spec.ProjectionSize > 0 || resetFirst ? Sizes.Elements("unprojected h or r ⊙ h maxSteps × maxBatch × padded H", rows, _hp) : 0;
        int inputLength = Sizes.Elements("layer input maxSteps × maxBatch × I", rows, spec.InputSize);
        int outputLength = Sizes.Elements("layer output maxSteps × maxBatch × D·H_out", rows, spec.OutputSize);
        int stateLength = Sizes.Elements("dh maxBatch × padded H_out", maxBatch, _hOutP), cellStateLength = Sizes.Elements("dc maxBatch × padded H", maxBatch, _hp);
        int projectedLength = spec.ProjectionSize > 0 ? Sizes.Elements("dh of every step maxSteps × maxBatch × padded H_out", rows, _hOutP) : 0;
        int weightGradLength = Sizes.Elements("weight gradient 4 × padded H × features", _gateStride, Math.Max(maxFeatures, hOut));
        int layerGradLength = Sizes.Elements("layer gradient maxSteps × maxBatch × features", rows, maxFeatures);
        int[] inputRowsLength = new int[spec.NumLayers];
        for (int layer = 0; layer < spec.NumLayers; layer++)
            inputRowsLength[layer] = Sizes.Elements("W_ih panel rows 4 × padded H × layer input size", _gateStride, spec.LayerInputSize(layer));
        int recurrentRowsLength = Sizes.Elements("W_hh panel rows 4 × padded H × H_out", _gateStride, hOut);

        Gradients = LstmWeights.CreateZero(spec);
        _packed = new PackedLayer[slots];
        _inputRows = new AlignedBuffer<float>[slots];
        _recurrentRows = new AlignedBuffer<float>[slots];
        _biasSum = new float[spec.GateRows];
        _gates = new AlignedBuffer<float>[slots];
        _cells = new AlignedBuffer<float>[slots];
        _hidden = new AlignedBuffer<float>[slots];
        _mRaw = new AlignedBuffer<float>[slots];
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                int slot = layer * spec.Directions + d;
                _packed[slot] = PackedLayer.Pack(spec, layer, weights[layer, d], _kernels); // training: fp32 panels, repacked in place
                _inputRows[slot] = new(inputRowsLength[layer]);
                _recurrentRows[slot] = new(recurrentRowsLength);
                _gates[slot] = new(gateLength);
                _cells[slot] = new(cellLength);
                _hidden[slot] = new(hiddenLength);
                _mRaw[slot] = new(rawLength);
            }
        }

        _layerIO = new AlignedBuffer<float>[spec.NumLayers + 1];
        _layerIO[0] = new(inputLength);
        for (int layer = 1; layer <= spec.NumLayers; layer++) _layerIO[layer] = new(outputLength);
        _active = new byte[rows];
        _stepActive = new byte[maxBatch];
        _dh = new(stateLength);
        _dhNext = new(stateLength);
        _dc = new(cellStateLength);
        _dm = new(cellStateLength);
        _dHidden = new(projectedLength);
        _weightGrad = new(weightGradLength);
        _dLayer = [new(layerGradLength), new(layerGradLength)];
        _dCandidates = new(resetFirst ? Sizes.Elements("candidate derivatives maxSteps × maxBatch × padded H", rows, _hp) : 0);
        _dGated = new(resetFirst ? cellStateLength : 0);
        _recurrentScratch = resetFirst ? new float[spec.GateRows * hOut] : [];

        _dropouts = new Dropout?[spec.NumLayers];
        for (int layer = 0; layer + 1 < spec.NumLayers && dropout > 0; layer++)
            _dropouts[layer] = new Dropout(dropout, seed + (ulong)layer, outputLength);
        _repack = new RepackWork(this);
        _backwardSteps = new BackwardStepsWork(this);
        _repackedFloats = slots * (long)recurrentRowsLength;
        for (int layer = 0; layer < spec.NumLayers; layer++) _repackedFloats += spec.Directions * (long)inputRowsLength[layer];
        RepackInputSide();
        RepackRecurrentSide();
        _bounds = SumBounds.Create(weights, WeightFormat.Float32, _kernels, 1 / (1 - dropout));
        _team = new KernelTeam(threads, _kernels); // last: nothing above may throw and leave its threads running
    }

    /// <summary>The model being trained (its arrays are the trained parameters).</summary>
    public LstmWeights Weights { get; }

    /// <summary>∂loss/∂parameters, shaped like <see cref="Weights"/>; <see cref="Backward"/> adds to it, <see cref="ZeroGradients"/> clears it.</summary>
    public LstmWeights Gradients { get; }

    /// <summary>The largest batch a call may pass.</summary>
    public int MaxBatch { get; }

    /// <summary>The longest sequence a call may pass.</summary>
    public int MaxSteps { get; }

    /// <summary>The kernel width this session runs.</summary>
    public KernelPath KernelPath => _kernels.Path;

    /// <summary>Threads each pass computes with.</summary>
    public int Threads => _team.Size;

    /// <summary>
    /// Stops the session's worker threads, if it has any; every later call throws <see cref="ObjectDisposedException"/>.
    /// A call running on another thread is waited for (it finishes normally); calling Dispose again does nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from inside one of the session's own calls.</exception>
    public void Dispose()
    {
        if (_caller.TryDispose()) _team.Dispose();
    }

    /// <summary>Shares every kernel call among the threads, however small (tests: every split path must give one thread's bits).</summary>
    internal void ShareEveryCall() => _team.MinSharedWork = 0;

    /// <summary>Whether forwards apply dropout between layers (set false to evaluate); not while a call is running.</summary>
    public bool Training
    {
        get => _training;
        set
        {
            _caller.Enter();
            _training = value;
            _caller.Exit();
        }
    }

    /// <summary>Registers every parameter with its gradient under PyTorch's names (see <see cref="ParameterSet.Add(LstmWeights, LstmWeights, string)"/>).</summary>
    public void AddTo(ParameterSet parameters, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        _caller.Run((parameters, Weights, Gradients, prefix), static s => s.parameters.Add(s.Weights, s.Gradients, s.prefix));
    }

    /// <summary>Sets every gradient in <see cref="Gradients"/> to zero.</summary>
    public void ZeroGradients() => _caller.Run(Gradients, static gradients => gradients.Clear());

    /// <summary>Repacks the kernels' copies of <see cref="Weights"/> after they changed (an optimiser step). Allocates nothing.</summary>
    /// <exception cref="ArgumentException">The weights have grown so large that the fp32 sums could overflow whatever the input: training diverged.</exception>
    public void RefreshWeights()
    {
        _caller.Enter();
        try
        {
            Repack();
            _bounds.Measure(Weights);
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>
    /// The kernels' copies of <see cref="Weights"/> repacked: the input side of every layer-direction on the calling thread, the
    /// recurrent side (and the rest) on a second member where the session has one. Copies only, so the same bits either way.
    /// </summary>
    private void Repack()
    {
        if (_team.WorthSharing(_repackedFloats))
        {
            _team.RunOnEveryMember(_repack);
            return;
        }

        RepackInputSide();
        RepackRecurrentSide();
    }

    private void RepackInputSide()
    {
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            for (int d = 0; d < _spec.Directions; d++)
            {
                int slot = layer * _spec.Directions + d;
                LstmLayerWeights w = Weights[layer, d];
                _packed[slot].Input.Repack(w.WeightIh);
                ToPanelRows(w.WeightIh, _spec.LayerInputSize(layer), _inputRows[slot].Span);
            }
        }
    }

    private void RepackRecurrentSide()
    {
        int hidden = _spec.HiddenSize;
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            for (int d = 0; d < _spec.Directions; d++)
            {
                int slot = layer * _spec.Directions + d;
                LstmLayerWeights w = Weights[layer, d];
                PackedLayer packed = _packed[slot];
                ReadOnlySpan<float> recurrent = w.WeightHh;
                if (packed.ResetRecurrent is { } resetRecurrent)
                {
                    // The original GRU: W_hn multiplies r ⊙ h in its own panel (see PackedLayer.Pack), and dh_{t−1} reaches
                    // it through the reset gate's phase of the backward, not through the slots' product.
                    int block = hidden * _spec.OutputHiddenSize;
                    resetRecurrent.Repack(w.WeightHh.AsSpan(3 * block, block));
                    w.WeightHh.CopyTo(_recurrentScratch, 0);
                    _recurrentScratch.AsSpan(3 * block, block).Clear();
                    recurrent = _recurrentScratch;
                }

                packed.Recurrent.Repack(recurrent);
                packed.Projection?.Repack(w.WeightHr);
                if (_spec.Bias)
                {
                    for (int i = 0; i < _biasSum.Length; i++) _biasSum[i] = w.BiasIh[i] + w.BiasHh[i];
                }

                PackedPanel.PackRow(_spec.Bias ? _biasSum : default, 4, hidden, _width, packed.Bias);
                ToPanelRows(recurrent, _spec.OutputHiddenSize, _recurrentRows[slot].Span);
            }
        }
    }

    /// <summary><see cref="Repack"/> on a team: member 0 the input side, member 1 the recurrent side.</summary>
    private sealed class RepackWork(LstmTrainingSession session) : ITeamWork
    {
        public void Execute(int member, int members)
        {
            if (member == 0) session.RepackInputSide();
            if (member == 1) session.RepackRecurrentSide();
        }
    }

    /// <summary>
    /// Runs the model as <see cref="LstmSession.Forward"/> does (same arguments, same results) and keeps the
    /// intermediate values for <see cref="Backward"/>. With <see cref="Training"/> and a dropout probability, the
    /// outputs of the lower layers are dropped out on their way up.
    /// </summary>
    public void Forward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output,
        Span<float> hN = default, Span<float> cN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default,
        ReadOnlySpan<int> lengths = default, SequenceLayout layout = SequenceLayout.TimeMajor)
    {
        _caller.Enter();
        try
        {
            RunForward(input, steps, batch, output, hN, cN, h0, c0, lengths, layout);
        }
        finally
        {
            _caller.Exit();
        }
    }

    [SkipLocalsInit]
    private void RunForward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output, Span<float> hN, Span<float> cN,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<int> lengths, SequenceLayout layout)
    {
        ShapeChecks.Sequence(_spec, steps, batch, input.Length, output.Length, h0.Length, c0.Length, lengths, hN.Length, cN.Length, outputRequired: false);
        CheckCapacity(steps, batch);
        ShapeChecks.Layout(layout);
        _bounds.CheckSequence(input, h0, batch);
        _steps = steps;
        _batch = batch;
        _hasLengths = !lengths.IsEmpty;
        _layout = layout;

        ToTimeMajor(input, steps, batch, _spec.InputSize, layout, _layerIO[0].Span);
        for (int t = 0; t < steps; t++)
        {
            Span<byte> active = _active.AsSpan(t * batch, batch);
            if (lengths.IsEmpty) active.Fill(1);
            else StepOutputs.MarkActive(lengths, t, active);
        }

        fixed (float* pHn = hN, pCn = cN, pH0 = h0, pC0 = c0)
        fixed (int* pLengths = lengths)
        fixed (byte* pStepActive = _stepActive)
        {
            for (int layer = 0; layer < _spec.NumLayers; layer++)
            {
                for (int d = 0; d < _spec.Directions; d++)
                    ForwardDirection(layer, d, pH0, pC0, pHn, pCn, lengths.IsEmpty ? null : pLengths, pStepActive);

                if (Training && _dropouts[layer] is { } dropout)
                    dropout.Forward(_layerIO[layer + 1].Span.Slice(0, steps * batch * _spec.OutputSize));
            }
        }

        if (!output.IsEmpty) FromTimeMajor(_layerIO[_spec.NumLayers].Span, steps, batch, _spec.OutputSize, layout, output);
    }

    /// <summary>
    /// Backpropagates through the last <see cref="Forward"/>: for loss = Σ output·gradOutput + Σ h_n·gradHN + Σ c_n·gradCN
    /// (each gradient may be empty for zero), adds ∂loss/∂parameters to <see cref="Gradients"/> and writes ∂loss/∂input
    /// (in the forward's layout, zero past each length), ∂loss/∂h0 and ∂loss/∂c0 into the spans given (empty to skip:
    /// without <paramref name="gradInput"/> the bottom layer's dX GEMM is not run).
    /// </summary>
    public void Backward(ReadOnlySpan<float> gradOutput = default, ReadOnlySpan<float> gradHN = default, ReadOnlySpan<float> gradCN = default,
        Span<float> gradInput = default, Span<float> gradH0 = default, Span<float> gradC0 = default)
    {
        _caller.Enter();
        try
        {
            RunBackward(gradOutput, gradHN, gradCN, gradInput, gradH0, gradC0);
        }
        finally
        {
            _caller.Exit();
        }
    }

    [SkipLocalsInit]
    private void RunBackward(ReadOnlySpan<float> gradOutput, ReadOnlySpan<float> gradHN, ReadOnlySpan<float> gradCN,
        Span<float> gradInput, Span<float> gradH0, Span<float> gradC0)
    {
        if (_steps < 0) throw new InvalidOperationException("Backward needs a Forward first.");
        int steps = _steps, batch = _batch, hOut = _spec.OutputHiddenSize, hidden = _spec.HiddenSize, ld = _spec.NumLayers * _spec.Directions;
        const string hShape = "[L·D={0}, B={1}, H_out={2}]", cShape = "[L·D={0}, B={1}, H={2}]";
        ShapeChecks.OptionalLength(gradOutput.Length, (long)steps * batch * _spec.OutputSize, nameof(gradOutput), "[T={0}, B={1}, D·H_out={2}]", steps, batch, _spec.OutputSize);
        ShapeChecks.OptionalLength(gradHN.Length, (long)ld * batch * hOut, nameof(gradHN), hShape, ld, batch, hOut);
        ShapeChecks.OptionalLength(gradCN.Length, (long)ld * batch * hidden, nameof(gradCN), cShape, ld, batch, hidden);
        ShapeChecks.OptionalLength(gradInput.Length, (long)steps * batch * _spec.InputSize, nameof(gradInput), "[T={0}, B={1}, I={2}]", steps, batch, _spec.InputSize);
        ShapeChecks.OptionalLength(gradH0.Length, (long)ld * batch * hOut, nameof(gradH0), hShape, ld, batch, hOut);
        ShapeChecks.OptionalLength(gradC0.Length, (long)ld * batch * hidden, nameof(gradC0), cShape, ld, batch, hidden);

        int rows = steps * batch, current = 0;
        Span<float> dy = _dLayer[0].Span.Slice(0, rows * _spec.OutputSize);
        if (gradOutput.IsEmpty) dy.Clear();
        else ToTimeMajor(gradOutput, steps, batch, _spec.OutputSize, _layout, dy);

        for (int layer = _spec.NumLayers - 1; layer >= 0; layer--)
        {
            int features = _spec.LayerInputSize(layer);
            bool wantInput = layer > 0 || !gradInput.IsEmpty;
            Span<float> dx = _dLayer[1 - current].Span.Slice(0, rows * features);
            if (wantInput) dx.Clear();
            for (int d = 0; d < _spec.Directions; d++)
            {
                int slot = layer * _spec.Directions + d;
                BackwardDirection(layer, d, _dLayer[current],
                    gradHN.IsEmpty ? default : gradHN.Slice(slot * batch * hOut, batch * hOut),
                    gradCN.IsEmpty ? default : gradCN.Slice(slot * batch * hidden, batch * hidden),
                    wantInput ? _dLayer[1 - current] : null);
                if (!gradH0.IsEmpty) PaddedRows.Store(_dh.Span, _hOutP, gradH0.Slice(slot * batch * hOut), hOut, batch);
                if (!gradC0.IsEmpty) PaddedRows.Store(_dc.Span, _hp, gradC0.Slice(slot * batch * hidden), hidden, batch);
            }

            current = 1 - current;
            if (layer > 0 && Training && _dropouts[layer - 1] is { } dropout) dropout.Backward(dx);
        }

        if (!gradInput.IsEmpty) FromTimeMajor(_dLayer[current].Span.Slice(0, rows * _spec.InputSize), steps, batch, _spec.InputSize, _layout, gradInput);
    }

    void ITrainingPasses.Backward(ReadOnlySpan<float> gradOutput) => Backward(gradOutput);

    void ITrainingPasses.AddTo(ParameterSet parameters) => AddTo(parameters);

    /// <summary>
    /// One forward and backward pass on the fast path, for checking gradients against another framework (the
    /// <c>lstmsimd run</c> gradient output): returns the forward results and every gradient of
    /// loss = Σ output·gradOutput + Σ h_n·gradHN + Σ c_n·gradCN. Arguments as in <see cref="Forward"/>; empty
    /// upstream gradients mean zeros. Allocates its session and results; for repeated steps keep a session.
    /// </summary>
    public static LstmGradients ComputeGradients(LstmWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<float> gradOutput = default, ReadOnlySpan<float> gradHN = default, ReadOnlySpan<float> gradCN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, ReadOnlySpan<int> lengths = default,
        SequenceLayout layout = SequenceLayout.TimeMajor, KernelPath kernel = KernelPath.Auto, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(weights);
        LstmSpec spec = weights.Spec;
        int ld = spec.LayerDirections;
        int outputs = Sizes.Elements("output T × B × D·H_out", steps, batch, spec.OutputSize), inputs = Sizes.Elements("input T × B × I", steps, batch, spec.InputSize);
        int h = Sizes.Elements("h_n L·D × B × H_out", ld, batch, spec.OutputHiddenSize), c = Sizes.Elements("c_n L·D × B × H", ld, batch, spec.HiddenSize);
        using var session = new LstmTrainingSession(weights, batch, Math.Max(1, steps), kernel, threads: threads);
        var result = new LstmGradients(new float[outputs], new float[h], new float[c], session.Gradients, new float[inputs], new float[h], new float[c]);
        session.Forward(input, steps, batch, result.Output, result.HiddenState, result.CellState, h0, c0, lengths, layout);
        session.Backward(gradOutput, gradHN, gradCN, result.Input, result.H0, result.C0);
        return result;
    }

    /// <summary>An <see cref="LstmModel"/> for inference with the current weights.</summary>
    public LstmModel CreateModel(LstmModelOptions? options = null) =>
        _caller.Run((Weights, options ?? new LstmModelOptions { Kernel = KernelPath }), static s => LstmModel.Create(s.Item1, s.Item2));

    /// <summary>One layer-direction of the forward (see <see cref="DirectionRunner"/>), keeping every step's gates, c, h and m.</summary>
    private void ForwardDirection(int layer, int d, float* h0, float* c0, float* hN, float* cN, int* lengths, byte* stepActive)
    {
        int slot = layer * _spec.Directions + d;
        DirectionPass pass = DirectionPass.Create(_spec, _packed[slot], layer, d, _steps, _batch, _hOutP, _hp);
        pass.Input = _layerIO[layer].Pointer;
        pass.Gates = _gates[slot].Pointer;
        pass.KeepGates = true;
        pass.History = true;
        pass.H = _hidden[slot].Pointer;
        pass.C = _cells[slot].Pointer;
        pass.Raw = _mRaw[slot].Pointer;
        pass.SetStates(slot, h0, c0, hN, cN);
        pass.Lengths = lengths;
        pass.Active = stepActive;
        pass.Output = _layerIO[layer + 1].Pointer;
        DirectionRunner.Run(_team, share: true, pass);
    }

    [SkipLocalsInit]
    private void BackwardDirection(int layer, int d, AlignedBuffer<float> dLayerOutput, ReadOnlySpan<float> gradHN, ReadOnlySpan<float> gradCN, AlignedBuffer<float>? dx)
    {
        int steps = _steps, batch = _batch, slot = layer * _spec.Directions + d, rows = steps * batch;
        int features = _spec.LayerInputSize(layer), hOut = _spec.OutputHiddenSize, hidden = _spec.HiddenSize, p = _spec.ProjectionSize;
        int blocks = _hp / _width;
        bool resetFirst = _spec.Cell.ResetBeforeProduct;
        float* gates = _gates[slot].Pointer, hs = _hidden[slot].Pointer, ms = _mRaw[slot].Pointer, weightGrad = _weightGrad.Pointer;
        LstmLayerWeights w = Weights[layer, d];
        LstmLayerWeights grad = Gradients[layer, d];

        _dh.Span.Clear();
        _dc.Span.Clear();
        PaddedRows.Load(gradHN, hOut, batch, _dh.Span, _hOutP);
        PaddedRows.Load(gradCN, hidden, batch, _dc.Span, _hp);
        fixed (float* weightHr = w.WeightHr, gradWeightHr = grad.WeightHr, weightHh = w.WeightHh)
        {
            _backwardSteps.Set(layer, d, dLayerOutput.Pointer, weightHr, weightHh);
            // One tile of rows or fewer would go to a single member: no hand-off then.
            if (batch > BackwardStepsWork.RowGrain && _team.WorthSharing((long)rows * _gateStride * hOut)) _team.RunOnEveryMember(_backwardSteps);
            else _backwardSteps.Execute(0, 1);
            if (steps % 2 == 1) _dhNext.Span.Slice(0, batch * _hOutP).CopyTo(_dh.Span); // the last step wrote the other buffer

            // The weight gradients, over all steps at once: C[4·Hp, N] = dGᵀ·B with dG [T·B, 4·Hp].
            if (rows > 0)
            {
                int hStart = d == 0 ? 0 : batch; // h_{t−1} of step t sits one slot before (forward) or after (reverse) h_t
                _team.Multiply(gates, 1, _gateStride, hs + hStart * _hOutP, _hOutP, weightGrad, hOut, _gateStride, hOut, rows, accumulate: false);
                if (resetFirst)
                {
                    // The original GRU's W_hn multiplied r_t ⊙ h_{t−1}, not h_{t−1}: its rows (slot 3 of each block) are
                    // dW_hn = Σ_t da_n,tᵀ·(r_t ⊙ h_{t−1}) instead.
                    for (int block = 0; block < blocks; block++)
                        _team.Multiply(_dCandidates.Pointer + block * _width, 1, _hp, ms, _hp, weightGrad + (block * 4 + 3) * _width * hOut, hOut,
                            _width, hOut, rows, accumulate: false);
                }

                AddFromPanelRows(_weightGrad.Span, hOut, grad.WeightHh);
                _team.Multiply(gates, 1, _gateStride, _layerIO[layer].Pointer, features, weightGrad, features, _gateStride, features, rows, accumulate: false);
                AddFromPanelRows(_weightGrad.Span, features, grad.WeightIh);
                if (_spec.Bias)
                {
                    _weightGrad.Span.Slice(0, _gateStride).Clear();
                    _team.AddColumnSums(gates, rows, _gateStride, _gateStride, weightGrad);
                    AddFromPanelRows(_weightGrad.Span, 1, grad.BiasIh);
                    AddFromPanelRows(_weightGrad.Span, 1, grad.BiasHh);
                }

                if (p > 0)
                    _team.Multiply(_dHidden.Pointer, 1, _hOutP, ms, _hp, gradWeightHr, hidden, p, hidden, rows, accumulate: true);
                if (dx is not null)
                    _team.Multiply(gates, _gateStride, 1, _inputRows[slot].Pointer, features, dx.Pointer, features, rows, features, _gateStride, accumulate: true);
            }
        }
    }

    /// <summary>
    /// The backward steps of one layer-direction over batch rows [<paramref name="start"/>, <paramref name="end"/>), from the
    /// last step to the first: dh_t completed with the upstream gradient, the step's gate derivatives, then dh_{t−1} (its own
    /// gate derivatives times W_hh, and for a projection dm = dh·W_hr first). No row reads another's, so a team splits the
    /// batch once for the whole sequence, at whole 4-row register tiles of the products (each row's products as on one
    /// thread), and its members run every step without meeting.
    /// </summary>
    private void BackwardSteps(int layer, int d, float* upstream, float* weightHr, float* weightHh, int start, int end)
    {
        int steps = _steps, batch = _batch, slot = layer * _spec.Directions + d, rowCount = end - start;
        int hOut = _spec.OutputHiddenSize, hidden = _spec.HiddenSize, p = _spec.ProjectionSize;
        int outputFeatures = _spec.OutputSize, column = d * hOut, blocks = _hp / _width;
        bool gru = _spec.Cell.IsGru, resetFirst = _spec.Cell.ResetBeforeProduct;
        float* gates = _gates[slot].Pointer, cells = _cells[slot].Pointer, hs = _hidden[slot].Pointer, recurrent = _recurrentRows[slot].Pointer;
        float* dh = _dh.Pointer + start * _hOutP, dhNext = _dhNext.Pointer + start * _hOutP, dc = _dc.Pointer + start * _hp;
        TrainingKernelSet kernels = _kernels.Training;
        fixed (byte* pActive = _active)
        {
            for (int s = steps - 1; s >= 0; s--)
            {
                int t = d == 0 ? s : steps - 1 - s;
                int previous = d == 0 ? t : t + 1, next = d == 0 ? t + 1 : t, first = t * batch + start;
                byte* active = _hasLengths ? pActive + first : null;
                var activeRows = active == null ? default : new ReadOnlySpan<byte>(active, rowCount);
                for (int b = 0; b < rowCount; b++)
                {
                    if (active != null && active[b] == 0) continue;
                    DenseMath.Add(new ReadOnlySpan<float>(upstream + (first + b) * outputFeatures + column, hOut), new Span<float>(dh + b * _hOutP, hOut));
                }

                float* dm = dh;
                int dmStride = _hOutP;
                if (p > 0)
                {
                    // dh_t is kept for dW_hr (zero rows where inactive); dm = dh·W_hr.
                    float* kept = _dHidden.Pointer + first * _hOutP;
                    new ReadOnlySpan<float>(dh, rowCount * _hOutP).CopyTo(new Span<float>(kept, rowCount * _hOutP));
                    for (int b = 0; b < rowCount; b++)
                        if (active != null && active[b] == 0) new Span<float>(kept + b * _hOutP, _hOutP).Clear();
                    dm = _dm.Pointer + start * _hp;
                    dmStride = _hp;
                    kernels.Multiply(ref *dh, _hOutP, 1, ref *weightHr, hidden, ref *dm, dmStride, rowCount, hidden, p, accumulate: false);
                }

                // A GRU's step writes the part of dh_{t−1} that bypasses W_hh (dh ⊙ z) for the product to add to.
                float* stepGates = gates + first * _gateStride, hPrevious = hs + (previous * batch + start) * _hOutP;
                if (resetFirst)
                {
                    float* dCandidate = _dCandidates.Pointer + first * _hp, dGated = _dGated.Pointer + start * _hp;
                    kernels.BackwardGruBeforeReset(ref *stepGates, _gateStride, ref *hPrevious, _hOutP, ref *dh, ref *dhNext, _hOutP, ref *dCandidate, _hp,
                        rowCount, blocks, activeRows);
                    // ∂loss/∂(r ⊙ h) = da_n·W_hn, then the reset gate's derivatives.
                    kernels.Multiply(ref *dCandidate, _hp, 1, ref *(weightHh + 3 * hidden * hOut), hidden, ref *dGated, _hp, rowCount, hidden, hidden, accumulate: false);
                    kernels.BackwardGruResetGate(ref *stepGates, _gateStride, ref *hPrevious, _hOutP, ref *dGated, _hp, ref *dhNext, _hOutP, rowCount, blocks, activeRows);
                }
                else if (gru)
                {
                    kernels.BackwardGruCell(ref *stepGates, _gateStride, ref *hPrevious, _hOutP, ref *dh, ref *dhNext, _hOutP, rowCount, blocks, activeRows);
                }
                else
                {
                    kernels.BackwardCell(ref *stepGates, _gateStride, ref *(cells + (next * batch + start) * _hp), ref *(cells + (previous * batch + start) * _hp), _hp,
                        ref *dm, dmStride, ref *dc, rowCount, blocks, activeRows);
                }

                kernels.Multiply(ref *stepGates, _gateStride, 1, ref *recurrent, hOut, ref *dhNext, _hOutP, rowCount, hOut, _gateStride, accumulate: gru);
                for (int b = 0; b < rowCount; b++)
                    if (active != null && active[b] == 0) new ReadOnlySpan<float>(dh + b * _hOutP, hOut).CopyTo(new Span<float>(dhNext + b * _hOutP, hOut));
                float* written = dhNext;
                dhNext = dh;
                dh = written;
            }
        }
    }

    /// <summary>A layer-direction's <see cref="BackwardSteps"/> for a team: each member takes its rows.</summary>
    private sealed class BackwardStepsWork(LstmTrainingSession session) : ITeamWork
    {
        /// <summary>Whole 4-row tiles of the products, so that every row is computed by the same tile as on one thread.</summary>
        public const int RowGrain = 4;

        private int _layer, _d;
        private float* _upstream, _weightHr, _weightHh;

        /// <summary>The layer-direction of the next run, with its upstream gradient and weights (pinned until the run returns).</summary>
        public void Set(int layer, int d, float* upstream, float* weightHr, float* weightHh)
        {
            _layer = layer;
            _d = d;
            _upstream = upstream;
            _weightHr = weightHr;
            _weightHh = weightHh;
        }

        public void Execute(int member, int members)
        {
            (int start, int end) = WorkerTeam.Share(session._batch, member, members, RowGrain);
            if (start != end) session.BackwardSteps(_layer, _d, _upstream, _weightHr, _weightHh, start, end);
        }
    }

    /// <summary>Rows of a [4H, depth] gate-major matrix reordered to the panels' gate order ([4·Hp, depth]; padding rows zero).</summary>
    private void ToPanelRows(ReadOnlySpan<float> weight, int depth, Span<float> rows)
    {
        int hidden = _spec.HiddenSize;
        for (int r = 0; r < _gateStride; r++)
        {
            int unit = r / (4 * _width) * _width + r % _width, gate = r / _width % 4;
            Span<float> destination = rows.Slice(r * depth, depth);
            if (unit < hidden) weight.Slice((gate * hidden + unit) * depth, depth).CopyTo(destination);
            else destination.Clear();
        }
    }

    /// <summary>Adds a [4·Hp, depth] matrix in panel gate order to a [4H, depth] gate-major one.</summary>
    private void AddFromPanelRows(ReadOnlySpan<float> rows, int depth, Span<float> weight)
    {
        int hidden = _spec.HiddenSize;
        for (int r = 0; r < _gateStride; r++)
        {
            int unit = r / (4 * _width) * _width + r % _width, gate = r / _width % 4;
            if (unit >= hidden) continue;
            DenseMath.Add(rows.Slice(r * depth, depth), weight.Slice((gate * hidden + unit) * depth, depth));
        }
    }

    private void CheckCapacity(int steps, int batch) => ShapeChecks.Capacity(steps, batch, MaxSteps, MaxBatch);

    private static void ToTimeMajor(ReadOnlySpan<float> source, int steps, int batch, int features, SequenceLayout layout, Span<float> destination)
    {
        if (layout == SequenceLayout.TimeMajor)
        {
            source.Slice(0, steps * batch * features).CopyTo(destination);
            return;
        }

        for (int b = 0; b < batch; b++)
            for (int t = 0; t < steps; t++)
                source.Slice((b * steps + t) * features, features).CopyTo(destination.Slice((t * batch + b) * features));
    }

    private static void FromTimeMajor(ReadOnlySpan<float> source, int steps, int batch, int features, SequenceLayout layout, Span<float> destination)
    {
        if (layout == SequenceLayout.TimeMajor)
        {
            source.Slice(0, steps * batch * features).CopyTo(destination);
            return;
        }

        for (int b = 0; b < batch; b++)
            for (int t = 0; t < steps; t++)
                source.Slice((t * batch + b) * features, features).CopyTo(destination.Slice((b * steps + t) * features));
    }
}
