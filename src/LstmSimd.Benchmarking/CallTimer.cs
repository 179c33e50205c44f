using System.Diagnostics;
using System.Runtime;

namespace LstmSimd.Benchmarking;

/// <summary>What <see cref="CallTimer.Measure"/> saw.</summary>
/// <param name="MedianMicroseconds">The median over samples of the mean time per call in a sample.</param>
/// <param name="MinMicroseconds">The fastest sample's time per call.</param>
/// <param name="Samples">Timed samples.</param>
/// <param name="CallsPerSample">Calls per sample, chosen so that one sample is long against the clock's resolution.</param>
/// <param name="AllocatedBytesPerCall">Managed bytes allocated per timed call, rounded up (any allocation shows as at least 1): by the calling thread, or by every thread when measured so.</param>
public readonly record struct CallTiming(double MedianMicroseconds, double MinMicroseconds, int Samples, long CallsPerSample, long AllocatedBytesPerCall);

/// <summary>
/// A small steady-state timing harness, shared by <c>lstmsimd bench</c> and the tests: warm up (long enough for
/// tiered compilation to promote the callers to optimised code), pick a number of calls per sample, time samples
/// with <see cref="Stopwatch.GetTimestamp"/> until the budget is spent, and take the median. Nothing is allocated
/// between the first and the last timestamp, so the allocation count is the call's own.
/// </summary>
public static class CallTimer
{
    /// <summary>The most samples one measurement takes.</summary>
    public const int MaxSamples = 200;

    // A sample should be long against the timer's resolution and the scheduler's noise, short against the budget.
    private const double MinSampleSeconds = 0.002;

    // Longer than the runtime's 100 ms tiering delay, so a quiet JIT means promotion has finished, not that it has not started.
    private const double JitQuietSeconds = 0.2;

    // On a busy two-core machine tier-up has been seen to take 0.45 s; a small budget still waits up to this long for it.
    private const double MinMaxWarmupSeconds = 1.0;

    // A two-thread training step's tier-up has been seen to take 3 s (the tiering thread then takes a core from the team):
    // a budget of a few seconds waits up to one and a half times itself, up to this long.
    private const double LongestWarmupSeconds = 3.0;

    /// <summary>Warms <paramref name="call"/> up, then times it for about <paramref name="budget"/> in total.</summary>
    /// <param name="call">One call of the code under test.</param>
    /// <param name="budget">Wall time for warm-up and samples together: warm-up takes at least a quarter (0.3 s at most), then
    /// runs on until the JIT has been quiet for 0.2 s, up to half the budget, or one and a half times it up to 3 s, or 1 s,
    /// whichever is longest.</param>
    /// <param name="allThreads">Count bytes allocated by every thread (a call that hands work to worker threads), not only by the calling one.</param>
    /// <param name="clock">What the samples count (the budget is wall time either way): elapsed time, or the calling thread's CPU time.</param>
    public static CallTiming Measure(Action call, TimeSpan budget, bool allThreads = false, CallClock clock = CallClock.Wall)
    {
        ArgumentNullException.ThrowIfNull(call);
        if (budget <= TimeSpan.Zero) throw new ArgumentOutOfRangeException(nameof(budget), budget, "The budget must be positive.");
        if (clock == CallClock.ThreadCpu && !ThreadCpuClock.IsSupported) throw new PlatformNotSupportedException("Thread CPU time is read on Linux only; time by the wall clock here.");

        // Tier-1 code replaces tier-0 after 30 calls, a 100 ms quiet period and a background compile, which a busy
        // machine delays: warm up by time, and on until the JIT has compiled nothing for a while.
        double minWarmupSeconds = Math.Min(budget.TotalSeconds / 4, 0.3), maxWarmupSeconds = Math.Max(budget.TotalSeconds / 2,
            Math.Max(MinMaxWarmupSeconds, Math.Min(LongestWarmupSeconds, 1.5 * budget.TotalSeconds)));
        double secondsPerCall = Warm(call, minWarmupSeconds, maxWarmupSeconds, out double warmupSeconds);

        double measureSeconds = Math.Max(budget.TotalSeconds - warmupSeconds, MinSampleSeconds);
        double sampleSeconds = Math.Max(MinSampleSeconds, measureSeconds / MaxSamples);
        long callsPerSample = Math.Max(1, (long)(sampleSeconds / Math.Max(secondsPerCall, 1e-9)));
        int samples = (int)Math.Clamp(measureSeconds / (callsPerSample * secondsPerCall), 3, MaxSamples);

        Span<double> perCall = stackalloc double[MaxSamples];
        if (clock == CallClock.ThreadCpu) ThreadCpuClock.Nanoseconds(); // binds the native call (which allocates) before the count starts
        long allocatedBefore = AllocatedBytes(allThreads);
        long deadline = Stopwatch.GetTimestamp() + (long)(measureSeconds * Stopwatch.Frequency);
        int taken = 0;
        while (taken < samples)
        {
            long start = Stopwatch.GetTimestamp(), cpuStart = clock == CallClock.ThreadCpu ? ThreadCpuClock.Nanoseconds() : 0;
            for (long i = 0; i < callsPerSample; i++) call();
            long end = Stopwatch.GetTimestamp();
            perCall[taken++] = clock == CallClock.ThreadCpu
                ? (ThreadCpuClock.Nanoseconds() - cpuStart) * 1e-3 / callsPerSample
                : (end - start) * 1e6 / Stopwatch.Frequency / callsPerSample;
            if (taken >= 3 && end > deadline) break;
        }

        long allocated = AllocatedBytes(allThreads) - allocatedBefore;
        long calls = taken * callsPerSample;
        Span<double> timed = perCall[..taken];
        timed.Sort();
        double median = taken % 2 == 1 ? timed[taken / 2] : (timed[taken / 2 - 1] + timed[taken / 2]) / 2;
        return new CallTiming(median, timed[0], taken, callsPerSample, (allocated + calls - 1) / calls);
    }

    /// <summary>Managed bytes allocated per call over <paramref name="calls"/> calls (call it warm), rounded up: by the calling thread, or by every thread.</summary>
    public static long AllocatedBytesPerCall(Action call, int calls, bool allThreads = false)
    {
        ArgumentNullException.ThrowIfNull(call);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(calls);
        long before = AllocatedBytes(allThreads);
        for (int i = 0; i < calls; i++) call();
        long allocated = AllocatedBytes(allThreads) - before;
        return (allocated + calls - 1) / calls;
    }

    // Every thread's count includes the runtime's own background threads, so it is only used when workers take part.
    private static long AllocatedBytes(bool allThreads) => allThreads ? GC.GetTotalAllocatedBytes(precise: true) : GC.GetAllocatedBytesForCurrentThread();

    /// <summary>
    /// Runs chunks of about 10 ms for at least <paramref name="minSeconds"/>, then until no method has been compiled for
    /// <see cref="JitQuietSeconds"/> (tier-up done), at most <paramref name="maxSeconds"/>; returns the last chunk's seconds per call.
    /// </summary>
    private static double Warm(Action call, double minSeconds, double maxSeconds, out double spentSeconds)
    {
        long start = Stopwatch.GetTimestamp();
        long compiled = JitInfo.GetCompiledMethodCount(), quietSince = start;
        double last = TimeCalls(call, 1);
        while (true)
        {
            long now = Stopwatch.GetTimestamp();
            long count = JitInfo.GetCompiledMethodCount();
            if (count != compiled)
            {
                compiled = count;
                quietSince = now;
            }

            spentSeconds = Stopwatch.GetElapsedTime(start, now).TotalSeconds;
            bool quiet = Stopwatch.GetElapsedTime(quietSince, now).TotalSeconds >= JitQuietSeconds;
            if (spentSeconds >= maxSeconds || (spentSeconds >= minSeconds && quiet)) return last;
            last = TimeCalls(call, Math.Max(1, (long)(0.01 / Math.Max(last, 1e-9))));
        }
    }

    private static double TimeCalls(Action call, long calls)
    {
        long start = Stopwatch.GetTimestamp();
        for (long i = 0; i < calls; i++) call();
        return (double)(Stopwatch.GetTimestamp() - start) / Stopwatch.Frequency / calls;
    }
}
