using BenchmarkDotNet.Attributes;

namespace LstmSimd.Benchmarks;

/// <summary>
/// A GRU against an LSTM of the same shape on the standard latency and batch workloads (one thread, fp32): the GRU runs
/// on the LSTM's kernels with its three gates in the four gate slots, so it should cost about what the LSTM does; the
/// original cell adds a second, one-gate product phase per step.
/// </summary>
[MemoryDiagnoser]
public class GruBenchmarks
{
    private LstmSession? _lstm;
    private GruSession? _gru;
    private float[] _input = [], _output = [];
    private int _steps, _batch;
    private bool _streaming;

    [Params("step-h256", "seq-h256", "seq-b64-h512")]
    public string Workload { get; set; } = "step-h256";

    /// <summary>lstm, gru (PyTorch's cell) or gru-original (the reset gate before the recurrent product: two product phases per step).</summary>
    [Params("lstm", "gru", "gru-original")]
    public string Cell { get; set; } = "lstm";

    [GlobalSetup]
    public void Setup()
    {
        (_steps, _batch, int hidden, _streaming) = Workload switch
        {
            "step-h256" => (1, 1, 256, true),
            "seq-h256" => (100, 1, 256, false),
            _ => (50, 64, 512, false),
        };
        if (Cell.StartsWith("gru", StringComparison.Ordinal))
            _gru = GruModel.Create(GruWeights.CreateRandom(new GruSpec(hidden, hidden, linearBeforeReset: Cell == "gru"), 1)).CreateSession(_batch, _steps);
        else _lstm = LstmModel.Create(LstmWeights.CreateRandom(new LstmSpec(hidden, hidden), 1)).CreateSession(_batch, _steps);
        var random = new Random(2);
        _input = [.. Enumerable.Range(0, _steps * _batch * hidden).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        _output = new float[_steps * _batch * hidden];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _lstm?.Dispose();
        _gru?.Dispose();
    }

    [Benchmark]
    public void Run()
    {
        if (_gru is { } gru)
        {
            if (_streaming) gru.Step(_input, _batch, _output);
            else gru.Forward(_input, _steps, _batch, _output);
        }
        else if (_streaming)
        {
            _lstm!.Step(_input, _batch, _output);
        }
        else
        {
            _lstm!.Forward(_input, _steps, _batch, _output);
        }
    }
}
