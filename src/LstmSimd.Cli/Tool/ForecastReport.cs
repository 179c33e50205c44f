using System.Globalization;
using System.Text;
using LstmSimd.Cli.Plotting;
using LstmSimd.Forecasting;
using Spectre.Console;
using LstmSimd.IO;

namespace LstmSimd.Cli.Tool;

/// <summary>The LSTM and the baselines on one series: the methods (baselines fitted once) and their test scores.</summary>
internal sealed record ForecastComparisonResult(IReadOnlyList<NamedForecastMethod> Methods, IReadOnlyList<ForecastScore> Scores, IReadOnlyList<string> Notes, ForecastVerdict Verdict);

/// <summary>What train, forecast and demo show about a forecaster: test errors beside the baselines, a plot, a CSV.</summary>
internal static class ForecastReport
{
    /// <summary>Fits the baselines and scores them with the LSTM (always the first method) on the test split.</summary>
    public static ForecastComparisonResult Compare(LstmForecaster forecaster, ForecastSeries series)
    {
        ForecastSettings s = forecaster.Settings;
        IReadOnlyList<NamedForecastMethod> baselines = ForecastComparison.Baselines(series, s.SeasonLength, s.Window, out IReadOnlyList<string> notes);
        NamedForecastMethod[] methods = [new("LSTM", forecaster.AsMethod(series)), .. baselines];
        IReadOnlyList<ForecastScore> scores = ForecastComparison.Score(methods, series, s.SeasonLength, s.Horizon);
        return new ForecastComparisonResult(methods, scores, notes, ForecastComparison.Judge(scores[0], scores.Skip(1).ToArray()));
    }

    /// <summary>Prints the test-period table and the verdict.</summary>
    public static void PrintScores(LstmForecaster forecaster, ForecastSeries series, ForecastComparisonResult comparison)
    {
        ForecastSettings s = forecaster.Settings;
        IReadOnlyList<int> test = series.Split.Test;
        Console.WriteLine($"test: {test.Count} forecasts of {s.Horizon} steps of '{s.TargetColumn}', from origins {series.Times[test[0]]} … {series.Times[test[^1]]} (predicting {series.Times[series.Split.TestStart]} … {series.Times[test[^1] + s.Horizon]})");
        foreach (NamedForecastMethod method in comparison.Methods.Where(m => m.Fitted is not null)) Console.WriteLine(method.Fitted);
        foreach (string note in comparison.Notes) Console.WriteLine(note);
        var table = new Table().Border(TableBorder.Rounded).AddColumn("method").AddColumn(new TableColumn("MAE").RightAligned())
            .AddColumn(new TableColumn("RMSE").RightAligned()).AddColumn(new TableColumn("MASE").RightAligned()).AddColumn(new TableColumn("sMAPE %").RightAligned());
        foreach (ForecastScore score in comparison.Scores)
        {
            bool highlight = score == comparison.Scores[0] || score == comparison.Verdict.BestBaseline;
            table.AddRow(highlight ? $"[bold]{Markup.Escape(score.Name)}[/]" : Markup.Escape(score.Name), F(score.Mae, "F3"), F(score.Rmse, "F3"), F(score.Mase, "F3"), F(score.Smape, "F2"));
        }

        AnsiConsole.Write(table);
        Console.WriteLine($"MASE: the MAE over the mean absolute {(s.SeasonLength > 1 ? $"seasonal naive ({s.SeasonLength})" : "naive")} error on the rows before the test; the LSTM beats the baselines only with a MASE at least {ForecastComparison.BeatMargin * 100:0.#} % lower than the best one's");
        Console.WriteLine(comparison.Verdict.Text);
    }

    /// <summary>
    /// Calibrates the LSTM's prediction intervals at <paramref name="level"/> on the validation forecasts and prints what
    /// they achieve on the test split; null (and a line saying why) when there are too few validation forecasts.
    /// </summary>
    public static ForecastIntervals? PrintIntervals(LstmForecaster forecaster, ForecastSeries series, double level)
    {
        if (!(level is > 0 and < 1)) throw new ArgumentException($"--level must be between 0 and 1; got {level.ToString(CultureInfo.InvariantCulture)}.");
        ForecastMethod lstm = forecaster.AsMethod(series);
        ForecastIntervals intervals;
        try
        {
            intervals = ForecastIntervals.Calibrate(lstm, series.Target, series.Split.Validation, forecaster.Settings.Horizon, level);
        }
        catch (ArgumentException e)
        {
            Console.WriteLine($"no prediction intervals: {e.Message}");
            return null;
        }

        IntervalCoverage coverage = intervals.Coverage(lstm, series.Target, series.Split.Test);
        Console.WriteLine($"{F(100 * level, "0.#")} % prediction intervals (from the errors of the {intervals.CalibrationCount} validation forecasts, per step ahead): on the test split they hold {F(100 * coverage.Covered, "F1")} % of the values (nominal {F(100 * level, "0.#")} %), mean width {F(coverage.MeanWidth, "G3")}, interval score {F(coverage.IntervalScore, "G3")}");
        return intervals;
    }

    private static string F(double value, string format) => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>History, actual test values, forecasts made every horizon steps across the test period, and the forecast past the data's end.</summary>
    public static void Plot(LstmForecaster forecaster, ForecastSeries series, ForecastComparisonResult comparison, string path, string title, ForecastIntervals? intervals = null)
    {
        ForecastSettings s = forecaster.Settings;
        int n = series.Length, testStart = series.Split.TestStart, h = s.Horizon;
        (double[] x, string xLabel) = TimeAxis.From(series.Times, s.TimeColumn);
        string[] future = TimeAxis.Extend(series.Times, h);
        (double[] xFuture, _) = TimeAxis.From([.. series.Times, .. future], s.TimeColumn);
        int from = Math.Max(0, testStart - 2 * (n - testStart));
        var plot = new SvgPlot(title, xLabel, s.TargetColumn);
        plot.Shade(x[testStart], x[^1], "test period", "#1f77b4");
        plot.Line("actual", x[from..], series.Target[from..], "#222222");
        (double[] bx, double[] lstm) = Blocks(forecaster.AsMethod(series), series, x, h);
        // The two best baselines by test MASE: what the LSTM has to be compared with, without burying it in lines.
        string[] colors = ["#ff7f0e", "#2ca02c"];
        ForecastScore[] best = [.. comparison.Scores.Skip(1).OrderBy(b => b.Mase).Take(2)];
        for (int b = 0; b < best.Length; b++)
        {
            NamedForecastMethod method = comparison.Methods.Single(m => m.Name == best[b].Name);
            (_, double[] values) = Blocks(method.Method, series, x, h);
            plot.Line($"{method.Name} ({h} ahead)", bx, values, colors[b], dashed: true);
        }

        plot.Line($"LSTM forecast ({h} ahead, every {h} steps)", bx, lstm, "#1f77b4");
        var next = new double[h];
        forecaster.Predict(series, n - 1, next);
        plot.Line($"LSTM forecast past the data ({future[0]} …)", xFuture[(n - 1)..], [series.Target[^1], .. next], "#d62728", dashed: true);
        if (intervals is not null)
        {
            var (lower, upper) = (new double[h], new double[h]);
            intervals.Bounds(next, lower, upper);
            string band = $"{(100 * intervals.Level).ToString("0.#", CultureInfo.InvariantCulture)} % interval";
            plot.Line($"{band}, lower", xFuture[n..], lower, "#ff9896", dashed: true);
            plot.Line($"{band}, upper", xFuture[n..], upper, "#ff9896", dashed: true);
        }

        plot.Save(path);
    }

    /// <summary>CSV: every test forecast (origin, step, time, actual, each method), then the forecast past the data's end.</summary>
    public static void WriteCsv(LstmForecaster forecaster, ForecastSeries series, ForecastComparisonResult comparison, ForecastIntervals? intervals, string path)
    {
        ForecastSettings s = forecaster.Settings;
        IReadOnlyList<NamedForecastMethod> methods = comparison.Methods;
        var csv = new StringBuilder();
        csv.Append(CultureInfo.InvariantCulture, $"origin,step,{s.TimeColumn},actual");
        foreach (NamedForecastMethod method in methods) csv.Append(',').Append(Quote(method.Name));
        string levelText = intervals is null ? "" : (100 * intervals.Level).ToString("0.#", CultureInfo.InvariantCulture);
        if (intervals is not null) csv.Append(CultureInfo.InvariantCulture, $",LSTM lower {levelText}%,LSTM upper {levelText}%");
        csv.AppendLine();
        var (lower, upper) = (new double[s.Horizon], new double[s.Horizon]);
        var forecasts = methods.Select(_ => new double[s.Horizon]).ToArray();
        foreach (int origin in series.Split.Test.Append(series.Length - 1))
        {
            for (int m = 0; m < methods.Count; m++) methods[m].Method(series.Target, origin, forecasts[m]);
            intervals?.Bounds(forecasts[0], lower, upper); // the LSTM is the first method
            string[] future = origin + s.Horizon < series.Length ? [] : TimeAxis.Extend(series.Times, s.Horizon);
            for (int k = 0; k < s.Horizon; k++)
            {
                int row = origin + 1 + k;
                bool known = row < series.Length;
                csv.Append(CultureInfo.InvariantCulture, $"{series.Times[origin]},{k + 1},{(known ? series.Times[row] : future[row - series.Length])},{(known ? series.Target[row].ToString("R", CultureInfo.InvariantCulture) : "")}");
                foreach (double[] f in forecasts) csv.Append(',').Append(f[k].ToString("F4", CultureInfo.InvariantCulture));
                if (intervals is not null) csv.Append(CultureInfo.InvariantCulture, $",{lower[k].ToString("F4", CultureInfo.InvariantCulture)},{upper[k].ToString("F4", CultureInfo.InvariantCulture)}");
                csv.AppendLine();
            }
        }

        AtomicFile.WriteAllText(path, csv.ToString());
    }

    private static (double[] X, double[] Y) Blocks(ForecastMethod method, ForecastSeries series, double[] x, int horizon)
    {
        var xs = new List<double>();
        var ys = new List<double>();
        var forecast = new double[horizon];
        for (int origin = series.Split.Test[0]; origin + horizon < series.Length; origin += horizon)
        {
            method(series.Target, origin, forecast);
            for (int k = 0; k < horizon; k++)
            {
                xs.Add(x[origin + 1 + k]);
                ys.Add(forecast[k]);
            }

            xs.Add(x[origin + horizon]);
            ys.Add(double.NaN); // each block is its own forecast: break the line between blocks
        }

        return ([.. xs], [.. ys]);
    }

    private static string Quote(string text) => text.Contains(',', StringComparison.Ordinal) ? $"\"{text}\"" : text;
}
