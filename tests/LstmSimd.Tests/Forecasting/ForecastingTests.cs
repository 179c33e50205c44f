using LstmSimd.Forecasting;
using LstmSimd.IO;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

public sealed class ForecastingTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-forecasting-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static TimeSeriesTable Csv(string text) => TimeSeriesTable.Parse(new StringReader(text), "test.csv");

    /// <summary>Monthly rows from 2000-01: a rising line plus a 12-month wave.</summary>
    internal static string SeasonalCsv(int months, Func<int, double>? value = null)
    {
        value ??= m => 100 + 0.2 * m + 3 * Math.Sin(2 * Math.PI * m / 12);
        var lines = new List<string> { "Date,Value,Other" };
        for (int m = 0; m < months; m++)
            lines.Add($"{2000 + m / 12:D4}-{m % 12 + 1:D2}-01,{value(m).ToString("R", System.Globalization.CultureInfo.InvariantCulture)},{m}");
        return string.Join('\n', lines);
    }

    private static ForecastSettings Settings(int window = 24, int horizon = 12, string? testFrom = null) => new()
    {
        TimeColumn = "Date", InputColumns = ["Value"], TargetColumn = "Value", Window = window, Horizon = horizon, TestFrom = testFrom,
    };

    [Fact]
    public void A_non_numeric_cell_is_reported_with_its_line_and_column()
    {
        TimeSeriesTable table = Csv("Date,Value\n2000-01-01,1\n2000-02-01,2.5\n2000-03-01,n/a\n");
        var e = Assert.Throws<TimeSeriesFormatException>(() => table.GetColumn("Value"));
        Assert.Equal("test.csv, line 4, column 'Value': 'n/a' is not a number.", e.Message);
    }

    [Fact]
    public void A_missing_column_names_the_columns_there_are()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Csv("Date,CO2\n2000-01-01,1\n").GetColumn("co2"));
        Assert.Equal("test.csv: no column 'co2'; the columns are 'Date', 'CO2'.", e.Message);
    }

    [Fact]
    public void Ragged_rows_empty_files_and_quoted_cells_are_handled()
    {
        Assert.Contains("line 3: 3 cells", Assert.Throws<TimeSeriesFormatException>(() => Csv("a,b\n1,2\n1,2,3\n")).Message, StringComparison.Ordinal);
        Assert.Contains("empty", Assert.Throws<TimeSeriesFormatException>(() => Csv("")).Message, StringComparison.Ordinal);
        Assert.Contains("no data rows", Assert.Throws<TimeSeriesFormatException>(() => Csv("a,b\n")).Message, StringComparison.Ordinal);
        Assert.Equal([1.5, 2], Csv("t,\"x, y\"\n\"2000\",1.5\r\n2001,\"2\"\n").GetColumn("x, y"));
    }

    [Fact]
    public void A_quoted_cell_may_hold_a_line_break_and_later_lines_keep_their_numbers()
    {
        TimeSeriesTable table = Csv("t,note,v\n2000,\"two\nlines\",1\n2001,\"say \"\"hi\"\"\",2\n2002,x,oops\n");
        Assert.Equal(["2000", "2001", "2002"], table.Times);
        Assert.Equal("test.csv, line 5, column 'v': 'oops' is not a number.", Assert.Throws<TimeSeriesFormatException>(() => table.GetColumn("v")).Message);
        Assert.Contains("line 2: 2 cells; the header names 3 columns (a quoted cell runs over several lines: is a closing quote missing?)", Assert.Throws<TimeSeriesFormatException>(() => Csv("t,a,b\n1,\"unclosed,2\n2,3\n")).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Date,Value\n2001-01-01,1\n2001-04-01,2\n2001-03-01,3\n", "test.csv: line 4 (2001-03-01) is not after line 3 (2001-04-01)")]
    [InlineData("Date,Value\n2001-03-01,1\n2001-02-01,2\n2001-01-01,3\n", "line 3 (2001-02-01) is not after line 2 (2001-03-01)")]
    [InlineData("Date,Value\n2001-01-01,1\n2001-02-01,2\n\n2001-02-01,3\n", "line 5 (2001-02-01) repeats the time of line 3 (2001-02-01)")]
    [InlineData("t,v\n1,1\n3,1\n2,1\n", "line 4 (2) is not after line 3 (3); the rows must be in increasing time order, each time once (times compared as numbers)")]
    [InlineData("t,v\n9,1\n10,1\n10.0,1\n", "line 4 (10.0) repeats the time of line 3 (10)")]
    [InlineData("t,v\nb,1\na,1\n", "line 3 (a) is not after line 2 (b)")]
    [InlineData("Date,Value\n2001-01-01,1\n ,2\n", "test.csv, line 3: the time ('Date') is empty.")]
    public void Times_out_of_order_repeated_or_missing_are_refused_naming_the_rows(string csv, string expected)
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Csv(csv));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Times_compare_as_numbers_or_dates_when_they_all_are_and_are_trimmed()
    {
        TimeSeriesTable numbers = Csv("t,v\n8,1\n9,2\n10,3\n11,4\n");
        Assert.Equal(2, numbers.FirstRowAtOrAfter("10"));
        Assert.Equal(4, numbers.FirstRowAtOrAfter("12"));
        TimeSeriesTable months = Csv("Month,v\nDec 2000,1\nJan 2001,2\nFeb 2001,3\n");
        Assert.Equal(1, months.FirstRowAtOrAfter("2001-01-01"));
        TimeSeriesTable padded = Csv("Date,Value\n 2000-01-01 ,1\n\t2000-02-01,2\n");
        Assert.Equal(["2000-01-01", "2000-02-01"], padded.Times);
        Assert.Equal(1, padded.FirstRowAtOrAfter("2000-02"));
    }

    [Fact]
    public void A_column_named_twice_is_refused_naming_it()
    {
        var e = Assert.Throws<TimeSeriesFormatException>(() => Csv("Date,Value, Value\n2000-01-01,1,2\n"));
        Assert.Equal("test.csv: the header names column 'Value' twice (columns 2 and 3).", e.Message);
    }

    [Fact]
    public void Invalid_UTF_8_and_NUL_bytes_are_refused_with_their_line()
    {
        string path = Path.Combine(_dir, "bad.csv");
        File.WriteAllBytes(path, [.. "Date,Value\r\n2000-01-01,1\r\n2000-02-01,"u8, 0xFF, .. "2\n"u8]);
        Assert.Equal($"{path}, line 3: byte 0xFF is not valid UTF-8 (save the file as UTF-8).", Assert.Throws<TimeSeriesFormatException>(() => TimeSeriesTable.Load(path)).Message);
        File.WriteAllBytes(path, [.. "Date,Value\n2000-01-01,1"u8, 0, .. "\n2000-02-01,2\n"u8]);
        Assert.Equal($"{path}, line 2: a NUL byte; this is not a text file.", Assert.Throws<TimeSeriesFormatException>(() => TimeSeriesTable.Load(path)).Message);
        Assert.Contains("line 2: a NUL character", Assert.Throws<TimeSeriesFormatException>(() => Csv("Date,Value\n2000-01-01,\01\n")).Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, [0xEF, 0xBB, 0xBF, .. "Date,Value\n2000-01-01,1\n"u8]);
        Assert.Equal("Date", TimeSeriesTable.Load(path).TimeColumn);
    }

    [Fact]
    public void Messages_quote_at_most_sixty_characters_of_a_cell_or_name()
    {
        string huge = new('x', 10_000_000);
        string cell = Assert.Throws<TimeSeriesFormatException>(() => Csv($"Date,Value\n2000-01-01,{huge}\n").GetColumn("Value")).Message;
        Assert.Equal($"test.csv, line 2, column 'Value': '{new string('x', 60)}…' is not a number.", cell);
        string column = Assert.Throws<TimeSeriesFormatException>(() => Csv("Date,Value\n2000-01-01,1\n").GetColumn(huge)).Message;
        Assert.InRange(column.Length, 1, 200);
        string[] many = [.. Enumerable.Range(0, 1000).Select(i => $"c{i}")];
        string list = Assert.Throws<TimeSeriesFormatException>(() => Csv($"{string.Join(',', many)}\n{string.Join(',', many.Select(_ => "1"))}\n").GetColumn("z")).Message;
        Assert.EndsWith("'c18', 'c19', … (1000 in all).", list, StringComparison.Ordinal);
        string time = Assert.Throws<TimeSeriesFormatException>(() => Csv($"t,v\n{huge},1\na,2\n")).Message;
        Assert.InRange(time.Length, 1, 400);
    }

    [Fact]
    public void The_split_is_by_time_and_a_too_short_series_is_refused_with_the_numbers()
    {
        ForecastSeries series = ForecastSeries.From(Csv(SeasonalCsv(240)), Settings(testFrom: "2016"));
        ForecastSplit split = series.Split;
        Assert.Equal("2016-01-01", series.Times[split.TestStart]);
        Assert.Equal(split.TestStart - 1, split.Test[0]);
        Assert.True(split.Train[^1] + 12 < split.ValidationStart);
        Assert.True(split.Validation[^1] + 12 < split.TestStart);
        Assert.Equal(series.Length - 1 - 12, split.Test[^1]);

        var e = Assert.Throws<TimeSeriesFormatException>(() => ForecastSeries.From(Csv(SeasonalCsv(50)), Settings()));
        Assert.Contains("too short", e.Message, StringComparison.Ordinal);
        Assert.Contains("window 24 + horizon 12", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Baselines_are_exact_where_they_should_be()
    {
        double[] wave = [.. Enumerable.Range(0, 60).Select(m => Math.Sin(2 * Math.PI * m / 12))];
        double[] line = [.. Enumerable.Range(0, 60).Select(m => 5 + 0.5 * m)];
        var forecast = new double[12];
        ForecastBaselines.SeasonalNaive(12)(wave, 30, forecast);
        Assert.Equal(wave[31..43], forecast, (a, b) => Math.Abs(a - b) < 1e-12);
        ForecastBaselines.LinearTrend(10)(line, 30, forecast);
        Assert.Equal(line[31..43], forecast, (a, b) => Math.Abs(a - b) < 1e-12);
        double[] both = [.. wave.Zip(line, (a, b) => a + b)];
        ForecastBaselines.SeasonalNaiveWithDrift(12)(both, 30, forecast);
        Assert.Equal(both[31..43], forecast, (a, b) => Math.Abs(a - b) < 1e-12);
        ForecastBaselines.Naive()(line, 30, forecast);
        Assert.All(forecast, v => Assert.Equal(line[30], v));
        Assert.Equal(0, ForecastScore.Evaluate("s", ForecastBaselines.SeasonalNaive(12), wave, [20, 30, 40], 12, maseScale: 1).Rmse, 12);
    }

    [Fact]
    public void Mean_and_drift_forecasts_and_the_four_errors_match_a_hand_calculation()
    {
        var forecast = new double[2];
        ForecastBaselines.Mean()([1, 2, 3, 6, 100], 3, forecast);
        Assert.Equal([3.0, 3.0], forecast);
        ForecastBaselines.Drift()([1, 2, 4, 7, 100], 3, forecast); // slope (7 − 1) / 3 = 2
        Assert.Equal([9.0, 11.0], forecast);

        double[] y = [2, 4, 3, 5, 6, 8];
        double scale = ForecastScore.SeasonalNaiveScale(y, 4, 1); // (|4−2| + |3−4| + |5−3|) / 3
        Assert.Equal(5.0 / 3, scale, 1e-15);
        ForecastScore score = ForecastScore.Evaluate("naive", ForecastBaselines.Naive(), y, [3], 2, scale); // 5, 5 against 6, 8
        Assert.Equal(2, score.Mae, 1e-15);
        Assert.Equal(Math.Sqrt(5), score.Rmse, 1e-15);
        Assert.Equal(1.2, score.Mase, 1e-15);
        Assert.Equal((200.0 / 11 + 600.0 / 13) / 2, score.Smape, 1e-12);
        Assert.Equal(2, score.Count);
        Assert.Equal(5.0 / 3, ForecastScore.SeasonalNaiveScale([1, 5, 2, 7, 4, 99], 5, 2), 1e-15); // (|2−1| + |7−5| + |4−2|) / 3
    }

    [Fact]
    public void The_baselines_fit_ETS_on_the_rows_before_the_test_and_a_series_repeating_every_season_is_judged_by_MAE()
    {
        ForecastSeries series = ForecastSeries.From(Csv(SeasonalCsv(240)), Settings(testFrom: "2016"));
        IReadOnlyList<NamedForecastMethod> methods = ForecastComparison.Baselines(series, 12, 24, out IReadOnlyList<string> notes);
        Assert.Empty(notes);
        Assert.Equal(["mean", "naive (last value)", "seasonal naive (12)", "seasonal naive + drift (12)", "linear trend (last 24)", "AutoETS: ETS(A,A,A)", "Theta"], methods.Select(m => m.Name));
        Assert.StartsWith("AutoETS fitted on the 192 rows before the test chose ETS(A,A,A) by AICc (ETS(A,N,N) ", methods[5].Fitted, StringComparison.Ordinal);
        // The series is exactly a line plus a 12-month wave: AutoETS chooses ETS(A,A,A), and it and seasonal naive + drift forecast it without error.
        ForecastBacktest backtest = ForecastComparison.Backtest(methods, series, 12, 12, refitEvery: 12);
        IReadOnlyList<ForecastScore> scores = backtest.Scores;
        Assert.Equal(4, backtest.Refits); // 37 test origins (191 … 227), AutoETS and Theta fitted again at the 1st, 13th, 25th and 37th

        Assert.True(scores[5].Mase < 1e-6, $"ETS(A,A,A) MASE {scores[5].Mase}");
        Assert.True(scores[3].Mase < 1e-9, $"seasonal naive + drift MASE {scores[3].Mase}");
        Assert.Equal(1, scores[2].Mase, 1e-9); // seasonal naive misses by one year's growth at every step, as in-sample

        IReadOnlyList<NamedForecastMethod> yearly = ForecastComparison.Baselines(series, 1, 24, out _);
        Assert.Contains(yearly, m => m.Name == "drift");
        Assert.Contains(yearly, m => m.Name.StartsWith("AutoETS: ETS(A,", StringComparison.Ordinal) && m.Name.EndsWith(",N)", StringComparison.Ordinal));
        Assert.Equal(0, ForecastScore.SeasonalNaiveScale([1, 2, 1, 2, 1], 5, 2));
        ForecastScore undefined = ForecastScore.Evaluate("naive", ForecastBaselines.Naive(), [1, 2, 1, 2, 1], [2], 2, 0);
        Assert.True(double.IsNaN(undefined.Mase));
        double[] repeating = [.. Enumerable.Range(0, 60).Select(t => (double)(t % 2))];
        ForecastMethod halfOff = (target, origin, destination) =>
        {
            for (int h = 0; h < destination.Length; h++) destination[h] = target[origin + 1 + h] + (origin % 3 == 0 ? 0.5 : 0.1);
        };
        ForecastBacktest undefinedScale = ForecastBacktest.Run([new("LSTM", halfOff), new("naive", ForecastBaselines.Naive())], repeating, [.. Enumerable.Range(2, 50)], 2, 1, maseScale: 0);
        ForecastVerdict verdict = ForecastComparison.Judge(undefinedScale);
        Assert.True(verdict.Beats, verdict.Text);
        Assert.StartsWith("the LSTM beats every baseline: MAE (MASE is undefined: the in-sample rows repeat exactly every season) 0.236 against 0.500", verdict.Text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(SeriesNormalization.Relative)]
    [InlineData(SeriesNormalization.ZScore)]
    [InlineData(SeriesNormalization.MinMax)]
    [InlineData(SeriesNormalization.None)]
    public void Scaling_a_target_and_unscaling_it_gives_it_back(SeriesNormalization normalization)
    {
        double[] x = [.. Enumerable.Range(0, 100).Select(m => 300 + m + 4 * Math.Cos(m))];
        var scaler = SeriesScaler.Fit(normalization, [x, x], 80, 6);
        var scaled = new float[6];
        var back = new double[6];
        scaler.FillTarget(x, 50, 6, scaled);
        scaler.Unscale(scaled, x, 50, back);
        for (int h = 0; h < 6; h++) Assert.Equal(x[51 + h], back[h], 1e-3 * Math.Abs(x[51 + h]));
    }

    [Fact]
    public void A_trained_forecaster_beats_the_baselines_and_its_checkpoint_predicts_the_same()
    {
        // A trend, a season and noise: seasonal naive misses the trend, a line misses the season.
        var noise = new Random(3);
        ForecastSeries series = ForecastSeries.From(Csv(SeasonalCsv(300, m => 100 + 0.2 * m + 3 * Math.Sin(2 * Math.PI * m / 12) + 0.1 * noise.NextDouble())), Settings(testFrom: "2020"));
        int epochs = 0;
        ForecastTrainingResult result = ForecasterTraining.Train(series, Settings(testFrom: "2020"), new ForecastTrainingOptions { HiddenSize = 16, MaxEpochs = 60, Patience = 60 },
            onEpoch: r => epochs = r.Epoch);
        using LstmForecaster forecaster = result.Forecaster;
        Assert.Equal(60, epochs);
        double lstm = ForecastScore.Evaluate("lstm", forecaster.AsMethod(series), series.Target, series.Split.Test, 12, maseScale: 1).Rmse;
        double seasonal = ForecastScore.Evaluate("s", ForecastBaselines.SeasonalNaive(12), series.Target, series.Split.Test, 12, maseScale: 1).Rmse;
        double trend = ForecastScore.Evaluate("t", ForecastBaselines.LinearTrend(24), series.Target, series.Split.Test, 12, maseScale: 1).Rmse;
        Assert.True(lstm < seasonal && lstm < trend, $"LSTM {lstm}, seasonal naive {seasonal}, linear trend {trend}");

        string path = Path.Combine(_dir, "f.lstm");
        forecaster.Save(path);
        using LstmForecaster loaded = LstmForecaster.Load(path);
        double[] a = new double[12], b = new double[12];
        forecaster.Predict(series, series.Length - 1, a);
        loaded.Predict(series, series.Length - 1, b);
        Assert.Equal(a, b);
        Assert.Equal("2020", loaded.Settings.TestFrom);
        Assert.Equal(forecaster.Scaler.Scales, loaded.Scaler.Scales);
    }

    [Fact]
    public void A_checkpoint_finds_its_data_beside_itself_first_then_at_the_absolute_path_it_was_trained_from()
    {
        string trainedIn = Directory.CreateDirectory(Path.Combine(_dir, "a")).FullName, copiedTo = Directory.CreateDirectory(Path.Combine(_dir, "b")).FullName;
        string data = Path.Combine(trainedIn, "series.csv");
        File.WriteAllText(data, SeasonalCsv(200));
        TimeSeriesTable table = TimeSeriesTable.Load(data);
        ForecastSettings settings = Settings() with { Data = ForecastDataSource.Of(table, table.InferFrequency().Frequency) };
        Assert.Equal(new ForecastDataSource(data, Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(File.ReadAllBytes(data))), 200, "monthly"), settings.Data);
        using (LstmForecaster forecaster = ForecasterTraining.Train(ForecastSeries.From(table, settings), settings, new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 1, Patience = 1 }).Forecaster)
            forecaster.Save(Path.Combine(trainedIn, "m.lstm"));
        File.Copy(Path.Combine(trainedIn, "m.lstm"), Path.Combine(copiedTo, "m.lstm"));

        string DataOf(string checkpoint)
        {
            using LstmForecaster loaded = LstmForecaster.Load(checkpoint);
            return loaded.Settings.Data!.Path;
        }

        Assert.Equal(data, DataOf(Path.Combine(copiedTo, "m.lstm"))); // nothing beside the copy: the absolute path
        File.WriteAllText(Path.Combine(copiedTo, "series.csv"), SeasonalCsv(212));
        Assert.Equal(Path.Combine(copiedTo, "series.csv"), DataOf(Path.Combine(copiedTo, "m.lstm")));
        using LstmForecaster copy = LstmForecaster.Load(Path.Combine(copiedTo, "m.lstm"));
        Assert.Equal(212, copy.Settings.Data!.Reload("Date", out string? changed).RowCount);
        Assert.Contains("changed since training (200 rows then, 212 now", changed, StringComparison.Ordinal);
        using LstmForecaster original = LstmForecaster.Load(Path.Combine(trainedIn, "m.lstm"));
        original.Settings.Data!.Reload("Date", out changed);
        Assert.Null(changed);
        Assert.Throws<ArgumentException>(() => ForecastDataSource.Of(Csv(SeasonalCsv(50)), TimeFrequency.Monthly));
    }

    [Fact]
    public void Two_threads_predicting_with_one_forecaster_get_the_misuse_named_and_its_forecasts_stay_right()
    {
        ForecastSeries series = ForecastSeries.From(Csv(SeasonalCsv(200)), Settings());
        using LstmForecaster forecaster = ForecasterTraining.Train(series, Settings(), new ForecastTrainingOptions { HiddenSize = 96, MaxEpochs = 1, Patience = 1 }).Forecaster;
        double[] expected = new double[12];
        forecaster.Predict(series, 100, expected);
        void Predict()
        {
            try
            {
                forecaster.Predict(series, 100 + Environment.CurrentManagedThreadId % 50, new double[12]);
            }
            catch (InvalidOperationException e) when (!e.Message.StartsWith("this LstmForecaster ", StringComparison.Ordinal))
            {
                // The forecaster's own buffers are shared before its session is reached: it must refuse first.
                throw new ArgumentException("refused by another object: " + e.Message, e);
            }
        }

        (int refused, Exception[] others) = Concurrency.Hammer(Predict, iterations: 100_000);
        Assert.Empty(others);
        Assert.True(refused > 0, "no call was refused in 30 s of simultaneous rounds");
        double[] again = new double[12];
        forecaster.Predict(series, 100, again);
        Assert.Equal(expected, again);
    }

    [Fact]
    public void Cancelling_stops_training_and_keeps_the_best_epoch_so_far()
    {
        ForecastSeries series = ForecastSeries.From(Csv(SeasonalCsv(200)), Settings());
        using var cancel = new CancellationTokenSource();
        int saved = 0;
        ForecastTrainingResult result = ForecasterTraining.Train(series, Settings(), new ForecastTrainingOptions { HiddenSize = 8, MaxEpochs = 1000, Patience = 1000 },
            onEpoch: r => { if (r.Epoch == 3) cancel.Cancel(); }, onImproved: _ => saved++, cancellation: cancel.Token);
        using LstmForecaster forecaster = result.Forecaster;
        Assert.Equal(3, result.Epochs);
        Assert.Equal("stopped by the user", result.StopReason);
        Assert.InRange(result.BestEpoch, 1, 3);
        Assert.InRange(saved, 1, 3);
    }

    [Fact]
    public void A_model_file_that_is_not_a_forecaster_is_refused_with_a_clear_message()
    {
        string path = Path.Combine(_dir, "plain.lstm");
        LstmModelFile.Save(path, LstmWeights.CreateRandom(new LstmSpec(1, 4), 1));
        Assert.Contains("not a forecaster", Assert.Throws<ModelFormatException>(() => LstmForecaster.Load(path)).Message, StringComparison.Ordinal);
        File.WriteAllBytes(path, [1, 2, 3]);
        Assert.ThrowsAny<ModelFormatException>(() => LstmForecaster.Load(path));
    }
}
