using LstmSimd.Benchmarking;
using Xunit;

namespace LstmSimd.Tests.Benchmarking;

/// <summary>The timing harness counts what it should; how fast anything runs is the benchmarks' business, not a test's.</summary>
public class CallTimerTests
{
    private static readonly object?[] Sink = new object?[1];

    [Fact]
    public void A_call_that_allocates_nothing_measures_zero_bytes_and_takes_at_least_three_samples()
    {
        int counter = 0;
        CallTiming timing = CallTimer.Measure(() => counter++, TimeSpan.FromMilliseconds(30));
        Assert.Equal(0, timing.AllocatedBytesPerCall);
        Assert.InRange(timing.Samples, 3, CallTimer.MaxSamples);
        Assert.True(timing.CallsPerSample >= 1);
        Assert.True(timing.MinMicroseconds <= timing.MedianMicroseconds);
    }

    [Fact]
    public void A_call_that_allocates_is_seen_allocating()
    {
        CallTiming timing = CallTimer.Measure(() => Sink[0] = new byte[100], TimeSpan.FromMilliseconds(30));
        Assert.InRange(timing.AllocatedBytesPerCall, 100, 200);
        Assert.InRange(CallTimer.AllocatedBytesPerCall(() => Sink[0] = new byte[100], 10), 100, 200);
    }

    [Fact]
    public void The_thread_cpu_clock_does_not_count_time_the_thread_spends_off_the_core_and_allocates_nothing()
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Throws<PlatformNotSupportedException>(() => CallTimer.Measure(() => { }, TimeSpan.FromMilliseconds(10), clock: CallClock.ThreadCpu));
            return;
        }

        CallTiming wall = CallTimer.Measure(() => Thread.Sleep(2), TimeSpan.FromMilliseconds(100));
        CallTiming cpu = CallTimer.Measure(() => Thread.Sleep(2), TimeSpan.FromMilliseconds(100), clock: CallClock.ThreadCpu);
        Assert.True(wall.MedianMicroseconds >= 2000, $"wall {wall.MedianMicroseconds} µs for a 2 ms sleep");
        Assert.True(cpu.MedianMicroseconds < 1000, $"thread CPU {cpu.MedianMicroseconds} µs for a 2 ms sleep");
        Assert.Equal(0, cpu.AllocatedBytesPerCall);
    }

    [Fact]
    public void The_thread_cpu_clock_counts_a_call_that_computes()
    {
        if (!OperatingSystem.IsLinux()) return; // refused there, see the test above
        double sum = 0;
        CallTiming cpu = CallTimer.Measure(() =>
        {
            for (int i = 1; i < 200_000; i++) sum += 1.0 / i;
        }, TimeSpan.FromMilliseconds(100), clock: CallClock.ThreadCpu);
        Assert.True(cpu.MinMicroseconds > 0, $"thread CPU {cpu.MinMicroseconds} µs for 200,000 divisions");
        Assert.True(sum > 0);
    }

    [Theory]
    [InlineData("step-h64")]
    [InlineData("seq-h32")]
    [InlineData("seq-h64")]
    [InlineData("train-b1-h64")]
    [InlineData("gru-step-h64")]
    [InlineData("gru-seq-h64")]
    public void A_warm_workload_call_allocates_nothing(string name)
    {
        using var runner = new WorkloadRunner(StandardWorkload.Get(name));
        runner.Invoke();

        // The least of three tries: a per-call allocation shows in every one, a runtime one-off under load in one.
        Assert.Equal(0, Enumerable.Range(0, 3).Min(_ => CallTimer.AllocatedBytesPerCall(runner.Invoke, 20)));
    }
}

/// <summary>
/// Counts every thread's allocations, so it runs alone, and takes the least of several tries: the test runner's and the
/// runtime's own threads allocate now and then, while code that allocates per call would show in every try.
/// </summary>
[CollectionDefinition(nameof(WholeProcessAllocations), DisableParallelization = true)]
public sealed class WholeProcessAllocations;

[Collection(nameof(WholeProcessAllocations))]
public class ThreadedCallTimerTests
{
    [Fact]
    public void A_warm_two_thread_workload_call_allocates_nothing_on_any_thread()
    {
        using var runner = new WorkloadRunner(StandardWorkload.Get("seq-h64"), new LstmModelOptions { Threads = 2 });
        runner.Invoke();
        Assert.Equal(2, runner.Model!.Threads);
        long least = long.MaxValue;
        // Short tries, many of them: the runtime's and the runner's own threads allocate at some rate per second, which a
        // slow path (scalar, a loaded machine) catches in every long try; a per-call allocation shows in every short one too.
        for (int attempt = 0; attempt < 30 && least > 0; attempt++)
            least = Math.Min(least, CallTimer.AllocatedBytesPerCall(runner.Invoke, 3, allThreads: true));
        Assert.Equal(0, least);
    }
}
