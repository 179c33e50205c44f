namespace LstmSimd.Benchmarking;

/// <summary>Times standard workloads on the fast path: what <c>lstmsimd bench</c> runs.</summary>
public static class WorkloadBench
{
    /// <summary>Builds <paramref name="workload"/> with <paramref name="options"/> and times it for about <paramref name="budget"/>.</summary>
    public static WorkloadResult Run(StandardWorkload workload, LstmModelOptions options, TimeSpan budget)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(options);
        using var runner = new WorkloadRunner(workload, options);
        int threads = runner.Threads;
        CallTiming timing = CallTimer.Measure(runner.Invoke, budget, allThreads: threads > 1);
        return new WorkloadResult(workload, threads, runner.KernelPath, timing, FmaPeak.For(runner.KernelPath));
    }
}
