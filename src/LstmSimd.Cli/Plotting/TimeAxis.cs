using System.Globalization;
using LstmSimd.Forecasting;

namespace LstmSimd.Cli.Plotting;

/// <summary>Turns a time column into plot coordinates: decimal years when every cell is a date (or an ISO week or quarter, at its first day), else the row number.</summary>
internal static class TimeAxis
{
    public static (double[] X, string Label) From(IReadOnlyList<string> times, string columnName)
    {
        var x = new double[times.Count];
        for (int i = 0; i < times.Count; i++)
        {
            if (!CalendarPeriod.TryParse(times[i], out DateTime date) && !DateTime.TryParse(times[i], CultureInfo.InvariantCulture, DateTimeStyles.None, out date))
                return ([.. Enumerable.Range(0, times.Count).Select(r => (double)r)], $"row ({columnName} is not a date)");
            x[i] = DecimalYear(date);
        }

        return (x, $"{columnName} (year)");
    }

    /// <summary>
    /// The times one to <paramref name="count"/> steps after the last: whole months or days for dates (or ISO weeks and
    /// quarters, written in the column's style) spaced so, else "+k".
    /// </summary>
    public static string[] Extend(IReadOnlyList<string> times, int count)
    {
        if (times.Count >= 2 && TryDay(times[^1], out DateTime last) && TryDay(times[^2], out DateTime previous))
        {
            string Write(DateTime date) => CalendarPeriod.FormatLike(times[^1], date) ?? date.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            int months = (last.Year - previous.Year) * 12 + last.Month - previous.Month;
            if (months > 0 && last.Day == previous.Day)
                return [.. Enumerable.Range(1, count).Select(k => Write(last.AddMonths(k * months)))];
            int days = (int)(last - previous).TotalDays;
            if (days > 0) return [.. Enumerable.Range(1, count).Select(k => Write(last.AddDays(k * days)))];
        }

        return [.. Enumerable.Range(1, count).Select(k => $"{times[^1]}+{k}")];
    }

    /// <summary>A date written yyyy-MM-dd, or the first day of an ISO week or a quarter.</summary>
    private static bool TryDay(string text, out DateTime day) =>
        CalendarPeriod.TryParse(text, out day) || DateTime.TryParseExact(text, "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out day);

    private static double DecimalYear(DateTime date)
    {
        var start = new DateTime(date.Year, 1, 1);
        return date.Year + (date - start).TotalDays / (start.AddYears(1) - start).TotalDays;
    }
}
