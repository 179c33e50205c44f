using System.Collections.Concurrent;
using Xunit;

namespace LstmSimd.Tests.Support;

/// <summary>Two threads calling one object at once, to show that it refuses the second caller.</summary>
public static class Concurrency
{
    /// <summary>The start of the message of the <see cref="InvalidOperationException"/> a busy session, trainer or forecaster throws.</summary>
    public const string Misuse = "is already running a call on another thread";

    /// <summary>
    /// Two threads make <paramref name="call"/> at the same moment, round after round, until a round has refused one (or
    /// thrown anything else), or <paramref name="iterations"/> rounds or 30 seconds have passed (on a loaded machine the two
    /// rarely run at once, so a refusal may take many rounds): how many calls were refused with the misuse message, and
    /// every other exception.
    /// </summary>
    public static (int Refused, Exception[] Others) Hammer(Action call, int iterations)
    {
        int refused = 0;
        bool stop = false;
        var others = new ConcurrentQueue<Exception>();
        var clock = System.Diagnostics.Stopwatch.StartNew();

        // Decided once per round, between the two threads' calls and their next ones, so that both stop in the same round.
        using var barrier = new Barrier(2, _ => stop |= Volatile.Read(ref refused) > 0 || !others.IsEmpty || clock.Elapsed > TimeSpan.FromSeconds(30));
        void Loop()
        {
            for (int i = 0; i < iterations && !stop; i++)
            {
                barrier.SignalAndWait();
                try
                {
                    call();
                }
                catch (InvalidOperationException e) when (e.Message.Contains(Misuse, StringComparison.Ordinal))
                {
                    Interlocked.Increment(ref refused);
                }
                catch (Exception e)
                {
                    others.Enqueue(e);
                }

                barrier.SignalAndWait();
            }
        }

        var threads = new[] { new Thread(Loop) { IsBackground = true }, new Thread(Loop) { IsBackground = true } };
        foreach (Thread thread in threads) thread.Start();
        foreach (Thread thread in threads) Assert.True(thread.Join(TimeSpan.FromSeconds(120)), "a hammering thread did not finish");
        return (refused, [.. others]);
    }
}
