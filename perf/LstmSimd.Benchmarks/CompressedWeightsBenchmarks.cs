using BenchmarkDotNet.Attributes;

namespace LstmSimd.Benchmarks;

/// <summary>
/// The compressed-weight workloads per weight format, fp32 as the baseline of each workload (one thread, batch-1 latency and
/// DeepBench shapes). Until <c>lstmsimd bench --weights</c> exists, this is where the per-format rows come from.
/// </summary>
[MemoryDiagnoser]
public class CompressedWeightsBenchmarks
{
    private LstmSession _session = null!;
    private float[] _input = [], _output = [];
    private int _steps, _batch;
    private bool _streaming;

    [Params("step-h256", "seq-h256", "seq-h512", "seq-b4-h1024")]
    public string Workload { get; set; } = "step-h256";

    [Params(WeightFormat.Float32, WeightFormat.Float16, WeightFormat.BFloat16, WeightFormat.Int8)]
    public WeightFormat Weights { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        (_steps, _batch, int hidden, _streaming) = Workload switch
        {
            "step-h256" => (1, 1, 256, true),
            "seq-h256" => (100, 1, 256, false),
            "seq-h512" => (25, 1, 512, false),
            _ => (25, 4, 1024, false),
        };
        var spec = new LstmSpec(hidden, hidden);
        _session = LstmModel.Create(LstmWeights.CreateRandom(spec, 1), new LstmModelOptions { Weights = Weights }).CreateSession(_batch, _steps);
        var random = new Random(2);
        _input = [.. Enumerable.Range(0, _steps * _batch * hidden).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        _output = new float[_steps * _batch * hidden];
    }

    [GlobalCleanup]
    public void Cleanup() => _session.Dispose();

    [Benchmark]
    public void Run()
    {
        if (_streaming) _session.Step(_input, _batch, _output);
        else _session.Forward(_input, _steps, _batch, _output);
    }
}
