using System.Globalization;
using LstmSimd.Forecasting;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// <c>detect --labels</c>: every detector (residual and reconstruction, each with the σ and the dynamic rule) and a rolling
/// z-score, scored on the test rows against the labels. Each σ threshold is chosen on the validation rows alone.
/// </summary>
internal static class DetectEvaluation
{
    /// <summary>The steps in which a σ threshold is raised from <c>--threshold</c> until no unlabelled validation row is flagged.</summary>
    private const double SigmaStep = 0.5;

    public static void Print(ForecastSettings settings, ForecastSeries series, DetectCommand.ResidualScores residual, DetectCommand.ResidualScores reconstruction,
        Detector chosen, bool[] labelled, string column)
    {
        int start = series.Split.TestStart, validationStart = series.Split.ValidationStart, window = settings.Window;
        bool[] truth = labelled[start..];
        int events = truth.Where((l, r) => l && (r == 0 || !truth[r - 1])).Count();
        if (truth.All(l => !l))
        {
            Console.WriteLine($"no row from the test start ({series.Times[start]}) on is labelled an anomaly in {UserText.Quote(column)}: nothing to score");
            return;
        }

        double[] rollingZ = [.. AnomalyEvaluation.RollingZScores(series.Target, window).Select(z => double.IsNaN(z) ? 0 : z)];
        (string Name, Detector Detector, double[] Scores, int First)[] candidates =
        [
            ("residual σ", chosen with { Method = DetectionMethod.Residual, Rule = ThresholdRule.Sigma }, residual.Score, 0),
            ("residual dyn.", chosen with { Method = DetectionMethod.Residual, Rule = ThresholdRule.Dynamic }, residual.Score, Array.FindIndex(residual.Expected, double.IsFinite)),
            ("reconstr. σ", chosen with { Method = DetectionMethod.Reconstruction, Rule = ThresholdRule.Sigma }, reconstruction.Score, 0),
            ("reconstr. dyn.", chosen with { Method = DetectionMethod.Reconstruction, Rule = ThresholdRule.Dynamic }, reconstruction.Score, Array.FindIndex(reconstruction.Expected, double.IsFinite)),
            ($"rolling z ({window})", chosen with { Rule = ThresholdRule.Sigma }, rollingZ, 0),
        ];
        Console.WriteLine($"labelled anomalies: {truth.Count(l => l)} of the {truth.Length} test rows ({series.Times[start]} …) in {events} event{(events == 1 ? "" : "s")}; each σ threshold is the lowest from {F1(chosen.Sigmas)} σ up, in steps of {F1(SigmaStep)}, that flags no unlabelled validation row ({series.Times[validationStart]} … {series.Times[start - 1]})");
        var table = new Table().Border(TableBorder.Rounded).AddColumn("detector").AddColumn(new TableColumn("limit").RightAligned()).AddColumn(new TableColumn("flags").RightAligned())
            .AddColumn(new TableColumn("P").RightAligned()).AddColumn(new TableColumn("R").RightAligned()).AddColumn(new TableColumn("F1").RightAligned())
            .AddColumn(new TableColumn("PA F1").RightAligned()).AddColumn(new TableColumn("NAB").RightAligned());
        var validationFlags = new List<string>();
        var results = new List<(string Name, Detector Detector, DetectionScore Rows, DetectionScore Adjusted, NabResult Nab)>();
        foreach ((string name, Detector candidate, double[] scores, int first) in candidates)
        {
            Detector detector = candidate.Rule == ThresholdRule.Sigma ? candidate with { Sigmas = ValidationSigmas(scores, labelled, validationStart, start, candidate.Sigmas) } : candidate;
            bool[] flags = detector.Rule == ThresholdRule.Sigma ? [.. scores.Select(z => Math.Abs(z) > detector.Sigmas)] : Detector.DynamicFlags(scores, first);
            bool[] tested = flags[start..];
            int falseAlarms = Enumerable.Range(validationStart, start - validationStart).Count(r => flags[r] && !labelled[r]);
            DetectionScore rows = AnomalyEvaluation.Pointwise(name, tested, truth), adjusted = AnomalyEvaluation.PointAdjusted(name, tested, truth);
            NabResult nab = NabScore.Score(name, tested, truth);
            results.Add((name, detector, rows, adjusted, nab));
            if (detector.Rule == ThresholdRule.Dynamic) validationFlags.Add($"{name} {falseAlarms}");
            table.AddRow(Markup.Escape(name), detector.Rule == ThresholdRule.Sigma ? $"{F1(detector.Sigmas)} σ" : "dyn.",
                tested.Count(f => f).ToString(CultureInfo.InvariantCulture), F(rows.Precision), F(rows.Recall), F(rows.F1), F(adjusted.F1), F1(nab.Normalized));
        }

        AnsiConsole.Write(table);
        Console.WriteLine("residual: the forecaster's one-step residuals; reconstr.: the encoder–decoder's reconstruction errors; σ: beyond the limit in robust σ of the training rows' errors; dyn.: telemanom's dynamic threshold");
        Console.WriteLine("flags: test rows flagged; P, R, F1: precision, recall and F1 row by row; PA F1: point-adjusted (an event counts as found in full when any of its rows is flagged); NAB: the Numenta benchmark's windowed score, standard profile (100 perfect, 0 flags nothing)");
        Console.WriteLine($"unlabelled validation rows flagged by the dynamic threshold: {string.Join(", ", validationFlags)}");
        var baseline = results[^1];
        var mine = results.SkipLast(1).Single(r => r.Detector.Method == chosen.Method && r.Detector.Rule == chosen.Rule);
        string Compare(double a, double b) => a > b ? "beats it" : "does NOT";
        Console.WriteLine($"the chosen detector ({mine.Name}: --method {chosen.Method.ToString().ToLowerInvariant()} --threshold-rule {chosen.Rule.ToString().ToLowerInvariant()}) {(mine.Rows.F1 > baseline.Rows.F1 ? "beats" : "does NOT beat")} the rolling z-score on row-by-row F1 ({F(mine.Rows.F1)} against {F(baseline.Rows.F1)}); point-adjusted, it {Compare(mine.Adjusted.F1, baseline.Adjusted.F1)} ({F(mine.Adjusted.F1)} against {F(baseline.Adjusted.F1)}); on the NAB score, it {Compare(mine.Nab.Normalized, baseline.Nab.Normalized)} ({F1(mine.Nab.Normalized)} against {F1(baseline.Nab.Normalized)})");
        var best = results.SkipLast(1).MaxBy(r => r.Rows.F1);
        Console.WriteLine($"highest row-by-row F1 of the LSTM detectors (picked on the test split, for information): {best.Name} {F(best.Rows.F1)}");
    }

    /// <summary>The lowest threshold from <paramref name="from"/> up, in steps of <see cref="SigmaStep"/>, that flags none of the unlabelled validation rows.</summary>
    private static double ValidationSigmas(double[] scores, bool[] labelled, int validationStart, int testStart, double from)
    {
        double largest = 0;
        for (int r = validationStart; r < testStart; r++)
            if (!labelled[r]) largest = Math.Max(largest, Math.Abs(scores[r]));
        return largest <= from ? from : from + Math.Ceiling((largest - from) / SigmaStep) * SigmaStep;
    }

    private static string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);

    private static string F1(double v) => v.ToString("0.#", CultureInfo.InvariantCulture);
}
