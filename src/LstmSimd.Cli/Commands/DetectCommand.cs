using System.CommandLine;
using System.Globalization;
using System.Text;
using LstmSimd.Cli.Plotting;
using LstmSimd.Cli.Tool;
using LstmSimd.Forecasting;
using Spectre.Console;
using LstmSimd.IO;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd detect</c>: anomalies where a value is far from the forecaster's one-step-ahead prediction.</summary>
internal static class DetectCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "A forecaster checkpoint written by 'lstmsimd train', or one over many series written by 'lstmsimd backtest --save'.", DefaultValueFactory = _ => new FileInfo("forecaster.lstm") };
        var seriesName = new Option<string?>("--series") { Description = "With a checkpoint over many series: the series to score (default: the first)." };
        var data = new Option<FileInfo?>("--data") { Description = "CSV with the forecaster's columns (default: the file it was trained on, remembered in the checkpoint)." };
        var threshold = new Option<double>("--threshold") { Description = "Flag a step whose residual is this many robust standard deviations (1.4826·MAD of the training residuals) from their median.", DefaultValueFactory = _ => 4 };
        var output = new Option<FileInfo>("--output", "-o") { Description = "CSV of every step: time, actual, one-step forecast, residual, score, flag.", DefaultValueFactory = _ => new FileInfo("anomalies.csv") };
        var plot = new Option<FileInfo>("--plot") { Description = "Plot of the series with the anomalies marked: SVG, or PNG when the name ends in .png.", DefaultValueFactory = _ => new FileInfo("anomalies.svg") };
        var labels = new Option<string?>("--labels") { Description = "A column of the data that marks known anomalies with 1 (0 elsewhere): score the flags on the test rows against it (precision, recall, F1, row by row and point-adjusted) beside a rolling z-score detector at the same threshold." };
        var command = new Command("detect", "Flag anomalies: steps whose value is far from the forecaster's one-step-ahead prediction, judged against the spread of its residuals on the training rows; marks them on a plot.")
        {
            model, data, threshold, labels, output, plot, seriesName,
        };
        command.SetAction(parse => ToolExit.Run("detect", () =>
        {
            double limit = parse.GetValue(threshold);
            if (!(limit > 0)) throw new ArgumentException($"--threshold must be positive; got {limit}.");
            string modelPath = parse.GetValue(model)!.FullName, csv = parse.GetValue(output)!.FullName, svg = parse.GetValue(plot)!.FullName;
            OutputPaths.RefuseClashes([("--model", modelPath), .. ForecastCommand.GivenData(parse.GetValue(data))], [("--output", csv), ("--plot", svg)]);
            if (GlobalCheckpoints.IsGlobal(modelPath)) return DetectGlobal(modelPath, parse.GetValue(data), parse.GetValue(seriesName), parse.GetValue(labels), limit, csv, svg);
            if (parse.GetValue(seriesName) is not null) throw new ArgumentException($"--series chooses among the series of a checkpoint over many series; {modelPath} is a single-series forecaster.");
            using LstmForecaster forecaster = LstmForecaster.Load(modelPath);
            OutputPaths.RefuseClashes([("--model", modelPath), ("--data", ForecastCommand.DataPath(forecaster, parse.GetValue(data)))], [("--output", csv), ("--plot", svg)]);
            ForecastSeries series = ForecastCommand.LoadSeries(forecaster, parse.GetValue(data), testFrom: null, out TimeSeriesTable table);
            bool[]? labelled = parse.GetValue(labels) is { } column ? Labels(table, series, column) : null;
            ResidualScores scores = Report(forecaster, series, limit, csv, svg);
            if (labelled is not null) PrintEvaluation(forecaster.Settings, series, scores, labelled, parse.GetValue(labels)!, limit);
            return ToolExit.Ok;
        }));
        return command;
    }

    /// <summary>One series of a checkpoint over many series, scored as a single forecaster's: its one-step residuals against those of its training rows.</summary>
    private static int DetectGlobal(string modelPath, FileInfo? data, string? name, string? labels, double limit, string csv, string svg)
    {
        if (labels is not null) throw new ArgumentException("--labels scores a single-series forecaster's flags; a checkpoint over many series reads no label column.");
        (GlobalForecasterCheckpoint checkpoint, GlobalForecaster forecaster, List<ForecastSeries> series) = GlobalCheckpoints.Load(modelPath, data, testFrom: null);
        using (forecaster)
        {
            int k = name is null ? 0 : checkpoint.SeriesNames.ToList().IndexOf(name);
            if (k < 0) throw new ArgumentException($"--series: no series {UserText.Quote(name!)} in {modelPath}; its series are {string.Join(", ", checkpoint.SeriesNames.Select(UserText.Quote))}.");
            ForecastSettings settings = checkpoint.Settings with { InputColumns = [checkpoint.Column(k)], TargetColumn = checkpoint.Column(k) };
            Console.WriteLine($"model: {Path.GetFileName(modelPath)}: {GlobalCheckpoints.Label(checkpoint.Kind)} over {series.Count} series; scoring {UserText.Quote(checkpoint.SeriesNames[k])}");
            Report(settings, forecaster.AsMethod(k), series[k], limit, csv, svg);
            return ToolExit.Ok;
        }
    }

    /// <summary>The label column as flags, one per series row.</summary>
    /// <exception cref="TimeSeriesFormatException">The column is missing, holds something other than 0 and 1, or times were missing (labels cannot be filled in).</exception>
    private static bool[] Labels(TimeSeriesTable table, ForecastSeries series, string column)
    {
        double[] values = table.GetColumn(column);
        if (values.Length != series.Length)
            throw new TimeSeriesFormatException($"{table.Source}: --labels needs every time present; {series.Length - values.Length} missing times were filled, and a label cannot be.");
        int bad = Array.FindIndex(values, v => v is not (0 or 1));
        if (bad >= 0)
            throw new TimeSeriesFormatException($"{table.Source}: the label column {UserText.Quote(column)} must hold 0 or 1; the row at {series.Times[bad]} holds {values[bad].ToString(CultureInfo.InvariantCulture)}.");
        return [.. values.Select(v => v == 1)];
    }

    /// <summary>Precision, recall and F1 on the test rows for the LSTM's residual scores and a rolling z-score at the same threshold.</summary>
    private static void PrintEvaluation(ForecastSettings settings, ForecastSeries series, ResidualScores scores, bool[] labelled, string column, double limit)
    {
        int start = series.Split.TestStart, window = settings.Window;
        bool[] truth = labelled[start..];
        int events = truth.Where((l, r) => l && (r == 0 || !truth[r - 1])).Count();
        if (truth.All(l => !l))
        {
            Console.WriteLine($"no row from the test start ({series.Times[start]}) on is labelled an anomaly in {UserText.Quote(column)}: nothing to score");
            return;
        }

        double[] rolling = AnomalyEvaluation.RollingZScores(series.Target, window);
        (string Name, bool[] Flags)[] detectors =
        [
            ("LSTM residual", [.. scores.Score[start..].Select(z => Math.Abs(z) > limit)]),
            ($"rolling z ({window})", [.. rolling[start..].Select(z => Math.Abs(z) > limit)]),
        ];
        Console.WriteLine($"labelled anomalies: {truth.Count(l => l)} of the {truth.Length} test rows ({series.Times[start]} …) in {events} event{(events == 1 ? "" : "s")}; both detectors flag beyond {limit.ToString(CultureInfo.InvariantCulture)} σ: the LSTM's one-step residual against its training residuals' robust spread, and the rolling z-score of each value against the {window} before it");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("detector").AddColumn(new TableColumn("flagged").RightAligned())
            .AddColumn(new TableColumn("P").RightAligned()).AddColumn(new TableColumn("R").RightAligned()).AddColumn(new TableColumn("F1").RightAligned())
            .AddColumn(new TableColumn("PA P").RightAligned()).AddColumn(new TableColumn("PA R").RightAligned()).AddColumn(new TableColumn("PA F1").RightAligned());
        var f1 = new double[detectors.Length];
        var adjustedF1 = new double[detectors.Length];
        for (int d = 0; d < detectors.Length; d++)
        {
            DetectionScore rows = AnomalyEvaluation.Pointwise(detectors[d].Name, detectors[d].Flags, truth);
            DetectionScore adjusted = AnomalyEvaluation.PointAdjusted(detectors[d].Name, detectors[d].Flags, truth);
            f1[d] = rows.F1;
            adjustedF1[d] = adjusted.F1;
            table.AddRow(Markup.Escape(detectors[d].Name), detectors[d].Flags.Count(f => f).ToString(CultureInfo.InvariantCulture), F(rows.Precision), F(rows.Recall), F(rows.F1), F(adjusted.Precision), F(adjusted.Recall), F(adjusted.F1));
        }

        AnsiConsole.Write(table);
        Console.WriteLine("P, R, F1: precision, recall and F1 row by row; PA: point-adjusted (an event counts as found in full when any of its rows is flagged)");
        Console.WriteLine($"the LSTM detector {(f1[0] > f1[1] ? "beats" : "does NOT beat")} the rolling z-score on row-by-row F1 ({F(f1[0])} against {F(f1[1])}); point-adjusted, it {(adjustedF1[0] > adjustedF1[1] ? "beats it" : "does NOT")} ({F(adjustedF1[0])} against {F(adjustedF1[1])})");
    }

    /// <summary>Prints the flagged steps and writes the CSV (when given) and the plot.</summary>
    internal static ResidualScores Report(LstmForecaster forecaster, ForecastSeries series, double limit, string? csv, string svg) =>
        Report(forecaster.Settings, forecaster.AsMethod(series), series, limit, csv, svg);

    /// <summary>Prints the steps flagged by the one-step forecasts of <paramref name="forecast"/> and writes the CSV (when given) and the plot.</summary>
    private static ResidualScores Report(ForecastSettings settings, ForecastMethod forecast, ForecastSeries series, double limit, string? csv, string svg)
    {
        ResidualScores scores = Score(forecast, series, settings.Window, settings.Horizon);
        int[] flagged = [.. Enumerable.Range(0, series.Length).Where(r => Math.Abs(scores.Score[r]) > limit)];
        Console.WriteLine($"one-step residuals of '{settings.TargetColumn}' on {series.Length - settings.Window} steps; training residuals: median {scores.Median:F3}, robust σ {scores.Sigma:F3}; threshold {limit} σ");
        var table = new Table().Border(TableBorder.Rounded).AddColumn(settings.TimeColumn).AddColumn(new TableColumn("actual").RightAligned())
            .AddColumn(new TableColumn("expected").RightAligned()).AddColumn(new TableColumn("residual").RightAligned()).AddColumn(new TableColumn("score (σ)").RightAligned());
        foreach (int r in flagged)
            table.AddRow(Markup.Escape(series.Times[r]), F(series.Target[r]), F(scores.Expected[r]), F(series.Target[r] - scores.Expected[r]), scores.Score[r].ToString("F1", CultureInfo.InvariantCulture));
        if (flagged.Length > 0) AnsiConsole.Write(table);
        Console.WriteLine($"{flagged.Length} anomal{(flagged.Length == 1 ? "y" : "ies")} flagged");

        var text = new StringBuilder($"{settings.TimeColumn},actual,expected,residual,score,anomaly\n");
        for (int r = 0; r < series.Length; r++)
        {
            bool known = double.IsFinite(scores.Expected[r]);
            text.Append(CultureInfo.InvariantCulture, $"{series.Times[r]},{series.Target[r].ToString("R", CultureInfo.InvariantCulture)},{(known ? F(scores.Expected[r]) : "")},{(known ? F(series.Target[r] - scores.Expected[r]) : "")},{(known ? scores.Score[r].ToString("F2", CultureInfo.InvariantCulture) : "")},{(Math.Abs(scores.Score[r]) > limit ? 1 : 0)}\n");
        }

        if (csv is not null) AtomicFile.WriteAllText(csv, text.ToString());
        (double[] x, string xLabel) = TimeAxis.From(series.Times, settings.TimeColumn);
        new LinePlot($"{settings.TargetColumn}: anomalies beyond {limit.ToString(CultureInfo.InvariantCulture)} σ of the one-step residuals", xLabel, settings.TargetColumn)
            .Line("actual", x, series.Target, "#222222")
            .Line("LSTM one step ahead", x, scores.Expected, "#1f77b4", dashed: true)
            .Points($"anomaly ({flagged.Length})", flagged.Select(r => x[r]), flagged.Select(r => series.Target[r]), "#d62728")
            .Save(svg);
        Console.WriteLine(csv is null ? $"wrote {svg}" : $"wrote {csv} and {svg}");
        return scores;
    }

    internal sealed record ResidualScores(double[] Expected, double[] Score, double Median, double Sigma);

    /// <summary>One-step forecasts for every row that has a full window before it; robust z-scores of the residuals against the training rows'.</summary>
    internal static ResidualScores Score(LstmForecaster forecaster, ForecastSeries series) =>
        Score(forecaster.AsMethod(series), series, forecaster.Settings.Window, forecaster.Settings.Horizon);

    private static ResidualScores Score(ForecastMethod method, ForecastSeries series, int window, int horizon)
    {
        int n = series.Length;
        var expected = new double[n];
        var score = new double[n];
        Array.Fill(expected, double.NaN);
        var forecast = new double[horizon];
        for (int origin = window - 1; origin < n - 1; origin++)
        {
            method(series.Target, origin, forecast);
            expected[origin + 1] = forecast[0];
        }

        double[] training = [.. Enumerable.Range(window, Math.Max(0, series.Split.ValidationStart - window)).Select(r => series.Target[r] - expected[r])];
        double median = Median(training);
        double sigma = 1.4826 * Median([.. training.Select(r => Math.Abs(r - median))]);
        if (!(sigma > 0)) sigma = 1e-12;
        for (int r = 0; r < n; r++) score[r] = double.IsFinite(expected[r]) ? (series.Target[r] - expected[r] - median) / sigma : 0;
        return new ResidualScores(expected, score, median, sigma);
    }

    private static double Median(double[] values)
    {
        if (values.Length == 0) return 0;
        double[] sorted = [.. values.Order()];
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    private static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
}
