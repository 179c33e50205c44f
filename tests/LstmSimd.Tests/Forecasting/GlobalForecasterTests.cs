using System.Globalization;
using LstmSimd.Forecasting;
using Xunit;
using Xunit.Abstractions;

namespace LstmSimd.Tests.Forecasting;

/// <summary>The level-and-season decomposition of the ES-RNN hybrid, and global models over many series.</summary>
public sealed class GlobalForecasterTests(ITestOutputHelper output)
{
    private static readonly ForecastSettings Settings = new()
    {
        TimeColumn = "Date", InputColumns = ["Value"], TargetColumn = "Value", Window = 12, Horizon = 6, SeasonLength = 12, TestFrom = "2008",
    };

    private static ForecastSeries Series(Func<int, double> value, int months = 120) =>
        ForecastSeries.From(TimeSeriesTable.Parse(new StringReader(ForecastingTests.SeasonalCsv(months, value)), "test.csv"), Settings);

    [Fact]
    public void The_decomposition_runs_level_and_season_as_a_hand_calculation_does()
    {
        // ℓ₋₁ = 10, s = [2, −2], α = 0.5, γ = 0.2 over y = 13, 7, 12, 9; e = y − ℓ − s, ℓ += αe, s += γe:
        // e 1 → ℓ 10.5, s₀ 2.2; e −1.5 → ℓ 9.75, s₁ −2.3; e 0.05 → ℓ 9.775, s₀ 2.21; e 1.525 → ℓ 10.5375, s₁ −1.995.
        var model = new EtsModel(EtsTrend.None, 2, alpha: 0.5, beta: 0, gamma: 0.2, phi: 1, initialLevel: 10, initialTrend: 0, initialSeason: [2, -2]);
        LevelSeasonDecomposition d = LevelSeasonDecomposition.Run(model, [13, 7, 12, 9]);
        double[] levels = [10.5, 9.75, 9.775, 10.5375];
        for (int t = 0; t < 4; t++) Assert.Equal(levels[t], d.Level(t), 1e-12);
        // Rows up to the origin: the season their forecast used; later rows: the latest estimate of their phase.
        double[] seasonsAt3 = [2, -2, 2.2, -2.3, 2.21, -1.995, 2.21, -1.995];
        for (int row = 0; row < seasonsAt3.Length; row++) Assert.Equal(seasonsAt3[row], d.Season(3, row), 1e-12);
        Assert.Equal([-2, 2.2, -2.3], [d.Season(0, 1), d.Season(0, 2), d.Season(1, 3)]);
        Assert.Equal([2.2, 2.2], [d.Season(1, 2), d.Season(1, 4)]); // row 4's phase was last updated at row 2, after origin 1
    }

    [Fact]
    public void The_decomposition_at_an_origin_depends_on_the_rows_up_to_it_only()
    {
        var model = new EtsModel(EtsTrend.None, 4, alpha: 0.3, beta: 0, gamma: 0.1, phi: 1, initialLevel: 5, initialTrend: 0, initialSeason: [1, -1, 2, -2]);
        double[] values = [.. Enumerable.Range(0, 30).Select(t => 5 + Math.Sin(t))];
        double[] altered = [.. values.Select((v, t) => t <= 20 ? v : -v * 100)];
        LevelSeasonDecomposition a = LevelSeasonDecomposition.Run(model, values), b = LevelSeasonDecomposition.Run(model, altered);
        for (int origin = 0; origin <= 20; origin++)
        {
            Assert.Equal(a.Level(origin), b.Level(origin));
            for (int row = 0; row < origin + 12; row++) Assert.Equal(a.Season(origin, row), b.Season(origin, row));
        }

        Assert.NotEqual(a.Level(21), b.Level(21));
    }

    [Fact]
    public void A_model_with_a_trend_and_non_finite_values_are_refused()
    {
        var trended = new EtsModel(EtsTrend.Additive, 1, 0.5, 0.1, 0, 1, 10, 1, []);
        Assert.Contains("leaves the trend to the LSTM", Assert.Throws<ArgumentException>(() => LevelSeasonDecomposition.Run(trended, [1, 2])).Message, StringComparison.Ordinal);
        var level = new EtsModel(EtsTrend.None, 1, 0.5, 0, 0, 1, 10, 0, []);
        Assert.Contains("Row 1 is NaN", Assert.Throws<ArgumentException>(() => LevelSeasonDecomposition.Run(level, [1, double.NaN])).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(GlobalModelKind.ScaledPerSeries)]
    [InlineData(GlobalModelKind.ExponentialSmoothingHybrid)]
    public void Each_series_is_scaled_by_its_own_statistics_so_a_rescaled_copy_gets_the_rescaled_forecast(GlobalModelKind kind)
    {
        static double Wave(int m) => 100 + 0.2 * m + 3 * Math.Sin(2 * Math.PI * m / 12) + Math.Sin(m * 0.7);
        ForecastSeries small = Series(Wave), large = Series(m => 1000 * Wave(m) - 5e4);
        ForecastSettings settings = Settings with { Normalization = SeriesNormalization.ZScore };
        using GlobalForecaster global = GlobalForecaster.Train([small, large], settings, kind, new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 2, Patience = 2 }).Forecaster;
        var (a, b) = (new double[6], new double[6]);
        foreach (int origin in small.Split.Test)
        {
            global.Predict(0, origin, a);
            global.Predict(1, origin, b);
            for (int h = 0; h < 6; h++) Assert.Equal(1000 * a[h] - 5e4, b[h], 1e-6 * Math.Abs(b[h]));
        }
    }

    /// <summary>Noise-free series of different sizes (level, slope, season's amplitude and phase): the truth is the formula.</summary>
    private static ForecastSeries[] KnownSeries() =>
    [
        .. new (double Level, double Slope, double Amplitude, double Phase)[] { (10, 0.05, 2, 0), (500, -1, 40, 1), (2e4, 30, 500, 2.5), (-50, 0.3, 5, 4) }
            .Select(p => Series(m => p.Level + p.Slope * m + p.Amplitude * Math.Sin(2 * Math.PI * m / 12 + p.Phase))),
    ];

    private static double TestMae(ForecastMethod method, ForecastSeries series) =>
        ForecastScore.Evaluate("", method, series.Target, series.Split.Test, Settings.Horizon, 1).Mae;

    [Fact]
    public void A_global_model_learns_series_of_very_different_sizes_whose_truth_is_known()
    {
        ForecastSeries[] series = KnownSeries();
        using GlobalForecaster global = GlobalForecaster.Train(series, Settings, GlobalModelKind.ScaledPerSeries,
            new ForecastTrainingOptions { HiddenSize = 8, MaxEpochs = 40, Patience = 40, BatchSize = 16, LearningRate = 1e-2 }).Forecaster;
        for (int k = 0; k < series.Length; k++)
        {
            double lstm = TestMae(global.AsMethod(k), series[k]), naive = TestMae(ForecastBaselines.Naive(), series[k]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"series {k}: global LSTM MAE {lstm:G4}, naive {naive:G4}"));
            Assert.True(lstm < 0.1 * naive, $"series {k}: the global LSTM's MAE {lstm} is not a tenth of the naive forecast's {naive}");
        }
    }

    [Fact]
    public void The_hybrid_forecasts_the_trend_its_smoothing_leaves_and_beats_the_smoothing_alone()
    {
        ForecastSeries[] series = KnownSeries();
        using GlobalForecaster hybrid = GlobalForecaster.Train(series, Settings, GlobalModelKind.ExponentialSmoothingHybrid,
            new ForecastTrainingOptions { HiddenSize = 8, MaxEpochs = 40, Patience = 40, BatchSize = 16, LearningRate = 1e-2 }).Forecaster;
        for (int k = 0; k < series.Length; k++)
        {
            LevelSeasonDecomposition d = hybrid.Decomposition(k)!;
            double lstm = TestMae(hybrid.AsMethod(k), series[k]), smoothing = TestMae(ForecastBaselines.Ets(d.Model), series[k]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"series {k}: hybrid MAE {lstm:G4}, {d.Model.Name} alone {smoothing:G4}"));
            Assert.True(lstm < 0.1 * smoothing, $"series {k}: the hybrid's MAE {lstm} is not a tenth of its smoothing's {smoothing}");
        }
    }

    [Fact]
    public void No_series_a_series_too_short_and_another_array_are_refused_naming_the_problem()
    {
        ForecastTrainingOptions options = new() { HiddenSize = 2, MaxEpochs = 1, Patience = 1 };
        Assert.Contains("at least one series", Assert.Throws<ArgumentException>(() => GlobalForecaster.Train([], Settings, GlobalModelKind.ScaledPerSeries, options)).Message, StringComparison.Ordinal);
        ForecastSeries series = Series(m => m % 7);
        ForecastSeries otherWindow = ForecastSeries.From(TimeSeriesTable.Parse(new StringReader(ForecastingTests.SeasonalCsv(120)), "test.csv"), Settings with { Window = 24 });
        Assert.Contains("Series 1 was split for another window or horizon than the settings' 12 and 6", Assert.Throws<ArgumentException>(
            () => GlobalForecaster.Train([series, otherWindow], Settings, GlobalModelKind.ScaledPerSeries, options)).Message, StringComparison.Ordinal);
        using GlobalForecaster global = GlobalForecaster.Train([series], Settings, GlobalModelKind.ScaledPerSeries, options).Forecaster;
        Assert.Throws<ArgumentException>(() => global.AsMethod(0)(new double[series.Length], 100, new double[6]));
        Assert.Throws<ArgumentOutOfRangeException>(() => global.Predict(1, 100, new double[6]));
        Assert.Throws<ArgumentOutOfRangeException>(() => global.Predict(0, 5, new double[6]));
    }
}
