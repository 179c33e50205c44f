using System.Diagnostics;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>One text and its class.</summary>
/// <param name="Text">The text.</param>
/// <param name="Label">The class name.</param>
public sealed record LabelledText(string Text, string Label);

/// <summary>The model and schedule of a classifier training run.</summary>
public sealed record ClassifierOptions
{
    /// <summary>Words or characters.</summary>
    public TokenKind Tokens { get; init; } = TokenKind.Words;

    /// <summary>Whether texts are lower-cased before they are cut into tokens.</summary>
    public bool Lowercase { get; init; } = true;

    /// <summary>A token seen fewer times than this in the training texts reads as unknown.</summary>
    public int MinFrequency { get; init; } = 2;

    /// <summary>The vocabulary's largest size (the two reserved ids included); the most frequent tokens are kept.</summary>
    public int MaxVocabulary { get; init; } = 30_000;

    /// <summary>Each text is read up to its first this many tokens.</summary>
    public int MaxTokens { get; init; } = 300;

    /// <summary>The embedding's dimension.</summary>
    public int EmbeddingSize { get; init; } = 64;

    /// <summary>LSTM hidden units per direction.</summary>
    public int HiddenSize { get; init; } = 64;

    /// <summary>Stacked LSTM layers.</summary>
    public int Layers { get; init; } = 1;

    /// <summary>Whether the LSTM reads each text both ways.</summary>
    public bool Bidirectional { get; init; } = true;

    /// <summary>How the outputs over a text become one vector.</summary>
    public SequencePooling Pooling { get; init; } = SequencePooling.Max;

    /// <summary>How much each class counts in the loss.</summary>
    public ClassWeighting Weighting { get; init; } = ClassWeighting.Balanced;

    /// <summary>Texts per training step.</summary>
    public int BatchSize { get; init; } = 32;

    /// <summary>Adam's step size.</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Global gradient-norm clip.</summary>
    public double ClipNorm { get; init; } = 1;

    /// <summary>Dropout between stacked LSTM layers.</summary>
    public double Dropout { get; init; }

    /// <summary>Most passes over the training texts.</summary>
    public int MaxEpochs { get; init; } = 20;

    /// <summary>Stops after this many epochs without a better validation score.</summary>
    public int Patience { get; init; } = 4;

    /// <summary>Stops after this much training time.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(30);

    /// <summary>Threads each LSTM pass computes with (results are bitwise those of one thread).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Seeds the weights and the batch order.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>Refuses what cannot train, naming the setting.</summary>
    public void Validate()
    {
        static void Positive(int value, string name)
        {
            if (value < 1) throw new ArgumentException($"{name} must be positive; got {value}.");
        }

        Positive(MinFrequency, nameof(MinFrequency));
        Positive(MaxTokens, nameof(MaxTokens));
        Positive(EmbeddingSize, nameof(EmbeddingSize));
        Positive(HiddenSize, nameof(HiddenSize));
        Positive(Layers, nameof(Layers));
        Positive(BatchSize, nameof(BatchSize));
        Positive(MaxEpochs, nameof(MaxEpochs));
        Positive(Patience, nameof(Patience));
        if (MaxVocabulary < 3) throw new ArgumentException($"MaxVocabulary must be at least 3; got {MaxVocabulary}.");
        if (!(LearningRate > 0 && double.IsFinite(LearningRate))) throw new ArgumentException($"LearningRate must be positive; got {LearningRate}.");
        if (!(ClipNorm >= 0)) throw new ArgumentException($"ClipNorm must be 0 (off) or positive; got {ClipNorm}.");
        if (!(Dropout is >= 0 and < 1)) throw new ArgumentException($"Dropout must be in [0, 1); got {Dropout}.");
        if (TimeBudget <= TimeSpan.Zero) throw new ArgumentException("TimeBudget must be positive.");
        if (!Enum.IsDefined(Tokens) || !Enum.IsDefined(Pooling) || !Enum.IsDefined(Weighting)) throw new ArgumentException("Unknown token kind, pooling or weighting.");
    }
}

/// <summary>Progress of a classifier run, once per epoch.</summary>
/// <param name="Epoch">The pass just finished (1-based).</param>
/// <param name="MaxEpochs">The most passes.</param>
/// <param name="TrainLoss">The mean training loss over the pass.</param>
/// <param name="Validation">The scores on the validation texts.</param>
/// <param name="Improved">Whether the validation score is the best so far (the model was kept).</param>
/// <param name="Elapsed">Training time so far.</param>
public readonly record struct ClassifierTrainingReport(int Epoch, int MaxEpochs, double TrainLoss, ClassificationMetrics Validation, bool Improved, TimeSpan Elapsed);

/// <summary>The outcome of a classifier run.</summary>
/// <param name="Classifier">The model of the best validation epoch.</param>
/// <param name="BestEpoch">That epoch.</param>
/// <param name="Epochs">Epochs run.</param>
/// <param name="BestValidation">Its validation scores.</param>
/// <param name="StopReason">Why training stopped.</param>
public sealed record ClassifierTrainingResult(SequenceClassifier Classifier, int BestEpoch, int Epochs, ClassificationMetrics BestValidation, string StopReason);

/// <summary>
/// Trains a <see cref="SequenceClassifier"/>: the vocabulary and class names come from the training texts; each epoch
/// reads them in batches of similar length (little padding), in a seeded random order; Adam with gradient clipping
/// minimises the class-weighted cross-entropy. After each epoch the validation texts are scored and the model with the
/// best validation macro-F1 (ties: lower validation loss) is kept; training stops after <see cref="ClassifierOptions.Patience"/>
/// epochs without a better one, at the epoch limit, the time budget, or cancellation (which returns the best so far).
/// </summary>
public static class ClassifierTraining
{
    /// <summary>Trains; <paramref name="onImproved"/> sees each better model (to save a checkpoint).</summary>
    /// <exception cref="ArgumentException">Fewer than two classes, an empty split, a validation class unseen in training, or a bad option.</exception>
    public static ClassifierTrainingResult Train(IReadOnlyList<LabelledText> train, IReadOnlyList<LabelledText> validation, ClassifierOptions options,
        Action<ClassifierTrainingReport>? onProgress = null, Action<SequenceClassifier>? onImproved = null, CancellationToken cancellation = default)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (train.Count == 0 || validation.Count == 0) throw new ArgumentException("Training needs at least one training and one validation text.");
        string[] labels = [.. train.Select(e => e.Label).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        if (labels.Length < 2) throw new ArgumentException($"The training texts hold one class ({UserText.Quote(labels[0])}); a classifier needs two or more.");
        string? unseen = validation.Select(e => e.Label).FirstOrDefault(l => Array.BinarySearch(labels, l, StringComparer.Ordinal) < 0);
        if (unseen is not null) throw new ArgumentException($"The validation texts hold the class {UserText.Quote(unseen)}, which no training text has.");

        var tokenizer = new TextTokenizer(options.Tokens, options.Lowercase);
        List<string>[] trainTokens = [.. train.Select(e => tokenizer.Tokenize(e.Text, options.MaxTokens))];
        TokenVocabulary vocabulary = TokenVocabulary.Build(trainTokens, options.MinFrequency, options.MaxVocabulary);
        var random = new SeededRandom((ulong)options.Seed);
        var spec = new LstmSpec(options.EmbeddingSize, options.HiddenSize, options.Layers, options.Bidirectional);
        var embedding = new Embedding(vocabulary.Count, options.EmbeddingSize, random, TokenVocabulary.PaddingId);
        var head = new TrainableLinearHead(spec.OutputSize, labels.Length, random);
        var model = new SequenceClassifier(tokenizer, vocabulary, labels, options.MaxTokens, embedding.Weight, LstmWeights.CreateRandom(spec, options.Seed, forgetBias: 1),
            new LinearHead(head.Inputs, head.Outputs, head.Weight, head.Bias), options.Pooling);

        int[][] ids = [.. trainTokens.Select(vocabulary.Encode)];
        int[] trainLabels = [.. train.Select(e => Array.BinarySearch(labels, e.Label, StringComparer.Ordinal))];
        int[][] validationIds = [.. validation.Select(e => model.Encode(e.Text))];
        int[] validationLabels = [.. validation.Select(e => Array.BinarySearch(labels, e.Label, StringComparer.Ordinal))];
        float[] weights = ClassWeights.For(trainLabels, labels.Length, options.Weighting);

        int batchSize = Math.Min(options.BatchSize, ids.Length);
        using ClassifierNetwork network = model.CreateNetwork(batchSize, options.Dropout, (ulong)options.Seed, options.Threads);
        var trainer = new ClassifierTrainer(network, weights, options.LearningRate, options.ClipNorm);

        var clock = Stopwatch.StartNew();
        SequenceClassifier best = model.Clone();
        ClassificationMetrics? bestScores = null;
        int bestEpoch = 0, epoch = 0;
        string reason = $"reached the epoch limit ({options.MaxEpochs})";
        while (epoch < options.MaxEpochs)
        {
            epoch++;
            network.Training = true;
            double lossSum = 0;
            int steps = 0;
            foreach (int[] batch in LengthBatches(ids, batchSize, random))
            {
                if (cancellation.IsCancellationRequested) break;
                lossSum += trainer.Step(ids, batch, trainLabels);
                steps++;
            }

            if (cancellation.IsCancellationRequested && steps == 0)
            {
                epoch--;
                reason = "stopped by cancellation";
                break;
            }

            ClassificationMetrics scores = Score(model, validationIds, validationLabels, weights);
            bool improved = bestScores is null || scores.MacroF1 > bestScores.MacroF1 || (scores.MacroF1 == bestScores.MacroF1 && scores.Loss < bestScores.Loss);
            if (improved)
            {
                best = model.Clone();
                bestScores = scores;
                bestEpoch = epoch;
                onImproved?.Invoke(best);
            }

            onProgress?.Invoke(new ClassifierTrainingReport(epoch, options.MaxEpochs, lossSum / Math.Max(1, steps), scores, improved, clock.Elapsed));
            if (cancellation.IsCancellationRequested)
            {
                reason = "stopped by cancellation";
                break;
            }

            if (epoch - bestEpoch >= options.Patience)
            {
                reason = $"stopped early: no better validation score for {options.Patience} epochs";
                break;
            }

            if (clock.Elapsed >= options.TimeBudget)
            {
                reason = "reached the time budget";
                break;
            }
        }

        bestScores ??= Score(best, validationIds, validationLabels, weights);
        return new ClassifierTrainingResult(best, bestEpoch, epoch, bestScores, reason);
    }

    /// <summary>The scores of <paramref name="classifier"/> on labelled texts (labels by name; a name the model does not know is refused).</summary>
    public static ClassificationMetrics Evaluate(SequenceClassifier classifier, IReadOnlyList<LabelledText> texts)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(texts);
        int[] labels = [.. texts.Select(e => LabelIndex(classifier.Labels, e.Label))];
        return Score(classifier, [.. texts.Select(e => classifier.Encode(e.Text))], labels, ClassWeights.For(labels, classifier.Labels.Count, ClassWeighting.None));
    }

    /// <summary>The index of <paramref name="label"/> among <paramref name="labels"/>; refuses a name not there.</summary>
    public static int LabelIndex(IReadOnlyList<string> labels, string label)
    {
        ArgumentNullException.ThrowIfNull(labels);
        for (int k = 0; k < labels.Count; k++) if (string.Equals(labels[k], label, StringComparison.Ordinal)) return k;
        throw new ArgumentException($"The class {UserText.Quote(label)} is not one the model knows ({UserText.QuoteList([.. labels])}).");
    }

    private static ClassificationMetrics Score(SequenceClassifier model, int[][] ids, int[] labels, float[] weights)
    {
        float[][] probabilities = model.ProbabilitiesOfIds(ids);
        int classes = model.Labels.Count;
        double loss = 0, weightSum = 0;
        for (int i = 0; i < ids.Length; i++)
        {
            float w = weights[labels[i]];
            loss -= w * Math.Log(Math.Max(probabilities[i][labels[i]], 1e-30));
            weightSum += w;
        }

        int[] predicted = [.. probabilities.Select(SequenceClassifier.ArgMax)];
        return ClassificationMetrics.From(labels, predicted, classes, weightSum > 0 ? loss / weightSum : 0);
    }

    /// <summary>
    /// The training texts in batches of similar length: shuffled, sorted by length (a stable sort, so equal lengths stay
    /// shuffled), cut into batches, and the batches shuffled.
    /// </summary>
    private static List<int[]> LengthBatches(int[][] ids, int batchSize, SeededRandom random)
    {
        int[] order = [.. Enumerable.Range(0, ids.Length)];
        Shuffle(order, random);
        order = [.. order.OrderBy(i => ids[i].Length)];
        var batches = new List<int[]>();
        for (int start = 0; start < order.Length; start += batchSize) batches.Add(order[start..Math.Min(order.Length, start + batchSize)]);
        int[] batchOrder = [.. Enumerable.Range(0, batches.Count)];
        Shuffle(batchOrder, random);
        return [.. batchOrder.Select(k => batches[k])];
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
