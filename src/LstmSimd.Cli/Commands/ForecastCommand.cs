using System.CommandLine;
using LstmSimd.Cli.Tool;
using LstmSimd.Forecasting;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd forecast</c>: a trained forecaster's test error beside the baselines, its forecasts as CSV and a plot.</summary>
internal static class ForecastCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "A forecaster checkpoint written by 'lstmsimd train', or one over many series written by 'lstmsimd backtest --save' (each series' backtest, intervals and next forecasts; --series chooses the one plotted).", DefaultValueFactory = _ => new FileInfo("forecaster.lstm") };
        var data = new Option<FileInfo?>("--data") { Description = "CSV with the columns the forecaster was trained on (default: the file it was trained on, remembered in the checkpoint)." };
        var testFrom = new Option<string?>("--test-from") { Description = "Override the test period's first time (default: the one used in training)." };
        var output = new Option<FileInfo>("--output", "-o") { Description = "CSV of every test forecast and the forecast past the data's end.", DefaultValueFactory = _ => new FileInfo("forecast.csv") };
        var plot = new Option<FileInfo>("--plot") { Description = "Plot of history, forecasts, intervals and actual values: SVG, or PNG when the name ends in .png.", DefaultValueFactory = _ => new FileInfo("forecast.svg") };
        var check = new Option<bool>("--check") { Description = "Exit with code 1 unless the LSTM beats every baseline (its per-origin error lower than each baseline's by a Diebold–Mariano test, p < 0.05)." };
        var refitEvery = new Option<int?>("--refit-every") { Description = "Fit AutoETS (choosing its model again) and Theta again on the rows up to the origin every this many test origins (default: the horizon, or a tenth of the test origins when that is more)." };
        var refitLstm = new Option<int?>("--refit-lstm") { Description = "Train the LSTM again wherever AutoETS and Theta are refitted: warm-started from its latest weights for this many epochs on the rows up to the origin (Adam, learning rate 0.003, batch 32, seed 1; default: the checkpoint's LSTM throughout)." };
        var seriesName = new Option<string?>("--series") { Description = "With a model over many series: the series to plot (default: the first)." };
        var level = new Option<double>("--level") { Description = "Nominal coverage of the LSTM's prediction intervals, calibrated per step ahead at each origin on the errors of the latest forecasts known there (as many as the validation forecasts) and measured on the test origins.", DefaultValueFactory = _ => 0.8 };
        var adapt = new Option<double>("--adapt") { Description = "How fast the intervals' level adapts to misses (adaptive conformal inference's γ; 0 keeps it nominal).", DefaultValueFactory = _ => ForecastReport.DefaultAdaptationRate };
        Option<string> weights = WeightsOption.Create("How the model stores its weight matrices for inference (the checkpoint's fp32 weights are rounded when it is packed)");
        var command = new Command("forecast", "Forecast with a trained model: test MAE, RMSE, MASE and sMAPE beside mean, naive, seasonal naive (+ drift), linear-trend, AutoETS and Theta baselines, a CSV of forecasts and a plot (SVG or PNG).")
        {
            model, data, testFrom, output, plot, check, refitEvery, refitLstm, level, adapt, weights, seriesName,
        };
        command.SetAction(parse => ToolExit.Run("forecast", () =>
        {
            WeightFormat format = WeightsOption.Parse(parse.GetValue(weights));
            int? refitEpochs = parse.GetValue(refitLstm);
            if (refitEpochs is < 1) throw new ArgumentException($"--refit-lstm must be at least 1 epoch; got {refitEpochs}.");
            string csv = parse.GetValue(output)!.FullName, svg = parse.GetValue(plot)!.FullName;
            OutputPaths.RefuseClashes([("--model", parse.GetValue(model)!.FullName), .. GivenData(parse.GetValue(data))], [("--output", csv), ("--plot", svg)]);
            if (GlobalCheckpoints.IsGlobal(parse.GetValue(model)!.FullName))
            {
                if (refitEpochs is not null) throw new ArgumentException("--refit-lstm refits a single-series LSTM; this checkpoint holds a model over many series.");
                if (format != WeightFormat.Float32) throw new ArgumentException("--weights: a checkpoint over many series runs its fp32 weights.");
                return ForecastGlobal(parse.GetValue(model)!.FullName, parse.GetValue(data), parse.GetValue(testFrom), parse.GetValue(refitEvery), csv, parse.GetValue(check),
                    svg, parse.GetValue(seriesName), IntervalReport.Options.Checked(parse.GetValue(level), parse.GetValue(adapt)));
            }

            if (parse.GetValue(seriesName) is not null) throw new ArgumentException("--series chooses a series of a model over many series; this checkpoint forecasts one.");

            using LstmForecaster forecaster = LstmForecaster.Load(parse.GetValue(model)!.FullName, new LstmModelOptions { Weights = format });
            OutputPaths.RefuseClashes([("--model", parse.GetValue(model)!.FullName), ("--data", DataPath(forecaster, parse.GetValue(data)))], [("--output", csv), ("--plot", svg)]);
            ForecastSeries series = LoadSeries(forecaster, parse.GetValue(data), parse.GetValue(testFrom));
            ForecastSettings s = forecaster.Settings;
            Console.WriteLine($"model: {parse.GetValue(model)!.Name}, window {s.Window}, horizon {s.Horizon}, predicts '{s.TargetColumn}' from [{string.Join(", ", s.InputColumns)}] ({forecaster.Model.KernelPath} kernels, {WeightsOption.NameOf(format)} weights)");
            using RefittingLstm? refitting = refitEpochs is { } epochs ? new RefittingLstm(forecaster, series, epochs, new ForecastTrainingOptions()) : null;
            ForecastComparisonResult comparison = ForecastReport.Compare(forecaster, series, parse.GetValue(refitEvery), refitting);
            ForecastReport.PrintScores(forecaster, series, comparison);
            RollingForecastIntervals? intervals = ForecastReport.PrintIntervals(forecaster, series, parse.GetValue(level), parse.GetValue(adapt));
            if (intervals is not null && refitting is not null)
                Console.WriteLine("note: the intervals are calibrated on the errors of the LSTM as trained; the refitted forecasts in the CSV get the same bounds around them, which were not calibrated on their errors");
            ForecastReport.WriteCsv(forecaster, series, comparison, intervals, csv);
            ForecastReport.Plot(forecaster, series, comparison, svg, $"{s.TargetColumn}: LSTM forecasts {s.Horizon} steps ahead", intervals);
            if (!forecaster.CanForecastPastEnd)
            {
                Console.WriteLine($"no forecast past {series.Times[^1]}: the LSTM reads the known-future covariates {string.Join(", ", s.Covariates.Select(c => UserText.Quote(c)))} at each step of the horizon, and the data holds none of their values after its last row");
                Console.WriteLine($"wrote {csv} and {svg}");
                return parse.GetValue(check) && !comparison.Verdict.Beats ? ToolExit.CheckFailed : ToolExit.Ok;
            }

            var next = new double[s.Horizon];
            forecaster.Predict(series, series.Length - 1, next);
            var (lower, upper) = (new double[s.Horizon], new double[s.Horizon]);
            intervals?.At(series.Length - 1).Bounds(next, lower, upper);
            string F(double v) => v.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
            Console.WriteLine($"next {s.Horizon} after {series.Times[^1]}: {string.Join(" ", next.Select((v, h) => intervals is null ? F(v) : $"{F(v)} [{F(lower[h])}, {F(upper[h])}]"))}");
            Console.WriteLine($"wrote {csv} and {svg}");
            return parse.GetValue(check) && !comparison.Verdict.Beats ? ToolExit.CheckFailed : ToolExit.Ok;
        }));
        return command;
    }

    /// <summary>
    /// A checkpoint over many series: each series' backtest against the baselines, its prediction intervals on the test
    /// origins (those saved with the model, and rolling ones) and its forecast past the data's end with their bounds (a
    /// CSV of those), and a plot of the series <paramref name="plotted"/> names.
    /// </summary>
    private static int ForecastGlobal(string modelPath, FileInfo? data, string? testFrom, int? refitEvery, string csv, bool check, string plotPath, string? plotted, IntervalReport.Options options)
    {
        (GlobalForecasterCheckpoint checkpoint, GlobalForecaster forecaster, List<ForecastSeries> series) = GlobalCheckpoints.Load(modelPath, data, testFrom);
        using (forecaster)
        {
            ForecastSettings s = checkpoint.Settings;
            string label = GlobalCheckpoints.Label(checkpoint.Kind);
            int shown = plotted is null ? 0 : checkpoint.SeriesNames.ToList().IndexOf(plotted);
            if (shown < 0) throw new ArgumentException($"--series: no series {UserText.Quote(plotted!)}; the model forecasts {string.Join(", ", checkpoint.SeriesNames.Select(UserText.Quote))}.");
            Console.WriteLine($"model: {Path.GetFileName(modelPath)}: {label} over {series.Count} series ({string.Join(", ", checkpoint.SeriesNames.Select(UserText.Quote))}); window {s.Window}, horizon {s.Horizon}, season {s.SeasonLength} ({forecaster.Model.KernelPath} kernels, fp32 weights)");
            IReadOnlyList<ForecastIntervals>? saved = GlobalCheckpoints.SavedIntervals(checkpoint, Path.GetFileName(modelPath), options.Level);
            bool all = true, drawn = false;
            string levelText = (100 * options.Level).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture);
            var text = new System.Text.StringBuilder($"series,origin,step,forecast,lower {levelText}%,upper {levelText}%\n");
            var (next, lower, upper) = (new double[s.Horizon], new double[s.Horizon], new double[s.Horizon]);
            string F(double v) => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
            string F2(double v) => v.ToString("F2", System.Globalization.CultureInfo.InvariantCulture);
            for (int k = 0; k < series.Count; k++)
            {
                ForecastMethod method = forecaster.AsMethod(k);
                all &= BacktestCommand.Report(checkpoint.SeriesNames[k], series[k], s, [new(new(label, method), method)], refitEpochs: null, refitEvery);
                IntervalReport.Row row = IntervalReport.Measure(label, method, method, saved?[k], series[k], s.Horizon, options);
                IntervalReport.Print([row], series[k].Split.Test.Count, options);
                if (checkpoint.KnownFuture.Covariates.Count > 0)
                {
                    Console.WriteLine($"no forecast of {UserText.Quote(checkpoint.SeriesNames[k])} past {series[k].Times[^1]}: the LSTM reads the known-future covariates {string.Join(", ", s.Covariates.Select(c => UserText.Quote(c)))}, whose values after the last row the data does not hold");
                    continue;
                }

                int last = series[k].Length - 1;
                forecaster.Predict(k, last, next);
                ForecastIntervals? bounds = row.Result is null ? null : GlobalForecastPlot.Intervals(row.Result, last);
                bounds?.Bounds(next, lower, upper);
                string which = row.Result is null ? "" : row.Result.Rolling is null ? $" ({levelText} % intervals calibrated once)" : $" ({levelText} % intervals, rolling)";
                Console.WriteLine($"next {s.Horizon} of {UserText.Quote(checkpoint.SeriesNames[k])} after {series[k].Times[^1]}{which}: {string.Join(" ", next.Select((v, h) => bounds is null ? F2(v) : $"{F2(v)} [{F2(lower[h])}, {F2(upper[h])}]"))}");
                for (int h = 0; h < s.Horizon; h++)
                {
                    text.Append(CsvCell(checkpoint.SeriesNames[k])).Append(',').Append(series[k].Times[^1]).Append(',').Append(h + 1).Append(',').Append(F(next[h]))
                        .Append(',').Append(bounds is null ? "" : F(lower[h])).Append(',').Append(bounds is null ? "" : F(upper[h])).Append('\n');
                }

                if (k != shown) continue;
                GlobalForecastPlot.Draw(plotPath, checkpoint.SeriesNames[k], label, forecaster, k, row.Result);
                drawn = true;
            }

            AtomicFile.WriteAllText(csv, text.ToString());
            Console.WriteLine(drawn ? $"wrote {csv} and {plotPath} (series {UserText.Quote(checkpoint.SeriesNames[shown])})" : $"wrote {csv}");
            return check && !all ? ToolExit.CheckFailed : ToolExit.Ok;
        }
    }

    private static string CsvCell(string text) => text.AsSpan().IndexOfAny(",\"\r\n") < 0 ? text : $"\"{text.Replace("\"", "\"\"", StringComparison.Ordinal)}\"";

    /// <summary>
    /// The series to forecast: the <c>--data</c> file (refused when its frequency is not the one trained on), else the
    /// file the checkpoint remembers (a note when it changed since training), else (a checkpoint that remembers none)
    /// the bundled CO2 series.
    /// </summary>
    internal static ForecastSeries LoadSeries(LstmForecaster forecaster, FileInfo? data, string? testFrom) => LoadSeries(forecaster, data, testFrom, out _);

    /// <summary><see cref="LoadSeries(LstmForecaster, FileInfo?, string?)"/>, and the table it was read from (before any gap was filled).</summary>
    internal static ForecastSeries LoadSeries(LstmForecaster forecaster, FileInfo? data, string? testFrom, out TimeSeriesTable table)
    {
        ForecastSettings settings = testFrom is null ? forecaster.Settings : forecaster.Settings with { TestFrom = testFrom };
        ForecastDataSource? remembered = settings.Data;
        if (data is null && remembered is not null)
        {
            table = remembered.Reload(settings.TimeColumn, out string? changed);
            Console.WriteLine(changed is null ? $"data: {remembered.Path} (as in training)" : $"note: {changed}");
        }
        else
        {
            table = TimeSeriesTable.Load(data?.FullName ?? BundledData.Co2, settings.TimeColumn);
            remembered?.RefuseOtherFrequency(table);
        }

        ForecastSeries series = ForecastSeries.From(table, settings);
        foreach (string filled in series.Filled) Console.WriteLine($"missing: {filled}");
        return series;
    }

    /// <summary>The <c>--data</c> file, else the one the checkpoint remembers, else the bundled CO2 series.</summary>
    internal static string DataPath(LstmForecaster forecaster, FileInfo? data) => data?.FullName ?? forecaster.Settings.Data?.Path ?? BundledData.Co2;

    /// <summary>The <c>--data</c> input when given (checked before the checkpoint is read, which may name another).</summary>
    internal static (string Option, string? Path)[] GivenData(FileInfo? data) => data is null ? [] : [("--data", data.FullName)];

    /// <summary>The <c>--data</c> file of train, or the bundled CO2 series.</summary>
    internal static string DataPath(FileInfo? data) => data?.FullName ?? BundledData.Co2;
}
