using System.Globalization;
using LstmSimd.Forecasting;
using Spectre.Console;

namespace LstmSimd.Cli.Tool;

/// <summary>The prediction intervals of the LSTM-based methods on one series' test split, as backtest and forecast print them.</summary>
internal static class IntervalReport
{
    /// <summary>How the intervals are asked for: nominal level and the rolling intervals' adaptation rate.</summary>
    internal sealed record Options(double Level, double AdaptationRate)
    {
        /// <exception cref="ArgumentException">A level outside 0 … 1 or a rate outside 0 … 1 (naming the option).</exception>
        public static Options Checked(double level, double adaptationRate)
        {
            if (!(level is > 0 and < 1)) throw new ArgumentException($"--level must be between 0 and 1; got {level.ToString(CultureInfo.InvariantCulture)}.");
            if (!(adaptationRate is >= 0 and <= 1)) throw new ArgumentException($"--adapt must be between 0 and 1; got {adaptationRate.ToString(CultureInfo.InvariantCulture)}.");
            return new Options(level, adaptationRate);
        }
    }

    /// <summary>One method's intervals on the series, or why it has none.</summary>
    internal sealed record Row(string Method, IntervalBacktest? Result, string? Missing);

    /// <summary>
    /// <paramref name="method"/>'s intervals: <paramref name="calibrated"/> when given (a saved model's), else calibrated
    /// on <paramref name="validation"/>'s forecasts at the validation origins; both measured on the test origins.
    /// </summary>
    public static Row Measure(string name, ForecastMethod method, ForecastMethod validation, ForecastIntervals? calibrated, ForecastSeries series, int horizon, Options options)
    {
        try
        {
            calibrated ??= ForecastIntervals.Calibrate(validation, series.Target, series.Split.Validation, horizon, options.Level);
        }
        catch (ArgumentException e)
        {
            return new Row(name, null, e.Message);
        }

        return new Row(name, IntervalBacktest.Run(method, calibrated, series, options.AdaptationRate), null);
    }

    /// <summary>The table (coverage, mean width, interval score, pinball loss; calibrated once and rolling) and a line per method saying whether the coverage meets the target.</summary>
    public static void Print(IReadOnlyList<Row> rows, int testOrigins, Options options)
    {
        if (rows.Count == 0) return;
        string level = Percent(options.Level);
        Console.WriteLine($"{level} prediction intervals, split conformal per step ahead, on the {testOrigins} test origins: calibrated once on the validation forecasts, and rolling (each origin's from the errors of the latest forecasts known there, as many as the validation origins{(options.AdaptationRate > 0 ? $", the level adapted to misses at rate {options.AdaptationRate.ToString("0.###", CultureInfo.InvariantCulture)}" : "")}); target: coverage within {Points(IntervalBacktest.CoverageTolerance)} points of {level}");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("method").AddColumn("intervals").AddColumn(new TableColumn("cover %").RightAligned())
            .AddColumn(new TableColumn("width").RightAligned()).AddColumn(new TableColumn("interval score").RightAligned()).AddColumn(new TableColumn("pinball").RightAligned());
        foreach (Row row in rows.Where(r => r.Result is not null))
        {
            IntervalBacktest r = row.Result!;
            table.AddRow([Markup.Escape(row.Method), "once", .. Cells(r.Once)]);
            table.AddRow(["", "rolling", .. Cells(r.Adaptive)]);
        }

        AnsiConsole.Write(table);
        foreach (Row row in rows) Console.WriteLine($"intervals of {row.Method}: {Verdict(row, options.Level)}");
    }

    /// <summary>"calibrated once 71.3 % (misses the target: 8.7 points below 80 %); rolling 79.1 % (meets the target)".</summary>
    internal static string Verdict(Row row, double level)
    {
        if (row.Result is not { } r) return $"none ({row.Missing})";
        string rolling = r.Adaptive is { } adaptive ? $"rolling {Judge(adaptive, level)}" : $"no rolling intervals ({r.RollingUnavailable})";
        return $"calibrated once {Judge(r.Once, level)}; {rolling}";
    }

    private static string Judge(IntervalCoverage coverage, double level)
    {
        double gap = coverage.Covered - level;
        string covered = (100 * coverage.Covered).ToString("F1", CultureInfo.InvariantCulture) + " %";
        return IntervalBacktest.MeetsTarget(coverage, level)
            ? $"{covered} (meets the target)"
            : $"{covered} (misses the target: {Points(Math.Abs(gap))} points {(gap < 0 ? "below" : "above")} {Percent(level)})";
    }

    private static string[] Cells(IntervalCoverage? c) => c is null ? ["—", "—", "—", "—"]
        : [(100 * c.Covered).ToString("F1", CultureInfo.InvariantCulture), G(c.MeanWidth), G(c.IntervalScore), G(c.PinballLoss)];

    private static string G(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Points(double share) => (100 * share).ToString("0.#", CultureInfo.InvariantCulture);

    private static string Percent(double share) => (100 * share).ToString("0.#", CultureInfo.InvariantCulture) + " %";
}
