namespace LstmSimd.Forecasting;

/// <summary>
/// What a method's prediction intervals achieve on a series' test origins, calibrated two ways: once, on the
/// validation forecasts (split conformal per step ahead, <see cref="ForecastIntervals"/>: what a saved model carries),
/// and rolling, each origin's intervals from the latest forecasts whose values were known there, the level adapting to
/// misses (<see cref="RollingForecastIntervals"/>, as many forecasts as there are validation origins).
/// </summary>
/// <param name="Calibrated">The intervals calibrated once, on the validation forecasts.</param>
/// <param name="Once">What <paramref name="Calibrated"/> achieves on the test origins.</param>
/// <param name="Rolling">The rolling intervals, from the first validation origin to the series' last row; null when the series has too few validation origins for them (<paramref name="RollingUnavailable"/> says why).</param>
/// <param name="Adaptive">What <paramref name="Rolling"/> achieves on the test origins; null with it.</param>
/// <param name="RollingUnavailable">Why there are no rolling intervals; null when there are.</param>
public sealed record IntervalBacktest(ForecastIntervals Calibrated, IntervalCoverage Once, RollingForecastIntervals? Rolling, IntervalCoverage? Adaptive, string? RollingUnavailable)
{
    /// <summary>How far the measured coverage may lie from the nominal level and still meet the project's target: 3 percentage points.</summary>
    public const double CoverageTolerance = 0.03;

    /// <summary>
    /// Measures <paramref name="calibrated"/> around <paramref name="method"/>'s forecasts on <paramref name="series"/>'s
    /// test origins, and calibrates and measures the rolling intervals at the same level, the level adapting at
    /// <paramref name="adaptationRate"/> (0: fixed).
    /// </summary>
    /// <exception cref="ArgumentException">The intervals' horizon is not the series' split's, or the rate is outside 0 … 1.</exception>
    public static IntervalBacktest Run(ForecastMethod method, ForecastIntervals calibrated, ForecastSeries series, double adaptationRate)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(calibrated);
        ArgumentNullException.ThrowIfNull(series);
        if (!(adaptationRate is >= 0 and <= 1)) throw new ArgumentOutOfRangeException(nameof(adaptationRate), adaptationRate, "The adaptation rate must be between 0 and 1.");
        int horizon = calibrated.Lower.Count;
        IReadOnlyList<int> validation = series.Split.Validation, test = series.Split.Test;
        if (validation.Count == 0 || test.Count == 0) throw new ArgumentException($"The series has {validation.Count} validation and {test.Count} test origins; intervals are calibrated on the first and measured on the second.", nameof(series));
        if (validation[^1] + horizon >= series.Split.TestStart)
            throw new ArgumentException($"The intervals span {horizon} steps; the series was split for a shorter horizon.", nameof(calibrated));
        IntervalCoverage once = calibrated.Coverage(method, series.Target, test);
        try
        {
            RollingForecastIntervals rolling = RollingForecastIntervals.Calibrate(method, series.Target, validation[0], horizon, calibrated.Level, validation.Count, adaptationRate);
            return new IntervalBacktest(calibrated, once, rolling, rolling.Coverage(test), null);
        }
        catch (ArgumentException e)
        {
            return new IntervalBacktest(calibrated, once, null, null, e.Message);
        }
    }

    /// <summary>Whether <paramref name="coverage"/> lies within <see cref="CoverageTolerance"/> of <paramref name="level"/>.</summary>
    public static bool MeetsTarget(IntervalCoverage coverage, double level)
    {
        ArgumentNullException.ThrowIfNull(coverage);
        // The allowance keeps a coverage of exactly 77 % for 80 % from failing by rounding.
        return Math.Abs(coverage.Covered - level) <= CoverageTolerance + 1e-12;
    }
}
