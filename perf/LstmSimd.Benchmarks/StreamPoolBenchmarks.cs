using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarks.Infrastructure;

namespace LstmSimd.Benchmarks;

/// <summary>
/// One tick of many live streams: a stream pool (one batched step over the streams that have data) against one batch-1
/// session per stream (the weights stream once per stream). 1,000 streams of a one-layer model with I = H; every stream
/// stepping, or a random 10 % of them (a different draw each tick, from a fixed set of draws). BatchedSession is the
/// pool's batched step alone (one session stepping rows [0, k) of its own state), which bounds what the pool can reach;
/// the difference is the pool's gather and scatter of the streams' states.
/// </summary>
[MemoryDiagnoser]
public class StreamPoolBenchmarks : IFlopCounted
{
    private const int Streams = 1000, Draws = 16;
    private LstmStreamPool<int> _pool = null!;
    private LstmSession[] _sessions = [];
    private LstmSession _batched = null!;
    private int[][] _ticks = [];
    private float[] _input = [], _output = [];
    private int _tick;

    [Params(64, 256)]
    public int Hidden { get; set; }

    [Params(100, 10)]
    public int ActivePercent { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(new LstmSpec(Hidden, Hidden), 1));
        _pool = new LstmStreamPool<int>(model, Streams);
        _sessions = new LstmSession[Streams];
        for (int s = 0; s < Streams; s++)
        {
            _pool.Add(s);
            _sessions[s] = model.CreateSession();
        }

        _batched = model.CreateSession(Streams);
        var random = new Random(3);
        int active = Streams * ActivePercent / 100;
        _ticks = [.. Enumerable.Range(0, Draws).Select(_ => Enumerable.Range(0, Streams).OrderBy(_ => random.Next()).Take(active).ToArray())];
        _input = [.. Enumerable.Range(0, Streams * Hidden).Select(_ => (float)(random.NextDouble() * 2 - 1))];
        _output = new float[Streams * Hidden];
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _pool.Dispose();
        _batched.Dispose();
        foreach (LstmSession session in _sessions) session.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void SeparateSessions()
    {
        int[] keys = NextTick();
        for (int row = 0; row < keys.Length; row++)
            _sessions[keys[row]].Step(_input.AsSpan(row * Hidden, Hidden), 1, _output.AsSpan(row * Hidden, Hidden));
    }

    [Benchmark]
    public void Pool()
    {
        int[] keys = NextTick();
        _pool.Step(keys, _input.AsSpan(0, keys.Length * Hidden), _output.AsSpan(0, keys.Length * Hidden));
    }

    [Benchmark]
    public void BatchedSession()
    {
        int k = NextTick().Length;
        _batched.Step(_input.AsSpan(0, k * Hidden), k, _output.AsSpan(0, k * Hidden));
    }

    /// <summary>Per tick: the active streams × 4H gate rows × (I + H) products, an FMA counting as two.</summary>
    public static double FlopPerOperation(BenchmarkCase benchmarkCase)
    {
        int hidden = (int)benchmarkCase.Parameters["Hidden"], percent = (int)benchmarkCase.Parameters["ActivePercent"];
        return Streams * percent / 100 * 2.0 * 4 * hidden * (2 * hidden);
    }

    private int[] NextTick() => _ticks[_tick++ % Draws];
}
