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

    /// <summary>
    /// Dropout probability on the outputs of every LSTM layer but the top one while training (as PyTorch's <c>dropout</c>):
    /// it needs <see cref="Layers"/> ≥ 2, and a one-layer model with dropout is refused rather than silently left undropped.
    /// </summary>
    public double Dropout { get; init; }

    /// <summary>Stops after this many validation measurements in a row without a new best (0: never stops early).</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Stops after this much training time.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(1);

    /// <summary>Stops after this many passes over the text.</summary>
    public int MaxEpochs { get; init; } = 100;

    /// <summary>Measures validation bits per character this often.</summary>
    public TimeSpan EvaluationInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Seeds the initial weights.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Progress of a character-model run.</summary>
/// <param name="Epoch">The current pass over the text (1-based).</param>
/// <param name="Characters">Training characters seen.</param>
/// <param name="TrainBitsPerChar">The recent training loss in bits per character.</param>
/// <param name="ValidationBitsPerChar">The latest validation bits per character (NaN before the first evaluation).</param>
/// <param name="BestValidationBitsPerChar">The best validation bits per character so far: the kept model's (NaN before the first evaluation).</param>
/// <param name="Elapsed">Training time so far.</param>
/// <param name="Budget">The time budget.</param>
public readonly record struct CharTrainingReport(int Epoch, long Characters, double TrainBitsPerChar, double ValidationBitsPerChar, double BestValidationBitsPerChar, TimeSpan Elapsed, TimeSpan Budget);

/// <summary>What a character-model run gives back.</summary>
/// <param name="Model">The model of the best validation measurement (not the last one).</param>
/// <param name="ValidationBitsPerChar">Its validation bits per character.</param>
/// <param name="Characters">Training characters seen.</param>
/// <param name="Evaluations">Validation measurements made.</param>
/// <param name="StoppedEarly">Whether training stopped because validation stopped improving (<see cref="CharTrainingOptions.Patience"/>).</param>
public sealed record CharTrainingResult(CharLanguageModel Model, double ValidationBitsPerChar, long Characters, int Evaluations, bool StoppedEarly);

/// <summary>
/// Trains a <see cref="CharLanguageModel"/> with <see cref="LstmTrainer"/>: the training text is cut into parallel
/// streams read chunk by chunk with the state carried between chunks (truncated backpropagation through time),
/// softmax cross-entropy on every step. Validation bits per character are measured every
/// <see cref="CharTrainingOptions.EvaluationInterval"/> and the best model so far is kept; training stops at the time
/// budget, the epoch limit, cancellation, or after <see cref="CharTrainingOptions.Patience"/> measurements without a new best.
/// </summary>
public static class CharModelTraining
{
    /// <summary>
    /// Trains and returns the best-validation model; <paramref name="onImproved"/> sees each new best (to save a checkpoint),
    /// <paramref name="source"/> is recorded in the model.
    /// </summary>
    public static CharTrainingResult Train(CharVocabulary vocabulary, int[] train, int[] validation,
        CharTrainingOptions options, Action<CharTrainingReport>? onProgress = null, Action<CharLanguageModel, double>? onImproved = null,
        CancellationToken cancellation = default, CharTextSource? source = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        if (!(options.Dropout is >= 0 and < 1)) throw new ArgumentException($"Dropout must be in [0, 1); got {options.Dropout}.", nameof(options));
        if (options.Dropout > 0 && options.Layers < 2)
            throw new ArgumentException("Dropout acts between stacked LSTM layers; a one-layer model has none to drop (use 2 or more layers, or no dropout).", nameof(options));
        if (options.Patience < 0) throw new ArgumentException($"Patience must be 0 (off) or positive; got {options.Patience}.", nameof(options));
        int v = vocabulary.Count, b = options.Streams, steps = options.Steps;
        int streamLength = (train.Length - 1) / b;
        if (streamLength < steps) throw new ArgumentException($"The training text ({train.Length} characters) is too short for {b} streams of {steps} steps.");
        var spec = new LstmSpec(v, options.HiddenSize, options.Layers);
        LstmWeights weights = LstmWeights.CreateRandom(spec, options.Seed, forgetBias: 1);
        var head = new TrainableLinearHead(spec.OutputSize, v, new SeededRandom((ulong)options.Seed));
        using var trainer = new LstmTrainer(weights, head, p => new AdamOptimizer(p, options.LearningRate), new LstmTrainerOptions
        {
            MaxBatch = b, MaxSteps = steps, Readout = Readout.EveryStep, Loss = LossKind.CrossEntropy, ClipNorm = options.ClipNorm,
            Dropout = options.Dropout, Seed = (ulong)options.Seed,
        }) { CarryState = true };
        float[] input = new float[Sizes.Elements("characters steps × streams × vocabulary", steps, b, v)];
        int[] labels = new int[Sizes.Elements("labels steps × streams", steps, b)];

        CharLanguageModel Snapshot() => new(vocabulary, weights.Clone(), new LinearHead(head.Inputs, head.Outputs, (float[])head.Weight.Clone(), (float[])head.Bias.Clone()), source);

        var clock = Stopwatch.StartNew();
        TimeSpan nextEvaluation = options.EvaluationInterval;
        double recent = double.NaN, validationBits = double.NaN, bestBits = double.PositiveInfinity;
        long characters = 0;
        int epoch = 0, evaluations = 0, sinceBest = 0;
        bool stop = false, stoppedEarly = false;
        CharLanguageModel? best = null;

        // Measures the current weights; keeps them when they are the best so far; says whether patience has run out.
        bool Evaluate()
        {
            CharLanguageModel current = Snapshot();
            validationBits = current.BitsPerChar(validation);
            evaluations++;
            if (validationBits < bestBits || best is null)
            {
                best = current;
                bestBits = validationBits;
                sinceBest = 0;
                onImproved?.Invoke(current, validationBits);
            }
            else sinceBest++;

            return options.Patience > 0 && sinceBest >= options.Patience;
        }

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
                    stoppedEarly = Evaluate();
                    stop |= stoppedEarly;
                    nextEvaluation = clock.Elapsed + options.EvaluationInterval;
                }

                onProgress?.Invoke(new CharTrainingReport(epoch, characters, recent, validationBits, best is null ? double.NaN : bestBits, clock.Elapsed, options.TimeBudget));
                if (stop) break;
            }
        }

        if (!stop) Evaluate();
        return new CharTrainingResult(best!, bestBits, characters, evaluations, stoppedEarly);
    }
}
