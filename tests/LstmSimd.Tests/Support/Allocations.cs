namespace LstmSimd.Tests.Support;

/// <summary>Bytes allocated on the calling thread by warm calls, exactly (GC.GetAllocatedBytesForCurrentThread).</summary>
public static class Allocations
{
    /// <summary>
    /// The fewest bytes <paramref name="calls"/> calls allocated over a few attempts. An allocation in the calls
    /// themselves shows in every attempt; a one-off of the runtime's on this thread (a tier-up, a type's first use
    /// under a loaded machine) does not fail the test, which is what it would otherwise do now and then.
    /// </summary>
    public static long LeastOver(Action call, int calls, int attempts = 3)
    {
        long least = long.MaxValue;
        for (int attempt = 0; attempt < attempts && least != 0; attempt++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            for (int i = 0; i < calls; i++) call();
            least = Math.Min(least, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        return least;
    }
}
