namespace LstmSimd.Forecasting;

/// <summary>
/// Split-conformal prediction intervals whose calibration moves with the forecast origin: the interval for step h of
/// a forecast from origin t comes from the step-h residuals of the latest <see cref="Window"/> earlier forecasts whose
/// actual value is known by t (origins o ≤ t − h), as someone forecasting at t would have them. A calibration fixed
/// before the test period misses when the errors drift (a trend the model under-follows, a noisier stretch), and the
/// forecasts it was taken from (the validation ones) are those the model was selected on, so they are too good.
/// </summary>
public sealed class RollingForecastIntervals
{
    private readonly double[][] _residuals;
    private readonly int _firstOrigin, _horizon;

    private RollingForecastIntervals(double level, int window, int firstOrigin, int horizon, double[][] residuals)
    {
        _horizon = horizon;
        Level = level;
        Window = window;
        _firstOrigin = firstOrigin;
        _residuals = residuals;
    }

    /// <summary>The nominal coverage, e.g. 0.8.</summary>
    public double Level { get; }

    /// <summary>The most residuals per step an interval is calibrated on (the latest ones).</summary>
    public int Window { get; }

    /// <summary>
    /// Runs <paramref name="method"/> from every origin from <paramref name="firstOrigin"/> to the series' last row and
    /// keeps its residuals (actual − forecast) where the actual value is known.
    /// </summary>
    /// <exception cref="ArgumentException">The level is not between 0 and 1, the window is smaller than the level needs, or the first origin is outside the series.</exception>
    public static RollingForecastIntervals Calibrate(ForecastMethod method, double[] target, int firstOrigin, int horizon, double level, int window)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        ForecastIntervals.CheckLevel(level);
        if (window < ForecastIntervals.MinimumCalibrationCount(level))
            throw new ArgumentException($"{ForecastComparison.Percent(level)} intervals need a calibration window of at least {ForecastIntervals.MinimumCalibrationCount(level)} origins; got {window}.", nameof(window));
        if (firstOrigin < 0 || firstOrigin >= target.Length) throw new ArgumentOutOfRangeException(nameof(firstOrigin), firstOrigin, $"The first calibration origin must be a row of the series (0 … {target.Length - 1}).");
        var residuals = new double[target.Length - firstOrigin][];
        var forecast = new double[horizon];
        for (int origin = firstOrigin; origin < target.Length - 1; origin++)
        {
            method(target, origin, forecast);
            int known = Math.Min(horizon, target.Length - 1 - origin);
            residuals[origin - firstOrigin] = new double[known];
            for (int h = 0; h < known; h++) residuals[origin - firstOrigin][h] = target[origin + 1 + h] - forecast[h];
        }

        residuals[^1] = [];
        return new RollingForecastIntervals(level, window, firstOrigin, horizon, residuals);
    }

    /// <summary>
    /// The intervals for a forecast from <paramref name="origin"/>: for each step h, from the step-h residuals of the
    /// latest <see cref="Window"/> origins at or before origin − h.
    /// </summary>
    /// <exception cref="ArgumentException">Too few residuals are known at <paramref name="origin"/> for the level (the message says how many are needed).</exception>
    public ForecastIntervals At(int origin)
    {
        int horizon = _horizon;
        var perStep = new double[horizon][];
        for (int h = 1; h <= horizon; h++)
        {
            int last = Math.Min(origin - h, _firstOrigin + _residuals.Length - 1);
            int first = Math.Max(_firstOrigin, last - Window + 1);
            perStep[h - 1] = last < first ? [] : [.. Enumerable.Range(first, last - first + 1).Select(o => _residuals[o - _firstOrigin][h - 1])];
        }

        int count = perStep.Min(r => r.Length);
        if (count < ForecastIntervals.MinimumCalibrationCount(Level))
            throw new ArgumentException($"{ForecastComparison.Percent(Level)} intervals need at least {ForecastIntervals.MinimumCalibrationCount(Level)} calibration origins; {count} are known at row {origin}.", nameof(origin));
        // Steps with more known residuals than the longest step keep the latest: every step uses the same count.
        for (int h = 0; h < horizon; h++) perStep[h] = perStep[h][^count..];
        return ForecastIntervals.FromResiduals(perStep, Level);
    }

    /// <summary>What the intervals achieve at <paramref name="origins"/>, each calibrated by <see cref="At"/> on what was known at it.</summary>
    public IntervalCoverage Coverage(IReadOnlyList<int> origins)
    {
        ArgumentNullException.ThrowIfNull(origins);
        var tally = new IntervalTally(Level);
        foreach (int origin in origins)
        {
            ForecastIntervals intervals = At(origin);
            double[] residuals = _residuals[origin - _firstOrigin];
            // A residual inside the offsets is the actual value inside the interval around the forecast.
            for (int h = 0; h < residuals.Length; h++) tally.Add(residuals[h], intervals.Lower[h], intervals.Upper[h]);
        }

        return tally.Result();
    }
}
