using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarking;

namespace LstmSimd.Benchmarks.Infrastructure;

/// <summary>
/// The runner of one standard workload, built and checked against the job's ISA in setup, disposed in cleanup.
/// Subclasses declare which workloads they run (their own <c>Workload</c> parameter) and what they time.
/// </summary>
public abstract class StandardWorkloadBenchmark
{
    /// <summary>The workload set up for this case.</summary>
    protected WorkloadRunner Runner { get; private set; } = null!;

    /// <summary>The name of the workload this case runs (the subclass's parameter).</summary>
    protected abstract string WorkloadName { get; }

    [GlobalSetup]
    public void Setup()
    {
        Runner = new WorkloadRunner(StandardWorkload.Get(WorkloadName));
        IsaCheck.Verify(Runner.KernelPath);
    }

    [GlobalCleanup]
    public void Cleanup() => Runner.Dispose();

    /// <summary>FLOP per call of the case's workload, read from its "Workload" parameter.</summary>
    protected static double WorkloadFlop(BenchmarkCase benchmarkCase) =>
        StandardWorkload.Get((string)benchmarkCase.Parameters["Workload"]).FlopPerCall;
}
