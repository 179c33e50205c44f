using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarking;
using LstmSimd.Benchmarks.Infrastructure;

namespace LstmSimd.Benchmarks;

/// <summary>Every standard workload of DESIGN.md on the fast path, at the kernel path the job's ISA gives (run with --isa for all of them).</summary>
public class WorkloadBenchmarks : StandardWorkloadBenchmark, IFlopCounted
{
    public static IEnumerable<string> Workloads => StandardWorkload.All.Select(w => w.Name);

    [ParamsSource(nameof(Workloads))]
    public string Workload { get; set; } = "";

    protected override string WorkloadName => Workload;

    /// <summary>One call: a whole-sequence forward (seq-*, gru-seq-*), one streaming step (step-*, gru-step-*) or a training step (train-*).</summary>
    [Benchmark]
    public void Fast() => Runner.Invoke();

    public static double FlopPerOperation(BenchmarkCase benchmarkCase) => WorkloadFlop(benchmarkCase);
}

/// <summary>The naive double-precision reference beside the fast path, on the workloads small enough for it to finish quickly.</summary>
public class ReferenceBenchmarks : StandardWorkloadBenchmark, IFlopCounted
{
    [Params("seq-h32", "seq-h64", "step-h64", "step-h256", "gru-seq-h64", "gru-step-h256")]
    public string Workload { get; set; } = "";

    protected override string WorkloadName => Workload;

    [Benchmark(Baseline = true)]
    public void Fast() => Runner.Invoke();

    [Benchmark]
    public object Reference() => Runner.InvokeReference();

    public static double FlopPerOperation(BenchmarkCase benchmarkCase) => WorkloadFlop(benchmarkCase);
}
