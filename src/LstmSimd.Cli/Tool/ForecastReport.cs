using System.Globalization;
using System.Text;
using LstmSimd.Cli.Plotting;
using LstmSimd.Forecasting;
using Spectre.Console;
using LstmSimd.IO;

namespace LstmSimd.Cli.Tool;

/// <summary>What train, forecast and demo show about a forecaster: test errors beside the baselines, a plot, a CSV.</summary>
internal static class ForecastReport
{
    public static IReadOnlyList<(string Name, ForecastMethod Method)> Methods(LstmForecaster forecaster, ForecastSeries series) =>
    [
        ("LSTM", forecaster.AsMethod(series)),
        ($"seasonal naive ({forecaster.Settings.SeasonLength})", ForecastBaselines.SeasonalNaive(forecaster.Settings.SeasonLength)),
        ($"seasonal naive + drift ({forecaster.Settings.SeasonLength})", ForecastBaselines.SeasonalNaiveWithDrift(forecaster.Settings.SeasonLength)),
        ($"linear trend (last {forecaster.Settings.Window})", ForecastBaselines.LinearTrend(forecaster.Settings.Window)),
        ("naive (last value)", ForecastBaselines.Naive()),
    ];

    public static IReadOnlyList<ForecastScore> Scores(LstmForecaster forecaster, ForecastSeries series) =>
        [.. Methods(forecaster, series).Select(m => ForecastScore.Evaluate(m.Name, m.Method, series.Target, series.Split.Test, forecaster.Settings.Horizon))];

    /// <summary>Prints the test-period table; returns whether the LSTM has the lowest RMSE.</summary>
    public static bool PrintScores(LstmForecaster forecaster, ForecastSeries series, IReadOnlyList<ForecastScore> scores)
    {
        ForecastSettings s = forecaster.Settings;
        IReadOnlyList<int> test = series.Split.Test;
        Console.WriteLine($"test: {test.Count} forecasts of {s.Horizon} steps of '{s.TargetColumn}', from origins {series.Times[test[0]]} … {series.Times[test[^1]]} (predicting {series.Times[series.Split.TestStart]} … {series.Times[test[^1] + s.Horizon]})");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("method").AddColumn(new TableColumn("RMSE").RightAligned())
            .AddColumn(new TableColumn("MAE").RightAligned()).AddColumn(new TableColumn("RMSE vs LSTM").RightAligned());
        double lstm = scores[0].Rmse;
        foreach (ForecastScore score in scores)
        {
            string name = score == scores[0] ? $"[bold]{score.Name}[/]" : Markup.Escape(score.Name);
            table.AddRow(name, score.Rmse.ToString("F3", CultureInfo.InvariantCulture), score.Mae.ToString("F3", CultureInfo.InvariantCulture),
                score == scores[0] ? "1.00×" : (score.Rmse / lstm).ToString("F2", CultureInfo.InvariantCulture) + "×");
        }

        AnsiConsole.Write(table);
        string[] beaten = [.. scores.Skip(1).Where(b => lstm < b.Rmse).Select(b => b.Name)], unbeaten = [.. scores.Skip(1).Where(b => !(lstm < b.Rmse)).Select(b => b.Name)];
        Console.WriteLine(unbeaten.Length == 0
            ? "the LSTM has the lowest RMSE"
            : $"the LSTM beats {(beaten.Length == 0 ? "no baseline" : string.Join(", ", beaten))} on RMSE, but NOT {string.Join(", ", unbeaten)}");
        return unbeaten.Length == 0;
    }

    /// <summary>History, actual test values, forecasts made every horizon steps across the test period, and the forecast past the data's end.</summary>
    public static void Plot(LstmForecaster forecaster, ForecastSeries series, string path, string title)
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
        (_, double[] seasonal) = Blocks(ForecastBaselines.SeasonalNaive(s.SeasonLength), series, x, h);
        (_, double[] trend) = Blocks(ForecastBaselines.LinearTrend(s.Window), series, x, h);
        (_, double[] drift) = Blocks(ForecastBaselines.SeasonalNaiveWithDrift(s.SeasonLength), series, x, h);
        plot.Line($"seasonal naive ({h} ahead)", bx, seasonal, "#ff7f0e", dashed: true);
        plot.Line($"linear trend ({h} ahead)", bx, trend, "#2ca02c", dashed: true);
        plot.Line($"seasonal naive + drift ({h} ahead)", bx, drift, "#9467bd", dashed: true);
        plot.Line($"LSTM forecast ({h} ahead, every {h} steps)", bx, lstm, "#1f77b4");
        var next = new double[h];
        forecaster.Predict(series, n - 1, next);
        plot.Line($"LSTM forecast past the data ({future[0]} …)", xFuture[(n - 1)..], [series.Target[^1], .. next], "#d62728", dashed: true);
        plot.Save(path);
    }

    /// <summary>CSV: every test forecast (origin, step, time, actual, each method), then the forecast past the data's end.</summary>
    public static void WriteCsv(LstmForecaster forecaster, ForecastSeries series, string path)
    {
        ForecastSettings s = forecaster.Settings;
        IReadOnlyList<(string Name, ForecastMethod Method)> methods = Methods(forecaster, series);
        var csv = new StringBuilder();
        csv.Append(CultureInfo.InvariantCulture, $"origin,step,{s.TimeColumn},actual");
        foreach ((string name, _) in methods) csv.Append(',').Append(Quote(name));
        csv.AppendLine();
        var forecasts = methods.Select(_ => new double[s.Horizon]).ToArray();
        foreach (int origin in series.Split.Test.Append(series.Length - 1))
        {
            for (int m = 0; m < methods.Count; m++) methods[m].Method(series.Target, origin, forecasts[m]);
            string[] future = origin + s.Horizon < series.Length ? [] : TimeAxis.Extend(series.Times, s.Horizon);
            for (int k = 0; k < s.Horizon; k++)
            {
                int row = origin + 1 + k;
                bool known = row < series.Length;
                csv.Append(CultureInfo.InvariantCulture, $"{series.Times[origin]},{k + 1},{(known ? series.Times[row] : future[row - series.Length])},{(known ? series.Target[row].ToString("R", CultureInfo.InvariantCulture) : "")}");
                foreach (double[] f in forecasts) csv.Append(',').Append(f[k].ToString("F4", CultureInfo.InvariantCulture));
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
