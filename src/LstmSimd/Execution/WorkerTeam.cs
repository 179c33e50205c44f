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

    public WorkerTeam(int size)
    {
        Size = size;
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
    /// Multiply-adds below which work is too small to share: handing it to the team and waiting for every member costs
    /// about as much as this much work on one core (perf/results has the measurements). The one policy for inference
    /// and training alike.
    /// </summary>
    public const long DefaultMinSharedWork = 8192;

    /// <summary>The threshold of <see cref="WorthSharing"/>; tests set 0 so that small shapes exercise the split too.</summary>
    public long MinSharedWork { get; set; } = DefaultMinSharedWork;

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
