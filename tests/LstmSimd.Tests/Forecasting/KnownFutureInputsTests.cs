using System.Globalization;
using System.Text;
using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>Known-future covariates and calendar inputs: a covariate that determines the target is used, checkpoints keep them, and data lacking them is refused.</summary>
public sealed class KnownFutureInputsTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-covariates-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static readonly ForecastTrainingOptions Tiny = new() { HiddenSize = 8, MaxEpochs = 40, Patience = 10, LearningRate = 0.01 };

    /// <summary>
    /// Daily rows whose target is level + 4 × promo: promo a 0/1 drawn at random each day (seeded), so the target's past
    /// says nothing of its future, and the covariate, known ahead, says everything but a little noise.
    /// </summary>
    private static string PromoCsv(int days, double level, int seed = 7)
    {
        var random = new Random(seed);
        var text = new StringBuilder("date,sales,promo,other\n");
        var start = new DateTime(2001, 1, 1);
        for (int d = 0; d < days; d++)
        {
            int promo = random.Next(2);
            double sales = level + 4 * promo + 0.2 * (random.NextDouble() - 0.5);
            text.Append(CultureInfo.InvariantCulture, $"{start.AddDays(d):yyyy-MM-dd},{sales:R},{promo},{d % 3}\n");
        }

        return text.ToString();
    }

    private static TimeSeriesTable Table(string csv) => TimeSeriesTable.Parse(new StringReader(csv), "promo.csv");

    private static ForecastSettings Settings(params string[] covariates) => new()
    {
        TimeColumn = "date", InputColumns = ["sales"], TargetColumn = "sales", Window = 8, Horizon = 3, SeasonLength = 7,
        Normalization = SeriesNormalization.ZScore, Covariates = covariates,
    };

    private static double TestMae(Action<int, double[]> predict, ForecastSeries series, int horizon)
    {
        var forecast = new double[horizon];
        double sum = 0;
        int count = 0;
        foreach (int origin in series.Split.Test)
        {
            predict(origin, forecast);
            for (int h = 0; h < horizon; h++, count++) sum += Math.Abs(forecast[h] - series.Target[origin + 1 + h]);
        }

        return sum / count;
    }

    [Fact]
    public void A_covariate_that_determines_the_target_makes_the_forecaster_far_better_than_without_it()
    {
        TimeSeriesTable table = Table(PromoCsv(400, 20));
        ForecastSeries withPromo = ForecastSeries.From(table, Settings("promo")), without = ForecastSeries.From(table, Settings());
        using LstmForecaster informed = ForecasterTraining.Train(withPromo, Settings("promo"), Tiny).Forecaster;
        using LstmForecaster blind = ForecasterTraining.Train(without, Settings(), Tiny).Forecaster;
        Assert.Equal(1 + 1 + 1, informed.Weights.Spec.InputSize); // sales, promo, the horizon flag
        double informedMae = TestMae((o, f) => informed.Predict(withPromo, o, f), withPromo, 3), blindMae = TestMae((o, f) => blind.Predict(without, o, f), without, 3);
        // Without the promo the best forecast is the mean, 2 off on average; with it only the noise (at most 0.1) is left.
        Assert.True(blindMae > 1.5, $"without the covariate: MAE {blindMae}");
        Assert.True(informedMae < 0.5 * blindMae, $"with the covariate: MAE {informedMae}, without {blindMae}");
    }

    [Fact]
    public void A_global_model_over_series_of_different_levels_uses_their_shared_covariate()
    {
        ForecastSettings informedSettings = Settings("promo") with { Normalization = SeriesNormalization.ZScore };
        ForecastSeries[] informed = [ForecastSeries.From(Table(PromoCsv(300, 20, seed: 3)), informedSettings), ForecastSeries.From(Table(PromoCsv(300, 200, seed: 4)), informedSettings)];
        ForecastSeries[] blind = [ForecastSeries.From(Table(PromoCsv(300, 20, seed: 3)), Settings()), ForecastSeries.From(Table(PromoCsv(300, 200, seed: 4)), Settings())];
        using GlobalForecaster withPromo = GlobalForecaster.Train(informed, informedSettings, GlobalModelKind.ScaledPerSeries, Tiny).Forecaster;
        using GlobalForecaster without = GlobalForecaster.Train(blind, Settings(), GlobalModelKind.ScaledPerSeries, Tiny).Forecaster;
        for (int k = 0; k < 2; k++)
        {
            double informedMae = TestMae((o, f) => withPromo.Predict(k, o, f), informed[k], 3), blindMae = TestMae((o, f) => without.Predict(k, o, f), blind[k], 3);
            Assert.True(informedMae < 0.5 * blindMae, $"series {k}: with the covariate MAE {informedMae}, without {blindMae}");
        }
    }

    [Fact]
    public void A_checkpoint_keeps_its_covariates_and_calendar_and_forecasts_exactly_as_trained()
    {
        ForecastSettings settings = Settings("promo") with { Calendar = CalendarEncoding.For(TimeFrequency.Daily) };
        ForecastSeries series = ForecastSeries.From(Table(PromoCsv(200, 20)), settings);
        using LstmForecaster trained = ForecasterTraining.Train(series, settings, Tiny with { MaxEpochs = 2 }).Forecaster;
        Assert.Equal(1 + 1 + 10 + 1, trained.Weights.Spec.InputSize);
        string path = Path.Combine(_dir, "promo.lstm");
        trained.Save(path);
        using LstmForecaster loaded = LstmForecaster.Load(path);
        Assert.Equal(["promo"], loaded.Settings.Covariates);
        Assert.Equal(settings.Calendar, loaded.Settings.Calendar);
        Assert.Equal(trained.KnownFuture.Offsets, loaded.KnownFuture.Offsets);
        Assert.Equal(trained.KnownFuture.Scales, loaded.KnownFuture.Scales);
        var (a, b) = (new double[3], new double[3]);
        foreach (int origin in series.Split.Test)
        {
            trained.Predict(series, origin, a);
            loaded.Predict(series, origin, b);
            Assert.Equal(a, b);
        }
    }

    [Fact]
    public void Data_lacking_a_covariate_the_forecaster_was_trained_with_is_refused_naming_it()
    {
        ForecastSettings settings = Settings("promo");
        ForecastSeries series = ForecastSeries.From(Table(PromoCsv(200, 20)), settings);
        using LstmForecaster trained = ForecasterTraining.Train(series, settings, Tiny with { MaxEpochs = 1 }).Forecaster;
        string path = Path.Combine(_dir, "promo.lstm");
        trained.Save(path);
        using LstmForecaster loaded = LstmForecaster.Load(path);
        string withoutPromo = string.Join('\n', PromoCsv(200, 20).Split('\n').Select(line => line.Length == 0 ? line : string.Join(',', line.Split(',').Where((_, i) => i != 2))));
        var e = Assert.Throws<TimeSeriesFormatException>(() => ForecastSeries.From(Table(withoutPromo), loaded.Settings));
        Assert.Contains("no column 'promo', a known-future covariate", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_forecast_past_the_covariates_last_value_is_refused_naming_them_but_calendar_inputs_extend_past_the_end()
    {
        ForecastSettings settings = Settings("promo");
        ForecastSeries series = ForecastSeries.From(Table(PromoCsv(200, 20)), settings);
        using LstmForecaster forecaster = ForecasterTraining.Train(series, settings, Tiny with { MaxEpochs = 1 }).Forecaster;
        Assert.False(forecaster.CanForecastPastEnd);
        var e = Assert.Throws<ArgumentException>(() => forecaster.Predict(series, series.Length - 1, new double[3]));
        Assert.Contains("'promo'", e.Message, StringComparison.Ordinal);
        forecaster.Predict(series, series.Length - 4, new double[3]); // the last origin whose horizon the data holds

        ForecastSettings calendarOnly = Settings() with { Calendar = CalendarFeatures.DayOfWeek | CalendarFeatures.Holidays };
        ForecastSeries dated = ForecastSeries.From(Table(PromoCsv(200, 20)), calendarOnly);
        using LstmForecaster byCalendar = ForecasterTraining.Train(dated, calendarOnly, Tiny with { MaxEpochs = 1 }).Forecaster;
        Assert.True(byCalendar.CanForecastPastEnd);
        var next = new double[3];
        byCalendar.Predict(dated, dated.Length - 1, next);
        Assert.All(next, v => Assert.True(double.IsFinite(v)));
    }

    [Fact]
    public void Covariates_that_are_the_target_or_named_twice_and_calendar_inputs_on_numbered_rows_are_refused()
    {
        Assert.Throws<ArgumentException>(() => (Settings() with { Covariates = ["sales"] }).Validate());
        Assert.Throws<ArgumentException>(() => (Settings() with { Covariates = ["promo", "promo"] }).Validate());
        string numbered = "t,sales\n" + string.Join('\n', Enumerable.Range(1, 200).Select(t => $"{t},{t % 7}"));
        var e = Assert.Throws<TimeSeriesFormatException>(() => ForecastSeries.From(Table(numbered), Settings() with { TimeColumn = "t", Calendar = CalendarFeatures.DayOfWeek }));
        Assert.Contains("calendar inputs need dates", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_covariate_value_is_interpolated_and_a_long_run_of_them_refused_naming_its_lines()
    {
        string[] lines = PromoCsv(200, 20).Split('\n');
        string Blank(string line) => string.Join(',', line.Split(',').Select((cell, i) => i == 2 ? "NA" : cell));
        lines[50] = Blank(lines[50]);
        ForecastSeries series = ForecastSeries.From(Table(string.Join('\n', lines)), Settings("promo"));
        double before = series.Covariates[0][48], after = series.Covariates[0][50];
        Assert.Equal((before + after) / 2, series.Covariates[0][49]);
        Assert.Contains(series.Filled, f => f.Contains("'promo': 1 missing value", StringComparison.Ordinal));
        for (int l = 60; l < 64; l++) lines[l] = Blank(lines[l]);
        var e = Assert.Throws<TimeSeriesFormatException>(() => ForecastSeries.From(Table(string.Join('\n', lines)), Settings("promo")));
        Assert.Contains("column 'promo': 4 missing values in a row", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_saved_global_model_keeps_its_covariates_and_a_stream_pool_refuses_a_forecaster_that_reads_them()
    {
        ForecastSettings settings = Settings("promo") with { Calendar = CalendarFeatures.DayOfWeek };
        ForecastSeries[] series = [ForecastSeries.From(Table(PromoCsv(200, 20, seed: 3)), settings), ForecastSeries.From(Table(PromoCsv(200, 90, seed: 4)), settings)];
        using GlobalForecaster trained = GlobalForecaster.Train(series, settings, GlobalModelKind.EtsCorrection, Tiny with { MaxEpochs = 2 }).Forecaster;
        string path = Path.Combine(_dir, "global.lstm");
        GlobalForecasterCheckpoint.Save(path, trained, ["a", "b"]);
        GlobalForecasterCheckpoint checkpoint = GlobalForecasterCheckpoint.Read(path);
        Assert.Equal(["promo"], checkpoint.Settings.Covariates);
        Assert.Equal(CalendarFeatures.DayOfWeek, checkpoint.KnownFuture.Calendar);
        using GlobalForecaster loaded = checkpoint.Create(series);
        var (a, b) = (new double[3], new double[3]);
        trained.Predict(1, series[1].Split.Test[0], a);
        loaded.Predict(1, series[1].Split.Test[0], b);
        Assert.Equal(a, b);

        ForecastSeries[] blind = [ForecastSeries.From(Table(PromoCsv(200, 20, seed: 3)), Settings()), ForecastSeries.From(Table(PromoCsv(200, 90, seed: 4)), Settings())];
        Assert.Throws<ArgumentException>(() => checkpoint.Create(blind));

        using LstmForecaster single = ForecasterTraining.Train(series[0], settings, Tiny with { MaxEpochs = 1 }).Forecaster;
        Assert.Throws<NotSupportedException>(() => new BatchedForecaster(single, 4));
    }
}
