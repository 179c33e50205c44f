using System.Globalization;
using System.Text.RegularExpressions;

namespace LstmSimd.Forecasting;

/// <summary>
/// Times written as calendar periods rather than dates: ISO 8601 weeks (<c>2024-W05</c>, or <c>2024W05</c>) and
/// quarters (<c>2024-Q1</c>, or <c>2024Q1</c>). Each stands for the day it starts on: an ISO week's Monday, a
/// quarter's first day; so a table of them is ordered, spaced and extended as dates are, and written back in its style.
/// </summary>
public static partial class CalendarPeriod
{
    /// <summary>Whether <paramref name="text"/> is an ISO week or a quarter; <paramref name="start"/> is its first day (UTC).</summary>
    public static bool TryParse(string text, out DateTime start) => TryParse(text, out start, out _);

    /// <summary>
    /// As <see cref="TryParse(string, out DateTime)"/>; when the text has a period's shape but names no period (week
    /// 53 of a year with 52, week 0, quarter 5), <paramref name="problem"/> says why and the result is false.
    /// </summary>
    internal static bool TryParse(string text, out DateTime start, out string? problem)
    {
        ArgumentNullException.ThrowIfNull(text);
        start = default;
        problem = null;
        Match match = Shape().Match(text.Trim());
        if (!match.Success) return false;
        int year = int.Parse(match.Groups["year"].Value, CultureInfo.InvariantCulture);
        if (match.Groups["week"].Success)
        {
            int week = int.Parse(match.Groups["week"].Value, CultureInfo.InvariantCulture), weeks = ISOWeek.GetWeeksInYear(year);
            if (week < 1 || week > weeks)
            {
                problem = $"{text.Trim()} is not an ISO week: {year} has weeks 1 to {weeks}";
                return false;
            }

            start = DateTime.SpecifyKind(ISOWeek.ToDateTime(year, week, DayOfWeek.Monday), DateTimeKind.Utc);
            return true;
        }

        int quarter = match.Groups["quarter"].Value[0] - '0';
        if (quarter is < 1 or > 4)
        {
            problem = $"{text.Trim()} is not a quarter: quarters are 1 to 4";
            return false;
        }

        start = new DateTime(year, 3 * quarter - 2, 1, 0, 0, 0, DateTimeKind.Utc);
        return true;
    }

    /// <summary>
    /// The period that starts on <paramref name="start"/>, written in <paramref name="example"/>'s style (with or
    /// without the dash); null when the example is not a period, or <paramref name="start"/> does not begin one of its kind.
    /// </summary>
    public static string? FormatLike(string example, DateTime start)
    {
        ArgumentNullException.ThrowIfNull(example);
        Match match = Shape().Match(example.Trim());
        if (!match.Success || start.TimeOfDay != TimeSpan.Zero) return null;
        string dash = match.Groups["dash"].Value;
        if (match.Groups["week"].Success)
        {
            if (start.DayOfWeek != DayOfWeek.Monday) return null;
            return string.Create(CultureInfo.InvariantCulture, $"{ISOWeek.GetYear(start):D4}{dash}W{ISOWeek.GetWeekOfYear(start):D2}");
        }

        if (start.Day != 1 || (start.Month - 1) % 3 != 0) return null;
        return string.Create(CultureInfo.InvariantCulture, $"{start.Year:D4}{dash}Q{(start.Month + 2) / 3}");
    }

    [GeneratedRegex(@"^(?<year>[0-9]{4})(?<dash>-?)(?:W(?<week>[0-9]{2})|Q(?<quarter>[0-9]))$", RegexOptions.CultureInvariant)]
    private static partial Regex Shape();
}
