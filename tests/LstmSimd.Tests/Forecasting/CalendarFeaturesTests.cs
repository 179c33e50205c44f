using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>US federal holidays and calendar inputs against dates looked up in the calendar (OPM's published holiday lists) and values worked out by hand.</summary>
public sealed class CalendarFeaturesTests
{
    [Theory]
    [InlineData(2014, 11, 27, "Thanksgiving Day")]            // the 4th Thursday of November 2014
    [InlineData(2021, 11, 25, "Thanksgiving Day")]
    [InlineData(2000, 1, 17, "Martin Luther King Jr. Day")]   // 3rd Monday of January
    [InlineData(2013, 2, 18, "Washington's Birthday")]        // 3rd Monday of February
    [InlineData(2015, 5, 25, "Memorial Day")]                 // last Monday of May (May has five Mondays in 2015)
    [InlineData(2016, 9, 5, "Labor Day")]                     // 1st Monday of September
    [InlineData(2012, 10, 8, "Columbus Day")]                 // 2nd Monday of October
    [InlineData(2022, 6, 19, "Juneteenth National Independence Day")]
    public void Holidays_by_weekday_rule_fall_on_their_published_dates(int year, int month, int day, string name)
    {
        Assert.Contains(UsFederalHolidays.Of(year), h => h.Name == name && h.Date == new DateOnly(year, month, day));
    }

    [Theory]
    [InlineData(2015, 7, 4, 2015, 7, 3)]     // Saturday: observed on the Friday before
    [InlineData(2016, 12, 25, 2016, 12, 26)] // Sunday: observed on the Monday after
    [InlineData(2012, 11, 11, 2012, 11, 12)] // Veterans Day on a Sunday
    [InlineData(2021, 6, 19, 2021, 6, 18)]   // the first Juneteenth, a Saturday
    [InlineData(2020, 7, 4, 2020, 7, 3)]
    public void A_holiday_on_a_weekend_is_observed_on_the_nearest_weekday(int year, int month, int day, int observedYear, int observedMonth, int observedDay)
    {
        var date = new DateOnly(year, month, day);
        var observed = new DateOnly(observedYear, observedMonth, observedDay);
        Assert.Contains(UsFederalHolidays.Of(year), h => h.Date == date && h.Observed == observed);
        Assert.True(UsFederalHolidays.IsObservedHoliday(observed));
        Assert.False(UsFederalHolidays.IsObservedHoliday(date));
    }

    [Fact]
    public void New_Years_Day_on_a_Saturday_is_observed_on_the_last_day_of_the_year_before()
    {
        Assert.True(UsFederalHolidays.IsObservedHoliday(new DateOnly(2021, 12, 31)));
        Assert.False(UsFederalHolidays.IsObservedHoliday(new DateOnly(2022, 1, 1)));
        Assert.False(UsFederalHolidays.IsObservedHoliday(new DateOnly(2020, 12, 31))); // 2021-01-01 was a Friday
    }

    [Fact]
    public void Holidays_count_only_from_the_year_they_were_first_observed()
    {
        Assert.False(UsFederalHolidays.IsObservedHoliday(new DateOnly(1985, 1, 21))); // 3rd Monday of January 1985: before MLK Day
        Assert.True(UsFederalHolidays.IsObservedHoliday(new DateOnly(1986, 1, 20)));
        Assert.False(UsFederalHolidays.IsObservedHoliday(new DateOnly(2020, 6, 19))); // a Friday, before Juneteenth
        Assert.Equal(10, UsFederalHolidays.Of(2014).Count);
        Assert.Equal(11, UsFederalHolidays.Of(2021).Count);
        Assert.False(UsFederalHolidays.IsObservedHoliday(new DateOnly(2014, 12, 24)));
    }

    [Fact]
    public void Daily_inputs_of_Thanksgiving_2014_are_Thursday_day_331_and_one_holiday()
    {
        CalendarFeatures daily = CalendarEncoding.For(TimeFrequency.Daily);
        Assert.Equal(CalendarFeatures.DayOfWeek | CalendarFeatures.DayOfYear | CalendarFeatures.Holidays, daily);
        Assert.Equal(10, CalendarEncoding.Width(daily));
        var values = new float[10];
        CalendarEncoding.Write(daily, new DateTime(2014, 11, 27), 1, values);
        // Monday first: Thursday is the 4th; 27 November 2014 is day 304 + 27 = 331 of 365.
        Assert.Equal(new float[] { 0, 0, 0, 1, 0, 0, 0 }, values[..7]);
        Assert.Equal(Math.Sin(2 * Math.PI * 330 / 365), values[7], 6);
        Assert.Equal(Math.Cos(2 * Math.PI * 330 / 365), values[8], 6);
        Assert.Equal(1, values[9]);
        Assert.Equal(["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday", "day_of_year_sin", "day_of_year_cos", "us_federal_holidays"], CalendarEncoding.Names(daily));
    }

    [Fact]
    public void A_leap_years_last_day_and_a_plain_Sunday_get_their_own_values()
    {
        CalendarFeatures daily = CalendarEncoding.For(TimeFrequency.Daily);
        var values = new float[10];
        CalendarEncoding.Write(daily, new DateTime(2016, 12, 31), 1, values); // a Saturday, day 366 of 366
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 1, 0 }, values[..7]);
        Assert.Equal(Math.Sin(2 * Math.PI * 365 / 366), values[7], 6);
        Assert.Equal(0, values[9]);
        CalendarEncoding.Write(daily, new DateTime(2000, 1, 2), 1, values); // a Sunday, day 2
        Assert.Equal(new float[] { 0, 0, 0, 0, 0, 0, 1 }, values[..7]);
        Assert.Equal(Math.Cos(2 * Math.PI * 1 / 366), values[8], 6);
    }

    [Fact]
    public void A_weekly_row_counts_the_holidays_observed_in_its_seven_days()
    {
        CalendarFeatures weekly = CalendarEncoding.For(TimeFrequency.Weekly);
        Assert.Equal(CalendarFeatures.DayOfYear | CalendarFeatures.Holidays, weekly);
        var values = new float[3];
        CalendarEncoding.Write(weekly, new DateTime(2015, 6, 29), 7, values); // Friday 3 July 2015 is Independence Day observed
        Assert.Equal(1, values[2]);
        CalendarEncoding.Write(weekly, new DateTime(2021, 12, 27), 7, values); // Christmas observed Fri 24 Dec is before; New Year's observed Fri 31 Dec
        Assert.Equal(1, values[2]);
        CalendarEncoding.Write(weekly, new DateTime(2015, 7, 6), 7, values);
        Assert.Equal(0, values[2]);
    }

    [Fact]
    public void Monthly_rows_get_the_month_and_yearly_rows_get_nothing()
    {
        CalendarFeatures monthly = CalendarEncoding.For(TimeFrequency.Monthly);
        Assert.Equal(CalendarFeatures.MonthOfYear, monthly);
        var values = new float[2];
        CalendarEncoding.Write(monthly, new DateTime(2020, 4, 1), 1, values); // April: a quarter of the way round
        Assert.Equal(1, values[0], 6);
        Assert.Equal(0, values[1], 6);
        Assert.Equal(CalendarFeatures.None, CalendarEncoding.For(TimeFrequency.Yearly));
        Assert.Equal(CalendarFeatures.None, CalendarEncoding.For(TimeFrequency.EveryFixedStep("15 minutes")));
        Assert.Throws<ArgumentException>(() => CalendarEncoding.Write(monthly, new DateTime(2020, 4, 1), 1, new float[3]));
    }
}
