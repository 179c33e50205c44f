namespace LstmSimd.Forecasting;

/// <summary>
/// One forecaster over many live series ("streams": sensors, machines, instruments), each named by a caller's key and
/// holding its latest <see cref="ForecastSettings.Window"/> rows of raw values (fixed memory per stream, freed when the
/// stream is removed). <see cref="Step"/> appends one row to whichever streams have a new value, in any order, and
/// forecasts every one of them whose window is full in one batched call (<see cref="BatchedForecaster"/>): each forecast
/// is, bit for bit, what <see cref="LstmForecaster.Predict"/> gives for that stream's series. Warm calls of
/// <see cref="Step"/> allocate nothing.
/// <para>
/// For anomaly detection, a step also returns the one-step forecast the stream's previous step made for the value just
/// given: the residual of the value against it is what <c>lstmsimd detect</c> scores.
/// </para>
/// <para>
/// Thread safety: every method is safe to call from any thread; calls are serialised by one lock.
/// </para>
/// </summary>
/// <typeparam name="TKey">
/// How callers name streams. Saved states (<see cref="SaveState(Stream)"/>) can hold keys of type <see cref="string"/>,
/// <see cref="int"/>, <see cref="long"/> and <see cref="Guid"/>.
/// </typeparam>
public sealed class ForecastStreams<TKey> : IDisposable where TKey : notnull
{
    /// <summary>The most windows one LSTM call takes: bounds the scratch memory however many streams step at once.</summary>
    private const int MaxRowsPerCall = 256;

    private readonly BatchedForecaster _batched;
    private readonly Lock _lock = new();
    private readonly StreamSlots<TKey> _slots;
    private readonly int _window, _columns, _horizon, _rowValues;
    private readonly double[] _history;    // per slot, a ring of the latest rows: [capacity, window, columns]
    private readonly int[] _oldest;        // per slot, the ring index of its oldest row
    private readonly int[] _held;          // per slot, rows held (at most the window)
    private readonly double[] _expected;   // per slot, the one-step forecast for its next value; NaN when none
    private readonly double[] _windows;    // this step's full windows, gathered: [k, window, columns]
    private readonly double[] _forecasts;  // their forecasts: [k, horizon]
    private bool _disposed;

    /// <summary>Up to <paramref name="capacity"/> streams forecast by <paramref name="forecaster"/> (shared, not copied), none added yet.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="capacity"/> is not positive.</exception>
    public ForecastStreams(LstmForecaster forecaster, int capacity, IEqualityComparer<TKey>? comparer = null)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(capacity);
        _batched = new BatchedForecaster(forecaster, Math.Min(capacity, MaxRowsPerCall));
        _window = forecaster.Settings.Window;
        _horizon = forecaster.Settings.Horizon;
        _columns = _batched.Columns.Count;
        _rowValues = _window * _columns;
        _history = new double[Sizes.Elements("streams' windows capacity × window × columns", capacity, _window, _columns)];
        _windows = new double[_history.Length];
        _forecasts = new double[Sizes.Elements("forecasts capacity × horizon", capacity, _horizon)];
        _oldest = new int[capacity];
        _held = new int[capacity];
        _expected = new double[capacity];
        _slots = new StreamSlots<TKey>(capacity, comparer, "the forecast streams");
    }

    /// <summary>The forecaster every stream runs.</summary>
    public LstmForecaster Forecaster => _batched.Forecaster;

    /// <summary>The values of one step of a stream, in order (see <see cref="BatchedForecaster.Columns"/>).</summary>
    public IReadOnlyList<string> Columns => _batched.Columns;

    /// <summary>The most streams held.</summary>
    public int Capacity => _slots.Capacity;

    /// <summary>The streams held now.</summary>
    public int Count
    {
        get
        {
            lock (_lock) return _slots.Count;
        }
    }

    /// <summary>Adds a stream with no values yet.</summary>
    /// <exception cref="ArgumentException">A stream with this key is already held.</exception>
    /// <exception cref="InvalidOperationException">The streams number <see cref="Capacity"/> already.</exception>
    public void Add(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            ThrowIfDisposed();
            ClearSlot(_slots.Add(key));
        }
    }

    /// <summary>Removes a stream and its values; false when no stream has this key.</summary>
    public bool Remove(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock)
        {
            ThrowIfDisposed();
            return _slots.Remove(key);
        }
    }

    /// <summary>Whether a stream with this key is held.</summary>
    public bool Contains(TKey key)
    {
        ArgumentNullException.ThrowIfNull(key);
        lock (_lock) return _slots.Contains(key);
    }

    /// <summary>Forgets a stream's values, as if it were just added.</summary>
    /// <exception cref="KeyNotFoundException">No stream has this key.</exception>
    public void Reset(TKey key)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            ClearSlot(_slots.SlotOf(key));
        }
    }

    /// <summary>How many rows a stream holds: from 0 up to the window, which it needs for a forecast.</summary>
    /// <exception cref="KeyNotFoundException">No stream has this key.</exception>
    public int Held(TKey key)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            return _held[_slots.SlotOf(key)];
        }
    }

    /// <summary>
    /// Appends one row of values to each stream named by <paramref name="keys"/> and forecasts, in one batched call,
    /// every one of them whose window is then full. All or nothing: when the call throws, no stream changes.
    /// </summary>
    /// <param name="keys">The streams with a new row, each at most once, in any order (empty: nothing happens).</param>
    /// <param name="values">Each named stream's new row, in the order of <paramref name="keys"/>: [k, <see cref="Columns"/>].</param>
    /// <param name="forecasts">
    /// Receives each stream's forecast of the horizon after its new row: [k, horizon]; NaN for a stream that holds fewer
    /// rows than the window.
    /// </param>
    /// <param name="expected">
    /// Receives, per stream, the first step of the forecast its previous step made: the expected value of the target in
    /// the new row; NaN when that step made no forecast. Empty to skip.
    /// </param>
    /// <exception cref="KeyNotFoundException">A key names no stream.</exception>
    /// <exception cref="ArgumentException">A key is named twice, a span's length does not match, or a value is NaN or infinite.</exception>
    /// <exception cref="ArgumentOutOfRangeException">A scaled value could overflow the LSTM's fp32 sums.</exception>
    public void Step(ReadOnlySpan<TKey> keys, ReadOnlySpan<double> values, Span<double> forecasts, Span<double> expected = default)
    {
        int k = keys.Length;
        if (values.Length != (long)k * _columns)
            throw new ArgumentException($"values must hold keys × columns = {k} × {_columns} values ({string.Join(", ", Columns)}); got {values.Length}.", nameof(values));
        if (forecasts.Length != (long)k * _horizon)
            throw new ArgumentException($"forecasts must hold keys × horizon = {k} × {_horizon} values; got {forecasts.Length}.", nameof(forecasts));
        if (!expected.IsEmpty && expected.Length != k) throw new ArgumentException($"expected must hold one value per key ({k}) or none; got {expected.Length}.", nameof(expected));
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i]))
                throw new ArgumentException($"Row {i / _columns}, column '{Columns[i % _columns]}' is {values[i]}; a stream takes finite values.", nameof(values));
        if (k == 0) return;
        lock (_lock)
        {
            ThrowIfDisposed();
            _slots.BeginStep(keys);

            // Forecast from the windows as they will be after this row, before any stream changes.
            int full = 0;
            for (int row = 0; row < k; row++)
            {
                int slot = _slots.RowSlot(row);
                if (_held[slot] + 1 < _window) continue;
                Span<double> window = _windows.AsSpan(full++ * _rowValues, _rowValues);
                CopyLatest(slot, _window - 1, window);
                values.Slice(row * _columns, _columns).CopyTo(window[((_window - 1) * _columns)..]);
            }

            _batched.Predict(_windows.AsSpan(0, full * _rowValues), full, _forecasts.AsSpan(0, full * _horizon));

            full = 0;
            for (int row = 0; row < k; row++)
            {
                int slot = _slots.RowSlot(row);
                if (!expected.IsEmpty) expected[row] = _expected[slot];
                Append(slot, values.Slice(row * _columns, _columns));
                Span<double> forecast = forecasts.Slice(row * _horizon, _horizon);
                if (_held[slot] == _window)
                {
                    _forecasts.AsSpan(full++ * _horizon, _horizon).CopyTo(forecast);
                    _expected[slot] = forecast[0];
                }
                else
                {
                    forecast.Fill(double.NaN);
                    _expected[slot] = double.NaN;
                }
            }
        }
    }

    /// <summary>
    /// Writes every stream's key, rows and pending one-step forecast, tied to the forecaster (settings, scaling, weights
    /// and head) and its weight format, to <paramref name="destination"/>: versioned and checksummed (see
    /// <see cref="RestoreState(Stream)"/>). The streams are copied under the lock and written after it.
    /// </summary>
    /// <exception cref="NotSupportedException">The keys are not string, int, long or Guid.</exception>
    public void SaveState(Stream destination)
    {
        ArgumentNullException.ThrowIfNull(destination);
        SavedStreamKeys.Kind kind = SavedStreamKeys.KindOf<TKey>("these streams'");
        ForecastStreamsStateFile.SavedStream[] streams;
        lock (_lock)
        {
            ThrowIfDisposed();
            streams = new ForecastStreamsStateFile.SavedStream[_slots.Count];
            int i = 0;
            foreach ((TKey key, int slot) in _slots.Held)
            {
                double[] rows = new double[_held[slot] * _columns];
                CopyLatest(slot, _held[slot], rows);
                streams[i++] = new ForecastStreamsStateFile.SavedStream(key, rows, _expected[slot]);
            }
        }

        ForecastStreamsStateFile.Write(destination, Forecaster, _columns, kind, streams);
    }

    /// <summary>Saves the state to <paramref name="path"/> atomically: a crash leaves the previous file or the new one whole.</summary>
    /// <exception cref="IOException">The write failed; the previous file is left as it was.</exception>
    public void SaveState(string path) => AtomicFile.Write(path, SaveState);

    /// <summary>
    /// Replaces every stream by the streams a <see cref="SaveState(Stream)"/> wrote (streams not in it are removed); steps
    /// then continue exactly as they would have in the saving instance.
    /// </summary>
    /// <exception cref="InvalidDataException">
    /// The data is not a saved state of forecast streams, is truncated or corrupted, was saved for another forecaster
    /// (settings, scaling, weights or head), another weight format or key type, or holds more streams than
    /// <see cref="Capacity"/>; the message says which, and the streams are left as they were.
    /// </exception>
    /// <exception cref="NotSupportedException">The keys are not string, int, long or Guid.</exception>
    public void RestoreState(Stream source) => Apply(ForecastStreamsStateFile.Read(source, Forecaster, _columns, SavedStreamKeys.KindOf<TKey>("these streams'"), Capacity));

    /// <summary>Restores the state saved in a file (see <see cref="RestoreState(Stream)"/>).</summary>
    /// <exception cref="IOException">The file cannot be read.</exception>
    public void RestoreState(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        RestoreState(file);
    }

    private void Apply(ForecastStreamsStateFile.SavedStream[] streams)
    {
        lock (_lock)
        {
            ThrowIfDisposed();
            _slots.Clear();
            foreach (ForecastStreamsStateFile.SavedStream stream in streams)
            {
                int slot = _slots.Add((TKey)stream.Key);
                ClearSlot(slot);
                for (int r = 0; r < stream.Rows.Length / _columns; r++) Append(slot, stream.Rows.AsSpan(r * _columns, _columns));
                _expected[slot] = stream.Expected;
            }
        }
    }

    /// <summary>Copies a slot's latest <paramref name="rows"/> rows, oldest first, into <paramref name="destination"/>.</summary>
    private void CopyLatest(int slot, int rows, Span<double> destination)
    {
        ReadOnlySpan<double> ring = _history.AsSpan(slot * _rowValues, _rowValues);
        int start = _oldest[slot] + _held[slot] - rows; // ring index of the first row copied
        for (int r = 0; r < rows; r++)
            ring.Slice((start + r) % _window * _columns, _columns).CopyTo(destination.Slice(r * _columns, _columns));
    }

    private void Append(int slot, ReadOnlySpan<double> row)
    {
        Span<double> ring = _history.AsSpan(slot * _rowValues, _rowValues);
        if (_held[slot] < _window)
        {
            row.CopyTo(ring[((_oldest[slot] + _held[slot]) % _window * _columns)..]);
            _held[slot]++;
            return;
        }

        row.CopyTo(ring[(_oldest[slot] * _columns)..]); // over the oldest row, which becomes the newest
        _oldest[slot] = (_oldest[slot] + 1) % _window;
    }

    private void ClearSlot(int slot)
    {
        _oldest[slot] = 0;
        _held[slot] = 0;
        _expected[slot] = double.NaN;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);

    /// <summary>Disposes the forecaster's batched session (the forecaster itself is the caller's).</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed) return;
            _disposed = true;
            _batched.Dispose();
        }
    }
}
