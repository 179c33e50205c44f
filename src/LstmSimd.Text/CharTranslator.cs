using System.Text;
using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>
/// A character-level sequence-to-sequence translator: an encoder LSTM reads the source as one-hot characters, its final
/// state starts a decoder LSTM that reads the previous target character (one-hot), and at each step Luong dot attention
/// over the encoder's outputs gives a context c_t; h̃_t = tanh(W_c·[c_t; h_t] + b_c) and the next character's logits are
/// W_o·h̃_t + b_o. Source characters outside the training vocabulary share one "unknown" input; target class 0 ends
/// the sentence, and input 0 starts it.
/// </summary>
public sealed class CharTranslator
{
    /// <summary>The <c>__metadata__</c> key of a translator checkpoint.</summary>
    public const string MetadataKey = "char_translator";

    /// <summary>Wraps trained parameters (used, not copied).</summary>
    public CharTranslator(CharVocabulary source, CharVocabulary target, LstmWeights encoder, LstmWeights decoder, LinearHead combine, LinearHead output)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(combine);
        ArgumentNullException.ThrowIfNull(output);
        int h = encoder.Spec.OutputSize;
        if (encoder.Spec.InputSize != source.Count + 1 || encoder.Spec.NumLayers != 1 || encoder.Spec.Directions != 1)
            throw new ArgumentException($"The encoder must be one unidirectional layer over {source.Count + 1} inputs (the source characters and 'unknown'); it is {encoder.Spec.NumLayers} layer(s) over {encoder.Spec.InputSize}.");
        if (decoder.Spec.InputSize != target.Count + 1 || decoder.Spec.OutputSize != h || decoder.Spec.HiddenSize != encoder.Spec.HiddenSize || decoder.Spec.NumLayers != 1 || decoder.Spec.Directions != 1)
            throw new ArgumentException($"The decoder must be one layer of {h} units over {target.Count + 1} inputs (start and the target characters).");
        if (combine.InputSize != 2 * h || combine.OutputSize != h || output.InputSize != h || output.OutputSize != target.Count + 1)
            throw new ArgumentException($"The heads must map [context; h] {2 * h} → {h} and {h} → {target.Count + 1} classes (end and the target characters).");
        SourceVocabulary = source;
        TargetVocabulary = target;
        Encoder = encoder;
        Decoder = decoder;
        Combine = combine;
        Output = output;
        _encoderModel = LstmModel.Create(encoder);
        _decoderModel = LstmModel.Create(decoder);
    }

    private readonly LstmModel _encoderModel, _decoderModel;

    /// <summary>The source characters (input i is character i; the last input is any other character).</summary>
    public CharVocabulary SourceVocabulary { get; }

    /// <summary>The target characters (class i + 1 and decoder input i + 1 are character i).</summary>
    public CharVocabulary TargetVocabulary { get; }

    /// <summary>The encoder LSTM.</summary>
    public LstmWeights Encoder { get; }

    /// <summary>The decoder LSTM.</summary>
    public LstmWeights Decoder { get; }

    /// <summary>[context; h] → the attentional hidden state (before its tanh).</summary>
    public LinearHead Combine { get; }

    /// <summary>The attentional hidden state → next-character logits.</summary>
    public LinearHead Output { get; }

    /// <summary>Hidden units of both LSTMs.</summary>
    public int HiddenSize => Encoder.Spec.HiddenSize;

    /// <summary>Writes the one-hot source into <paramref name="destination"/> [length, inputs] (cleared first).</summary>
    internal static void OneHotSource(CharVocabulary vocabulary, string source, Span<float> destination)
    {
        int inputs = vocabulary.Count + 1;
        destination.Clear();
        for (int t = 0; t < source.Length; t++)
            destination[t * inputs + (vocabulary.Contains(source[t]) ? vocabulary.Encode(source[t].ToString())[0] : vocabulary.Count)] = 1;
    }

    /// <summary>
    /// Translates <paramref name="source"/>: greedy with <paramref name="beamWidth"/> 1, otherwise beam search whose finished
    /// hypotheses are ranked by log-probability / length^<paramref name="lengthPenalty"/> (length in characters, the end
    /// included; 0 ranks by raw log-probability, which favours short outputs). At most <paramref name="maxLength"/>
    /// characters (default: twice the source plus 10).
    /// </summary>
    public string Translate(string source, int beamWidth = 1, double lengthPenalty = 1, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (beamWidth is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(beamWidth), beamWidth, "The beam width must be in [1, 64].");
        if (!(lengthPenalty >= 0 && double.IsFinite(lengthPenalty))) throw new ArgumentOutOfRangeException(nameof(lengthPenalty), lengthPenalty, "The length penalty must be 0 or more.");
        int limit = maxLength ?? 2 * source.Length + 10;
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        if (source.Length == 0) return "";
        int h = HiddenSize, s = source.Length, vIn = TargetVocabulary.Count + 1, classes = vIn;
        var encoderInput = new float[s * (SourceVocabulary.Count + 1)];
        OneHotSource(SourceVocabulary, source, encoderInput);
        float[] keys = new float[s * h], hState = new float[beamWidth * h], cState = new float[beamWidth * h];
        using (LstmSession encoder = _encoderModel.CreateSession(1, s))
            encoder.Forward(encoderInput, s, 1, keys, hState.AsSpan(0, h), cState.AsSpan(0, h));

        var beams = new List<(List<int> Ids, double LogProb)> { ([], 0) };
        var finished = new List<(List<int> Ids, double Score)>();
        using LstmSession decoder = _decoderModel.CreateSession(beamWidth, 1);
        float[] input = new float[beamWidth * vIn], outputs = new float[beamWidth * h], hNext = new float[hState.Length], cNext = new float[cState.Length];
        float[] weights = new float[s], concat = new float[2 * h], hidden = new float[h], logits = new float[classes];
        var candidates = new List<(int Beam, int Class, double LogProb)>();
        for (int step = 0; step <= limit && beams.Count > 0 && finished.Count < beamWidth; step++)
        {
            int m = beams.Count;
            Array.Clear(input);
            for (int b = 0; b < m; b++) input[b * vIn + (beams[b].Ids.Count == 0 ? 0 : beams[b].Ids[^1])] = 1;
            decoder.Forward(input.AsSpan(0, m * vIn), 1, m, outputs.AsSpan(0, m * h), hNext.AsSpan(0, m * h), cNext.AsSpan(0, m * h), hState.AsSpan(0, m * h), cState.AsSpan(0, m * h));
            candidates.Clear();
            for (int b = 0; b < m; b++)
            {
                ReadOnlySpan<float> query = outputs.AsSpan(b * h, h);
                LuongAttention.Forward(query, keys, weights, concat.AsSpan(0, h));
                query.CopyTo(concat.AsSpan(h));
                Combine.Apply(concat, 1, hidden);
                for (int i = 0; i < h; i++) hidden[i] = MathF.Tanh(hidden[i]);
                Output.Apply(hidden, 1, logits);
                double logSum = CharLanguageModel.LogSumExp(logits);
                // Past the length limit only the end may be chosen.
                for (int k = step == limit ? 0 : classes - 1; k >= 0; k--) candidates.Add((b, k, beams[b].LogProb + logits[k] - logSum));
            }

            candidates.Sort((x, y) => y.LogProb.CompareTo(x.LogProb));
            var next = new List<(List<int> Ids, double LogProb)>();
            var nextH = new float[hState.Length];
            var nextC = new float[cState.Length];
            foreach ((int beam, int k, double logProb) in candidates)
            {
                if (next.Count + finished.Count >= beamWidth) break;
                if (k == 0)
                {
                    finished.Add((beams[beam].Ids, logProb / Math.Pow(beams[beam].Ids.Count + 1, lengthPenalty)));
                    continue;
                }

                hNext.AsSpan(beam * h, h).CopyTo(nextH.AsSpan(next.Count * h));
                cNext.AsSpan(beam * h, h).CopyTo(nextC.AsSpan(next.Count * h));
                next.Add(([.. beams[beam].Ids, k], logProb));
            }

            beams = next;
            hState = nextH;
            cState = nextC;
        }

        List<int> best = finished.Count > 0 ? finished.MaxBy(f => f.Score).Ids : beams.MaxBy(b => b.LogProb).Ids;
        var text = new StringBuilder(best.Count);
        foreach (int k in best) text.Append(TargetVocabulary.Characters[k - 1]);
        return text.ToString();
    }

    /// <summary>Writes a checkpoint (atomically): both LSTMs under PyTorch's names with prefixes <c>encoder.</c> and <c>decoder.</c>, the heads, and the vocabularies under <c>__metadata__.char_translator</c>.</summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var writer = new SafetensorsWriter();
        foreach (Parameter p in Parameters(Encoder, Decoder, Combine, Output).Parameters) writer.Add(p.Name, p.Values, p.Values.Length);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("source_vocabulary", SourceVocabulary.Characters);
            w.WriteString("target_vocabulary", TargetVocabulary.Characters);
            w.WriteNumber("hidden_size", HiddenSize);
            w.WriteString("attention", "luong-dot");
            w.WriteEndObject();
        }

        writer.AddMetadata(MetadataKey, Encoding.UTF8.GetString(stream.ToArray())).Save(path);
    }

    /// <summary>Loads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable, not a translator, or a tensor is missing or mis-sized.</exception>
    public static CharTranslator Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        try
        {
            return LoadUnlabelled(path);
        }
        catch (ModelFormatException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }

    private static CharTranslator LoadUnlabelled(string path)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(MetadataKey, out string? json))
            throw new ModelFormatException($"{path} is not a translator checkpoint (no __metadata__.{MetadataKey}).");
        CharVocabulary source, target;
        int hidden;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            source = new CharVocabulary(root.GetProperty("source_vocabulary").GetString()!);
            target = new CharVocabulary(root.GetProperty("target_vocabulary").GetString()!);
            hidden = root.GetProperty("hidden_size").GetInt32();
            if (hidden is < 1 or > 1 << 14) throw new ArgumentException($"hidden_size {hidden} is outside [1, 16384].");
            if (root.GetProperty("attention").GetString() != "luong-dot") throw new ArgumentException("only Luong dot attention is known.");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException)
        {
            throw new ModelFormatException($"{path}: __metadata__.{MetadataKey} is malformed: {e.Message}", e);
        }

        var model = Create(source, target, hidden, seed: 0);
        foreach (Parameter p in Parameters(model.Encoder, model.Decoder, model.Combine, model.Output).Parameters)
        {
            if (!file.TryGetTensor(p.Name, out SafetensorsTensorInfo? tensor)) throw new ModelFormatException($"{path}: the translator's tensor {p.Name} is missing.");
            if (tensor.ElementCount != p.Values.Length) throw new ModelFormatException($"{path}: {p.Name} holds {tensor.ElementCount} values; the model's vocabularies and hidden size make it {p.Values.Length}.");
            file.ReadSingles(tensor, p.Values);
            foreach (float v in p.Values)
                if (!float.IsFinite(v)) throw new ModelFormatException($"{path}: {p.Name} holds a non-finite value.");
        }

        return new CharTranslator(source, target, model.Encoder, model.Decoder, model.Combine, model.Output);
    }

    /// <summary>A freshly initialised translator (LSTMs as <see cref="LstmWeights.CreateRandom"/> with a forget-gate bias of 1, heads as PyTorch's <c>nn.Linear</c>).</summary>
    internal static CharTranslator Create(CharVocabulary source, CharVocabulary target, int hidden, int seed)
    {
        LstmWeights encoder = LstmWeights.CreateRandom(new LstmSpec(source.Count + 1, hidden), seed, forgetBias: 1);
        LstmWeights decoder = LstmWeights.CreateRandom(new LstmSpec(target.Count + 1, hidden), seed + 1, forgetBias: 1);
        var random = new SeededRandom((ulong)seed + 2);
        var combine = new TrainableLinearHead(2 * hidden, hidden, random);
        var output = new TrainableLinearHead(hidden, target.Count + 1, random);
        return new CharTranslator(source, target, encoder, decoder, new LinearHead(2 * hidden, hidden, combine.Weight, combine.Bias), new LinearHead(hidden, target.Count + 1, output.Weight, output.Bias));
    }

    /// <summary>Every parameter under its checkpoint name (the gradients are throwaway zeros).</summary>
    private static ParameterSet Parameters(LstmWeights encoder, LstmWeights decoder, LinearHead combine, LinearHead output)
    {
        var set = new ParameterSet();
        set.Add(encoder, LstmWeights.CreateZero(encoder.Spec), "encoder.");
        set.Add(decoder, LstmWeights.CreateZero(decoder.Spec), "decoder.");
        new TrainableLinearHead(combine.InputSize, combine.OutputSize, combine.Weight, combine.Bias).AddTo(set, "combine.");
        new TrainableLinearHead(output.InputSize, output.OutputSize, output.Weight, output.Bias).AddTo(set, "output.");
        return set;
    }
}
