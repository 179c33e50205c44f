using LstmSimd.Reference;
using LstmSimd.Training;

namespace LstmSimd.Benchmarking;

/// <summary>
/// A standard workload ready to call: random weights (PyTorch's initialisation, fixed seed), a model (an LSTM, or a GRU
/// of the workload's cell for a GRU workload) built with the given options, one session sized for the workload (or, for a training workload, a trainer with a linear head
/// and SGD) and input, output and target buffers allocated once. <see cref="Invoke"/> runs one call and allocates
/// nothing once warm.
/// </summary>
public sealed class WorkloadRunner : IDisposable
{
    private readonly LstmSession? _session;
    private readonly GruSession? _gruSession;
    private readonly LstmTrainer? _trainer;
    private readonly float[] _input;
    private readonly float[] _output;
    private readonly float[] _targets;

    /// <summary>Builds the model and its session for <paramref name="workload"/>.</summary>
    /// <param name="workload">The shapes to run.</param>
    /// <param name="options">Model options (kernel path, threads; a trainer takes those two, and trains in fp32); null for the defaults.</param>
    /// <param name="seed">Seeds the weights and the input, so every run times the same numbers.</param>
    public WorkloadRunner(StandardWorkload workload, LstmModelOptions? options = null, int seed = 1)
    {
        ArgumentNullException.ThrowIfNull(workload);
        Workload = workload;
        if (workload.IsGru)
        {
            if (workload.Kind == WorkloadKind.Train) throw new NotSupportedException($"Workload {workload.Name}: GRU workloads run inference only.");
            GruWeights = LstmSimd.GruWeights.CreateRandom(workload.GruSpec, seed);
            GruModel = LstmSimd.GruModel.Create(GruWeights, options);
            _gruSession = GruModel.CreateSession(workload.Batch, workload.Steps);
            (KernelPath, Threads) = (GruModel.KernelPath, GruModel.Threads);
        }
        else
        {
            Weights = LstmWeights.CreateRandom(workload.Spec, seed);
            Model = LstmModel.Create(Weights, options);
            _session = Model.CreateSession(workload.Batch, workload.Steps);
            (KernelPath, Threads) = (Model.KernelPath, Model.Threads);
        }

        _input = new float[workload.InputLength];
        var random = new Random(seed + 1);
        for (int i = 0; i < _input.Length; i++) _input[i] = (float)(random.NextDouble() * 2.0 - 1.0);
        _output = new float[workload.OutputLength];
        _targets = new float[workload.Kind == WorkloadKind.Train ? checked(workload.Steps * workload.Batch) : 0];
        for (int i = 0; i < _targets.Length; i++) _targets[i] = (float)(random.NextDouble() * 2.0 - 1.0);
        if (workload.Kind == WorkloadKind.Train)
        {
            // The trainer updates its own copy, so that the reference keeps seeing the initial weights.
            _trainer = new LstmTrainer(Weights!.Clone(), new TrainableLinearHead(workload.HiddenSize, 1, new SeededRandom((ulong)seed)),
                parameters => new SgdOptimizer(parameters, learningRate: 1e-3),
                new LstmTrainerOptions
                {
                    MaxBatch = workload.Batch,
                    MaxSteps = workload.Steps,
                    Readout = Readout.EveryStep,
                    Loss = LossKind.MeanSquaredError,
                    Kernel = options?.Kernel ?? KernelPath.Auto,
                    Threads = options?.Threads ?? 1,
                });
        }
    }

    /// <summary>The workload this runner calls.</summary>
    public StandardWorkload Workload { get; }

    /// <summary>The LSTM's weights the model was built from (the reference runs on these); null for a GRU workload.</summary>
    public LstmWeights? Weights { get; }

    /// <summary>The LSTM under test; null for a GRU workload.</summary>
    public LstmModel? Model { get; }

    /// <summary>The GRU's weights, for a <see cref="WorkloadCell.Gru"/> workload (else null).</summary>
    public GruWeights? GruWeights { get; }

    /// <summary>The GRU under test, for a <see cref="WorkloadCell.Gru"/> workload (else null).</summary>
    public GruModel? GruModel { get; }

    /// <summary>The kernel width the model runs at.</summary>
    public KernelPath KernelPath { get; }

    /// <summary>Threads a call computes with (the model's, which the trainer shares).</summary>
    public int Threads { get; }

    /// <summary>The last inference call's output: [T, B, H].</summary>
    public ReadOnlySpan<float> Output => _output;

    /// <summary>The loss of the last training call (NaN before one).</summary>
    public double LastLoss { get; private set; } = double.NaN;

    /// <summary>
    /// One call of the workload on the fast path: a whole-sequence forward, one streaming step (the state carries over
    /// between calls), or one training step (the weights change with every call, as in the peers' script).
    /// </summary>
    public void Invoke()
    {
        StandardWorkload w = Workload;
        switch (w.Kind)
        {
            case WorkloadKind.Step when _gruSession is not null:
                _gruSession.Step(_input, w.Batch, _output);
                break;
            case WorkloadKind.Step:
                _session!.Step(_input, w.Batch, _output);
                break;
            case WorkloadKind.Train:
                LastLoss = _trainer!.Step(_input, w.Steps, w.Batch, _targets);
                break;
            default:
                if (_gruSession is not null) _gruSession.Forward(_input, w.Steps, w.Batch, _output);
                else _session!.Forward(_input, w.Steps, w.Batch, _output);
                break;
        }
    }

    /// <summary>
    /// The output of the same call on <see cref="ReferenceLstm"/> or <see cref="ReferenceGru"/> (double precision,
    /// unoptimised, allocates its result): the yardstick for what the kernels buy. A step workload runs one step from a zero
    /// state; a training workload, its forward pass on the initial weights.
    /// </summary>
    public double[] InvokeReference() => GruWeights is not null
        ? ReferenceGru.Forward(GruWeights, _input, Workload.Steps, Workload.Batch).Output
        : ReferenceLstm.Forward(Weights!, _input, Workload.Steps, Workload.Batch).Output;

    /// <summary>Stops the session's worker threads, if it has any.</summary>
    public void Dispose()
    {
        _session?.Dispose();
        _gruSession?.Dispose();
        _trainer?.Dispose();
    }
}
