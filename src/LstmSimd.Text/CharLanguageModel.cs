using System.Text;
using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>
/// A character-level language model: an LSTM over one-hot characters with a linear head giving the logits of
/// the next character. Runs on the fast path; evaluation and sampling allocate only their results.
/// </summary>
public sealed class CharLanguageModel
{
    /// <summary>The <c>__metadata__</c> key of a character-model checkpoint.</summary>
    public const string MetadataKey = "char_model";

    /// <summary>Wraps trained parameters (used, not copied); <paramref name="source"/> records the text they were trained on, when known.</summary>
    public CharLanguageModel(CharVocabulary vocabulary, LstmWeights weights, LinearHead head, CharTextSource? source = null)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(head);
        if (weights.Spec.InputSize != vocabulary.Count || head.OutputSize != vocabulary.Count || head.InputSize != weights.Spec.OutputSize)
            throw new ArgumentException($"The LSTM takes {weights.Spec.InputSize} inputs and the head maps {head.InputSize} → {head.OutputSize}; the vocabulary holds {vocabulary.Count} characters.");
        Vocabulary = vocabulary;
        Weights = weights;
        Head = head;
        Source = source;
        Model = LstmModel.Create(weights);
    }

    /// <summary>The text the model was trained on (name, hash, length), or null for a model saved without it.</summary>
    public CharTextSource? Source { get; }

    /// <summary>The characters.</summary>
    public CharVocabulary Vocabulary { get; }

    /// <summary>The LSTM's parameters.</summary>
    public LstmWeights Weights { get; }

    /// <summary>Hidden output → next-character logits.</summary>
    public LinearHead Head { get; }

    /// <summary>The packed fast-path model.</summary>
    public LstmModel Model { get; }

    /// <summary>Bits per character on <paramref name="ids"/>, read as <paramref name="streams"/> contiguous streams in chunks of <paramref name="chunk"/> steps, state carried across chunks.</summary>
    public double BitsPerChar(ReadOnlySpan<int> ids, int streams = 16, int chunk = 100)
    {
        int v = Vocabulary.Count, h = Weights.Spec.OutputSize, length = (ids.Length - 1) / streams;
        if (length < 1) throw new ArgumentException("The text is too short to evaluate.", nameof(ids));
        int ld = Weights.Spec.NumLayers;
        using LstmSession session = Model.CreateSession(streams, chunk);
        int characters = Sizes.Elements("characters chunk × streams × vocabulary", chunk, streams, v);
        float[] input = new float[characters], output = new float[Sizes.Elements("outputs chunk × streams × D·H_out", chunk, streams, h)], logits = new float[characters];
        float[] hState = new float[Sizes.Elements("h layers × streams × H_out", ld, streams, h)], cState = new float[Sizes.Elements("c layers × streams × H", ld, streams, Weights.Spec.HiddenSize)];
        float[] hNext = new float[hState.Length], cNext = new float[cState.Length];
        double nats = 0;
        long count = 0;
        for (int start = 0; start < length; start += chunk)
        {
            int steps = Math.Min(chunk, length - start);
            Array.Clear(input);
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < streams; b++)
                    input[(t * streams + b) * v + ids[b * length + start + t]] = 1;
            session.Forward(input.AsSpan(0, steps * streams * v), steps, streams, output.AsSpan(0, steps * streams * h), hNext, cNext,
                start == 0 ? default : hState, start == 0 ? default : cState);
            (hState, hNext) = (hNext, hState);
            (cState, cNext) = (cNext, cState);
            Head.Apply(output.AsSpan(0, steps * streams * h), steps * streams, logits.AsSpan(0, steps * streams * v));
            for (int t = 0; t < steps; t++)
            {
                for (int b = 0; b < streams; b++)
                {
                    ReadOnlySpan<float> z = logits.AsSpan((t * streams + b) * v, v);
                    nats += LogSumExp(z) - z[ids[b * length + start + t + 1]];
                    count++;
                }
            }
        }

        return nats / count / Math.Log(2);
    }

    /// <summary>Feeds <paramref name="prime"/> (empty: starts as after a line break, or a space, or the first character the model knows), then samples <paramref name="length"/> characters at <paramref name="temperature"/> (lower: safer, higher: wilder).</summary>
    public string Sample(string prime, int length, double temperature, ulong seed)
    {
        ArgumentNullException.ThrowIfNull(prime);
        if (!(temperature > 0)) throw new ArgumentException($"The temperature must be positive; got {temperature}.", nameof(temperature));
        ArgumentOutOfRangeException.ThrowIfNegative(length);
        IReadOnlyList<char> missing = Vocabulary.Missing(prime);
        if (missing.Count > 0)
            throw new ArgumentException($"The prime holds characters the model never saw in training: {CharVocabulary.Describe(missing)}.", nameof(prime));
        int v = Vocabulary.Count;
        int[] primeIds = prime.Length > 0 ? Vocabulary.Encode(prime) : [StartCharacter()];
        using LstmSession session = Model.CreateSession(1, 1);
        float[] input = new float[v], output = new float[Weights.Spec.OutputSize], logits = new float[v];
        double[] p = new double[v];
        var random = new SeededRandom(seed);
        var text = new StringBuilder(prime);
        int next = primeIds[0];
        for (int i = 0; i < primeIds.Length + length - 1; i++)
        {
            int current = i < primeIds.Length ? primeIds[i] : next;
            Array.Clear(input);
            input[current] = 1;
            session.Step(input, 1, output);
            if (i < primeIds.Length - 1) continue;
            Head.Apply(output, 1, logits);
            double max = double.NegativeInfinity, sum = 0;
            for (int k = 0; k < v; k++) max = Math.Max(max, logits[k] / temperature);
            for (int k = 0; k < v; k++) sum += p[k] = Math.Exp(logits[k] / temperature - max);
            double u = random.NextDouble() * sum;
            next = v - 1;
            for (int k = 0; k < v; k++)
            {
                u -= p[k];
                if (u <= 0) { next = k; break; }
            }

            text.Append(Vocabulary.Characters[next]);
        }

        return text.ToString();
    }

    /// <summary>What an empty prime starts from: a line break, else a space, else the first character the model knows.</summary>
    private int StartCharacter()
    {
        foreach (char c in "\n ")
            if (Vocabulary.Contains(c)) return Vocabulary.Encode(c.ToString())[0];
        return 0;
    }

    /// <summary>Writes a checkpoint (atomically) with the vocabulary and the text's source under <c>__metadata__.char_model</c>.</summary>
    public void Save(string path) => LstmModelFile.Save(path, Weights, Head, MetadataKey, MetadataJson());

    /// <summary>Loads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable or not a character model.</exception>
    public static CharLanguageModel Load(string path)
    {
        (ImportedLstm model, string json) = LstmModelFile.Load(path, MetadataKey, "character language model");
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            CharTextSource? source = null;
            if (root.TryGetProperty("source", out JsonElement s))
                source = new CharTextSource(s.GetProperty("name").GetString()!, s.GetProperty("sha256").GetString()!, s.GetProperty("characters").GetInt64());
            return new CharLanguageModel(new CharVocabulary(root.GetProperty("vocabulary").GetString()!), model.Weights, model.Head!, source);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new ModelFormatException($"{path}: __metadata__.char_model is malformed: {e.Message}", e);
        }
    }

    private string MetadataJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("vocabulary", Vocabulary.Characters);
            if (Source is not null)
            {
                w.WriteStartObject("source");
                w.WriteString("name", Source.Name);
                w.WriteString("sha256", Source.Sha256);
                w.WriteNumber("characters", Source.Characters);
                w.WriteEndObject();
            }

            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>log Σ exp(z), the maximum subtracted first.</summary>
    internal static double LogSumExp(ReadOnlySpan<float> z)
    {
        double max = double.NegativeInfinity, sum = 0;
        foreach (float x in z) max = Math.Max(max, x);
        foreach (float x in z) sum += Math.Exp(x - max);
        return max + Math.Log(sum);
    }
}
