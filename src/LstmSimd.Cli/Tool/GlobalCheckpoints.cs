using LstmSimd.Forecasting;
using LstmSimd.IO;

namespace LstmSimd.Cli.Tool;

/// <summary>Checkpoints of forecasters over many series (<see cref="GlobalForecasterCheckpoint"/>): recognising them, and reading their series again.</summary>
internal static class GlobalCheckpoints
{
    /// <summary>Whether <paramref name="path"/> is a global forecaster checkpoint (an LstmSimd model file with its metadata entry).</summary>
    public static bool IsGlobal(string path)
    {
        if (path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) || !File.Exists(path)) return false;
        try
        {
            using SafetensorsFile file = SafetensorsFile.Open(path);
            return LstmModelFile.IsModelFile(file) && file.Metadata.ContainsKey(GlobalForecasterCheckpoint.MetadataKey);
        }
        catch (ModelFormatException)
        {
            return false; // the usual loading names what is wrong with the file
        }
    }

    /// <summary>"ES-RNN hybrid", "ETS + LSTM correction": what the tables call a kind.</summary>
    public static string Label(GlobalModelKind kind) => kind switch
    {
        GlobalModelKind.ScaledPerSeries => "global LSTM",
        GlobalModelKind.ExponentialSmoothingHybrid => "ES-RNN hybrid",
        GlobalModelKind.MultiplicativeHybrid => "ES-RNN hybrid, multiplicative",
        _ => "ETS + LSTM correction",
    };

    /// <summary>
    /// The intervals the checkpoint keeps when they are at <paramref name="level"/>; otherwise null, and a note that the
    /// intervals shown are calibrated on the saved forecaster's own validation forecasts.
    /// </summary>
    public static IReadOnlyList<ForecastIntervals>? SavedIntervals(GlobalForecasterCheckpoint checkpoint, string name, double level)
    {
        string percent = (100 * level).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture) + " %";
        const string Instead = "calibrated on the saved forecaster's validation forecasts (too narrow if it was refitted on those rows with --refit-all)";
        if (checkpoint.Intervals is not { } saved)
        {
            Console.WriteLine($"note: {name} keeps no prediction intervals (saved before they were kept, format version 1); the {percent} intervals below are {Instead}");
            return null;
        }

        if (Math.Abs(saved[0].Level - level) > 1e-12)
        {
            Console.WriteLine($"note: {name} keeps {(100 * saved[0].Level).ToString("0.#", System.Globalization.CultureInfo.InvariantCulture)} % intervals; the {percent} ones asked for are {Instead}");
            return null;
        }

        return saved;
    }

    /// <summary>
    /// The checkpoint's forecaster over its series, read from <paramref name="data"/> or else from the file it remembers
    /// (a note when that changed since training); <paramref name="testFrom"/> overrides the test period's start.
    /// </summary>
    /// <exception cref="TimeSeriesFormatException">The data lacks a series the checkpoint names, or is of another frequency.</exception>
    public static (GlobalForecasterCheckpoint Checkpoint, GlobalForecaster Forecaster, List<ForecastSeries> Series) Load(string path, FileInfo? data, string? testFrom)
    {
        GlobalForecasterCheckpoint checkpoint = GlobalForecasterCheckpoint.Read(path);
        ForecastSettings settings = testFrom is null ? checkpoint.Settings : checkpoint.Settings with { TestFrom = testFrom };
        ForecastDataSource? remembered = settings.Data;
        string file = data?.FullName ?? remembered?.Path
            ?? throw new ArgumentException($"{path} remembers no training data; pass --data with the file to use.");
        var tables = new List<TimeSeriesTable>();
        if (checkpoint.LongColumn is { } idColumn)
        {
            if (!File.Exists(file))
                throw new FileNotFoundException($"the training data {UserText.Quote(file)}, remembered by the checkpoint, is not there (moved or deleted); pass --data with the file to use.", file);
            Dictionary<string, TimeSeriesTable> groups = TimeSeriesTable.LoadLong(file, idColumn, settings.TimeColumn).ToDictionary(g => g.Key, g => g.Value, StringComparer.Ordinal);
            foreach (string name in checkpoint.SeriesNames)
            {
                tables.Add(groups.TryGetValue(name, out TimeSeriesTable? group) ? group
                    : throw new TimeSeriesFormatException($"{file}: no series {UserText.Quote(name)} in the column {UserText.Quote(idColumn)}; the forecaster was trained on {string.Join(", ", checkpoint.SeriesNames.Select(UserText.Quote))}."));
                remembered?.RefuseOtherFrequency(group);
            }

            Console.WriteLine(data is not null ? $"data: {file}" : tables[0].ContentSha256 == remembered!.Sha256 ? $"data: {file} (as in training)" : $"note: {file} changed since training (its SHA-256 differs); forecasting on what it holds now");
        }
        else
        {
            TimeSeriesTable table;
            if (data is null)
            {
                table = remembered!.Reload(settings.TimeColumn, out string? changed);
                Console.WriteLine(changed is null ? $"data: {file} (as in training)" : $"note: {changed}");
            }
            else
            {
                table = TimeSeriesTable.Load(file, settings.TimeColumn);
                remembered?.RefuseOtherFrequency(table);
                Console.WriteLine($"data: {file}");
            }

            tables.AddRange(checkpoint.SeriesNames.Select(_ => table));
        }

        var series = new List<ForecastSeries>();
        for (int k = 0; k < tables.Count; k++)
        {
            string column = checkpoint.Column(k);
            ForecastSeries s = ForecastSeries.From(tables[k], settings with { InputColumns = [column], TargetColumn = column });
            foreach (string filled in s.Filled) Console.WriteLine($"missing: {checkpoint.SeriesNames[k]}: {filled}");
            series.Add(s);
        }

        return (checkpoint, checkpoint.Create(series), series);
    }
}
