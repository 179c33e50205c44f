using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>
/// How a table's times compare: as numbers when every time is one (1958.17, 42), as dates and times when every time
/// is one (ISO 2001-03-01, 2001-03-01T12:00Z, or a period read as the day it starts: 2024-W05, 2024-Q1; see
/// <see cref="CalendarPeriod"/>), else as text, ordinally. Each time is parsed once, here.
/// </summary>
internal sealed class TimeOrder
{
    private readonly IReadOnlyList<string> _times;
    private readonly double[]? _numbers;
    private readonly long[]? _ticks;

    private TimeOrder(IReadOnlyList<string> times, double[]? numbers, long[]? ticks)
    {
        _times = times;
        _numbers = numbers;
        _ticks = ticks;
        for (int r = 0; r < times.Count && InvalidPeriod is null; r++)
            if (!CalendarPeriod.TryParse(times[r], out _, out string? problem) && problem is not null) InvalidPeriod = (r, problem);
    }

    /// <summary>The first row whose time is shaped as a period but names none (2021-W53 when 2021 has 52 weeks), and why; else null.</summary>
    public (int Row, string Problem)? InvalidPeriod { get; }

    public static TimeOrder Of(IReadOnlyList<string> times)
    {
        var numbers = new double[times.Count];
        bool allNumbers = true;
        for (int r = 0; r < times.Count && allNumbers; r++) allNumbers = TryNumber(times[r], out numbers[r]);
        if (allNumbers) return new TimeOrder(times, numbers, null);
        var ticks = new long[times.Count];
        for (int r = 0; r < times.Count; r++)
            if (!TryTicks(times[r], out ticks[r])) return new TimeOrder(times, null, null);
        return new TimeOrder(times, null, ticks);
    }

    /// <summary>The times as numbers, when every time reads as one; else null.</summary>
    public IReadOnlyList<double>? Numbers => _numbers;

    /// <summary>The times as UTC ticks, when every time reads as a date but not all as numbers; else null.</summary>
    public IReadOnlyList<long>? Ticks => _ticks;

    /// <summary>How the times are compared, for messages.</summary>
    public string Describe() =>
        _numbers is not null ? "as numbers" : _ticks is not null ? "as dates" : "as text, since not all are numbers or dates such as 2001-03-01";

    /// <summary>Negative, zero or positive as row <paramref name="first"/>'s time is before, equal to or after row <paramref name="second"/>'s.</summary>
    public int Compare(int first, int second) =>
        _numbers is not null ? _numbers[first].CompareTo(_numbers[second])
        : _ticks is not null ? _ticks[first].CompareTo(_ticks[second])
        : string.CompareOrdinal(_times[first], _times[second]);

    /// <summary>Row <paramref name="row"/>'s time against <paramref name="other"/>: as the times compare when it reads as one of them, else as text.</summary>
    public int Compare(int row, string other)
    {
        if (_numbers is not null && TryNumber(other, out double number)) return _numbers[row].CompareTo(number);
        if (_ticks is not null && TryTicks(other, out long ticks)) return _ticks[row].CompareTo(ticks);
        return string.CompareOrdinal(_times[row], other);
    }

    private static bool TryNumber(string text, out double value) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>Reads a time as a date (or a period's first day): UTC ticks.</summary>
    internal static bool TryTicks(string text, out long ticks)
    {
        if (CalendarPeriod.TryParse(text, out DateTime start))
        {
            ticks = start.Ticks;
            return true;
        }

        bool parsed = DateTimeOffset.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal, out DateTimeOffset time);
        ticks = parsed ? time.UtcTicks : 0;
        return parsed;
    }
}
