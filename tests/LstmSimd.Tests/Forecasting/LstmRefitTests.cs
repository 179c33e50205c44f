using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>Training the LSTM again at backtest origins: what a refit may read, its determinism, and the path without refits.</summary>
public sealed class LstmRefitTests
{
    private static readonly ForecastSettings Settings = new()
    {
        TimeColumn = "Date", InputColumns = ["Value"], TargetColumn = "Value", Window = 12, Horizon = 6, SeasonLength = 12, TestFrom = "2008",
    };

    private static readonly ForecastTrainingOptions Options = new() { HiddenSize = 4, MaxEpochs = 3, Patience = 3, BatchSize = 16 };

    private static ForecastSeries Series(Func<int, double>? value = null) =>
        ForecastSeries.From(TimeSeriesTable.Parse(new StringReader(ForecastingTests.SeasonalCsv(120, value)), "test.csv"), Settings);

    private static float[] Parameters(LstmForecaster forecaster) =>
        [.. forecaster.Weights[0, 0].WeightIh, .. forecaster.Weights[0, 0].WeightHh, .. forecaster.Weights[0, 0].BiasIh, .. forecaster.Weights[0, 0].BiasHh, .. forecaster.Head.Weight, .. forecaster.Head.Bias];

    [Fact]
    public void A_refit_at_an_origin_reads_only_the_rows_up_to_it()
    {
        const int origin = 100;
        ForecastSeries series = Series();
        // The same rows up to the origin, then nonsense: a refit that read any later row would train differently.
        ForecastSeries altered = Series(m => m <= origin ? 100 + 0.2 * m + 3 * Math.Sin(2 * Math.PI * m / 12) : 1e4 * (m % 3));
        Assert.Equal(series.Target.AsSpan(0, origin + 1).ToArray(), altered.Target.AsSpan(0, origin + 1).ToArray());
        using LstmForecaster start = ForecasterTraining.Train(series, Settings, Options).Forecaster;

        ForecastTrainingResult onSeries = ForecasterTraining.Continue(start, series, origin, 2, Options);
        ForecastTrainingResult onAltered = ForecasterTraining.Continue(start, altered, origin, 2, Options);
        using LstmForecaster a = onSeries.Forecaster, b = onAltered.Forecaster;
        Assert.Equal(Parameters(a), Parameters(b));
        Assert.Equal(onSeries.BestValidationRmse, onAltered.BestValidationRmse);
        Assert.NotEqual(Parameters(start), Parameters(a)); // it did train
    }

    [Fact]
    public void A_refit_is_determined_by_its_seed_and_leaves_the_forecaster_it_started_from_unchanged()
    {
        ForecastSeries series = Series();
        using LstmForecaster start = ForecasterTraining.Train(series, Settings, Options).Forecaster;
        float[] before = Parameters(start);
        using LstmForecaster first = ForecasterTraining.Continue(start, series, 100, 2, Options).Forecaster;
        using LstmForecaster again = ForecasterTraining.Continue(start, series, 100, 2, Options).Forecaster;
        using LstmForecaster otherSeed = ForecasterTraining.Continue(start, series, 100, 2, Options with { Seed = 2 }).Forecaster;
        Assert.Equal(Parameters(first), Parameters(again));
        Assert.NotEqual(Parameters(first), Parameters(otherSeed));
        Assert.Equal(before, Parameters(start));
    }

    [Fact]
    public void A_backtest_refits_the_lstm_where_it_refits_the_baselines_and_forecasts_with_the_latest_weights()
    {
        ForecastSeries series = Series();
        using LstmForecaster start = ForecasterTraining.Train(series, Settings, Options).Forecaster;
        using var refitting = new RefittingLstm(start, series, 1, Options);
        ForecastBacktest backtest = ForecastBacktest.Run([refitting.AsNamedMethod()], series.Target, series.Split.Test, Settings.Horizon, 5, 1);

        int[] every5th = [.. series.Split.Test.Where((_, i) => i % 5 == 0)];
        Assert.Equal(every5th, refitting.RefitRows);
        Assert.Equal(every5th.Length, backtest.Refits);
        // The same chain by hand: each refit warm-starts from the previous one, and forecasts until the next.
        LstmForecaster latest = start;
        var expected = new double[Settings.Horizon];
        for (int i = 0; i < backtest.Origins.Count; i++)
        {
            if (i % 5 == 0)
            {
                LstmForecaster next = ForecasterTraining.Continue(latest, series, backtest.Origins[i], 1, Options).Forecaster;
                if (latest != start) latest.Dispose();
                latest = next;
            }

            latest.Predict(series, backtest.Origins[i], expected);
            for (int step = 1; step <= Settings.Horizon; step++) Assert.Equal(expected[step - 1], backtest.Forecast(0, i, step));
        }

        latest.Dispose();
    }

    [Fact]
    public void Without_refits_the_backtest_forecasts_with_the_trained_weights_at_every_origin()
    {
        ForecastSeries series = Series();
        using LstmForecaster forecaster = ForecasterTraining.Train(series, Settings, Options).Forecaster;
        float[] trained = Parameters(forecaster);
        ForecastBacktest backtest = ForecastBacktest.Run([new NamedForecastMethod("LSTM", forecaster.AsMethod(series))], series.Target, series.Split.Test, Settings.Horizon, 5, 1);
        var expected = new double[Settings.Horizon];
        for (int i = 0; i < backtest.Origins.Count; i++)
        {
            forecaster.Predict(series, backtest.Origins[i], expected);
            for (int step = 1; step <= Settings.Horizon; step++) Assert.Equal(expected[step - 1], backtest.Forecast(0, i, step));
        }

        Assert.Equal(0, backtest.Refits);
        Assert.Equal(trained, Parameters(forecaster));
    }

    [Fact]
    public void A_refit_too_early_for_a_training_and_a_validation_window_is_refused_with_the_counts()
    {
        ForecastSeries series = Series();
        using LstmForecaster start = ForecasterTraining.Train(series, Settings, Options).Forecaster;
        var e = Assert.Throws<ArgumentException>(() => ForecasterTraining.Continue(start, series, 15, 1, Options));
        Assert.Contains("The 16 rows up to row 15 hold 0 training and 0 validation windows", e.Message, StringComparison.Ordinal);
        using var refitting = new RefittingLstm(start, series, 1, Options);
        Assert.Throws<ArgumentException>(() => refitting.AsNamedMethod().Refit!(new double[series.Length], 100));
    }
}
