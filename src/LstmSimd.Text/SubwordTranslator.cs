using System.Text;
using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>
/// A sequence-to-sequence translator over byte-pair-encoded subwords shared by source and target: one embedding table
/// feeds a bidirectional encoder LSTM (H/2 units each way, so its outputs are H wide) and a decoder LSTM of H units that
/// starts from the encoder's two final states side by side. At each target step Luong dot attention over the encoder's
/// outputs gives a context c_t; h̃_t = tanh(W_c·[c_t; h_t] + b_c) and the next symbol's logits are W_o·h̃_t + b_o.
/// When the decoder writes the unknown symbol, the source piece it attends to most is copied in its place (Luong et
/// al., 2015), so characters the encoding has no symbol for still reach the translation.
/// </summary>
public sealed class SubwordTranslator
{
    /// <summary>The <c>__metadata__</c> key of a translator checkpoint.</summary>
    public const string MetadataKey = "subword_translator";

    /// <summary>Wraps trained parameters (used, not copied).</summary>
    /// <exception cref="ArgumentException">The parts' shapes do not fit together.</exception>
    public SubwordTranslator(BytePairEncoding encoding, Embedding embedding, LstmWeights encoder, LstmWeights decoder, LinearHead combine, LinearHead output)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        ArgumentNullException.ThrowIfNull(embedding);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(combine);
        ArgumentNullException.ThrowIfNull(output);
        int v = encoding.Count, e = embedding.Dimension, h = decoder.Spec.HiddenSize;
        if (embedding.Count != v) throw new ArgumentException($"The embedding has {embedding.Count} rows; the encoding has {v} ids.");
        if (encoder.Spec.InputSize != e || encoder.Spec.NumLayers != 1 || !encoder.Spec.Bidirectional || encoder.Spec.ProjectionSize != 0 || 2 * encoder.Spec.HiddenSize != h)
            throw new ArgumentException($"The encoder must be one bidirectional layer of H/2 = {h / 2} units each way over the {e}-wide embedding.");
        if (decoder.Spec.InputSize != e || decoder.Spec.NumLayers != 1 || decoder.Spec.Bidirectional || decoder.Spec.ProjectionSize != 0)
            throw new ArgumentException($"The decoder must be one unidirectional layer over the {e}-wide embedding.");
        if (combine.InputSize != 2 * h || combine.OutputSize != h || output.InputSize != h || output.OutputSize != v)
            throw new ArgumentException($"The heads must map [context; h] {2 * h} → {h} and {h} → {v} symbols.");
        Encoding = encoding;
        Embedding = embedding;
        Encoder = encoder;
        Decoder = decoder;
        Combine = combine;
        Output = output;
        _encoderModel = LstmModel.Create(encoder);
        _decoderModel = LstmModel.Create(decoder);
    }

    private readonly LstmModel _encoderModel, _decoderModel;

    /// <summary>The subword units (shared by source and target).</summary>
    public BytePairEncoding Encoding { get; }

    /// <summary>The vectors of the symbols, read by the encoder and the decoder.</summary>
    public Embedding Embedding { get; }

    /// <summary>The bidirectional encoder LSTM.</summary>
    public LstmWeights Encoder { get; }

    /// <summary>The decoder LSTM.</summary>
    public LstmWeights Decoder { get; }

    /// <summary>[context; h] → the attentional hidden state (before its tanh).</summary>
    public LinearHead Combine { get; }

    /// <summary>The attentional hidden state → next-symbol logits.</summary>
    public LinearHead Output { get; }

    /// <summary>Hidden units of the decoder (and of the encoder's two directions together).</summary>
    public int HiddenSize => Decoder.Spec.HiddenSize;

    /// <summary>
    /// Reorders a bidirectional layer's final states [2, B, H/2] into decoder initial states [B, H] (forward half first),
    /// or back with <paramref name="toDecoder"/> false.
    /// </summary>
    internal static void BridgeStates(Span<float> encoderStates, Span<float> decoderStates, int batch, int half, bool toDecoder)
    {
        for (int b = 0; b < batch; b++)
        {
            for (int d = 0; d < 2; d++)
            {
                Span<float> e = encoderStates.Slice((d * batch + b) * half, half), dec = decoderStates.Slice(b * 2 * half + d * half, half);
                if (toDecoder) e.CopyTo(dec);
                else dec.CopyTo(e);
            }
        }
    }

    /// <summary>
    /// Translates <paramref name="source"/>: greedy with <paramref name="beamWidth"/> 1, otherwise beam search whose finished
    /// hypotheses are ranked by log-probability / length^<paramref name="lengthPenalty"/> (length in symbols, the end
    /// included; 0 ranks by raw log-probability, which favours short outputs). At most <paramref name="maxLength"/>
    /// symbols (default: twice the source's plus 10).
    /// </summary>
    /// <exception cref="ArgumentException">The source holds U+2581, which the encoding reserves for spaces.</exception>
    public string Translate(string source, int beamWidth = 1, double lengthPenalty = 1, int? maxLength = null)
    {
        ArgumentNullException.ThrowIfNull(source);
        if (beamWidth is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(beamWidth), beamWidth, "The beam width must be in [1, 64].");
        if (!(lengthPenalty >= 0 && double.IsFinite(lengthPenalty))) throw new ArgumentOutOfRangeException(nameof(lengthPenalty), lengthPenalty, "The length penalty must be 0 or more.");
        if (source.Length == 0) return "";
        (int[] sourceIds, string[] sourcePieces) = Encoding.Encode(source);
        int limit = maxLength ?? 2 * sourceIds.Length + 10;
        ArgumentOutOfRangeException.ThrowIfNegative(limit);
        int h = HiddenSize, e = Embedding.Dimension, s = sourceIds.Length, classes = Encoding.Count;
        var encoderInput = new float[s * e];
        Embedding.Forward(sourceIds, encoderInput);
        float[] keys = new float[s * h], hState = new float[beamWidth * h], cState = new float[beamWidth * h], hFinal = new float[h], cFinal = new float[h];
        using (LstmSession encoder = _encoderModel.CreateSession(1, s))
            encoder.Forward(encoderInput, s, 1, keys, hFinal, cFinal);
        BridgeStates(hFinal, hState.AsSpan(0, h), 1, h / 2, toDecoder: true);
        BridgeStates(cFinal, cState.AsSpan(0, h), 1, h / 2, toDecoder: true);

        // Each hypothesis keeps its symbols and, for each, the source position attended to most (for copying).
        var beams = new List<(List<(int Id, int Attended)> Symbols, double LogProb)> { ([], 0) };
        var finished = new List<(List<(int Id, int Attended)> Symbols, double Score)>();
        using LstmSession decoder = _decoderModel.CreateSession(beamWidth, 1);
        float[] input = new float[beamWidth * e], outputs = new float[beamWidth * h], hNext = new float[hState.Length], cNext = new float[cState.Length];
        float[] weights = new float[s], concat = new float[2 * h], hidden = new float[h], logits = new float[classes];
        int[] previous = new int[beamWidth], attended = new int[beamWidth];
        var candidates = new List<(int Beam, int Class, double LogProb)>();
        for (int step = 0; step <= limit && beams.Count > 0 && finished.Count < beamWidth; step++)
        {
            int m = beams.Count;
            for (int b = 0; b < m; b++) previous[b] = beams[b].Symbols.Count == 0 ? BytePairEncoding.EndId : beams[b].Symbols[^1].Id;
            Embedding.Forward(previous.AsSpan(0, m), input.AsSpan(0, m * e));
            decoder.Forward(input.AsSpan(0, m * e), 1, m, outputs.AsSpan(0, m * h), hNext.AsSpan(0, m * h), cNext.AsSpan(0, m * h), hState.AsSpan(0, m * h), cState.AsSpan(0, m * h));
            candidates.Clear();
            for (int b = 0; b < m; b++)
            {
                ReadOnlySpan<float> query = outputs.AsSpan(b * h, h);
                LuongAttention.Forward(query, keys, weights, concat.AsSpan(0, h));
                attended[b] = ArgMax(weights);
                query.CopyTo(concat.AsSpan(h));
                Combine.Apply(concat, 1, hidden);
                for (int i = 0; i < h; i++) hidden[i] = MathF.Tanh(hidden[i]);
                Output.Apply(hidden, 1, logits);
                double logSum = CharLanguageModel.LogSumExp(logits);
                // Past the length limit only the end may be chosen.
                for (int k = step == limit ? 0 : classes - 1; k >= 0; k--) candidates.Add((b, k, beams[b].LogProb + logits[k] - logSum));
            }

            candidates.Sort((x, y) => y.LogProb.CompareTo(x.LogProb));
            var next = new List<(List<(int Id, int Attended)> Symbols, double LogProb)>();
            var nextH = new float[hState.Length];
            var nextC = new float[cState.Length];
            foreach ((int beam, int k, double logProb) in candidates)
            {
                if (next.Count + finished.Count >= beamWidth) break;
                if (k == BytePairEncoding.EndId)
                {
                    finished.Add((beams[beam].Symbols, logProb / Math.Pow(beams[beam].Symbols.Count + 1, lengthPenalty)));
                    continue;
                }

                hNext.AsSpan(beam * h, h).CopyTo(nextH.AsSpan(next.Count * h));
                cNext.AsSpan(beam * h, h).CopyTo(nextC.AsSpan(next.Count * h));
                next.Add(([.. beams[beam].Symbols, (k, attended[beam])], logProb));
            }

            beams = next;
            hState = nextH;
            cState = nextC;
        }

        List<(int Id, int Attended)> best = finished.Count > 0 ? finished.MaxBy(f => f.Score).Symbols : beams.MaxBy(b => b.LogProb).Symbols;
        return BytePairEncoding.Decode(best.Select(x => x.Id == BytePairEncoding.UnknownId ? sourcePieces[x.Attended] : Encoding.Symbols[x.Id]));
    }

    private static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++)
            if (values[i] > values[best]) best = i;
        return best;
    }

    /// <summary>
    /// Writes a checkpoint (atomically): the embedding as <c>embedding.weight</c>, both LSTMs under PyTorch's names with
    /// prefixes <c>encoder.</c> and <c>decoder.</c>, the heads, and the encoding under <c>__metadata__.subword_translator</c>.
    /// </summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var writer = new SafetensorsWriter();
        foreach (Parameter p in Parameters(Embedding, Encoder, Decoder, Combine, Output).Parameters) writer.Add(p.Name, p.Values, p.Values.Length);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteString("characters", Encoding.Characters);
            w.WriteStartArray("merges");
            foreach ((string left, string right) in Encoding.Merges)
            {
                w.WriteStartArray();
                w.WriteStringValue(left);
                w.WriteStringValue(right);
                w.WriteEndArray();
            }

            w.WriteEndArray();
            w.WriteNumber("embedding_size", Embedding.Dimension);
            w.WriteNumber("hidden_size", HiddenSize);
            w.WriteString("attention", "luong-dot");
            w.WriteEndObject();
        }

        writer.AddMetadata(MetadataKey, System.Text.Encoding.UTF8.GetString(stream.ToArray())).Save(path);
    }

    /// <summary>Loads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable, not a translator, or a tensor is missing, mis-sized or not finite.</exception>
    public static SubwordTranslator Load(string path)
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

    private static SubwordTranslator LoadUnlabelled(string path)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(MetadataKey, out string? json))
            throw new ModelFormatException($"{path} is not a translator checkpoint (no __metadata__.{MetadataKey}).");
        BytePairEncoding encoding;
        int embedding, hidden;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            var merges = new List<(string, string)>();
            foreach (JsonElement merge in root.GetProperty("merges").EnumerateArray())
            {
                if (merge.GetArrayLength() != 2) throw new ArgumentException("a merge is not a pair of symbols.");
                merges.Add((merge[0].GetString()!, merge[1].GetString()!));
            }

            encoding = new BytePairEncoding(root.GetProperty("characters").GetString()!, merges);
            embedding = root.GetProperty("embedding_size").GetInt32();
            hidden = root.GetProperty("hidden_size").GetInt32();
            if (embedding is < 1 or > 1 << 14) throw new ArgumentException($"embedding_size {embedding} is outside [1, 16384].");
            if (hidden is < 2 or > 1 << 14 || hidden % 2 != 0) throw new ArgumentException($"hidden_size {hidden} is not an even number in [2, 16384].");
            if (root.GetProperty("attention").GetString() != "luong-dot") throw new ArgumentException("only Luong dot attention is known.");
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or IndexOutOfRangeException)
        {
            throw new ModelFormatException($"{path}: __metadata__.{MetadataKey} is malformed: {e.Message}", e);
        }

        SubwordTranslator model = Create(encoding, embedding, hidden, seed: 0);
        foreach (Parameter p in Parameters(model.Embedding, model.Encoder, model.Decoder, model.Combine, model.Output).Parameters)
        {
            if (!file.TryGetTensor(p.Name, out SafetensorsTensorInfo? tensor)) throw new ModelFormatException($"{path}: the translator's tensor {p.Name} is missing.");
            if (tensor.ElementCount != p.Values.Length) throw new ModelFormatException($"{path}: {p.Name} holds {tensor.ElementCount} values; the model's encoding and sizes make it {p.Values.Length}.");
            file.ReadSingles(tensor, p.Values);
            foreach (float v in p.Values)
                if (!float.IsFinite(v)) throw new ModelFormatException($"{path}: {p.Name} holds a non-finite value.");
        }

        // Built again: the LSTMs' kernels took their copies of the weights when the random model was made.
        return new SubwordTranslator(encoding, model.Embedding, model.Encoder, model.Decoder, model.Combine, model.Output);
    }

    /// <summary>
    /// A freshly initialised translator: the embedding drawn from N(0, 1) scaled by 1/√E, the LSTMs as
    /// <see cref="LstmWeights.CreateRandom"/> with a forget-gate bias of 1, the heads as PyTorch's <c>nn.Linear</c>.
    /// </summary>
    internal static SubwordTranslator Create(BytePairEncoding encoding, int embeddingSize, int hidden, int seed)
    {
        ArgumentNullException.ThrowIfNull(encoding);
        if (hidden < 2 || hidden % 2 != 0) throw new ArgumentOutOfRangeException(nameof(hidden), hidden, "The hidden size must be even (the encoder gives each direction half).");
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(embeddingSize);
        var random = new SeededRandom((ulong)seed + 2);
        var embedding = new Embedding(encoding.Count, embeddingSize, random);
        // Unit-variance rows would saturate the gates at the start; 1/√E keeps each gate's input sum near unit scale.
        float scale = 1 / MathF.Sqrt(embeddingSize);
        for (int i = 0; i < embedding.Weight.Length; i++) embedding.Weight[i] *= scale;
        LstmWeights encoder = LstmWeights.CreateRandom(new LstmSpec(embeddingSize, hidden / 2, bidirectional: true), seed, forgetBias: 1);
        LstmWeights decoder = LstmWeights.CreateRandom(new LstmSpec(embeddingSize, hidden), seed + 1, forgetBias: 1);
        var combine = new TrainableLinearHead(2 * hidden, hidden, random);
        var output = new TrainableLinearHead(hidden, encoding.Count, random);
        return new SubwordTranslator(encoding, embedding, encoder, decoder, new LinearHead(2 * hidden, hidden, combine.Weight, combine.Bias),
            new LinearHead(hidden, encoding.Count, output.Weight, output.Bias));
    }

    /// <summary>Every parameter under its checkpoint name (the gradients are throwaway zeros).</summary>
    private static ParameterSet Parameters(Embedding embedding, LstmWeights encoder, LstmWeights decoder, LinearHead combine, LinearHead output)
    {
        var set = new ParameterSet();
        set.Add("embedding.weight", embedding.Weight, new float[embedding.Weight.Length]);
        set.Add(encoder, LstmWeights.CreateZero(encoder.Spec), "encoder.");
        set.Add(decoder, LstmWeights.CreateZero(decoder.Spec), "decoder.");
        new TrainableLinearHead(combine.InputSize, combine.OutputSize, combine.Weight, combine.Bias).AddTo(set, "combine.");
        new TrainableLinearHead(output.InputSize, output.OutputSize, output.Weight, output.Bias).AddTo(set, "output.");
        return set;
    }
}
