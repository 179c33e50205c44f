using System.Diagnostics;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Forecasting;

/// <summary>The model and optimiser of a forecaster training run.</summary>
public sealed record ForecastTrainingOptions
{
    /// <summary>Hidden units per layer.</summary>
    public int HiddenSize { get; init; } = 32;

    /// <summary>Stacked layers.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>The most passes over the training windows.</summary>
    public int MaxEpochs { get; init; } = 300;

    /// <summary>Stops after this many epochs without a better validation loss.</summary>
    public int Patience { get; init; } = 40;

    /// <summary>Windows per training step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam's step size.</summary>
    public double LearningRate { get; init; } = 3e-3;

    /// <summary>Global gradient-norm clip.</summary>
    public double ClipNorm { get; init; } = 1;

    /// <summary>Seeds the initial weights and the order of the windows.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Checks the numbers; throws <see cref="ArgumentException"/>.</summary>
    public void Validate()
    {
        if (HiddenSize < 1 || Layers < 1) throw new ArgumentException("The hidden size and the number of layers must be at least 1.");
        if (MaxEpochs < 1 || Patience < 1 || BatchSize < 1) throw new ArgumentException("Epochs, patience and batch size must be at least 1.");
        if (!(LearningRate > 0)) throw new ArgumentException($"The learning rate must be positive; got {LearningRate}.");
    }
}

/// <summary>Progress after one epoch: losses are mean squared errors of the scaled targets; the RMSE is in the target's units.</summary>
/// <param name="Epoch">Epochs done (1-based).</param>
/// <param name="MaxEpochs">The most epochs the run makes.</param>
/// <param name="TrainLoss">The mean training loss of the epoch.</param>
/// <param name="ValidationLoss">The loss on the validation windows after the epoch.</param>
/// <param name="ValidationRmse">The validation RMSE in the target's units.</param>
/// <param name="Improved">Whether this epoch is the best so far.</param>
/// <param name="Elapsed">Time since training started.</param>
public readonly record struct EpochReport(int Epoch, int MaxEpochs, double TrainLoss, double ValidationLoss, double ValidationRmse, bool Improved, TimeSpan Elapsed);

/// <summary>What a training run ended with.</summary>
/// <param name="Forecaster">The forecaster of the best validation epoch.</param>
/// <param name="Epochs">Epochs completed.</param>
/// <param name="BestEpoch">The epoch whose weights <paramref name="Forecaster"/> holds (0: no epoch completed).</param>
/// <param name="BestValidationRmse">Its validation RMSE in the target's units.</param>
/// <param name="StopReason">Why training stopped.</param>
public sealed record ForecastTrainingResult(LstmForecaster Forecaster, int Epochs, int BestEpoch, double BestValidationRmse, string StopReason);

/// <summary>
/// Trains an <see cref="LstmForecaster"/> with <see cref="LstmTrainer"/> (Adam, MSE on the last step's head
/// outputs, gradient clipping), shuffling the training windows each epoch and keeping the weights of the best
/// validation epoch; stops early when validation stops improving, or when cancelled.
/// </summary>
public static class ForecasterTraining
{
    /// <summary>Trains on <paramref name="series"/>; <paramref name="onImproved"/> sees each new best forecaster (to save a checkpoint).</summary>
    public static ForecastTrainingResult Train(ForecastSeries series, ForecastSettings settings, ForecastTrainingOptions options,
        Action<EpochReport>? onEpoch = null, Action<LstmForecaster>? onImproved = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        int window = settings.Window, horizon = settings.Horizon, features = settings.InputColumns.Count;
        SeriesScaler scaler = SeriesScaler.Fit(settings.Normalization, [.. series.Inputs, series.Target], series.Split.ValidationStart, horizon);
        var spec = new LstmSpec(features, options.HiddenSize, options.Layers);
        LstmWeights weights = LstmWeights.CreateRandom(spec, options.Seed, forgetBias: 1);
        var head = new TrainableLinearHead(spec.OutputSize, horizon, new SeededRandom((ulong)options.Seed));
        int batchSize = Math.Min(options.BatchSize, series.Split.Train.Count);
        int maxBatch = Math.Max(batchSize, Math.Min(series.Split.Validation.Count, 256)); // validation runs in batches up to 256
        var trainer = new LstmTrainer(weights, head, p => new AdamOptimizer(p, options.LearningRate), new LstmTrainerOptions
        {
            MaxBatch = maxBatch,
            MaxSteps = window,
            Readout = Readout.LastStep,
            Loss = LossKind.MeanSquaredError,
            ClipNorm = options.ClipNorm,
            Layout = SequenceLayout.BatchFirst,
        });
        float[] input = new float[Sizes.Elements("inputs batch × window × features", maxBatch, window, features)];
        float[] target = new float[Sizes.Elements("targets batch × horizon", maxBatch, horizon)];
        int[] order = [.. series.Split.Train];
        var random = new SeededRandom((ulong)options.Seed + 1);
        double targetScale = scaler.Scales[^1];

        LstmForecaster Snapshot() => new(settings, scaler, weights.Clone(),
            new LinearHead(head.Inputs, head.Outputs, (float[])head.Weight.Clone(), (float[])head.Bias.Clone()));

        LstmForecaster best = Snapshot();
        double bestLoss = double.PositiveInfinity;
        int bestEpoch = 0, epoch = 0;
        string reason = $"reached {options.MaxEpochs} epochs";
        var clock = Stopwatch.StartNew();
        while (epoch < options.MaxEpochs)
        {
            Shuffle(order, random);
            double trainSum = 0;
            int trainCount = 0;
            for (int start = 0; start < order.Length && !cancellation.IsCancellationRequested; start += batchSize)
            {
                int batch = Math.Min(batchSize, order.Length - start);
                Fill(series, scaler, settings, order.AsSpan(start, batch), input, target);
                trainSum += trainer.Step(input.AsSpan(0, batch * window * features), window, batch, target.AsSpan(0, batch * horizon)) * batch;
                trainCount += batch;
            }

            if (cancellation.IsCancellationRequested)
            {
                reason = "stopped by the user";
                break;
            }

            epoch++;
            double validationLoss = Evaluate(trainer, series, scaler, settings, maxBatch, input, target);
            bool improved = validationLoss < bestLoss;
            if (improved)
            {
                bestLoss = validationLoss;
                bestEpoch = epoch;
                best.Dispose();
                best = Snapshot();
                onImproved?.Invoke(best);
            }

            onEpoch?.Invoke(new EpochReport(epoch, options.MaxEpochs, trainSum / trainCount, validationLoss, Math.Sqrt(validationLoss) * targetScale, improved, clock.Elapsed));
            if (epoch - bestEpoch >= options.Patience)
            {
                reason = $"early stop: no better validation loss in {options.Patience} epochs";
                break;
            }
        }

        return new ForecastTrainingResult(best, epoch, bestEpoch, Math.Sqrt(bestLoss) * targetScale, reason);
    }

    private static double Evaluate(LstmTrainer trainer, ForecastSeries series, SeriesScaler scaler, ForecastSettings settings, int maxBatch, float[] input, float[] target)
    {
        int[] origins = [.. series.Split.Validation];
        double sum = 0;
        for (int start = 0; start < origins.Length; start += maxBatch)
        {
            int batch = Math.Min(maxBatch, origins.Length - start);
            Fill(series, scaler, settings, origins.AsSpan(start, batch), input, target);
            sum += trainer.Evaluate(input.AsSpan(0, batch * settings.Window * settings.InputColumns.Count), settings.Window, batch, target.AsSpan(0, batch * settings.Horizon)) * batch;
        }

        return sum / origins.Length;
    }

    private static void Fill(ForecastSeries series, SeriesScaler scaler, ForecastSettings settings, ReadOnlySpan<int> origins, float[] input, float[] target)
    {
        int inputStride = settings.Window * settings.InputColumns.Count;
        for (int b = 0; b < origins.Length; b++)
        {
            scaler.FillInput(series.Inputs, origins[b], settings.Window, input.AsSpan(b * inputStride, inputStride));
            scaler.FillTarget(series.Target, origins[b], settings.Horizon, target.AsSpan(b * settings.Horizon, settings.Horizon));
        }
    }

    private static void Shuffle(int[] values, SeededRandom random)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = random.NextInt32(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}
