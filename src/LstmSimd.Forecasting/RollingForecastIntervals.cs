namespace LstmSimd.Forecasting;

/// <summary>
/// Split-conformal prediction intervals whose calibration moves with the forecast origin: the interval for step h of
/// a forecast from origin t comes from the step-h residuals of the latest <see cref="Window"/> earlier forecasts whose
/// actual value is known by t (origins o ≤ t − h), as someone forecasting at t would have them. A calibration fixed
/// before the test period misses when the errors drift (a trend the model under-follows, a noisier stretch), and the
/// forecasts it was taken from (the validation ones) are those the model was selected on, so they are too good.
/// </summary>
/// <remarks>
/// With an <see cref="AdaptationRate"/> γ &gt; 0 the level of each step's interval also adapts (adaptive conformal
/// inference, Gibbs and Candès, NeurIPS 2021): the miscoverage aimed at, aₜ, starts at a = 1 − level and after each
/// outcome known at t moves by γ·(a − missed), missed being 1 when that value fell outside its interval. A run of misses
/// widens the intervals until they cover again; over T origins the share of misses stays within (1 + γ)/(γT) of a.
/// The bounds are the ⌊(n + 1)·aₜ/2⌋-th and ⌈(n + 1)(1 − aₜ/2)⌉-th of the n residuals, clamped to the smallest and
/// largest.
/// </remarks>
public sealed class RollingForecastIntervals
{
    private readonly double[][] _residuals;
    private readonly ForecastIntervals?[] _intervals;
    private readonly int _firstOrigin, _horizon;

    private RollingForecastIntervals(double level, int window, double adaptationRate, int firstOrigin, int horizon, double[][] residuals, ForecastIntervals?[] intervals)
    {
        _horizon = horizon;
        Level = level;
        Window = window;
        AdaptationRate = adaptationRate;
        _firstOrigin = firstOrigin;
        _residuals = residuals;
        _intervals = intervals;
    }

    /// <summary>The nominal coverage, e.g. 0.8.</summary>
    public double Level { get; }

    /// <summary>The most residuals per step an interval is calibrated on (the latest ones).</summary>
    public int Window { get; }

    /// <summary>γ: how fast the level adapts to misses (0: it stays nominal).</summary>
    public double AdaptationRate { get; }

    /// <summary>
    /// Runs <paramref name="method"/> from every origin from <paramref name="firstOrigin"/> to the series' last row,
    /// keeps its residuals (actual − forecast) where the actual value is known, and calibrates the interval at each origin.
    /// </summary>
    /// <exception cref="ArgumentException">The level is not between 0 and 1, the window is smaller than the level needs, the rate is negative or above 1, or the first origin is outside the series.</exception>
    public static RollingForecastIntervals Calibrate(ForecastMethod method, double[] target, int firstOrigin, int horizon, double level, int window, double adaptationRate = 0)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        ForecastIntervals.CheckLevel(level);
        int minimum = ForecastIntervals.MinimumCalibrationCount(level);
        if (window < minimum)
            throw new ArgumentException($"{ForecastComparison.Percent(level)} intervals need a calibration window of at least {minimum} origins; got {window}.", nameof(window));
        if (!(adaptationRate is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(adaptationRate), adaptationRate, "The adaptation rate must be between 0 and 1.");
        if (firstOrigin < 0 || firstOrigin >= target.Length) throw new ArgumentOutOfRangeException(nameof(firstOrigin), firstOrigin, $"The first calibration origin must be a row of the series (0 … {target.Length - 1}).");
        int origins = target.Length - firstOrigin;
        var residuals = new double[origins][];
        var forecast = new double[horizon];
        for (int i = 0; i < origins; i++)
        {
            int origin = firstOrigin + i;
            int known = Math.Min(horizon, target.Length - 1 - origin);
            residuals[i] = new double[known];
            if (known == 0) continue;
            method(target, origin, forecast);
            for (int h = 0; h < known; h++) residuals[i][h] = target[origin + 1 + h] - forecast[h];
        }

        // An origin has intervals when its last step has enough known residuals (the earlier steps know more).
        int Known(int i) => Math.Min(window, i - horizon + 1);
        var lower = new double[]?[origins];
        var upper = new double[]?[origins];
        for (int i = 0; i < origins; i++)
        {
            if (Known(i) < minimum) continue;
            lower[i] = new double[horizon];
            upper[i] = new double[horizon];
        }

        // Each step's miscoverage aim, adapted origin by origin from the outcomes known there, gives that step's bounds.
        double nominal = 1 - level;
        var sample = new List<double>(window);
        for (int h = 1; h <= horizon; h++)
        {
            double aim = nominal;
            for (int i = 0; i < origins; i++)
            {
                int outcome = i - h; // the forecast whose step-h value becomes known at this origin
                if (adaptationRate > 0 && outcome >= 0 && lower[outcome] is { } lastLower && upper[outcome] is { } lastUpper)
                {
                    double e = residuals[outcome][h - 1];
                    aim += adaptationRate * (nominal - (e >= lastLower[h - 1] && e <= lastUpper[h - 1] ? 0 : 1));
                }

                if (lower[i] is not { } lo || upper[i] is not { } up) continue;
                sample.Clear();
                for (int o = Math.Max(0, i - h - window + 1); o <= i - h; o++) sample.Add(residuals[o][h - 1]);
                sample.Sort();
                (int low, int high) = ForecastIntervals.Ranks(sample.Count, 1 - Math.Clamp(aim, 0, 1));
                lo[h - 1] = sample[Math.Clamp(low, 1, sample.Count) - 1];
                up[h - 1] = sample[Math.Clamp(high, 1, sample.Count) - 1];
            }
        }

        var intervals = new ForecastIntervals?[origins];
        for (int i = 0; i < origins; i++)
            if (lower[i] is { } lo && upper[i] is { } up) intervals[i] = ForecastIntervals.FromOffsets(level, lo, up, Known(i));

        return new RollingForecastIntervals(level, window, adaptationRate, firstOrigin, horizon, residuals, intervals);
    }

    /// <summary>
    /// The intervals for a forecast from <paramref name="origin"/>: for each step h, from the step-h residuals of the
    /// latest <see cref="Window"/> origins at or before origin − h.
    /// </summary>
    /// <exception cref="ArgumentException">Too few residuals are known at <paramref name="origin"/> for the level (the message says how many are needed).</exception>
    public ForecastIntervals At(int origin)
    {
        int i = origin - _firstOrigin;
        if (i < 0 || i >= _intervals.Length) throw new ArgumentOutOfRangeException(nameof(origin), origin, $"Intervals were calibrated for origins {_firstOrigin} … {_firstOrigin + _intervals.Length - 1}.");
        return _intervals[i] ?? throw new ArgumentException(
            $"{ForecastComparison.Percent(Level)} intervals need at least {ForecastIntervals.MinimumCalibrationCount(Level)} calibration origins at every step; the last step has {Math.Max(0, Math.Min(Window, i - _horizon + 1))} known at row {origin}.", nameof(origin));
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
