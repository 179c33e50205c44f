namespace LstmSimd;

/// <summary>
/// Many independent streams of one forward-only model, each with its own h and c, named by a caller's key (a sensor id,
/// a user id, …). <see cref="Step"/> advances whichever streams have a new input, in any order: their states are gathered
/// into the rows of one batched step, so the weights stream from memory once per call instead of once per stream, and
/// are scattered back. Each stream computes exactly, bit for bit, what a batch-1 <see cref="LstmSession"/> of its own
/// would from the same inputs. Warm calls of <see cref="Step"/> allocate nothing.
/// <para>
/// Thread safety: every method is safe to call from any thread at any time (producers may step their own streams
/// concurrently while others add, remove, reset or save). Calls are serialised by one lock, so each still runs as one
/// batched step; two threads that step the same stream advance it in the order the lock admits them.
/// </para>
/// </summary>
/// <typeparam name="TKey">
/// How callers name streams; any type with equality (the constructor's comparer, or the default). Saved states
/// (<see cref="SaveState(Stream)"/>) can hold keys of type <see cref="string"/>, <see cref="int"/>, <see cref="long"/> and
/// <see cref="Guid"/>.
/// </typeparam>
public sealed class LstmStreamPool<TKey> : IDisposable where TKey : notnull
{
    private readonly LstmSpec _spec;
    private readonly LstmSession _session;
    private readonly Lock _lock = new();
    private readonly StreamSlots<TKey> _slots;
    private readonly int _hLength, _cLength; // one stream's h [L, H_out] and c [L, H]
    private readonly float[] _h, _c;        // every slot's h and c, slot-major
    private readonly float[] _rowsH, _rowsC; // one step's states as the session takes them: [L, k, H_out] and [L, k, H]

    /// <summary>A pool of up to <paramref name="capacity"/> streams of <paramref name="model"/>, none added yet.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not positive.</exception>
    /// <exception cref="ArgumentException">The model is bidirectional: its reverse direction needs whole sequences, which a stream does not have.</exception>
    public LstmStreamPool(LstmModel model, int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        ShapeChecks.Positive(capacity, nameof(capacity));
        if (model.Spec.Bidirectional)
            throw new ArgumentException("A stream pool steps forward in time; a bidirectional model needs whole sequences (LstmSession.Forward).", nameof(model));
        _spec = model.Spec;
        _hLength = Sizes.Elements("h of a stream L × H_out", _spec.NumLayers, _spec.OutputHiddenSize);
        _cLength = Sizes.Elements("c of a stream L × H", _spec.NumLayers, _spec.HiddenSize);
        _h = new float[Sizes.Elements("pool h capacity × L × H_out", capacity, _hLength)];
        _c = new float[Sizes.Elements("pool c capacity × L × H", capacity, _cLength)];
        _rowsH = new float[_h.Length];
        _rowsC = new float[_c.Length];
        _session = model.CreateSession(capacity);
        _slots = new StreamSlots<TKey>(capacity, comparer, "the pool");
    }

    /// <summary>The model every stream runs.</summary>
    public LstmModel Model => _session.Model;

    /// <summary>The most streams the pool holds.</summary>
    public int Capacity => _slots.Capacity;

    /// <summary>The streams the pool holds now.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _slots.Count;
        }
    }

    /// <summary>Adds a stream with zero state.</summary>
    /// <exception cref="ArgumentException">A stream with this key is already in the pool.</exception>
    /// <exception cref="InvalidOperationException">The pool holds <see cref="Capacity"/> streams.</exception>
    public void Add(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            ThrowIfDisposed();
            ClearSlot(_slots.Add(key));
        }
    }

    /// <summary>Removes a stream; false when no stream has this key.</summary>
    public bool Remove(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            ThrowIfDisposed();
            return _slots.Remove(key);
        }
    }

    /// <summary>Whether a stream with this key is in the pool.</summary>
    public bool Contains(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock) return _slots.Contains(key);
    }

    /// <summary>Sets a stream's state to zero, as if it were just added.</summary>
    /// <exception cref="KeyNotFoundException">No stream has this key.</exception>
    public void Reset(TKey key)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            ClearSlot(_slots.SlotOf(key));
        }
    }

    /// <summary>Copies a stream's state into <paramref name="h"/> [L, H_out] and <paramref name="c"/> [L, H].</summary>
    /// <exception cref="KeyNotFoundException">No stream has this key.</exception>
    /// <exception cref="ArgumentException">A span's length is not the state's.</exception>
    public void GetState(TKey key, Span<float> h, Span<float> c)
    {
        CheckStateLengths(h.Length, c.Length);
        lock (_lock)
        {
            ThrowIfDisposed();
            int slot = _slots.SlotOf(key);
            _h.AsSpan(slot * _hLength, _hLength).CopyTo(h);
            _c.AsSpan(slot * _cLength, _cLength).CopyTo(c);
        }
    }

    /// <summary>Sets a stream's state from <paramref name="h"/> [L, H_out] and <paramref name="c"/> [L, H].</summary>
    /// <exception cref="KeyNotFoundException">No stream has this key.</exception>
    /// <exception cref="ArgumentException">A span's length is not the state's.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An element of <paramref name="h"/> could overflow the fp32 sums of the next steps (it is named); nothing changes.</exception>
    public void SetState(TKey key, ReadOnlySpan<float> h, ReadOnlySpan<float> c)
    {
        CheckStateLengths(h.Length, c.Length);
        Span<float> magnitudes = stackalloc float[_spec.NumLayers];
        Model.Bounds.CheckState(h, 1, magnitudes);
        lock (_lock)
        {
            ThrowIfDisposed();
            int slot = _slots.SlotOf(key);
            h.CopyTo(_h.AsSpan(slot * _hLength, _hLength));
            c.CopyTo(_c.AsSpan(slot * _cLength, _cLength));
        }
    }

    /// <summary>
    /// Advances the streams named by <paramref name="keys"/> by one time step, all in one batched step, and writes each
    /// one's top-layer h. Streams not named keep their state.
    /// </summary>
    /// <param name="keys">The streams that have a new input, each at most once, in any order (empty: nothing happens).</param>
    /// <param name="inputs">x_t of each named stream, in the order of <paramref name="keys"/>: [k, I].</param>
    /// <param name="outputs">Receives h_t of the top layer of each named stream, in the same order: [k, H_out].</param>
    /// <exception cref="KeyNotFoundException">A key names no stream; nothing changes.</exception>
    /// <exception cref="ArgumentException">A key is named twice, or a span's length does not match; nothing changes.</exception>
    /// <exception cref="ArgumentOutOfRangeException">An input could overflow the fp32 sums (it is named, as an index into [k, I]); nothing changes.</exception>
    /// <exception cref="OverflowException">A cell with a ReLU activation overflowed fp32; the streams' states hold the overflowed values until reset.</exception>
    public void Step(ReadOnlySpan<TKey> keys, ReadOnlySpan<float> inputs, Span<float> outputs)
    {
        int k = keys.Length;
        ShapeChecks.Length(inputs.Length, (long)k * _spec.InputSize, nameof(inputs), "[k={0}, I={1}]", k, _spec.InputSize);
        ShapeChecks.Length(outputs.Length, (long)k * _spec.OutputHiddenSize, nameof(outputs), "[k={0}, H_out={1}]", k, _spec.OutputHiddenSize);
        if (k == 0) return;
        lock (_lock)
        {
            ThrowIfDisposed();
            _slots.BeginStep(keys);

            Gather(k);
            _session.SetState(_rowsH.AsSpan(0, k * _hLength), _rowsC.AsSpan(0, k * _cLength), k);
            try
            {
                _session.Step(inputs, k, outputs);
            }
            catch (OverflowException)
            {
                Scatter(k); // as a session keeps the overflowed state
                throw;
            }

            Scatter(k);
        }
    }

    /// <summary>
    /// Writes every stream's key, h and c, with the model's identity, to <paramref name="destination"/> (see
    /// <see cref="RestoreState(Stream)"/>). The streams are copied under the lock and written after it.
    /// </summary>
    /// <exception cref="NotSupportedException">The keys are not string, int, long or Guid.</exception>
    public void SaveState(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        SavedStreamKeys.Kind kind = SavedStreamKeys.KindOf<TKey>("this pool's");
        object[] keys;
        float[] h, c;
        lock (_lock)
        {
            ThrowIfDisposed();
            keys = new object[_slots.Count];
            h = new float[keys.Length * _hLength];
            c = new float[keys.Length * _cLength];
            int i = 0;
            foreach ((TKey key, int slot) in _slots.Held)
            {
                keys[i] = key;
                _h.AsSpan(slot * _hLength, _hLength).CopyTo(h.AsSpan(i * _hLength));
                _c.AsSpan(slot * _cLength, _cLength).CopyTo(c.AsSpan(i * _cLength));
                i++;
            }
        }

        StreamStateFile.Write(destination, Model, kind, keys, h, c, keys.Length);
    }

    /// <summary>Saves the state to <paramref name="path"/> atomically: a crash leaves the previous file or the new one whole.</summary>
    /// <exception cref="IOException">The write failed; the previous file is left as it was.</exception>
    public void SaveState(string path) => AtomicFile.Write(path, SaveState);

    /// <summary>
    /// Replaces every stream of the pool by the streams a <see cref="SaveState(Stream)"/> wrote: their keys, h and c
    /// (streams not in the saved state are removed). Steps then continue exactly as they would have in the saving pool.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The data is not a saved state, is truncated or corrupted, was saved for another model (spec and weights), another
    /// weight format, another key type, or holds more streams than <see cref="Capacity"/>; the message says which, and the
    /// pool is left as it was.
    /// </exception>
    /// <exception cref="NotSupportedException">The keys are not string, int, long or Guid.</exception>
    public void RestoreState(Stream source) => Apply(StreamStateFile.Read(source, Model, SavedStreamKeys.KindOf<TKey>("this pool's"), Capacity));

    /// <summary>Restores the state saved in a file (see <see cref="RestoreState(Stream)"/>).</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public void RestoreState(string path) => Apply(StreamStateFile.Read(path, Model, SavedStreamKeys.KindOf<TKey>("this pool's"), Capacity));

    private void Apply(StreamStateFile.Contents contents)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            _slots.Clear();
            for (int i = 0; i < contents.Count; i++)
            {
                int slot = _slots.Add((TKey)contents.Keys![i]);
                contents.H.AsSpan(i * _hLength, _hLength).CopyTo(_h.AsSpan(slot * _hLength));
                contents.C.AsSpan(i * _cLength, _cLength).CopyTo(_c.AsSpan(slot * _cLength));
            }
        }
    }

    /// <summary>Stops the pool's worker threads (when the model has <see cref="LstmModel.Threads"/> above 1).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _session.Dispose();
        }
    }

    private bool _disposed;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    private void ClearSlot(int slot)
    {
        _h.AsSpan(slot * _hLength, _hLength).Clear();
        _c.AsSpan(slot * _cLength, _cLength).Clear();
    }

    private void CheckStateLengths(int hLength, int cLength)
    {
        ShapeChecks.Length(hLength, _hLength, "h", "[L={0}, H_out={1}]", _spec.NumLayers, _spec.OutputHiddenSize);
        ShapeChecks.Length(cLength, _cLength, "c", "[L={0}, H={1}]", _spec.NumLayers, _spec.HiddenSize);
    }

    /// <summary>Copies the states of the step's slots into rows [0, k) of the session's [L, k, ·] layout.</summary>
    private void Gather(int k)
    {
        int hOut = _spec.OutputHiddenSize, hidden = _spec.HiddenSize;
        for (int row = 0; row < k; row++)
        {
            int slot = _slots.RowSlot(row);
            for (int layer = 0; layer < _spec.NumLayers; layer++)
            {
                _h.AsSpan(slot * _hLength + layer * hOut, hOut).CopyTo(_rowsH.AsSpan((layer * k + row) * hOut, hOut));
                _c.AsSpan(slot * _cLength + layer * hidden, hidden).CopyTo(_rowsC.AsSpan((layer * k + row) * hidden, hidden));
            }
        }
    }

    /// <summary>Reads rows [0, k) of the session's state back into the step's slots.</summary>
    private void Scatter(int k)
    {
        _session.GetState(_rowsH.AsSpan(0, k * _hLength), _rowsC.AsSpan(0, k * _cLength), k);
        int hOut = _spec.OutputHiddenSize, hidden = _spec.HiddenSize;
        for (int row = 0; row < k; row++)
        {
            int slot = _slots.RowSlot(row);
            for (int layer = 0; layer < _spec.NumLayers; layer++)
            {
                _rowsH.AsSpan((layer * k + row) * hOut, hOut).CopyTo(_h.AsSpan(slot * _hLength + layer * hOut, hOut));
                _rowsC.AsSpan((layer * k + row) * hidden, hidden).CopyTo(_c.AsSpan(slot * _cLength + layer * hidden, hidden));
            }
        }
    }
}
