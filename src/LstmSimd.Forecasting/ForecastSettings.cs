namespace LstmSimd.Forecasting;

/// <summary>How the values of a window are scaled before the LSTM sees them; targets are scaled the same way and unscaled after.</summary>
public enum SeriesNormalization
{
    /// <summary>Relative to the window's last value, divided by the typical change over the horizon: follows trends beyond the training range (the default).</summary>
    Relative,

    /// <summary>Minus the training mean, divided by the training standard deviation.</summary>
    ZScore,

    /// <summary>Minus the training minimum, divided by the training range.</summary>
    MinMax,

    /// <summary>Raw values.</summary>
    None,
}

/// <summary>What a forecaster reads and predicts: columns, window, horizon, scaling and the split by time.</summary>
public sealed record ForecastSettings
{
    /// <summary>The column holding the time: numbers or dates (ISO 2001-03-01 …), increasing, each time once.</summary>
    public required string TimeColumn { get; init; }

    /// <summary>The columns the LSTM reads at each step of a window.</summary>
    public required IReadOnlyList<string> InputColumns { get; init; }

    /// <summary>The column predicted.</summary>
    public required string TargetColumn { get; init; }

    /// <summary>Steps of history the LSTM reads.</summary>
    public int Window { get; init; } = 24;

    /// <summary>Steps ahead predicted at once (one head output per step).</summary>
    public int Horizon { get; init; } = 12;

    /// <summary>The scaling of inputs and targets.</summary>
    public SeriesNormalization Normalization { get; init; } = SeriesNormalization.Relative;

    /// <summary>The season length the seasonal-naive baseline uses (12 for monthly data).</summary>
    public int SeasonLength { get; init; } = 12;

    /// <summary>The first time of the test period (rows at or after it, compared as <see cref="TimeSeriesTable.FirstRowAtOrAfter"/> does); null tests on the last <see cref="TestFraction"/> of the rows.</summary>
    public string? TestFrom { get; init; }

    /// <summary>The share of rows held out for testing when <see cref="TestFrom"/> is null.</summary>
    public double TestFraction { get; init; } = 0.15;

    /// <summary>The share of the rows before the test period held out (the latest ones) for validation and early stopping.</summary>
    public double ValidationFraction { get; init; } = 0.15;

    /// <summary>
    /// The longest run of missing steps (missing times, or empty, NA or NaN cells in a column used) filled by linear
    /// interpolation; a longer run is refused naming its lines (<see cref="TimeSeriesTable.FillGaps"/>). 0 refuses any.
    /// </summary>
    public int MaxGap { get; init; } = 3;

    /// <summary>
    /// Known-future covariates: columns whose values at every step, the forecast's horizon included, are known when the
    /// forecast is made (a schedule, a planned price, a weather forecast), read by the LSTM at each step
    /// (<see cref="KnownFutureInputs"/>). Their missing values are filled by the <see cref="MaxGap"/> rule.
    /// </summary>
    public IReadOnlyList<string> Covariates { get; init; } = [];

    /// <summary>Inputs derived from each row's time (<see cref="CalendarEncoding.For"/> gives those that suit a frequency); None reads none.</summary>
    public CalendarFeatures Calendar { get; init; } = CalendarFeatures.None;

    /// <summary>The file the rows came from, remembered in checkpoints (null: none, e.g. a table parsed from text).</summary>
    public ForecastDataSource? Data { get; init; }

    /// <summary>Checks the numbers; throws <see cref="ArgumentException"/> with the option's name.</summary>
    public void Validate()
    {
        if (Window < 1) throw new ArgumentException($"The window must be at least 1 step; got {Window}.");
        if (Horizon < 1) throw new ArgumentException($"The horizon must be at least 1 step; got {Horizon}.");
        if (SeasonLength < 1) throw new ArgumentException($"The season length must be at least 1 step; got {SeasonLength}.");
        if (MaxGap < 0) throw new ArgumentException($"The longest gap to interpolate must be 0 or more steps; got {MaxGap}.");
        if (InputColumns.Count == 0) throw new ArgumentException("Name at least one input column.");
        foreach (string covariate in Covariates)
            if (covariate == TargetColumn || covariate == TimeColumn)
                throw new ArgumentException($"The covariate {UserText.Quote(covariate)} is the {(covariate == TimeColumn ? "time" : "target")} column; a covariate is another column whose future values are known.");
        if (Covariates.Distinct().Count() != Covariates.Count) throw new ArgumentException("A covariate is named twice.");
        if (!(TestFraction is > 0 and < 1)) throw new ArgumentException($"The test fraction must be between 0 and 1; got {TestFraction}.");
        if (!(ValidationFraction is > 0 and < 1)) throw new ArgumentException($"The validation fraction must be between 0 and 1; got {ValidationFraction}.");
    }
}
