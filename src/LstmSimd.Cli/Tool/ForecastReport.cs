using System.Globalization;
using System.Text;
using LstmSimd.Cli.Plotting;
using LstmSimd.Forecasting;
using Spectre.Console;
using LstmSimd.IO;

namespace LstmSimd.Cli.Tool;

/// <summary>The LSTM and the baselines on one series: the methods, their rolling-origin backtest over the test period and the verdict.</summary>
internal sealed record ForecastComparisonResult(IReadOnlyList<NamedForecastMethod> Methods, ForecastBacktest Backtest, IReadOnlyList<string> Notes, ForecastVerdict Verdict, RefittingLstm? Refitting = null)
{
    public IReadOnlyList<ForecastScore> Scores => Backtest.Scores;
}

/// <summary>What train, forecast and demo show about a forecaster: test errors beside the baselines, a plot, a CSV.</summary>
internal static class ForecastReport
{
    /// <summary>The intervals' default adaptation rate γ.</summary>
    public const double DefaultAdaptationRate = 0.05;

    /// <summary>
    /// Backtests the LSTM (always the first method) and the baselines from every test origin, refitting the ETS models
    /// every <paramref name="refitEvery"/> origins (default: every horizon, or often enough for ten fits when there are
    /// more than ten horizons of origins), and judges the LSTM by Diebold–Mariano tests. With <paramref name="refitting"/>
    /// the LSTM is trained again at the same origins (warm-started, on the rows up to each).
    /// </summary>
    public static ForecastComparisonResult Compare(LstmForecaster forecaster, ForecastSeries series, int? refitEvery = null, RefittingLstm? refitting = null)
    {
        ForecastSettings s = forecaster.Settings;
        if (refitEvery is < 1) throw new ArgumentException($"--refit-every must be at least 1 origin; got {refitEvery}.");
        IReadOnlyList<NamedForecastMethod> baselines = ForecastComparison.Baselines(series, s.SeasonLength, s.Window, out IReadOnlyList<string> notes);
        NamedForecastMethod[] methods = [refitting?.AsNamedMethod() ?? new("LSTM", forecaster.AsMethod(series)), .. baselines];
        // By default every horizon, but at most about ten fits: each ETS fit reads every row before its origin.
        int every = refitEvery ?? Math.Max(s.Horizon, (series.Split.Test.Count + 9) / 10);
        ForecastBacktest backtest = ForecastComparison.Backtest(methods, series, s.SeasonLength, s.Horizon, every);
        return new ForecastComparisonResult(methods, backtest, notes, ForecastComparison.Judge(backtest), refitting);
    }

    /// <summary>Prints the test-period table and the verdict.</summary>
    public static void PrintScores(LstmForecaster forecaster, ForecastSeries series, ForecastComparisonResult comparison)
    {
        ForecastSettings s = forecaster.Settings;
        IReadOnlyList<int> test = series.Split.Test;
        ForecastBacktest backtest = comparison.Backtest;
        Console.WriteLine($"test: rolling-origin backtest, {test.Count} forecasts of {s.Horizon} steps of '{s.TargetColumn}', from origins {series.Times[test[0]]} … {series.Times[test[^1]]} (predicting {series.Times[series.Split.TestStart]} … {series.Times[test[^1] + s.Horizon]}); each forecast sees every row up to its origin; AutoETS (choosing again) and Theta refitted every {backtest.RefitEvery} origins ({backtest.Refits} fits); {DescribeLstmTraining(comparison.Refitting)}");
        foreach (NamedForecastMethod method in comparison.Methods.Where(m => m.Fitted is not null)) Console.WriteLine(method.Fitted);
        foreach (string note in comparison.Notes) Console.WriteLine(note);
        PrintTable(comparison.Scores, score => score == comparison.Scores[0] || score == comparison.Verdict.BestBaseline);
        Console.WriteLine($"MASE: the MAE over the mean absolute {(s.SeasonLength > 1 ? $"seasonal naive ({s.SeasonLength})" : "naive")} error on the rows before the test; the LSTM beats the baselines only when a Diebold–Mariano test (Harvey–Leybourne–Newbold corrected, horizon {backtest.OverlappingOrigins}) of its per-origin MAE against each baseline's gives p < {ForecastComparison.SignificanceLevel.ToString(CultureInfo.InvariantCulture)}");
        Console.WriteLine(comparison.Verdict.Text);
    }

    /// <summary>
    /// The LSTM's prediction intervals at <paramref name="level"/>, calibrated at each origin on the latest forecasts
    /// whose values were known there (as many as there are validation forecasts), the level adapting to misses at
    /// <paramref name="adaptationRate"/>, and what they achieve on the test origins; null (and a line saying why) when there are too few forecasts to calibrate on.
    /// </summary>
    public static RollingForecastIntervals? PrintIntervals(LstmForecaster forecaster, ForecastSeries series, double level, double adaptationRate)
    {
        if (!(level is > 0 and < 1)) throw new ArgumentException($"--level must be between 0 and 1; got {level.ToString(CultureInfo.InvariantCulture)}.");
        if (!(adaptationRate is >= 0 and <= 1)) throw new ArgumentException($"--adapt must be between 0 and 1; got {adaptationRate.ToString(CultureInfo.InvariantCulture)}.");
        ForecastMethod lstm = forecaster.AsMethod(series);
        int window = series.Split.Validation.Count;
        RollingForecastIntervals intervals;
        IntervalCoverage coverage;
        try
        {
            intervals = RollingForecastIntervals.Calibrate(lstm, series.Target, series.Split.Validation[0], forecaster.Settings.Horizon, level, window, adaptationRate);
            coverage = intervals.Coverage(series.Split.Test);
        }
        catch (ArgumentException e)
        {
            Console.WriteLine($"no prediction intervals: {e.Message}");
            return null;
        }

        string adapting = adaptationRate > 0 ? $", level adapted to misses at rate {F(adaptationRate, "0.###")}" : "";
        Console.WriteLine($"{F(100 * level, "0.#")} % prediction intervals (split conformal per step ahead, from the errors of the latest {window} forecasts whose values were known at each origin{adapting}): on the {series.Split.Test.Count} test origins they hold {F(100 * coverage.Covered, "F1")} % of the values (nominal {F(100 * level, "0.#")} %), mean width {F(coverage.MeanWidth, "G3")}, interval score {F(coverage.IntervalScore, "G3")}");
        return intervals;
    }

    /// <summary>Each method's MAE, RMSE, MASE and sMAPE, the <paramref name="highlight"/>ed ones in bold.</summary>
    public static void PrintTable(IReadOnlyList<ForecastScore> scores, Func<ForecastScore, bool> highlight)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("method").AddColumn(new TableColumn("MAE").RightAligned())
            .AddColumn(new TableColumn("RMSE").RightAligned()).AddColumn(new TableColumn("MASE").RightAligned()).AddColumn(new TableColumn("sMAPE %").RightAligned());
        foreach (ForecastScore score in scores)
            table.AddRow(highlight(score) ? $"[bold]{Markup.Escape(score.Name)}[/]" : Markup.Escape(score.Name), F(score.Mae, "F3"), F(score.Rmse, "F3"), F(score.Mase, "F3"), F(score.Smape, "F2"));
        AnsiConsole.Write(table);
    }

    /// <summary>How the backtest's LSTM was trained, for the line above the table.</summary>
    internal static string DescribeLstmTraining(RefittingLstm? refitting) => refitting is null
        ? "the LSTM trained once, on the rows before the test"
        : $"the LSTM trained again at the same origins, warm-started from its latest weights for {refitting.Epochs} epoch{(refitting.Epochs == 1 ? "" : "s")} on the rows up to the origin (the latest {F(100 * refitting.Current.Settings.ValidationFraction, "0.#")} % of them validating)";

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>History, actual test values, forecasts made every horizon steps across the test period, and the forecast past the data's end.</summary>
    public static void Plot(LstmForecaster forecaster, ForecastSeries series, ForecastComparisonResult comparison, string path, string title, RollingForecastIntervals? rolling = null)
    {
        ForecastSettings s = forecaster.Settings;
        int n = series.Length, testStart = series.Split.TestStart, h = s.Horizon;
        (double[] x, string xLabel) = TimeAxis.From(series.Times, s.TimeColumn);
        string[] future = TimeAxis.Extend(series.Times, h);
        (double[] xFuture, _) = TimeAxis.From([.. series.Times, .. future], s.TimeColumn);
        int from = Math.Max(0, testStart - 2 * (n - testStart));
        var plot = new LinePlot(title, xLabel, s.TargetColumn);
        plot.Shade(x[testStart], x[^1], "test period", "#1f77b4");
        plot.Line("actual", x[from..], series.Target[from..], "#222222");
        (double[] bx, double[] lstm) = Blocks(comparison.Backtest, 0, x);
        // The two best baselines by test MASE: what the LSTM has to be compared with, without burying it in lines.
        string[] colors = ["#ff7f0e", "#2ca02c"];
        int[] best = [.. Enumerable.Range(1, comparison.Scores.Count - 1).OrderBy(m => comparison.Scores[m].Mase).Take(2)];
        for (int b = 0; b < best.Length; b++)
        {
            (_, double[] values) = Blocks(comparison.Backtest, best[b], x);
            plot.Line($"{comparison.Scores[best[b]].Name} ({h} ahead)", bx, values, colors[b], dashed: true);
        }

        plot.Line($"LSTM forecast ({h} ahead, every {h} steps)", bx, lstm, "#1f77b4");
        var next = new double[h];
        if (!forecaster.CanForecastPastEnd)
        {
            plot.Save(path); // no forecast past the data: the covariates' future values are not in it
            return;
        }

        forecaster.Predict(series, n - 1, next);
        plot.Line($"LSTM forecast past the data ({future[0]} …)", xFuture[(n - 1)..], [series.Target[^1], .. next], "#d62728", dashed: true);
        if (rolling is not null)
        {
            ForecastIntervals intervals = rolling.At(n - 1);
            var (lower, upper) = (new double[h], new double[h]);
            intervals.Bounds(next, lower, upper);
            string band = $"{(100 * intervals.Level).ToString("0.#", CultureInfo.InvariantCulture)} % interval";
            plot.Line($"{band}, lower", xFuture[n..], lower, "#ff9896", dashed: true);
            plot.Line($"{band}, upper", xFuture[n..], upper, "#ff9896", dashed: true);
        }

        plot.Save(path);
    }

    /// <summary>
    /// CSV: every backtest forecast (origin, step, time, actual, each method), then the forecast past the data's end
    /// (the ETS models fitted on every row).
    /// </summary>
    public static void WriteCsv(LstmForecaster forecaster, ForecastSeries series, ForecastComparisonResult comparison, RollingForecastIntervals? intervals, string path)
    {
        ForecastSettings s = forecaster.Settings;
        IReadOnlyList<NamedForecastMethod> methods = comparison.Methods;
        ForecastBacktest backtest = comparison.Backtest;
        var csv = new StringBuilder();
        csv.Append(CultureInfo.InvariantCulture, $"origin,step,{s.TimeColumn},actual");
        foreach (NamedForecastMethod method in methods) csv.Append(',').Append(Quote(method.Name));
        string levelText = intervals is null ? "" : (100 * intervals.Level).ToString("0.#", CultureInfo.InvariantCulture);
        if (intervals is not null) csv.Append(CultureInfo.InvariantCulture, $",LSTM lower {levelText}%,LSTM upper {levelText}%");
        csv.AppendLine();
        int n = series.Length;
        var future = methods.Select(_ => new double[s.Horizon]).ToArray();
        for (int m = 0; m < methods.Count && forecaster.CanForecastPastEnd; m++)
            (methods[m].Refit?.Invoke(series.Target, n - 1) ?? methods[m].Method)(series.Target, n - 1, future[m]);
        string[] futureTimes = TimeAxis.Extend(series.Times, s.Horizon);
        for (int i = 0; i <= backtest.Origins.Count - (forecaster.CanForecastPastEnd ? 0 : 1); i++)
        {
            bool known = i < backtest.Origins.Count;
            int origin = known ? backtest.Origins[i] : n - 1;
            ForecastIntervals? bounds = intervals?.At(origin);
            for (int step = 1; step <= s.Horizon; step++)
            {
                double lstm = known ? backtest.Forecast(0, i, step) : future[0][step - 1];
                csv.Append(CultureInfo.InvariantCulture, $"{series.Times[origin]},{step},{(known ? series.Times[origin + step] : futureTimes[step - 1])},{(known ? backtest.Actual(i, step).ToString("R", CultureInfo.InvariantCulture) : "")}");
                for (int m = 0; m < methods.Count; m++) csv.Append(',').Append((known ? backtest.Forecast(m, i, step) : future[m][step - 1]).ToString("F4", CultureInfo.InvariantCulture));
                if (bounds is not null)
                    csv.Append(CultureInfo.InvariantCulture, $",{(lstm + bounds.Lower[step - 1]).ToString("F4", CultureInfo.InvariantCulture)},{(lstm + bounds.Upper[step - 1]).ToString("F4", CultureInfo.InvariantCulture)}");
                csv.AppendLine();
            }
        }

        AtomicFile.WriteAllText(path, csv.ToString());
    }

    /// <summary>The backtest's forecasts from every horizon-th origin, each block its own line segment.</summary>
    private static (double[] X, double[] Y) Blocks(ForecastBacktest backtest, int method, double[] x)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        int horizon = backtest.Horizon;
        for (int i = 0; i < backtest.Origins.Count; i += horizon)
        {
            int origin = backtest.Origins[i];
            for (int step = 1; step <= horizon; step++)
            {
                xs.Add(x[origin + step]);
                ys.Add(backtest.Forecast(method, i, step));
            }

            xs.Add(x[origin + horizon]);
            ys.Add(double.NaN); // each block is its own forecast: break the line between blocks
        }

        return ([.. xs], [.. ys]);
    }

    private static string Quote(string text) => text.Contains(',', StringComparison.Ordinal) ? $"\"{text}\"" : text;
}
