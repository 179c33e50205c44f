using LstmSimd.Forecasting;
using LstmSimd.IO;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>
/// Prediction intervals for forecasters over many series: the conformal quantile by hand, coverage on noise whose
/// coverage is known in closed form, the pinball loss by hand, and intervals kept in checkpoints (format versions 1 and 2).
/// </summary>
public sealed class GlobalForecastIntervalTests : IDisposable
{
    private static readonly ForecastMethod Zero = (_, _, destination) => destination.Clear();

    private static readonly ForecastSettings Settings = new()
    {
        TimeColumn = "Date", InputColumns = ["Value"], TargetColumn = "Value", Window = 12, Horizon = 6, SeasonLength = 12, TestFrom = "2008",
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-intervals-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ForecastSeries Series(double size) =>
        ForecastSeries.From(TimeSeriesTable.Parse(new StringReader(ForecastingTests.SeasonalCsv(120,
            m => size * (50 + 0.3 * m + 2 * Math.Sin(2 * Math.PI * m / 12) + Math.Sin(m * 1.3)))), "test.csv"), Settings);

    private static GlobalForecastTrainingResult Train(GlobalModelKind kind, bool refit = false) =>
        GlobalForecaster.Train([Series(1), Series(40)], Settings, kind, new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 3, Patience = 3 }, refitOnTrainingAndValidation: refit);

    [Theory]
    // n residuals 1 … n at level 0.8 (a = 0.2): the ⌊(n + 1)·0.1⌋-th and ⌈(n + 1)·0.9⌉-th smallest, worked out by hand.
    [InlineData(9, 0.8, 1, 9)] // ⌊1.0⌋ = 1, ⌈9.0⌉ = 9
    [InlineData(12, 0.8, 1, 12)] // ⌊1.3⌋ = 1, ⌈11.7⌉ = 12
    [InlineData(20, 0.8, 2, 19)] // ⌊2.1⌋ = 2, ⌈18.9⌉ = 19
    [InlineData(39, 0.9, 2, 38)] // ⌊40·0.05⌋ = 2, ⌈40·0.95⌉ = 38
    [InlineData(30, 0.5, 7, 24)] // ⌊31·0.25⌋ = ⌊7.75⌋ = 7, ⌈31·0.75⌉ = ⌈23.25⌉ = 24
    public void The_bounds_are_the_finite_sample_conformal_order_statistics(int n, double level, int lowRank, int highRank)
    {
        // The values after origins 0 … n − 1 are 1 … n shuffled; a zero forecast leaves them as the residuals.
        double[] shuffled = [.. Enumerable.Range(1, n).Select(v => (double)v).OrderBy(v => (v * 7919) % 101)];
        double[] target = [0, .. shuffled];
        ForecastIntervals intervals = ForecastIntervals.Calibrate(Zero, target, [.. Enumerable.Range(0, n)], 1, level);
        Assert.Equal(lowRank, intervals.Lower[0]);
        Assert.Equal(highRank, intervals.Upper[0]);
        Assert.Equal(n, intervals.CalibrationCount);
    }

    [Fact]
    public void On_noise_the_mean_coverage_is_the_closed_form_share_of_the_order_statistics_not_the_nominal_level()
    {
        // 12 calibration residuals at 80 %: the bounds are the 1st and 12th of 12, which cover a 13th exchangeable value
        // with probability (12 − 1)/13 = 0.846. A rank off by one either way would give 10/13 = 0.769 or 12/13 = 0.923.
        var random = new Random(5);
        double once = 0, rolling = 0;
        const int Repeats = 300;
        for (int r = 0; r < Repeats; r++)
        {
            double[] noise = [.. Enumerable.Range(0, 500).Select(_ => Math.Sqrt(-2 * Math.Log(1 - random.NextDouble())) * Math.Cos(2 * Math.PI * random.NextDouble()))];
            ForecastSeries series = NoiseSeries(noise);
            Assert.Equal(12, series.Split.Validation.Count);
            ForecastIntervals calibrated = ForecastIntervals.Calibrate(Zero, series.Target, series.Split.Validation, 2, 0.8);
            IntervalBacktest result = IntervalBacktest.Run(Zero, calibrated, series, adaptationRate: 0.05);
            once += result.Once.Covered / Repeats;
            rolling += result.Adaptive!.Covered / Repeats;
        }

        Assert.InRange(once, 11.0 / 13 - 0.02, 11.0 / 13 + 0.02);
        // The rolling intervals, their level adapting to misses, hold the nominal level over the test origins instead.
        Assert.InRange(rolling, 0.8 - 0.02, 0.8 + 0.02);
    }

    /// <summary>Monthly noise from 2000 with the test from row 100 and 13 % of the rows before it validating: 12 validation origins of horizon 2.</summary>
    private static ForecastSeries NoiseSeries(double[] noise) =>
        ForecastSeries.From(TimeSeriesTable.Parse(new StringReader(ForecastingTests.SeasonalCsv(noise.Length, m => noise[m])), "noise.csv"),
            Settings with { Window = 2, Horizon = 2, SeasonLength = 1, TestFrom = "2008-05-01", ValidationFraction = 0.13, Normalization = SeriesNormalization.None });

    [Fact]
    public void The_pinball_loss_and_interval_score_match_a_hand_calculation()
    {
        // Nine residuals −1 … 1: at 80 % the bounds are the 1st and 9th, so the interval is the forecast (0) ± 1.
        double[] target = [0, -1, -0.5, 0.25, 1, 0, -0.25, 0.5, 0.75, 0.1, /* test values */ 0, 2, -3];
        ForecastIntervals intervals = ForecastIntervals.Calibrate(Zero, target, [.. Enumerable.Range(0, 9)], 1, 0.8);
        Assert.Equal((-1.0, 1.0), (intervals.Lower[0], intervals.Upper[0]));
        IntervalCoverage coverage = intervals.Coverage(Zero, target, [9, 10, 11]);
        // Lower bound as the 0.1-quantile, upper as the 0.9-quantile:
        // y = 0:  0.1·(0 + 1) = 0.1 and 0.1·(1 − 0) = 0.1 → 0.1
        // y = 2:  0.1·(2 + 1) = 0.3 and 0.9·(2 − 1) = 0.9 → 0.6
        // y = −3: 0.9·(−1 + 3) = 1.8 and 0.1·(1 + 3) = 0.4 → 1.1; the mean of the three is 0.6.
        Assert.Equal(0.6, coverage.PinballLoss, 12);
        // Interval scores 2, 2 + 10·1 and 2 + 10·2: mean 12.
        Assert.Equal(12, coverage.IntervalScore, 12);
        Assert.Equal(1.0 / 3, coverage.Covered, 12);
    }

    [Fact]
    public void Each_series_is_calibrated_on_its_own_validation_residuals()
    {
        GlobalForecastTrainingResult result = Train(GlobalModelKind.ExponentialSmoothingHybrid);
        using GlobalForecaster forecaster = result.Forecaster;
        IReadOnlyList<ForecastIntervals> intervals = GlobalForecastIntervals.Calibrate(forecaster, 0.8);
        var forecast = new double[6];
        for (int k = 0; k < 2; k++)
        {
            IReadOnlyList<int> origins = forecaster.Series[k].Split.Validation;
            int n = origins.Count;
            for (int h = 0; h < 6; h++)
            {
                var residuals = new List<double>();
                foreach (int origin in origins)
                {
                    forecaster.Predict(k, origin, forecast);
                    residuals.Add(forecaster.Series[k].Target[origin + 1 + h] - forecast[h]);
                }

                residuals.Sort();
                Assert.Equal(residuals[(int)Math.Floor((n + 1) * 0.1 + 1e-9) - 1], intervals[k].Lower[h]);
                Assert.Equal(residuals[(int)Math.Ceiling((n + 1) * 0.9 - 1e-9) - 1], intervals[k].Upper[h]);
            }
        }

        Assert.Contains("Series 0: 99 % intervals need at least 199 calibration origins", Assert.Throws<ArgumentException>(() => GlobalForecastIntervals.Calibrate(forecaster, 0.99)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => GlobalForecastIntervals.Calibrate(forecaster, 1));
    }

    private string SaveWithIntervals(out GlobalForecastTrainingResult result, out IReadOnlyList<ForecastIntervals> intervals)
    {
        result = Train(GlobalModelKind.EtsCorrection, refit: true);
        intervals = GlobalForecastIntervals.Calibrate(result.EarlyStopped, 0.8);
        string path = Path.Combine(_dir, "with-intervals.lstm");
        GlobalForecasterCheckpoint.Save(path, result.Forecaster, ["north", "south"], intervals: intervals);
        return path;
    }

    [Fact]
    public void Intervals_saved_with_the_model_are_read_back_exactly()
    {
        string path = SaveWithIntervals(out GlobalForecastTrainingResult result, out IReadOnlyList<ForecastIntervals> intervals);
        using (result.Forecaster)
        using (result.EarlyStopped)
        {
            GlobalForecasterCheckpoint checkpoint = GlobalForecasterCheckpoint.Read(path);
            Assert.NotNull(checkpoint.Intervals);
            Assert.Equal(2, checkpoint.Intervals.Count);
            for (int k = 0; k < 2; k++)
            {
                Assert.Equal(0.8, checkpoint.Intervals[k].Level);
                Assert.Equal(intervals[k].CalibrationCount, checkpoint.Intervals[k].CalibrationCount);
                Assert.Equal(intervals[k].Lower, checkpoint.Intervals[k].Lower);
                Assert.Equal(intervals[k].Upper, checkpoint.Intervals[k].Upper);
            }

            (_, string json) = LstmModelFile.Load(path, GlobalForecasterCheckpoint.MetadataKey, "global forecaster");
            Assert.Contains("\"version\":2", json, StringComparison.Ordinal);
            Assert.Throws<ArgumentException>(() => GlobalForecasterCheckpoint.Save(path, result.Forecaster, ["north", "south"], intervals: [intervals[0]]));
        }
    }

    [Fact]
    public void A_version_1_file_without_intervals_is_read_and_a_newer_version_is_refused_naming_it()
    {
        string path = SaveWithIntervals(out GlobalForecastTrainingResult result, out _);
        using (result.Forecaster)
        using (result.EarlyStopped)
        {
            (ImportedLstm model, string json) = LstmModelFile.Load(path, GlobalForecasterCheckpoint.MetadataKey, "global forecaster");
            // What version 1 wrote: no version and no intervals.
            string old = WithoutIntervals(json.Replace("\"version\":2,", "", StringComparison.Ordinal));
            LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, old);
            GlobalForecasterCheckpoint checkpoint = GlobalForecasterCheckpoint.Read(path);
            Assert.Null(checkpoint.Intervals);
            using GlobalForecaster loaded = checkpoint.Create([Series(1), Series(40)]);
            var (a, b) = (new double[6], new double[6]);
            result.Forecaster.Predict(1, 100, a);
            loaded.Predict(1, 100, b);
            Assert.Equal(a, b);

            LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, json.Replace("\"version\":2", "\"version\":3", StringComparison.Ordinal));
            Assert.Contains("it is format version 3; this build reads versions 1 to 2", Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(path)).Message, StringComparison.Ordinal);
        }
    }

    /// <summary>The entry with every series' "intervals" object removed.</summary>
    private static string WithoutIntervals(string json)
    {
        while (json.IndexOf(",\"intervals\":", StringComparison.Ordinal) is int start and >= 0)
            json = json.Remove(start, json.IndexOf('}', start) + 1 - start);
        return json;
    }

    [Theory]
    [InlineData("\"level\":0.8", "\"level\":1.5", "series 0's intervals have a level of 1.5; it must be between 0 and 1")]
    [InlineData("\"calibration_count\":", "\"calibration_count\":3,\"x\":", "series 0's intervals were calibrated on 3 origins; 80 % intervals need at least 9")]
    [InlineData("\"lower\":[", "\"lower\":[1,", "series 0's intervals have 7 lower and 6 upper bounds; the horizon is 6 steps")]
    [InlineData("\"lower\":[", "\"lower\":[1e9,", "series 0's interval at step 1 is [1000000000,")]
    [InlineData("\"upper\":[", "\"uper\":[", "'upper' is missing")]
    public void Malformed_intervals_are_refused_naming_the_series_and_the_problem(string find, string replace, string expected)
    {
        string path = SaveWithIntervals(out GlobalForecastTrainingResult result, out _);
        result.Forecaster.Dispose();
        result.EarlyStopped.Dispose();
        (ImportedLstm model, string json) = LstmModelFile.Load(path, GlobalForecasterCheckpoint.MetadataKey, "global forecaster");
        int first = json.IndexOf(find, StringComparison.Ordinal);
        Assert.True(first >= 0, find);
        string altered = json[..first] + replace + json[(first + find.Length)..];
        if (find == "\"lower\":[" && replace == "\"lower\":[1e9,") altered = RemoveFirstLowerValue(altered);
        LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, altered);
        string message = Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(path)).Message;
        Assert.Contains($"{path}: __metadata__.global_forecaster is malformed", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    /// <summary>Drops the value after the inserted 1e9 so that the count stays the horizon and only the order is wrong.</summary>
    private static string RemoveFirstLowerValue(string json)
    {
        int start = json.IndexOf("\"lower\":[1e9,", StringComparison.Ordinal) + "\"lower\":[1e9,".Length;
        int end = json.IndexOf(',', start);
        return json.Remove(start, end + 1 - start);
    }

    [Fact]
    public void Intervals_on_some_series_only_are_refused()
    {
        string path = SaveWithIntervals(out GlobalForecastTrainingResult result, out _);
        result.Forecaster.Dispose();
        result.EarlyStopped.Dispose();
        (ImportedLstm model, string json) = LstmModelFile.Load(path, GlobalForecasterCheckpoint.MetadataKey, "global forecaster");
        int second = json.LastIndexOf(",\"intervals\":", StringComparison.Ordinal);
        string altered = json.Remove(second, json.IndexOf('}', second) + 1 - second);
        LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, altered);
        Assert.Contains("1 of the 2 series have intervals; either all or none do", Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(path)).Message, StringComparison.Ordinal);
    }
}
