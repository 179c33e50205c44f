using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

public sealed class TimeFrequencyTests
{
    private static TimeFrequency Infer(params string[] times) =>
        TimeSeriesTable.Parse(new StringReader("Time,Value\n" + string.Join('\n', times.Select((t, i) => $"{t},{i}"))), "test.csv").InferFrequency();

    [Fact]
    public void Month_starts_are_monthly_with_a_season_of_twelve() =>
        Assert.Equal(new TimeFrequency("monthly", 12, 12, 24), Infer("2000-11-01", "2000-12-01", "2001-01-01", "2001-02-01"));

    [Fact]
    public void Month_ends_of_unequal_length_are_still_monthly() =>
        Assert.Equal(TimeFrequency.Monthly, Infer("2000-01-31", "2000-02-29", "2000-03-31", "2000-04-30"));

    [Fact]
    public void Dates_three_months_apart_are_quarterly_with_a_season_of_four() =>
        Assert.Equal(new TimeFrequency("quarterly", 4, 8, 16), Infer("2000-01-01", "2000-04-01", "2000-07-01", "2000-10-01", "2001-01-01"));

    [Fact]
    public void Integer_years_are_yearly_with_no_season() =>
        Assert.Equal(new TimeFrequency("yearly", 1, 5, 10), Infer("1880", "1881", "1882"));

    [Fact]
    public void Dates_a_year_apart_are_yearly() => Assert.Equal(TimeFrequency.Yearly, Infer("2000-03-01", "2001-03-01", "2002-03-01"));

    [Fact]
    public void Consecutive_days_across_a_leap_day_are_daily_with_a_weekly_season() =>
        Assert.Equal(new TimeFrequency("daily", 7, 14, 56), Infer("2000-02-27", "2000-02-28", "2000-02-29", "2000-03-01"));

    [Fact]
    public void Dates_a_week_apart_are_weekly() => Assert.Equal(TimeFrequency.Weekly, Infer("2000-01-03", "2000-01-10", "2000-01-17"));

    [Fact]
    public void Timestamps_an_hour_apart_are_hourly_with_a_daily_season() =>
        Assert.Equal(new TimeFrequency("hourly", 24, 24, 168), Infer("2000-01-01T23:00Z", "2000-01-02T00:00Z", "2000-01-02T01:00Z"));

    [Fact]
    public void Another_fixed_span_is_named_and_implies_no_season() =>
        Assert.Equal(new TimeFrequency("every 15 minutes", 1, 10, 20), Infer("2000-01-01T00:00Z", "2000-01-01T00:15Z", "2000-01-01T00:30Z"));

    [Fact]
    public void Small_integers_are_a_numeric_step_not_years() =>
        Assert.Equal("every 1 (as numbers)", Infer("1", "2", "3").Name);

    [Fact]
    public void A_missing_month_is_refused_naming_the_rows_around_the_gap()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Infer("2000-01-01", "2000-02-01", "2000-03-01", "2000-05-01"));
        Assert.Equal("test.csv: line 4 (2000-03-01) to line 5 (2000-05-01) is 2 months apart, but the first two rows are 1 month apart; the rows must be evenly spaced (a missing time is a missing row).", e.Message);
    }

    [Fact]
    public void A_missing_day_is_refused_naming_the_rows_around_the_gap()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Infer("2000-01-01", "2000-01-02", "2000-01-03", "2000-01-05", "2000-01-06"));
        Assert.Equal("test.csv: line 4 (2000-01-03) to line 5 (2000-01-05) is 2 days apart, but the first two rows are 1 day apart; the rows must be evenly spaced (a missing time is a missing row).", e.Message);
    }

    [Fact]
    public void A_skipped_year_is_refused_naming_the_rows()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Infer("1990", "1991", "1993"));
        Assert.Contains("line 3 (1991) to line 4 (1993) is 2 apart, but the first two rows are 1 apart", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_duplicate_time_is_refused_naming_both_rows()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Infer("2000-01-01", "2000-01-02", "2000-01-02"));
        Assert.Contains("line 4 (2000-01-02) repeats the time of line 3 (2000-01-02)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_times_have_no_frequency_and_the_message_says_what_to_write()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Infer("a", "b"));
        Assert.Equal("test.csv: the times in 'Time' are neither numbers nor dates (first: 'a'), so their frequency is unknown; write dates as 2001-03-01 or years as 2001.", e.Message);
    }

    [Fact]
    public void One_row_has_no_frequency() =>
        Assert.Throws<TimeSeriesFormatException>(() => Infer("2000-01-01"));

    [Fact]
    public void Describe_states_the_assumed_defaults() =>
        Assert.Equal("monthly: season 12, horizon 12, window 24", TimeFrequency.Monthly.Describe());
}
