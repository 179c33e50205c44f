using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

public sealed class TimeFrequencyTests
{
    private static TimeFrequency Infer(params string[] times) =>
        TimeSeriesTable.Parse(new StringReader("Time,Value\n" + string.Join('\n', times.Select((t, i) => $"{t},{i}"))), "test.csv").InferFrequency().Frequency;

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

    private static TimeSpacing Spacing(params string[] times) =>
        TimeSeriesTable.Parse(new StringReader("Time,Value\n" + string.Join('\n', times.Select((t, i) => $"{t},{i}"))), "test.csv").InferFrequency();

    [Fact]
    public void Missing_months_are_listed_with_the_row_after_each_gap()
    {
        TimeSpacing spacing = Spacing("2000-01-01", "2000-02-01", "2000-04-01", "2000-05-01", "2000-09-01");
        Assert.Equal(TimeFrequency.Monthly, spacing.Frequency);
        Assert.Equal(["1 missing before line 4 (2000-04-01)", "3 missing before line 6 (2000-09-01)"], spacing.Gaps);
    }

    [Fact]
    public void The_step_is_the_smallest_gap_even_when_the_first_gap_is_missing_days()
    {
        TimeSpacing spacing = Spacing("2000-01-01", "2000-01-03", "2000-01-04", "2000-01-05");
        Assert.Equal(TimeFrequency.Daily, spacing.Frequency);
        Assert.Equal(["1 missing before line 3 (2000-01-03)"], spacing.Gaps);
    }

    [Fact]
    public void Evenly_spaced_rows_have_no_gaps() => Assert.Empty(Spacing("1990", "1991", "1992").Gaps);

    [Fact]
    public void A_gap_that_is_not_a_whole_number_of_steps_is_refused_naming_its_rows()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Spacing("2000-01-01T00:00Z", "2000-01-01T01:00Z", "2000-01-01T02:30Z"));
        Assert.Equal("test.csv: line 3 (2000-01-01T01:00Z) to line 4 (2000-01-01T02:30Z) is 90 minutes apart, not a whole number of the step (1 hour); the rows must be evenly spaced.", e.Message);
    }

    [Fact]
    public void A_month_end_among_month_starts_is_refused_as_uneven()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Spacing("2000-01-01", "2000-02-01", "2000-02-29"));
        Assert.Contains("line 2 (2000-01-01) to line 3 (2000-02-01) is 31 days apart, not a whole number of the step (28 days)", e.Message, StringComparison.Ordinal);
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
        Assert.Equal("test.csv: the times in 'Time' are neither numbers nor dates (first: 'a'), so their frequency is unknown; write dates as 2001-03-01, ISO weeks as 2001-W09, quarters as 2001-Q1 or years as 2001.", e.Message);
    }

    [Fact]
    public void One_row_has_no_frequency() =>
        Assert.Throws<TimeSeriesFormatException>(() => Infer("2000-01-01"));

    [Fact]
    public void Describe_states_the_assumed_defaults() =>
        Assert.Equal("monthly: season 12, horizon 12, window 24", TimeFrequency.Monthly.Describe());
}

public sealed class DefaultTargetTests
{
    private static TimeSeriesTable Csv(string text) => TimeSeriesTable.Parse(new StringReader(text), "test.csv");

    [Fact]
    public void The_default_target_skips_a_text_column_after_the_time() =>
        Assert.Equal("temp", Csv("date,weather,temp\n2000-01-01,rain,3.5\n2000-01-02,sun,4\n").FirstNumericColumnAfterTime());

    [Fact]
    public void A_numeric_column_with_a_bad_cell_further_down_is_still_the_default_target() =>
        Assert.Equal("b", Csv("t,b,c\n1,2,3\n2,x,4\n").FirstNumericColumnAfterTime());

    [Fact]
    public void A_table_with_no_numeric_column_besides_time_is_refused_naming_the_columns()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Csv("t,w\n1,a\n2,b\n").FirstNumericColumnAfterTime());
        Assert.Equal("test.csv: no column besides the time column 't' starts with a number, so there is nothing to predict; the columns are 't', 'w'.", e.Message);
    }
}
