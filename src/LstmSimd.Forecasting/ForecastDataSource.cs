using LstmSimd.IO;

namespace LstmSimd.Forecasting;

/// <summary>
/// The file a forecaster was trained on, as its checkpoint remembers it, so forecasting and detection can read the same
/// rows again without being told where they are; and what the file held then, to notice a file that changed since.
/// </summary>
/// <param name="Path">The file: on load, the copy found beside the checkpoint (by the path relative to it at save time) when it is there, else the absolute path saved.</param>
/// <param name="Sha256">The SHA-256 of the file's bytes when it was read for training (lowercase hex).</param>
/// <param name="Rows">Its data rows then.</param>
/// <param name="Frequency">The spacing of its times then (<see cref="TimeFrequency.Name"/>: "monthly", "every 15 minutes").</param>
public sealed record ForecastDataSource(string Path, string Sha256, int Rows, string Frequency)
{
    /// <summary>The source of a table read from a file by <see cref="TimeSeriesTable.Load"/>.</summary>
    /// <exception cref="ArgumentException">The table was not read from a file.</exception>
    public static ForecastDataSource Of(TimeSeriesTable table, TimeFrequency frequency)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(frequency);
        string sha = table.ContentSha256 ?? throw new ArgumentException("Only a table read from a file (TimeSeriesTable.Load) has a data source to remember.", nameof(table));
        return new ForecastDataSource(System.IO.Path.GetFullPath(table.Source), sha, table.RowCount, frequency.Name);
    }

    /// <summary>
    /// Reads the remembered file again. A file whose bytes differ from training time is read all the same (new rows
    /// appended is the usual reason to forecast again), and <paramref name="changed"/> says how it differs; a missing
    /// file, or one whose times are now of another frequency, is refused.
    /// </summary>
    /// <exception cref="FileNotFoundException">The file is gone (the message names where it was looked for).</exception>
    /// <exception cref="TimeSeriesFormatException">The file is no longer a readable series, or its frequency changed.</exception>
    public TimeSeriesTable Reload(string timeColumn, out string? changed)
    {
        if (!File.Exists(Path))
            throw new FileNotFoundException($"the training data {UserText.Quote(Path)}, remembered by the checkpoint, is not there (moved or deleted); pass --data with the file to use.", Path);
        TimeSeriesTable table = TimeSeriesTable.Load(Path, timeColumn);
        RefuseOtherFrequency(table);
        changed = table.ContentSha256 == Sha256 ? null
            : $"{Path} changed since training ({Rows} rows then, {table.RowCount} now; its SHA-256 differs); forecasting on what it holds now";
        return table;
    }

    /// <summary>Refuses a table whose times are not of the <see cref="Frequency"/> the forecaster was trained on.</summary>
    /// <exception cref="TimeSeriesFormatException">Another frequency (both named).</exception>
    public void RefuseOtherFrequency(TimeSeriesTable table)
    {
        ArgumentNullException.ThrowIfNull(table);
        string now = table.InferFrequency().Frequency.Name;
        if (now != Frequency)
            throw new TimeSeriesFormatException($"{table.Source}: its rows are {now}; the forecaster was trained on {Frequency} rows, so its window, horizon and season do not fit them.");
    }
}
