using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarking;
using LstmSimd.Benchmarks.Infrastructure;

namespace LstmSimd.Benchmarks;

/// <summary>
/// The first calls of a fresh process, one per iteration, not only the steady state: the kernels are marked
/// AggressiveOptimization so that a latency-sensitive app gets full speed from its first call (DESIGN.md measured
/// tier-0 code 3–4× slower). Jobs: as shipped; tiered compilation off (the floor); every method at tier-0 quality.
/// The "1st call µs" column is the very first call, JIT included; Mean covers the first 20 calls of each launch.
/// </summary>
[Config(typeof(BenchConfigs.FirstCallConfig))]
public class FirstCallBenchmarks : StandardWorkloadBenchmark, IFlopCounted
{
    [Params("step-h64", "seq-h32", "seq-h256")]
    public string Workload { get; set; } = "";

    // Setup builds the model and session only: the first Invoke below is the process's first kernel call.
    protected override string WorkloadName => Workload;

    [Benchmark]
    public void FirstCalls() => Runner.Invoke();

    public static double FlopPerOperation(BenchmarkCase benchmarkCase) => WorkloadFlop(benchmarkCase);
}
