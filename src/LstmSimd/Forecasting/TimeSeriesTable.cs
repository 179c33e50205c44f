using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>
/// A CSV time series: a header row, then one row per time step in time order. One column holds the time
/// (kept as text), the others are read as numbers (invariant culture) when asked for by name, so a bad cell is
/// reported with its line only if it is in a column that is used.
/// </summary>
public sealed class TimeSeriesTable
{
    private readonly string[][] _cells;
    private readonly int _timeColumn;

    private TimeSeriesTable(string source, string[] header, string[][] cells, int timeColumn)
    {
        Source = source;
        ColumnNames = header;
        _cells = cells;
        _timeColumn = timeColumn;
        Times = [.. cells.Select(row => row[timeColumn])];
    }

    /// <summary>Where the table came from, for messages.</summary>
    public string Source { get; }

    /// <summary>The header's names, in file order.</summary>
    public IReadOnlyList<string> ColumnNames { get; }

    /// <summary>The time column's name.</summary>
    public string TimeColumn => ColumnNames[_timeColumn];

    /// <summary>The time column's cells, one per row.</summary>
    public IReadOnlyList<string> Times { get; }

    /// <summary>The number of data rows.</summary>
    public int RowCount => _cells.Length;

    /// <summary>Reads a CSV file; <paramref name="timeColumn"/> defaults to the first column.</summary>
    /// <exception cref="TimeSeriesFormatException">The file has no header, no rows, a ragged row or no such time column.</exception>
    public static TimeSeriesTable Load(string path, string? timeColumn = null)
    {
        using var reader = new StreamReader(path);
        return Parse(reader, path, timeColumn);
    }

    /// <summary>Reads CSV text; <paramref name="source"/> names it in messages.</summary>
    public static TimeSeriesTable Parse(TextReader reader, string source, string? timeColumn = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        string? headerLine = reader.ReadLine() ?? throw new TimeSeriesFormatException($"{source}: the file is empty; expected a header row.");
        string[] header = [.. SplitCsvLine(headerLine).Select(h => h.Trim())];
        int time = 0;
        if (timeColumn is not null)
        {
            time = Array.IndexOf(header, timeColumn);
            if (time < 0) throw MissingColumn(source, header, timeColumn);
        }

        var rows = new List<string[]>();
        int lineNumber = 1;
        for (string? line = reader.ReadLine(); line is not null; line = reader.ReadLine())
        {
            lineNumber++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            string[] cells = SplitCsvLine(line);
            if (cells.Length != header.Length)
                throw new TimeSeriesFormatException($"{source}, line {lineNumber}: {cells.Length} cells; the header names {header.Length} columns.");
            rows.Add([.. cells, lineNumber.ToString(CultureInfo.InvariantCulture)]);
        }

        if (rows.Count == 0) throw new TimeSeriesFormatException($"{source}: no data rows after the header.");
        return new TimeSeriesTable(source, header, [.. rows], time);
    }

    /// <summary>The values of a numeric column.</summary>
    /// <exception cref="TimeSeriesFormatException">No such column, or a cell that is not a finite number (the message gives its line).</exception>
    public double[] GetColumn(string name)
    {
        int column = -1;
        for (int i = 0; i < ColumnNames.Count; i++)
            if (ColumnNames[i] == name) column = i;
        if (column < 0) throw MissingColumn(Source, ColumnNames, name);
        var values = new double[_cells.Length];
        for (int r = 0; r < values.Length; r++)
        {
            string cell = _cells[r][column].Trim();
            if (!double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out values[r]) || !double.IsFinite(values[r]))
                throw new TimeSeriesFormatException($"{Source}, line {_cells[r][^1]}, column '{name}': '{cell}' is not a number.");
        }

        return values;
    }

    /// <summary>The first row whose time is at or after <paramref name="from"/>, comparing text ordinally (ISO dates such as 2011 or 2011-01-01 sort correctly); <see cref="RowCount"/> if none.</summary>
    public int FirstRowAtOrAfter(string from)
    {
        for (int r = 0; r < Times.Count; r++)
            if (string.CompareOrdinal(Times[r], from) >= 0) return r;
        return Times.Count;
    }

    private static TimeSeriesFormatException MissingColumn(string source, IEnumerable<string> header, string name) =>
        new($"{source}: no column '{name}'; the columns are {string.Join(", ", header.Select(h => $"'{h}'"))}.");

    /// <summary>Splits one CSV line: commas separate cells, double quotes enclose cells holding commas ("" is a quote).</summary>
    internal static string[] SplitCsvLine(string line)
    {
        var cells = new List<string>();
        var cell = new System.Text.StringBuilder();
        bool quoted = false;
        for (int i = 0; i < line.Length; i++)
        {
            char ch = line[i];
            if (quoted)
            {
                if (ch == '"' && i + 1 < line.Length && line[i + 1] == '"') { cell.Append('"'); i++; }
                else if (ch == '"') quoted = false;
                else cell.Append(ch);
            }
            else if (ch == '"') quoted = true;
            else if (ch == ',') { cells.Add(cell.ToString()); cell.Clear(); }
            else cell.Append(ch);
        }

        cells.Add(cell.ToString().TrimEnd('\r'));
        return [.. cells];
    }
}
