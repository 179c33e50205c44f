using System.CommandLine;
using System.Globalization;
using LstmSimd.Cli.Tool;
using LstmSimd.Forecasting;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// <c>lstmsimd backtest</c>: trains the LSTM-based forecasters (one LSTM per series, optionally refitted at the origins; a
/// global LSTM over all the series; the ES-RNN hybrid) and judges each against the baselines in one rolling-origin
/// backtest per series. Nothing is saved.
/// </summary>
internal static class BacktestCommand
{
    private static readonly string[] AllMethods = ["lstm", "global", "hybrid"];

    public static Command Create()
    {
        var data = new Option<FileInfo?>("--data") { Description = "CSV time series (default: the bundled Mauna Loa CO2 series): one column per series, or with --long one row per series and time." };
        var time = new Option<string?>("--time") { Description = "The time column (default: the first column, or with --long the first other than the series column)." };
        var targets = new Option<string[]>("--targets") { Description = "The columns to forecast, comma-separated, each its own series (default: the first numeric column after the time column); with --long, the one value column.", AllowMultipleArgumentsPerToken = true };
        var longFormat = new Option<string?>("--long") { Description = "Long format: this column names the series each row belongs to; each series' rows are read in file order." };
        var methods = new Option<string[]>("--methods") { Description = "LSTM-based methods to train, comma-separated: lstm (one per series), global (one LSTM over every series, each scaled by its own training statistics; needs 2 series or more), hybrid (ES-RNN: per-series exponential smoothing level and season removed, one LSTM on what remains). Default: all that apply.", AllowMultipleArgumentsPerToken = true };
        var window = new Option<int?>("--window") { Description = "Steps of history per forecast (default: from the time column's frequency)." };
        var horizon = new Option<int?>("--horizon") { Description = "Steps ahead to predict (default: from the frequency)." };
        var season = new Option<int?>("--season") { Description = "Season length (default: from the frequency)." };
        var normalize = new Option<SeriesNormalization>("--normalize") { Description = "Scaling of lstm and global: relative (to the window's last value), zscore, minmax or none.", DefaultValueFactory = _ => SeriesNormalization.Relative };
        var testFrom = new Option<string?>("--test-from") { Description = "First time of the test period (default: the last 15% of each series' rows)." };
        var maxGap = new Option<int>("--max-gap") { Description = "Fill runs of up to this many missing steps by linear interpolation; longer runs are refused naming their lines.", DefaultValueFactory = _ => 3 };
        var validation = new Option<double>("--validation") { Description = "Share of the pre-test rows (the latest) used for validation and early stopping.", DefaultValueFactory = _ => 0.15 };
        var hidden = new Option<int>("--hidden") { Description = "LSTM hidden units.", DefaultValueFactory = _ => 32 };
        var epochs = new Option<int>("--epochs") { Description = "Most passes over the training windows.", DefaultValueFactory = _ => 300 };
        var patience = new Option<int>("--patience") { Description = "Stop after this many epochs without a better validation loss.", DefaultValueFactory = _ => 40 };
        var batch = new Option<int>("--batch") { Description = "Windows per training step.", DefaultValueFactory = _ => 32 };
        var rate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 3e-3 };
        var seed = new Option<int>("--seed") { Description = "Seed for weights and shuffling.", DefaultValueFactory = _ => 1 };
        var refitEvery = new Option<int?>("--refit-every") { Description = "Fit AutoETS and Theta (and with --refit-lstm the LSTM) again every this many test origins (default: the horizon, or a tenth of the test origins when that is more)." };
        var refitLstm = new Option<int?>("--refit-lstm") { Description = "Also backtest each series' LSTM trained again at the refit origins: warm-started from its latest weights for this many epochs on the rows up to the origin." };
        var command = new Command("backtest", "Train LSTM-based forecasters (per series, global over many series, the ES-RNN hybrid) and judge each against the baselines in a rolling-origin backtest of every series, with Diebold–Mariano verdicts. Nothing is saved.")
        {
            data, time, targets, longFormat, methods, window, horizon, season, normalize, testFrom, maxGap, validation, hidden, epochs, patience, batch, rate, seed, refitEvery, refitLstm,
        };
        command.SetAction(parse => ToolExit.Run("backtest", () =>
        {
            string path = ForecastCommand.DataPath(parse.GetValue(data));
            string[] columns = List(parse.GetValue(targets));
            string? id = parse.GetValue(longFormat);
            IReadOnlyList<(string Name, TimeSeriesTable Table, string Column)> tables = Tables(path, parse.GetValue(time), id, columns);
            string[] chosen = List(parse.GetValue(methods));
            foreach (string m in chosen.Where(m => !AllMethods.Contains(m)))
                throw new ArgumentException($"--methods: unknown method {UserText.Quote(m)}; the methods are {string.Join(", ", AllMethods)}.");
            if (chosen.Length == 0) chosen = tables.Count > 1 ? AllMethods : ["lstm", "hybrid"];
            if (chosen.Contains("global") && tables.Count < 2) throw new ArgumentException("--methods global needs two series or more; name them with --targets or --long.");
            int? refitEpochs = parse.GetValue(refitLstm);
            if (refitEpochs is < 1) throw new ArgumentException($"--refit-lstm must be at least 1 epoch; got {refitEpochs}.");
            if (refitEpochs is not null && !chosen.Contains("lstm")) throw new ArgumentException("--refit-lstm refits the per-series LSTM: add lstm to --methods.");
            if (parse.GetValue(refitEvery) is < 1) throw new ArgumentException($"--refit-every must be at least 1 origin; got {parse.GetValue(refitEvery)}.");

            TimeFrequency frequency = tables[0].Table.InferFrequency().Frequency;
            Console.WriteLine($"frequency: {frequency.Describe()} (defaults for what --season, --horizon and --window do not give)");
            var settings = new ForecastSettings
            {
                TimeColumn = tables[0].Table.TimeColumn,
                InputColumns = [tables[0].Column],
                TargetColumn = tables[0].Column,
                Window = parse.GetValue(window) ?? frequency.Window,
                Horizon = parse.GetValue(horizon) ?? frequency.Horizon,
                SeasonLength = parse.GetValue(season) ?? frequency.SeasonLength,
                Normalization = parse.GetValue(normalize),
                TestFrom = parse.GetValue(testFrom),
                ValidationFraction = parse.GetValue(validation),
                MaxGap = parse.GetValue(maxGap),
            };
            var options = new ForecastTrainingOptions
            {
                HiddenSize = parse.GetValue(hidden),
                MaxEpochs = parse.GetValue(epochs),
                Patience = parse.GetValue(patience),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(rate),
                Seed = parse.GetValue(seed),
            };
            options.Validate();
            return Run(path, tables, settings, options, chosen, refitEpochs, parse.GetValue(refitEvery));
        }));
        return command;
    }

    private static string[] List(string[]? values) =>
        [.. (values ?? []).SelectMany(v => v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];

    /// <summary>Each series' table and value column: columns of one wide table, or the groups of a long-format one.</summary>
    private static IReadOnlyList<(string Name, TimeSeriesTable Table, string Column)> Tables(string path, string? time, string? id, string[] columns)
    {
        if (id is null)
        {
            TimeSeriesTable table = TimeSeriesTable.Load(path, time);
            if (columns.Length == 0) columns = [table.FirstNumericColumnAfterTime()];
            return [.. columns.Select(c => (c, table, c))];
        }

        if (columns.Length > 1) throw new ArgumentException($"With --long, --targets names the one value column; got {columns.Length}.");
        IReadOnlyList<KeyValuePair<string, TimeSeriesTable>> groups = TimeSeriesTable.LoadLong(path, id, time);
        string column = columns.Length == 1 ? columns[0] : groups[0].Value.FirstNumericColumnAfterTime();
        return [.. groups.Select(g => (g.Key, g.Value, column))];
    }

    private static int Run(string path, IReadOnlyList<(string Name, TimeSeriesTable Table, string Column)> tables, ForecastSettings shared, ForecastTrainingOptions options,
        string[] chosen, int? refitEpochs, int? refitEvery)
    {
        var series = new List<ForecastSeries>();
        foreach ((string name, TimeSeriesTable table, string column) in tables)
        {
            ForecastSeries s = ForecastSeries.From(table, shared with { TimeColumn = table.TimeColumn, InputColumns = [column], TargetColumn = column });
            foreach (string filled in s.Filled) Console.WriteLine($"missing: {name}: {filled}");
            series.Add(s);
        }

        Console.WriteLine($"data: {path}, {series.Count} series ({string.Join(", ", tables.Select(t => UserText.Quote(t.Name)))}), {series.Sum(s => s.Length)} rows; window {shared.Window}, horizon {shared.Horizon}, season {shared.SeasonLength}");
        Console.WriteLine($"model: LSTM 1→{options.HiddenSize}, head → {shared.Horizon} steps; Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {options.BatchSize}, at most {options.MaxEpochs} epochs (patience {options.Patience}), seed {options.Seed}");
        var lstms = new List<LstmForecaster>();
        var refitting = new List<RefittingLstm>();
        GlobalForecaster? global = null, hybrid = null;
        try
        {
            if (chosen.Contains("lstm"))
            {
                for (int k = 0; k < series.Count; k++)
                {
                    ForecastSettings settings = shared with { InputColumns = [tables[k].Column], TargetColumn = tables[k].Column };
                    ForecastTrainingResult result = TrainingDisplay.Run($"LSTM '{tables[k].Name}'", mayStopEarly: true, update =>
                        ForecasterTraining.Train(series[k], settings, options, report => update((double)report.Epoch / report.MaxEpochs, Progress(report))));
                    Console.WriteLine($"LSTM '{tables[k].Name}': {result.StopReason}; best epoch {result.BestEpoch} of {result.Epochs}");
                    lstms.Add(result.Forecaster);
                    if (refitEpochs is { } epochs) refitting.Add(new RefittingLstm(result.Forecaster, series[k], epochs, options));
                }
            }

            if (chosen.Contains("global") && series.Count > 1) global = TrainGlobal(series, shared, GlobalModelKind.ScaledPerSeries, options, "global LSTM");
            if (chosen.Contains("hybrid")) hybrid = TrainGlobal(series, shared, GlobalModelKind.ExponentialSmoothingHybrid, options, "ES-RNN hybrid");
            for (int k = 0; k < series.Count; k++)
            {
                var candidates = new List<NamedForecastMethod>();
                if (lstms.Count > 0) candidates.Add(new("LSTM", lstms[k].AsMethod(series[k])));
                if (refitting.Count > 0) candidates.Add(refitting[k].AsNamedMethod("LSTM, refitted"));
                if (global is not null) candidates.Add(new("global LSTM", global.AsMethod(k)));
                if (hybrid is not null)
                    candidates.Add(new("ES-RNN hybrid", hybrid.AsMethod(k), $"the ES-RNN hybrid's smoothing, fitted on the training rows: {hybrid.Decomposition(k)!.Model.Name} with {hybrid.Decomposition(k)!.Model.DescribeParameters()}"));
                Report(tables[k].Name, series[k], shared, candidates, refitEpochs, refitEvery);
            }
        }
        finally
        {
            foreach (RefittingLstm r in refitting) r.Dispose();
            foreach (LstmForecaster f in lstms) f.Dispose();
            global?.Dispose();
            hybrid?.Dispose();
        }

        return ToolExit.Ok;
    }

    private static GlobalForecaster TrainGlobal(List<ForecastSeries> series, ForecastSettings settings, GlobalModelKind kind, ForecastTrainingOptions options, string label)
    {
        GlobalForecastTrainingResult result = TrainingDisplay.Run(label, mayStopEarly: true, update =>
            GlobalForecaster.Train(series, settings, kind, options, report => update((double)report.Epoch / report.MaxEpochs, Progress(report))));
        Console.WriteLine($"{label} over {series.Count} series: {result.StopReason}; best epoch {result.BestEpoch} of {result.Epochs}");
        return result.Forecaster;
    }

    private static string PValue(double p) => p < 0.001 ? "< 0.001" : "= " + p.ToString("F3", CultureInfo.InvariantCulture);

    private static string Progress(EpochReport report) =>
        $"epoch {report.Epoch}/{report.MaxEpochs} loss {report.TrainLoss:F4} val {report.ValidationLoss:F4}{(report.Improved ? " *" : "")}";

    /// <summary>One series' backtest: every candidate and baseline, each candidate's verdict against the baselines, and the best candidate against seasonal naive + drift and AutoETS.</summary>
    private static void Report(string name, ForecastSeries series, ForecastSettings settings, List<NamedForecastMethod> candidates, int? refitEpochs, int? refitEvery)
    {
        IReadOnlyList<NamedForecastMethod> baselines = ForecastComparison.Baselines(series, settings.SeasonLength, settings.Window, out IReadOnlyList<string> notes);
        NamedForecastMethod[] methods = [.. candidates, .. baselines];
        IReadOnlyList<int> test = series.Split.Test;
        int every = refitEvery ?? Math.Max(settings.Horizon, (test.Count + 9) / 10);
        ForecastBacktest backtest = ForecastComparison.Backtest(methods, series, settings.SeasonLength, settings.Horizon, every);
        Console.WriteLine();
        Console.WriteLine($"== {UserText.Quote(name)}: rolling-origin backtest, {test.Count} forecasts of {settings.Horizon} steps from origins {series.Times[test[0]]} … {series.Times[test[^1]]}; AutoETS and Theta{(refitEpochs is null ? "" : " and the refitted LSTM")} fitted again every {every} origins ({backtest.Refits} fits){(refitEpochs is null ? "" : $", the LSTM warm-started for {refitEpochs} epoch{(refitEpochs == 1 ? "" : "s")} each time")}; the other LSTM-based methods trained once, on the rows before the test");
        foreach (NamedForecastMethod method in methods.Where(m => m.Fitted is not null)) Console.WriteLine(method.Fitted);
        foreach (string note in notes) Console.WriteLine(note);
        int[] baselineIndices = [.. Enumerable.Range(candidates.Count, baselines.Count)];
        ForecastReport.PrintTable(backtest.Scores, score => backtest.Scores.Take(candidates.Count).Contains(score));
        for (int c = 0; c < candidates.Count; c++) Console.WriteLine($"{candidates[c].Name}: {ForecastComparison.Judge(backtest, c, baselineIndices).Text}");
        if (!backtest.CanCompare) return;

        // Chosen on the test split, so the comparison below flatters the LSTM side; each candidate's own verdict is above.
        int best = Enumerable.Range(0, candidates.Count).MinBy(c => backtest.Scores[c].Mase);
        string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
        var against = new List<string>();
        foreach (int rival in baselineIndices.Where(b => backtest.Names[b].StartsWith("seasonal naive + drift", StringComparison.Ordinal) || backtest.Names[b] == "drift" || backtest.Names[b].StartsWith("AutoETS", StringComparison.Ordinal)))
        {
            DieboldMarianoResult dm = backtest.Compare(best, rival);
            string verdict = dm.PValueCandidateBetter < ForecastComparison.SignificanceLevel ? "better" : dm.PValueRivalBetter < ForecastComparison.SignificanceLevel ? "worse" : "a tie";
            against.Add($"{backtest.Names[rival]} {F(backtest.Scores[rival].Mase)} ({verdict}: p {PValue(dm.PValueCandidateBetter)} better, p {PValue(dm.PValueRivalBetter)} worse)");
        }

        Console.WriteLine($"lowest test MASE of the LSTM-based methods (picked on the test split): {backtest.Names[best]} {F(backtest.Scores[best].Mase)}; against {string.Join("; ", against)}; Diebold–Mariano over {backtest.Origins.Count} origins");
    }
}
