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
    /// The ES-RNN hybrid, additive: each series' exponential smoothing level and season (ETS(A,N,A),
    /// <see cref="SmoothingStates.FitLevelAndSeason"/>, fitted on its training rows) removed, the LSTM forecasting what
    /// remains, and the two added back. A window reads yᵢ − sᵢ − ℓₜ (the level at the origin t, the season each row's
    /// forecast used); the LSTM predicts yₜ₊ₕ − ℓₜ − sₜ₊ₕ, the season as known at t; both divided by a per-series scale,
    /// the root mean square of those targets over the series' training windows.
    /// </summary>
    ExponentialSmoothingHybrid,

    /// <summary>
    /// The ES-RNN hybrid in Smyl's multiplicative form: as <see cref="ExponentialSmoothingHybrid"/> on the logarithms of
    /// the values, so the level and season divide the series (yᵢ / (ℓₜ sᵢ) in log space, as ES-RNN's inputs are) and the
    /// forecast is exp(log ℓₜ + log sₜ₊ₕ + the LSTM's output). Every value must be positive.
    /// </summary>
    MultiplicativeHybrid,

    /// <summary>
    /// Exponential smoothing with an LSTM correction: each series' <see cref="AutoEts"/> model (trend and season as
    /// chosen by AICc on its training rows) forecasts, and the LSTM forecasts that model's errors from the window's
    /// one-step errors: it reads eᵢ (each row less the model's one-step forecast of it) and predicts yₜ₊ₕ − ŷₜ(h), both
    /// divided by the root mean square of those targets over the series' training windows. With the LSTM's output at
    /// zero the forecast is the exponential smoothing model's.
    /// </summary>
    EtsCorrection,
}

/// <summary>What a <see cref="GlobalForecaster"/> keeps of one series besides the shared LSTM: how it is scaled or smoothed.</summary>
/// <param name="Scaler">The series' scaler (<see cref="GlobalModelKind.ScaledPerSeries"/>; null otherwise).</param>
/// <param name="Smoothing">The exponential smoothing model run over the series (the hybrids and the correction; null otherwise).</param>
/// <param name="Scale">What the LSTM's targets are divided by (the hybrids and the correction; 1 otherwise).</param>
public sealed record GlobalSeriesEncoding(SeriesScaler? Scaler, EtsModel? Smoothing, double Scale);

/// <summary>What training a <see cref="GlobalForecaster"/> ended with.</summary>
/// <param name="Forecaster">The forecaster to use: that of the best validation epoch, or, when refitted, the one trained again on the training and validation rows for that many epochs.</param>
/// <param name="Epochs">Epochs completed (before any refit).</param>
/// <param name="BestEpoch">The epoch of the lowest validation loss.</param>
/// <param name="BestValidationLoss">Its mean squared error on every series' validation windows, in each series' scaled units.</param>
/// <param name="StopReason">Why training stopped.</param>
/// <param name="EarlyStopped">
/// The forecaster of the best validation epoch, trained on the training rows only: the one to score on the validation
/// rows. The same instance as <paramref name="Forecaster"/> unless refitted (dispose both; disposing twice is harmless).
/// </param>
public sealed record GlobalForecastTrainingResult(GlobalForecaster Forecaster, int Epochs, int BestEpoch, double BestValidationLoss, string StopReason, GlobalForecaster EarlyStopped);

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
    private readonly float[] _past, _input, _output, _prediction;
    private readonly int _steps;
    private readonly SingleCaller _caller;

    private GlobalForecaster(ForecastSettings settings, GlobalModelKind kind, IReadOnlyList<ForecastSeries> series, SeriesEncoding[] encodings, LstmWeights weights, LinearHead head,
        KnownFutureInputs knownFuture)
    {
        KnownFuture = knownFuture;
        Settings = settings;
        Kind = kind;
        Series = series;
        _encodings = encodings;
        Weights = weights;
        Head = head;
        Model = LstmModel.Create(weights, new LstmModelOptions());
        _caller = new SingleCaller(this, "global forecaster");
        _steps = knownFuture.Steps(settings);
        _session = Model.CreateSession(1, _steps);
        _past = new float[settings.Window];
        _input = knownFuture.Width == 0 ? _past : new float[Sizes.Elements("steps × inputs", _steps, 1 + knownFuture.Width)];
        _output = new float[Sizes.Elements("steps × H_out", _steps, weights.Spec.OutputSize)];
        _prediction = new float[settings.Horizon];
    }

    /// <summary>Window, horizon, season and (for <see cref="GlobalModelKind.ScaledPerSeries"/>) the scaling.</summary>
    public ForecastSettings Settings { get; }

    /// <summary>What the LSTM reads of each series.</summary>
    public GlobalModelKind Kind { get; }

    /// <summary>The series, in the order given.</summary>
    public IReadOnlyList<ForecastSeries> Series { get; }

    /// <summary>The known-future covariates and calendar inputs the LSTM reads besides each series' value (<see cref="KnownFutureInputs.None"/>: none).</summary>
    public KnownFutureInputs KnownFuture { get; }

    /// <summary>The shared LSTM (inputs: the series' scaled value, then <see cref="KnownFuture"/>'s).</summary>
    public LstmWeights Weights { get; }

    /// <summary>The head: LSTM output at the window's last step → one scaled value per step ahead.</summary>
    public LinearHead Head { get; }

    /// <summary>The packed fast-path model.</summary>
    public LstmModel Model { get; }

    /// <summary>Series <paramref name="series"/>'s scaler (<see cref="GlobalModelKind.ScaledPerSeries"/>; null for the others).</summary>
    public SeriesScaler? Scaler(int series) => (_encodings[series] as ScaledEncoding)?.Scaler;

    /// <summary>
    /// Series <paramref name="series"/>'s exponential smoothing states, on the values (on their logarithms for
    /// <see cref="GlobalModelKind.MultiplicativeHybrid"/>); null for <see cref="GlobalModelKind.ScaledPerSeries"/>.
    /// </summary>
    public SmoothingStates? Smoothing(int series) => (_encodings[series] as SmoothedEncoding)?.States;

    /// <summary>What the forecaster keeps of series <paramref name="series"/> (what <see cref="Create"/> takes back).</summary>
    public GlobalSeriesEncoding Encoding(int series) => _encodings[series] switch
    {
        ScaledEncoding scaled => new GlobalSeriesEncoding(scaled.Scaler, null, 1),
        SmoothedEncoding smoothed => new GlobalSeriesEncoding(null, smoothed.States.Model, smoothed.Scale),
        _ => throw new InvalidOperationException("Unknown encoding."),
    };

    /// <summary>
    /// Trains one LSTM on the training windows of every series in <paramref name="series"/> (each split by time as
    /// <see cref="ForecastSeries.From"/> split it; the same window and horizon for all), shuffled together, with early
    /// stopping on all their validation windows; weights, head and shuffling seeded by <see cref="ForecastTrainingOptions.Seed"/>.
    /// With <paramref name="refitOnTrainingAndValidation"/>, the scaling or smoothing is then fitted again on every row
    /// before the test and a new LSTM, from the same seed, is trained on the training and validation windows together
    /// for the best epoch's count of epochs (there is nothing left to stop it early).
    /// </summary>
    /// <exception cref="ArgumentException">No series, a series with a validation window too few, or one whose rows cannot be smoothed (too few, or not positive for the multiplicative hybrid).</exception>
    public static GlobalForecastTrainingResult Train(IReadOnlyList<ForecastSeries> series, ForecastSettings settings, GlobalModelKind kind, ForecastTrainingOptions options,
        Action<EpochReport>? onEpoch = null, CancellationToken cancellation = default, bool refitOnTrainingAndValidation = false)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        settings.Validate();
        options.Validate();
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind));
        if (series.Count == 0) throw new ArgumentException("A global model needs at least one series.", nameof(series));
        SeriesEncoding[] encodings = [.. series.Select((s, k) => SeriesEncoding.Fit(kind, s, settings, k, s.Split.ValidationStart))];
        KnownFutureInputs knownFuture = KnownFutureInputs.Fit(series, settings);
        foreach (ForecastSeries s in series) knownFuture.Check(s);
        var windows = new PooledWindows(encodings, knownFuture, settings);
        int[] train = windows.Ids(s => s.Split.Train), validation = windows.Ids(s => s.Split.Validation);
        (LstmWeights weights, TrainableLinearHead head) = Initial(options, settings, knownFuture);
        LstmWeights bestWeights = weights.Clone();
        LinearHead best = Snapshot(head);
        ForecasterTraining.TrainingOutcome outcome = ForecasterTraining.RunEpochs(weights, head, options, windows, train, validation, options.MaxEpochs, options.Patience,
            new SeededRandom((ulong)options.Seed + 1), startIsCandidate: false, report => onEpoch?.Invoke(report),
            () =>
            {
                bestWeights = weights.Clone();
                best = Snapshot(head);
            },
            cancellation);
        var earlyStopped = new GlobalForecaster(settings, kind, [.. series], encodings, bestWeights, best, knownFuture);
        if (!refitOnTrainingAndValidation || outcome.BestEpoch == 0 || cancellation.IsCancellationRequested)
            return new GlobalForecastTrainingResult(earlyStopped, outcome.Epochs, outcome.BestEpoch, outcome.BestLoss, outcome.StopReason, earlyStopped);

        SeriesEncoding[] refitted = [.. series.Select((s, k) => SeriesEncoding.Fit(kind, s, settings, k, s.Split.TestStart))];
        var allWindows = new PooledWindows(refitted, knownFuture, settings);
        (weights, head) = Initial(options, settings, knownFuture);
        ForecasterTraining.RunEpochs(weights, head, options, allWindows, [.. train, .. validation], validation, outcome.BestEpoch, patience: outcome.BestEpoch + 1,
            new SeededRandom((ulong)options.Seed + 1), startIsCandidate: false, _ => { }, () => { }, cancellation);
        var forecaster = new GlobalForecaster(settings, kind, [.. series], refitted, weights, Snapshot(head), knownFuture);
        return new GlobalForecastTrainingResult(forecaster, outcome.Epochs, outcome.BestEpoch, outcome.BestLoss,
            $"{outcome.StopReason}; trained again on the training and validation rows for {outcome.BestEpoch} epochs", earlyStopped);
    }

    /// <summary>
    /// A forecaster from its parts: the LSTM and head (one input, and <paramref name="knownFuture"/>'s; <see cref="ForecastSettings.Horizon"/>
    /// outputs) and each series' <see cref="GlobalSeriesEncoding"/> as <see cref="Encoding"/> gave it (a saved model read back). The
    /// smoothing models are run over each series' rows as they are now. <paramref name="knownFuture"/> null: <see cref="KnownFutureInputs.None"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The parts do not fit together: another count of encodings than series, an encoding of another kind, shapes that differ from the settings', or a series the smoothing cannot run over.</exception>
    public static GlobalForecaster Create(IReadOnlyList<ForecastSeries> series, ForecastSettings settings, GlobalModelKind kind, IReadOnlyList<GlobalSeriesEncoding> encodings,
        LstmWeights weights, LinearHead head, KnownFutureInputs? knownFuture = null)
    {
        knownFuture ??= KnownFutureInputs.None;
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(encodings);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(head);
        settings.Validate();
        if (!Enum.IsDefined(kind)) throw new ArgumentOutOfRangeException(nameof(kind));
        if (series.Count == 0 || encodings.Count != series.Count)
            throw new ArgumentException($"A global model needs one encoding per series and at least one series; got {encodings.Count} encodings for {series.Count} series.");
        if (!knownFuture.Covariates.SequenceEqual(settings.Covariates) || knownFuture.Calendar != settings.Calendar)
            throw new ArgumentException("The known-future inputs name other covariates or calendar inputs than the settings.", nameof(knownFuture));
        if (weights.Spec.InputSize != 1 + knownFuture.Width)
            throw new ArgumentException($"A global model's LSTM reads one value per step{(knownFuture.Width == 0 ? "" : $" and {knownFuture.Width} known-future inputs")}; this one reads {weights.Spec.InputSize}.", nameof(weights));
        foreach (ForecastSeries s in series) knownFuture.Check(s);
        if (head.InputSize != weights.Spec.OutputSize || head.OutputSize != settings.Horizon)
            throw new ArgumentException($"The head maps {head.InputSize} → {head.OutputSize}; the LSTM's {weights.Spec.OutputSize} outputs → the horizon, {settings.Horizon}, is needed.", nameof(head));
        SeriesEncoding[] parts = [.. series.Select((s, k) => SeriesEncoding.Restore(kind, s, encodings[k], k))];
        return new GlobalForecaster(settings, kind, [.. series], parts, weights, head, knownFuture);
    }

    private static (LstmWeights Weights, TrainableLinearHead Head) Initial(ForecastTrainingOptions options, ForecastSettings settings, KnownFutureInputs knownFuture)
    {
        var spec = new LstmSpec(1 + knownFuture.Width, options.HiddenSize, options.Layers);
        return (LstmWeights.CreateRandom(spec, options.Seed, forgetBias: 1), new TrainableLinearHead(spec.OutputSize, settings.Horizon, new SeededRandom((ulong)options.Seed)));
    }

    private static LinearHead Snapshot(TrainableLinearHead head) => new(head.Inputs, head.Outputs, (float[])head.Weight.Clone(), (float[])head.Bias.Clone());

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
            encoding.FillInput(origin, Settings.Window, _past);
            if (KnownFuture.Width > 0) KnownFuture.Fill(Series[series], origin, Settings.Window, Settings.Horizon, _past, 1, _input);
            _session.Forward(_input, _steps, 1, _output);
            int features = Weights.Spec.OutputSize;
            Head.Apply(_output.AsSpan((_steps - 1) * features, features), 1, _prediction);
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
    private sealed class PooledWindows(SeriesEncoding[] encodings, KnownFutureInputs knownFuture, ForecastSettings settings) : ITrainingWindows
    {
        private readonly float[] _past = new float[settings.Window];

        private readonly int _stride = (long)encodings.Length * encodings.Max(e => e.Series.Length) <= int.MaxValue
            ? encodings.Max(e => e.Series.Length)
            : throw new ArgumentException($"{encodings.Length} series of up to {encodings.Max(e => e.Series.Length)} rows are more windows than a global model numbers.");

        public int Window => knownFuture.Steps(settings);

        public int Horizon => settings.Horizon;

        public int Features => 1 + knownFuture.Width;

        public int[] Ids(Func<ForecastSeries, IReadOnlyList<int>> origins) =>
            [.. encodings.SelectMany((e, k) => origins(e.Series).Select(origin => k * _stride + origin))];

        public void Fill(ReadOnlySpan<int> ids, float[] input, float[] target)
        {
            for (int b = 0; b < ids.Length; b++)
            {
                (int series, int origin) = Math.DivRem(ids[b], _stride);
                int stride = Window * Features;
                if (knownFuture.Width == 0) encodings[series].FillInput(origin, settings.Window, input.AsSpan(b * stride, stride));
                else
                {
                    encodings[series].FillInput(origin, settings.Window, _past);
                    knownFuture.Fill(encodings[series].Series, origin, settings.Window, Horizon, _past, 1, input.AsSpan(b * stride, stride));
                }

                encodings[series].FillTarget(origin, Horizon, target.AsSpan(b * Horizon, Horizon));
            }
        }
    }

    /// <summary>How one series is turned into what the LSTM reads and back.</summary>
    private abstract class SeriesEncoding(ForecastSeries series)
    {
        public ForecastSeries Series { get; } = series;

        /// <summary>Fits the scaling or smoothing of <paramref name="kind"/> on the series' rows before <paramref name="fitEnd"/>.</summary>
        public static SeriesEncoding Fit(GlobalModelKind kind, ForecastSeries series, ForecastSettings settings, int index, int fitEnd)
        {
            ArgumentNullException.ThrowIfNull(series);
            ForecastSplit split = series.Split;
            if (split.Train.Count == 0 || split.Validation.Count == 0)
                throw new ArgumentException($"Series {index} has {split.Train.Count} training and {split.Validation.Count} validation windows; at least one of each is needed.");
            if (split.Train[0] != settings.Window - 1 || split.Validation[^1] + settings.Horizon >= split.TestStart)
                throw new ArgumentException($"Series {index} was split for another window or horizon than the settings' {settings.Window} and {settings.Horizon}.");
            return Named(index, () =>
            {
                if (kind == GlobalModelKind.ScaledPerSeries)
                    return new ScaledEncoding(series, SeriesScaler.Fit(settings.Normalization, [series.Target, series.Target], fitEnd, settings.Horizon));
                double[] values = SmoothedEncoding.Values(kind, series);
                EtsModel model = kind == GlobalModelKind.EtsCorrection
                    ? AutoEts.Fit(values.AsSpan(0, fitEnd), settings.SeasonLength).Model
                    : EtsModel.Fit(values.AsSpan(0, fitEnd), EtsTrend.None, settings.SeasonLength);
                var encoding = new SmoothedEncoding(kind, series, values, SmoothingStates.Run(model, values), 1);
                return new SmoothedEncoding(kind, series, values, encoding.States, encoding.RootMeanSquareTarget(split.Train.Concat(split.Validation).Where(origin => origin + settings.Horizon < fitEnd), settings.Horizon));
            });
        }

        /// <summary>A series' encoding from what <see cref="Encoding"/> gave.</summary>
        public static SeriesEncoding Restore(GlobalModelKind kind, ForecastSeries series, GlobalSeriesEncoding saved, int index)
        {
            ArgumentNullException.ThrowIfNull(series);
            ArgumentNullException.ThrowIfNull(saved);
            return Named(index, () =>
            {
                if (kind == GlobalModelKind.ScaledPerSeries)
                {
                    if (saved.Scaler is not { Scales.Count: 2 }) throw new ArgumentException("the scaled model needs the series' scaler (of its value and target).");
                    return new ScaledEncoding(series, saved.Scaler);
                }

                if (saved.Smoothing is null) throw new ArgumentException($"{kind} needs the series' smoothing model.");
                if (kind != GlobalModelKind.EtsCorrection && saved.Smoothing.Trend != EtsTrend.None)
                    throw new ArgumentException($"the hybrid's smoothing has no trend; {saved.Smoothing.Name} has one.");
                if (!(saved.Scale > 0) || !double.IsFinite(saved.Scale)) throw new ArgumentException($"the scale must be positive and finite; got {saved.Scale}.");
                double[] values = SmoothedEncoding.Values(kind, series);
                return new SmoothedEncoding(kind, series, values, SmoothingStates.Run(saved.Smoothing, values), saved.Scale);
            });
        }

        private static SeriesEncoding Named(int index, Func<SeriesEncoding> create)
        {
            try
            {
                return create();
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

    private sealed class ScaledEncoding(ForecastSeries series, SeriesScaler scaler) : SeriesEncoding(series)
    {
        private readonly double[][] _inputs = [series.Target];

        public SeriesScaler Scaler { get; } = scaler;

        public override void FillInput(int origin, int window, Span<float> destination) => Scaler.FillInput(_inputs, origin, window, destination);

        public override void FillTarget(int origin, int horizon, Span<float> destination) => Scaler.FillTarget(Series.Target, origin, horizon, destination);

        public override void Unscale(ReadOnlySpan<float> scaled, int origin, Span<double> destination) => Scaler.Unscale(scaled, Series.Target, origin, destination);
    }

    /// <summary>
    /// The hybrids and the correction: a smoothing model run over the values (their logarithms for the multiplicative
    /// hybrid); the LSTM reads and predicts what it leaves, divided by <see cref="Scale"/>.
    /// </summary>
    private sealed class SmoothedEncoding(GlobalModelKind kind, ForecastSeries series, double[] values, SmoothingStates states, double scale) : SeriesEncoding(series)
    {
        public SmoothingStates States { get; } = states;

        public double Scale { get; } = scale;

        /// <summary>What the smoothing runs over: the target, or its logarithms for the multiplicative hybrid (every value positive).</summary>
        public static double[] Values(GlobalModelKind kind, ForecastSeries series)
        {
            if (kind != GlobalModelKind.MultiplicativeHybrid) return series.Target;
            var logs = new double[series.Length];
            for (int t = 0; t < logs.Length; t++)
            {
                double y = series.Target[t];
                if (!(y > 0)) throw new ArgumentException($"row {t} ({series.Times[t]}) is {y}; the multiplicative hybrid smooths the logarithms of the values, so every value must be positive.");
                logs[t] = Math.Log(y);
            }

            return logs;
        }

        /// <summary>The root mean square of the unscaled targets of <paramref name="origins"/> (the windows whose targets are all fitted rows; 1 when they are all zero: nothing to scale).</summary>
        public double RootMeanSquareTarget(IEnumerable<int> origins, int horizon)
        {
            double sum = 0;
            long count = 0;
            foreach (int origin in origins)
            {
                for (int row = origin + 1; row <= origin + horizon; row++)
                {
                    double remainder = Remainder(origin, row);
                    sum += remainder * remainder;
                    count++;
                }
            }

            double rms = Math.Sqrt(sum / count);
            return rms > 1e-12 && double.IsFinite(rms) ? rms : 1;
        }

        public override void FillInput(int origin, int window, Span<float> destination)
        {
            for (int k = 0; k < window; k++)
            {
                int row = origin - window + 1 + k;
                destination[k] = (float)((kind == GlobalModelKind.EtsCorrection ? States.OneStepError(row) : Remainder(origin, row)) / Scale);
            }
        }

        public override void FillTarget(int origin, int horizon, Span<float> destination)
        {
            for (int h = 0; h < horizon; h++) destination[h] = (float)(Remainder(origin, origin + 1 + h) / Scale);
        }

        public override void Unscale(ReadOnlySpan<float> scaled, int origin, Span<double> destination)
        {
            for (int h = 0; h < scaled.Length; h++)
            {
                double value = Smoothed(origin, origin + 1 + h) + scaled[h] * Scale;
                destination[h] = kind == GlobalModelKind.MultiplicativeHybrid ? Math.Exp(value) : value;
            }
        }

        /// <summary>
        /// What the smoothing says of row <paramref name="row"/> at origin t: the model's forecast for the correction
        /// (a row after t), the level at t plus the row's season as known at t for the hybrids.
        /// </summary>
        private double Smoothed(int origin, int row) =>
            kind == GlobalModelKind.EtsCorrection ? States.Forecast(origin, row) : States.Level(origin) + States.Season(origin, row);

        // What is left of row `row` after what the smoothing says of it at the origin.
        private double Remainder(int origin, int row) => values[row] - Smoothed(origin, row);
    }
}
