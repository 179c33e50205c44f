using System.Globalization;
using LstmSimd.Forecasting;
using LstmSimd.IO;
using Xunit;
using Xunit.Abstractions;

namespace LstmSimd.Tests.Forecasting;

/// <summary>Exponential smoothing states, global models over many series, the ES-RNN hybrids and the ETS + LSTM correction.</summary>
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
        SmoothingStates d = SmoothingStates.Run(model, [13, 7, 12, 9]);
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
        SmoothingStates a = SmoothingStates.Run(model, values), b = SmoothingStates.Run(model, altered);
        for (int origin = 0; origin <= 20; origin++)
        {
            Assert.Equal(a.Level(origin), b.Level(origin));
            for (int row = 0; row < origin + 12; row++) Assert.Equal(a.Season(origin, row), b.Season(origin, row));
        }

        Assert.NotEqual(a.Level(21), b.Level(21));
    }

    [Fact]
    public void A_damped_trend_runs_and_forecasts_as_a_hand_calculation_does()
    {
        // ℓ₀ = 10, b₀ = 1, α = 0.5, β = 0.2, φ = 0.9 over y = 12, 11; μ = ℓ + φb, e = y − μ, ℓ = μ + αe, b = φb + βe:
        // μ 10.9, e 1.1 → ℓ 11.45, b 1.12; μ 12.458, e −1.458 → ℓ 11.729, b 0.7164.
        // Two steps ahead of row 1: ℓ + (φ + φ²) b = 11.729 + 1.71 × 0.7164 = 12.954044.
        var model = new EtsModel(EtsTrend.DampedAdditive, 1, alpha: 0.5, beta: 0.2, gamma: 0, phi: 0.9, initialLevel: 10, initialTrend: 1, initialSeason: []);
        SmoothingStates states = SmoothingStates.Run(model, [12, 11]);
        Assert.Equal([1.1, -1.458], [states.OneStepError(0), states.OneStepError(1)], new Tolerance(1e-12));
        Assert.Equal([11.45, 11.729], [states.Level(0), states.Level(1)], new Tolerance(1e-12));
        Assert.Equal([1.12, 0.7164], [states.Trend(0), states.Trend(1)], new Tolerance(1e-12));
        Assert.Equal(12.954044, states.Forecast(1, 3), 1e-12);
        Assert.Equal(11.45 + 0.9 * 1.12, states.Forecast(0, 1), 1e-12);
        Assert.Throws<ArgumentOutOfRangeException>(() => states.Forecast(1, 1));
        var level = new EtsModel(EtsTrend.None, 1, 0.5, 0, 0, 1, 10, 0, []);
        Assert.Contains("Row 1 is NaN", Assert.Throws<ArgumentException>(() => SmoothingStates.Run(level, [1, double.NaN])).Message, StringComparison.Ordinal);
    }

    private sealed class Tolerance(double tolerance) : IEqualityComparer<double>
    {
        public bool Equals(double x, double y) => Math.Abs(x - y) <= tolerance;

        public int GetHashCode(double obj) => 0;
    }

    [Theory]
    [InlineData(GlobalModelKind.ScaledPerSeries)]
    [InlineData(GlobalModelKind.ExponentialSmoothingHybrid)]
    [InlineData(GlobalModelKind.EtsCorrection)]
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
            SmoothingStates d = hybrid.Smoothing(k)!;
            double lstm = TestMae(hybrid.AsMethod(k), series[k]), smoothing = TestMae(ForecastBaselines.Ets(d.Model), series[k]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"series {k}: hybrid MAE {lstm:G4}, {d.Model.Name} alone {smoothing:G4}"));
            Assert.True(lstm < 0.1 * smoothing, $"series {k}: the hybrid's MAE {lstm} is not a tenth of its smoothing's {smoothing}");
        }
    }

    /// <summary>A noisy seasonal series with a trend that speeds up: every model kind has something to fit.</summary>
    private static ForecastSeries NoisySeries(int months = 120) =>
        Series(m => 300 + 0.5 * m + 0.004 * m * m + 4 * Math.Sin(2 * Math.PI * m / 12) + 0.8 * Math.Sin(m * 1.7) + 0.5 * Math.Cos(m * m * 0.31));

    [Theory]
    [InlineData(GlobalModelKind.ExponentialSmoothingHybrid)]
    [InlineData(GlobalModelKind.MultiplicativeHybrid)]
    [InlineData(GlobalModelKind.EtsCorrection)]
    public void With_the_lstms_output_zeroed_each_smoothed_kind_forecasts_exactly_what_its_smoothing_model_does(GlobalModelKind kind)
    {
        ForecastSeries series = NoisySeries();
        using GlobalForecaster trained = GlobalForecaster.Train([series], Settings, kind, new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 1, Patience = 1 }).Forecaster;
        GlobalSeriesEncoding encoding = trained.Encoding(0);
        EtsModel model = encoding.Smoothing!;
        Assert.Equal(kind != GlobalModelKind.EtsCorrection, model.Trend == EtsTrend.None); // the hybrids leave the trend to the LSTM; AutoETS picks one here
        var zero = new LinearHead(trained.Head.InputSize, trained.Head.OutputSize, new float[trained.Head.InputSize * trained.Head.OutputSize], new float[trained.Head.OutputSize]);
        using GlobalForecaster zeroed = GlobalForecaster.Create([series], Settings, kind, [encoding], trained.Weights, zero);
        bool logs = kind == GlobalModelKind.MultiplicativeHybrid;
        double[] values = logs ? [.. series.Target.Select(v => Math.Log(v))] : series.Target;
        var (forecast, smoothing) = (new double[6], new double[6]);
        foreach (int origin in series.Split.Validation.Concat(series.Split.Test))
        {
            zeroed.Predict(0, origin, forecast);
            model.Forecast(values.AsSpan(0, origin + 1), smoothing);
            for (int h = 0; h < 6; h++) Assert.Equal(logs ? Math.Exp(smoothing[h]) : smoothing[h], forecast[h], 1e-9 * Math.Abs(forecast[h]));
        }
    }

    [Fact]
    public void The_ets_correction_learns_a_cycle_its_smoothing_cannot_follow_and_beats_the_smoothing_alone()
    {
        // A 5-month cycle on a monthly season: ETS's season of 12 cannot hold it, its errors repeat every 5 months.
        ForecastSeries[] series = [.. new[] { 1.0, 30.0 }.Select(size => Series(m => size * (50 + 0.3 * m + 2 * Math.Sin(2 * Math.PI * m / 12) + 3 * Math.Sin(2 * Math.PI * m / 5)), 180))];
        using GlobalForecaster correction = GlobalForecaster.Train(series, Settings, GlobalModelKind.EtsCorrection,
            new ForecastTrainingOptions { HiddenSize = 8, MaxEpochs = 40, Patience = 40, BatchSize = 16, LearningRate = 1e-2 }).Forecaster;
        for (int k = 0; k < series.Length; k++)
        {
            EtsModel model = correction.Encoding(k).Smoothing!;
            double corrected = TestMae(correction.AsMethod(k), series[k]), alone = TestMae(ForecastBaselines.Ets(model), series[k]);
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"series {k}: ETS + LSTM correction MAE {corrected:G4}, {model.Name} alone {alone:G4}"));
            Assert.True(corrected < 0.3 * alone, $"series {k}: the corrected MAE {corrected} is not below 0.3 of its smoothing's {alone}");
        }
    }

    [Fact]
    public void Refitting_on_training_and_validation_fits_the_smoothing_on_every_row_before_the_test()
    {
        ForecastSeries series = NoisySeries();
        GlobalForecastTrainingResult result = GlobalForecaster.Train([series], Settings, GlobalModelKind.ExponentialSmoothingHybrid,
            new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 3, Patience = 3 }, refitOnTrainingAndValidation: true);
        using GlobalForecaster refitted = result.Forecaster, earlyStopped = result.EarlyStopped;
        Assert.NotSame(refitted, earlyStopped);
        Assert.Equal(series.Split.ValidationStart, earlyStopped.Encoding(0).Smoothing!.FittedLength);
        Assert.Equal(series.Split.TestStart, refitted.Encoding(0).Smoothing!.FittedLength);
        Assert.Contains($"trained again on the training and validation rows for {result.BestEpoch} epochs", result.StopReason, StringComparison.Ordinal);
        GlobalForecastTrainingResult once = GlobalForecaster.Train([series], Settings, GlobalModelKind.ExponentialSmoothingHybrid, new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 3, Patience = 3 });
        using GlobalForecaster alone = once.Forecaster;
        Assert.Same(once.Forecaster, once.EarlyStopped);
        Assert.Equal(earlyStopped.Head.Weight, alone.Head.Weight); // the first stage is the same training run
    }

    [Fact]
    public void The_multiplicative_hybrid_refuses_a_value_that_is_not_positive_naming_its_row_and_time()
    {
        ForecastSeries series = Series(m => m == 30 ? 0 : 10 + Math.Sin(m));
        var e = Assert.Throws<ArgumentException>(() => GlobalForecaster.Train([series], Settings, GlobalModelKind.MultiplicativeHybrid, new ForecastTrainingOptions { HiddenSize = 2, MaxEpochs = 1, Patience = 1 }));
        Assert.Contains("Series 0: row 30 (2002-07-01) is 0; the multiplicative hybrid smooths the logarithms", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Creating_a_forecaster_from_parts_that_do_not_fit_together_is_refused_naming_the_problem()
    {
        ForecastSeries series = NoisySeries();
        using GlobalForecaster trained = GlobalForecaster.Train([series], Settings, GlobalModelKind.ExponentialSmoothingHybrid, new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 1, Patience = 1 }).Forecaster;
        GlobalSeriesEncoding encoding = trained.Encoding(0);
        string Refusal(GlobalModelKind kind, GlobalSeriesEncoding[] encodings, LinearHead? head = null) => Assert.Throws<ArgumentException>(
            () => GlobalForecaster.Create([series], Settings, kind, encodings, trained.Weights, head ?? trained.Head)).Message;
        Assert.Contains("got 2 encodings for 1 series", Refusal(GlobalModelKind.ExponentialSmoothingHybrid, [encoding, encoding]), StringComparison.Ordinal);
        Assert.Contains("needs the series' scaler", Refusal(GlobalModelKind.ScaledPerSeries, [encoding]), StringComparison.Ordinal);
        Assert.Contains("needs the series' smoothing model", Refusal(GlobalModelKind.EtsCorrection, [encoding with { Smoothing = null }]), StringComparison.Ordinal);
        Assert.Contains("the scale must be positive and finite; got NaN", Refusal(GlobalModelKind.ExponentialSmoothingHybrid, [encoding with { Scale = double.NaN }]), StringComparison.Ordinal);
        var trended = new EtsModel(EtsTrend.Additive, 12, 0.5, 0.1, 0.1, 1, 10, 1, new double[12]);
        Assert.Contains("has one", Refusal(GlobalModelKind.ExponentialSmoothingHybrid, [encoding with { Smoothing = trended }]), StringComparison.Ordinal);
        Assert.Contains("the horizon, 6, is needed", Refusal(GlobalModelKind.ExponentialSmoothingHybrid, [encoding], new LinearHead(4, 5, new float[20])), StringComparison.Ordinal);
    }

    [Fact]
    public void A_median_ensemble_forecasts_each_step_as_the_middle_of_its_members_forecasts()
    {
        static ForecastMethod Constant(params double[] steps) => (_, _, destination) => steps.CopyTo(destination);
        var destination = new double[2];
        ForecastEnsemble.Median([Constant(1, 9), Constant(5, -2), Constant(3, 4)])([], 0, destination);
        Assert.Equal([3.0, 4.0], destination); // the middle of 1, 5, 3 and of 9, −2, 4
        ForecastEnsemble.Median([Constant(1, 9), Constant(5, -2), Constant(3, 4), Constant(10, 0)])([], 0, destination);
        Assert.Equal([4.0, 2.0], destination); // the mean of the middle two: (3 + 5) / 2, (0 + 4) / 2
        Assert.Throws<ArgumentException>(() => ForecastEnsemble.Median([]));
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
