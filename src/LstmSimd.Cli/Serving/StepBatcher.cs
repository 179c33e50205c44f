using System.Threading.Channels;
using LstmSimd.IO;

namespace LstmSimd.Cli.Serving;

/// <summary>
/// The one loop that owns the stream pool's membership and steps: requests wait in a bounded queue; each turn takes
/// every request waiting (up to the streams' capacity in rows) and runs them as ONE batched step of the <see cref="ServedStreams"/>.
/// <para>
/// Per stream, requests run in the order they were queued: a request naming a stream that an earlier request of the
/// same turn already names waits for the next turn, and so does every later request naming any of its streams. A request
/// is all or nothing: its streams all step, or none does (and streams it added are removed again). Unknown streams are
/// added on first use while the pool has room; a request that would need more room than is left is refused (503).
/// </para>
/// </summary>
internal sealed class StepBatcher
{
    private readonly ServedStreams _streams;
    private readonly ServiceMetrics _metrics;
    private readonly Channel<PoolWork> _queue;
    private readonly int _inputSize, _maxCarried;
    private readonly string[] _rowKeys;
    private readonly double[] _inputs;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private readonly List<PoolWork> _batch = [];
    private List<PoolWork> _carried = [], _spare = [];
    private int _rows, _adding;
    private bool _completing;
    private readonly TimeSpan _batchWindow;
    private readonly ManualResetEventSlim _arrived = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StepBatcher(ServedStreams streams, ServiceMetrics metrics, int queueCapacity, TimeSpan batchWindow)
    {
        _batchWindow = batchWindow;
        _streams = streams;
        _metrics = metrics;
        QueueCapacity = queueCapacity;
        _maxCarried = queueCapacity;
        _inputSize = streams.InputSize;
        _rowKeys = new string[streams.Capacity];
        _inputs = new double[Sizes.Elements("batch inputs capacity × values", streams.Capacity, _inputSize)];
        _queue = Channel.CreateBounded<PoolWork>(new BoundedChannelOptions(queueCapacity)
        {
            SingleReader = true,
            FullMode = BoundedChannelFullMode.Wait, // TryWrite then fails at once: the caller answers 429
        });
        // Its own thread, not the thread pool's: under a flood of requests the pool's queue is long, and a loop waiting
        // there for a turn would leave the queue full and refuse requests it could have stepped.
        new Thread(Run) { IsBackground = true, Name = "lstmsimd serve: step batcher" }.Start();
    }

    public int QueueCapacity { get; }

    /// <summary>Requests waiting for a turn (queued, not yet taken by the loop).</summary>
    public int Queued => _queue.Reader.Count;

    /// <summary>Whether <see cref="CompleteAsync"/> was called: no more work is taken.</summary>
    public bool IsCompleting => Volatile.Read(ref _completing);

    /// <summary>Queues <paramref name="work"/>; false when the queue is full or closed (nothing was queued).</summary>
    public bool TryEnqueue(PoolWork work)
    {
        if (!_queue.Writer.TryWrite(work)) return false;
        _arrived.Set();
        return true;
    }

    /// <summary>Stops taking work, answers everything queued, and returns when the loop has stopped.</summary>
    public Task CompleteAsync()
    {
        Volatile.Write(ref _completing, true);
        _queue.Writer.TryComplete();
        _arrived.Set();
        return _stopped.Task;
    }

    private void Run()
    {
        ChannelReader<PoolWork> reader = _queue.Reader;
        while (true)
        {
            if (_carried.Count == 0 && !reader.TryPeek(out _))
            {
                if (reader.Completion.IsCompleted) break; // closed and drained
                _arrived.Wait(); // a request queued after the peek has set it already
                _arrived.Reset(); // one queued before the reset is found by the next peek
                continue;
            }

            // Trades latency for larger batches: the requests that arrive within the window join this turn.
            if (_batchWindow > TimeSpan.Zero) Thread.Sleep(_batchWindow);
            try
            {
                Plan(reader);
                Execute();
            }
            catch (Exception e)
            {
                // A bug must not leave requests waiting for ever: the turn's requests get a 500 with the reason.
                foreach (PoolWork work in _batch) work.Done.TrySetResult(WorkOutcome.Refused(500, $"the step failed: {e.Message}"));
            }
        }

        _stopped.SetResult();
    }

    /// <summary>Chooses this turn's requests: first those carried over from the last turn, then the queue's, in order.</summary>
    private void Plan(ChannelReader<PoolWork> reader)
    {
        _batch.Clear();
        _taken.Clear();
        _rows = _adding = 0;
        (_carried, _spare) = (_spare, _carried);
        foreach (PoolWork work in _spare) Consider(work);
        _spare.Clear();
        while (_rows < _streams.Capacity && _carried.Count < _maxCarried && reader.TryRead(out PoolWork? work)) Consider(work);
    }

    private void Consider(PoolWork work)
    {
        bool waits = _rows + work.Rows > _streams.Capacity;
        foreach (string key in work.Keys) waits |= _taken.Contains(key);
        foreach (string key in work.Keys) _taken.Add(key);
        if (waits)
        {
            _carried.Add(work);
            return;
        }

        if (work.IsRemoval)
        {
            // No earlier request of this turn names the stream, so removing it now keeps the order.
            string key = work.Keys[0];
            work.Done.TrySetResult(_streams.Remove(key) ? new WorkOutcome(204) : WorkOutcome.Refused(404, $"no stream has key {UserText.Quote(key)}."));
            return;
        }

        int unknown = 0;
        foreach (string key in work.Keys) unknown += _streams.Contains(key) ? 0 : 1;
        if (_streams.Count + _adding + unknown > _streams.Capacity)
        {
            work.Done.TrySetResult(WorkOutcome.Refused(503,
                $"the pool has no room: it holds {_streams.Count} of its {_streams.Capacity} streams and this request adds {unknown}; remove streams (DELETE /streams/{{key}}) or start with a larger --capacity."));
            return;
        }

        _adding += unknown;
        _batch.Add(work);
        _rows += work.Rows;
    }

    private void Execute()
    {
        if (_batch.Count == 0) return;
        int row = 0;
        foreach (PoolWork work in _batch)
        {
            foreach (string key in work.Keys)
            {
                if (!_streams.Contains(key))
                {
                    _streams.Add(key);
                    (work.AddedKeys ??= []).Add(key);
                }

                _rowKeys[row++] = key;
            }

            work.Inputs.CopyTo(_inputs.AsSpan((row - work.Rows) * _inputSize));
        }

        try
        {
            Step(row, _inputs);
        }
        catch (ArgumentException)
        {
            // The model refused some input of the batch (one that could overflow its sums) and the pool changed nothing:
            // each request steps on its own, so that only the one at fault is refused.
            foreach (PoolWork work in _batch) StepAlone(work);
            return;
        }
        catch (OverflowException e)
        {
            foreach (PoolWork work in _batch) work.Done.TrySetResult(Overflowed(e));
            return;
        }

        row = 0;
        foreach (PoolWork work in _batch)
        {
            Answer(work, row);
            row += work.Rows;
        }
    }

    /// <summary>Steps the streams in rows [0, <paramref name="rows"/>) of the row buffers.</summary>
    private void Step(int rows, double[] inputs)
    {
        _streams.Step(_rowKeys.AsSpan(0, rows), inputs.AsSpan(0, rows * _inputSize));
        _metrics.Batch(rows);
    }

    private void StepAlone(PoolWork work)
    {
        work.Keys.CopyTo(_rowKeys, 0);
        try
        {
            Step(work.Rows, work.Inputs);
            Answer(work, 0);
        }
        catch (ArgumentException e)
        {
            foreach (string key in work.AddedKeys ?? []) _streams.Remove(key);
            work.Done.TrySetResult(WorkOutcome.Refused(422, $"the model refused the input: {e.Message.ReplaceLineEndings(" ")}"));
        }
        catch (OverflowException e)
        {
            work.Done.TrySetResult(Overflowed(e));
        }
    }

    private static WorkOutcome Overflowed(OverflowException e) =>
        WorkOutcome.Refused(422, $"{e.Message.ReplaceLineEndings(" ")} The streams of this step hold the overflowed state until removed.");

    /// <summary>Answers <paramref name="work"/> with its rows of this step's outputs, which start at <paramref name="firstRow"/>.</summary>
    private void Answer(PoolWork work, int firstRow) =>
        work.Done.TrySetResult(new WorkOutcome(200, Answer: _streams.Answer(firstRow, work.Rows)));
}
