using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarks.Infrastructure;

namespace LstmSimd.Benchmarks;

/// <summary>
/// .NET cannot set flush-to-zero, so a cell state that decays through subnormals must not put the loop on a slow path
/// (target: at most 1.1× a normal step). The forget gate is pinned near 0.999 and the input gate shut, so c decays
/// slowly: started at 0.5 it stays normal, started at 1e-39 it stays subnormal for the whole call (unless the kernel
/// flushes it to zero), and so do h, the recurrent products and tanh's arguments. Same weights, same code, only the
/// state's magnitude differs.
/// </summary>
public class SubnormalBenchmarks : IFlopCounted
{
    private const int Steps = 100;
    private LstmSession _session = null!;
    private float[] _input = [], _output = [], _normalH0 = [], _normalC0 = [], _subnormalH0 = [], _subnormalC0 = [], _hN = [], _cN = [];

    [Params(64, 256)]
    public int Hidden { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        var spec = new LstmSpec(Hidden, Hidden);
        LstmWeights weights = LstmWeights.CreateRandom(spec, seed: 5);
        LstmLayerWeights layer = weights[0, 0];
        Array.Clear(layer.BiasHh);
        for (int unit = 0; unit < Hidden; unit++)
        {
            layer.BiasIh[unit] = -20f;                      // i ≈ 2e-9: the input gate is shut
            layer.BiasIh[Hidden + unit] = 6.9f;             // f ≈ 0.999: slow decay
            layer.BiasIh[2 * Hidden + unit] = 0f;           // g ≈ tanh(W_hh·h), as small as h
            layer.BiasIh[3 * Hidden + unit] = 0f;           // o ≈ 0.5
        }

        LstmModel model = LstmModel.Create(weights);
        IsaCheck.Verify(model.KernelPath);
        _session = model.CreateSession(1, Steps);
        _input = new float[Steps * Hidden];                 // x = 0: W_ih·x adds nothing
        _output = new float[Steps * Hidden];
        _hN = new float[Hidden];
        _cN = new float[Hidden];
        _normalC0 = Enumerable.Repeat(0.5f, Hidden).ToArray();
        _normalH0 = Enumerable.Repeat(0.2f, Hidden).ToArray();
        _subnormalC0 = Enumerable.Repeat(1e-39f, Hidden).ToArray();
        _subnormalH0 = Enumerable.Repeat(4e-40f, Hidden).ToArray();

        Check(Normal, subnormal: false);
        Check(Subnormal, subnormal: true);
    }

    [Benchmark(Baseline = true)]
    public void Normal() => _session.Forward(_input, Steps, 1, _output, _hN, _cN, _normalH0, _normalC0);

    [Benchmark]
    public void Subnormal() => _session.Forward(_input, Steps, 1, _output, _hN, _cN, _subnormalH0, _subnormalC0);

    public static double FlopPerOperation(BenchmarkCase benchmarkCase)
    {
        int hidden = (int)benchmarkCase.Parameters[nameof(Hidden)];
        return 2.0 * 4 * hidden * 2 * hidden * Steps;
    }

    private void Check(Action run, bool subnormal)
    {
        run();
        int subnormals = _cN.Count(float.IsSubnormal) + _output.Count(float.IsSubnormal), zeros = _cN.Count(c => c == 0);
        Console.WriteLine($"// {(subnormal ? "subnormal" : "normal")} state: c_T[0] = {_cN[0]:E3}, {subnormals} of {_cN.Length + _output.Length} c_T and h values subnormal, {zeros} c_T flushed to zero");

        // Started subnormal, c must stay below the normal range (subnormal, or zero where the kernel flushes it).
        bool ok = subnormal ? _cN.All(c => !float.IsNormal(c)) : _cN.All(float.IsNormal);
        if (!ok) throw new InvalidOperationException($"The {(subnormal ? "subnormal" : "normal")} case left its range: c_T[0] = {_cN[0]:E3}.");
    }
}
