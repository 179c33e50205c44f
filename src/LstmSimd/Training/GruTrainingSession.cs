using LstmSimd.Shared;

namespace LstmSimd.Training;

/// <summary>
/// Forward and backward passes through time for a GRU (PyTorch's <c>nn.GRU</c> or the original cell) on the SIMD kernels, for training: the
/// GRU counterpart of <see cref="LstmTrainingSession"/>, with the same arguments minus the cell state. <see cref="Forward"/>
/// runs the model as <see cref="GruSession.Forward"/> does and keeps every step; <see cref="Backward"/> adds
/// ∂loss/∂parameters to <see cref="Gradients"/> and writes ∂loss/∂input and ∂loss/∂h0. The session trains
/// <see cref="Weights"/> in place: after an optimiser changes them, <see cref="RefreshWeights"/> repacks the kernels'
/// copies. Warm calls allocate nothing; bitwise deterministic, and with several threads bitwise the same as with one.
/// Dispose it to stop its worker threads (when created with more than one). One caller at a time.
/// </summary>
/// <remarks>
/// The GRU runs on the LSTM's training passes with its gates in the four gate slots (see <see cref="GruModel"/>); the
/// backward turns each step's slot pre-activations into their derivatives, from which the LSTM's gradient GEMMs give
/// the GRU's gradients (the products of the two empty slots are dropped). With n = tanh(a_in + r ⊙ a_hn):
/// <code>
/// da_n = dh ⊙ (1 − z) ⊙ (1 − n²)   da_z = dh ⊙ (h_{t−1} − n) ⊙ z(1 − z)   da_r = da_n ⊙ a_hn ⊙ r(1 − r)   da_hn = da_n ⊙ r
/// dh_{t−1} = dh ⊙ z + [da_r, da_z, da_hn]·[W_hr; W_hz; W_hn]
/// </code>
/// The original cell (<see cref="GruSpec.LinearBeforeReset"/> false), n = tanh(a_in + b_hn + W_hn (r ⊙ h)), differentiates
/// through r ⊙ h: with g = ∂loss/∂(r ⊙ h) = da_n·W_hn,
/// <code>
/// da_r = g ⊙ h_{t−1} ⊙ r(1 − r)   dh_{t−1} = dh ⊙ z + g ⊙ r + [da_r, da_z]·[W_hr; W_hz]   dW_hn = Σ_t da_nᵀ·(r ⊙ h_{t−1})
/// </code>
/// </remarks>
public sealed class GruTrainingSession : IDisposable, ITrainingPasses
{
    private readonly GruSpec _spec;
    private readonly LstmWeights _slots;        // the GRU in the four gate slots, which the LSTM passes train
    private readonly LstmTrainingSession _passes;
    private readonly SingleCaller _caller;

    /// <summary>Creates a session that trains <paramref name="weights"/> in place (the arrays are used, not copied).</summary>
    /// <param name="weights">The GRU, either cell (<see cref="GruSpec.LinearBeforeReset"/>), with sigmoid gates.</param>
    /// <param name="maxBatch">The largest batch a call may pass.</param>
    /// <param name="maxSteps">The longest sequence a call may pass.</param>
    /// <param name="kernel">The kernel width (see <see cref="Kernels.KernelSelector"/>).</param>
    /// <param name="dropout">Dropout probability on the outputs of every layer but the top one, in training forwards (PyTorch's <c>dropout</c>).</param>
    /// <param name="seed">Seeds the dropout masks.</param>
    /// <param name="threads">Threads each pass computes with (1 to 64), as for <see cref="LstmTrainingSession"/>.</param>
    /// <exception cref="NotSupportedException">The gates are hard sigmoids (<see cref="GruSpec.GateActivation"/>).</exception>
    public GruTrainingSession(GruWeights weights, int maxBatch, int maxSteps, KernelPath kernel = KernelPath.Auto, double dropout = 0, ulong seed = 0, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(weights);
        _spec = weights.Spec;
        if (_spec.GateActivation.Kind != ActivationKind.Sigmoid)
            throw new NotSupportedException("GRU training runs sigmoid gates; this GRU's GateActivation is a hard sigmoid (it runs, and ReferenceGru differentiates it, but the fast backward does not).");
        Weights = weights;
        Gradients = GruWeights.CreateZero(_spec);
        _slots = GruModel.InGateSlots(weights);
        _passes = new LstmTrainingSession(_slots, maxBatch, maxSteps, kernel, dropout, seed, threads); // last: it starts the threads
        _caller = new SingleCaller(this, "session");
    }

    /// <summary>The GRU being trained (its arrays are the trained parameters).</summary>
    public GruWeights Weights { get; }

    /// <summary>∂loss/∂parameters, shaped like <see cref="Weights"/>; <see cref="Backward"/> adds to it, <see cref="ZeroGradients"/> clears it.</summary>
    public GruWeights Gradients { get; }

    /// <summary>The largest batch a call may pass.</summary>
    public int MaxBatch => _passes.MaxBatch;

    /// <summary>The longest sequence a call may pass.</summary>
    public int MaxSteps => _passes.MaxSteps;

    /// <summary>The kernel width this session runs.</summary>
    public KernelPath KernelPath => _passes.KernelPath;

    /// <summary>Threads each pass computes with.</summary>
    public int Threads => _passes.Threads;

    /// <summary>Whether forwards apply dropout between layers (set false to evaluate); not while a call is running.</summary>
    public bool Training
    {
        get => _passes.Training;
        set => _passes.Training = value;
    }

    /// <summary>Stops the session's worker threads, if it has any; every later call throws <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_caller.TryDispose()) _passes.Dispose();
    }

    /// <summary>Shares every kernel call among the threads, however small (tests).</summary>
    internal void ShareEveryCall() => _passes.ShareEveryCall();

    /// <summary>Registers every parameter with its gradient under <c>nn.GRU</c>'s names (see <see cref="ParameterSet.Add(GruWeights, GruWeights, string)"/>).</summary>
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
            int hidden = _spec.HiddenSize;
            for (int l = 0; l < _spec.NumLayers; l++)
            {
                for (int d = 0; d < _spec.Directions; d++)
                {
                    GruLayerWeights w = Weights[l, d];
                    LstmLayerWeights slots = _slots[l, d];
                    GruModel.PlaceInto(w.WeightIh, _spec.LayerInputSize(l), hidden, GruModel.InputGateOfSlot, slots.WeightIh);
                    GruModel.PlaceInto(w.WeightHh, hidden, hidden, GruModel.RecurrentGateOfSlot, slots.WeightHh);
                    if (!_spec.Bias) continue;
                    GruModel.PlaceInto(w.BiasIh, 1, hidden, GruModel.InputGateOfSlot, slots.BiasIh);
                    GruModel.PlaceInto(w.BiasHh, 1, hidden, GruModel.RecurrentGateOfSlot, slots.BiasHh);
                }
            }

            _passes.RefreshWeights();
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>
    /// Runs the model as <see cref="GruSession.Forward"/> does (same arguments, same results) and keeps the intermediate
    /// values for <see cref="Backward"/>. With <see cref="Training"/> and a dropout probability, the outputs of the lower
    /// layers are dropped out on their way up.
    /// </summary>
    /// <param name="input">[T, B, I] time-major, or [B, T, I] with <see cref="SequenceLayout.BatchFirst"/>.</param>
    /// <param name="steps">T, at most <see cref="MaxSteps"/>.</param>
    /// <param name="batch">B, at most <see cref="MaxBatch"/>.</param>
    /// <param name="output">[T, B, D·H] (or batch-first), or empty to skip it; zero past each sequence's length.</param>
    /// <param name="hN">Receives h_n [L·D, B, H] unless empty.</param>
    /// <param name="h0">Initial h [L·D, B, H]; empty for zeros.</param>
    /// <param name="lengths">[B] lengths in [0, T] with packed-sequence meaning; empty when every sequence has T steps.</param>
    /// <param name="layout">The layout of <paramref name="input"/> and <paramref name="output"/>.</param>
    public void Forward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output, Span<float> hN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<int> lengths = default, SequenceLayout layout = SequenceLayout.TimeMajor)
    {
        _caller.Enter();
        try
        {
            _passes.Forward(input, steps, batch, output, hN, default, h0, default, lengths, layout);
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>
    /// Backpropagates through the last <see cref="Forward"/>: for loss = Σ output·gradOutput + Σ h_n·gradHN (either may be
    /// empty for zero), adds ∂loss/∂parameters to <see cref="Gradients"/> and writes ∂loss/∂input (in the forward's
    /// layout, zero past each length) and ∂loss/∂h0 into the spans given (empty to skip).
    /// </summary>
    public void Backward(ReadOnlySpan<float> gradOutput = default, ReadOnlySpan<float> gradHN = default, Span<float> gradInput = default, Span<float> gradH0 = default)
    {
        _caller.Enter();
        try
        {
            // The slots' gradients hold one backward's at a time; the GRU's own accumulate.
            _passes.ZeroGradients();
            _passes.Backward(gradOutput, gradHN, default, gradInput, gradH0, default);
            int hidden = _spec.HiddenSize;
            for (int l = 0; l < _spec.NumLayers; l++)
            {
                for (int d = 0; d < _spec.Directions; d++)
                {
                    GruLayerWeights g = Gradients[l, d];
                    LstmLayerWeights slots = _passes.Gradients[l, d];
                    GruModel.AddFromSlots(slots.WeightIh, _spec.LayerInputSize(l), hidden, GruModel.InputGateOfSlot, g.WeightIh);
                    GruModel.AddFromSlots(slots.WeightHh, hidden, hidden, GruModel.RecurrentGateOfSlot, g.WeightHh);
                    if (!_spec.Bias) continue;
                    GruModel.AddFromSlots(slots.BiasIh, 1, hidden, GruModel.InputGateOfSlot, g.BiasIh);
                    GruModel.AddFromSlots(slots.BiasHh, 1, hidden, GruModel.RecurrentGateOfSlot, g.BiasHh);
                }
            }
        }
        finally
        {
            _caller.Exit();
        }
    }

    void ITrainingPasses.Forward(ReadOnlySpan<float> input, int steps, int batch, Span<float> output, Span<float> hN, Span<float> cN,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<int> lengths, SequenceLayout layout) =>
        Forward(input, steps, batch, output, hN, h0, lengths, layout); // a GRU has no c: the trainer passes empty spans

    void ITrainingPasses.Backward(ReadOnlySpan<float> gradOutput) => Backward(gradOutput);

    void ITrainingPasses.AddTo(ParameterSet parameters) => AddTo(parameters);

    /// <summary>
    /// One forward and backward pass on the fast path, for checking gradients against another framework: returns the
    /// forward results and every gradient of loss = Σ output·gradOutput + Σ h_n·gradHN. Arguments as in
    /// <see cref="Forward"/>; empty upstream gradients mean zeros. Allocates its session and results.
    /// </summary>
    public static GruGradients ComputeGradients(GruWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<float> gradOutput = default, ReadOnlySpan<float> gradHN = default, ReadOnlySpan<float> h0 = default,
        ReadOnlySpan<int> lengths = default, SequenceLayout layout = SequenceLayout.TimeMajor, KernelPath kernel = KernelPath.Auto, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(weights);
        GruSpec spec = weights.Spec;
        int outputs = Sizes.Elements("output T × B × D·H", steps, batch, spec.OutputSize), inputs = Sizes.Elements("input T × B × I", steps, batch, spec.InputSize);
        int h = Sizes.Elements("h_n L·D × B × H", spec.LayerDirections, batch, spec.HiddenSize);
        using var session = new GruTrainingSession(weights, batch, Math.Max(1, steps), kernel, threads: threads);
        var result = new GruGradients(new float[outputs], new float[h], session.Gradients, new float[inputs], new float[h]);
        session.Forward(input, steps, batch, result.Output, result.HiddenState, h0, lengths, layout);
        session.Backward(gradOutput, gradHN, result.Input, result.H0);
        return result;
    }

    /// <summary>A <see cref="GruModel"/> for inference with the current weights.</summary>
    public GruModel CreateModel(LstmModelOptions? options = null) =>
        _caller.Run((Weights, options ?? new LstmModelOptions { Kernel = KernelPath }), static s => GruModel.Create(s.Item1, s.Item2));
}

/// <summary>
/// The result of <see cref="GruTrainingSession.ComputeGradients"/>: a forward pass and the gradients of a loss with
/// respect to every parameter, the input and h0, in PyTorch's shapes.
/// </summary>
/// <param name="Output">The forward output: [T, B, D·H] (or [B, T, D·H] batch-first).</param>
/// <param name="HiddenState">h_n: [L·D, B, H].</param>
/// <param name="Parameters">∂loss/∂parameters, laid out as the weights (<c>grad.weight_ih_l0</c> is <c>Parameters[0, 0].WeightIh</c>).</param>
/// <param name="Input">∂loss/∂input, in the input's layout; zero past each sequence's length.</param>
/// <param name="H0">∂loss/∂h0: [L·D, B, H].</param>
public sealed record GruGradients(float[] Output, float[] HiddenState, GruWeights Parameters, float[] Input, float[] H0);
