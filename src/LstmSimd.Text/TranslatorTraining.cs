using System.Diagnostics;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>The model and schedule of a translator training run.</summary>
public sealed record TranslatorTrainingOptions
{
    /// <summary>Byte-pair merges learned from the training pairs (0: characters only).</summary>
    public int Merges { get; init; } = 1000;

    /// <summary>Characters met fewer times than this in the training pairs are unknown symbols (copied through attention).</summary>
    public int MinCharacterCount { get; init; } = 2;

    /// <summary>The length of each symbol's vector.</summary>
    public int EmbeddingSize { get; init; } = 192;

    /// <summary>Hidden units of the decoder; the encoder has half of them in each direction. Even.</summary>
    public int HiddenSize { get; init; } = 384;

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

    /// <summary>
    /// Threads a step computes with (1 to 16): each batch is cut into this many parts whose gradients are computed at
    /// once and summed in a fixed order, so the result does not depend on the threads' timing.
    /// </summary>
    public int Threads { get; init; } = 1;
}

/// <summary>Progress of a translator run.</summary>
/// <param name="Epoch">The current pass over the pairs (1-based).</param>
/// <param name="Pairs">Training pairs seen.</param>
/// <param name="TrainLoss">The recent training loss, nats per target symbol (the end included).</param>
/// <param name="ValidationLoss">The latest validation loss, nats per target character (the end counted as one; NaN before the first).</param>
/// <param name="BestValidationLoss">The best validation loss so far (NaN before the first).</param>
/// <param name="Elapsed">Training time so far.</param>
/// <param name="Budget">The time budget.</param>
public readonly record struct TranslatorTrainingReport(int Epoch, long Pairs, double TrainLoss, double ValidationLoss, double BestValidationLoss, TimeSpan Elapsed, TimeSpan Budget);

/// <summary>What a translator run gives back.</summary>
/// <param name="Model">The model of the best validation loss.</param>
/// <param name="ValidationLoss">Its validation loss, nats per target character (the end counted as one).</param>
/// <param name="Pairs">Training pairs seen.</param>
/// <param name="Evaluations">Validation measurements made.</param>
/// <param name="StoppedEarly">Whether validation stopped improving (<see cref="TranslatorTrainingOptions.Patience"/>).</param>
public sealed record TranslatorTrainingResult(SubwordTranslator Model, double ValidationLoss, long Pairs, int Evaluations, bool StoppedEarly);

/// <summary>
/// Trains a <see cref="SubwordTranslator"/> with teacher forcing: the decoder reads the reference's previous symbol, the
/// loss is the softmax cross-entropy of each next symbol and of the end, averaged over a batch's symbols. The encoder
/// and decoder run on <see cref="LstmTrainingSession"/>; the decoder's ∂loss/∂h0 and ∂loss/∂c0 flow into the encoder's
/// final states, the attention's ∂loss/∂keys into its outputs, and both LSTMs' ∂loss/∂input into the shared embedding.
/// Adam, global-norm clipping; the best model by validation loss is kept.
/// </summary>
public sealed class TranslatorTraining : IDisposable
{
    private readonly BytePairEncoding _encoding;
    private readonly int _e, _h, _half, _batch, _maxSource, _maxTarget, _classes;
    private readonly Embedding _embedding;
    private readonly LstmWeights _encoderWeights, _decoderWeights;
    private readonly LstmTrainingSession _encoder, _decoder;
    private readonly TrainableLinearHead _combine, _output;
    private readonly ParameterSet _parameters;
    private readonly AdamOptimizer _optimizer;
    private readonly double _clipNorm;
    private readonly float[] _sourceIn, _targetIn, _gradSourceIn, _gradTargetIn, _keys, _hN, _cN, _h0, _c0, _queries, _concat, _attention, _hidden, _logits,
        _gradLogits, _gradHidden, _gradConcat, _gradQueries, _gradKeys, _gradH0, _gradC0, _gradHN, _gradCN;
    private readonly int[] _sourceIds, _targetIds, _sourceLengths, _targetLengths, _labels;
    private readonly TranslatorTraining[] _helpers; // further workers on the same weights, each with its own gradients
    private readonly ParallelOptions _parallel;

    /// <summary>Sets up training over <paramref name="encoding"/>, with sentences of up to the given numbers of symbols.</summary>
    public TranslatorTraining(BytePairEncoding encoding, int maxSourceSymbols, int maxTargetSymbols, TranslatorTrainingOptions options)
        : this(encoding, maxSourceSymbols, maxTargetSymbols, options, shared: null)
    {
    }

    /// <summary>A worker that trains the weights of <paramref name="shared"/> (values shared, gradients its own), or the first one.</summary>
    private TranslatorTraining(BytePairEncoding encoding, int maxSourceSymbols, int maxTargetSymbols, TranslatorTrainingOptions options, TranslatorTraining? shared)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(options);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSourceSymbols);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTargetSymbols);
        if (options.HiddenSize < 2 || options.HiddenSize % 2 != 0 || options.EmbeddingSize < 1 || options.Batch < 1)
            throw new ArgumentException($"HiddenSize must be even and at least 2 (got {options.HiddenSize}); EmbeddingSize and Batch positive.", nameof(options));
        if (!(options.LearningRate > 0) || !(options.ClipNorm >= 0)) throw new ArgumentException("LearningRate must be positive and ClipNorm 0 (off) or positive.", nameof(options));
        if (options.Threads is < 1 or > 16) throw new ArgumentException($"Threads must be in [1, 16]; got {options.Threads}.", nameof(options));
        _encoding = encoding;
        _e = options.EmbeddingSize;
        _h = options.HiddenSize;
        _half = _h / 2;
        _batch = options.Batch;
        _maxSource = maxSourceSymbols;
        _maxTarget = maxTargetSymbols + 1; // the end
        _classes = encoding.Count;
        _clipNorm = options.ClipNorm;
        SubwordTranslator initial = shared?.Snapshot() ?? SubwordTranslator.Create(encoding, _e, _h, options.Seed);
        _embedding = shared is null ? initial.Embedding : new Embedding(initial.Embedding.Count, _e, shared._embedding.Weight);
        _encoderWeights = shared?._encoderWeights ?? initial.Encoder;
        _decoderWeights = shared?._decoderWeights ?? initial.Decoder;
        _combine = new TrainableLinearHead(2 * _h, _h, shared?._combine.Weight ?? initial.Combine.Weight, shared?._combine.Bias ?? initial.Combine.Bias);
        _output = new TrainableLinearHead(_h, _classes, shared?._output.Weight ?? initial.Output.Weight, shared?._output.Bias ?? initial.Output.Bias);
        int rows = Sizes.Elements("rows batch × target steps", _batch, _maxTarget);
        _sourceIds = new int[Sizes.Elements("source batch × steps", _batch, _maxSource)];
        _targetIds = new int[rows];
        _sourceIn = new float[Sizes.Elements("source batch × steps × E", _batch, _maxSource, _e)];
        _gradSourceIn = new float[_sourceIn.Length];
        _targetIn = new float[Sizes.Elements("target batch × steps × E", _batch, _maxTarget, _e)];
        _gradTargetIn = new float[_targetIn.Length];
        _keys = new float[Sizes.Elements("encoder outputs batch × steps × H", _batch, _maxSource, _h)];
        _gradKeys = new float[_keys.Length];
        _queries = new float[Sizes.Elements("decoder outputs batch × steps × H", _batch, _maxTarget, _h)];
        _gradQueries = new float[_queries.Length];
        _hN = new float[_batch * _h];
        _cN = new float[_batch * _h];
        _h0 = new float[_batch * _h];
        _c0 = new float[_batch * _h];
        _gradH0 = new float[_batch * _h];
        _gradC0 = new float[_batch * _h];
        _gradHN = new float[_batch * _h];
        _gradCN = new float[_batch * _h];
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
        _embedding.AddTo(_parameters);
        _encoder.AddTo(_parameters, "encoder.");
        _decoder.AddTo(_parameters, "decoder.");
        _combine.AddTo(_parameters, "combine.");
        _output.AddTo(_parameters, "output.");
        _optimizer = new AdamOptimizer(_parameters, options.LearningRate);
        _parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Threads };
        _helpers = shared is null ? [.. Enumerable.Range(1, options.Threads - 1).Select(_ => new TranslatorTraining(encoding, maxSourceSymbols, maxTargetSymbols, options, this))] : [];
    }

    /// <summary>Every trained tensor with its gradient (after <see cref="Step"/> or <see cref="Gradients"/>).</summary>
    public ParameterSet Parameters => _parameters;

    /// <summary>Stops the sessions.</summary>
    public void Dispose()
    {
        _encoder.Dispose();
        _decoder.Dispose();
        foreach (TranslatorTraining helper in _helpers) helper.Dispose();
    }

    /// <summary>Repacks the LSTM sessions' copies of the weights after the values in <see cref="Parameters"/> were changed from outside (a step does it itself).</summary>
    public void RefreshWeights()
    {
        _encoder.RefreshWeights();
        _decoder.RefreshWeights();
        foreach (TranslatorTraining helper in _helpers) helper.RefreshWeights();
    }

    /// <summary>A copy of the current parameters as a translator.</summary>
    public SubwordTranslator Snapshot() => new(_encoding, new Embedding(_embedding.Count, _e, (float[])_embedding.Weight.Clone()), _encoderWeights.Clone(), _decoderWeights.Clone(),
        new LinearHead(2 * _h, _h, (float[])_combine.Weight.Clone(), (float[])_combine.Bias.Clone()),
        new LinearHead(_h, _classes, (float[])_output.Weight.Clone(), (float[])_output.Bias.Clone()));

    /// <summary>One optimiser step on <paramref name="pairs"/> (at most the batch); returns the loss before it, nats per target symbol.</summary>
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

    /// <summary>The loss on <paramref name="pairs"/> (nats per target symbol) with ∂loss/∂parameters left in <see cref="Parameters"/> (no update).</summary>
    public double Gradients(IReadOnlyList<TranslationPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        int parts = Math.Min(pairs.Count, 1 + _helpers.Length);
        if (parts <= 1) return WorkerGradients(pairs, out _);
        // Each part's loss is its mean over its own symbols: weighted by its symbols, the parts give the batch's mean.
        var losses = new double[parts];
        var rows = new int[parts];
        Parallel.For(0, parts, _parallel, k =>
        {
            int first = k * pairs.Count / parts, end = (k + 1) * pairs.Count / parts;
            TranslationPair[] part = [.. pairs.Skip(first).Take(end - first)];
            losses[k] = (k == 0 ? this : _helpers[k - 1]).WorkerGradients(part, out rows[k]);
        });
        double total = rows.Sum();
        for (int i = 0; i < _parameters.Parameters.Count; i++)
        {
            float[] sum = _parameters.Parameters[i].Gradients;
            float w0 = (float)(rows[0] / total);
            for (int j = 0; j < sum.Length; j++) sum[j] *= w0;
            for (int k = 1; k < parts; k++)
            {
                float[] g = _helpers[k - 1]._parameters.Parameters[i].Gradients;
                float w = (float)(rows[k] / total);
                for (int j = 0; j < sum.Length; j++) sum[j] += w * g[j];
            }
        }

        double loss = 0;
        for (int k = 0; k < parts; k++) loss += losses[k] * rows[k] / total;
        return loss;
    }

    private double WorkerGradients(IReadOnlyList<TranslationPair> pairs, out int rows)
    {
        double loss = Forward(pairs, out rows, out int sourceSteps, out int targetSteps);
        int b = pairs.Count, h = _h, e = _e;
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

        Span<float> gradTargetIn = _gradTargetIn.AsSpan(0, b * targetSteps * e), gradSourceIn = _gradSourceIn.AsSpan(0, b * sourceSteps * e);
        _decoder.Backward(gradQueries, gradInput: gradTargetIn, gradH0: _gradH0.AsSpan(0, b * h), gradC0: _gradC0.AsSpan(0, b * h));
        SubwordTranslator.BridgeStates(_gradHN.AsSpan(0, b * h), _gradH0.AsSpan(0, b * h), b, _half, toDecoder: false);
        SubwordTranslator.BridgeStates(_gradCN.AsSpan(0, b * h), _gradC0.AsSpan(0, b * h), b, _half, toDecoder: false);
        _encoder.Backward(gradKeys, _gradHN.AsSpan(0, b * h), _gradCN.AsSpan(0, b * h), gradInput: gradSourceIn);
        for (int s = 0; s < b; s++)
        {
            _embedding.Backward(_targetIds.AsSpan(s * targetSteps, _targetLengths[s]), gradTargetIn.Slice(s * targetSteps * e, _targetLengths[s] * e));
            _embedding.Backward(_sourceIds.AsSpan(s * sourceSteps, _sourceLengths[s]), gradSourceIn.Slice(s * sourceSteps * e, _sourceLengths[s] * e));
        }

        return loss;
    }

    /// <summary>The loss on <paramref name="pairs"/> without training, nats per target symbol.</summary>
    public double Loss(IReadOnlyList<TranslationPair> pairs) => Forward(pairs, out _, out _, out _);

    private double Forward(IReadOnlyList<TranslationPair> pairs, out int rows, out int sourceSteps, out int targetSteps)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        int b = pairs.Count, h = _h, e = _e;
        if (b < 1 || b > _batch) throw new ArgumentException($"A step takes 1 to {_batch} pairs; got {b}.", nameof(pairs));
        var encoded = new (int[] Source, int[] Target)[b];
        sourceSteps = 0;
        targetSteps = 0;
        for (int s = 0; s < b; s++)
        {
            TranslationPair p = pairs[s];
            int[] source = p.Source.Length == 0 ? [] : _encoding.Encode(p.Source).Ids, target = _encoding.Encode(p.Target).Ids;
            if (source.Length is 0 || source.Length > _maxSource || target.Length + 1 > _maxTarget)
                throw new ArgumentException($"The pair ({source.Length} → {target.Length} symbols) is empty or longer than the {_maxSource} → {_maxTarget - 1} this training was set up for.", nameof(pairs));
            encoded[s] = (source, target);
            sourceSteps = Math.Max(sourceSteps, source.Length);
            targetSteps = Math.Max(targetSteps, target.Length + 1);
        }

        Span<int> sourceIds = _sourceIds.AsSpan(0, b * sourceSteps), targetIds = _targetIds.AsSpan(0, b * targetSteps);
        sourceIds.Clear();
        targetIds.Clear();
        rows = 0;
        for (int s = 0; s < b; s++)
        {
            (int[] source, int[] target) = encoded[s];
            source.CopyTo(sourceIds.Slice(s * sourceSteps));
            for (int t = 0; t <= target.Length; t++)
            {
                targetIds[s * targetSteps + t] = t == 0 ? BytePairEncoding.EndId : target[t - 1];
                _labels[rows++] = t < target.Length ? target[t] : BytePairEncoding.EndId;
            }

            _sourceLengths[s] = source.Length;
            _targetLengths[s] = target.Length + 1;
        }

        Span<float> sourceIn = _sourceIn.AsSpan(0, b * sourceSteps * e), targetIn = _targetIn.AsSpan(0, b * targetSteps * e);
        _embedding.Forward(sourceIds, sourceIn);
        _embedding.Forward(targetIds, targetIn);
        Span<float> keys = _keys.AsSpan(0, b * sourceSteps * h), queries = _queries.AsSpan(0, b * targetSteps * h);
        _encoder.Forward(sourceIn, sourceSteps, b, keys, _hN.AsSpan(0, b * h), _cN.AsSpan(0, b * h), lengths: _sourceLengths.AsSpan(0, b), layout: SequenceLayout.BatchFirst);
        SubwordTranslator.BridgeStates(_hN.AsSpan(0, b * h), _h0.AsSpan(0, b * h), b, _half, toDecoder: true);
        SubwordTranslator.BridgeStates(_cN.AsSpan(0, b * h), _c0.AsSpan(0, b * h), b, _half, toDecoder: true);
        _decoder.Forward(targetIn, targetSteps, b, queries, h0: _h0.AsSpan(0, b * h), c0: _c0.AsSpan(0, b * h), lengths: _targetLengths.AsSpan(0, b), layout: SequenceLayout.BatchFirst);
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
    /// Trains on <paramref name="train"/> (the encoding learned from its sources and targets together), keeping the model
    /// of the best loss on <paramref name="validation"/>; <paramref name="onImproved"/> sees each new best (to save a
    /// checkpoint). Pairs of more than <paramref name="maxLength"/> characters are refused.
    /// </summary>
    public static TranslatorTrainingResult Train(IReadOnlyList<TranslationPair> train, IReadOnlyList<TranslationPair> validation, TranslatorTrainingOptions options,
        Action<TranslatorTrainingReport>? onProgress = null, Action<SubwordTranslator, double>? onImproved = null, CancellationToken cancellation = default, int maxLength = 40)
    {
        ArgumentNullException.ThrowIfNull(train);
        ArgumentNullException.ThrowIfNull(validation);
        ArgumentNullException.ThrowIfNull(options);
        if (train.Count == 0 || validation.Count == 0) throw new ArgumentException($"Training needs training and validation pairs; got {train.Count} and {validation.Count}.");
        if (options.Patience < 0) throw new ArgumentException($"Patience must be 0 (off) or positive; got {options.Patience}.", nameof(options));
        foreach (TranslationPair p in train.Concat(validation))
        {
            if (p.Source.Length > maxLength || p.Target.Length > maxLength)
                throw new ArgumentException($"The pair {UserText.Quote(p.Source)} → {UserText.Quote(p.Target)} is longer than {maxLength} characters.", nameof(train));
        }

        BytePairEncoding encoding = BytePairEncoding.Learn(train.SelectMany(p => new[] { p.Source, p.Target }), options.Merges, options.MinCharacterCount);
        TranslationPair[] trainable = [.. train.Where(p => p.Source.Length > 0)], held = [.. validation.Where(p => p.Source.Length > 0)];
        if (trainable.Length == 0 || held.Length == 0) throw new ArgumentException("Every training or every validation source is empty.");
        // A symbol covers at least one character, so the character limit bounds the symbols.
        using var training = new TranslatorTraining(encoding, maxLength, maxLength, options);
        var random = new SeededRandom((ulong)options.Seed);
        int[] order = [.. Enumerable.Range(0, trainable.Length)];
        var clock = Stopwatch.StartNew();
        TimeSpan nextEvaluation = options.EvaluationInterval;
        double recent = double.NaN, validationLoss = double.NaN, best = double.PositiveInfinity;
        SubwordTranslator? bestModel = null;
        long seen = 0;
        int epoch = 0, evaluations = 0, sinceBest = 0;
        bool stop = false, stoppedEarly = false;
        int[] symbols = [.. trainable.Select(p => encoding.Encode(p.Source).Ids.Length + encoding.Encode(p.Target).Ids.Length)];

        bool Evaluate()
        {
            double total = 0;
            long characters = 0;
            for (int i = 0; i < held.Length; i += options.Batch)
            {
                TranslationPair[] chunk = held[i..Math.Min(held.Length, i + options.Batch)];
                // The loss is per symbol; summed back and divided by characters, it compares across encodings.
                int count = chunk.Sum(p => encoding.Encode(p.Target).Ids.Length + 1);
                total += training.Loss(chunk) * count;
                characters += chunk.Sum(p => p.Target.Length + 1);
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
                int[] sorted = [.. order.Skip(start).Take(pool).OrderBy(k => symbols[k]).ThenBy(k => k)];
                for (int first = 0; first < sorted.Length && !stop; first += options.Batch)
                {
                    batch.Clear();
                    for (int k = first; k < Math.Min(sorted.Length, first + options.Batch); k++) batch.Add(trainable[sorted[k]]);
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
