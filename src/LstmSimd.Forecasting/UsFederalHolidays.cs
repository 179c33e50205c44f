namespace LstmSimd.Forecasting;

/// <summary>
/// United States federal holidays (5 U.S.C. 6103) computed by rule, with the days they are observed on: a holiday
/// that falls on a Saturday is observed on the Friday before, one on a Sunday on the Monday after (so New Year's Day
/// 2022, a Saturday, is observed on Friday 31 December 2021). The rules are those in force since the Uniform Monday
/// Holiday Act took effect in 1971; Martin Luther King Jr. Day is counted from 1986 and Juneteenth from 2021, the
/// years they were first observed.
/// </summary>
public static class UsFederalHolidays
{
    /// <summary>The holidays whose date falls in <paramref name="year"/>, each with the day it is observed on, in date order.</summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="year"/> is before 1971 or after 9998.</exception>
    public static IReadOnlyList<(string Name, DateOnly Date, DateOnly Observed)> Of(int year)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(year, 1971);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(year, 9998);
        var days = new List<(string, DateOnly)>
        {
            ("New Year's Day", new DateOnly(year, 1, 1)),
            ("Washington's Birthday", Nth(year, 2, DayOfWeek.Monday, 3)),
            ("Memorial Day", Last(year, 5, DayOfWeek.Monday)),
            ("Independence Day", new DateOnly(year, 7, 4)),
            ("Labor Day", Nth(year, 9, DayOfWeek.Monday, 1)),
            ("Columbus Day", Nth(year, 10, DayOfWeek.Monday, 2)),
            ("Veterans Day", new DateOnly(year, 11, 11)),
            ("Thanksgiving Day", Nth(year, 11, DayOfWeek.Thursday, 4)),
            ("Christmas Day", new DateOnly(year, 12, 25)),
        };
        if (year >= 1986) days.Add(("Martin Luther King Jr. Day", Nth(year, 1, DayOfWeek.Monday, 3)));
        if (year >= 2021) days.Add(("Juneteenth National Independence Day", new DateOnly(year, 6, 19)));
        return [.. days.OrderBy(d => d.Item2).Select(d => (d.Item1, d.Item2, Observed(d.Item2)))];
    }

    /// <summary>Whether <paramref name="day"/> is the observed day of a federal holiday (false before 1971).</summary>
    public static bool IsObservedHoliday(DateOnly day)
    {
        if (day.Year < 1971 || day.Year > 9998) return false;
        // New Year's Day on a Saturday is observed on the last day of the year before.
        foreach (int year in day.Month == 12 && day.Day == 31 && day.Year < 9998 ? [day.Year, day.Year + 1] : new[] { day.Year })
            foreach ((_, _, DateOnly observed) in Of(year))
                if (observed == day) return true;
        return false;
    }

    private static DateOnly Observed(DateOnly date) => date.DayOfWeek switch
    {
        DayOfWeek.Saturday => date.AddDays(-1),
        DayOfWeek.Sunday => date.AddDays(1),
        _ => date,
    };

    /// <summary>The <paramref name="n"/>th <paramref name="weekday"/> of the month.</summary>
    private static DateOnly Nth(int year, int month, DayOfWeek weekday, int n)
    {
        var first = new DateOnly(year, month, 1);
        int offset = ((int)weekday - (int)first.DayOfWeek + 7) % 7;
        return first.AddDays(offset + 7 * (n - 1));
    }

    /// <summary>The last <paramref name="weekday"/> of the month.</summary>
    private static DateOnly Last(int year, int month, DayOfWeek weekday)
    {
        var last = new DateOnly(year, month, DateTime.DaysInMonth(year, month));
        return last.AddDays(-(((int)last.DayOfWeek - (int)weekday + 7) % 7));
    }
}
