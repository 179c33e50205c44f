using System.Globalization;


namespace LstmSimd.Forecasting;

/// <summary>
/// Inputs derived from each row's time, known for every future step. The day of the week is one-hot (seven inputs):
/// weekly profiles such as births' or ridership's are flat on weekdays and drop on both weekend days, which a sine and
/// cosine pair would make the network carve out of a circle. The position in the year (and the hour of the day) is a
/// sine and cosine pair: the yearly cycle is smooth, and one input per day of the year would be more inputs than a few
/// years of data can teach.
/// </summary>
[Flags]
public enum CalendarFeatures
{
    /// <summary>No calendar inputs.</summary>
    None = 0,

    /// <summary>Seven inputs, one-hot: Monday … Sunday.</summary>
    DayOfWeek = 1,

    /// <summary>sin and cos of 2π × (the day of the year − 1) / the days in that year: the position in the year of a day or week.</summary>
    DayOfYear = 2,

    /// <summary>sin and cos of 2π × (the month − 1) / 12, for monthly and quarterly rows.</summary>
    MonthOfYear = 4,

    /// <summary>sin and cos of 2π × the hour / 24.</summary>
    HourOfDay = 8,

    /// <summary>The number of US federal holidays observed on the row's day, or within its week for weekly rows (<see cref="UsFederalHolidays"/>).</summary>
    Holidays = 16,
}

/// <summary>Which <see cref="CalendarFeatures"/> suit a frequency, and their values for a time.</summary>
public static class CalendarEncoding
{
    /// <summary>
    /// The calendar inputs for rows of <paramref name="frequency"/>: hourly rows the hour, the day of the week and the
    /// holidays; daily rows the day of the week, the day of the year and the holidays; weekly rows the position in the
    /// year and the holidays in the week; monthly and quarterly rows the month. None for yearly rows or other spacings.
    /// </summary>
    public static CalendarFeatures For(TimeFrequency frequency)
    {
        ArgumentNullException.ThrowIfNull(frequency);
        return frequency.Name switch
        {
            "hourly" => CalendarFeatures.HourOfDay | CalendarFeatures.DayOfWeek | CalendarFeatures.Holidays,
            "daily" => CalendarFeatures.DayOfWeek | CalendarFeatures.DayOfYear | CalendarFeatures.Holidays,
            "weekly" => CalendarFeatures.DayOfYear | CalendarFeatures.Holidays,
            "monthly" or "quarterly" => CalendarFeatures.MonthOfYear,
            _ => CalendarFeatures.None,
        };
    }

    /// <summary>How many inputs <paramref name="features"/> make.</summary>
    public static int Width(CalendarFeatures features) =>
        (features.HasFlag(CalendarFeatures.DayOfWeek) ? 7 : 0) + (features.HasFlag(CalendarFeatures.DayOfYear) ? 2 : 0) +
        (features.HasFlag(CalendarFeatures.MonthOfYear) ? 2 : 0) + (features.HasFlag(CalendarFeatures.HourOfDay) ? 2 : 0) +
        (features.HasFlag(CalendarFeatures.Holidays) ? 1 : 0);

    /// <summary>The inputs' names, in the order <see cref="Write"/> writes them ("monday" … "sunday", "day_of_year_sin", …).</summary>
    public static IReadOnlyList<string> Names(CalendarFeatures features)
    {
        var names = new List<string>();
        if (features.HasFlag(CalendarFeatures.HourOfDay)) names.AddRange(["hour_sin", "hour_cos"]);
        if (features.HasFlag(CalendarFeatures.DayOfWeek)) names.AddRange(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]);
        if (features.HasFlag(CalendarFeatures.DayOfYear)) names.AddRange(["day_of_year_sin", "day_of_year_cos"]);
        if (features.HasFlag(CalendarFeatures.MonthOfYear)) names.AddRange(["month_sin", "month_cos"]);
        if (features.HasFlag(CalendarFeatures.Holidays)) names.Add("us_federal_holidays");
        return names;
    }

    /// <summary>
    /// Writes the inputs of the row that starts at <paramref name="time"/> (spanning <paramref name="days"/> days for the
    /// holiday count: 7 for weekly rows, else 1) into <paramref name="destination"/>, <see cref="Width"/> values.
    /// </summary>
    public static void Write(CalendarFeatures features, DateTime time, int days, Span<float> destination)
    {
        if (destination.Length != Width(features))
            throw new ArgumentException($"The destination must hold {Width(features)} calendar inputs; it holds {destination.Length}.", nameof(destination));
        int k = 0;
        if (features.HasFlag(CalendarFeatures.HourOfDay)) k = Cycle((time.Hour + time.Minute / 60.0) / 24, destination, k);
        if (features.HasFlag(CalendarFeatures.DayOfWeek))
        {
            destination.Slice(k, 7).Clear();
            destination[k + ((int)time.DayOfWeek + 6) % 7] = 1; // Monday first, as ISO 8601 counts
            k += 7;
        }

        if (features.HasFlag(CalendarFeatures.DayOfYear)) k = Cycle((time.DayOfYear - 1) / (double)(DateTime.IsLeapYear(time.Year) ? 366 : 365), destination, k);
        if (features.HasFlag(CalendarFeatures.MonthOfYear)) k = Cycle((time.Month - 1) / 12.0, destination, k);
        if (features.HasFlag(CalendarFeatures.Holidays))
        {
            int count = 0;
            var day = DateOnly.FromDateTime(time);
            for (int d = 0; d < days; d++) count += UsFederalHolidays.IsObservedHoliday(day.AddDays(d)) ? 1 : 0;
            destination[k] = count;
        }
    }

    /// <summary>"day of week (one-hot), day of year (sin, cos), US federal holidays", for the tool to print.</summary>
    public static string Describe(CalendarFeatures features)
    {
        if (features == CalendarFeatures.None) return "none";
        var parts = new List<string>();
        if (features.HasFlag(CalendarFeatures.HourOfDay)) parts.Add("hour of day (sin, cos)");
        if (features.HasFlag(CalendarFeatures.DayOfWeek)) parts.Add("day of week (one-hot)");
        if (features.HasFlag(CalendarFeatures.DayOfYear)) parts.Add("day of year (sin, cos)");
        if (features.HasFlag(CalendarFeatures.MonthOfYear)) parts.Add("month of year (sin, cos)");
        if (features.HasFlag(CalendarFeatures.Holidays)) parts.Add("US federal holidays observed");
        return string.Join(", ", parts);
    }

    /// <summary>Parses the names <see cref="Describe"/>'s enum writes (as stored in checkpoints).</summary>
    internal static CalendarFeatures Parse(string text) =>
        Enum.TryParse(text, out CalendarFeatures features) && !int.TryParse(text, CultureInfo.InvariantCulture, out _) && (features & ~All) == 0
            ? features
            : throw new FormatException($"unknown calendar features {UserText.Quote(text)}; they are {string.Join(", ", Enum.GetNames<CalendarFeatures>())}");

    private const CalendarFeatures All = CalendarFeatures.DayOfWeek | CalendarFeatures.DayOfYear | CalendarFeatures.MonthOfYear | CalendarFeatures.HourOfDay | CalendarFeatures.Holidays;


    private static int Cycle(double fraction, Span<float> destination, int k)
    {
        destination[k] = (float)Math.Sin(2 * Math.PI * fraction);
        destination[k + 1] = (float)Math.Cos(2 * Math.PI * fraction);
        return k + 2;
    }
}
