using System.Text.Json;
using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>
/// The Diebold–Mariano test against R's forecast::dm.test (Golden/make_dm_golden.R), the rolling-origin backtest,
/// the verdict it gives and intervals calibrated at each origin.
/// </summary>
public sealed class BacktestTests
{
    private static readonly JsonElement[] DmCases = LoadDmCases();

    private static JsonElement[] LoadDmCases()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "dm", "dm-golden.json")));
        return [.. document.RootElement.GetProperty("dm").EnumerateArray().Select(c => c.Clone())];
    }

    public static TheoryData<string> DmCaseNames() => [.. DmCases.Select(c => c.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(DmCaseNames))]
    public void The_Diebold_Mariano_statistic_and_p_values_match_Rs_dm_test(string name)
    {
        JsonElement c = DmCases.Single(c => c.GetProperty("name").GetString() == name);
        int power = c.GetProperty("power").GetInt32();
        double[] Losses(string property) => [.. c.GetProperty(property).EnumerateArray().Select(e => Math.Pow(Math.Abs(e.GetDouble()), power))];
        DieboldMarianoVariance variance = c.GetProperty("varestimator").GetString() == "acf" ? DieboldMarianoVariance.Rectangular : DieboldMarianoVariance.Bartlett;
        int horizon = c.GetProperty("h").GetInt32();
        DieboldMarianoResult result = DieboldMariano.Test(Losses("e1"), Losses("e2"), horizon, variance);
        double statistic = c.GetProperty("statistic").GetDouble();
        Assert.Equal(statistic, result.Statistic, 1e-10 * Math.Max(1, Math.Abs(statistic)));
        Assert.Equal(c.GetProperty("p_less").GetDouble(), result.PValueCandidateBetter, 1e-10);
        Assert.Equal(c.GetProperty("p_greater").GetDouble(), result.PValueRivalBetter, 1e-10);
        Assert.Equal(c.GetProperty("fallback").GetBoolean(), result.FellBackToOneStep);
        Assert.Equal(result.FellBackToOneStep ? 1 : horizon, result.Horizon);
        Assert.Equal(c.GetProperty("e1").GetArrayLength(), result.Count);
    }

    [Fact]
    public void The_golden_file_holds_a_rectangular_fallback_and_every_variance_estimator()
    {
        Assert.Contains(DmCases, c => c.GetProperty("fallback").GetBoolean());
        Assert.Contains(DmCases, c => c.GetProperty("varestimator").GetString() == "bartlett" && c.GetProperty("h").GetInt32() > 1);
        Assert.Contains(DmCases, c => c.GetProperty("varestimator").GetString() == "acf" && c.GetProperty("h").GetInt32() > 1 && !c.GetProperty("fallback").GetBoolean());
    }

    [Fact]
    public void A_constant_loss_difference_is_certain_and_a_zero_one_is_no_evidence_either_way()
    {
        DieboldMarianoResult better = DieboldMariano.Test([1, 2, 3, 4], [2, 3, 4, 5], 1);
        Assert.Equal(double.NegativeInfinity, better.Statistic);
        Assert.Equal((0.0, 1.0), (better.PValueCandidateBetter, better.PValueRivalBetter));
        DieboldMarianoResult same = DieboldMariano.Test([1, 2, 3, 4], [1, 2, 3, 4], 1);
        Assert.Equal((0.0, 0.5, 0.5), (same.Statistic, same.PValueCandidateBetter, same.PValueRivalBetter));
    }

    [Fact]
    public void Unequal_lengths_too_few_origins_and_non_finite_losses_are_refused_naming_the_problem()
    {
        Assert.Contains("same origins; got 3 and 2", Assert.Throws<ArgumentException>(() => DieboldMariano.Test([1, 2, 3], [1, 2], 1)).Message, StringComparison.Ordinal);
        Assert.Contains("at horizon 3 needs more than 5 origins; got 5", Assert.Throws<ArgumentException>(() => DieboldMariano.Test([1, 2, 3, 4, 5], [1, 2, 3, 4, 6], 3)).Message, StringComparison.Ordinal);
        Assert.Contains("origin 1 has NaN", Assert.Throws<ArgumentException>(() => DieboldMariano.Test([1, double.NaN, 3], [1, 2, 3], 1)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_backtest_refits_every_k_origins_on_the_rows_up_to_the_origin_and_keeps_each_forecast()
    {
        double[] target = [.. Enumerable.Range(0, 30).Select(t => (double)(t * t % 7))];
        var fittedOn = new List<int>();
        // The refit method forecasts the mean of the rows it was fitted on: the forecast shows which rows those were.
        var refitted = new NamedForecastMethod("mean at the last fit", ForecastBaselines.Naive())
        {
            Refit = (values, lastRow) =>
            {
                fittedOn.Add(lastRow);
                double mean = values.Take(lastRow + 1).Average();
                return (_, _, destination) => destination.Fill(mean);
            },
        };
        int[] origins = [.. Enumerable.Range(10, 17)]; // 10 … 26, horizon 3 ends at row 29
        ForecastBacktest backtest = ForecastBacktest.Run([new("naive", ForecastBaselines.Naive()), refitted], target, origins, 3, refitEvery: 5, maseScale: 2);
        Assert.Equal([10, 15, 20, 25], fittedOn);
        Assert.Equal(4, backtest.Refits);
        Assert.Equal(target.Take(16).Average(), backtest.Forecast(1, 7, 2), 1e-12); // origin 17 uses the fit at origin 15
        Assert.Equal(target[17], backtest.Forecast(0, 7, 3));
        Assert.Equal(target[20], backtest.Actual(7, 3));
        double[] losses = backtest.OriginLosses(0);
        Assert.Equal((Math.Abs(target[11] - target[10]) + Math.Abs(target[12] - target[10]) + Math.Abs(target[13] - target[10])) / 3, losses[0], 1e-12);
        Assert.Equal(losses.Average(), backtest.Scores[0].Mae, 1e-12);
        Assert.Equal(losses.Average() / 2, backtest.Scores[0].Mase, 1e-12);
        Assert.Equal(3, backtest.OverlappingOrigins);
        Assert.Equal(2, ForecastBacktest.Run([new("naive", ForecastBaselines.Naive())], target, [10, 12, 14, 16], 3, 1, 1).OverlappingOrigins);
        Assert.Contains("Origin 27 has no 3 rows after it", Assert.Throws<ArgumentException>(() => ForecastBacktest.Run([refitted], target, [26, 27], 3, 1, 1)).Message, StringComparison.Ordinal);
        Assert.Contains("must increase", Assert.Throws<ArgumentException>(() => ForecastBacktest.Run([refitted], target, [12, 11], 3, 1, 1)).Message, StringComparison.Ordinal);
    }

    /// <summary>A method whose forecast misses the next values by a given error at each origin (the same at every step).</summary>
    private static NamedForecastMethod Missing(string name, Func<int, double> error) =>
        new(name, (target, origin, destination) =>
        {
            for (int h = 0; h < destination.Length; h++) destination[h] = target[origin + 1 + h] + error(origin);
        });

    private static ForecastBacktest Run(int origins, params NamedForecastMethod[] methods)
    {
        double[] target = [.. Enumerable.Range(0, origins + 4).Select(t => Math.Sin(t))];
        return ForecastBacktest.Run(methods, target, [.. Enumerable.Range(0, origins)], 3, 1, maseScale: 1);
    }

    [Fact]
    public void The_verdict_says_beats_only_when_the_difference_holds_across_the_origins()
    {
        var noise = new Random(5);
        double[] wobble = [.. Enumerable.Range(0, 200).Select(_ => noise.NextDouble())];
        // Errors 1.0 ± 0.5 against 1.3 ± 0.5: clearly lower over 80 origins.
        ForecastVerdict beats = ForecastComparison.Judge(Run(80, Missing("LSTM", o => 0.5 + wobble[o]), Missing("ETS", o => 0.8 + wobble[o + 80]), Missing("mean", _ => 4)));
        Assert.True(beats is { Beats: true, Tie: false });
        Assert.Equal("ETS", beats.BestBaseline.Name);
        Assert.True(beats.AgainstBest!.PValueCandidateBetter < 0.05);
        Assert.StartsWith("the LSTM beats every baseline: MASE ", beats.Text, StringComparison.Ordinal);
        Assert.Contains("over 80 origins, below 0.05 against every baseline)", beats.Text, StringComparison.Ordinal);

        // A lower mean error that one run of bad origins could have made: 1 % lower on average, noise of ±50 %.
        ForecastVerdict tie = ForecastComparison.Judge(Run(80, Missing("LSTM", o => 0.99 + wobble[o] - 0.5), Missing("ETS", o => 1 + wobble[o + 80] - 0.5)));
        Assert.True(tie is { Beats: false, Tie: true });
        Assert.Matches(@"^a tie: the LSTM's MASE [0-9.]+ against [0-9.]+ for the best baseline, ETS; no difference holds across the 80 origins \(against ETS, Diebold–Mariano p = 0\.[0-9]+ that the LSTM is better, p = 0\.[0-9]+ that it is worse\); neither wins$", tie.Text);

        ForecastVerdict loses = ForecastComparison.Judge(Run(80, Missing("LSTM", o => 1.5 + wobble[o]), Missing("ETS", o => 0.5 + wobble[o + 80]), Missing("naive", o => 1.2 + wobble[o + 40])));
        Assert.True(loses is { Beats: false, Tie: false });
        Assert.Equal("ETS", loses.BestBaseline.Name);
        Assert.Matches(@"^the LSTM does NOT beat the best baseline: ETS has MASE [0-9.]+, the LSTM [0-9.]+ \([0-9.]+ % higher; Diebold–Mariano p < 0\.001 over 80 origins\)$", loses.Text);

        ForecastVerdict tooFew = ForecastComparison.Judge(Run(5, Missing("LSTM", _ => 0.1), Missing("ETS", _ => 1)));
        Assert.True(tooFew is { Tie: true, AgainstBest: null });
        Assert.StartsWith("a tie: 5 test origins are too few to tell", tooFew.Text, StringComparison.Ordinal);
        Assert.EndsWith("(a Diebold–Mariano test at horizon 3 needs more than 5)", tooFew.Text, StringComparison.Ordinal);
    }

    [Fact]
    public void A_candidate_judged_against_chosen_baselines_ignores_the_other_candidates()
    {
        double[] wobble = [.. Enumerable.Range(0, 200).Select(i => 0.3 * Math.Sin(i * 1.7))];
        // Two candidates: the second is far better than everything, the first better than both baselines.
        ForecastBacktest backtest = Run(80, Missing("LSTM", o => 0.5 + wobble[o]), Missing("hybrid", _ => 0.01), Missing("ETS", o => 0.8 + wobble[o + 80]), Missing("mean", _ => 4));
        Assert.False(ForecastComparison.Judge(backtest, 0).Beats); // against every other method, the hybrid included
        ForecastVerdict verdict = ForecastComparison.Judge(backtest, 0, [2, 3]);
        Assert.True(verdict is { Beats: true });
        Assert.Equal("ETS", verdict.BestBaseline.Name);
        Assert.Throws<ArgumentException>(() => ForecastComparison.Judge(backtest, 0, [0, 2]));
        Assert.Throws<ArgumentException>(() => ForecastComparison.Judge(backtest, 0, []));
        Assert.Throws<ArgumentException>(() => ForecastComparison.Judge(backtest, 0, [9]));
    }

    [Fact]
    public void Rolling_intervals_use_only_the_residuals_known_at_each_origin_the_latest_window_of_them()
    {
        // A method that forecasts 0: the residual of origin o at step h is target[o + h].
        ForecastMethod zero = (_, _, destination) => destination.Clear();
        double[] target = [.. Enumerable.Range(0, 40).Select(t => (double)t)];
        RollingForecastIntervals rolling = RollingForecastIntervals.Calibrate(zero, target, firstOrigin: 5, horizon: 2, level: 0.5, window: 4);
        // At origin 20, step 1 knows origins 5 … 19 (residuals 6 … 20), step 2 origins 5 … 18 (residuals 7 … 20); the latest 4 of each.
        ForecastIntervals at20 = rolling.At(20);
        Assert.Equal(4, at20.CalibrationCount);
        // Ranks ⌊5·0.25⌋ = 1 and ⌈5·0.75⌉ = 4 of 4: the smallest and largest.
        Assert.Equal([17.0, 17.0], at20.Lower);
        Assert.Equal([20.0, 20.0], at20.Upper);
        Assert.Contains("need at least 3 calibration origins at every step; the last step has 2 known at row 8", Assert.Throws<ArgumentException>(() => rolling.At(8)).Message, StringComparison.Ordinal);
        // The value after each origin is above every earlier residual: nothing is covered.
        Assert.Equal(0, rolling.Coverage([20, 25]).Covered);
        Assert.Equal(4, rolling.Coverage([20, 25]).Count);
        Assert.Contains("a calibration window of at least 3 origins; got 2", Assert.Throws<ArgumentException>(() => RollingForecastIntervals.Calibrate(zero, target, 5, 2, 0.5, 2)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void On_errors_whose_spread_doubles_rolling_intervals_keep_closer_to_nominal_than_a_fixed_calibration()
    {
        // Independent errors whose standard deviation grows from 1 to 3 over the series: a calibration fixed at the
        // start is too narrow later; one that moves with the origin follows the spread.
        var random = new Random(17);
        int n = 3000;
        double[] target = [.. Enumerable.Range(0, n).Select(t => (1 + 2.0 * t / n) * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))];
        ForecastMethod zero = (_, _, destination) => destination.Clear();
        int[] test = [.. Enumerable.Range(1500, 1490)];
        IntervalCoverage fixedCoverage = ForecastIntervals.Calibrate(zero, target, [.. Enumerable.Range(0, 200)], 4, 0.8).Coverage(zero, target, test);
        IntervalCoverage rolling = RollingForecastIntervals.Calibrate(zero, target, 0, 4, 0.8, window: 200).Coverage(test);
        Assert.True(fixedCoverage.Covered < 0.6, $"fixed {fixedCoverage.Covered}");
        Assert.InRange(rolling.Covered, 0.76, 0.84);
    }

    [Fact]
    public void Adaptive_intervals_widen_after_each_miss_by_the_rate_times_the_shortfall()
    {
        // The residual of origin o is o + 1, above every earlier one: every interval misses.
        ForecastMethod zero = (_, _, destination) => destination.Clear();
        double[] target = [.. Enumerable.Range(0, 30).Select(t => (double)t)];
        // At origin 12 the window holds origins 3 … 11, residuals 4 … 12. At 50 %: ranks ⌊10·0.25⌋ = 2 and ⌈10·0.75⌉ = 8.
        ForecastIntervals plain = RollingForecastIntervals.Calibrate(zero, target, 0, 1, 0.5, window: 9).At(12);
        Assert.Equal((5.0, 11.0), (plain.Lower[0], plain.Upper[0]));
        // The forecasts from origins 3 … 11 missed (origin 3 is the first with 3 residuals): the miscoverage aimed at
        // falls by 0.1·(1 − 0.5) nine times, to 0.05; ranks ⌊10·0.025⌋ = 0 and ⌈10·0.975⌉ = 10, clamped to 1 and 9.
        ForecastIntervals adaptive = RollingForecastIntervals.Calibrate(zero, target, 0, 1, 0.5, window: 9, adaptationRate: 0.1).At(12);
        Assert.Equal((4.0, 12.0), (adaptive.Lower[0], adaptive.Upper[0]));
        Assert.Equal(0.5, adaptive.Level);
    }

    [Fact]
    public void After_the_spread_of_the_errors_triples_adaptive_intervals_recover_the_nominal_coverage_sooner()
    {
        var random = new Random(23);
        int n = 4000;
        double[] target = [.. Enumerable.Range(0, n).Select(t => (t < 2000 ? 1 : 3) * Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))];
        ForecastMethod zero = (_, _, destination) => destination.Clear();
        int[] test = [.. Enumerable.Range(2000, 1990)];
        IntervalCoverage plain = RollingForecastIntervals.Calibrate(zero, target, 0, 4, 0.8, window: 1000).Coverage(test);
        IntervalCoverage adaptive = RollingForecastIntervals.Calibrate(zero, target, 0, 4, 0.8, window: 1000, adaptationRate: 0.05).Coverage(test);
        Assert.True(plain.Covered < 0.7, $"plain {plain.Covered}");
        Assert.InRange(adaptive.Covered, 0.77, 0.83);
    }
}
