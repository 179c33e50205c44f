using LstmSimd.Shared;

namespace LstmSimd.Training;

/// <summary>
/// One training step at a time for a recurrent network (<see cref="LstmTrainer"/>, <see cref="GruTrainer"/>) with a linear
/// head: forward, readout, head, loss, backward,
/// gradient clipping, optimiser update and repacking of the kernels' weights, allocating nothing once warm.
/// Deterministic: the same weights, seed and data give bitwise the same run, on any number of threads. Dispose it to
/// stop its worker threads (when <see cref="LstmTrainerOptions.Threads"/> is above 1). One caller at a time: a call made
/// while another is running throws <see cref="InvalidOperationException"/> (every public method checks) instead of
/// sharing its buffers.
/// </summary>
/// <remarks>
/// Truncated backpropagation through time: with <see cref="CarryState"/> each step starts from the state the
/// previous step ended in (as h0/c0) and backpropagates through its own chunk only, so a long stream is trained
/// chunk by chunk with no gradient across chunk boundaries. <see cref="ResetState"/> starts a new stream.
/// A step whose gradient norm is not finite (NaN or ∞) updates nothing; <see cref="LastGradientNorm"/> shows it.
/// </remarks>
public abstract class RecurrentTrainer : IDisposable
{
    private readonly LstmTrainerOptions _options;
    private readonly ITrainingPasses _passes;
    private readonly int _outputSize, _layerDirections, _hiddenSize, _cellSize;
    private readonly float[] _output, _gradOutput, _rows, _gradRows, _prediction, _gradPrediction;
    private readonly float[] _h0, _c0, _hN, _cN;
    private readonly SingleCaller _caller;
    private bool _hasState, _carryState;
    private int _lastRows;

    /// <summary>Builds a trainer for a network whose passes <paramref name="createPasses"/> creates (after every buffer is sized) and <paramref name="head"/>.</summary>
    /// <param name="outputSize">The network's output features per step (D·H_out), which the head takes.</param>
    /// <param name="layerDirections">L·D: the rows of its state.</param>
    /// <param name="hiddenSize">The units of its h (H_out).</param>
    /// <param name="cellSize">The units of its c (H), or 0 for a network without one.</param>
    /// <param name="head">The linear head on the network's outputs.</param>
    /// <param name="createOptimizer">Builds the optimiser over the registered parameters (the network first, then the head as <c>head.weight</c>, <c>head.bias</c>).</param>
    /// <param name="options">Sizes, readout, loss, clipping.</param>
    /// <param name="createPasses">Creates the forward and backward passes (and their threads): called last, so that nothing sized before can leave threads running.</param>
    private protected RecurrentTrainer(int outputSize, int layerDirections, int hiddenSize, int cellSize, TrainableLinearHead head,
        Func<ParameterSet, Optimizer> createOptimizer, LstmTrainerOptions options, Func<LstmTrainerOptions, ITrainingPasses> createPasses)
    {
        ArgumentNullException.ThrowIfNull(head);
        ArgumentNullException.ThrowIfNull(createOptimizer);
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.ClipNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(options), options.ClipNorm, "ClipNorm must be 0 (off) or positive.");
        if (head.Inputs != outputSize)
            throw new ArgumentException($"The head takes {head.Inputs} inputs; the network gives D·H_out = {outputSize}.", nameof(head));
        _options = options;
        _outputSize = outputSize;
        _layerDirections = layerDirections;
        _hiddenSize = hiddenSize;
        _cellSize = cellSize;
        _caller = new SingleCaller(this, "trainer");
        Head = head;

        // Sized before the passes start their threads, so that a trainer too large to represent fails without leaving them running.
        ShapeChecks.Positive(options.MaxBatch, nameof(options.MaxBatch));
        ShapeChecks.Positive(options.MaxSteps, nameof(options.MaxSteps));
        int sequence = Sizes.Elements("outputs MaxSteps × MaxBatch × D·H_out", options.MaxSteps, options.MaxBatch, outputSize);
        int maxRows = options.Readout == Readout.LastStep ? options.MaxBatch : Sizes.Elements("rows MaxSteps × MaxBatch", options.MaxSteps, options.MaxBatch);
        int rows = Sizes.Elements("readout rows × D·H_out", maxRows, outputSize), predictions = Sizes.Elements("predictions rows × head outputs", maxRows, head.Outputs);
        int h = Sizes.Elements("h L·D × MaxBatch × H_out", layerDirections, options.MaxBatch, hiddenSize), c = Sizes.Elements("c L·D × MaxBatch × H", layerDirections, options.MaxBatch, cellSize);
        _output = new float[sequence];
        _gradOutput = new float[sequence];
        _rows = new float[rows];
        _gradRows = new float[rows];
        _prediction = new float[predictions];
        _gradPrediction = new float[predictions];
        _h0 = new float[h];
        _hN = new float[h];
        _c0 = new float[c];
        _cN = new float[c];

        _passes = createPasses(options);
        Parameters = new ParameterSet(options.Kernel);
        _passes.AddTo(Parameters);
        head.AddTo(Parameters);
        Optimizer = createOptimizer(Parameters) ?? throw new ArgumentException("The optimiser factory returned null.", nameof(createOptimizer));
    }

    /// <summary>
    /// Stops the session's worker threads, if it has any; every later call throws <see cref="ObjectDisposedException"/>.
    /// A call running on another thread is waited for (it finishes normally); calling Dispose again does nothing.
    /// </summary>
    /// <exception cref="InvalidOperationException">Called from inside one of the trainer's own calls (an optimiser's step, say).</exception>
    public void Dispose()
    {
        if (_caller.TryDispose()) _passes.Dispose();
    }

    /// <summary>The network's training passes.</summary>
    private protected ITrainingPasses Passes => _passes;

    /// <summary>The head.</summary>
    public TrainableLinearHead Head { get; }

    /// <summary>Every trained tensor, LSTM first.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The optimiser; change its learning rate between steps for a schedule.</summary>
    public Optimizer Optimizer { get; }

    /// <summary>Truncated BPTT: each call starts from the previous call's final state (same batch size), without backpropagating into it.</summary>
    public bool CarryState
    {
        get => _carryState;
        set
        {
            _caller.Enter();
            _carryState = value;
            _caller.Exit();
        }
    }

    /// <summary>The global gradient norm of the last training step, before clipping.</summary>
    public double LastGradientNorm { get; private set; }

    /// <summary>Forgets the carried state: the next step starts from zeros.</summary>
    public void ResetState()
    {
        _caller.Enter();
        _hasState = false;
        _caller.Exit();
    }

    /// <summary>One training step against float targets ([rows, outputs], rows as <see cref="SequenceReadout"/> orders them); returns the loss before the update.</summary>
    public double Step(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<float> targets, ReadOnlySpan<int> lengths = default)
    {
        RequireLoss(LossKind.MeanSquaredError);
        return Run(input, steps, batch, targets, default, lengths, train: true);
    }

    /// <summary>One training step against class labels ([rows]); returns the loss before the update.</summary>
    public double Step(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<int> labels, ReadOnlySpan<int> lengths = default)
    {
        RequireLoss(LossKind.CrossEntropy);
        return Run(input, steps, batch, default, labels, lengths, train: true);
    }

    /// <summary>The loss on float targets without training (no dropout, no update; the carried state does advance).</summary>
    public double Evaluate(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<float> targets, ReadOnlySpan<int> lengths = default)
    {
        RequireLoss(LossKind.MeanSquaredError);
        return Run(input, steps, batch, targets, default, lengths, train: false);
    }

    /// <summary>The loss on class labels without training.</summary>
    public double Evaluate(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<int> labels, ReadOnlySpan<int> lengths = default)
    {
        RequireLoss(LossKind.CrossEntropy);
        return Run(input, steps, batch, default, labels, lengths, train: false);
    }

    /// <summary>The head's outputs of the last step or evaluation: [rows, outputs].</summary>
    public ReadOnlySpan<float> LastPrediction
    {
        get
        {
            _caller.Enter();
            try
            {
                return _prediction.AsSpan(0, _lastRows * Head.Outputs);
            }
            finally
            {
                _caller.Exit();
            }
        }
    }

    private double Run(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<float> targets, ReadOnlySpan<int> labels, ReadOnlySpan<int> lengths, bool train)
    {
        _caller.Enter();
        try
        {
            return RunStep(input, steps, batch, targets, labels, lengths, train);
        }
        finally
        {
            _caller.Exit();
        }
    }

    private double RunStep(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<float> targets, ReadOnlySpan<int> labels, ReadOnlySpan<int> lengths, bool train)
    {
        int features = _outputSize, outputs = Head.Outputs, ld = _layerDirections;
        ShapeChecks.Positive(batch, nameof(batch));
        if (batch > _options.MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch is above MaxBatch {_options.MaxBatch}.");
        if ((uint)steps > (uint)_options.MaxSteps) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be in [0, MaxSteps {_options.MaxSteps}].");
        int hLength = ld * batch * _hiddenSize, cLength = ld * batch * _cellSize;
        bool carry = CarryState && _hasState;
        Span<float> output = _output.AsSpan(0, steps * batch * features);

        _passes.Training = train;
        _passes.Forward(input, steps, batch, output, _hN.AsSpan(0, hLength), _cN.AsSpan(0, cLength),
            carry ? _h0.AsSpan(0, hLength) : default, carry ? _c0.AsSpan(0, cLength) : default, lengths, _options.Layout);
        if (CarryState)
        {
            _hN.AsSpan(0, hLength).CopyTo(_h0);
            _cN.AsSpan(0, cLength).CopyTo(_c0);
            _hasState = true;
        }

        int rows = SequenceReadout.RowCount(_options.Readout, steps, batch, lengths);
        // Every step of whole sequences: the rows the loss sees are the output as it lies, in its order (no gather, no scatter).
        bool wholeOutput = _options.Readout == Readout.EveryStep && lengths.IsEmpty;
        Span<float> rowValues = wholeOutput ? output : _rows.AsSpan(0, rows * features);
        Span<float> prediction = _prediction.AsSpan(0, rows * outputs), gradPrediction = _gradPrediction.AsSpan(0, rows * outputs);
        if (!wholeOutput) SequenceReadout.Gather(_options.Readout, output, steps, batch, features, lengths, _options.Layout, rowValues);
        Head.Forward(rowValues, rows, prediction);
        _lastRows = rows;
        double loss = _options.Loss == LossKind.MeanSquaredError
            ? Losses.MeanSquaredError(prediction, targets, gradPrediction)
            : Losses.SoftmaxCrossEntropy(prediction, rows, outputs, labels, gradPrediction);
        if (!train) return loss;

        Parameters.ZeroGradients();
        Span<float> gradOutput = _gradOutput.AsSpan(0, steps * batch * features), gradRows = wholeOutput ? gradOutput : _gradRows.AsSpan(0, rows * features);
        Head.Backward(rowValues, gradPrediction, rows, gradRows);
        if (!wholeOutput) SequenceReadout.Scatter(_options.Readout, gradRows, steps, batch, features, lengths, _options.Layout, gradOutput);
        _passes.Backward(gradOutput);
        LastGradientNorm = _options.ClipNorm > 0 ? Parameters.ClipGradientNorm(_options.ClipNorm) : Parameters.GradientNorm();
        if (double.IsFinite(LastGradientNorm))
        {
            Optimizer.Step();
            _passes.RefreshWeights();
        }

        return loss;
    }

    private void RequireLoss(LossKind loss)
    {
        if (_options.Loss != loss)
            throw new InvalidOperationException($"This trainer minimises {_options.Loss}; {(loss == LossKind.CrossEntropy ? "labels" : "float targets")} do not fit it.");
    }
}

/// <summary>What a <see cref="RecurrentTrainer"/> runs: a network's training forward and backward passes.</summary>
internal interface ITrainingPasses : IDisposable
{
    bool Training { get; set; }

    /// <summary>The forward with states; a network without c gets empty c spans.</summary>
    void Forward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output, Span<float> hN, Span<float> cN,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<int> lengths, SequenceLayout layout);

    void Backward(ReadOnlySpan<float> gradOutput);

    void RefreshWeights();

    void AddTo(ParameterSet parameters);
}
