using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>A forecast method with the name a results table shows, and how it was fitted (null when nothing was).</summary>
/// <param name="Name">"ETS(A,Ad,A)", "seasonal naive (12)".</param>
/// <param name="Method">The method.</param>
/// <param name="Fitted">What was estimated and on which rows, for the reader of the table; null for methods with nothing to estimate.</param>
public sealed record NamedForecastMethod(string Name, ForecastMethod Method, string? Fitted = null)
{
    /// <summary>
    /// Fits the method again on the target's rows 0 … lastRow and returns it (a backtest calls it every few origins);
    /// null for methods with nothing to estimate, or that are not fitted again (the LSTM).
    /// </summary>
    public Func<double[], int, ForecastMethod>? Refit { get; init; }
}

/// <summary>Whether a candidate (the LSTM) beats the baselines in a backtest, and the sentence that says so.</summary>
/// <param name="Beats">A Diebold–Mariano test finds the candidate's error lower than every baseline's (one-sided p below <see cref="ForecastComparison.SignificanceLevel"/> against each).</param>
/// <param name="Tie">Neither the candidate nor any baseline is significantly better.</param>
/// <param name="BestBaseline">The baseline with the lowest MASE (MAE when MASE is undefined), or the significantly better baseline with the lowest one when the candidate loses.</param>
/// <param name="MaseRatio">The candidate's MASE over <paramref name="BestBaseline"/>'s (their MAE when MASE is undefined).</param>
/// <param name="AgainstBest">The Diebold–Mariano test of the candidate against <paramref name="BestBaseline"/>; null when there are too few origins for one.</param>
/// <param name="Text">One sentence for a person.</param>
public sealed record ForecastVerdict(bool Beats, bool Tie, ForecastScore BestBaseline, double MaseRatio, DieboldMarianoResult? AgainstBest, string Text);

/// <summary>The baselines a forecaster is held against, scored the same way, and the verdict.</summary>
public static class ForecastComparison
{
    /// <summary>
    /// The one-sided p-value below which a Diebold–Mariano test counts a difference in error as holding across the
    /// origins rather than as chance: 0.05.
    /// </summary>
    public const double SignificanceLevel = 0.05;

    /// <summary>
    /// The baselines for <paramref name="series"/>: mean, naive, seasonal naive and seasonal naive + drift (with a season
    /// longer than 1; the drift method without one), a linear trend over <paramref name="window"/> rows, the exponential
    /// smoothing model <see cref="AutoEts"/> chooses by AICc (fitted by maximum likelihood on the rows before the test
    /// period, named "AutoETS: ETS(A,A,A)" after its choice; a refit chooses again), and the Theta method fitted on the same rows. A model that cannot be fitted (too few rows) is
    /// left out, and <paramref name="notes"/> says why.
    /// </summary>
    public static IReadOnlyList<NamedForecastMethod> Baselines(ForecastSeries series, int seasonLength, int window, out IReadOnlyList<string> notes)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentOutOfRangeException.ThrowIfLessThan(seasonLength, 1);
        var methods = new List<NamedForecastMethod> { new("mean", ForecastBaselines.Mean()), new("naive (last value)", ForecastBaselines.Naive()) };
        if (seasonLength > 1)
        {
            methods.Add(new($"seasonal naive ({seasonLength})", ForecastBaselines.SeasonalNaive(seasonLength)));
            methods.Add(new($"seasonal naive + drift ({seasonLength})", ForecastBaselines.SeasonalNaiveWithDrift(seasonLength)));
        }
        else
        {
            methods.Add(new("drift", ForecastBaselines.Drift()));
        }

        if (window >= 2) methods.Add(new($"linear trend (last {window})", ForecastBaselines.LinearTrend(window)));
        var problems = new List<string>();
        int fitRows = series.Split.TestStart;
        try
        {
            AutoEts auto = AutoEts.Fit(series.Target.AsSpan(0, fitRows), seasonLength);
            EtsModel model = auto.Model;
            methods.Add(new($"AutoETS: {model.Name}", ForecastBaselines.Ets(model), $"AutoETS fitted on the {fitRows} rows before the test chose {auto.Describe()}: {model.DescribeParameters()}; one-step RMSE {Math.Sqrt(model.SumOfSquaredErrors / fitRows).ToString("G3", CultureInfo.InvariantCulture)}; refits choose again")
            {
                Refit = (target, lastRow) => ForecastBaselines.Ets(AutoEts.Fit(target.AsSpan(0, lastRow + 1), seasonLength).Model),
            });
            problems.AddRange(auto.LeftOut.Select(line => $"AutoETS: {line}"));
        }
        catch (ArgumentException e)
        {
            problems.Add($"AutoETS left out: {e.Message}");
        }

        try
        {
            ThetaModel theta = ThetaModel.Fit(series.Target.AsSpan(0, fitRows), seasonLength);
            methods.Add(new("Theta", ForecastBaselines.Theta(theta), $"Theta fitted on the {fitRows} rows before the test: {theta.DescribeParameters()}")
            {
                Refit = (target, lastRow) => ForecastBaselines.Theta(ThetaModel.Fit(target.AsSpan(0, lastRow + 1), seasonLength)),
            });
        }
        catch (ArgumentException e)
        {
            problems.Add($"Theta left out: {e.Message}");
        }

        notes = problems;
        return methods;
    }

    /// <summary>
    /// A rolling-origin backtest of <paramref name="methods"/> over the test origins, refitting the methods that have a
    /// <see cref="NamedForecastMethod.Refit"/> every <paramref name="refitEvery"/> origins; MASE is scaled by the seasonal
    /// naive error on the rows before the test (undefined, NaN, when that error is 0).
    /// </summary>
    public static ForecastBacktest Backtest(IReadOnlyList<NamedForecastMethod> methods, ForecastSeries series, int seasonLength, int horizon, int refitEvery)
    {
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(series);
        double scale = ForecastScore.SeasonalNaiveScale(series.Target, series.Split.TestStart, seasonLength);
        return ForecastBacktest.Run(methods, series.Target, series.Split.Test, horizon, refitEvery, scale);
    }

    /// <summary>
    /// The verdict on method <paramref name="candidate"/> of <paramref name="backtest"/> against all its other methods, by
    /// Diebold–Mariano tests of the per-origin mean absolute errors: it beats them when its error is significantly
    /// lower (one-sided p &lt; <see cref="SignificanceLevel"/>) than every baseline's, loses when some baseline's is
    /// significantly lower than its own, and ties otherwise; with too few origins for the test, it is a tie. The
    /// sentence quotes MASE, or MAE when MASE is undefined (the in-sample rows repeat exactly every season).
    /// </summary>
    public static ForecastVerdict Judge(ForecastBacktest backtest, int candidate = 0)
    {
        ArgumentNullException.ThrowIfNull(backtest);
        return Judge(backtest, candidate, [.. Enumerable.Range(0, backtest.Names.Count).Where(m => m != candidate)]);
    }

    /// <summary>
    /// <see cref="Judge(ForecastBacktest, int)"/> against the methods <paramref name="baselines"/> only (indices into
    /// <see cref="ForecastBacktest.Names"/>): for a backtest that holds several candidates beside the baselines.
    /// </summary>
    /// <exception cref="ArgumentException">No baselines, the candidate among them, or an index out of range.</exception>
    public static ForecastVerdict Judge(ForecastBacktest backtest, int candidate, IReadOnlyList<int> baselines)
    {
        ArgumentNullException.ThrowIfNull(backtest);
        ArgumentNullException.ThrowIfNull(baselines);
        ArgumentOutOfRangeException.ThrowIfNegative(candidate);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(candidate, backtest.Names.Count);
        if (baselines.Count == 0) throw new ArgumentException("Judging needs at least one baseline beside the candidate.", nameof(backtest));
        if (baselines.Any(b => b == candidate || (uint)b >= (uint)backtest.Names.Count))
            throw new ArgumentException($"The baselines must be methods of the backtest other than the candidate ({candidate}); got {string.Join(", ", baselines)}.", nameof(baselines));
        IReadOnlyList<ForecastScore> scores = backtest.Scores;
        bool byMase = baselines.Append(candidate).All(m => double.IsFinite(scores[m].Mase));
        string metric = byMase ? "MASE" : "MAE (MASE is undefined: the in-sample rows repeat exactly every season)";
        double Error(int m) => byMase ? scores[m].Mase : scores[m].Mae;
        string Value(int m) => Error(m).ToString("F3", CultureInfo.InvariantCulture);
        string name = scores[candidate].Name;
        int best = baselines.MinBy(Error);
        int origins = backtest.Origins.Count;
        if (!backtest.CanCompare)
            return new ForecastVerdict(false, true, scores[best], Error(candidate) / Error(best), null,
                $"a tie: {origins} test origins are too few to tell whether the {name}'s {metric} {Value(candidate)} and the best baseline's, {scores[best].Name} ({Value(best)}), differ beyond chance (a Diebold–Mariano test at horizon {backtest.OverlappingOrigins} needs more than {2 * backtest.OverlappingOrigins - 1})");

        var tests = baselines.ToDictionary(b => b, b => backtest.Compare(candidate, b));
        int[] better = [.. baselines.Where(b => tests[b].PValueRivalBetter < SignificanceLevel).OrderBy(Error)];
        if (baselines.All(b => tests[b].PValueCandidateBetter < SignificanceLevel))
        {
            double ratio = Error(candidate) / Error(best);
            return new ForecastVerdict(true, false, scores[best], ratio, tests[best],
                $"the {name} beats every baseline: {metric} {Value(candidate)} against {Value(best)} for the best, {scores[best].Name} ({Percent(1 - ratio)} lower; Diebold–Mariano p {PValue(tests[best].PValueCandidateBetter)} over {origins} origins, below {SignificanceLevel.ToString(CultureInfo.InvariantCulture)} against every baseline)");
        }

        if (better.Length > 0)
        {
            int winner = better[0];
            double ratio = Error(candidate) / Error(winner);
            return new ForecastVerdict(false, false, scores[winner], ratio, tests[winner],
                $"the {name} does NOT beat the best baseline: {scores[winner].Name} has {metric} {Value(winner)}, the {name} {Value(candidate)} ({Percent(ratio - 1)} higher; Diebold–Mariano p {PValue(tests[winner].PValueRivalBetter)} over {origins} origins)");
        }

        // The baseline the candidate is least clearly better than is the one that keeps it from winning.
        int blocking = baselines.MaxBy(b => tests[b].PValueCandidateBetter);
        return new ForecastVerdict(false, true, scores[best], Error(candidate) / Error(best), tests[best],
            $"a tie: the {name}'s {metric} {Value(candidate)} against {Value(best)} for the best baseline, {scores[best].Name}; no difference holds across the {origins} origins (against {scores[blocking].Name}, Diebold–Mariano p {PValue(tests[blocking].PValueCandidateBetter)} that the {name} is better, p {PValue(tests[blocking].PValueRivalBetter)} that it is worse); neither wins");
    }

    /// <summary>"= 0.012", "&lt; 0.001": a p-value as a sentence quotes it.</summary>
    internal static string PValue(double p) => p < 0.001 ? "< 0.001" : "= " + p.ToString("F3", CultureInfo.InvariantCulture);

    /// <summary>"2 %", "66.3 %": a share as people read it.</summary>
    internal static string Percent(double share) => (100 * share).ToString("0.#", CultureInfo.InvariantCulture) + " %";
}
