using LstmSimd.IO;

namespace LstmSimd.Forecasting;

/// <summary>The columns a forecaster uses, read from a table, with the split of its rows into training, validation and test by time.</summary>
public sealed class ForecastSeries
{
    private ForecastSeries(IReadOnlyList<string> times, double[][] inputs, double[] target, ForecastSplit split, IReadOnlyList<string> filled,
        double[][] covariates, float[] calendar, int calendarWidth)
    {
        Covariates = covariates;
        CalendarRows = calendar;
        CalendarWidth = calendarWidth;
        Filled = filled;
        Times = times;
        Inputs = inputs;
        Target = target;
        Split = split;
    }

    /// <summary>The time of each row.</summary>
    public IReadOnlyList<string> Times { get; }

    /// <summary>One array per input column, in <see cref="ForecastSettings.InputColumns"/> order.</summary>
    public IReadOnlyList<double[]> Inputs { get; }

    /// <summary>The target column.</summary>
    public double[] Target { get; }

    /// <summary>One array per known-future covariate, in <see cref="ForecastSettings.Covariates"/> order (missing values filled).</summary>
    public IReadOnlyList<double[]> Covariates { get; }

    /// <summary>
    /// The calendar inputs (<see cref="ForecastSettings.Calendar"/>) of every row and of the horizon's steps after the
    /// last one, <see cref="CalendarWidth"/> per row; empty without calendar inputs.
    /// </summary>
    internal float[] CalendarRows { get; }

    /// <summary>Calendar inputs per row.</summary>
    internal int CalendarWidth { get; }

    /// <summary>The rows' split.</summary>
    public ForecastSplit Split { get; }

    /// <summary>What <see cref="TimeSeriesTable.FillGaps"/> filled (missing times inserted, values interpolated), one line each; empty when nothing.</summary>
    public IReadOnlyList<string> Filled { get; }

    /// <summary>The number of rows.</summary>
    public int Length => Target.Length;

    /// <summary>
    /// Reads the settings' columns from <paramref name="table"/>, after filling missing times and values by the rule of
    /// <see cref="ForecastSettings.MaxGap"/>, and splits it.
    /// </summary>
    /// <exception cref="TimeSeriesFormatException">A column is missing or not numeric, a gap is too long to fill, or the series is too short for the window, horizon and split.</exception>
    public static ForecastSeries From(TimeSeriesTable table, ForecastSettings settings)
    {
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(settings);
        settings.Validate();
        if (table.TimeColumn != settings.TimeColumn)
            throw new TimeSeriesFormatException($"{table.Source}: the time column is {UserText.Quote(table.TimeColumn)}; the forecaster expects {UserText.Quote(settings.TimeColumn)}.");
        foreach (string covariate in settings.Covariates.Where(c => !table.ColumnNames.Contains(c)))
            throw new TimeSeriesFormatException($"{table.Source}: no column {UserText.Quote(covariate)}, a known-future covariate the forecaster reads at every step; the columns are {UserText.QuoteList(table.ColumnNames)}.");
        table = table.FillGaps([.. settings.InputColumns, settings.TargetColumn, .. settings.Covariates], settings.MaxGap, out IReadOnlyList<string> filled);
        double[][] inputs = [.. settings.InputColumns.Select(table.GetColumn)];
        double[][] covariates = [.. settings.Covariates.Select(table.GetColumn)];
        float[] calendar = Calendar(table, settings);
        double[] target = table.GetColumn(settings.TargetColumn);
        int n = table.RowCount;
        int testStart = settings.TestFrom is null ? n - (int)Math.Round(n * settings.TestFraction) : table.FirstRowAtOrAfter(settings.TestFrom);
        int validationStart = testStart - (int)Math.Round(testStart * settings.ValidationFraction);
        var split = new ForecastSplit(settings.Window, settings.Horizon, validationStart, testStart, n);
        string where = settings.TestFrom is null ? "" : $" (test from {UserText.Printable(settings.TestFrom)})";
        int needed = settings.Window + settings.Horizon;
        if (split.Train.Count < 8)
            throw new TimeSeriesFormatException($"{table.Source}: the series is too short: {n} rows{where} leave {Math.Max(validationStart, 0)} rows for training, {split.Train.Count} window(s) of {needed} rows (window {settings.Window} + horizon {settings.Horizon}); at least 8 are needed.");
        if (split.Validation.Count < 1)
            throw new TimeSeriesFormatException($"{table.Source}: the series is too short: the validation rows ({testStart - validationStart}) hold no horizon of {settings.Horizon} steps.");
        if (split.Test.Count < 1)
            throw new TimeSeriesFormatException($"{table.Source}: the series is too short: the test rows ({n - testStart}{where}) hold no horizon of {settings.Horizon} steps.");
        if (split.Test[0] < settings.SeasonLength)
            throw new TimeSeriesFormatException($"{table.Source}: the series is too short: the seasonal baselines need a season ({settings.SeasonLength} rows) before the first test forecast.");
        return new ForecastSeries(table.Times, inputs, target, split, filled, covariates, calendar, CalendarEncoding.Width(settings.Calendar));
    }

    /// <summary>The calendar inputs of every row and of the <see cref="ForecastSettings.Horizon"/> steps after the last (their times follow the table's spacing).</summary>
    private static float[] Calendar(TimeSeriesTable table, ForecastSettings settings)
    {
        if (settings.Calendar == CalendarFeatures.None) return [];
        TimeSpacing spacing = table.InferFrequency();
        int width = CalendarEncoding.Width(settings.Calendar), rows = table.RowCount + settings.Horizon;
        int days = spacing.Frequency == TimeFrequency.Weekly ? 7 : 1;
        var values = new float[Sizes.Elements("rows × calendar inputs", rows, width)];
        for (int r = 0; r < rows; r++)
        {
            string time = r < table.RowCount ? table.Times[r] : spacing.TimeAfter(table.RowCount - 1, r - table.RowCount + 1);
            if (!TimeOrder.TryTicks(time, out long ticks))
                throw new TimeSeriesFormatException($"{table.Source}: calendar inputs need dates, and the time {UserText.Quote(time)} in {UserText.Quote(table.TimeColumn)} is not one.");
            CalendarEncoding.Write(settings.Calendar, new DateTime(ticks, DateTimeKind.Utc), days, values.AsSpan(r * width, width));
        }

        return values;
    }

    /// <summary>
    /// The first <paramref name="rows"/> rows only (copies: nothing after them is kept), split again as if the test period
    /// began right after them: the latest <see cref="ForecastSettings.ValidationFraction"/> validate, no test windows.
    /// </summary>
    /// <exception cref="ArgumentException">The rows hold no training or no validation window.</exception>
    internal ForecastSeries Before(int rows, ForecastSettings settings)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rows, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(rows, Length);
        int validationStart = rows - (int)Math.Round(rows * settings.ValidationFraction);
        var split = new ForecastSplit(settings.Window, settings.Horizon, validationStart, rows, rows);
        if (split.Train.Count < 1 || split.Validation.Count < 1)
            throw new ArgumentException($"The {rows} rows up to row {rows - 1} hold {split.Train.Count} training and {split.Validation.Count} validation windows of {settings.Window} + {settings.Horizon} rows; at least one of each is needed.");
        return new ForecastSeries([.. Times.Take(rows)], [.. Inputs.Select(column => column[..rows])], Target[..rows], split, Filled,
            [.. Covariates.Select(column => column[..rows])], CalendarRows[..((rows + settings.Horizon) * CalendarWidth)], CalendarWidth);
    }
}

/// <summary>
/// Forecast origins (the index of the last row a forecast sees) of each part of a series split by time:
/// training windows end and predict before the validation rows, validation windows predict only validation rows,
/// test windows predict only test rows; scalers are fitted on rows before <see cref="ValidationStart"/>.
/// </summary>
public sealed class ForecastSplit
{
    internal ForecastSplit(int window, int horizon, int validationStart, int testStart, int length)
    {
        ValidationStart = validationStart;
        TestStart = testStart;
        Train = Origins(window - 1, validationStart - 1 - horizon);
        Validation = Origins(Math.Max(window - 1, validationStart - 1), testStart - 1 - horizon);
        Test = Origins(Math.Max(window - 1, testStart - 1), length - 1 - horizon);
    }

    /// <summary>The first validation row.</summary>
    public int ValidationStart { get; }

    /// <summary>The first test row.</summary>
    public int TestStart { get; }

    /// <summary>Training origins.</summary>
    public IReadOnlyList<int> Train { get; }

    /// <summary>Validation origins.</summary>
    public IReadOnlyList<int> Validation { get; }

    /// <summary>Test origins: every forecast of the whole horizon from the last training row on.</summary>
    public IReadOnlyList<int> Test { get; }

    private static int[] Origins(int first, int last) => last < first ? [] : [.. Enumerable.Range(first, last - first + 1)];
}
