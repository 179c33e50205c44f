namespace LstmSimd.Forecasting;

/// <summary>
/// An <see cref="LstmForecaster"/> over many windows at once: the windows are scaled, run through the LSTM as the rows of
/// one batched call (so its weights stream from memory once per call, not once per window), and each row's head output is
/// unscaled. Each row's forecast is, bit for bit, what <see cref="LstmForecaster.Predict"/> gives for a series whose last
/// <see cref="ForecastSettings.Window"/> rows are that window. Warm calls allocate nothing. One caller at a time (it owns
/// one session and its buffers): a call made while another is running throws <see cref="InvalidOperationException"/>.
/// </summary>
public sealed class BatchedForecaster : IDisposable
{
    private readonly LstmSession _session;
    private readonly SingleCaller _caller;
    private readonly int _window, _horizon, _inputs, _features, _targetColumn;
    private readonly float[] _scaled, _output, _lastStep, _prediction;

    /// <summary>
    /// A batched view of <paramref name="forecaster"/> (its model is shared, not copied) that runs up to
    /// <paramref name="maxBatch"/> windows per LSTM call; larger batches run as several calls. Memory grows with
    /// <paramref name="maxBatch"/> × window × hidden size.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="maxBatch"/> is not positive.</exception>
    /// <exception cref="NotSupportedException">The forecaster reads known-future inputs (<see cref="LstmForecaster.KnownFuture"/>).</exception>
    public BatchedForecaster(LstmForecaster forecaster, int maxBatch)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        if (forecaster.KnownFuture.Width > 0)
            throw new NotSupportedException("A forecaster that reads known-future covariates or calendar inputs is not run in batches over streams: a stream carries its window's values, not the horizon's covariates or times.");
        ForecastSettings settings = forecaster.Settings;
        Forecaster = forecaster;
        MaxBatch = maxBatch;
        _window = settings.Window;
        _horizon = settings.Horizon;
        _inputs = settings.InputColumns.Count;
        _features = forecaster.Weights.Spec.OutputSize;
        int target = IndexOf(settings.InputColumns, settings.TargetColumn);
        Columns = target >= 0 ? settings.InputColumns : [.. settings.InputColumns, settings.TargetColumn];
        _targetColumn = target >= 0 ? target : _inputs;
        _caller = new SingleCaller(this, "batched forecaster");
        _session = forecaster.Model.CreateSession(maxBatch, _window);
        _scaled = new float[Sizes.Elements("max batch × window × inputs", maxBatch, _window, _inputs)];
        _output = new float[Sizes.Elements("max batch × window × D·H_out", maxBatch, _window, _features)];
        _lastStep = new float[Sizes.Elements("max batch × D·H_out", maxBatch, _features)];
        _prediction = new float[Sizes.Elements("max batch × horizon", maxBatch, _horizon)];
    }

    /// <summary>The forecaster whose settings, scaler, model and head this runs.</summary>
    public LstmForecaster Forecaster { get; }

    /// <summary>The most windows one LSTM call takes.</summary>
    public int MaxBatch { get; }

    /// <summary>
    /// The values of one row of a window, in order: the forecaster's input columns, then its target column when the
    /// target is not one of the inputs.
    /// </summary>
    public IReadOnlyList<string> Columns { get; }

    /// <summary>
    /// Forecasts the <see cref="ForecastSettings.Horizon"/> steps after each of <paramref name="batch"/> windows.
    /// </summary>
    /// <param name="windows">[batch, window, <see cref="Columns"/>] raw (unscaled) values, each window's oldest row first.</param>
    /// <param name="batch">The number of windows; any number (more than <see cref="MaxBatch"/> run as several calls).</param>
    /// <param name="destination">Receives [batch, horizon] forecasts; undefined when the call throws.</param>
    /// <exception cref="ArgumentException">A span's length does not match, or a value is NaN or infinite (it is named).</exception>
    /// <exception cref="ArgumentOutOfRangeException">A scaled value could overflow the LSTM's fp32 sums (the model names it).</exception>
    public void Predict(ReadOnlySpan<double> windows, int batch, Span<double> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        long rowValues = (long)_window * Columns.Count;
        if (windows.Length != batch * rowValues)
            throw new ArgumentException($"The windows must hold batch × window × columns = {batch} × {_window} × {Columns.Count} values; got {windows.Length}.", nameof(windows));
        if (destination.Length != (long)batch * _horizon)
            throw new ArgumentException($"The destination must hold batch × horizon = {batch} × {_horizon} values; got {destination.Length}.", nameof(destination));
        int bad = IndexOfNonFinite(windows);
        if (bad >= 0)
        {
            (int row, int rest) = Math.DivRem(bad, (int)rowValues);
            throw new ArgumentException($"Window {row}, step {rest / Columns.Count}, column '{Columns[rest % Columns.Count]}' is {windows[bad]}; forecasts need finite values.", nameof(windows));
        }

        _caller.Enter();
        try
        {
            for (int first = 0; first < batch; first += MaxBatch)
            {
                int rows = Math.Min(MaxBatch, batch - first);
                PredictChunk(windows.Slice((int)(first * rowValues), (int)(rows * rowValues)), rows, destination.Slice(first * _horizon, rows * _horizon));
            }
        }
        finally
        {
            _caller.Exit();
        }
    }

    private void PredictChunk(ReadOnlySpan<double> windows, int rows, Span<double> destination)
    {
        SeriesScaler scaler = Forecaster.Scaler;
        int columns = Columns.Count;
        // Scaled exactly as SeriesScaler.FillInput scales a series' window: (x − reference) / scale in double, then rounded.
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<double> window = windows.Slice(r * _window * columns, _window * columns);
            Span<float> scaled = _scaled.AsSpan(r * _window * _inputs, _window * _inputs);
            for (int c = 0; c < _inputs; c++)
            {
                double reference = ReferenceOf(scaler, c, window, c), scale = scaler.Scales[c];
                for (int k = 0; k < _window; k++) scaled[k * _inputs + c] = (float)((window[k * columns + c] - reference) / scale);
            }
        }

        _session.Forward(_scaled.AsSpan(0, rows * _window * _inputs), _window, rows, _output.AsSpan(0, rows * _window * _features), layout: SequenceLayout.BatchFirst);
        for (int r = 0; r < rows; r++)
            _output.AsSpan(((r * _window) + _window - 1) * _features, _features).CopyTo(_lastStep.AsSpan(r * _features));
        Forecaster.Head.Apply(_lastStep.AsSpan(0, rows * _features), rows, _prediction.AsSpan(0, rows * _horizon));

        int targetScale = scaler.Scales.Count - 1;
        for (int r = 0; r < rows; r++)
        {
            double reference = ReferenceOf(scaler, targetScale, windows.Slice(r * _window * columns, _window * columns), _targetColumn), scale = scaler.Scales[targetScale];
            for (int h = 0; h < _horizon; h++) destination[r * _horizon + h] = reference + _prediction[r * _horizon + h] * scale;
        }
    }

    /// <summary>What <see cref="SeriesScaler.Reference"/> gives for scaler column <paramref name="scalerColumn"/>, held in window column <paramref name="column"/>.</summary>
    private double ReferenceOf(SeriesScaler scaler, int scalerColumn, ReadOnlySpan<double> window, int column) =>
        scaler.Normalization == SeriesNormalization.Relative ? window[(_window - 1) * Columns.Count + column] : scaler.Offsets[scalerColumn];

    private static int IndexOfNonFinite(ReadOnlySpan<double> values)
    {
        for (int i = 0; i < values.Length; i++)
            if (!double.IsFinite(values[i])) return i;
        return -1;
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
            if (string.Equals(names[i], name, StringComparison.Ordinal)) return i;
        return -1;
    }

    /// <summary>Disposes the session; a call running on another thread is waited for, later ones throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_caller.TryDispose()) _session.Dispose();
    }
}
