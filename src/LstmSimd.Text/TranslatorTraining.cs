using System.Diagnostics;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>The model and schedule of a translator training run.</summary>
public sealed record TranslatorTrainingOptions
{
    /// <summary>Hidden units of the encoder and the decoder.</summary>
    public int HiddenSize { get; init; } = 128;

    /// <summary>Sentence pairs per step.</summary>
    public int Batch { get; init; } = 32;

    /// <summary>Adam's step size.</summary>
    public double LearningRate { get; init; } = 2e-3;

    /// <summary>Global gradient-norm clip.</summary>
    public double ClipNorm { get; init; } = 1;

    /// <summary>Stops after this much training time.</summary>
    public TimeSpan TimeBudget { get; init; } = TimeSpan.FromMinutes(5);

    /// <summary>Stops after this many passes over the training pairs.</summary>
    public int MaxEpochs { get; init; } = 50;

    /// <summary>Measures the validation loss this often.</summary>
    public TimeSpan EvaluationInterval { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>Stops after this many validation measurements in a row without a new best (0: never stops early).</summary>
    public int Patience { get; init; } = 5;

    /// <summary>Seeds the initial weights and the order of the pairs.</summary>
    public int Seed { get; init; } = 1;
}

/// <summary>Progress of a translator run.</summary>
/// <param name="Epoch">The current pass over the pairs (1-based).</param>
/// <param name="Pairs">Training pairs seen.</param>
/// <param name="TrainLoss">The recent training loss, nats per target character (the end included).</param>
/// <param name="ValidationLoss">The latest validation loss (NaN before the first).</param>
/// <param name="BestValidationLoss">The best validation loss so far (NaN before the first).</param>
/// <param name="Elapsed">Training time so far.</param>
/// <param name="Budget">The time budget.</param>
public readonly record struct TranslatorTrainingReport(int Epoch, long Pairs, double TrainLoss, double ValidationLoss, double BestValidationLoss, TimeSpan Elapsed, TimeSpan Budget);

/// <summary>What a translator run gives back.</summary>
/// <param name="Model">The model of the best validation loss.</param>
/// <param name="ValidationLoss">Its validation loss, nats per target character.</param>
/// <param name="Pairs">Training pairs seen.</param>
/// <param name="Evaluations">Validation measurements made.</param>
/// <param name="StoppedEarly">Whether validation stopped improving (<see cref="TranslatorTrainingOptions.Patience"/>).</param>
public sealed record TranslatorTrainingResult(CharTranslator Model, double ValidationLoss, long Pairs, int Evaluations, bool StoppedEarly);

/// <summary>
/// Trains a <see cref="CharTranslator"/> with teacher forcing: the decoder reads the reference's previous character, the
/// loss is the softmax cross-entropy of each next character and of the end, averaged over a batch's characters.
/// The encoder and decoder run on <see cref="LstmTrainingSession"/>; the decoder's ∂loss/∂h0 and ∂loss/∂c0 flow into
/// the encoder's final state, and the attention's ∂loss/∂keys into its outputs. Adam, global-norm clipping; the best
/// model by validation loss is kept.
/// </summary>
public sealed class TranslatorTraining : IDisposable
{
    private readonly CharVocabulary _source, _target;
    private readonly int _h, _batch, _maxSource, _maxTarget, _sourceInputs, _targetInputs, _classes;
    private readonly LstmWeights _encoderWeights, _decoderWeights;
    private readonly LstmTrainingSession _encoder, _decoder;
    private readonly TrainableLinearHead _combine, _output;
    private readonly ParameterSet _parameters;
    private readonly AdamOptimizer _optimizer;
    private readonly double _clipNorm;
    private readonly float[] _sourceIn, _targetIn, _keys, _hN, _cN, _queries, _concat, _attention, _hidden, _logits, _gradLogits, _gradHidden, _gradConcat, _gradQueries, _gradKeys, _gradH0, _gradC0;
    private readonly int[] _sourceLengths, _targetLengths, _labels;

    /// <summary>Sets up training for sources and targets over the given vocabularies, with sentences of up to the given lengths.</summary>
    public TranslatorTraining(CharVocabulary source, CharVocabulary target, int maxSourceLength, int maxTargetLength, TranslatorTrainingOptions options)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSourceLength);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTargetLength);
        if (options.HiddenSize < 1 || options.Batch < 1) throw new ArgumentException("HiddenSize and Batch must be positive.", nameof(options));
        if (!(options.LearningRate > 0) || !(options.ClipNorm >= 0)) throw new ArgumentException("LearningRate must be positive and ClipNorm 0 (off) or positive.", nameof(options));
        _source = source;
        _target = target;
        _h = options.HiddenSize;
        _batch = options.Batch;
        _maxSource = maxSourceLength;
        _maxTarget = maxTargetLength + 1; // the end
        _sourceInputs = source.Count + 1;
        _targetInputs = target.Count + 1;
        _classes = target.Count + 1;
        _clipNorm = options.ClipNorm;
        CharTranslator initial = CharTranslator.Create(source, target, _h, options.Seed);
        _encoderWeights = initial.Encoder;
        _decoderWeights = initial.Decoder;
        _combine = new TrainableLinearHead(2 * _h, _h, initial.Combine.Weight, initial.Combine.Bias);
        _output = new TrainableLinearHead(_h, _classes, initial.Output.Weight, initial.Output.Bias);
        int rows = Sizes.Elements("rows batch × target steps", _batch, _maxTarget);
        _sourceIn = new float[Sizes.Elements("source batch × steps × inputs", _batch, _maxSource, _sourceInputs)];
        _targetIn = new float[Sizes.Elements("target batch × steps × inputs", _batch, _maxTarget, _targetInputs)];
        _keys = new float[Sizes.Elements("encoder outputs batch × steps × H", _batch, _maxSource, _h)];
        _gradKeys = new float[_keys.Length];
        _queries = new float[Sizes.Elements("decoder outputs batch × steps × H", _batch, _maxTarget, _h)];
        _gradQueries = new float[_queries.Length];
        _hN = new float[_batch * _h];
        _cN = new float[_batch * _h];
        _gradH0 = new float[_batch * _h];
        _gradC0 = new float[_batch * _h];
        _concat = new float[Sizes.Elements("rows × 2H", rows, 2 * _h)];
        _gradConcat = new float[_concat.Length];
        _attention = new float[Sizes.Elements("rows × source steps", rows, _maxSource)];
        _hidden = new float[Sizes.Elements("rows × H", rows, _h)];
        _gradHidden = new float[_hidden.Length];
        _logits = new float[Sizes.Elements("rows × classes", rows, _classes)];
        _gradLogits = new float[_logits.Length];
        _labels = new int[rows];
        _sourceLengths = new int[_batch];
        _targetLengths = new int[_batch];
        _encoder = new LstmTrainingSession(_encoderWeights, _batch, _maxSource);
        _decoder = new LstmTrainingSession(_decoderWeights, _batch, _maxTarget);
        _parameters = new ParameterSet();
        _encoder.AddTo(_parameters, "encoder.");
        _decoder.AddTo(_parameters, "decoder.");
        _combine.AddTo(_parameters, "combine.");
        _output.AddTo(_parameters, "output.");
        _optimizer = new AdamOptimizer(_parameters, options.LearningRate);
    }

    /// <summary>Every trained tensor with its gradient (after <see cref="Step"/> or <see cref="Gradients"/>).</summary>
    public ParameterSet Parameters => _parameters;

    /// <summary>Stops the sessions.</summary>
    public void Dispose()
    {
        _encoder.Dispose();
        _decoder.Dispose();
    }

    /// <summary>Repacks the LSTM sessions' copies of the weights after the values in <see cref="Parameters"/> were changed from outside (a step does it itself).</summary>
    public void RefreshWeights()
    {
        _encoder.RefreshWeights();
        _decoder.RefreshWeights();
    }

    /// <summary>A copy of the current parameters as a translator.</summary>
    public CharTranslator Snapshot() => new(_source, _target, _encoderWeights.Clone(), _decoderWeights.Clone(),
        new LinearHead(2 * _h, _h, (float[])_combine.Weight.Clone(), (float[])_combine.Bias.Clone()),
        new LinearHead(_h, _classes, (float[])_output.Weight.Clone(), (float[])_output.Bias.Clone()));

    /// <summary>One optimiser step on <paramref name="pairs"/> (at most the batch); returns the loss before it.</summary>
    public double Step(IReadOnlyList<TranslationPair> pairs)
    {
        double loss = Gradients(pairs);
        double norm = _clipNorm > 0 ? _parameters.ClipGradientNorm(_clipNorm) : _parameters.GradientNorm();
        if (double.IsFinite(norm))
        {
            _optimizer.Step();
            RefreshWeights();
        }

        return loss;
    }

    /// <summary>The loss on <paramref name="pairs"/> with ∂loss/∂parameters left in <see cref="Parameters"/> (no update).</summary>
    public double Gradients(IReadOnlyList<TranslationPair> pairs)
    {
        double loss = Forward(pairs, out int rows, out int sourceSteps, out int targetSteps);
        int b = pairs.Count, h = _h;
        _parameters.ZeroGradients();
        Span<float> gradHidden = _gradHidden.AsSpan(0, rows * h), gradConcat = _gradConcat.AsSpan(0, rows * 2 * h);
        _output.Backward(_hidden.AsSpan(0, rows * h), _gradLogits.AsSpan(0, rows * _classes), rows, gradHidden);
        for (int i = 0; i < gradHidden.Length; i++) gradHidden[i] *= 1 - _hidden[i] * _hidden[i];
        _combine.Backward(_concat.AsSpan(0, rows * 2 * h), gradHidden, rows, gradConcat);
        Span<float> gradQueries = _gradQueries.AsSpan(0, b * targetSteps * h), gradKeys = _gradKeys.AsSpan(0, b * sourceSteps * h);
        gradQueries.Clear();
        gradKeys.Clear();
        int row = 0;
        for (int s = 0; s < b; s++)
        {
            int n = _sourceLengths[s];
            ReadOnlySpan<float> keys = _keys.AsSpan(s * sourceSteps * h, n * h);
            Span<float> dKeys = gradKeys.Slice(s * sourceSteps * h, n * h);
            for (int t = 0; t < _targetLengths[s]; t++, row++)
            {
                int q = (s * targetSteps + t) * h;
                // The query reaches the loss twice: through the attention and directly, as the second half of [context; h].
                gradConcat.Slice(row * 2 * h + h, h).CopyTo(gradQueries.Slice(q, h));
                LuongAttention.Backward(_queries.AsSpan(q, h), keys, _attention.AsSpan(row * _maxSource, n), gradConcat.Slice(row * 2 * h, h), gradQueries.Slice(q, h), dKeys);
            }
        }

        _decoder.Backward(gradQueries, gradH0: _gradH0.AsSpan(0, b * h), gradC0: _gradC0.AsSpan(0, b * h));
        _encoder.Backward(gradKeys, _gradH0.AsSpan(0, b * h), _gradC0.AsSpan(0, b * h));
        return loss;
    }

    /// <summary>The loss on <paramref name="pairs"/> without training.</summary>
    public double Loss(IReadOnlyList<TranslationPair> pairs) => Forward(pairs, out _, out _, out _);

    private double Forward(IReadOnlyList<TranslationPair> pairs, out int rows, out int sourceSteps, out int targetSteps)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        int b = pairs.Count, h = _h;
        if (b < 1 || b > _batch) throw new ArgumentException($"A step takes 1 to {_batch} pairs; got {b}.", nameof(pairs));
        sourceSteps = 0;
        targetSteps = 0;
        foreach (TranslationPair p in pairs)
        {
            if (p.Source.Length is 0 || p.Source.Length > _maxSource || p.Target.Length + 1 > _maxTarget)
                throw new ArgumentException($"The pair ({p.Source.Length} → {p.Target.Length} characters) is empty or longer than the {_maxSource} → {_maxTarget - 1} this training was set up for.", nameof(pairs));
            IReadOnlyList<char> unknown = _target.Missing(p.Target);
            if (unknown.Count > 0) throw new ArgumentException($"The target {UserText.Quote(p.Target)} holds characters outside the target vocabulary: {CharVocabulary.Describe(unknown)}.", nameof(pairs));
            sourceSteps = Math.Max(sourceSteps, p.Source.Length);
            targetSteps = Math.Max(targetSteps, p.Target.Length + 1);
        }

        Span<float> sourceIn = _sourceIn.AsSpan(0, b * sourceSteps * _sourceInputs), targetIn = _targetIn.AsSpan(0, b * targetSteps * _targetInputs);
        sourceIn.Clear();
        targetIn.Clear();
        rows = 0;
        for (int s = 0; s < b; s++)
        {
            TranslationPair p = pairs[s];
            CharTranslator.OneHotSource(_source, p.Source, sourceIn.Slice(s * sourceSteps * _sourceInputs, p.Source.Length * _sourceInputs));
            int[] ids = _target.Encode(p.Target);
            for (int t = 0; t <= ids.Length; t++)
            {
                targetIn[(s * targetSteps + t) * _targetInputs + (t == 0 ? 0 : ids[t - 1] + 1)] = 1;
                _labels[rows++] = t < ids.Length ? ids[t] + 1 : 0;
            }

            _sourceLengths[s] = p.Source.Length;
            _targetLengths[s] = ids.Length + 1;
        }

        Span<float> keys = _keys.AsSpan(0, b * sourceSteps * h), queries = _queries.AsSpan(0, b * targetSteps * h);
        _encoder.Forward(sourceIn, sourceSteps, b, keys, _hN.AsSpan(0, b * h), _cN.AsSpan(0, b * h), lengths: _sourceLengths.AsSpan(0, b), layout: SequenceLayout.BatchFirst);
        _decoder.Forward(targetIn, targetSteps, b, queries, h0: _hN.AsSpan(0, b * h), c0: _cN.AsSpan(0, b * h), lengths: _targetLengths.AsSpan(0, b), layout: SequenceLayout.BatchFirst);
        int row = 0;
        for (int s = 0; s < b; s++)
        {
            int n = _sourceLengths[s];
            for (int t = 0; t < _targetLengths[s]; t++, row++)
            {
                ReadOnlySpan<float> query = queries.Slice((s * targetSteps + t) * h, h);
                Span<float> concat = _concat.AsSpan(row * 2 * h, 2 * h);
                LuongAttention.Forward(query, keys.Slice(s * sourceSteps * h, n * h), _attention.AsSpan(row * _maxSource, n), concat[..h]);
                query.CopyTo(concat[h..]);
            }
        }

        Span<float> hidden = _hidden.AsSpan(0, rows * h), logits = _logits.AsSpan(0, rows * _classes);
        _combine.Forward(_concat.AsSpan(0, rows * 2 * h), rows, hidden);
        for (int i = 0; i < hidden.Length; i++) hidden[i] = MathF.Tanh(hidden[i]);
        _output.Forward(hidden, rows, logits);
        return Losses.SoftmaxCrossEntropy(logits, rows, _classes, _labels.AsSpan(0, rows), _gradLogits.AsSpan(0, rows * _classes));
    }

    /// <summary>
    /// Trains on <paramref name="train"/> (vocabularies from it), keeping the model of the best loss on <paramref name="validation"/>;
    /// <paramref name="onImproved"/> sees each new best (to save a checkpoint). Pairs longer than <paramref name="maxLength"/> are refused.
    /// </summary>
    public static TranslatorTrainingResult Train(IReadOnlyList<TranslationPair> train, IReadOnlyList<TranslationPair> validation, TranslatorTrainingOptions options,
        Action<TranslatorTrainingReport>? onProgress = null, Action<CharTranslator, double>? onImproved = null, CancellationToken cancellation = default, int maxLength = 40)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        if (train.Count == 0 || validation.Count == 0) throw new ArgumentException($"Training needs training and validation pairs; got {train.Count} and {validation.Count}.");
        if (options.Patience < 0) throw new ArgumentException($"Patience must be 0 (off) or positive; got {options.Patience}.", nameof(options));
        var source = CharVocabulary.FromText(string.Concat(train.Select(p => p.Source)));
        var target = CharVocabulary.FromText(string.Concat(train.Select(p => p.Target)));
        // Validation targets with characters the training targets never hold cannot be scored by teacher forcing: left out.
        TranslationPair[] held = [.. validation.Where(p => target.Missing(p.Target).Count == 0 && p.Source.Length > 0)];
        using var training = new TranslatorTraining(source, target, maxLength, maxLength, options);
        var random = new SeededRandom((ulong)options.Seed);
        int[] order = [.. Enumerable.Range(0, train.Count)];
        var clock = Stopwatch.StartNew();
        TimeSpan nextEvaluation = options.EvaluationInterval;
        double recent = double.NaN, validationLoss = double.NaN, best = double.PositiveInfinity;
        CharTranslator? bestModel = null;
        long seen = 0;
        int epoch = 0, evaluations = 0, sinceBest = 0;
        bool stop = false, stoppedEarly = false;

        bool Evaluate()
        {
            double total = 0;
            long characters = 0;
            for (int i = 0; i < held.Length; i += options.Batch)
            {
                TranslationPair[] chunk = held[i..Math.Min(held.Length, i + options.Batch)];
                int count = chunk.Sum(p => p.Target.Length + 1);
                total += training.Loss(chunk) * count;
                characters += count;
            }

            validationLoss = total / characters;
            evaluations++;
            if (validationLoss < best || bestModel is null)
            {
                best = validationLoss;
                bestModel = training.Snapshot();
                sinceBest = 0;
                onImproved?.Invoke(bestModel, best);
            }
            else sinceBest++;

            return options.Patience > 0 && sinceBest >= options.Patience;
        }

        var batch = new List<TranslationPair>(options.Batch);
        while (!stop && epoch < options.MaxEpochs)
        {
            epoch++;
            for (int i = order.Length - 1; i > 0; i--)
            {
                int j = random.NextInt32(i + 1);
                (order[i], order[j]) = (order[j], order[i]);
            }

            // Pools of 20 batches sorted by length, so that a batch's pairs need about the same number of steps.
            int pool = 20 * options.Batch;
            for (int start = 0; start < order.Length && !stop; start += pool)
            {
                int[] sorted = [.. order.Skip(start).Take(pool).OrderBy(k => train[k].Source.Length + train[k].Target.Length).ThenBy(k => k)];
                for (int first = 0; first < sorted.Length && !stop; first += options.Batch)
                {
                    batch.Clear();
                    for (int k = first; k < Math.Min(sorted.Length, first + options.Batch); k++) batch.Add(train[sorted[k]]);
                    double loss = training.Step(batch);
                    recent = double.IsNaN(recent) ? loss : 0.98 * recent + 0.02 * loss;
                    seen += batch.Count;
                    stop = cancellation.IsCancellationRequested || clock.Elapsed >= options.TimeBudget;
                    if (stop || clock.Elapsed >= nextEvaluation)
                    {
                        stoppedEarly = Evaluate();
                        stop |= stoppedEarly;
                        nextEvaluation = clock.Elapsed + options.EvaluationInterval;
                    }

                    onProgress?.Invoke(new TranslatorTrainingReport(epoch, seen, recent, validationLoss, bestModel is null ? double.NaN : best, clock.Elapsed, options.TimeBudget));
                }
            }
        }

        if (!stop) Evaluate();
        return new TranslatorTrainingResult(bestModel!, best, seen, evaluations, stoppedEarly);
    }
}
