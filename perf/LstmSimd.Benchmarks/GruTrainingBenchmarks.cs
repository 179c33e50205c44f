using BenchmarkDotNet.Attributes;
using LstmSimd.Benchmarking;
using LstmSimd.Training;

namespace LstmSimd.Benchmarks;

/// <summary>
/// One GRU training step against one LSTM training step of the same shape, on the standard training workloads (one
/// thread, fp32) as the trainer runs them: forward, a linear head H→1 on every step, MSE, backward through time and an
/// SGD update. The GRU trains on the LSTM's passes with its gates in the four gate slots, so it should cost about what
/// the LSTM does. "gru-original" is the original cell (reset before the recurrent product), whose W_hn has its own
/// product per step in both passes.
/// </summary>
[MemoryDiagnoser]
public class GruTrainingBenchmarks
{
    private RecurrentTrainer? _trainer;
    private float[] _input = [], _targets = [];
    private StandardWorkload _workload = StandardWorkload.Get("train-b1-h64");

    [Params("train-b1-h64", "train-b32-h256")]
    public string Workload { get; set; } = "train-b1-h64";

    [Params("lstm", "gru", "gru-original")]
    public string Cell { get; set; } = "lstm";

    [GlobalSetup]
    public void Setup()
    {
        StandardWorkload w = _workload = StandardWorkload.Get(Workload);
        var head = new TrainableLinearHead(w.HiddenSize, 1, new SeededRandom(1));
        var options = new LstmTrainerOptions { MaxBatch = w.Batch, MaxSteps = w.Steps, Readout = Readout.EveryStep };
        _trainer = Cell.StartsWith("gru", StringComparison.Ordinal)
            ? new GruTrainer(GruWeights.CreateRandom(new GruSpec(w.InputSize, w.HiddenSize, linearBeforeReset: Cell == "gru"), 1), head, p => new SgdOptimizer(p, 1e-3), options)
            : new LstmTrainer(LstmWeights.CreateRandom(w.Spec, 1), head, p => new SgdOptimizer(p, 1e-3), options);
        var random = new Random(2);
        _input = [.. Enumerable.Range(0, w.InputLength).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        _targets = [.. Enumerable.Range(0, w.Steps * w.Batch).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }

    [GlobalCleanup]
    public void Cleanup() => _trainer?.Dispose();

    [Benchmark]
    public double Step() => _trainer!.Step(_input, _workload.Steps, _workload.Batch, _targets);
}
