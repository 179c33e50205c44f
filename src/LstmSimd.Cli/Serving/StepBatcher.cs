using System.Threading.Channels;
using LstmSimd.IO;

namespace LstmSimd.Cli.Serving;

/// <summary>
/// The one loop that owns the stream pool's membership and steps: requests wait in a bounded queue; each turn takes
/// every request waiting (up to the pool's capacity in rows) and runs them as ONE <see cref="LstmStreamPool{TKey}.Step"/>.
/// <para>
/// Per stream, requests run in the order they were queued: a request naming a stream that an earlier request of the
/// same turn already names waits for the next turn, and so does every later request naming any of its streams. A request
/// is all or nothing: its streams all step, or none does (and streams it added are removed again). Unknown streams are
/// added on first use while the pool has room; a request that would need more room than is left is refused (503).
/// </para>
/// </summary>
internal sealed class StepBatcher
{
    private readonly LstmStreamPool<string> _pool;
    private readonly LinearHead? _head;
    private readonly ServiceMetrics _metrics;
    private readonly Channel<PoolWork> _queue;
    private readonly int _inputSize, _outputSize, _maxCarried;
    private readonly string[] _rowKeys;
    private readonly float[] _inputs, _outputs, _headOutputs;
    private readonly HashSet<string> _taken = new(StringComparer.Ordinal);
    private readonly List<PoolWork> _batch = [];
    private List<PoolWork> _carried = [], _spare = [];
    private int _rows, _adding;
    private bool _completing;
    private readonly TimeSpan _batchWindow;
    private readonly ManualResetEventSlim _arrived = new();
    private readonly TaskCompletionSource _stopped = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public StepBatcher(LstmStreamPool<string> pool, LinearHead? head, ServiceMetrics metrics, int queueCapacity, TimeSpan batchWindow)
    {
        _batchWindow = batchWindow;
        _pool = pool;
        _head = head;
        _metrics = metrics;
        QueueCapacity = queueCapacity;
        _maxCarried = queueCapacity;
        _inputSize = pool.Model.Spec.InputSize;
        _outputSize = pool.Model.Spec.OutputHiddenSize;
        _rowKeys = new string[pool.Capacity];
        _inputs = new float[Sizes.Elements("batch inputs capacity × I", pool.Capacity, _inputSize)];
        _outputs = new float[Sizes.Elements("batch outputs capacity × H_out", pool.Capacity, _outputSize)];
        _headOutputs = head is null ? [] : new float[Sizes.Elements("batch head outputs capacity × O", pool.Capacity, head.OutputSize)];
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
        while (_rows < _pool.Capacity && _carried.Count < _maxCarried && reader.TryRead(out PoolWork? work)) Consider(work);
    }

    private void Consider(PoolWork work)
    {
        bool waits = _rows + work.Rows > _pool.Capacity;
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
            work.Done.TrySetResult(_pool.Remove(key) ? new WorkOutcome(204) : WorkOutcome.Refused(404, $"no stream has key {UserText.Quote(key)}."));
            return;
        }

        int unknown = 0;
        foreach (string key in work.Keys) unknown += _pool.Contains(key) ? 0 : 1;
        if (_pool.Count + _adding + unknown > _pool.Capacity)
        {
            work.Done.TrySetResult(WorkOutcome.Refused(503,
                $"the pool has no room: it holds {_pool.Count} of its {_pool.Capacity} streams and this request adds {unknown}; remove streams (DELETE /streams/{{key}}) or start with a larger --capacity."));
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
                if (!_pool.Contains(key))
                {
                    _pool.Add(key);
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

    /// <summary>Steps the streams in rows [0, <paramref name="rows"/>) of the row buffers and applies the head.</summary>
    private void Step(int rows, float[] inputs)
    {
        _pool.Step(_rowKeys.AsSpan(0, rows), inputs.AsSpan(0, rows * _inputSize), _outputs.AsSpan(0, rows * _outputSize));
        _metrics.Batch(rows);
        _head?.Apply(_outputs.AsSpan(0, rows * _outputSize), rows, _headOutputs.AsSpan(0, rows * _head.OutputSize));
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
            foreach (string key in work.AddedKeys ?? []) _pool.Remove(key);
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
    private void Answer(PoolWork work, int firstRow)
    {
        float[] outputs = _outputs.AsSpan(firstRow * _outputSize, work.Rows * _outputSize).ToArray();
        float[]? head = _head is null ? null : _headOutputs.AsSpan(firstRow * _head.OutputSize, work.Rows * _head.OutputSize).ToArray();
        work.Done.TrySetResult(new WorkOutcome(200, Outputs: outputs, HeadOutputs: head));
    }
}
