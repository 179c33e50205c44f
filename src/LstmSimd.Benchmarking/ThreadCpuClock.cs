using System.Runtime.InteropServices;

namespace LstmSimd.Benchmarking;

/// <summary>What a timing counts.</summary>
public enum CallClock
{
    /// <summary>Elapsed time: what a caller waits, including any time other processes held the core.</summary>
    Wall,

    /// <summary>
    /// The calling thread's CPU time (Linux): the time the call itself ran. On a machine shared with other work it stays
    /// near the quiet machine's wall time, where wall time grows with every time slice given away; the caches the other
    /// work shares still slow it. One thread only: workers' time is not counted.
    /// </summary>
    ThreadCpu,
}

/// <summary>The calling thread's CPU time, from <c>clock_gettime(CLOCK_THREAD_CPUTIME_ID)</c>.</summary>
internal static partial class ThreadCpuClock
{
    private const int ThreadCpuTimeId = 3; // CLOCK_THREAD_CPUTIME_ID on Linux

    public static bool IsSupported => OperatingSystem.IsLinux();

    /// <summary>Nanoseconds of CPU time the calling thread has used.</summary>
    public static long Nanoseconds()
    {
        if (!IsSupported) throw new PlatformNotSupportedException("Thread CPU time is read on Linux only; time by the wall clock here.");
        if (ClockGetTime(ThreadCpuTimeId, out TimeSpec now) != 0) throw new InvalidOperationException($"clock_gettime(CLOCK_THREAD_CPUTIME_ID) failed (errno {Marshal.GetLastPInvokeError()}).");
        return now.Seconds * 1_000_000_000 + now.Nanoseconds;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct TimeSpec
    {
        public long Seconds;
        public long Nanoseconds;
    }

    [LibraryImport("libc", EntryPoint = "clock_gettime", SetLastError = true)]
    private static partial int ClockGetTime(int clock, out TimeSpec time);
}
