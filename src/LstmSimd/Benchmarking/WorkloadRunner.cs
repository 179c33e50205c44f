using LstmSimd.Reference;

namespace LstmSimd.Benchmarking;

/// <summary>
/// A standard workload ready to call: random weights (PyTorch's initialisation, fixed seed), a model built with
/// the given options, one session sized for the workload and input and output buffers allocated once.
/// <see cref="Invoke"/> runs one call and allocates nothing once warm.
/// </summary>
public sealed class WorkloadRunner : IDisposable
{
    private readonly LstmSession _session;
    private readonly float[] _input;
    private readonly float[] _output;

    /// <summary>Builds the model and its session for <paramref name="workload"/>.</summary>
    /// <param name="workload">The shapes to run.</param>
    /// <param name="options">Model options (kernel path, threads); null for the defaults.</param>
    /// <param name="seed">Seeds the weights and the input, so every run times the same numbers.</param>
    public WorkloadRunner(StandardWorkload workload, LstmModelOptions? options = null, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(workload);
        Workload = workload;
        Weights = LstmWeights.CreateRandom(workload.Spec, seed);
        Model = LstmModel.Create(Weights, options);
        _session = Model.CreateSession(workload.Batch, workload.Steps);
        _input = new float[workload.InputLength];
        var random = new Random(seed + 1);
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)(random.NextDouble() * 2.0 - 1.0);
        _output = new float[workload.OutputLength];
    }

    /// <summary>The workload this runner calls.</summary>
    public StandardWorkload Workload { get; }

    /// <summary>The weights the model was built from (the reference runs on these).</summary>
    public LstmWeights Weights { get; }

    /// <summary>The model under test.</summary>
    public LstmModel Model { get; }

    /// <summary>The kernel width the model runs at.</summary>
    public KernelPath KernelPath => Model.KernelPath;

    /// <summary>The last call's output: [T, B, H].</summary>
    public ReadOnlySpan<float> Output => _output;

    /// <summary>One call of the workload on the fast path: a whole-sequence forward, or one streaming step (the state carries over between calls).</summary>
    public void Invoke()
    {
        StandardWorkload w = Workload;
        if (w.Kind == WorkloadKind.Step) _session.Step(_input, w.Batch, _output);
        else _session.Forward(_input, w.Steps, w.Batch, _output);
    }

    /// <summary>
    /// The same call on <see cref="ReferenceLstm"/> (double precision, unoptimised, allocates its result): the
    /// yardstick for what the kernels buy. A step workload runs one step from a zero state.
    /// </summary>
    public ReferenceResult InvokeReference() => ReferenceLstm.Forward(Weights, _input, Workload.Steps, Workload.Batch);

    /// <summary>Stops the session's worker threads, if it has any.</summary>
    public void Dispose() => _session.Dispose();
}
