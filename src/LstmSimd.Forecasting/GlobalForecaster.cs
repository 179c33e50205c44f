using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Forecasting;

/// <summary>What a <see cref="GlobalForecaster"/>'s LSTM reads of each series.</summary>
public enum GlobalModelKind
{
    /// <summary>
    /// Each series scaled by its own <see cref="SeriesScaler"/> (the settings' <see cref="ForecastSettings.Normalization"/>),
    /// fitted on that series' training rows.
    /// </summary>
    ScaledPerSeries,

    /// <summary>
    /// The ES-RNN hybrid: each series' exponential smoothing level and season (<see cref="LevelSeasonDecomposition"/>,
    /// fitted on its training rows) removed, the LSTM forecasting what remains, and the two added back. A window reads
    /// yᵢ − sᵢ − ℓₜ (the level at the origin t, the season each row's forecast used); the LSTM predicts
    /// yₜ₊ₕ − ℓₜ − sₜ₊ₕ, the season as known at t; both divided by a per-series scale, the root mean square of those
    /// targets over the series' training windows.
    /// </summary>
    ExponentialSmoothingHybrid,
}

/// <summary>What training a <see cref="GlobalForecaster"/> ended with.</summary>
/// <param name="Forecaster">The forecaster of the best validation epoch.</param>
/// <param name="Epochs">Epochs completed.</param>
/// <param name="BestEpoch">The epoch whose weights <paramref name="Forecaster"/> holds.</param>
/// <param name="BestValidationLoss">Its mean squared error on every series' validation windows, in each series' scaled units.</param>
/// <param name="StopReason">Why training stopped.</param>
public sealed record GlobalForecastTrainingResult(GlobalForecaster Forecaster, int Epochs, int BestEpoch, double BestValidationLoss, string StopReason);

/// <summary>
/// One LSTM trained on the windows of many series at once (a global model, as DeepAR, N-BEATS and ES-RNN are), each series
/// scaled by its own training statistics so that one set of weights serves series of any size. Univariate: it reads
/// each series' target only. It forecasts the series it was trained on (their rows after the training ones included),
/// one caller at a time.
/// </summary>
public sealed class GlobalForecaster : IDisposable
{
    private readonly SeriesEncoding[] _encodings;
    private readonly LstmSession _session;
    private readonly float[] _input, _output, _prediction;
    private readonly SingleCaller _caller;

    private GlobalForecaster(ForecastSettings settings, GlobalModelKind kind, IReadOnlyList<ForecastSeries> series, SeriesEncoding[] encodings, LstmWeights weights, LinearHead head)
    {
        Settings = settings;
        Kind = kind;
        Series = series;
        _encodings = encodings;
        Weights = weights;
        Head = head;
        Model = LstmModel.Create(weights, new LstmModelOptions());
        _caller = new SingleCaller(this, "global forecaster");
        _session = Model.CreateSession(1, settings.Window);
        _input = new float[settings.Window];
        _output = new float[Sizes.Elements("window × H_out", settings.Window, weights.Spec.OutputSize)];
        _prediction = new float[settings.Horizon];
    }

    /// <summary>Window, horizon, season and (for <see cref="GlobalModelKind.ScaledPerSeries"/>) the scaling.</summary>
    public ForecastSettings Settings { get; }

    /// <summary>What the LSTM reads of each series.</summary>
    public GlobalModelKind Kind { get; }

    /// <summary>The series, in the order given.</summary>
    public IReadOnlyList<ForecastSeries> Series { get; }

    /// <summary>The shared LSTM (one input: the series' scaled value).</summary>
    public LstmWeights Weights { get; }

    /// <summary>The head: LSTM output at the window's last step → one scaled value per step ahead.</summary>
    public LinearHead Head { get; }

    /// <summary>The packed fast-path model.</summary>
    public LstmModel Model { get; }

    /// <summary>Series <paramref name="series"/>'s scaler (<see cref="GlobalModelKind.ScaledPerSeries"/>; null for the hybrid).</summary>
    public SeriesScaler? Scaler(int series) => (_encodings[series] as ScaledEncoding)?.Scaler;

    /// <summary>Series <paramref name="series"/>'s level and season (<see cref="GlobalModelKind.ExponentialSmoothingHybrid"/>; null otherwise).</summary>
    public LevelSeasonDecomposition? Decomposition(int series) => (_encodings[series] as HybridEncoding)?.Decomposition;

    /// <summary>
    /// Trains one LSTM on the training windows of every series in <paramref name="series"/> (each split by time as
    /// <see cref="ForecastSeries.From"/> split it; the same window and horizon for all), shuffled together, with early
    /// stopping on all their validation windows; weights, head and shuffling seeded by <see cref="ForecastTrainingOptions.Seed"/>.
    /// </summary>
    /// <exception cref="ArgumentException">No series, a series with a validation window too few, or (hybrid) one whose training rows cannot be smoothed.</exception>
    public static GlobalForecastTrainingResult Train(IReadOnlyList<ForecastSeries> series, ForecastSettings settings, GlobalModelKind kind, ForecastTrainingOptions options,
        Action<EpochReport>? onEpoch = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        settings.Validate();
        options.Validate();
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind));
        if (series.Count == 0) throw new ArgumentException("A global model needs at least one series.", nameof(series));
        SeriesEncoding[] encodings = [.. series.Select((s, k) => SeriesEncoding.Fit(kind, s, settings, k))];
        var windows = new PooledWindows(encodings, settings);
        var spec = new LstmSpec(1, options.HiddenSize, options.Layers);
        LstmWeights weights = LstmWeights.CreateRandom(spec, options.Seed, forgetBias: 1);
        var head = new TrainableLinearHead(spec.OutputSize, settings.Horizon, new SeededRandom((ulong)options.Seed));
        LstmWeights bestWeights = weights.Clone();
        var best = new LinearHead(head.Inputs, head.Outputs, (float[])head.Weight.Clone(), (float[])head.Bias.Clone());
        ForecasterTraining.TrainingOutcome outcome = ForecasterTraining.RunEpochs(weights, head, options, windows,
            windows.Ids(s => s.Split.Train), windows.Ids(s => s.Split.Validation), options.MaxEpochs, options.Patience,
            new SeededRandom((ulong)options.Seed + 1), startIsCandidate: false, report => onEpoch?.Invoke(report),
            () =>
            {
                bestWeights = weights.Clone();
                best = new LinearHead(head.Inputs, head.Outputs, (float[])head.Weight.Clone(), (float[])head.Bias.Clone());
            },
            cancellation);
        var forecaster = new GlobalForecaster(settings, kind, [.. series], encodings, bestWeights, best);
        return new GlobalForecastTrainingResult(forecaster, outcome.Epochs, outcome.BestEpoch, outcome.BestLoss, outcome.StopReason);
    }

    /// <summary>Forecasts rows origin + 1 … origin + horizon of series <paramref name="series"/> from the window ending at row <paramref name="origin"/>.</summary>
    public void Predict(int series, int origin, Span<double> destination)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(series);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(series, _encodings.Length);
        if (origin < Settings.Window - 1 || origin >= Series[series].Length)
            throw new ArgumentOutOfRangeException(nameof(origin), origin, $"A forecast needs {Settings.Window} rows up to its origin, within the series' {Series[series].Length}.");
        if (destination.Length != Settings.Horizon) throw new ArgumentException($"The destination must hold the horizon, {Settings.Horizon} values.", nameof(destination));
        _caller.Enter();
        try
        {
            SeriesEncoding encoding = _encodings[series];
            encoding.FillInput(origin, Settings.Window, _input);
            _session.Forward(_input, Settings.Window, 1, _output);
            int features = Weights.Spec.OutputSize;
            Head.Apply(_output.AsSpan((Settings.Window - 1) * features, features), 1, _prediction);
            encoding.Unscale(_prediction, origin, destination);
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>Series <paramref name="series"/>'s forecasts as a <see cref="ForecastMethod"/> over that series' target (another array is refused).</summary>
    public ForecastMethod AsMethod(int series)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(series);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(series, _encodings.Length);
        double[] own = Series[series].Target;
        return (target, origin, destination) =>
        {
            if (!ReferenceEquals(target, own)) throw new ArgumentException("A global forecaster forecasts the series it was trained on; another array was given.", nameof(target));
            Predict(series, origin, destination);
        };
    }

    /// <summary>Disposes the session; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_caller.TryDispose()) _session.Dispose();
    }

    /// <summary>Every series' windows in one id space: id = series × stride + origin.</summary>
    private sealed class PooledWindows(SeriesEncoding[] encodings, ForecastSettings settings) : ITrainingWindows
    {
        private readonly int _stride = (long)encodings.Length * encodings.Max(e => e.Series.Length) <= int.MaxValue
            ? encodings.Max(e => e.Series.Length)
            : throw new ArgumentException($"{encodings.Length} series of up to {encodings.Max(e => e.Series.Length)} rows are more windows than a global model numbers.");

        public int Window => settings.Window;

        public int Horizon => settings.Horizon;

        public int Features => 1;

        public int[] Ids(Func<ForecastSeries, IReadOnlyList<int>> origins) =>
            [.. encodings.SelectMany((e, k) => origins(e.Series).Select(origin => k * _stride + origin))];

        public void Fill(ReadOnlySpan<int> ids, float[] input, float[] target)
        {
            for (int b = 0; b < ids.Length; b++)
            {
                (int series, int origin) = Math.DivRem(ids[b], _stride);
                encodings[series].FillInput(origin, Window, input.AsSpan(b * Window, Window));
                encodings[series].FillTarget(origin, Horizon, target.AsSpan(b * Horizon, Horizon));
            }
        }
    }

    /// <summary>How one series is turned into what the LSTM reads and back.</summary>
    private abstract class SeriesEncoding(ForecastSeries series)
    {
        public ForecastSeries Series { get; } = series;

        public static SeriesEncoding Fit(GlobalModelKind kind, ForecastSeries series, ForecastSettings settings, int index)
        {
            ArgumentNullException.ThrowIfNull(series);
            ForecastSplit split = series.Split;
            if (split.Train.Count == 0 || split.Validation.Count == 0)
                throw new ArgumentException($"Series {index} has {split.Train.Count} training and {split.Validation.Count} validation windows; at least one of each is needed.");
            if (split.Train[0] != settings.Window - 1 || split.Validation[^1] + settings.Horizon >= split.TestStart)
                throw new ArgumentException($"Series {index} was split for another window or horizon than the settings' {settings.Window} and {settings.Horizon}.");
            try
            {
                return kind == GlobalModelKind.ScaledPerSeries ? new ScaledEncoding(series, settings) : new HybridEncoding(series, settings);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Series {index}: {e.Message}", e);
            }
        }

        public abstract void FillInput(int origin, int window, Span<float> destination);

        public abstract void FillTarget(int origin, int horizon, Span<float> destination);

        public abstract void Unscale(ReadOnlySpan<float> scaled, int origin, Span<double> destination);
    }

    private sealed class ScaledEncoding : SeriesEncoding
    {
        private readonly double[][] _inputs;

        public ScaledEncoding(ForecastSeries series, ForecastSettings settings)
            : base(series)
        {
            _inputs = [series.Target];
            Scaler = SeriesScaler.Fit(settings.Normalization, [series.Target, series.Target], series.Split.ValidationStart, settings.Horizon);
        }

        public SeriesScaler Scaler { get; }

        public override void FillInput(int origin, int window, Span<float> destination) => Scaler.FillInput(_inputs, origin, window, destination);

        public override void FillTarget(int origin, int horizon, Span<float> destination) => Scaler.FillTarget(Series.Target, origin, horizon, destination);

        public override void Unscale(ReadOnlySpan<float> scaled, int origin, Span<double> destination) => Scaler.Unscale(scaled, Series.Target, origin, destination);
    }

    private sealed class HybridEncoding : SeriesEncoding
    {
        private readonly double _scale;

        public HybridEncoding(ForecastSeries series, ForecastSettings settings)
            : base(series)
        {
            Decomposition = LevelSeasonDecomposition.Fit(series.Target.AsSpan(0, series.Split.ValidationStart), settings.SeasonLength, series.Target);
            double sum = 0;
            long count = 0;
            foreach (int origin in series.Split.Train)
            {
                for (int h = 1; h <= settings.Horizon; h++)
                {
                    double remainder = Remainder(origin, origin + h);
                    sum += remainder * remainder;
                    count++;
                }
            }

            _scale = Math.Sqrt(sum / count);
            if (!(_scale > 1e-12) || !double.IsFinite(_scale)) _scale = 1; // nothing left to forecast: leave it unscaled rather than divide by zero
        }

        public LevelSeasonDecomposition Decomposition { get; }

        public override void FillInput(int origin, int window, Span<float> destination)
        {
            for (int k = 0; k < window; k++) destination[k] = (float)(Remainder(origin, origin - window + 1 + k) / _scale);
        }

        public override void FillTarget(int origin, int horizon, Span<float> destination)
        {
            for (int h = 0; h < horizon; h++) destination[h] = (float)(Remainder(origin, origin + 1 + h) / _scale);
        }

        public override void Unscale(ReadOnlySpan<float> scaled, int origin, Span<double> destination)
        {
            for (int h = 0; h < scaled.Length; h++) destination[h] = Decomposition.Level(origin) + Decomposition.Season(origin, origin + 1 + h) + scaled[h] * _scale;
        }

        // What is left of row `row` after the level at the origin and the row's season as known there.
        private double Remainder(int origin, int row) => Series.Target[row] - Decomposition.Level(origin) - Decomposition.Season(origin, row);
    }
}
