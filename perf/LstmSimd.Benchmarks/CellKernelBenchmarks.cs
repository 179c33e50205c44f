using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarks.Infrastructure;
using LstmSimd.Kernels;

namespace LstmSimd.Benchmarks;

/// <summary>
/// The cell micro-kernel alone, per vector width: the recurrent packed panel × h with the fused epilogue, as the
/// sequence path runs it each step (batch 1 is a GEMV bound by how fast weights stream, batch 64 a GEMM bound by FMA
/// throughput), and the streaming variant that also multiplies x by W_ih in the same pass.
/// </summary>
public class CellStepBenchmarks : IFlopCounted
{
    private KernelSet _kernels = null!;
    private PackedPanel _panel = null!;
    private float[] _init = [], _h = [], _c = [], _hOut = [];
    private int _stride, _gateStride;

    public static IEnumerable<KernelPath> Paths => KernelSelector.All.Where(KernelSelector.IsAccelerated);

    [ParamsSource(nameof(Paths))]
    public KernelPath Path { get; set; }

    [Params(64, 256, 512)]
    public int Hidden { get; set; }

    [Params(1, 4, 64)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _kernels = KernelSelector.Create(Path);
        var random = new Random(1);
        float bound = 1f / MathF.Sqrt(Hidden);
        float[] weights = Fill(new float[4 * Hidden * Hidden], random, bound);
        _panel = PackedPanel.Pack(weights, GateLayout.Lstm, Hidden, Hidden, _kernels.Width);
        _stride = _panel.PaddedUnits;
        _gateStride = 4 * _stride;
        _init = Fill(new float[Rows * _gateStride], random, 0.1f);
        _h = Fill(new float[Rows * _stride], random, 1f);
        _c = Fill(new float[Rows * _stride], random, 1f);
        _hOut = new float[Rows * _stride];
    }

    /// <summary>Pre-activations start from the hoisted input projection; only W_hh·h runs (the sequence path's step).</summary>
    [Benchmark]
    public void Recurrent() => Run(depthX: 0);

    /// <summary>A streaming step: W_ih·x and W_hh·h in one pass over two panels (here the same panel, x = h).</summary>
    [Benchmark]
    public void WithInput() => Run(depthX: Hidden);

    public static double FlopPerOperation(BenchmarkCase benchmarkCase)
    {
        int hidden = (int)benchmarkCase.Parameters[nameof(Hidden)], rows = (int)benchmarkCase.Parameters[nameof(Rows)];
        int depth = benchmarkCase.Descriptor.WorkloadMethod.Name == nameof(WithInput) ? 2 * hidden : hidden;
        return 2.0 * rows * 4 * hidden * depth;
    }

    private void Run(int depthX)
    {
        var args = new CellStepArgs
        {
            Init = ref _init[0],
            InitRowStride = _gateStride,
            PanelX = ref _panel.Start,
            DepthX = depthX,
            X = ref _h[0],
            XRowStride = _stride,
            PanelH = ref _panel.Start,
            DepthH = Hidden,
            H = ref _h[0],
            HRowStride = _stride,
            C = ref _c[0],
            CRowStride = _stride,
            HOut = ref _hOut[0],
            HOutRowStride = _stride,
            Rows = Rows,
            BlockStart = 0,
            BlockEnd = _panel.Blocks,
        };
        _kernels.Step(args);
    }

    internal static float[] Fill(float[] values, Random random, float bound)
    {
        for (int i = 0; i < values.Length; i++) values[i] = (float)((random.NextDouble() * 2 - 1) * bound);
        return values;
    }
}

/// <summary>The hoisted input projection: one GEMM of all T·B input rows against the packed W_ih, per vector width.</summary>
public class InputProjectionBenchmarks : IFlopCounted
{
    private KernelSet _kernels = null!;
    private PackedPanel _panel = null!;
    private float[] _bias = [], _x = [], _gx = [];

    public static IEnumerable<KernelPath> Paths => KernelSelector.All.Where(KernelSelector.IsAccelerated);

    [ParamsSource(nameof(Paths))]
    public KernelPath Path { get; set; }

    [Params(64, 512)]
    public int Hidden { get; set; }

    /// <summary>100 = seq-h* (T=100, B=1); 3200 = seq-b64-h512 (T=50, B=64).</summary>
    [Params(100, 3200)]
    public int Rows { get; set; }

    [GlobalSetup]
    public void Setup()
    {
        _kernels = KernelSelector.Create(Path);
        var random = new Random(2);
        _panel = PackedPanel.Pack(CellStepBenchmarks.Fill(new float[4 * Hidden * Hidden], random, 1f / MathF.Sqrt(Hidden)), GateLayout.Lstm, Hidden, Hidden, _kernels.Width);
        _bias = PackedPanel.PackRow(CellStepBenchmarks.Fill(new float[4 * Hidden], random, 0.1f), 4, Hidden, _kernels.Width);
        _x = CellStepBenchmarks.Fill(new float[Rows * Hidden], random, 1f);
        _gx = new float[Rows * 4 * _panel.PaddedUnits];
    }

    [Benchmark]
    public void InputProjection() => _kernels.InputProjection(_panel, _bias, _x, Hidden, Rows, _gx, 0, _panel.Blocks);

    public static double FlopPerOperation(BenchmarkCase benchmarkCase)
    {
        int hidden = (int)benchmarkCase.Parameters[nameof(Hidden)], rows = (int)benchmarkCase.Parameters[nameof(Rows)];
        return 2.0 * rows * 4 * hidden * hidden;
    }
}
