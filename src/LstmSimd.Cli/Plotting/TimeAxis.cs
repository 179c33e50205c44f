using System.Globalization;

namespace LstmSimd.Cli.Plotting;

/// <summary>Turns a time column into plot coordinates: decimal years when every cell is a date, else the row number.</summary>
internal static class TimeAxis
{
    public static (double[] X, string Label) From(IReadOnlyList<string> times, string columnName)
    {
        var x = new double[times.Count];
        for (int i = 0; i < times.Count; i++)
        {
            if (!DateTime.TryParse(times[i], CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime date))
                return ([.. Enumerable.Range(0, times.Count).Select(r => (double)r)], $"row ({columnName} is not a date)");
            x[i] = DecimalYear(date);
        }

        return (x, $"{columnName} (year)");
    }

    /// <summary>The times one to <paramref name="count"/> steps after the last: whole months or days for dates spaced so, else "+k".</summary>
    public static string[] Extend(IReadOnlyList<string> times, int count)
    {
        if (times.Count >= 2
            && DateTime.TryParseExact(times[^1], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime last)
            && DateTime.TryParseExact(times[^2], "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.None, out DateTime previous))
        {
            int months = (last.Year - previous.Year) * 12 + last.Month - previous.Month;
            if (months > 0 && last.Day == previous.Day)
                return [.. Enumerable.Range(1, count).Select(k => last.AddMonths(k * months).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))];
            int days = (int)(last - previous).TotalDays;
            if (days > 0) return [.. Enumerable.Range(1, count).Select(k => last.AddDays(k * days).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture))];
        }

        return [.. Enumerable.Range(1, count).Select(k => $"{times[^1]}+{k}")];
    }

    private static double DecimalYear(DateTime date)
    {
        var start = new DateTime(date.Year, 1, 1);
        return date.Year + (date - start).TotalDays / (start.AddYears(1) - start).TotalDays;
    }
}
