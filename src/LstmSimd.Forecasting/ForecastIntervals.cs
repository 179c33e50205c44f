using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>
/// Prediction intervals from a method's own errors on held-out origins (split conformal prediction, one calibration
/// per step ahead): for step h, the interval around a forecast ŷ is [ŷ + lower(h), ŷ + upper(h)], where lower and
/// upper are order statistics of the calibration residuals y − ŷ at step h. With n residuals and level 1 − a, they
/// are the ⌊(n + 1)·a/2⌋-th smallest and the ⌈(n + 1)(1 − a/2)⌉-th smallest, which covers a new value with
/// probability at least 1 − a when the errors are exchangeable. Forecast errors are not quite exchangeable (they drift
/// and are correlated across neighbouring origins), so <see cref="Coverage"/> measures what the intervals achieve.
/// </summary>
public sealed class ForecastIntervals
{
    private readonly double[] _lower, _upper;

    private ForecastIntervals(double level, double[] lower, double[] upper, int calibrationCount)
    {
        Level = level;
        _lower = lower;
        _upper = upper;
        CalibrationCount = calibrationCount;
    }

    /// <summary>The nominal coverage, e.g. 0.8.</summary>
    public double Level { get; }

    /// <summary>The number of origins the residuals came from.</summary>
    public int CalibrationCount { get; }

    /// <summary>The offset of each step's lower bound from the forecast.</summary>
    public IReadOnlyList<double> Lower => _lower;

    /// <summary>The offset of each step's upper bound from the forecast.</summary>
    public IReadOnlyList<double> Upper => _upper;

    /// <summary>Calibrates intervals at <paramref name="level"/> from <paramref name="method"/>'s residuals at <paramref name="origins"/>.</summary>
    /// <exception cref="ArgumentException">The level is not between 0 and 1, or too few origins for it (the message says how many are needed).</exception>
    public static ForecastIntervals Calibrate(ForecastMethod method, double[] target, IReadOnlyList<int> origins, int horizon, double level)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(origins);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        CheckLevel(level);
        var residuals = new double[horizon][];
        for (int h = 0; h < horizon; h++) residuals[h] = new double[origins.Count];
        var forecast = new double[horizon];
        for (int i = 0; i < origins.Count; i++)
        {
            method(target, origins[i], forecast);
            for (int h = 0; h < horizon; h++) residuals[h][i] = target[origins[i] + 1 + h] - forecast[h];
        }

        return FromResiduals(residuals, level);
    }

    /// <summary>The intervals from each step's calibration residuals (every step the same count); the arrays are sorted in place.</summary>
    internal static ForecastIntervals FromResiduals(double[][] residuals, double level)
    {
        CheckLevel(level);
        int n = residuals[0].Length;
        (int low, int high) = OrderStatistics(n, level);
        var lower = new double[residuals.Length];
        var upper = new double[residuals.Length];
        for (int h = 0; h < residuals.Length; h++)
        {
            Array.Sort(residuals[h]);
            lower[h] = residuals[h][low - 1];
            upper[h] = residuals[h][high - 1];
        }

        return new ForecastIntervals(level, lower, upper, n);
    }

    /// <summary>Intervals with given offsets, reported at the nominal <paramref name="level"/>.</summary>
    internal static ForecastIntervals FromOffsets(double level, double[] lower, double[] upper, int calibrationCount) => new(level, lower, upper, calibrationCount);

    /// <summary>The 1-based ranks of the bounds among n residuals at <paramref name="level"/>.</summary>
    /// <exception cref="ArgumentException">Too few residuals for the level (the message says how many are needed).</exception>
    internal static (int Low, int High) OrderStatistics(int n, double level)
    {
        (int low, int high) = Ranks(n, level);
        if (low < 1 || high > n)
            throw new ArgumentException($"{ForecastComparison.Percent(level)} intervals need at least {MinimumCalibrationCount(level)} calibration origins; there are {n}.");
        return (low, high);
    }

    /// <summary>⌊(n + 1)·a/2⌋ and ⌈(n + 1)(1 − a/2)⌉ for a = 1 − level, unchecked.</summary>
    internal static (int Low, int High) Ranks(int n, double level)
    {
        double tail = (1 - level) / 2;
        // The small allowance keeps (n + 1)·a/2 from falling just short of a whole number by rounding (0.8 → a/2 = 0.0999…).
        return ((int)Math.Floor((n + 1) * tail + 1e-9), (int)Math.Ceiling((n + 1) * (1 - tail) - 1e-9));
    }

    internal static void CheckLevel(double level)
    {
        if (!(level is > 0 and < 1)) throw new ArgumentException($"The interval level must be between 0 and 1; got {level.ToString(CultureInfo.InvariantCulture)}.", nameof(level));
    }

    /// <summary>The fewest calibration residuals that give intervals at <paramref name="level"/>: ⌈2/(1 − level) − 1⌉.</summary>
    public static int MinimumCalibrationCount(double level) => (int)Math.Ceiling(2 / (1 - level) - 1 - 1e-9);

    /// <summary>The bounds around one forecast of the whole horizon.</summary>
    public void Bounds(ReadOnlySpan<double> forecast, Span<double> lower, Span<double> upper)
    {
        if (forecast.Length != _lower.Length || lower.Length != _lower.Length || upper.Length != _lower.Length)
            throw new ArgumentException($"Forecast and bounds must hold the horizon, {_lower.Length} values.");
        for (int h = 0; h < forecast.Length; h++)
        {
            lower[h] = forecast[h] + _lower[h];
            upper[h] = forecast[h] + _upper[h];
        }
    }

    /// <summary>
    /// What the intervals achieve at <paramref name="origins"/> (the test split): the share of actual values inside
    /// their interval, the mean width, and the mean interval score (Gneiting and Raftery, 2007: the width plus
    /// 2/a times how far a value falls outside; lower is better).
    /// </summary>
    public IntervalCoverage Coverage(ForecastMethod method, double[] target, IReadOnlyList<int> origins)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(origins);
        int horizon = _lower.Length;
        var forecast = new double[horizon];
        var lower = new double[horizon];
        var upper = new double[horizon];
        var tally = new IntervalTally(Level);
        foreach (int origin in origins)
        {
            method(target, origin, forecast);
            Bounds(forecast, lower, upper);
            for (int h = 0; h < horizon; h++) tally.Add(target[origin + 1 + h], lower[h], upper[h]);
        }

        return tally.Result();
    }
}

/// <summary>Counts values inside their intervals and sums widths, interval scores and the bounds' pinball losses.</summary>
internal struct IntervalTally(double level)
{
    private readonly double _alpha = 1 - level;
    private double _width, _score, _pinball;
    private long _inside, _count;

    public void Add(double value, double lower, double upper)
    {
        if (value >= lower && value <= upper) _inside++;
        _width += upper - lower;
        _score += upper - lower + 2 / _alpha * (Math.Max(0, lower - value) + Math.Max(0, value - upper));
        _pinball += (Pinball(value, lower, _alpha / 2) + Pinball(value, upper, 1 - _alpha / 2)) / 2;
        _count++;
    }

    /// <summary>The quantile (pinball) loss of <paramref name="quantile"/> as the τ-quantile: τ(y − q) above it, (1 − τ)(q − y) below.</summary>
    private static double Pinball(double value, double quantile, double tau) =>
        value >= quantile ? tau * (value - quantile) : (1 - tau) * (quantile - value);

    public readonly IntervalCoverage Result() => _count == 0
        ? new IntervalCoverage(double.NaN, double.NaN, double.NaN, 0) { PinballLoss = double.NaN }
        : new IntervalCoverage((double)_inside / _count, _width / _count, _score / _count, _count) { PinballLoss = _pinball / _count };
}

/// <summary>How prediction intervals did on a set of forecasts.</summary>
/// <param name="Covered">The share of actual values inside their interval (compare with the nominal level).</param>
/// <param name="MeanWidth">The mean width of the intervals, in the target's units.</param>
/// <param name="IntervalScore">The mean interval score, in the target's units (lower is better).</param>
/// <param name="Count">The number of values judged (origins × horizon).</param>
public sealed record IntervalCoverage(double Covered, double MeanWidth, double IntervalScore, long Count)
{
    /// <summary>
    /// The mean pinball loss of the two bounds, each taken as a quantile (the lower as the a/2-quantile, the upper as the
    /// 1 − a/2-quantile for level 1 − a), averaged over the two and the values, in the target's units (lower is better).
    /// </summary>
    public double PinballLoss { get; init; }
}
