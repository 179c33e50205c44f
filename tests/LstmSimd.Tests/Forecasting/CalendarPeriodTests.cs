using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>ISO weeks and quarters as a table's times: read as the day each starts, spaced, filled and written back in their style.</summary>
public sealed class CalendarPeriodTests
{
    private static TimeSeriesTable Table(params string[] times) =>
        TimeSeriesTable.Parse(new StringReader("Period,Value\n" + string.Join('\n', times.Select((t, i) => $"{t},{i}"))), "test.csv");

    [Fact]
    public void An_ISO_week_starts_on_its_Monday_and_a_quarter_on_its_first_day()
    {
        // 1 January 2024 is a Monday, so week 1 of 2024 starts on it and week 5 four weeks later.
        Assert.True(CalendarPeriod.TryParse("2024-W05", out DateTime week));
        Assert.Equal(new DateTime(2024, 1, 29), week);
        // 1 January 2026 is a Thursday, so ISO week 1 of 2026 holds it and starts on Monday 29 December 2025.
        Assert.True(CalendarPeriod.TryParse("2026W01", out DateTime straddling));
        Assert.Equal(new DateTime(2025, 12, 29), straddling);
        Assert.True(CalendarPeriod.TryParse("2024Q3", out DateTime quarter));
        Assert.Equal(new DateTime(2024, 7, 1), quarter);
        Assert.True(CalendarPeriod.TryParse("2024-Q1", out DateTime first));
        Assert.Equal(new DateTime(2024, 1, 1), first);
        foreach (string text in (string[])["2024-01-29", "2024", "2024-W5", "2024-w05", "24Q1", "2024-Q12"])
            Assert.False(CalendarPeriod.TryParse(text, out _), text);
    }

    [Fact]
    public void A_period_is_written_back_in_the_style_of_the_column()
    {
        Assert.Equal("2025-W01", CalendarPeriod.FormatLike("2024-W52", new DateTime(2024, 12, 30)));
        Assert.Equal("2025W01", CalendarPeriod.FormatLike("2024W52", new DateTime(2024, 12, 30)));
        Assert.Equal("2024Q4", CalendarPeriod.FormatLike("2024Q3", new DateTime(2024, 10, 1)));
        Assert.Equal("2025-Q1", CalendarPeriod.FormatLike("2024-Q4", new DateTime(2025, 1, 1)));
        Assert.Null(CalendarPeriod.FormatLike("2024-Q4", new DateTime(2025, 2, 1))); // not a quarter's first day
        Assert.Null(CalendarPeriod.FormatLike("2024-W52", new DateTime(2024, 12, 31))); // a Tuesday
        Assert.Null(CalendarPeriod.FormatLike("2024-12-30", new DateTime(2024, 12, 30)));
    }

    [Fact]
    public void ISO_weeks_are_weekly_across_a_53_week_year_and_quarters_in_either_style_are_quarterly()
    {
        Assert.Equal(TimeFrequency.Weekly, Table("2020-W52", "2020-W53", "2021-W01", "2021-W02").InferFrequency().Frequency);
        Assert.Equal(TimeFrequency.Quarterly, Table("2023Q3", "2023Q4", "2024Q1").InferFrequency().Frequency);
        Assert.Equal(TimeFrequency.Quarterly, Table("2023-Q3", "2023-Q4", "2024-Q1").InferFrequency().Frequency);
    }

    [Fact]
    public void Missing_weeks_and_quarters_are_inserted_with_their_own_names()
    {
        TimeSeriesTable weeks = Table("2024-W51", "2024-W52", "2025-W03").FillGaps(["Value"], 3, out _);
        Assert.Equal(["2024-W51", "2024-W52", "2025-W01", "2025-W02", "2025-W03"], weeks.Times);
        double[] filled = weeks.GetColumn("Value");
        double[] expected = [0, 1, 4.0 / 3, 5.0 / 3, 2]; // linear between week 52's 1 and week 3's 2
        for (int r = 0; r < expected.Length; r++) Assert.Equal(expected[r], filled[r], 1e-12);
        TimeSeriesTable quarters = Table("2023Q2", "2023Q3", "2024Q1").FillGaps(["Value"], 3, out IReadOnlyList<string> report);
        Assert.Equal(["2023Q2", "2023Q3", "2023Q4", "2024Q1"], quarters.Times);
        Assert.Equal("1 missing time inserted (1 missing before line 4 (2024Q1))", report[0]);
    }

    [Fact]
    public void A_week_or_quarter_that_does_not_exist_is_refused_with_its_line()
    {
        TimeSeriesFormatException week = Assert.Throws<TimeSeriesFormatException>(() => Table("2021-W51", "2021-W52", "2021-W53"));
        Assert.Equal("test.csv, line 4: 2021-W53 is not an ISO week: 2021 has weeks 1 to 52.", week.Message);
        TimeSeriesFormatException quarter = Assert.Throws<TimeSeriesFormatException>(() => Table("2024-Q4", "2024-Q5"));
        Assert.Equal("test.csv, line 3: 2024-Q5 is not a quarter: quarters are 1 to 4.", quarter.Message);
        Assert.Contains("is not after line 2", Assert.Throws<TimeSeriesFormatException>(() => Table("2024-W10", "2024-W09")).Message, StringComparison.Ordinal);
        Assert.Contains("not a whole number of the step", Assert.Throws<TimeSeriesFormatException>(() => Table("2024-Q1", "2024-Q2", "2024-07-15").InferFrequency()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_test_start_given_as_a_week_or_quarter_finds_its_row()
    {
        Assert.Equal(2, Table("2024-W01", "2024-W02", "2024-W03", "2024-W04").FirstRowAtOrAfter("2024-W03"));
        Assert.Equal(1, Table("2023Q4", "2024Q1", "2024Q2").FirstRowAtOrAfter("2024"));
        Assert.Equal(2, Table("2023Q4", "2024Q1", "2024Q2").FirstRowAtOrAfter("2024-Q2"));
    }
}
