using System.Text;
using LstmSimd.Forecasting;
using LstmSimd.IO;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>Global and hybrid forecasters saved and read back, and files that are not whole refused naming the problem.</summary>
public sealed class GlobalForecasterCheckpointTests : IDisposable
{
    private static readonly ForecastSettings Settings = new()
    {
        TimeColumn = "Date", InputColumns = ["Value"], TargetColumn = "Value", Window = 12, Horizon = 6, SeasonLength = 12, TestFrom = "2008",
    };

    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-global-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ForecastSeries Series(double size) =>
        ForecastSeries.From(TimeSeriesTable.Parse(new StringReader(ForecastingTests.SeasonalCsv(120,
            m => size * (50 + 0.3 * m + 2 * Math.Sin(2 * Math.PI * m / 12) + Math.Sin(m * 1.3)))), "test.csv"), Settings);

    /// <summary>One saved ETS + LSTM correction's model and metadata, trained once for the cases that alter its entry.</summary>
    private static readonly Lazy<(ImportedLstm Model, string Json)> SavedCorrection = new(() =>
    {
        string dir = Directory.CreateTempSubdirectory("lstmsimd-global-").FullName;
        try
        {
            using GlobalForecaster forecaster = GlobalForecaster.Train([Series(1), Series(40)], Settings, GlobalModelKind.EtsCorrection, new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 2, Patience = 2 }).Forecaster;
            string path = Path.Combine(dir, "correction.lstm");
            GlobalForecasterCheckpoint.Save(path, forecaster, ["north", "south"], longColumn: "store");
            return LstmModelFile.Load(path, GlobalForecasterCheckpoint.MetadataKey, "global forecaster");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    });

    private string Saved(GlobalModelKind kind, out GlobalForecaster forecaster, out ForecastSeries[] series)
    {
        series = [Series(1), Series(40)];
        forecaster = GlobalForecaster.Train(series, Settings, kind, new ForecastTrainingOptions { HiddenSize = 4, MaxEpochs = 2, Patience = 2 }).Forecaster;
        string path = Path.Combine(_dir, $"{kind}.lstm");
        GlobalForecasterCheckpoint.Save(path, forecaster, ["north", "south"], longColumn: "store");
        return path;
    }

    [Theory]
    [InlineData(GlobalModelKind.ScaledPerSeries)]
    [InlineData(GlobalModelKind.ExponentialSmoothingHybrid)]
    [InlineData(GlobalModelKind.MultiplicativeHybrid)]
    [InlineData(GlobalModelKind.EtsCorrection)]
    public void A_saved_forecaster_read_back_forecasts_exactly_as_it_did(GlobalModelKind kind)
    {
        string path = Saved(kind, out GlobalForecaster trained, out ForecastSeries[] series);
        using GlobalForecaster original = trained;
        GlobalForecasterCheckpoint checkpoint = GlobalForecasterCheckpoint.Read(path);
        Assert.Equal(kind, checkpoint.Kind);
        Assert.Equal(["north", "south"], checkpoint.SeriesNames);
        Assert.Equal("store", checkpoint.LongColumn);
        Assert.Equal("Value", checkpoint.Column(1));
        Assert.Equal((12, 6, 12, "2008"), (checkpoint.Settings.Window, checkpoint.Settings.Horizon, checkpoint.Settings.SeasonLength, checkpoint.Settings.TestFrom));
        using GlobalForecaster loaded = checkpoint.Create(series);
        var (a, b) = (new double[6], new double[6]);
        for (int k = 0; k < series.Length; k++)
        {
            foreach (int origin in series[k].Split.Test)
            {
                original.Predict(k, origin, a);
                loaded.Predict(k, origin, b);
                Assert.Equal(a, b);
            }
        }
    }

    [Fact]
    public void A_truncated_or_corrupted_file_is_refused_naming_it()
    {
        string path = Saved(GlobalModelKind.EtsCorrection, out GlobalForecaster trained, out _);
        trained.Dispose();
        byte[] bytes = File.ReadAllBytes(path);
        string truncated = Path.Combine(_dir, "truncated.lstm"), corrupted = Path.Combine(_dir, "corrupted.lstm");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length - 7)]);
        Assert.Contains(truncated, Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(truncated)).Message, StringComparison.Ordinal);
        byte[] flipped = (byte[])bytes.Clone();
        flipped[12] = (byte)'#'; // inside the header's JSON
        File.WriteAllBytes(corrupted, flipped);
        Assert.Contains(corrupted, Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(corrupted)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_single_series_forecaster_is_not_read_as_a_global_one()
    {
        ForecastSeries series = Series(1);
        using LstmForecaster single = ForecasterTraining.Train(series, Settings, new ForecastTrainingOptions { HiddenSize = 2, MaxEpochs = 1, Patience = 1 }).Forecaster;
        string path = Path.Combine(_dir, "single.lstm");
        single.Save(path);
        Assert.Contains("not a global forecaster (no __metadata__.global_forecaster)", Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(path)).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("\"kind\":\"EtsCorrection\"", "\"kind\":\"Arima\"", "unknown kind 'Arima'")]
    [InlineData("\"kind\":\"EtsCorrection\"", "\"kind\":\"7\"", "unknown kind '7'")]
    [InlineData("\"smoothing\":", "\"smoothin\":", "series 0 has no smoothing model")]
    [InlineData("\"trend\":\"Additive\"", "\"trend\":\"Cubic\"", "unknown trend 'Cubic'")]
    [InlineData("\"name\":\"south\"", "\"label\":\"south\"", "'name' is missing")]
    [InlineData("\"window\":12", "\"window\":0", "window")]
    [InlineData("\"horizon\":6", "\"horizon\":5", "the horizon, 5, is needed")]
    public void A_malformed_entry_is_refused_naming_what_is_wrong(string find, string replace, string expected)
    {
        (ImportedLstm model, string json) = SavedCorrection.Value;
        Assert.Contains(find, json, StringComparison.Ordinal);
        string path = Path.Combine(_dir, "malformed.lstm");
        LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, json.Replace(find, replace, StringComparison.Ordinal));

        string message = Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(path)).Message;
        Assert.Contains($"{path}: __metadata__.global_forecaster is malformed", message, StringComparison.Ordinal);
        Assert.Contains(expected, message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_scale_that_is_not_positive_and_a_trend_in_a_hybrid_are_refused()
    {
        string path = Saved(GlobalModelKind.ExponentialSmoothingHybrid, out GlobalForecaster trained, out _);
        using (trained)
        {
            (ImportedLstm model, string json) = LstmModelFile.Load(path, GlobalForecasterCheckpoint.MetadataKey, "global forecaster");
            string scale = json[json.IndexOf("\"scale\":", StringComparison.Ordinal)..];
            scale = scale[..scale.IndexOf(',', StringComparison.Ordinal)];
            LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, json.Replace(scale, "\"scale\":-2", StringComparison.Ordinal));
            Assert.Contains("series 0's scale is -2; it must be positive", Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(path)).Message, StringComparison.Ordinal);
            LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, json.Replace("\"trend\":\"None\"", "\"trend\":\"Additive\"", StringComparison.Ordinal));
            Assert.Contains("series 0's smoothing has a trend", Assert.Throws<ModelFormatException>(() => GlobalForecasterCheckpoint.Read(path)).Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Saving_replaces_the_file_whole_so_a_reader_of_the_old_one_keeps_it()
    {
        string path = Path.Combine(_dir, "model.lstm");
        File.WriteAllText(path, "previous");
        using var old = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        ForecastSeries[] series = [Series(1)];
        using GlobalForecaster forecaster = GlobalForecaster.Train(series, Settings, GlobalModelKind.ExponentialSmoothingHybrid, new ForecastTrainingOptions { HiddenSize = 2, MaxEpochs = 1, Patience = 1 }).Forecaster;
        GlobalForecasterCheckpoint.Save(path, forecaster, ["Value"]);
        Assert.Equal("previous", new StreamReader(old, Encoding.UTF8).ReadToEnd());
        Assert.Null(GlobalForecasterCheckpoint.Read(path).LongColumn);
        Assert.Throws<ArgumentException>(() => GlobalForecasterCheckpoint.Save(path, forecaster, ["a", "b"]));
    }
}
