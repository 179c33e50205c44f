using System.Globalization;
using nietras.SeparatedValues;
using LstmSimd.IO;

namespace LstmSimd.Forecasting;

/// <summary>
/// A CSV time series: a header row, then one row per time step in increasing time order, each time once. One column
/// holds the time (kept as text, ordered as <see cref="TimeOrder"/> says), the others are read as numbers (invariant
/// culture) when asked for by name, so a bad cell is reported with its line only if it is in a column that is used.
/// </summary>
public sealed class TimeSeriesTable
{
    private readonly string[] _header;
    private readonly string[][] _cells;
    private readonly int _timeColumn;
    private readonly TimeOrder _order;

    private TimeSeriesTable(string source, string[] header, string[][] cells, int timeColumn)
    {
        Source = source;
        ColumnNames = _header = header;
        _cells = cells;
        _timeColumn = timeColumn;
        string[] times = [.. cells.Select(row => row[timeColumn].Trim())];
        Times = times;
        _order = TimeOrder.Of(times);
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

    /// <summary>Reads a UTF-8 CSV file; <paramref name="timeColumn"/> defaults to the first column.</summary>
    /// <exception cref="TimeSeriesFormatException">The file is not UTF-8 text (or holds a NUL byte), has no header, no rows, a ragged row, a column named twice, no such time column, or times out of order (every message gives the line).</exception>
    public static TimeSeriesTable Load(string path, string? timeColumn = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        byte[] bytes = File.ReadAllBytes(path);
        string text = UserText.DecodeUtf8(bytes, problem => new TimeSeriesFormatException($"{path}, {problem}"));
        TimeSeriesTable table = Parse(new StringReader(text), path, timeColumn);
        table.ContentSha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        return table;
    }

    /// <summary>The SHA-256 of the file's bytes as lowercase hex, when the table was read by <see cref="Load"/>; else null.</summary>
    public string? ContentSha256 { get; private set; }

    /// <summary>Reads CSV text; <paramref name="source"/> names it in messages.</summary>
    /// <exception cref="TimeSeriesFormatException">As <see cref="Load"/>, except that the text is already decoded.</exception>
    public static TimeSeriesTable Parse(TextReader reader, string source, string? timeColumn = null)
    {
        ArgumentNullException.ThrowIfNull(reader);
        (string[] header, List<string[]> rows) = ReadRows(reader.ReadToEnd(), source);
        return Build(source, header, rows, TimeColumnIndex(source, header, timeColumn, otherThan: null));
    }

    /// <summary>
    /// Reads a long-format UTF-8 CSV, one row per series and time: <paramref name="seriesColumn"/> names the series a row
    /// belongs to, and each series' rows, in file order, make one table (checked as <see cref="Load"/> checks a file, its
    /// messages naming the file's lines). <paramref name="timeColumn"/> defaults to the first column other than the series
    /// column. The series come in the order they first appear.
    /// </summary>
    /// <exception cref="TimeSeriesFormatException">As <see cref="Load"/>; no such series column, the series column is the time column, or a row's series is empty.</exception>
    public static IReadOnlyList<KeyValuePair<string, TimeSeriesTable>> LoadLong(string path, string seriesColumn, string? timeColumn = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(seriesColumn);
        byte[] bytes = File.ReadAllBytes(path);
        string text = UserText.DecodeUtf8(bytes, problem => new TimeSeriesFormatException($"{path}, {problem}"));
        (string[] header, List<string[]> rows) = ReadRows(text, path);
        int id = Array.IndexOf(header, seriesColumn);
        if (id < 0) throw MissingColumn(path, header, seriesColumn);
        int time = TimeColumnIndex(path, header, timeColumn, otherThan: id);
        if (time == id) throw new TimeSeriesFormatException($"{path}: the series column {UserText.Quote(seriesColumn)} cannot also be the time column.");
        var groups = new Dictionary<string, List<string[]>>(StringComparer.Ordinal);
        var order = new List<string>();
        foreach (string[] row in rows)
        {
            string key = row[id].Trim();
            if (key.Length == 0) throw new TimeSeriesFormatException($"{path}, line {row[^1]}: the series ({UserText.Quote(seriesColumn)}) is empty.");
            if (!groups.TryGetValue(key, out List<string[]>? group))
            {
                groups[key] = group = [];
                order.Add(key);
            }

            group.Add(row);
        }

        string sha256 = Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(bytes));
        return [.. order.Select(key =>
        {
            TimeSeriesTable table = Build($"{path} ({seriesColumn} {UserText.Quote(key)})", header, groups[key], time);
            table.ContentSha256 = sha256;
            return KeyValuePair.Create(key, table);
        })];
    }

    /// <summary>The header and the data rows of CSV text, each row's line number appended as a last cell.</summary>
    private static (string[] Header, List<string[]> Rows) ReadRows(string text, string source)
    {
        int nul = text.IndexOf('\0', StringComparison.Ordinal);
        if (nul >= 0) throw new TimeSeriesFormatException($"{source}, line {1 + text.AsSpan(0, nul).Count('\n')}: a NUL character; this is not a text file.");
        // Sep reads RFC 4180 CSV (quoted cells may hold commas, quotes as "", and line breaks); the separator is always a
        // comma, never guessed. Rows of any length are read so that a ragged one is reported here with its line.
        using SepReader csv = Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).FromText(text);
        string[]? header = null;
        var rows = new List<string[]>();
        foreach (SepReader.Row row in csv)
        {
            int lineNumber = row.LineNumberFrom;
            if (row.ColCount == 1 && row.Span.IsWhiteSpace()) continue;
            string[] cells = new string[row.ColCount];
            for (int c = 0; c < cells.Length; c++) cells[c] = row[c].ToString();
            if (header is null)
            {
                header = [.. cells.Select(h => h.Trim())];
                RefuseDuplicateNames(source, header);
                continue;
            }

            if (cells.Length != header.Length)
                throw new TimeSeriesFormatException($"{source}, line {lineNumber}: {cells.Length} cells; the header names {header.Length} columns{(cells.Any(c => c.Contains('\n', StringComparison.Ordinal)) ? " (a quoted cell runs over several lines: is a closing quote missing?)" : "")}.");
            rows.Add([.. cells, lineNumber.ToString(CultureInfo.InvariantCulture)]);
        }

        if (header is null) throw new TimeSeriesFormatException($"{source}: the file is empty; expected a header row.");
        return (header, rows);
    }

    /// <summary>The named time column, or the first column (other than <paramref name="otherThan"/>).</summary>
    private static int TimeColumnIndex(string source, string[] header, string? timeColumn, int? otherThan)
    {
        if (timeColumn is null) return otherThan == 0 && header.Length > 1 ? 1 : 0;
        int time = Array.IndexOf(header, timeColumn);
        return time >= 0 ? time : throw MissingColumn(source, header, timeColumn);
    }

    /// <summary>A table of <paramref name="rows"/> (line numbers last), refusing empty times, no rows, invalid periods and times out of order.</summary>
    private static TimeSeriesTable Build(string source, string[] header, List<string[]> rows, int time)
    {
        foreach (string[] row in rows)
            if (row[time].Trim().Length == 0)
                throw new TimeSeriesFormatException($"{source}, line {row[^1]}: the time ({UserText.Quote(header[time])}) is empty.");
        if (rows.Count == 0) throw new TimeSeriesFormatException($"{source}: no data rows after the header.");
        var table = new TimeSeriesTable(source, header, [.. rows], time);
        if (table._order.InvalidPeriod is (int invalidRow, string problem))
            throw new TimeSeriesFormatException($"{source}, line {table.LineOf(invalidRow)}: {problem}.");
        table.RefuseTimesOutOfOrder();
        return table;
    }

    /// <summary>The values of a numeric column.</summary>
    /// <exception cref="TimeSeriesFormatException">No such column, or a cell that is not a finite number (the message gives its line).</exception>
    public double[] GetColumn(string name)
    {
        int column = Array.IndexOf(_header, name);
        if (column < 0) throw MissingColumn(Source, ColumnNames, name);
        var values = new double[_cells.Length];
        for (int r = 0; r < values.Length; r++)
        {
            string cell = _cells[r][column].Trim();
            if (IsMissing(cell))
                throw new TimeSeriesFormatException($"{Source}, line {LineOf(r)}, column {UserText.Quote(name)}: the value is missing ({UserText.Quote(cell)}); fill the gaps first (FillGaps).");
            if (!TryNumber(cell, out values[r]))
                throw new TimeSeriesFormatException($"{Source}, line {LineOf(r)}, column {UserText.Quote(name)}: {UserText.Quote(cell)} is not a number.");
        }

        return values;
    }

    /// <summary>Whether a cell holds no value: empty, or NA or NaN in any case.</summary>
    public static bool IsMissing(string cell)
    {
        ArgumentNullException.ThrowIfNull(cell);
        string text = cell.Trim();
        return text.Length == 0 || text.Equals("NA", StringComparison.OrdinalIgnoreCase) || text.Equals("NaN", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>
    /// The table with one row per time step and no missing value in <paramref name="columns"/>: a row is inserted for
    /// each missing time (when the times are numbers or dates, spaced as <see cref="InferFrequency"/> reads them), and
    /// each run of missing values (<see cref="IsMissing"/>, or an inserted row) is filled by linear interpolation between
    /// the values either side of it. A run longer than <paramref name="maxGap"/> steps, or one at the start or end of a
    /// column (nothing to interpolate from on one side), is refused naming its lines. <paramref name="report"/> says
    /// what was filled, one line per column (empty when nothing was).
    /// </summary>
    /// <exception cref="TimeSeriesFormatException">A run of missing values that is too long or at an end, a cell that is not a number, or uneven times.</exception>
    public TimeSeriesTable FillGaps(IReadOnlyCollection<string> columns, int maxGap, out IReadOnlyList<string> report)
    {
        ArgumentNullException.ThrowIfNull(columns);
        ArgumentOutOfRangeException.ThrowIfNegative(maxGap);
        TimeSpacing? spacing = _order.Numbers is not null || _order.Ticks is not null ? (RowCount >= 2 ? InferFrequency() : null) : null;
        var rows = new List<string[]>(RowCount);
        int inserted = 0;
        for (int r = 0; r < RowCount; r++)
        {
            int missing = spacing?.MissingBefore[r] ?? 0;
            for (int k = 1; k <= missing; k++)
            {
                var row = new string[_header.Length + 1];
                Array.Fill(row, "");
                row[_timeColumn] = spacing!.TimeAfter(r - 1, k);
                row[^1] = $"{LineOf(r - 1)}+{k}"; // an inserted row is named after the line it follows
                rows.Add(row);
                inserted++;
            }

            rows.Add(_cells[r]);
        }

        var notes = new List<string>();
        if (inserted > 0) notes.Add($"{inserted} missing time{(inserted == 1 ? "" : "s")} inserted ({string.Join("; ", spacing!.Gaps)})");
        foreach (string name in columns.Distinct())
        {
            int column = Array.IndexOf(_header, name);
            if (column < 0) throw MissingColumn(Source, ColumnNames, name);
            int filled = Interpolate(rows, column, maxGap);
            if (filled > 0) notes.Add($"{UserText.Quote(name)}: {filled} missing value{(filled == 1 ? "" : "s")} filled by linear interpolation (runs of at most {maxGap})");
        }

        report = notes;
        if (inserted == 0 && notes.Count == 0) return this;
        return new TimeSeriesTable(Source, _header, [.. rows], _timeColumn) { ContentSha256 = ContentSha256 };
    }

    /// <summary>Fills each run of missing cells of one column in place; returns how many it filled.</summary>
    private int Interpolate(List<string[]> rows, int column, int maxGap)
    {
        string name = _header[column];
        var values = new double[rows.Count];
        for (int r = 0; r < rows.Count; r++)
        {
            string cell = rows[r][column].Trim();
            if (IsMissing(cell)) values[r] = double.NaN;
            else if (!TryNumber(cell, out values[r]))
                throw new TimeSeriesFormatException($"{Source}, line {rows[r][^1]}, column {UserText.Quote(name)}: {UserText.Quote(cell)} is not a number.");
        }

        int filled = 0;
        for (int start = 0; start < rows.Count; start++)
        {
            if (!double.IsNaN(values[start])) continue;
            int end = start;
            while (end + 1 < rows.Count && double.IsNaN(values[end + 1])) end++;
            int length = end - start + 1;
            string where = start == end ? $"line {rows[start][^1]}" : $"lines {rows[start][^1]} to {rows[end][^1]}";
            string times = start == end ? UserText.Printable(rows[start][_timeColumn]) : $"{UserText.Printable(rows[start][_timeColumn])} … {UserText.Printable(rows[end][_timeColumn])}";
            if (start == 0 || end == rows.Count - 1)
                throw new TimeSeriesFormatException($"{Source}, {where} ({times}), column {UserText.Quote(name)}: {length} missing value{(length == 1 ? "" : "s")} at the {(start == 0 ? "start" : "end")} of the series, with nothing to interpolate from on that side; remove those rows.");
            if (length > maxGap)
                throw new TimeSeriesFormatException($"{Source}, {where} ({times}), column {UserText.Quote(name)}: {length} missing value{(length == 1 ? "" : "s")} in a row; at most {maxGap} are filled by interpolation.");
            double before = values[start - 1], after = values[end + 1];
            for (int r = start; r <= end; r++)
            {
                values[r] = before + (after - before) * (r - start + 1) / (length + 1);
                rows[r] = (string[])rows[r].Clone(); // the original row may be shared with this table
                rows[r][column] = values[r].ToString("R", CultureInfo.InvariantCulture);
                filled++;
            }

            start = end;
        }

        return filled;
    }

    /// <summary>
    /// The default target: the first column after the time column (in file order, then wrapping to those before it)
    /// whose first cell is a finite number. The first cell decides, so a numeric column with a bad cell further down is
    /// still chosen and <see cref="GetColumn"/> names that cell, rather than another column being predicted unnoticed.
    /// </summary>
    /// <exception cref="TimeSeriesFormatException">No column besides the time column starts with a number.</exception>
    public string FirstNumericColumnAfterTime()
    {
        for (int k = 1; k < _header.Length; k++)
        {
            int column = (_timeColumn + k) % _header.Length;
            if (TryNumber(_cells[0][column].Trim(), out _)) return _header[column];
        }

        throw new TimeSeriesFormatException($"{Source}: no column besides the time column {UserText.Quote(TimeColumn)} starts with a number, so there is nothing to predict; the columns are {UserText.QuoteList(ColumnNames)}.");
    }

    private static bool TryNumber(string cell, out double value) =>
        double.TryParse(cell, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>
    /// The first row whose time is at or after <paramref name="from"/>: compared as the times are (<see cref="TimeOrder"/>)
    /// when <paramref name="from"/> reads as one of them, else as text, ordinally (so 2011 finds 2011-01-01 among ISO
    /// dates); <see cref="RowCount"/> if none.
    /// </summary>
    public int FirstRowAtOrAfter(string from)
    {
        ArgumentNullException.ThrowIfNull(from);
        for (int r = 0; r < Times.Count; r++)
            if (_order.Compare(r, from.Trim()) >= 0) return r;
        return Times.Count;
    }

    /// <summary>
    /// The rows' spacing: integers from 1000 to 9999 a step of one apart are years; ISO weeks (2024-W05) and quarters
    /// (2024-Q1) are read as the dates they start on (<see cref="CalendarPeriod"/>); dates are a calendar month,
    /// quarter or year apart when each keeps its day of the month (or each is its month's last day) and time of day,
    /// else a fixed span apart (a week, a day, an hour, or any other span); other numbers are a fixed step apart. The
    /// step is the smallest gap; a gap of a whole number of steps is missing times, listed in
    /// <see cref="TimeSpacing.Gaps"/> (the rows stay consecutive steps: the caller says so or refuses).
    /// </summary>
    /// <exception cref="TimeSeriesFormatException">Fewer than two rows, times that are neither numbers nor dates, or a gap that is not a whole number of steps (the message names its two rows).</exception>
    public TimeSpacing InferFrequency()
    {
        if (RowCount < 2)
            throw new TimeSeriesFormatException($"{Source}: one row; a frequency needs at least two times.");
        if (_order.Numbers is { } numbers) return NumberFrequency(numbers);
        if (_order.Ticks is { } ticks) return CalendarFrequency(ticks) ?? SpanFrequency(ticks);
        throw new TimeSeriesFormatException(
            $"{Source}: the times in {UserText.Quote(TimeColumn)} are neither numbers nor dates (first: {UserText.Quote(Times[0])}), so their frequency is unknown; write dates as 2001-03-01, ISO weeks as 2001-W09, quarters as 2001-Q1 or years as 2001.");
    }

    private TimeSpacing NumberFrequency(IReadOnlyList<double> numbers)
    {
        double[] gaps = [.. Enumerable.Range(1, numbers.Count - 1).Select(r => numbers[r] - numbers[r - 1])];
        double step = gaps.Min();
        bool years = step == 1 && numbers.All(n => n == Math.Floor(n) && n >= 1000 && n <= 9999);
        return Spacing(years ? TimeFrequency.Yearly : TimeFrequency.EveryFixedStep(Number(step) + " (as numbers)"), gaps, step, Number,
            (row, k) => Number(numbers[row] + k * step));
    }

    /// <summary>
    /// When every two neighbouring dates are a whole number of calendar months apart (same day of the month or both a
    /// month's last day, same time of day) and the smallest gap is 1, 3 or 12 months; else null (a fixed span).
    /// </summary>
    private TimeSpacing? CalendarFrequency(IReadOnlyList<long> ticks)
    {
        double[] gaps = [.. Enumerable.Range(1, ticks.Count - 1).Select(r => (double)CalendarMonths(ticks[r - 1], ticks[r]))];
        double months = gaps.Min();
        if (months is not (1 or 3 or 12)) return null;
        TimeFrequency frequency = months switch { 1 => TimeFrequency.Monthly, 3 => TimeFrequency.Quarterly, _ => TimeFrequency.Yearly };
        return Spacing(frequency, gaps, months, m => Plural((long)m, "month"), (row, k) =>
        {
            DateTime from = new(ticks[row], DateTimeKind.Utc), to = from.AddMonths(k * (int)months);
            if (from.Day == DateTime.DaysInMonth(from.Year, from.Month)) to = to.AddDays(DateTime.DaysInMonth(to.Year, to.Month) - to.Day); // month ends stay month ends
            return DateText(row, to);
        });
    }

    /// <summary>Whole calendar months from one date to the other, or 0 when they are not a whole number of months apart.</summary>
    private static int CalendarMonths(long fromTicks, long toTicks)
    {
        DateTime from = new(fromTicks, DateTimeKind.Utc), to = new(toTicks, DateTimeKind.Utc);
        static bool LastDay(DateTime d) => d.Day == DateTime.DaysInMonth(d.Year, d.Month);
        bool sameDay = from.Day == to.Day || (LastDay(from) && LastDay(to));
        int months = (to.Year - from.Year) * 12 + to.Month - from.Month;
        return sameDay && from.TimeOfDay == to.TimeOfDay && months > 0 ? months : 0;
    }

    private TimeSpacing SpanFrequency(IReadOnlyList<long> ticks)
    {
        double[] gaps = [.. Enumerable.Range(1, ticks.Count - 1).Select(r => (double)(ticks[r] - ticks[r - 1]))];
        var step = TimeSpan.FromTicks((long)gaps.Min());
        TimeFrequency frequency = step == TimeSpan.FromDays(7) ? TimeFrequency.Weekly
            : step == TimeSpan.FromDays(1) ? TimeFrequency.Daily
            : step == TimeSpan.FromHours(1) ? TimeFrequency.Hourly
            : TimeFrequency.EveryFixedStep(Span(step));
        return Spacing(frequency, gaps, step.Ticks, t => Span(TimeSpan.FromTicks((long)t)), (row, k) => DateText(row, new DateTime(ticks[row] + k * step.Ticks, DateTimeKind.Utc)));
    }

    /// <summary>Checks each gap is a whole number of steps, and lists those of more than one.</summary>
    private TimeSpacing Spacing(TimeFrequency frequency, double[] gaps, double step, Func<double, string> describe, Func<int, int, string> timeAfter)
    {
        var missing = new List<string>();
        var missingBefore = new int[RowCount];
        for (int g = 0; g < gaps.Length; g++)
        {
            double steps = gaps[g] / step, whole = Math.Round(steps);
            if (Math.Abs(steps - whole) > 1e-9 * Math.Max(1, whole))
                throw new TimeSeriesFormatException(
                    $"{Source}: line {LineOf(g)} ({UserText.Printable(Times[g])}) to line {LineOf(g + 1)} ({UserText.Printable(Times[g + 1])}) is {describe(gaps[g])} apart, not a whole number of the step ({describe(step)}); the rows must be evenly spaced.");
            missingBefore[g + 1] = (int)Math.Min(whole - 1, int.MaxValue);
            if (whole > 1)
                missing.Add(string.Create(CultureInfo.InvariantCulture, $"{whole - 1} missing before line {LineOf(g + 1)} ({UserText.Printable(Times[g + 1])})"));
        }

        return new TimeSpacing(frequency, missing) { MissingBefore = missingBefore, TimeAfter = timeAfter };
    }

    /// <summary>A generated date written as row <paramref name="row"/>'s is: a week or quarter when it is one, a date alone when it is one, else date and time in UTC.</summary>
    private string DateText(int row, DateTime time) =>
        CalendarPeriod.FormatLike(Times[row], time) ?? (Times[row].Length <= 10 && time.TimeOfDay == TimeSpan.Zero
            ? time.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture)
            : time.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));

    private static string Number(double value) => value.ToString("R", CultureInfo.InvariantCulture);

    private static string Span(TimeSpan span) =>
        span.TotalDays >= 1 && span.Ticks % TimeSpan.TicksPerDay == 0 ? Plural((long)span.TotalDays, "day")
        : span.Ticks % TimeSpan.TicksPerHour == 0 ? Plural((long)span.TotalHours, "hour")
        : span.Ticks % TimeSpan.TicksPerMinute == 0 ? Plural((long)span.TotalMinutes, "minute")
        : Plural((long)span.TotalSeconds, "second") + (span.Ticks % TimeSpan.TicksPerSecond == 0 ? "" : " and a fraction");

    private static string Plural(long count, string unit) => string.Create(CultureInfo.InvariantCulture, $"{count} {unit}{(count == 1 ? "" : "s")}");

    private string LineOf(int row) => _cells[row][^1];

    private void RefuseTimesOutOfOrder()
    {
        for (int r = 1; r < Times.Count; r++)
        {
            int order = _order.Compare(r - 1, r);
            if (order < 0) continue;
            string what = order == 0 ? "repeats the time of" : "is not after";
            throw new TimeSeriesFormatException(
                $"{Source}: line {LineOf(r)} ({UserText.Printable(Times[r])}) {what} line {LineOf(r - 1)} ({UserText.Printable(Times[r - 1])}); the rows must be in increasing time order, each time once (times compared {_order.Describe()}).");
        }
    }

    private static void RefuseDuplicateNames(string source, string[] header)
    {
        var seen = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < header.Length; i++)
            if (!seen.TryAdd(header[i], i))
                throw new TimeSeriesFormatException($"{source}: the header names column {UserText.Quote(header[i])} twice (columns {seen[header[i]] + 1} and {i + 1}).");
    }

    private static TimeSeriesFormatException MissingColumn(string source, IReadOnlyList<string> header, string name) =>
        new($"{source}: no column {UserText.Quote(name)}; the columns are {UserText.QuoteList(header)}.");
}
