using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarking;
using LstmSimd.Benchmarks.Infrastructure;

namespace LstmSimd.Benchmarks;

/// <summary>Every standard workload of DESIGN.md on the fast path, at the kernel path the job's ISA gives (run with --isa for all of them).</summary>
public class WorkloadBenchmarks : IFlopCounted
{
    private WorkloadRunner _runner = null!;

    public static IEnumerable<string> Workloads => StandardWorkload.All.Select(w => w.Name);

    [ParamsSource(nameof(Workloads))]
    public string Workload { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _runner = new WorkloadRunner(StandardWorkload.Get(Workload));
        IsaCheck.Verify(_runner.KernelPath);
    }

    [GlobalCleanup]
    public void Cleanup() => _runner.Dispose();

    /// <summary>One call: a whole-sequence forward (seq-*) or one streaming step (step-*).</summary>
    [Benchmark]
    public void Fast() => _runner.Invoke();

    public static double FlopPerOperation(BenchmarkCase benchmarkCase) =>
        StandardWorkload.Get((string)benchmarkCase.Parameters[nameof(Workload)]).FlopPerCall;
}

/// <summary>The naive double-precision reference beside the fast path, on the workloads small enough for it to finish quickly.</summary>
public class ReferenceBenchmarks : IFlopCounted
{
    private WorkloadRunner _runner = null!;

    [Params("seq-h32", "seq-h64", "step-h64", "step-h256")]
    public string Workload { get; set; } = "";

    [GlobalSetup]
    public void Setup()
    {
        _runner = new WorkloadRunner(StandardWorkload.Get(Workload));
        IsaCheck.Verify(_runner.KernelPath);
    }

    [GlobalCleanup]
    public void Cleanup() => _runner.Dispose();

    [Benchmark(Baseline = true)]
    public void Fast() => _runner.Invoke();

    [Benchmark]
    public object Reference() => _runner.InvokeReference();

    public static double FlopPerOperation(BenchmarkCase benchmarkCase) =>
        StandardWorkload.Get((string)benchmarkCase.Parameters[nameof(Workload)]).FlopPerCall;
}
