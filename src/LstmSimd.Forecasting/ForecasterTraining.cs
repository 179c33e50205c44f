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
        SeriesScaler scaler = SeriesScaler.Fit(settings.Normalization, [.. series.Inputs, series.Target], series.Split.ValidationStart, settings.Horizon);
        KnownFutureInputs knownFuture = KnownFutureInputs.Fit([series], settings);
        var spec = new LstmSpec(settings.InputColumns.Count + knownFuture.Width, options.HiddenSize, options.Layers);
        LstmWeights weights = LstmWeights.CreateRandom(spec, options.Seed, forgetBias: 1);
        var head = new TrainableLinearHead(spec.OutputSize, settings.Horizon, new SeededRandom((ulong)options.Seed));
        return Run(series, settings, scaler, knownFuture, weights, head, options, options.MaxEpochs, options.Patience, new SeededRandom((ulong)options.Seed + 1),
            startIsCandidate: false, onEpoch, onImproved, cancellation);
    }

    /// <summary>
    /// Warm-starts training from <paramref name="forecaster"/>'s weights on the rows 0 … <paramref name="lastRow"/> of
    /// <paramref name="series"/> only (a copy of them: nothing after <paramref name="lastRow"/> is read), split again at
    /// that row: the latest <see cref="ForecastSettings.ValidationFraction"/> of those rows validate, the windows before them
    /// train. Runs <paramref name="epochs"/> epochs with a fresh Adam optimiser (<paramref name="options"/>' learning rate,
    /// batch size and clipping; the shuffling seeded by <see cref="ForecastTrainingOptions.Seed"/> and <paramref name="lastRow"/>)
    /// and keeps the weights with the lowest validation loss, the starting ones included (<see cref="ForecastTrainingResult.BestEpoch"/> 0
    /// when no epoch improved on them). The scaling stays <paramref name="forecaster"/>'s, so its inputs mean what they meant.
    /// <paramref name="forecaster"/> is not changed; the result's forecaster is new (dispose it).
    /// </summary>
    /// <exception cref="ArgumentException">The rows up to <paramref name="lastRow"/> hold no training or no validation window.</exception>
    public static ForecastTrainingResult Continue(LstmForecaster forecaster, ForecastSeries series, int lastRow, int epochs, ForecastTrainingOptions options,
        CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        ArgumentNullException.ThrowIfNull(series);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfLessThan(epochs, 1);
        options.Validate();
        ForecastSettings settings = forecaster.Settings;
        ForecastSeries known = series.Before(lastRow + 1, settings);
        LinearHead start = forecaster.Head;
        var head = new TrainableLinearHead(start.InputSize, start.OutputSize, (float[])start.Weight.Clone(), (float[])start.Bias.Clone());
        return Run(known, settings, forecaster.Scaler, forecaster.KnownFuture, forecaster.Weights.Clone(), head, options, epochs, patience: epochs,
            new SeededRandom((ulong)options.Seed + 1 + (ulong)lastRow), startIsCandidate: true, onEpoch: null, onImproved: null, cancellation);
    }

    /// <summary>
    /// The training loop: shuffled epochs over the training windows, the validation loss after each, the best weights kept.
    /// With <paramref name="startIsCandidate"/> the starting weights are scored first and count as epoch 0.
    /// </summary>
    private static ForecastTrainingResult Run(ForecastSeries series, ForecastSettings settings, SeriesScaler scaler, KnownFutureInputs knownFuture, LstmWeights weights, TrainableLinearHead head,
        ForecastTrainingOptions options, int maxEpochs, int patience, SeededRandom random, bool startIsCandidate,
        Action<EpochReport>? onEpoch, Action<LstmForecaster>? onImproved, CancellationToken cancellation)
    {
        knownFuture.Check(series);
        var windows = new ScaledWindows(series, scaler, knownFuture, settings);
        double targetScale = scaler.Scales[^1];
        LstmForecaster Snapshot() => new(settings, scaler, weights.Clone(),
            new LinearHead(head.Inputs, head.Outputs, (float[])head.Weight.Clone(), (float[])head.Bias.Clone()), knownFuture: knownFuture);

        LstmForecaster best = Snapshot();
        TrainingOutcome outcome = RunEpochs(weights, head, options, windows, [.. series.Split.Train], [.. series.Split.Validation], maxEpochs, patience, random, startIsCandidate,
            report => onEpoch?.Invoke(report with { ValidationRmse = report.ValidationRmse * targetScale }),
            () =>
            {
                best.Dispose();
                best = Snapshot();
                onImproved?.Invoke(best);
            },
            cancellation);
        return new ForecastTrainingResult(best, outcome.Epochs, outcome.BestEpoch, Math.Sqrt(outcome.BestLoss) * targetScale, outcome.StopReason);
    }

    /// <summary>How a training loop ended: epochs run, the best one (0: the start), its validation loss (scaled units) and why it stopped.</summary>
    internal readonly record struct TrainingOutcome(int Epochs, int BestEpoch, double BestLoss, string StopReason);

    /// <summary>
    /// Epochs of Adam over <paramref name="train"/> (window ids <paramref name="windows"/> can fill), shuffled each epoch,
    /// scoring <paramref name="validation"/> after each and calling <paramref name="improved"/> at each new best; stops
    /// after <paramref name="maxEpochs"/>, <paramref name="patience"/> epochs without a better loss, or cancellation.
    /// The reports' RMSE is in scaled units.
    /// </summary>
    internal static TrainingOutcome RunEpochs(LstmWeights weights, TrainableLinearHead head, ForecastTrainingOptions options, ITrainingWindows windows,
        int[] train, int[] validation, int maxEpochs, int patience, SeededRandom random, bool startIsCandidate,
        Action<EpochReport> onEpoch, Action improved, CancellationToken cancellation)
    {
        if (train.Length == 0 || validation.Length == 0)
            throw new ArgumentException($"Training needs at least one training and one validation window; got {train.Length} and {validation.Length}.");
        int window = windows.Window, horizon = windows.Horizon, features = windows.Features;
        int batchSize = Math.Min(options.BatchSize, train.Length);
        int maxBatch = Math.Max(batchSize, Math.Min(validation.Length, 256)); // validation runs in batches up to 256
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
        int[] order = [.. train];
        double bestLoss = startIsCandidate ? Evaluate(trainer, windows, validation, maxBatch, input, target) : double.PositiveInfinity;
        int bestEpoch = 0, epoch = 0;
        string reason = $"reached {maxEpochs} epochs";
        var clock = Stopwatch.StartNew();
        while (epoch < maxEpochs)
        {
            Shuffle(order, random);
            double trainSum = 0;
            int trainCount = 0;
            for (int start = 0; start < order.Length && !cancellation.IsCancellationRequested; start += batchSize)
            {
                int batch = Math.Min(batchSize, order.Length - start);
                windows.Fill(order.AsSpan(start, batch), input, target);
                trainSum += trainer.Step(input.AsSpan(0, batch * window * features), window, batch, target.AsSpan(0, batch * horizon)) * batch;
                trainCount += batch;
            }

            if (cancellation.IsCancellationRequested)
            {
                reason = "stopped by the user";
                break;
            }

            epoch++;
            double validationLoss = Evaluate(trainer, windows, validation, maxBatch, input, target);
            bool isBetter = validationLoss < bestLoss;
            if (isBetter)
            {
                bestLoss = validationLoss;
                bestEpoch = epoch;
                improved();
            }

            onEpoch(new EpochReport(epoch, maxEpochs, trainSum / trainCount, validationLoss, Math.Sqrt(validationLoss), isBetter, clock.Elapsed));
            if (epoch - bestEpoch >= patience)
            {
                reason = $"early stop: no better validation loss in {patience} epochs";
                break;
            }
        }

        return new TrainingOutcome(epoch, bestEpoch, bestLoss, reason);
    }

    private static double Evaluate(LstmTrainer trainer, ITrainingWindows windows, int[] ids, int maxBatch, float[] input, float[] target)
    {
        double sum = 0;
        for (int start = 0; start < ids.Length; start += maxBatch)
        {
            int batch = Math.Min(maxBatch, ids.Length - start);
            windows.Fill(ids.AsSpan(start, batch), input, target);
            sum += trainer.Evaluate(input.AsSpan(0, batch * windows.Window * windows.Features), windows.Window, batch, target.AsSpan(0, batch * windows.Horizon)) * batch;
        }

        return sum / ids.Length;
    }

    /// <summary>One series' windows scaled by its <see cref="SeriesScaler"/>, with the known-future inputs: a window's id is its origin.</summary>
    private sealed class ScaledWindows(ForecastSeries series, SeriesScaler scaler, KnownFutureInputs knownFuture, ForecastSettings settings) : ITrainingWindows
    {
        private readonly float[] _past = new float[settings.Window * settings.InputColumns.Count];

        public int Window => knownFuture.Steps(settings);

        public int Horizon => settings.Horizon;

        public int Features => settings.InputColumns.Count + knownFuture.Width;

        public void Fill(ReadOnlySpan<int> origins, float[] input, float[] target)
        {
            int inputStride = Window * Features;
            for (int b = 0; b < origins.Length; b++)
            {
                Span<float> destination = input.AsSpan(b * inputStride, inputStride);
                if (knownFuture.Width == 0) scaler.FillInput(series.Inputs, origins[b], settings.Window, destination);
                else
                {
                    scaler.FillInput(series.Inputs, origins[b], settings.Window, _past);
                    knownFuture.Fill(series, origins[b], settings.Window, Horizon, _past, settings.InputColumns.Count, destination);
                }

                scaler.FillTarget(series.Target, origins[b], Horizon, target.AsSpan(b * Horizon, Horizon));
            }
        }
    }

    /// <summary>Fisher–Yates: a seeded random order of <paramref name="values"/>, in place.</summary>
    internal static void Shuffle(int[] values, SeededRandom random)
    {
        for (int i = values.Length - 1; i > 0; i--)
        {
            int j = random.NextInt32(i + 1);
            (values[i], values[j]) = (values[j], values[i]);
        }
    }
}

/// <summary>Training windows a loop can ask for by id: the scaled inputs [window, features] and targets [horizon] of each.</summary>
internal interface ITrainingWindows
{
    /// <summary>The steps the LSTM runs over for one window (the horizon's included when it reads known-future inputs).</summary>
    int Window { get; }

    int Horizon { get; }

    int Features { get; }

    void Fill(ReadOnlySpan<int> ids, float[] input, float[] target);
}
