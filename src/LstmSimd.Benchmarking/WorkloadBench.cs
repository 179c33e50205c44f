namespace LstmSimd.Benchmarking;

/// <summary>Times standard workloads on the fast path: what <c>lstmsimd bench</c> runs.</summary>
public static class WorkloadBench
{
    /// <summary>Builds <paramref name="workload"/> with <paramref name="options"/> and times it for about <paramref name="budget"/> by <paramref name="clock"/>.</summary>
    public static WorkloadResult Run(StandardWorkload workload, LstmModelOptions options, TimeSpan budget, CallClock clock = CallClock.Wall)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentNullException.ThrowIfNull(options);
        if (clock == CallClock.ThreadCpu && options.Threads > 1)
            throw new ArgumentException($"The thread CPU clock counts the calling thread only; {options.Threads} threads would hide the workers' time: time them by the wall clock.", nameof(clock));
        using var runner = new WorkloadRunner(workload, options);
        int threads = runner.Threads;
        CallTiming timing = CallTimer.Measure(runner.Invoke, budget, allThreads: threads > 1, clock);
        return new WorkloadResult(workload, threads, runner.KernelPath, timing, FmaPeak.For(runner.KernelPath)) { Clock = clock };
    }
}
