using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>
/// How far apart a table's rows are, and the defaults that follow from it: the season (steps per cycle a forecaster
/// should expect), the horizon (how far ahead to forecast) and the window (how many past steps an input holds).
/// </summary>
/// <param name="Name">The spacing in words ("monthly", "every 15 minutes").</param>
/// <param name="SeasonLength">Steps per seasonal cycle: 12 for months, 4 for quarters, 7 for days, 24 for hours, 52 for weeks, 1 when no cycle is implied.</param>
/// <param name="Horizon">The default number of steps to forecast.</param>
/// <param name="Window">The default number of past steps an input window holds.</param>
public sealed record TimeFrequency(string Name, int SeasonLength, int Horizon, int Window)
{
    /// <summary>Years, as integers or as dates a year apart.</summary>
    public static TimeFrequency Yearly { get; } = new("yearly", 1, 5, 10);

    /// <summary>Dates three calendar months apart, or quarters (2024-Q1, 2024Q1).</summary>
    public static TimeFrequency Quarterly { get; } = new("quarterly", 4, 8, 16);

    /// <summary>Dates one calendar month apart, on the same day of the month (or each month's last day).</summary>
    public static TimeFrequency Monthly { get; } = new("monthly", 12, 12, 24);

    /// <summary>Dates seven days apart, or ISO weeks (2024-W05, 2024W05); the season of 52 ignores the 53rd week some ISO years have.</summary>
    public static TimeFrequency Weekly { get; } = new("weekly", 52, 13, 104);

    /// <summary>Dates one day apart.</summary>
    public static TimeFrequency Daily { get; } = new("daily", 7, 14, 56);

    /// <summary>Times one hour apart.</summary>
    public static TimeFrequency Hourly { get; } = new("hourly", 24, 24, 168);

    /// <summary>Times a fixed span apart that is none of the calendar frequencies: no season is implied.</summary>
    public static TimeFrequency EveryFixedStep(string step) => new($"every {step}", 1, 10, 20);

    /// <summary>"monthly: season 12, horizon 12, window 24", for the tool to print what it assumed.</summary>
    public string Describe() => string.Create(CultureInfo.InvariantCulture, $"{Name}: season {SeasonLength}, horizon {Horizon}, window {Window}");
}

/// <summary>A table's frequency, and where times are missing from it (each gap a whole number of steps).</summary>
/// <param name="Frequency">The step between rows.</param>
/// <param name="Gaps">"2 missing before line 9 (1958-07-01)", one per gap; empty when every step is there.</param>
public sealed record TimeSpacing(TimeFrequency Frequency, IReadOnlyList<string> Gaps)
{
    /// <summary>How many times are missing before each row (0 for the first).</summary>
    internal int[] MissingBefore { get; init; } = [];

    /// <summary>The time k steps after row r, written as the table writes its times.</summary>
    internal Func<int, int, string> TimeAfter { get; init; } = (_, _) => throw new InvalidOperationException("No time rule.");
}
