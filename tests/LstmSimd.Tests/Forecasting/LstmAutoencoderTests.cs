using System.Globalization;
using System.Text;
using LstmSimd.Forecasting;
using LstmSimd.IO;
using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>The LSTM encoder–decoder (Malhotra et al. 2016): reconstruction against a float64 reference, training, checkpoints and streaming.</summary>
public sealed class LstmAutoencoderTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-autoencoder-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static ForecastSettings Settings(int window, params string[] inputs) => new()
    {
        TimeColumn = "t", InputColumns = inputs, TargetColumn = "y", Window = window, Horizon = 1, Normalization = SeriesNormalization.ZScore,
        TestFraction = 0.2, ValidationFraction = 0.2,
    };

    /// <summary>A CSV series: y a noisy sine of period 25 around 20 (amplitude 3), a = a slower cosine; <paramref name="shift"/> added to y on the rows given.</summary>
    private static ForecastSeries Series(ForecastSettings settings, int length, Func<int, double>? shift = null)
    {
        var random = new Random(3);
        var csv = new StringBuilder("t,a,y\n");
        for (int r = 0; r < length; r++)
        {
            double y = 20 + 3 * Math.Sin(2 * Math.PI * r / 25) + 0.1 * (random.NextDouble() - 0.5) + (shift?.Invoke(r) ?? 0);
            csv.Append(CultureInfo.InvariantCulture, $"{r},{Math.Cos(2 * Math.PI * r / 60).ToString("R", CultureInfo.InvariantCulture)},{y.ToString("R", CultureInfo.InvariantCulture)}\n");
        }

        return ForecastSeries.From(TimeSeriesTable.Parse(new StringReader(csv.ToString()), "series", "t"), settings);
    }

    private static LstmAutoencoder RandomAutoencoder(ForecastSettings settings, int hidden, int seed)
    {
        int columns = settings.InputColumns.Count;
        var spec = new LstmSpec(columns, hidden);
        var head = new LinearHead(hidden, columns, LstmCase.Uniform(hidden * columns, seed + 2, 0.5), LstmCase.Uniform(columns, seed + 3, 0.5));
        double[] offsets = [.. Enumerable.Range(0, columns + 1).Select(c => 10.0 + c)], scales = [.. Enumerable.Range(0, columns + 1).Select(c => 2.0 + c)];
        return new LstmAutoencoder(settings, new SeriesScaler(SeriesNormalization.ZScore, offsets, scales), LstmWeights.CreateRandom(spec, seed), LstmWeights.CreateRandom(spec, seed + 1), head);
    }

    [Fact]
    public void A_window_is_reconstructed_as_a_float64_encoder_decoder_written_from_the_equations_gives_it_back()
    {
        ForecastSettings settings = Settings(6, "a", "y");
        using LstmAutoencoder autoencoder = RandomAutoencoder(settings, hidden: 5, seed: 11);
        ForecastSeries series = Series(settings, 60);
        int end = 20, window = 6, columns = 2;
        var actual = new double[window * columns];
        autoencoder.Reconstruct(series, end, actual);

        // The reference: z-score the window, run the encoder, then the decoder from its final state, reading zeros and then
        // each row it gave, newest row first; un-scale.
        var scaled = new float[window * columns];
        for (int k = 0; k < window; k++)
            for (int c = 0; c < columns; c++)
                scaled[k * columns + c] = (float)((series.Inputs[c][end - window + 1 + k] - (10.0 + c)) / (2.0 + c));
        ReferenceResult encoded = ReferenceLstm.Forward(autoencoder.Encoder, scaled, window, 1);
        double[] h = encoded.HiddenState, cell = encoded.CellState, x = new double[columns];
        var expected = new double[window * columns];
        for (int k = 0; k < window; k++)
        {
            ReferenceLstm.Cell(autoencoder.Decoder.Spec, autoencoder.Decoder[0, 0], x, h, cell);
            for (int c = 0; c < columns; c++)
            {
                double sum = autoencoder.Head.Bias[c];
                for (int j = 0; j < h.Length; j++) sum += autoencoder.Head.Weight[c * h.Length + j] * h[j];
                x[c] = sum;
                expected[(window - 1 - k) * columns + c] = 10.0 + c + sum * (2.0 + c);
            }
        }

        for (int i = 0; i < expected.Length; i++) Assert.True(Math.Abs(expected[i] - actual[i]) < 1e-4 * (1 + Math.Abs(expected[i])), $"value {i}: {actual[i]} against {expected[i]}");
        // The per-row score reads the newest row of each window: the target column (y, the second) of the last row.
        double[] newest = autoencoder.Expected(series);
        Assert.True(double.IsNaN(newest[window - 2]));
        Assert.Equal(actual[(window - 1) * columns + 1], newest[end], 1e-12);
    }

    [Fact]
    public void Training_learns_to_give_back_normal_windows_and_a_level_shift_comes_back_far_off()
    {
        ForecastSettings settings = Settings(10, "y");
        // A shift of +6 (two amplitudes) on rows 360 … 369, inside the test rows (320 …).
        ForecastSeries series = Series(settings, 400, r => r is >= 360 and < 370 ? 6 : 0);
        AutoencoderTrainingResult result = AutoencoderTraining.Train(series, settings, new ForecastTrainingOptions { HiddenSize = 12, MaxEpochs = 40, Patience = 40, BatchSize = 16, LearningRate = 1e-2, Seed = 2 });
        using LstmAutoencoder autoencoder = result.Autoencoder;
        Assert.True(result.BestEpoch > 0, result.StopReason);
        double[] expected = autoencoder.Expected(series);
        double Error(int r) => Math.Abs(series.Target[r] - expected[r]);
        // The newest row is decoded from the encoder's state alone: it follows the sine only if the encoder learned.
        double normal = Enumerable.Range(320, 35).Average(Error), shifted = Enumerable.Range(360, 10).Average(Error);
        Assert.True(normal < 0.5, $"mean error on normal test rows {normal} (amplitude 3)");
        Assert.True(shifted > 4 * normal, $"mean error on the shifted rows {shifted} against {normal} elsewhere");
        Assert.True(result.BestValidationLoss < 0.1, $"validation loss {result.BestValidationLoss} (z-scored units)");
    }

    [Fact]
    public void A_checkpoint_reloads_to_the_same_scores_and_a_stream_gives_each_row_its_score_allocating_nothing()
    {
        ForecastSettings settings = Settings(5, "a", "y");
        using LstmAutoencoder autoencoder = RandomAutoencoder(settings, hidden: 4, seed: 21);
        ForecastSeries series = Series(settings, 80);
        string path = Path.Combine(_dir, "ae.lstm");
        autoencoder.Save(path);
        using LstmAutoencoder loaded = LstmAutoencoder.Load(path);
        double[] expected = autoencoder.Expected(series), reloaded = loaded.Expected(series);
        for (int r = 0; r < series.Length; r++) Assert.Equal(BitConverter.DoubleToInt64Bits(expected[r]), BitConverter.DoubleToInt64Bits(reloaded[r]));
        Assert.Equal(settings.InputColumns, loaded.Settings.InputColumns);

        var stream = new ReconstructionStream(loaded);
        var row = new double[2];
        var streamed = new double[series.Length];
        long allocated = 0;
        for (int r = 0; r < series.Length; r++)
        {
            row[0] = series.Inputs[0][r];
            row[1] = series.Inputs[1][r];
            long before = GC.GetAllocatedBytesForCurrentThread();
            streamed[r] = stream.Step(row);
            if (r >= 10) allocated += GC.GetAllocatedBytesForCurrentThread() - before;
        }

        Assert.Equal(0, allocated);
        for (int r = 0; r < series.Length; r++) Assert.Equal(BitConverter.DoubleToInt64Bits(expected[r]), BitConverter.DoubleToInt64Bits(streamed[r]));
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => stream.Step([1, double.NaN])).Message, StringComparison.Ordinal);
        Assert.Contains("holds 2 values", Assert.Throws<ArgumentException>(() => stream.Step([1])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Parts_that_cannot_score_and_files_that_are_not_autoencoders_are_refused_naming_why()
    {
        ForecastSettings noTarget = Settings(5, "a") with { TargetColumn = "y" };
        Assert.Contains("'y' must be one of the input columns", Assert.Throws<ArgumentException>(() => RandomAutoencoder(noTarget, 3, 1)).Message, StringComparison.Ordinal);
        Assert.Contains("z-scored", Assert.Throws<ArgumentException>(() => RandomAutoencoder(Settings(5, "y") with { Normalization = SeriesNormalization.Relative }, 3, 1)).Message, StringComparison.Ordinal);
        ForecastSettings settings = Settings(10, "y");
        ForecastSeries series = Series(settings, 200);
        Assert.Contains("one layer", Assert.Throws<ArgumentException>(() => AutoencoderTraining.Train(series, settings, new ForecastTrainingOptions { Layers = 2 })).Message, StringComparison.Ordinal);
        string path = Path.Combine(_dir, "plain.safetensors");
        new SafetensorsWriter().Add("x", new float[] { 1 }, 1).Save(path);
        Assert.Contains("not an autoencoder checkpoint", Assert.Throws<ModelFormatException>(() => LstmAutoencoder.Load(path)).Message, StringComparison.Ordinal);
    }
}
