using System.CommandLine;
using System.Globalization;
using LstmSimd.Cli.Tool;
using LstmSimd.Forecasting;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// <c>lstmsimd backtest</c>: trains the LSTM-based forecasters (one LSTM per series, optionally refitted at the origins; a
/// global LSTM over all the series; the ES-RNN hybrids, additive and multiplicative; exponential smoothing with an LSTM
/// correction), each optionally a median over several seeds, and judges each against the baselines in one rolling-origin
/// backtest per series, with each method's prediction intervals measured on the test split. Nothing is saved unless --save says so.
/// </summary>
internal static class BacktestCommand
{
    private static readonly string[] AllMethods = ["lstm", "global", "hybrid", "hybrid-mult", "ets-lstm"];

    /// <summary>The one-LSTM-over-every-series methods: option name and kind.</summary>
    private static readonly (string Option, GlobalModelKind Kind)[] GlobalMethods =
    [
        ("global", GlobalModelKind.ScaledPerSeries),
        ("hybrid", GlobalModelKind.ExponentialSmoothingHybrid),
        ("hybrid-mult", GlobalModelKind.MultiplicativeHybrid),
        ("ets-lstm", GlobalModelKind.EtsCorrection),
    ];

    public static Command Create()
    {
        var data = new Option<FileInfo?>("--data") { Description = "CSV time series (default: the bundled Mauna Loa CO2 series): one column per series, or with --long one row per series and time." };
        var time = new Option<string?>("--time") { Description = "The time column (default: the first column, or with --long the first other than the series column)." };
        var targets = new Option<string[]>("--targets") { Description = "The columns to forecast, comma-separated, each its own series (default: the first numeric column after the time column); with --long, the one value column.", AllowMultipleArgumentsPerToken = true };
        var longFormat = new Option<string?>("--long") { Description = "Long format: this column names the series each row belongs to; each series' rows are read in file order." };
        var methods = new Option<string[]>("--methods") { Description = "LSTM-based methods to train, comma-separated: lstm (one per series), global (one LSTM over every series, each scaled by its own training statistics; needs 2 series or more), hybrid (ES-RNN: per-series exponential smoothing level and season removed, one LSTM on what remains), hybrid-mult (the same on the logarithms: level and season divide the series, as in Smyl's ES-RNN; positive series only), ets-lstm (each series' AutoETS model, trend included, plus one LSTM forecasting its errors). Default: all that apply.", AllowMultipleArgumentsPerToken = true };
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
        var seeds = new Option<int>("--seeds") { Description = "Train each LSTM-based method from this many seeds (--seed, --seed + 1, …) and forecast the median of their forecasts, step by step.", DefaultValueFactory = _ => 1 };
        var save = new Option<FileInfo?>("--save") { Description = "Save the one global, hybrid, hybrid-mult or ets-lstm model that --methods names (one seed) as a checkpoint that forecast and detect read." };
        var level = new Option<double>("--level") { Description = "Nominal coverage of the LSTM-based methods' prediction intervals (split conformal per step ahead), measured on the test origins; a saved model keeps its intervals at this level.", DefaultValueFactory = _ => 0.8 };
        var adapt = new Option<double>("--adapt") { Description = "How fast the rolling intervals' level adapts to misses (adaptive conformal inference's γ; 0 keeps it nominal).", DefaultValueFactory = _ => ForecastReport.DefaultAdaptationRate };
        KnownFutureOptions knownFuture = KnownFutureOptions.Create();
        var refitAll = new Option<bool>("--refit-all") { Description = "After early stopping, fit the global, hybrid and ets-lstm models again on the training and validation rows together (smoothing or scaling, then a new LSTM for the best epoch's count of epochs)." };
        var command = new Command("backtest", "Train LSTM-based forecasters (per series, global over many series, the ES-RNN hybrid) and judge each against the baselines in a rolling-origin backtest of every series, with Diebold–Mariano verdicts. Nothing is saved.")
        {
            data, time, targets, longFormat, methods, window, horizon, season, normalize, testFrom, maxGap, validation, hidden, epochs, patience, batch, rate, seed, refitEvery, refitLstm, seeds, refitAll, save, level, adapt, knownFuture.Calendar, knownFuture.Covariates,
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
            bool byDefault = chosen.Length == 0;
            if (byDefault) chosen = tables.Count > 1 ? AllMethods : [.. AllMethods.Where(m => m != "global")];
            if (chosen.Contains("global") && tables.Count < 2) throw new ArgumentException("--methods global needs two series or more; name them with --targets or --long.");
            int? refitEpochs = parse.GetValue(refitLstm);
            if (refitEpochs is < 1) throw new ArgumentException($"--refit-lstm must be at least 1 epoch; got {refitEpochs}.");
            if (refitEpochs is not null && !chosen.Contains("lstm")) throw new ArgumentException("--refit-lstm refits the per-series LSTM: add lstm to --methods.");
            if (parse.GetValue(refitEvery) is < 1) throw new ArgumentException($"--refit-every must be at least 1 origin; got {parse.GetValue(refitEvery)}.");
            int seedCount = parse.GetValue(seeds);
            if (seedCount < 1) throw new ArgumentException($"--seeds must be at least 1; got {seedCount}.");
            if (seedCount > 1 && refitEpochs is not null) throw new ArgumentException("--refit-lstm refits one LSTM per series, not an ensemble: give --seeds 1 with it.");
            IntervalReport.Options intervals = IntervalReport.Options.Checked(parse.GetValue(level), parse.GetValue(adapt));
            string? savePath = parse.GetValue(save)?.FullName;
            if (savePath is not null)
            {
                string[] savable = [.. chosen.Where(m => GlobalMethods.Any(g => g.Option == m))];
                if (byDefault || chosen.Length != 1 || savable.Length != 1)
                    throw new ArgumentException("--save saves one model: name one of global, hybrid, hybrid-mult or ets-lstm, alone, in --methods.");
                if (seedCount > 1) throw new ArgumentException("--save saves one model, not an ensemble of seeds: give --seeds 1 with it.");
                OutputPaths.RefuseClashes([("--data", path)], [("--save", savePath)]);
            }


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
            settings = knownFuture.Apply(parse, settings, frequency);
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
            return Run(path, tables, settings with { Data = Source(path, id, tables, frequency) }, options, chosen, byDefault,
                new Training(refitEpochs, seedCount, parse.GetValue(refitAll)), parse.GetValue(refitEvery), savePath is null ? null : new SaveTo(savePath, id), intervals);
        }));
        return command;
    }

    /// <summary>The data file as a saved model remembers it (a long file's group tables name their group, so the file's own path is kept).</summary>
    private static ForecastDataSource Source(string path, string? id, IReadOnlyList<(string Name, TimeSeriesTable Table, string Column)> tables, TimeFrequency frequency) =>
        id is null ? ForecastDataSource.Of(tables[0].Table, frequency)
            : new ForecastDataSource(Path.GetFullPath(path), tables[0].Table.ContentSha256!, tables.Sum(t => t.Table.RowCount), frequency.Name);

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

    /// <summary>How the LSTM-based methods are trained: refits of the per-series LSTM at the origins, seeds per method, refits on training and validation rows.</summary>
    private sealed record Training(int? RefitEpochs, int Seeds, bool RefitAll);

    /// <summary>Where --save writes the model, and the long-format file's series column (null for a wide file).</summary>
    private sealed record SaveTo(string Path, string? LongColumn);

    /// <summary>One LSTM-based method on one series: what the backtest runs, and its forecasts as trained on the training rows only (to score on the validation rows).</summary>
    internal sealed record Candidate(NamedForecastMethod Test, ForecastMethod Validation);

    private static int Run(string path, IReadOnlyList<(string Name, TimeSeriesTable Table, string Column)> tables, ForecastSettings shared, ForecastTrainingOptions options,
        string[] chosen, bool byDefault, Training training, int? refitEvery, SaveTo? saveTo, IntervalReport.Options intervals)
    {
        var series = new List<ForecastSeries>();
        foreach ((string name, TimeSeriesTable table, string column) in tables)
        {
            ForecastSeries s = ForecastSeries.From(table, shared with { TimeColumn = table.TimeColumn, InputColumns = [column], TargetColumn = column });
            foreach (string filled in s.Filled) Console.WriteLine($"missing: {name}: {filled}");
            series.Add(s);
        }

        // The multiplicative hybrid smooths logarithms: checked before any training, left out of the default methods with the reason.
        int notPositive = chosen.Contains("hybrid-mult") ? series.FindIndex(s => s.Target.Any(v => !(v > 0))) : -1;
        if (notPositive >= 0)
        {
            int row = Array.FindIndex(series[notPositive].Target, v => !(v > 0));
            string reason = $"{UserText.Quote(tables[notPositive].Name)} is {series[notPositive].Target[row].ToString(CultureInfo.InvariantCulture)} at {series[notPositive].Times[row]}; the multiplicative hybrid smooths the logarithms of the values, so every value must be positive";
            if (!byDefault) throw new ArgumentException($"--methods hybrid-mult: {reason}.");
            Console.WriteLine($"hybrid-mult left out: {reason}");
            chosen = [.. chosen.Where(m => m != "hybrid-mult")];
        }

        Console.WriteLine($"data: {path}, {series.Count} series ({string.Join(", ", tables.Select(t => UserText.Quote(t.Name)))}), {series.Sum(s => s.Length)} rows; window {shared.Window}, horizon {shared.Horizon}, season {shared.SeasonLength}");
        int knownFutureInputs = shared.Covariates.Count + CalendarEncoding.Width(shared.Calendar);
        Console.WriteLine($"model: LSTM {(knownFutureInputs == 0 ? 1 : knownFutureInputs + 2)}→{options.HiddenSize}{(knownFutureInputs == 0 ? "" : " over the window and the horizon")}, head → {shared.Horizon} steps; Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {options.BatchSize}, at most {options.MaxEpochs} epochs (patience {options.Patience}), seed {options.Seed}{(training.Seeds > 1 ? $" … {options.Seed + training.Seeds - 1}, each method the median of its {training.Seeds} seeds' forecasts" : "")}");
        var disposables = new List<IDisposable>();
        try
        {
            var candidates = series.Select(_ => new List<Candidate>()).ToList();
            if (chosen.Contains("lstm"))
            {
                for (int k = 0; k < series.Count; k++)
                {
                    ForecastSettings settings = shared with { InputColumns = [tables[k].Column], TargetColumn = tables[k].Column };
                    var members = new List<ForecastMethod>();
                    LstmForecaster? latest = null;
                    foreach (ForecastTrainingOptions seeded in Seeded(options, training.Seeds))
                    {
                        ForecastTrainingResult result = TrainingDisplay.Run($"LSTM '{tables[k].Name}'{SeedLabel(seeded, training)}", mayStopEarly: true, update =>
                            ForecasterTraining.Train(series[k], settings, seeded, report => update((double)report.Epoch / report.MaxEpochs, Progress(report))));
                        Console.WriteLine($"LSTM '{tables[k].Name}'{SeedLabel(seeded, training)}: {result.StopReason}; best epoch {result.BestEpoch} of {result.Epochs}");
                        disposables.Add(latest = result.Forecaster);
                        members.Add(result.Forecaster.AsMethod(series[k]));
                    }

                    ForecastMethod lstm = ForecastEnsemble.Median(members);
                    candidates[k].Add(new(new("LSTM", lstm), lstm));
                    if (training.RefitEpochs is { } epochs)
                    {
                        // One seed only (checked above): the refits start from that LSTM, and before the test it is that LSTM.
                        var refitting = new RefittingLstm(latest!, series[k], epochs, options);
                        disposables.Add(refitting);
                        candidates[k].Add(new(refitting.AsNamedMethod("LSTM, refitted"), lstm));
                    }
                }
            }

            foreach ((string option, GlobalModelKind kind) in GlobalMethods)
            {
                if (!chosen.Contains(option) || (kind == GlobalModelKind.ScaledPerSeries && series.Count < 2)) continue;
                string label = GlobalCheckpoints.Label(kind);
                var results = new List<GlobalForecastTrainingResult>();
                foreach (ForecastTrainingOptions seeded in Seeded(options, training.Seeds))
                {
                    GlobalForecastTrainingResult result = TrainGlobal(series, shared, kind, seeded, label + SeedLabel(seeded, training), training.RefitAll);
                    disposables.Add(result.Forecaster);
                    disposables.Add(result.EarlyStopped);
                    results.Add(result);
                }

                if (saveTo is not null)
                {
                    // Calibrated on the forecaster trained on the training rows only: a refitted one has seen the validation rows.
                    IReadOnlyList<ForecastIntervals>? calibrated = null;
                    try
                    {
                        calibrated = GlobalForecastIntervals.Calibrate(results[0].EarlyStopped, intervals.Level);
                    }
                    catch (ArgumentException e)
                    {
                        Console.WriteLine($"note: the model is saved without prediction intervals: {e.Message}");
                    }

                    GlobalForecasterCheckpoint.Save(saveTo.Path, results[0].Forecaster, [.. tables.Select(t => t.Name)], saveTo.LongColumn, calibrated);
                    Console.WriteLine($"saved the {label} to {saveTo.Path}{(calibrated is null ? "" : $", with each series' {Percent(intervals.Level)} prediction intervals")}");
                }

                for (int k = 0; k < series.Count; k++)
                {
                    ForecastMethod test = ForecastEnsemble.Median([.. results.Select(r => r.Forecaster.AsMethod(k))]);
                    ForecastMethod validation = ForecastEnsemble.Median([.. results.Select(r => r.EarlyStopped.AsMethod(k))]);
                    SmoothingStates? smoothing = results[0].Forecaster.Smoothing(k);
                    string? fitted = smoothing is null ? null
                        : $"the {label}'s smoothing, fitted on the {(training.RefitAll ? "rows before the test" : "training rows")}{(kind == GlobalModelKind.MultiplicativeHybrid ? " (on the logarithms)" : "")}: {smoothing.Model.Name} with {smoothing.Model.DescribeParameters()}{(kind == GlobalModelKind.EtsCorrection ? SmoothingAlone(series[k], shared, smoothing.Model) : "")}";
                    candidates[k].Add(new(new(label, test, fitted), validation));
                }
            }

            for (int k = 0; k < series.Count; k++) Report(tables[k].Name, series[k], shared, candidates[k], training.RefitEpochs, refitEvery, intervals);
        }
        finally
        {
            for (int d = disposables.Count - 1; d >= 0; d--) disposables[d].Dispose();
        }

        return ToolExit.Ok;
    }

    /// <summary>"; alone (no correction) it scores test MASE 0.301": what the LSTM's correction is to be weighed against.</summary>
    private static string SmoothingAlone(ForecastSeries series, ForecastSettings settings, EtsModel model)
    {
        double scale = ForecastScore.SeasonalNaiveScale(series.Target, series.Split.TestStart, settings.SeasonLength);
        ForecastScore alone = ForecastScore.Evaluate(model.Name, ForecastBaselines.Ets(model), series.Target, series.Split.Test, settings.Horizon, scale);
        return $"; alone (no correction, never refitted) it scores test MASE {alone.Mase.ToString("F3", CultureInfo.InvariantCulture)}";
    }

    /// <summary>The options once per seed: --seed, --seed + 1, ….</summary>
    private static IEnumerable<ForecastTrainingOptions> Seeded(ForecastTrainingOptions options, int seeds) =>
        Enumerable.Range(0, seeds).Select(i => options with { Seed = options.Seed + i });

    private static string SeedLabel(ForecastTrainingOptions seeded, Training training) => training.Seeds > 1 ? $" (seed {seeded.Seed})" : "";

    private static GlobalForecastTrainingResult TrainGlobal(List<ForecastSeries> series, ForecastSettings settings, GlobalModelKind kind, ForecastTrainingOptions options, string label, bool refitAll)
    {
        GlobalForecastTrainingResult result = TrainingDisplay.Run(label, mayStopEarly: true, update =>
            GlobalForecaster.Train(series, settings, kind, options, report => update((double)report.Epoch / report.MaxEpochs, Progress(report)), refitOnTrainingAndValidation: refitAll));
        Console.WriteLine($"{label} over {series.Count} series: {result.StopReason}; best epoch {result.BestEpoch} of {result.Epochs}");
        return result;
    }

    private static string Percent(double share) => (100 * share).ToString("0.#", CultureInfo.InvariantCulture) + " %";

    private static string PValue(double p) => p < 0.001 ? "< 0.001" : "= " + p.ToString("F3", CultureInfo.InvariantCulture);

    private static string Progress(EpochReport report) =>
        $"epoch {report.Epoch}/{report.MaxEpochs} loss {report.TrainLoss:F4} val {report.ValidationLoss:F4}{(report.Improved ? " *" : "")}";

    /// <summary>
    /// One series' backtest: every candidate and baseline, each candidate's verdict against the baselines, and two
    /// candidates against seasonal naive + drift and AutoETS: the one with the lowest MAE on the validation rows (chosen
    /// before the test is seen), and the one with the lowest test MASE (chosen on the test split, so it flatters the LSTM side).
    /// </summary>
    /// <returns>Whether the first candidate beats every baseline.</returns>
    internal static bool Report(string name, ForecastSeries series, ForecastSettings settings, List<Candidate> candidates, int? refitEpochs, int? refitEvery, IntervalReport.Options? intervals = null)
    {
        IReadOnlyList<NamedForecastMethod> baselines = ForecastComparison.Baselines(series, settings.SeasonLength, settings.Window, out IReadOnlyList<string> notes);
        NamedForecastMethod[] methods = [.. candidates.Select(c => c.Test), .. baselines];
        IReadOnlyList<int> test = series.Split.Test;
        int every = refitEvery ?? Math.Max(settings.Horizon, (test.Count + 9) / 10);
        ForecastBacktest backtest = ForecastComparison.Backtest(methods, series, settings.SeasonLength, settings.Horizon, every);
        Console.WriteLine();
        Console.WriteLine($"== {UserText.Quote(name)}: rolling-origin backtest, {test.Count} forecasts of {settings.Horizon} steps from origins {series.Times[test[0]]} … {series.Times[test[^1]]}; AutoETS and Theta{(refitEpochs is null ? "" : " and the refitted LSTM")} fitted again every {every} origins ({backtest.Refits} fits){(refitEpochs is null ? "" : $", the LSTM warm-started for {refitEpochs} epoch{(refitEpochs == 1 ? "" : "s")} each time")}; the other LSTM-based methods trained once, on the rows before the test");
        foreach (NamedForecastMethod method in methods.Where(m => m.Fitted is not null)) Console.WriteLine(method.Fitted);
        foreach (string note in notes) Console.WriteLine(note);
        int[] baselineIndices = [.. Enumerable.Range(candidates.Count, baselines.Count)];
        ForecastReport.PrintTable(backtest.Scores, score => backtest.Scores.Take(candidates.Count).Contains(score));
        ForecastVerdict[] verdicts = [.. Enumerable.Range(0, candidates.Count).Select(c => ForecastComparison.Judge(backtest, c, baselineIndices))];
        for (int c = 0; c < candidates.Count; c++) Console.WriteLine($"{candidates[c].Test.Name}: {verdicts[c].Text}");
        if (intervals is not null)
        {
            IntervalReport.Print([.. candidates.Select(c => c.Test.Refit is not null
                ? new IntervalReport.Row(c.Test.Name, null, "its refits happen at the test origins, so errors calibrated before them are another model's")
                : IntervalReport.Measure(c.Test.Name, c.Test.Method, c.Validation, null, series, settings.Horizon, intervals))], test.Count, intervals);
        }

        if (!backtest.CanCompare) return false;

        string F(double v) => v.ToString("F3", CultureInfo.InvariantCulture);
        if (candidates.Count == 1)
        {
            Console.WriteLine($"{backtest.Names[0]} against {AgainstTargets(backtest, 0, baselineIndices)}");
            return verdicts[0].Beats;
        }

        double[] validationMae = [.. candidates.Select(c => ForecastScore.Evaluate(c.Test.Name, c.Validation, series.Target, series.Split.Validation, settings.Horizon, backtest.MaseScale).Mae)];
        int byValidation = Enumerable.Range(0, candidates.Count).MinBy(c => validationMae[c]);
        Console.WriteLine($"lowest validation MAE of the LSTM-based methods (chosen before the test; each as trained on the training rows): {backtest.Names[byValidation]} {F(validationMae[byValidation])} ({string.Join(", ", Enumerable.Range(0, candidates.Count).Select(c => $"{backtest.Names[c]} {F(validationMae[c])}"))}); test MASE {F(backtest.Scores[byValidation].Mase)}; against {AgainstTargets(backtest, byValidation, baselineIndices)}");
        int byTest = Enumerable.Range(0, candidates.Count).MinBy(c => backtest.Scores[c].Mase);
        Console.WriteLine($"lowest test MASE of the LSTM-based methods (picked on the test split): {backtest.Names[byTest]} {F(backtest.Scores[byTest].Mase)}; against {AgainstTargets(backtest, byTest, baselineIndices)}");
        return verdicts[0].Beats;
    }

    /// <summary>Candidate <paramref name="candidate"/> against seasonal naive + drift (drift without a season) and AutoETS, with both Diebold–Mariano p-values.</summary>
    private static string AgainstTargets(ForecastBacktest backtest, int candidate, int[] baselineIndices)
    {
        var against = new List<string>();
        foreach (int rival in baselineIndices.Where(b => backtest.Names[b].StartsWith("seasonal naive + drift", StringComparison.Ordinal) || backtest.Names[b] == "drift" || backtest.Names[b].StartsWith("AutoETS", StringComparison.Ordinal)))
        {
            DieboldMarianoResult dm = backtest.Compare(candidate, rival);
            string verdict = dm.PValueCandidateBetter < ForecastComparison.SignificanceLevel ? "better" : dm.PValueRivalBetter < ForecastComparison.SignificanceLevel ? "worse" : "a tie";
            against.Add($"{backtest.Names[rival]} {backtest.Scores[rival].Mase.ToString("F3", CultureInfo.InvariantCulture)} ({verdict}: p {PValue(dm.PValueCandidateBetter)} better, p {PValue(dm.PValueRivalBetter)} worse)");
        }

        return $"{string.Join("; ", against)}; Diebold–Mariano over {backtest.Origins.Count} origins";
    }
}
