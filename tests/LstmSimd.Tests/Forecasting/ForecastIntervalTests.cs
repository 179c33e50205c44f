using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>Split-conformal prediction intervals: order statistics by hand, coverage on exchangeable errors, the interval score.</summary>
public sealed class ForecastIntervalTests
{
    private static readonly ForecastMethod Zero = (_, _, destination) => destination.Clear();

    [Fact]
    public void The_bounds_are_the_order_statistics_the_conformal_rule_names()
    {
        // Origins 0…18 forecast 0; the value after origin i is a permutation of 1…19, so the step-1 residuals are 1…19.
        int[] permutation = [7, 3, 19, 1, 12, 5, 16, 9, 2, 14, 11, 18, 4, 8, 15, 6, 13, 10, 17];
        double[] target = [0, .. permutation.Select(v => (double)v)];
        int[] origins = [.. Enumerable.Range(0, 19)];
        ForecastIntervals ninety = ForecastIntervals.Calibrate(Zero, target, origins, 1, 0.9); // ⌊20·0.05⌋ = 1st, ⌈20·0.95⌉ = 19th
        Assert.Equal(1, ninety.Lower[0]);
        Assert.Equal(19, ninety.Upper[0]);
        ForecastIntervals eighty = ForecastIntervals.Calibrate(Zero, target, origins, 1, 0.8); // ⌊20·0.1⌋ = 2nd, ⌈20·0.9⌉ = 18th
        Assert.Equal(2, eighty.Lower[0]);
        Assert.Equal(18, eighty.Upper[0]);
        var (lower, upper) = (new double[1], new double[1]);
        eighty.Bounds([100], lower, upper);
        Assert.Equal([102.0], lower);
        Assert.Equal([118.0], upper);
    }

    [Fact]
    public void Too_few_calibration_origins_are_refused_saying_how_many_the_level_needs()
    {
        double[] target = [.. Enumerable.Range(0, 20).Select(v => (double)v)];
        var e = Assert.Throws<ArgumentException>(() => ForecastIntervals.Calibrate(Zero, target, [.. Enumerable.Range(0, 8)], 1, 0.8));
        Assert.StartsWith("80 % intervals need at least 9 calibration origins; there are 8.", e.Message, StringComparison.Ordinal);
        ForecastIntervals justEnough = ForecastIntervals.Calibrate(Zero, target, [.. Enumerable.Range(0, 9)], 1, 0.8); // the 1st and 9th of 9: residuals 1 and 9
        Assert.Equal(1, justEnough.Lower[0]);
        Assert.Equal(9, justEnough.Upper[0]);
    }

    [Fact]
    public void On_independent_errors_the_measured_coverage_is_within_two_points_of_nominal_at_every_level()
    {
        var random = new Random(11);
        double[] noise = [.. Enumerable.Range(0, 12_000).Select(_ => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))];
        int[] calibration = [.. Enumerable.Range(0, 4000)], test = [.. Enumerable.Range(4000, 7990)];
        foreach (double level in (double[])[0.5, 0.8, 0.95])
        {
            ForecastIntervals intervals = ForecastIntervals.Calibrate(Zero, noise, calibration, 4, level);
            IntervalCoverage coverage = intervals.Coverage(Zero, noise, test);
            Assert.InRange(coverage.Covered, level - 0.02, level + 0.02);
            Assert.Equal(7990 * 4, coverage.Count);
        }
    }

    [Fact]
    public void The_interval_score_adds_two_over_alpha_times_the_miss_to_the_width()
    {
        // Residuals −1 … 1 in 19 even steps: the 80 % bounds are the 2nd and 18th, −8/9 and 8/9.
        double[] target = [0, .. Enumerable.Range(0, 19).Select(i => -1 + i / 9.0), 2];
        ForecastIntervals intervals = ForecastIntervals.Calibrate(Zero, target, [.. Enumerable.Range(0, 19)], 1, 0.8);
        Assert.Equal(-8 / 9.0, intervals.Lower[0], 1e-12);
        Assert.Equal(8 / 9.0, intervals.Upper[0], 1e-12);
        IntervalCoverage outside = intervals.Coverage(Zero, target, [19]); // the value 2 is 2 − 8/9 above the upper bound
        Assert.Equal(0, outside.Covered);
        Assert.Equal(16 / 9.0, outside.MeanWidth, 1e-12);
        Assert.Equal(16 / 9.0 + 2 / 0.2 * (2 - 8 / 9.0), outside.IntervalScore, 1e-9);
    }
}
