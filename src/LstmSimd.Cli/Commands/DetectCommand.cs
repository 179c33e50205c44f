using System.CommandLine;
using System.Globalization;
using System.Text;
using LstmSimd.Cli.Plotting;
using LstmSimd.Cli.Tool;
using LstmSimd.Forecasting;
using Spectre.Console;
using LstmSimd.IO;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd detect</c>: anomalies where a value is far from the forecaster's one-step-ahead prediction or from an encoder–decoder's reconstruction.</summary>
internal static class DetectCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model", "-m") { Description = "A forecaster checkpoint written by 'lstmsimd train', or one over many series written by 'lstmsimd backtest --save'.", DefaultValueFactory = _ => new FileInfo("forecaster.lstm") };
        var seriesName = new Option<string?>("--series") { Description = "With a checkpoint over many series: the series to score (default: the first)." };
        var data = new Option<FileInfo?>("--data") { Description = "CSV with the forecaster's columns (default: the file it was trained on, remembered in the checkpoint)." };
        var threshold = new Option<double>("--threshold") { Description = "With --threshold-rule sigma: flag a step whose error (residual or reconstruction error) is this many robust standard deviations (1.4826·MAD of the training rows' errors) from their median.", DefaultValueFactory = _ => 4 };
        var output = new Option<FileInfo>("--output", "-o") { Description = "CSV of every step: time, actual, expected (the one-step forecast or the reconstruction), residual, score, flag.", DefaultValueFactory = _ => new FileInfo("anomalies.csv") };
        var plot = new Option<FileInfo>("--plot") { Description = "Plot of the series with the anomalies marked: SVG, or PNG when the name ends in .png.", DefaultValueFactory = _ => new FileInfo("anomalies.svg") };
        var labels = new Option<string?>("--labels") { Description = "A column of the data that marks known anomalies with 1 (0 elsewhere): score every detector on the test rows against it (precision, recall, F1 row by row and point-adjusted, NAB score) beside a rolling z-score, each σ threshold chosen on the validation rows." };
        var method = new Option<DetectionMethod>("--method") { Description = "residual: a value far from the forecaster's one-step prediction; reconstruction: a value an LSTM encoder–decoder, trained on the training rows' windows, cannot give back.", DefaultValueFactory = _ => DetectionMethod.Residual };
        var rule = new Option<ThresholdRule>("--threshold-rule") { Description = "sigma: flag beyond --threshold robust σ of the training rows' errors; dynamic: telemanom's non-parametric threshold chosen over each window of smoothed errors (Hundman et al. 2018).", DefaultValueFactory = _ => ThresholdRule.Sigma };
        var reconstructor = new Option<FileInfo?>("--reconstructor") { Description = "With --method reconstruction: an encoder–decoder checkpoint written by --save-reconstructor (default: train one on the forecaster's training rows)." };
        var saveReconstructor = new Option<FileInfo?>("--save-reconstructor") { Description = "Write the encoder–decoder trained for --method reconstruction (or --labels) to this checkpoint." };
        var command = new Command("detect", "Flag anomalies: steps whose value is far from the forecaster's one-step-ahead prediction (or from an LSTM encoder–decoder's reconstruction), judged against the spread of those errors on the training rows or by a dynamic threshold; marks them on a plot.")
        {
            model, data, threshold, labels, output, plot, seriesName, method, rule, reconstructor, saveReconstructor,
        };
        command.SetAction(parse => ToolExit.Run("detect", () =>
        {
            double limit = parse.GetValue(threshold);
            if (!(limit > 0)) throw new ArgumentException($"--threshold must be positive; got {limit}.");
            string modelPath = parse.GetValue(model)!.FullName, csv = parse.GetValue(output)!.FullName, svg = parse.GetValue(plot)!.FullName;
            DetectionMethod chosenMethod = parse.GetValue(method);
            ThresholdRule chosenRule = parse.GetValue(rule);
            string? loadReconstructor = parse.GetValue(reconstructor)?.FullName, writeReconstructor = parse.GetValue(saveReconstructor)?.FullName;
            if (chosenMethod != DetectionMethod.Reconstruction && loadReconstructor is not null) throw new ArgumentException("--reconstructor is read by --method reconstruction only.");
            (string, string)[] writes = writeReconstructor is null ? [("--output", csv), ("--plot", svg)] : [("--output", csv), ("--plot", svg), ("--save-reconstructor", writeReconstructor)];
            (string, string?)[] reads = [("--model", modelPath), ("--reconstructor", loadReconstructor)];
            OutputPaths.RefuseClashes([.. reads, .. ForecastCommand.GivenData(parse.GetValue(data))], writes);
            if (GlobalCheckpoints.IsGlobal(modelPath))
            {
                if (chosenMethod == DetectionMethod.Reconstruction || writeReconstructor is not null) throw new ArgumentException("--method reconstruction trains on one series' columns; a checkpoint over many series is scored by its residuals only.");
                return DetectGlobal(modelPath, parse.GetValue(data), parse.GetValue(seriesName), parse.GetValue(labels), new Detector(chosenMethod, chosenRule, limit), csv, svg);
            }

            if (parse.GetValue(seriesName) is not null) throw new ArgumentException($"--series chooses among the series of a checkpoint over many series; {modelPath} is a single-series forecaster.");
            using LstmForecaster forecaster = LstmForecaster.Load(modelPath);
            OutputPaths.RefuseClashes([.. reads, ("--data", ForecastCommand.DataPath(forecaster, parse.GetValue(data)))], writes);
            ForecastSeries series = ForecastCommand.LoadSeries(forecaster, parse.GetValue(data), testFrom: null, out TimeSeriesTable table);
            bool[]? labelled = parse.GetValue(labels) is { } column ? Labels(table, series, column) : null;
            ResidualScores residual = Score(forecaster, series);
            ResidualScores? reconstruction = chosenMethod == DetectionMethod.Reconstruction || labelled is not null || writeReconstructor is not null
                ? Reconstruction.Score(forecaster.Settings, table, series, loadReconstructor, writeReconstructor)
                : null;
            var detector = new Detector(chosenMethod, chosenRule, limit);
            Report(forecaster.Settings, detector, chosenMethod == DetectionMethod.Residual ? residual : reconstruction!, series, csv, svg);
            if (labelled is not null) DetectEvaluation.Print(forecaster.Settings, series, residual, reconstruction!, detector, labelled, parse.GetValue(labels)!);
            return ToolExit.Ok;
        }));
        return command;
    }

    /// <summary>One series of a checkpoint over many series, scored as a single forecaster's: its one-step residuals against those of its training rows.</summary>
    private static int DetectGlobal(string modelPath, FileInfo? data, string? name, string? labels, Detector detector, string csv, string svg)
    {
        if (labels is not null) throw new ArgumentException("--labels scores a single-series forecaster's flags; a checkpoint over many series reads no label column.");
        (GlobalForecasterCheckpoint checkpoint, GlobalForecaster forecaster, List<ForecastSeries> series) = GlobalCheckpoints.Load(modelPath, data, testFrom: null);
        using (forecaster)
        {
            int k = name is null ? 0 : checkpoint.SeriesNames.ToList().IndexOf(name);
            if (k < 0) throw new ArgumentException($"--series: no series {UserText.Quote(name!)} in {modelPath}; its series are {string.Join(", ", checkpoint.SeriesNames.Select(UserText.Quote))}.");
            ForecastSettings settings = checkpoint.Settings with { InputColumns = [checkpoint.Column(k)], TargetColumn = checkpoint.Column(k) };
            Console.WriteLine($"model: {Path.GetFileName(modelPath)}: {GlobalCheckpoints.Label(checkpoint.Kind)} over {series.Count} series; scoring {UserText.Quote(checkpoint.SeriesNames[k])}");
            Report(settings, detector, Score(forecaster.AsMethod(k), series[k], settings.Window, settings.Horizon), series[k], csv, svg);
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

    /// <summary>Prints the flagged steps and writes the CSV (when given) and the plot.</summary>
    internal static ResidualScores Report(LstmForecaster forecaster, ForecastSeries series, double limit, string? csv, string svg)
    {
        ResidualScores scores = Score(forecaster, series);
        Report(forecaster.Settings, new Detector(DetectionMethod.Residual, ThresholdRule.Sigma, limit), scores, series, csv, svg);
        return scores;
    }

    /// <summary>Prints the steps <paramref name="detector"/> flags among <paramref name="scores"/> and writes the CSV (when given) and the plot.</summary>
    private static void Report(ForecastSettings settings, Detector detector, ResidualScores scores, ForecastSeries series, string? csv, string svg)
    {
        bool[] flags = detector.Flags(scores, out string rule);
        int[] flagged = [.. Enumerable.Range(0, series.Length).Where(r => flags[r])];
        string errors = detector.Method == DetectionMethod.Residual ? "one-step residuals" : "reconstruction errors";
        Console.WriteLine($"{errors} of '{settings.TargetColumn}' on {scores.Expected.Count(double.IsFinite)} steps; training {errors}: median {scores.Median:F3}, robust σ {scores.Sigma:F3}; {rule}");
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
            text.Append(CultureInfo.InvariantCulture, $"{series.Times[r]},{series.Target[r].ToString("R", CultureInfo.InvariantCulture)},{(known ? F(scores.Expected[r]) : "")},{(known ? F(series.Target[r] - scores.Expected[r]) : "")},{(known ? scores.Score[r].ToString("F2", CultureInfo.InvariantCulture) : "")},{(flags[r] ? 1 : 0)}\n");
        }

        if (csv is not null) AtomicFile.WriteAllText(csv, text.ToString());
        (double[] x, string xLabel) = TimeAxis.From(series.Times, settings.TimeColumn);
        new LinePlot($"{settings.TargetColumn}: anomalies ({rule})", xLabel, settings.TargetColumn)
            .Line("actual", x, series.Target, "#222222")
            .Line(detector.Method == DetectionMethod.Residual ? "LSTM one step ahead" : "LSTM reconstruction", x, scores.Expected, "#1f77b4", dashed: true)
            .Points($"anomaly ({flagged.Length})", flagged.Select(r => x[r]), flagged.Select(r => series.Target[r]), "#d62728")
            .Save(svg);
        Console.WriteLine(csv is null ? $"wrote {svg}" : $"wrote {csv} and {svg}");
    }

    internal sealed record ResidualScores(double[] Expected, double[] Score, double Median, double Sigma);

    /// <summary>One-step forecasts for every row that has a full window before it; robust z-scores of the residuals against the training rows'.</summary>
    internal static ResidualScores Score(LstmForecaster forecaster, ForecastSeries series) =>
        Score(forecaster.AsMethod(series), series, forecaster.Settings.Window, forecaster.Settings.Horizon);

    private static ResidualScores Score(ForecastMethod method, ForecastSeries series, int window, int horizon)
    {
        int n = series.Length;
        var expected = new double[n];
        Array.Fill(expected, double.NaN);
        var forecast = new double[horizon];
        for (int origin = window - 1; origin < n - 1; origin++)
        {
            method(series.Target, origin, forecast);
            expected[origin + 1] = forecast[0];
        }

        return Standardize(series, expected);
    }

    /// <summary>Robust z-scores of the residuals actual − <paramref name="expected"/> against those of the training rows (0 where nothing is expected).</summary>
    internal static ResidualScores Standardize(ForecastSeries series, double[] expected)
    {
        int n = series.Length;
        var score = new double[n];
        double[] training = [.. Enumerable.Range(0, series.Split.ValidationStart).Where(r => double.IsFinite(expected[r])).Select(r => series.Target[r] - expected[r])];
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
