using System.Diagnostics;

namespace LstmSimd.Execution;

/// <summary>Work that a <see cref="WorkerTeam"/> splits: each member runs its share, identified by its index.</summary>
internal interface ITeamWork
{
    void Execute(int member, int members);
}

/// <summary>
/// A fork-join team of persistent threads: the caller is member 0 and <c>size - 1</c> background threads
/// are the others. <see cref="Run"/> hands every member the same work and returns when all have finished.
/// Nothing is allocated or queued per call: members spin briefly for the next round (a step is microseconds
/// away), then sleep on a monitor so that an idle session costs no CPU.
/// </summary>
internal sealed class WorkerTeam : IDisposable
{
    private const int SpinsBeforeSleeping = 2000;

    private readonly Thread[] _threads;
    private readonly object _gate = new();
    private ITeamWork? _work;
    private int _generation;
    private int _pending;
    private bool _disposed;
    private Exception? _failure;

    public WorkerTeam(int size) : this(size, size > 1 ? DefaultMinSharedWork : SmallestSharedWork)
    {
    }

    private WorkerTeam(int size, long minSharedWork)
    {
        Size = size;
        MinSharedWork = minSharedWork;
        _threads = new Thread[size - 1];
        for (int i = 0; i < _threads.Length; i++)
        {
            int member = i + 1;
            _threads[i] = new Thread(() => Loop(member)) { IsBackground = true, Name = $"LstmSimd worker {member}" };
            _threads[i].Start();
        }
    }

    /// <summary>Members including the calling thread.</summary>
    public int Size { get; }

    /// <summary>
    /// Multiply-adds below which work is too small to share, the one policy for inference and training alike: the work
    /// that one core does in four times what a hand-off to the team and back costs on this machine (measured once per
    /// process, see <see cref="MeasureHandOff"/>), and never less than <see cref="SmallestSharedWork"/>. The cost
    /// differs several-fold between machines (cores that share a cache, or virtual CPUs that do not), so it is measured
    /// rather than assumed.
    /// </summary>
    public static long DefaultMinSharedWork => s_defaultMinSharedWork.Value;

    /// <summary>The floor of <see cref="DefaultMinSharedWork"/>: below it a hand-off costs more than the work on any machine.</summary>
    public const long SmallestSharedWork = 8192;

    // A core's multiply-adds per nanosecond at batch 1 on the widest paths: a high estimate, so that sharing is chosen
    // only where it pays even then.
    private const long MultiplyAddsPerNanosecond = 32;

    private static readonly Lazy<long> s_defaultMinSharedWork =
        new(() => Math.Max(SmallestSharedWork, 4 * MultiplyAddsPerNanosecond * MeasureHandOff()));

    /// <summary>The threshold of <see cref="WorthSharing"/>; tests set 0 so that small shapes exercise the split too.</summary>
    public long MinSharedWork { get; set; }

    /// <summary>Whether <paramref name="multiplyAdds"/> of work repay a hand-off to the team.</summary>
    public bool WorthSharing(long multiplyAdds) => Size > 1 && multiplyAdds >= MinSharedWork;

    /// <summary>
    /// Member <paramref name="member"/>'s contiguous share of <paramref name="count"/> items, cut at multiples of
    /// <paramref name="grain"/> (the last share takes the rest): every item goes to exactly one member.
    /// </summary>
    public static (int Start, int End) Share(int count, int member, int members, int grain = 1)
    {
        if (members == 1) return (0, count);
        int units = (count + grain - 1) / grain;
        int start = (int)((long)units * member / members) * grain, end = member == members - 1 ? count : (int)((long)units * (member + 1) / members) * grain;
        return (Math.Min(start, count), Math.Min(end, count));
    }

    /// <summary>Runs <paramref name="work"/> on every member and waits for all of them.</summary>
    public void Run(ITeamWork work)
    {
        if (Size == 1)
        {
            work.Execute(0, 1);
            return;
        }

        ObjectDisposedException.ThrowIf(_disposed, this);
        _work = work;
        Volatile.Write(ref _pending, Size - 1);
        lock (_gate)
        {
            _generation++;
            Monitor.PulseAll(_gate);
        }

        try
        {
            work.Execute(0, Size);
        }
        finally
        {
            var wait = default(SpinWait);
            while (Volatile.Read(ref _pending) != 0) wait.SpinOnce(sleep1Threshold: -1);
        }

        if (_failure is { } failure)
        {
            _failure = null;
            throw new InvalidOperationException("A worker thread failed.", failure);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _generation++;
            Monitor.PulseAll(_gate);
        }

        foreach (Thread thread in _threads) thread.Join();
    }

    /// <summary>
    /// The median time of handing empty work to a team of two and waiting for it, in nanoseconds: what every shared call
    /// and every step of a shared sequence pays. Run once per process, when the first team of several threads is built.
    /// </summary>
    private static long MeasureHandOff()
    {
        const int Rounds = 400;
        using var team = new WorkerTeam(2, minSharedWork: 0);
        var nothing = new NoWork();
        var times = new long[Rounds];
        for (int i = 0; i < 50; i++) team.Run(nothing); // the worker starts spinning
        for (int i = 0; i < Rounds; i++)
        {
            long start = Stopwatch.GetTimestamp();
            team.Run(nothing);
            times[i] = Stopwatch.GetTimestamp() - start;
        }

        Array.Sort(times);
        return (long)(times[Rounds / 2] * 1e9 / Stopwatch.Frequency);
    }

    private sealed class NoWork : ITeamWork
    {
        public void Execute(int member, int members)
        {
        }
    }

    private void Loop(int member)
    {
        int seen = 0;
        while (true)
        {
            var wait = default(SpinWait);
            while (Volatile.Read(ref _generation) == seen)
            {
                if (wait.Count < SpinsBeforeSleeping)
                {
                    wait.SpinOnce(sleep1Threshold: -1);
                    continue;
                }

                lock (_gate)
                {
                    while (_generation == seen) Monitor.Wait(_gate);
                }
            }

            seen = Volatile.Read(ref _generation);
            if (Volatile.Read(ref _disposed)) return;
            try
            {
                _work!.Execute(member, Size);
            }
            catch (Exception e) when (e is not OutOfMemoryException)
            {
                _failure = e;
            }
            finally
            {
                Interlocked.Decrement(ref _pending);
            }
        }
    }
}
