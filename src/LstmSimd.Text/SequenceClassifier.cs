using System.Text;
using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>
/// A text classifier: tokens → embedding → LSTM (bidirectional or not) → pooling over the text's valid steps → linear
/// head → one logit per class. It carries its tokeniser, vocabulary and class names, so a saved model classifies raw
/// text on its own. Train one with <see cref="ClassifierTraining"/>.
/// </summary>
public sealed class SequenceClassifier
{
    /// <summary>The <c>__metadata__</c> key of a classifier's model file.</summary>
    public const string MetadataKey = "text_classifier";

    private const string EmbeddingTensor = "embedding.weight";
    private const int PredictionBatch = 64;

    /// <summary>Wraps trained parameters (used, not copied).</summary>
    /// <exception cref="ArgumentException">The parts' sizes disagree.</exception>
    public SequenceClassifier(TextTokenizer tokenizer, TokenVocabulary vocabulary, IReadOnlyList<string> labels, int maxTokens,
        float[] embedding, LstmWeights weights, LinearHead head, SequencePooling pooling)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(head);
        ArgumentOutOfRangeException.ThrowIfLessThan(labels.Count, 2);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxTokens);
        if (!Enum.IsDefined(pooling)) throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling.");
        if (labels.Distinct(StringComparer.Ordinal).Count() != labels.Count) throw new ArgumentException("The class names must be distinct.", nameof(labels));
        if (embedding.Length != (long)vocabulary.Count * weights.Spec.InputSize)
            throw new ArgumentException($"The embedding holds {embedding.Length} values; {vocabulary.Count} tokens × the LSTM's {weights.Spec.InputSize} inputs need {(long)vocabulary.Count * weights.Spec.InputSize}.", nameof(embedding));
        if (embedding.AsSpan(0, weights.Spec.InputSize).ContainsAnyExcept(0f))
            throw new ArgumentException("The embedding's row 0, the padding token's, must be zero.", nameof(embedding));
        if (head.InputSize != weights.Spec.OutputSize || head.OutputSize != labels.Count)
            throw new ArgumentException($"The head maps {head.InputSize} → {head.OutputSize}; the LSTM gives {weights.Spec.OutputSize} and there are {labels.Count} classes.", nameof(head));
        Tokenizer = tokenizer;
        Vocabulary = vocabulary;
        Labels = labels;
        MaxTokens = maxTokens;
        EmbeddingTable = embedding;
        Weights = weights;
        Head = head;
        Pooling = pooling;
    }

    /// <summary>How texts are cut into tokens.</summary>
    public TextTokenizer Tokenizer { get; }

    /// <summary>The tokens the model knows.</summary>
    public TokenVocabulary Vocabulary { get; }

    /// <summary>The class names; a class's index is its logit's.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>A text is read up to its first this many tokens.</summary>
    public int MaxTokens { get; }

    /// <summary>The embedding table: [vocabulary, dimension].</summary>
    public float[] EmbeddingTable { get; }

    /// <summary>The LSTM.</summary>
    public LstmWeights Weights { get; }

    /// <summary>Pooled LSTM output → class logits.</summary>
    public LinearHead Head { get; }

    /// <summary>How the LSTM's outputs over a text become one vector.</summary>
    public SequencePooling Pooling { get; }

    /// <summary>The token ids of <paramref name="text"/> as the model reads them (at most <see cref="MaxTokens"/>).</summary>
    public int[] Encode(string text) => Vocabulary.Encode(Tokenizer.Tokenize(text, MaxTokens));

    /// <summary>The class probabilities of each text: [texts, classes]. Texts are run in batches of similar length.</summary>
    public float[][] Probabilities(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int[][] ids = [.. texts.Select(Encode)];
        return ProbabilitiesOfIds(ids);
    }

    /// <summary>The most probable class index of each text.</summary>
    public int[] Predict(IReadOnlyList<string> texts) => [.. Probabilities(texts).Select(ArgMax)];

    /// <summary>The class probabilities of texts already encoded by <see cref="Encode"/>: [texts, classes].</summary>
    public float[][] ProbabilitiesOfIds(IReadOnlyList<int[]> ids)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var result = new float[ids.Count][];
        if (ids.Count == 0) return result;
        int classes = Labels.Count;
        using ClassifierNetwork network = CreateNetwork(Math.Min(PredictionBatch, ids.Count));
        network.Training = false;
        int[] order = [.. Enumerable.Range(0, ids.Count).OrderBy(i => ids[i].Length)];
        float[] probabilities = new float[network.MaxBatch * classes];
        for (int start = 0; start < order.Length; start += network.MaxBatch)
        {
            ReadOnlySpan<int> batch = order.AsSpan(start, Math.Min(network.MaxBatch, order.Length - start));
            ReadOnlySpan<float> logits = network.Forward(ids, batch);
            ClassWeights.Softmax(logits, classes, probabilities);
            for (int b = 0; b < batch.Length; b++) result[batch[b]] = probabilities.AsSpan(b * classes, classes).ToArray();
        }

        return result;
    }

    /// <summary>A network over this model's parameters, which it trains in place (see <see cref="ClassifierNetwork"/>).</summary>
    public ClassifierNetwork CreateNetwork(int maxBatch, double dropout = 0, ulong seed = 0, int threads = 1) =>
        new(new Embedding(Vocabulary.Count, Weights.Spec.InputSize, EmbeddingTable, TokenVocabulary.PaddingId), Weights,
            new TrainableLinearHead(Head.InputSize, Head.OutputSize, Head.Weight, Head.Bias), Pooling, maxBatch, MaxTokens, dropout, seed, threads);

    internal static int ArgMax(float[] values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++) if (values[k] > values[best]) best = k;
        return best;
    }

    /// <summary>A copy whose parameters do not change when this model's are trained further.</summary>
    public SequenceClassifier Clone() => new(Tokenizer, Vocabulary, Labels, MaxTokens, (float[])EmbeddingTable.Clone(), Weights.Clone(),
        new LinearHead(Head.InputSize, Head.OutputSize, (float[])Head.Weight.Clone(), (float[])Head.Bias.Clone()), Pooling);

    /// <summary>
    /// Writes an LstmSimd model file atomically (an interrupted save leaves the previous file whole): the LSTM and head as
    /// in any model file, the embedding as <c>embedding.weight</c>, and the tokeniser, vocabulary, class names and pooling
    /// under <c>__metadata__.text_classifier</c>.
    /// </summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        LstmModelFile.CreateWriter(Weights, Head)
            .Add(EmbeddingTensor, EmbeddingTable, Vocabulary.Count, Weights.Spec.InputSize)
            .AddMetadata(MetadataKey, MetadataJson())
            .Save(path);
    }

    /// <summary>Loads a model file written by <see cref="Save"/>.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable, is not a text classifier, or its parts disagree.</exception>
    public static SequenceClassifier Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        (ImportedLstm model, string json) = LstmModelFile.Load(path, MetadataKey, "text classifier");
        try
        {
            using SafetensorsFile file = SafetensorsFile.Open(path);
            if (!file.TryGetTensor(EmbeddingTensor, out SafetensorsTensorInfo? info))
                throw new ModelFormatException($"{path}: a text classifier holds {EmbeddingTensor}; this file does not.");
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            var kind = Enum.Parse<TokenKind>(root.GetProperty("tokens").GetString()!, ignoreCase: true);
            if (!Enum.IsDefined(kind)) throw new ArgumentException($"Unknown token kind {root.GetProperty("tokens").GetString()}.");
            var tokenizer = new TextTokenizer(kind, root.GetProperty("lowercase").GetBoolean());
            string[] known = [.. root.GetProperty("vocabulary").EnumerateArray().Select(e => e.GetString()!)];
            string[] labels = [.. root.GetProperty("labels").EnumerateArray().Select(e => e.GetString()!)];
            var pooling = Enum.Parse<SequencePooling>(root.GetProperty("pooling").GetString()!, ignoreCase: true);
            if (!Enum.IsDefined(pooling)) throw new ArgumentException($"Unknown pooling {root.GetProperty("pooling").GetString()}.");
            return new SequenceClassifier(tokenizer, new TokenVocabulary(known), labels, root.GetProperty("max_tokens").GetInt32(),
                file.ReadSingles(info), model.Weights, model.Head!, pooling);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ModelFormatException($"{path}: __metadata__.{MetadataKey} or {EmbeddingTensor} is malformed: {e.Message}", e);
        }
    }

    private string MetadataJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("tokens", Tokenizer.Kind.ToString().ToLowerInvariant());
            w.WriteBoolean("lowercase", Tokenizer.Lowercase);
            w.WriteNumber("max_tokens", MaxTokens);
            w.WriteString("pooling", Pooling.ToString().ToLowerInvariant());
            w.WriteStartArray("labels");
            foreach (string label in Labels) w.WriteStringValue(label);
            w.WriteEndArray();
            w.WriteStartArray("vocabulary"); // the known tokens, from id 2 on
            for (int id = 2; id < Vocabulary.Count; id++) w.WriteStringValue(Vocabulary.Tokens[id]);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
