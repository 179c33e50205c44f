using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>
/// The layers of a <see cref="SequenceClassifier"/> for one batch of token-id sequences at a time: embedding → LSTM
/// (time-major, packed by length) → pooling over the valid steps → linear head → logits; and the backward through them
/// all, ending in the embedding rows of the ids seen: the building block of <see cref="ClassifierTraining"/>, public for
/// custom training loops. Trains its parameters in place (register them with <see cref="AddTo"/>, call
/// <see cref="RefreshWeights"/> after each optimiser step). Buffers are sized at creation; one caller at a time.
/// </summary>
public sealed class ClassifierNetwork : IDisposable
{
    private readonly LstmTrainingSession _lstm;
    private readonly int _maxBatch, _maxSteps, _features, _forwardFeatures;
    private readonly int[] _ids, _lengths, _argMax;
    private readonly float[] _embedded, _gradEmbedded, _output, _gradOutput, _pooled, _gradPooled, _logits;
    private int _steps, _batch;

    /// <summary>Builds the network over the parameters given (used, not copied).</summary>
    /// <param name="embedding">Token ids → vectors; its padding id (or id 0 without one) fills the steps past a text's end, which no layer reads.</param>
    /// <param name="weights">The LSTM, whose input size is the embedding's dimension.</param>
    /// <param name="head">Pooled LSTM output → class logits.</param>
    /// <param name="pooling">How each text's outputs become one vector.</param>
    /// <param name="maxBatch">The most texts a call may pass.</param>
    /// <param name="maxSteps">The most tokens a text may hold.</param>
    /// <param name="dropout">Dropout between stacked LSTM layers while <see cref="Training"/>.</param>
    /// <param name="seed">Seeds the dropout masks.</param>
    /// <param name="threads">Threads each LSTM pass computes with.</param>
    public ClassifierNetwork(Embedding embedding, LstmWeights weights, TrainableLinearHead head, SequencePooling pooling, int maxBatch, int maxSteps,
        double dropout = 0, ulong seed = 0, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(head);
        if (!Enum.IsDefined(pooling)) throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling.");
        if (weights.Spec.InputSize != embedding.Dimension)
            throw new ArgumentException($"The LSTM takes {weights.Spec.InputSize} inputs; the embedding gives {embedding.Dimension}.", nameof(weights));
        if (head.Inputs != weights.Spec.OutputSize)
            throw new ArgumentException($"The head takes {head.Inputs} inputs; the LSTM gives {weights.Spec.OutputSize}.", nameof(head));
        Embedding = embedding;
        Head = head;
        Pooling = pooling;
        _maxBatch = maxBatch;
        _maxSteps = maxSteps;
        _features = weights.Spec.OutputSize;
        _forwardFeatures = weights.Spec.OutputHiddenSize;
        int rows = Sizes.Elements("steps × batch", maxSteps, maxBatch);
        _ids = new int[rows];
        _lengths = new int[maxBatch];
        _argMax = new int[Sizes.Elements("batch × features", maxBatch, _features)];
        _embedded = new float[Sizes.Elements("embedded steps × batch × dimension", rows, embedding.Dimension)];
        _gradEmbedded = new float[_embedded.Length];
        _output = new float[Sizes.Elements("outputs steps × batch × features", rows, _features)];
        _gradOutput = new float[_output.Length];
        _pooled = new float[_argMax.Length];
        _gradPooled = new float[_argMax.Length];
        _logits = new float[Sizes.Elements("logits batch × classes", maxBatch, head.Outputs)];
        _lstm = new LstmTrainingSession(weights, maxBatch, maxSteps, dropout: dropout, seed: seed, threads: threads);
    }

    /// <summary>The embedding.</summary>
    public Embedding Embedding { get; }

    /// <summary>The LSTM.</summary>
    public LstmWeights Weights => _lstm.Weights;

    /// <summary>The head.</summary>
    public TrainableLinearHead Head { get; }

    /// <summary>The pooling.</summary>
    public SequencePooling Pooling { get; }

    /// <summary>The number of classes (logits per text).</summary>
    public int Classes => Head.Outputs;

    /// <summary>The most texts a call may pass.</summary>
    public int MaxBatch => _maxBatch;

    /// <summary>Whether forwards apply dropout (set false to evaluate).</summary>
    public bool Training
    {
        get => _lstm.Training;
        set => _lstm.Training = value;
    }

    /// <summary>Stops the LSTM's worker threads, if it has any.</summary>
    public void Dispose() => _lstm.Dispose();

    /// <summary>Registers the embedding, the LSTM (PyTorch's names under <c>lstm.</c>) and the head.</summary>
    public void AddTo(ParameterSet parameters)
    {
        Embedding.AddTo(parameters);
        _lstm.AddTo(parameters, "lstm.");
        Head.AddTo(parameters, "head.");
    }

    /// <summary>Repacks the LSTM's kernels after an optimiser changed the weights.</summary>
    public void RefreshWeights() => _lstm.RefreshWeights();

    /// <summary>
    /// The logits [batch, classes] of the sequences <paramref name="texts"/>[<paramref name="indices"/>[b]], each read up to
    /// its end (an empty one as one padding token), padded to the longest.
    /// </summary>
    public ReadOnlySpan<float> Forward(IReadOnlyList<int[]> texts, ReadOnlySpan<int> indices)
    {
        int batch = indices.Length;
        if (batch < 1 || batch > _maxBatch) throw new ArgumentOutOfRangeException(nameof(indices), batch, $"A batch holds 1 to {_maxBatch} texts.");
        ArgumentNullException.ThrowIfNull(texts);
        int steps = 1;
        for (int b = 0; b < batch; b++)
        {
            if ((uint)indices[b] >= (uint)texts.Count) throw new ArgumentOutOfRangeException(nameof(indices), indices[b], $"indices[{b}] is outside the {texts.Count} texts.");
            int length = texts[indices[b]].Length;
            if (length > _maxSteps) throw new ArgumentException($"Text {indices[b]} has {length} tokens; this network reads at most {_maxSteps}.", nameof(texts));
            int outside = texts[indices[b]].AsSpan().IndexOfAnyExceptInRange(0, Embedding.Count - 1);
            if (outside >= 0)
                throw new ArgumentOutOfRangeException(nameof(texts), $"Text {indices[b]} holds the token id {texts[indices[b]][outside]} at position {outside}, outside the embedding's {Embedding.Count} rows [0, {Embedding.Count}).");
            if (length == 0 && Embedding.PaddingId < 0)
                throw new ArgumentException($"Text {indices[b]} is empty; an embedding without a padding id has no step to read it as.", nameof(texts));
            _lengths[b] = Math.Max(1, length);
            steps = Math.Max(steps, length);
        }

        Span<int> ids = _ids.AsSpan(0, steps * batch);
        ids.Fill(PaddingFill);
        for (int b = 0; b < batch; b++)
        {
            int[] text = texts[indices[b]];
            for (int t = 0; t < text.Length; t++) ids[t * batch + b] = text[t];
        }

        _steps = steps;
        _batch = batch;
        int dimension = Embedding.Dimension;
        Span<float> embedded = _embedded.AsSpan(0, steps * batch * dimension), output = _output.AsSpan(0, steps * batch * _features);
        ReadOnlySpan<int> lengths = _lengths.AsSpan(0, batch);
        Embedding.Forward(ids, embedded);
        _lstm.Forward(embedded, steps, batch, output, lengths: lengths);
        Span<float> pooled = _pooled.AsSpan(0, batch * _features), logits = _logits.AsSpan(0, batch * Classes);
        Text.Pooling.Forward(Pooling, output, batch, _features, _forwardFeatures, lengths, pooled, _argMax.AsSpan(0, batch * _features));
        Head.Forward(pooled, batch, logits);
        return logits;
    }

    /// <summary>Adds to every registered gradient ∂loss/∂parameter for the last <see cref="Forward"/>, given ∂loss/∂logits.</summary>
    public void Backward(ReadOnlySpan<float> gradLogits)
    {
        if (_batch == 0) throw new InvalidOperationException("Backward needs a Forward first.");
        if (gradLogits.Length != _batch * Classes) throw new ArgumentException($"gradLogits holds {gradLogits.Length} values; [batch={_batch}, classes={Classes}] needs {_batch * Classes}.", nameof(gradLogits));
        int steps = _steps, batch = _batch, dimension = Embedding.Dimension;
        Span<float> gradPooled = _gradPooled.AsSpan(0, batch * _features), gradOutput = _gradOutput.AsSpan(0, steps * batch * _features);
        Span<float> gradEmbedded = _gradEmbedded.AsSpan(0, steps * batch * dimension);
        Head.Backward(_pooled.AsSpan(0, batch * _features), gradLogits, batch, gradPooled);
        Text.Pooling.Backward(Pooling, gradPooled, steps, batch, _features, _forwardFeatures, _lengths.AsSpan(0, batch), _argMax.AsSpan(0, batch * _features), gradOutput);
        _lstm.Backward(gradOutput, gradInput: gradEmbedded);
        if (Embedding.PaddingId < 0)
        {
            // Without a padding id the fill is a real token's: its row must not gather the steps past each text's end.
            for (int b = 0; b < batch; b++)
                for (int t = _lengths[b]; t < steps; t++) gradEmbedded.Slice((t * batch + b) * dimension, dimension).Clear();
        }

        Embedding.Backward(_ids.AsSpan(0, steps * batch), gradEmbedded);
    }

    private int PaddingFill => Math.Max(0, Embedding.PaddingId);
}
