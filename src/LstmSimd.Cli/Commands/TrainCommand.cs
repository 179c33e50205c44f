using System.CommandLine;
using System.Globalization;
using LstmSimd.Cli.Tool;
using LstmSimd.Forecasting;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd train</c>: trains a forecaster on a CSV time series with early stopping and checkpoints.</summary>
internal static class TrainCommand
{
    public static Command Create()
    {
        var data = new Option<FileInfo?>("--data") { Description = "CSV time series, a header row then one row per step in time order (default: the bundled Mauna Loa CO2 series)." };
        var time = new Option<string?>("--time") { Description = "The time column (default: the first column)." };
        var target = new Option<string?>("--target") { Description = "The column to predict (default: the first column after the time column whose every cell is a number)." };
        var inputs = new Option<string[]>("--inputs") { Description = "Columns the LSTM reads, comma-separated (default: the target).", AllowMultipleArgumentsPerToken = true };
        var window = new Option<int?>("--window") { Description = "Steps of history per forecast (default: from the time column's frequency, e.g. 24 for monthly data, 56 for daily)." };
        var horizon = new Option<int?>("--horizon") { Description = "Steps ahead to predict (default: from the frequency, e.g. 12 for monthly data, 14 for daily, 5 for yearly)." };
        var season = new Option<int?>("--season") { Description = "Season length for the seasonal baselines (default: from the frequency: 12 monthly, 4 quarterly, 52 weekly, 7 daily, 24 hourly, 1 yearly)." };
        var normalize = new Option<SeriesNormalization>("--normalize") { Description = "Scaling: relative (to the window's last value; follows trends), zscore, minmax or none.", DefaultValueFactory = _ => SeriesNormalization.Relative };
        var testFrom = new Option<string?>("--test-from") { Description = "First time of the test period, e.g. 2011 or 2011-01-01 (compared as numbers or dates when the times are, else as text); default: the last 15% of rows." };
        var maxGap = new Option<int>("--max-gap") { Description = "Fill runs of up to this many missing steps (missing times, or empty, NA or NaN cells) by linear interpolation; longer runs are refused naming their lines. 0 refuses any.", DefaultValueFactory = _ => 3 };
        var validation = new Option<double>("--validation") { Description = "Share of the pre-test rows (the latest) used for validation and early stopping.", DefaultValueFactory = _ => 0.15 };
        var hidden = new Option<int>("--hidden") { Description = "LSTM hidden units.", DefaultValueFactory = _ => 32 };
        var layers = new Option<int>("--layers") { Description = "Stacked LSTM layers.", DefaultValueFactory = _ => 1 };
        var epochs = new Option<int>("--epochs") { Description = "Most passes over the training windows.", DefaultValueFactory = _ => 300 };
        var patience = new Option<int>("--patience") { Description = "Stop after this many epochs without a better validation loss.", DefaultValueFactory = _ => 40 };
        var batch = new Option<int>("--batch") { Description = "Windows per training step.", DefaultValueFactory = _ => 32 };
        var rate = new Option<double>("--lr") { Description = "Adam learning rate.", DefaultValueFactory = _ => 3e-3 };
        var seed = new Option<int>("--seed") { Description = "Seed for weights and shuffling.", DefaultValueFactory = _ => 1 };
        var refitLstm = new Option<int?>("--refit-lstm") { Description = "In the test backtest, train the LSTM again wherever AutoETS and Theta are refitted: warm-started from its latest weights for this many epochs on the rows up to the origin (default: trained once, before the test)." };
        KnownFutureOptions knownFuture = KnownFutureOptions.Create();
        var output = new Option<FileInfo>("--output", "-o") { Description = "The checkpoint to write (rewritten at each better validation loss).", DefaultValueFactory = _ => new FileInfo("forecaster.lstm") };
        var command = new Command("train", "Train an LSTM forecaster on a CSV time series; writes the best-validation checkpoint and prints its test error beside naive baselines. Ctrl+C stops and keeps the last checkpoint (exit code 130).")
        {
            data, time, target, inputs, window, horizon, season, normalize, testFrom, maxGap, validation, hidden, layers, epochs, patience, batch, rate, seed, refitLstm, output, knownFuture.Calendar, knownFuture.Covariates,
        };
        command.SetAction(parse => ToolExit.Run("train", () =>
        {
            string path = ForecastCommand.DataPath(parse.GetValue(data)), checkpoint = parse.GetValue(output)!.FullName;
            OutputPaths.RefuseClashes([("--data", path)], [("--output", checkpoint)]);
            TimeSeriesTable table = TimeSeriesTable.Load(path, parse.GetValue(time));
            string targetColumn = parse.GetValue(target) ?? table.FirstNumericColumnAfterTime();
            (int? givenWindow, int? givenHorizon, int? givenSeason) = (parse.GetValue(window), parse.GetValue(horizon), parse.GetValue(season));
            TimeSpacing spacing = table.InferFrequency();
            TimeFrequency frequency = spacing.Frequency;
            Console.WriteLine($"frequency: {frequency.Describe()} (defaults for what --season, --horizon and --window do not give)");
            string[] inputColumns = [.. (parse.GetValue(inputs) ?? []).SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
            var settings = new ForecastSettings
            {
                TimeColumn = table.TimeColumn,
                InputColumns = inputColumns.Length == 0 ? [targetColumn] : inputColumns,
                TargetColumn = targetColumn,
                Window = givenWindow ?? frequency.Window,
                Horizon = givenHorizon ?? frequency.Horizon,
                SeasonLength = givenSeason ?? frequency.SeasonLength,
                Normalization = parse.GetValue(normalize),
                TestFrom = parse.GetValue(testFrom),
                ValidationFraction = parse.GetValue(validation),
                MaxGap = parse.GetValue(maxGap),
                Data = ForecastDataSource.Of(table, frequency),
            };
            var options = new ForecastTrainingOptions
            {
                HiddenSize = parse.GetValue(hidden),
                Layers = parse.GetValue(layers),
                MaxEpochs = parse.GetValue(epochs),
                Patience = parse.GetValue(patience),
                BatchSize = parse.GetValue(batch),
                LearningRate = parse.GetValue(rate),
                Seed = parse.GetValue(seed),
            };
            settings = knownFuture.Apply(parse, settings, frequency);
            return Train(table, settings, options, checkpoint, quietTable: false, parse.GetValue(refitLstm));
        }));
        return command;
    }

    /// <summary>Trains, saving each better checkpoint, then prints the test table; also used by demo.</summary>
    internal static int Train(TimeSeriesTable table, ForecastSettings settings, ForecastTrainingOptions options, string checkpoint, bool quietTable, int? refitLstmEpochs = null)
    {
        options.Validate();
        if (refitLstmEpochs is < 1) throw new ArgumentException($"--refit-lstm must be at least 1 epoch; got {refitLstmEpochs}.");
        ForecastSeries series = ForecastSeries.From(table, settings);
        string checkpointDirectory = Path.GetDirectoryName(checkpoint)!;
        if (!Directory.Exists(checkpointDirectory)) throw new DirectoryNotFoundException($"The directory of the checkpoint, {checkpointDirectory}, does not exist.");
        ForecastSplit split = series.Split;
        foreach (string filled in series.Filled) Console.WriteLine($"missing: {filled}");
        Console.WriteLine($"data: {table.Source}, {series.Length} rows ({series.Times[0]} … {series.Times[^1]}); predict '{settings.TargetColumn}' from [{string.Join(", ", settings.InputColumns)}]");
        Console.WriteLine($"split by time: train {series.Times[0]} … {series.Times[split.ValidationStart - 1]} ({split.Train.Count} windows), validation … {series.Times[split.TestStart - 1]} ({split.Validation.Count}), test {series.Times[split.TestStart]} … ({split.Test.Count})");
        Console.WriteLine($"model: LSTM {settings.InputColumns.Count}→{options.HiddenSize}{(options.Layers > 1 ? $" ×{options.Layers} layers" : "")}, head → {settings.Horizon} steps; window {settings.Window}, {settings.Normalization.ToString().ToLowerInvariant()} scaling; Adam lr {options.LearningRate.ToString(CultureInfo.InvariantCulture)}, batch {options.BatchSize}");
        using var ctrlC = new CtrlC();
        int saved = 0;
        ForecastTrainingResult result = TrainingDisplay.Run("train", mayStopEarly: true, update =>
            ForecasterTraining.Train(series, settings, options,
                report => update((double)report.Epoch / report.MaxEpochs,
                    $"epoch {report.Epoch}/{report.MaxEpochs} loss {report.TrainLoss:F4} val RMSE {report.ValidationRmse:F3}{(report.Improved ? " *" : "")}"),
                best =>
                {
                    best.Save(checkpoint);
                    saved++;
                },
                ctrlC.Token));
        using LstmForecaster forecaster = result.Forecaster;
        if (ctrlC.Pressed)
        {
            Console.WriteLine(saved > 0
                ? $"stopped by Ctrl+C after {result.Epochs} epochs; {checkpoint} holds the best so far (epoch {result.BestEpoch}, validation RMSE {result.BestValidationRmse:F3})"
                : "stopped by Ctrl+C before the first epoch ended; no checkpoint written");
            return ToolExit.Interrupted;
        }

        Console.WriteLine($"{result.StopReason}; best epoch {result.BestEpoch} of {result.Epochs} (validation RMSE {result.BestValidationRmse:F3}); saved {checkpoint}");
        if (quietTable) return ToolExit.Ok;
        using RefittingLstm? refitting = refitLstmEpochs is { } epochs ? new RefittingLstm(forecaster, series, epochs, options) : null;
        ForecastReport.PrintScores(forecaster, series, ForecastReport.Compare(forecaster, series, refitting: refitting));
        return ToolExit.Ok;
    }
}
