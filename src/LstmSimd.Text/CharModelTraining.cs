using System.Diagnostics;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>The model and schedule of a character-model training run.</summary>
public sealed record CharTrainingOptions
{
    /// <summary>Hidden units per layer.</summary>
    public int HiddenSize { get; init; } = 128;

    /// <summary>Stacked layers.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>Parallel streams through the training text (the batch).</summary>
    public int Streams { get; init; } = 32;

    /// <summary>Steps per truncated-BPTT chunk.</summary>
    public int Steps { get; init; } = 64;

    /// <summary>Adam's step size.</summary>
    public double LearningRate { get; init; } = 4e-3;

    /// <summary>Global gradient-norm clip.</summary>
    public double ClipNorm { get; init; } = 1;

    /// <summary>Stops after this much training time.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(3);

    /// <summary>Stops after this many passes over the text.</summary>
    public int MaxEpochs { get; init; } = 100;

    /// <summary>Measures validation bits per character this often.</summary>
    public TimeSpan EvaluationInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Seeds the initial weights.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Progress of a character-model run.</summary>
/// <param name="Epoch">The current pass over the text (1-based).</param>
/// <param name="Characters">Training characters seen.</param>
/// <param name="TrainBitsPerChar">The recent training loss in bits per character.</param>
/// <param name="ValidationBitsPerChar">The latest validation bits per character (NaN before the first evaluation).</param>
/// <param name="Elapsed">Training time so far.</param>
/// <param name="Budget">The time budget.</param>
public readonly record struct CharTrainingReport(int Epoch, long Characters, double TrainBitsPerChar, double ValidationBitsPerChar, TimeSpan Elapsed, TimeSpan Budget);

/// <summary>
/// Trains a <see cref="CharLanguageModel"/> with <see cref="LstmTrainer"/>: the training text is cut into parallel
/// streams read chunk by chunk with the state carried between chunks (truncated backpropagation through time),
/// softmax cross-entropy on every step; stops at the time budget, the epoch limit or cancellation.
/// </summary>
public static class CharModelTraining
{
    /// <summary>Trains; <paramref name="onEvaluated"/> sees the model after each validation measurement (to save a checkpoint).</summary>
    public static (CharLanguageModel Model, double ValidationBitsPerChar, long Characters) Train(CharVocabulary vocabulary, int[] train, int[] validation,
        CharTrainingOptions options, Action<CharTrainingReport>? onProgress = null, Action<CharLanguageModel, double>? onEvaluated = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        int v = vocabulary.Count, b = options.Streams, steps = options.Steps;
        int streamLength = (train.Length - 1) / b;
        if (streamLength < steps) throw new ArgumentException($"The training text ({train.Length} characters) is too short for {b} streams of {steps} steps.");
        var spec = new LstmSpec(v, options.HiddenSize, options.Layers);
        LstmWeights weights = LstmInitialization.Create(spec, options.Seed);
        var head = new TrainableLinearHead(spec.OutputSize, v, new SeededRandom((ulong)options.Seed));
        var trainer = new LstmTrainer(weights, head, p => new AdamOptimizer(p, options.LearningRate), new LstmTrainerOptions
        {
            MaxBatch = b, MaxSteps = steps, Readout = Readout.EveryStep, Loss = LossKind.CrossEntropy, ClipNorm = options.ClipNorm,
        }) { CarryState = true };
        float[] input = new float[Sizes.Elements("characters steps × streams × vocabulary", steps, b, v)];
        int[] labels = new int[Sizes.Elements("labels steps × streams", steps, b)];

        CharLanguageModel Snapshot() => new(vocabulary, weights.Clone(), new LinearHead(head.Inputs, head.Outputs, (float[])head.Weight.Clone(), (float[])head.Bias.Clone()));

        var clock = Stopwatch.StartNew();
        TimeSpan nextEvaluation = options.EvaluationInterval;
        double recent = double.NaN, validationBits = double.NaN;
        long characters = 0;
        int epoch = 0;
        bool stop = false;
        CharLanguageModel latest = Snapshot();
        while (!stop && epoch < options.MaxEpochs)
        {
            epoch++;
            trainer.ResetState();
            for (int start = 0; start + steps <= streamLength; start += steps)
            {
                Array.Clear(input);
                for (int t = 0; t < steps; t++)
                {
                    for (int s = 0; s < b; s++)
                    {
                        int position = s * streamLength + start + t;
                        input[(t * b + s) * v + train[position]] = 1;
                        labels[t * b + s] = train[position + 1];
                    }
                }

                double bits = trainer.Step(input, steps, b, labels) / Math.Log(2);
                recent = double.IsNaN(recent) ? bits : 0.95 * recent + 0.05 * bits;
                characters += steps * b;
                stop = cancellation.IsCancellationRequested || clock.Elapsed >= options.TimeBudget;
                if (stop || clock.Elapsed >= nextEvaluation)
                {
                    latest = Snapshot();
                    validationBits = latest.BitsPerChar(validation);
                    onEvaluated?.Invoke(latest, validationBits);
                    nextEvaluation = clock.Elapsed + options.EvaluationInterval;
                }

                onProgress?.Invoke(new CharTrainingReport(epoch, characters, recent, validationBits, clock.Elapsed, options.TimeBudget));
                if (stop) break;
            }
        }

        if (!stop)
        {
            latest = Snapshot();
            validationBits = latest.BitsPerChar(validation);
            onEvaluated?.Invoke(latest, validationBits);
        }

        return (latest, validationBits, characters);
    }
}
