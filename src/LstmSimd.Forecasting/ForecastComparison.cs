using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>A forecast method with the name a results table shows, and how it was fitted (null when nothing was).</summary>
/// <param name="Name">"ETS(A,Ad,A)", "seasonal naive (12)".</param>
/// <param name="Method">The method.</param>
/// <param name="Fitted">What was estimated and on which rows, for the reader of the table; null for methods with nothing to estimate.</param>
public sealed record NamedForecastMethod(string Name, ForecastMethod Method, string? Fitted = null);

/// <summary>Whether a candidate (the LSTM) beats the best baseline on the test split, and the sentence that says so.</summary>
/// <param name="Beats">The candidate's MASE (MAE when MASE is undefined) is at least <see cref="ForecastComparison.BeatMargin"/> lower than every baseline's.</param>
/// <param name="Tie">Neither side wins by the margin.</param>
/// <param name="BestBaseline">The baseline with the lowest MASE.</param>
/// <param name="MaseRatio">The candidate's MASE over the best baseline's (their MAE when MASE is undefined).</param>
/// <param name="Text">One sentence for a person.</param>
public sealed record ForecastVerdict(bool Beats, bool Tie, ForecastScore BestBaseline, double MaseRatio, string Text);

/// <summary>The baselines a forecaster is held against, scored the same way, and the verdict.</summary>
public static class ForecastComparison
{
    /// <summary>
    /// How much lower the candidate's MASE must be than the best baseline's for the candidate to "beat" it: 2 %. A
    /// smaller difference on one test period is within what another seed or another test period changes, so it is
    /// called a tie rather than a win.
    /// </summary>
    public const double BeatMargin = 0.02;

    /// <summary>
    /// The baselines for <paramref name="series"/>: mean, naive, seasonal naive and seasonal naive + drift (with a season
    /// longer than 1; the drift method without one), a linear trend over <paramref name="window"/> rows, and ETS with an
    /// additive and a damped trend (and an additive season when <paramref name="seasonLength"/> &gt; 1), each ETS model
    /// fitted by maximum likelihood on the rows before the test period. A model that cannot be fitted (too few rows) is
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
        foreach (EtsTrend trend in (EtsTrend[])[EtsTrend.Additive, EtsTrend.DampedAdditive])
        {
            try
            {
                EtsModel model = EtsModel.Fit(series.Target.AsSpan(0, fitRows), trend, seasonLength);
                methods.Add(new(model.Name, ForecastBaselines.Ets(model), $"{model.Name} fitted on the {fitRows} rows before the test: {model.DescribeParameters()}; one-step RMSE {Math.Sqrt(model.SumOfSquaredErrors / fitRows).ToString("G3", CultureInfo.InvariantCulture)}, AICc {model.Aicc.ToString("F1", CultureInfo.InvariantCulture)}"));
            }
            catch (ArgumentException e)
            {
                problems.Add($"{EtsModel.Describe(trend, seasonLength)} left out: {e.Message}");
            }
        }

        notes = problems;
        return methods;
    }

    /// <summary>Scores each method on the test origins, MASE scaled by the seasonal naive error on the rows before the test (NaN when that error is 0).</summary>
    public static IReadOnlyList<ForecastScore> Score(IEnumerable<NamedForecastMethod> methods, ForecastSeries series, int seasonLength, int horizon)
    {
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(series);
        double scale = ForecastScore.SeasonalNaiveScale(series.Target, series.Split.TestStart, seasonLength);
        return [.. methods.Select(m => ForecastScore.Evaluate(m.Name, m.Method, series.Target, series.Split.Test, horizon, scale))];
    }

    /// <summary>
    /// The verdict on <paramref name="candidate"/> against <paramref name="baselines"/> by MASE: it beats them when its
    /// MASE is at most (1 − <see cref="BeatMargin"/>) times the best baseline's, loses when the best baseline's is at
    /// most (1 − margin) times its own, and ties otherwise. When MASE is undefined (the in-sample rows repeat exactly
    /// every season), the same rule is applied to the MAE, and the sentence says so.
    /// </summary>
    public static ForecastVerdict Judge(ForecastScore candidate, IReadOnlyList<ForecastScore> baselines)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        ArgumentNullException.ThrowIfNull(baselines);
        if (baselines.Count == 0) throw new ArgumentException("Judging needs at least one baseline.", nameof(baselines));
        bool byMase = double.IsFinite(candidate.Mase) && baselines.All(b => double.IsFinite(b.Mase));
        string metric = byMase ? "MASE" : "MAE (MASE is undefined: the in-sample rows repeat exactly every season)";
        double Error(ForecastScore s) => byMase ? s.Mase : s.Mae;
        ForecastScore best = baselines.MinBy(Error)!;
        double ratio = Error(candidate) / Error(best);
        string margin = Percent(BeatMargin);
        string Mase(ForecastScore s) => Error(s).ToString("F3", CultureInfo.InvariantCulture);
        if (ratio <= 1 - BeatMargin)
            return new ForecastVerdict(true, false, best, ratio,
                $"the {candidate.Name} beats every baseline: {metric} {Mase(candidate)} against {Mase(best)} for the best, {best.Name} ({Percent(1 - ratio)} lower; the bar is {margin})");
        if (Error(best) <= (1 - BeatMargin) * Error(candidate))
            return new ForecastVerdict(false, false, best, ratio,
                $"the {candidate.Name} does NOT beat the best baseline: {best.Name} has {metric} {Mase(best)}, the {candidate.Name} {Mase(candidate)} ({Percent(ratio - 1)} higher)");
        return new ForecastVerdict(false, true, best, ratio,
            $"a tie: the {candidate.Name}'s {metric} {Mase(candidate)} is within {margin} of the best baseline, {best.Name} ({Mase(best)}); neither wins");
    }

    /// <summary>"2 %", "66.3 %": a share as people read it.</summary>
    internal static string Percent(double share) => (100 * share).ToString("0.#", CultureInfo.InvariantCulture) + " %";
}
