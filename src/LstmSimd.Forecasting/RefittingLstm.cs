namespace LstmSimd.Forecasting;

/// <summary>
/// An LSTM forecaster that a rolling-origin backtest trains again whenever it refits the baselines, so the LSTM is
/// judged as they are: at each refit it is warm-started from its latest weights and trained for <see cref="Epochs"/>
/// epochs on the rows up to the origin only, split there into training and validation
/// (<see cref="ForecasterTraining.Continue"/>); between refits it forecasts with the weights it has. The forecaster it
/// starts from is not changed; the ones it trains are its own, released by <see cref="Dispose"/>.
/// </summary>
public sealed class RefittingLstm : IDisposable
{
    private readonly LstmForecaster _start;
    private readonly ForecastSeries _series;
    private readonly ForecastTrainingOptions _options;
    private readonly List<int> _refitRows = [];
    private LstmForecaster _current;

    /// <summary>Starts from <paramref name="start"/> (trained on the rows before the test) over <paramref name="series"/>.</summary>
    public RefittingLstm(LstmForecaster start, ForecastSeries series, int epochs, ForecastTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(start);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        options.Validate();
        _start = start;
        _current = start;
        _series = series;
        Epochs = epochs;
        _options = options;
    }

    /// <summary>Epochs trained at each refit.</summary>
    public int Epochs { get; }

    /// <summary>The forecaster of the latest refit (the starting one before any).</summary>
    public LstmForecaster Current => _current;

    /// <summary>The last row each refit saw, in order.</summary>
    public IReadOnlyList<int> RefitRows => _refitRows;

    /// <summary>Trains again on rows 0 … <paramref name="lastRow"/>, warm-started from <see cref="Current"/>, which it replaces.</summary>
    public ForecastTrainingResult Refit(int lastRow)
    {
        ForecastTrainingResult result = ForecasterTraining.Continue(_current, _series, lastRow, Epochs, _options);
        if (!ReferenceEquals(_current, _start)) _current.Dispose();
        _current = result.Forecaster;
        _refitRows.Add(lastRow);
        return result;
    }

    /// <summary>
    /// This LSTM as a backtest method named <paramref name="name"/>: it forecasts with <see cref="Current"/>, and its
    /// <see cref="NamedForecastMethod.Refit"/> calls <see cref="Refit"/>. It forecasts the series it was given only.
    /// </summary>
    public NamedForecastMethod AsNamedMethod(string name = "LSTM")
    {
        void Forecast(double[] target, int origin, Span<double> destination)
        {
            CheckSeries(target);
            _current.Predict(_series, origin, destination);
        }

        return new NamedForecastMethod(name, Forecast)
        {
            Refit = (target, lastRow) =>
            {
                CheckSeries(target);
                Refit(lastRow);
                return Forecast;
            },
        };
    }

    /// <summary>Disposes the forecasters the refits trained (not the starting one).</summary>
    public void Dispose()
    {
        if (!ReferenceEquals(_current, _start)) _current.Dispose();
        _current = _start;
    }

    private void CheckSeries(double[] target)
    {
        if (!ReferenceEquals(target, _series.Target))
            throw new ArgumentException("This refitting LSTM forecasts the target of the series it was created with; another array was given.", nameof(target));
    }
}
