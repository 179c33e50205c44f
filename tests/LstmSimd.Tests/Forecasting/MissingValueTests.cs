using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>Missing times and values: filled by linear interpolation up to a gap length, refused past it naming the lines.</summary>
public sealed class MissingValueTests
{
    private static TimeSeriesTable Csv(string text) => TimeSeriesTable.Parse(new StringReader(text), "test.csv");

    private static TimeSeriesTable Fill(string text, int maxGap, out IReadOnlyList<string> report, params string[] columns) =>
        Csv(text).FillGaps(columns.Length == 0 ? ["v"] : columns, maxGap, out report);

    [Fact]
    public void Empty_NA_and_NaN_cells_are_filled_on_the_line_between_their_neighbours()
    {
        TimeSeriesTable table = Fill("t,v\n1,10\n2,\n3,na\n4,NaN\n5,18\n6, NA \n7,20\n", 3, out IReadOnlyList<string> report);
        Assert.Equal([10, 12, 14, 16, 18, 19, 20], table.GetColumn("v"));
        Assert.Equal(["'v': 4 missing values filled by linear interpolation (runs of at most 3)"], report);
    }

    [Fact]
    public void A_value_missing_in_a_column_not_used_is_left_alone_and_a_used_one_unfilled_is_named()
    {
        TimeSeriesTable table = Fill("t,v,w\n1,1,\n2,2,5\n", 3, out IReadOnlyList<string> report);
        Assert.Empty(report);
        Assert.Equal([1.0, 2.0], table.GetColumn("v"));
        Assert.Equal("test.csv, line 2, column 'w': the value is missing (''); fill the gaps first (FillGaps).",
            Assert.Throws<TimeSeriesFormatException>(() => table.GetColumn("w")).Message);
    }

    [Fact]
    public void Missing_months_are_inserted_with_their_dates_and_interpolated()
    {
        TimeSeriesTable table = Fill("Date,v\n2000-01-31,1\n2000-02-29,2\n2000-05-31,5\n2000-06-30,6\n", 3, out IReadOnlyList<string> report);
        Assert.Equal(["2000-01-31", "2000-02-29", "2000-03-31", "2000-04-30", "2000-05-31", "2000-06-30"], table.Times);
        Assert.Equal([1.0, 2, 3, 4, 5, 6], table.GetColumn("v"));
        Assert.Equal(["2 missing times inserted (2 missing before line 4 (2000-05-31))", "'v': 2 missing values filled by linear interpolation (runs of at most 3)"], report);
        Assert.Equal(TimeFrequency.Monthly, table.InferFrequency().Frequency);
        Assert.Empty(table.InferFrequency().Gaps);
    }

    [Fact]
    public void Missing_days_hours_and_numeric_steps_are_inserted_in_the_times_own_format()
    {
        Assert.Equal(["2001-02-26", "2001-02-27", "2001-02-28", "2001-03-01"], Fill("d,v\n2001-02-26,0\n2001-02-27,1\n2001-03-01,3\n", 3, out _).Times);
        Assert.Equal(["2001-01-01T22:00:00Z", "2001-01-01T23:00:00Z", "2001-01-02T00:00:00Z"],
            Fill("d,v\n2001-01-01T22:00:00Z,1\n2001-01-01T23:00:00Z,2\n2001-01-02T00:00:00Z,3\n", 3, out _).Times);
        TimeSeriesTable hours = Fill("d,v\n2001-01-01T22:00:00Z,1\n2001-01-01T23:00:00Z,2\n2001-01-02T02:00:00Z,5\n", 3, out _);
        Assert.Equal(["2001-01-01T22:00:00Z", "2001-01-01T23:00:00Z", "2001-01-02T00:00:00Z", "2001-01-02T01:00:00Z", "2001-01-02T02:00:00Z"], hours.Times);
        Assert.Equal([1.0, 2, 3, 4, 5], hours.GetColumn("v"));
        TimeSeriesTable years = Fill("year,v\n1990,0\n1991,1\n1994,7\n", 3, out _);
        Assert.Equal(["1990", "1991", "1992", "1993", "1994"], years.Times);
        Assert.Equal([0.0, 1, 3, 5, 7], years.GetColumn("v"));
    }

    [Fact]
    public void A_gap_longer_than_the_limit_is_refused_naming_its_lines_and_times()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Fill("t,v\n1,1\n2,\n3,\n4,\n5,\n6,6\n", 3, out _));
        Assert.Equal("test.csv, lines 3 to 6 (2 … 5), column 'v': 4 missing values in a row; at most 3 are filled by interpolation.", e.Message);
        var times = Assert.Throws<TimeSeriesFormatException>(() => Fill("Date,v\n2000-01-01,1\n2000-02-01,2\n2000-07-01,7\n", 3, out _));
        Assert.Equal("test.csv, lines 3+1 to 3+4 (2000-03-01 … 2000-06-01), column 'v': 4 missing values in a row; at most 3 are filled by interpolation.", times.Message);
        Assert.Contains("line 3 (2), column 'v': 1 missing value in a row; at most 0 are filled", Assert.Throws<TimeSeriesFormatException>(() => Fill("t,v\n1,1\n2,\n3,3\n", 0, out _)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_values_at_either_end_are_refused_since_there_is_nothing_to_interpolate_from()
    {
        Assert.Equal("test.csv, line 2 (1), column 'v': 1 missing value at the start of the series, with nothing to interpolate from on that side; remove those rows.",
            Assert.Throws<TimeSeriesFormatException>(() => Fill("t,v\n1,NA\n2,2\n3,3\n", 3, out _)).Message);
        Assert.Contains("lines 3 to 4 (2 … 3), column 'v': 2 missing values at the end",
            Assert.Throws<TimeSeriesFormatException>(() => Fill("t,v\n1,1\n2,\n3,\n", 3, out _)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_forecast_series_fills_its_columns_by_the_settings_rule_and_says_what_it_filled()
    {
        var lines = new List<string> { "Date,Value" };
        for (int m = 0; m < 120; m++)
            if (m != 50) lines.Add($"{2000 + m / 12:D4}-{m % 12 + 1:D2}-01,{(m == 70 ? "" : (100 + m).ToString(System.Globalization.CultureInfo.InvariantCulture))}");
        var settings = new ForecastSettings { TimeColumn = "Date", InputColumns = ["Value"], TargetColumn = "Value" };
        ForecastSeries series = ForecastSeries.From(Csv(string.Join('\n', lines)), settings);
        Assert.Equal(120, series.Length);
        Assert.Equal([.. Enumerable.Range(0, 120).Select(m => 100.0 + m)], series.Target);
        Assert.Equal(2, series.Filled.Count);
        Assert.Contains("missing value", Assert.Throws<TimeSeriesFormatException>(() => ForecastSeries.From(Csv(string.Join('\n', lines)), settings with { MaxGap = 0 })).Message, StringComparison.Ordinal);
    }
}
