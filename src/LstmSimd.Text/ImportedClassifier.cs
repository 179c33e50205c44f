using LstmSimd.IO;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;
using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>
/// A text classifier trained in another framework, read from its file: embedding → LSTM → pooling over each text's steps →
/// linear head, on token ids. From PyTorch (an <c>nn.Embedding</c>, <c>nn.LSTM</c> and <c>nn.Linear</c> state_dict, <c>.pt</c> or
/// safetensors), ONNX (a <c>Gather</c> of a constant table by token ids feeding an <c>LSTM</c> node, a <c>Gemm</c> or
/// <c>MatMul</c> head) or, through LstmSimd.Keras's <c>KerasTextClassifier</c>, Keras (<c>Embedding</c> → <c>LSTM</c> or
/// <c>Bidirectional(LSTM)</c> → <c>Dense</c>). It runs on the fast kernels and gives the source framework's outputs;
/// <see cref="ToClassifier"/> joins it to a tokeniser and vocabulary so that it classifies raw text, saves, and trains further.
/// What it cannot compute as the source does is refused with the reason.
/// </summary>
public sealed class ImportedClassifier
{
    private const int Batch = 64;
    private const float ProbeTolerance = 1e-4f;

    private ImportedClassifier(Embedding embedding, LstmWeights weights, LinearHead head, SequencePooling pooling, bool skipsPadding, string description)
    {
        Embedding = embedding;
        Weights = weights;
        Head = head;
        Pooling = pooling;
        SkipsPadding = skipsPadding;
        Description = description;
    }

    /// <summary>The embedding table, with the padding id the source declared (−1 for none).</summary>
    public Embedding Embedding { get; }

    /// <summary>The LSTM, in PyTorch's layout and gate order.</summary>
    public LstmWeights Weights { get; }

    /// <summary>Pooled LSTM output → class logits.</summary>
    public LinearHead Head { get; }

    /// <summary>How the LSTM's outputs over a text become one vector.</summary>
    public SequencePooling Pooling { get; }

    /// <summary>
    /// Keras's <c>mask_zero</c>: a step whose token id is 0 is skipped (both directions' states carry over it), as Keras's
    /// masking does. Without it every id is read, the padding id as the zero vector.
    /// </summary>
    public bool SkipsPadding { get; }

    /// <summary>What was read, e.g. <c>PyTorch state_dict: nn.Embedding 'embedding.weight' [17, 5] (padding_idx 0) → …</c>.</summary>
    public string Description { get; }

    /// <summary>The number of classes.</summary>
    public int Classes => Head.OutputSize;

    /// <summary>The logits [classes] of each text of token ids, each text read alone, unpadded, as the source framework reads it.</summary>
    /// <exception cref="ArgumentException">A text is empty (or, with <see cref="SkipsPadding"/>, all padding), or holds an id outside the embedding (named).</exception>
    public float[][] Logits(IReadOnlyList<int[]> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int[][] read = new int[texts.Count][];
        for (int i = 0; i < read.Length; i++)
        {
            int[] text = texts[i] ?? throw new ArgumentNullException(nameof(texts), $"Text {i} is null.");
            read[i] = SkipsPadding ? [.. text.Where(id => id != Embedding.PaddingId)] : text;
            if (read[i].Length == 0)
                throw new ArgumentException(SkipsPadding ? $"Text {i} holds no token but the masked id {Embedding.PaddingId}." : $"Text {i} is empty.", nameof(texts));
        }

        var result = new float[read.Length][];
        if (read.Length == 0) return result;
        using ClassifierNetwork network = new(Embedding, Weights, new TrainableLinearHead(Head.InputSize, Head.OutputSize, Head.Weight, Head.Bias),
            Pooling, Math.Min(Batch, read.Length), read.Max(t => t.Length));
        network.Training = false;
        int[] order = [.. Enumerable.Range(0, read.Length).OrderBy(i => read[i].Length)];
        for (int start = 0; start < order.Length; start += network.MaxBatch)
        {
            ReadOnlySpan<int> batch = order.AsSpan(start, Math.Min(network.MaxBatch, order.Length - start));
            ReadOnlySpan<float> logits = network.Forward(read, batch);
            for (int b = 0; b < batch.Length; b++) result[batch[b]] = logits.Slice(b * Classes, Classes).ToArray();
        }

        return result;
    }

    /// <summary>The softmax of <see cref="Logits"/>: the class probabilities of each text.</summary>
    public float[][] Probabilities(IReadOnlyList<int[]> texts)
    {
        float[][] logits = Logits(texts);
        foreach (float[] row in logits) ClassWeights.Softmax(row, Classes, row);
        return logits;
    }

    /// <summary>
    /// A <see cref="SequenceClassifier"/> over copies of these parameters that reads raw text: <paramref name="vocabulary"/>
    /// must give every token the id the source model was trained with (its id 0 pads, id 1 is the unknown token), one per
    /// embedding row.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// The vocabulary's size is not the embedding's, the model does not pad with id 0, or it masks padding (a
    /// <see cref="SequenceClassifier"/> reads every step it is given).
    /// </exception>
    public SequenceClassifier ToClassifier(TextTokenizer tokenizer, TokenVocabulary vocabulary, IReadOnlyList<string> labels, int maxTokens)
    {
        ArgumentNullException.ThrowIfNull(vocabulary);
        ArgumentNullException.ThrowIfNull(labels);
        if (vocabulary.Count != Embedding.Count)
            throw new ArgumentException($"The vocabulary holds {vocabulary.Count} ids; the embedding has {Embedding.Count} rows.", nameof(vocabulary));
        if (Embedding.PaddingId != TokenVocabulary.PaddingId)
            throw new ArgumentException($"A text classifier pads with id {TokenVocabulary.PaddingId}; this model's padding id is {(Embedding.PaddingId < 0 ? "not set" : Embedding.PaddingId)}.", nameof(vocabulary));
        if (labels.Count != Classes) throw new ArgumentException($"The model has {Classes} classes; {labels.Count} names were given.", nameof(labels));
        return new SequenceClassifier(tokenizer, vocabulary, labels, maxTokens, (float[])Embedding.Weight.Clone(), Weights.Clone(),
            new LinearHead(Head.InputSize, Head.OutputSize, (float[])Head.Weight.Clone(), (float[])Head.Bias.Clone()), Pooling);
    }

    /// <summary>
    /// Reads a PyTorch state_dict (<c>torch.save(model.state_dict())</c>'s <c>.pt</c>, or safetensors) holding an
    /// <c>nn.Embedding</c>, an <c>nn.LSTM</c> and an <c>nn.Linear</c> head. A state_dict does not record the module's
    /// <c>padding_idx</c> nor how its forward pools the LSTM's outputs: give both as the model's code has them.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="pooling">What the model's forward does with the LSTM's outputs: the last step (the reverse direction's first), their mean or their maximum.</param>
    /// <param name="paddingId">The embedding's <c>padding_idx</c>, or −1 for none.</param>
    /// <param name="embeddingName">The table's name in the state_dict.</param>
    /// <param name="lstmPrefix">The LSTM's prefix (<c>lstm.</c>), or null to find the only one.</param>
    /// <param name="headPrefix">The head's prefix (<c>head.</c> reads <c>head.weight</c> and <c>head.bias</c>).</param>
    /// <exception cref="ModelFormatException">The file is unreadable, a part is missing or mis-shaped, or the parts disagree (named).</exception>
    public static ImportedClassifier FromPyTorch(string path, SequencePooling pooling, int paddingId = -1, string embeddingName = "embedding.weight",
        string? lstmPrefix = null, string headPrefix = "head.")
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(embeddingName);
        ArgumentNullException.ThrowIfNull(headPrefix);
        if (!Enum.IsDefined(pooling)) throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling.");
        string where = UserText.Quote(path);
        using SafetensorsFile file = PyTorchStateDict.Open(path);
        ImportedLstm lstm = PyTorchStateDict.Import(file, lstmPrefix, headPrefix);
        if (lstm.IsCell) throw new ModelFormatException($"{where}: the recurrent module is an nn.LSTMCell; a classifier reads its texts with an nn.LSTM.");
        if (!file.TryGetTensor(embeddingName, out SafetensorsTensorInfo? info))
            throw new ModelFormatException($"{where} holds no {UserText.Quote(embeddingName)} (the nn.Embedding's weight); name it with embeddingName. It holds {UserText.QuoteList([.. file.Tensors.Select(t => t.Name)])}.");
        if (info.Shape.Count != 2)
            throw new ModelFormatException($"{where}: {UserText.Quote(embeddingName)} is {info.ShapeText}; an nn.Embedding's weight is [num_embeddings, embedding_dim].");
        float[] table = file.ReadSingles(info);
        return Create(where, $"PyTorch state_dict: nn.Embedding {UserText.Quote(embeddingName)} {info.ShapeText}{PaddingText(paddingId)} → {lstm.Description} → {pooling} pooling",
            table, (int)info.Shape[0], (int)info.Shape[1], paddingId, lstm.Weights, lstm.Head!, pooling, skipsPadding: false);
    }

    /// <summary>
    /// Reads an ONNX model (as <c>torch.onnx.export</c> writes one) whose single <c>LSTM</c> node reads a <c>Gather</c> of a
    /// constant table by the token-id input, and whose head is the one <c>Gemm</c> (or <c>MatMul</c>, then <c>Add</c>) with
    /// constant weights. The steps between the LSTM and the head are not parsed: the pooling and the head's orientation are
    /// found by running the whole graph on probe texts with LstmSimd's ONNX runner and keeping the reading that gives its
    /// output (logits, softmax or log-softmax) within 1e-4; a graph that runner cannot run, or that no reading matches, is
    /// refused. ONNX does not record a padding id: give the model's.
    /// </summary>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <param name="paddingId">The embedding's padding id (its row must be zero), or −1 for none.</param>
    /// <exception cref="ModelFormatException">The file is unreadable, or its graph is not such a classifier (the reason is named).</exception>
    public static ImportedClassifier FromOnnx(string path, int paddingId = -1)
    {
        ArgumentNullException.ThrowIfNull(path);
        string where = UserText.Quote(path);
        OnnxModel model = OnnxModel.Load(path);
        if (model.LstmNodes.Count != 1)
            throw new ModelFormatException($"{where} has {model.LstmNodes.Count} LSTM nodes; a classifier import reads one (a one-layer LSTM, either direction or both).");
        OnnxLstmNode lstm = model.LstmNodes[0];
        if (lstm.Model is null) throw new ModelFormatException($"{where}: the LSTM node's weights are computed at run time; an import needs them as constants.");
        OnnxNodeInfo gather = model.Nodes.FirstOrDefault(n => n.OpType == "Gather" && n.Outputs.Contains(lstm.Input))
            ?? throw new ModelFormatException($"{where}: the LSTM reads {UserText.Quote(lstm.Input)}, which no Gather of an embedding table writes.");
        if (!model.TryGetConstant(gather.Inputs[0], out OnnxTensor? table) || table.Kind != OnnxElementKind.Float || table.Shape.Count != 2)
            throw new ModelFormatException($"{where}: the Gather feeding the LSTM reads {UserText.Quote(gather.Inputs[0])}, which is not a constant [rows, dimension] float table.");
        string tokens = gather.Inputs[1];
        if (!model.Inputs.Contains(tokens))
            throw new ModelFormatException($"{where}: the Gather feeding the LSTM is indexed by {UserText.Quote(tokens)}, which is not a graph input.");

        var heads = new List<(OnnxNodeInfo Node, OnnxTensor Weight, OnnxTensor? Bias)>();
        foreach (OnnxNodeInfo node in model.Nodes)
        {
            if (node.OpType is not ("Gemm" or "MatMul") || node.Inputs.Count < 2 || !model.TryGetConstant(node.Inputs[1], out OnnxTensor? weight)) continue;
            OnnxTensor? bias = null;
            if (node.OpType == "Gemm" && node.Inputs.Count > 2 && node.Inputs[2].Length > 0) model.TryGetConstant(node.Inputs[2], out bias);
            if (node.OpType == "MatMul")
            {
                OnnxNodeInfo? add = model.Nodes.FirstOrDefault(n => n.OpType == "Add" && n.Inputs.Contains(node.Outputs[0]));
                string? other = add?.Inputs.FirstOrDefault(i => i != node.Outputs[0]);
                if (other is not null) model.TryGetConstant(other, out bias);
            }

            heads.Add((node, weight, bias));
        }

        if (heads.Count != 1)
            throw new ModelFormatException($"{where} has {heads.Count} Gemm or MatMul nodes with constant weights; a classifier import reads one, the head.");
        (OnnxNodeInfo headNode, OnnxTensor headWeight, OnnxTensor? headBias) = heads[0];
        int features = lstm.Model.Weights.Spec.OutputSize;
        var candidates = new List<LinearHead>();
        if (headWeight.Kind == OnnxElementKind.Float && headWeight.Shape.Count == 2 && (headBias is null || headBias.Kind == OnnxElementKind.Float))
        {
            int rows = headWeight.Shape[0], columns = headWeight.Shape[1];
            float[] bias = headBias?.Floats ?? [];
            if (columns == features && (bias.Length is 0 || bias.Length == rows)) candidates.Add(new LinearHead(features, rows, (float[])headWeight.Floats.Clone(), Copy(bias)));
            if (rows == features && (bias.Length is 0 || bias.Length == columns)) candidates.Add(new LinearHead(features, columns, Transpose(headWeight.Floats, rows, columns), Copy(bias)));
        }

        if (candidates.Count == 0)
            throw new ModelFormatException($"{where}: the head {UserText.Quote(headNode.Name)} has weights {headWeight.ShapeText}{(headBias is null ? "" : $" and bias {headBias.ShapeText}")}; the LSTM gives {features} features.");

        int vocabulary = table.Shape[0], dimension = table.Shape[1];
        string description = $"ONNX: Gather {UserText.Quote(gather.Inputs[0])} {table.ShapeText}{PaddingText(paddingId)} → {lstm.Description} → ";
        OnnxGraph graph;
        try
        {
            graph = OnnxGraph.Create(model);
        }
        catch (OnnxFormatException e)
        {
            throw new ModelFormatException($"{where}: the pooling between the LSTM and the head is found by running the graph, and LstmSimd's ONNX runner cannot run it ({e.Message}); import the PyTorch state_dict instead, naming the pooling.", e);
        }

        using var run = graph;
        string? failure = null;
        foreach (LinearHead head in candidates)
        {
            foreach (SequencePooling pooling in Enum.GetValues<SequencePooling>())
            {
                ImportedClassifier candidate = Create(where, description + $"{pooling} pooling → {headNode.OpType} head {UserText.Quote(headNode.Name)}",
                    (float[])table.Floats.Clone(), vocabulary, dimension, paddingId, lstm.Model.Weights, head, pooling, skipsPadding: false);
                failure = candidate.ProbeAgainst(graph, tokens);
                if (failure is null) return candidate;
            }
        }

        throw new ModelFormatException($"{where}: the steps between the LSTM and the head are not a pooling LstmSimd reads (last step, mean or max) or the graph does more: {failure}");
    }

    /// <summary>
    /// Wraps parts that a reader of another format took from a file (LstmSimd.Keras's <c>KerasTextClassifier</c> is one),
    /// checking that they fit together: the embedding table [rows, dimension] (used, not copied), the LSTM (standard cell)
    /// whose input size is the dimension, and the head over its outputs. Keras's <c>mask_zero</c> is
    /// <paramref name="paddingId"/> 0 with <paramref name="skipsPadding"/>.
    /// </summary>
    /// <param name="source">The file, as messages name it.</param>
    /// <param name="description">What was read.</param>
    /// <param name="table">The embedding table [rows, dimension].</param>
    /// <param name="rows">The number of token ids.</param>
    /// <param name="dimension">The length of each vector.</param>
    /// <param name="paddingId">The padding id, whose row must be zero, or −1.</param>
    /// <param name="weights">The LSTM.</param>
    /// <param name="head">Pooled outputs → logits.</param>
    /// <param name="pooling">How the outputs over a text become one vector.</param>
    /// <param name="skipsPadding">Whether steps holding the padding id are skipped rather than read.</param>
    /// <exception cref="ModelFormatException">The parts do not fit together (named).</exception>
    public static ImportedClassifier Create(string source, string description, float[] table, int rows, int dimension, int paddingId, LstmWeights weights, LinearHead head,
        SequencePooling pooling, bool skipsPadding)
    {
        ArgumentNullException.ThrowIfNull(source);
        ArgumentNullException.ThrowIfNull(description);
        ArgumentNullException.ThrowIfNull(table);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(head);
        if (!Enum.IsDefined(pooling)) throw new ArgumentOutOfRangeException(nameof(pooling), pooling, "Unknown pooling.");
        string where = source;
        if (rows < 1 || dimension < 1 || table.Length != (long)rows * dimension)
            throw new ModelFormatException($"{where}: the embedding table holds {table.Length} values, not [{rows}, {dimension}].");
        if (skipsPadding && paddingId < 0) throw new ArgumentException("Skipping padding needs a padding id.", nameof(skipsPadding));
        LstmSpec spec = weights.Spec;
        if (!spec.Cell.IsStandard)
            throw new ModelFormatException($"{where}: the LSTM uses cell variants (peepholes, clipping, other activations); a text classifier runs the standard cell.");
        if (dimension != spec.InputSize)
            throw new ModelFormatException($"{where}: the embedding gives vectors of {dimension}; the LSTM takes {spec.InputSize} inputs.");
        if (head.InputSize != spec.OutputSize)
            throw new ModelFormatException($"{where}: the head takes {head.InputSize} features; the LSTM gives {spec.OutputSize}.");
        if (paddingId < -1 || paddingId >= rows)
            throw new ModelFormatException($"{where}: the padding id {paddingId} is outside the embedding's {rows} rows.");
        if (paddingId >= 0 && table.AsSpan(paddingId * dimension, dimension).ContainsAnyExcept(0f))
            throw new ModelFormatException($"{where}: the embedding's row {paddingId}, the padding id's, is not zero; a padding id reads as zeros (PyTorch keeps its row zero), so this table was not trained with that padding id.");
        return new ImportedClassifier(new Embedding(rows, dimension, table, paddingId), weights, head, pooling, skipsPadding, description);
    }

    /// <summary>Null when the graph's output for each probe text is this model's logits, softmax or log-softmax; else what differed.</summary>
    private string? ProbeAgainst(OnnxGraph graph, string tokens)
    {
        int[][] probes = [[.. Enumerable.Range(0, 7).Select(i => (i * 5 + 3) % Embedding.Count)], [(Embedding.Count - 1) / 2], [.. Enumerable.Range(0, 3).Select(i => (i * 7 + 1) % Embedding.Count)]];
        float[][] expected = Logits(probes);
        for (int p = 0; p < probes.Length; p++)
        {
            float[]? output = null;
            string? problem = null;
            foreach (int[] shape in new[] { new[] { probes[p].Length, 1 }, [1, probes[p].Length] })
            {
                try
                {
                    IReadOnlyList<OnnxTensor> outputs = graph.Run([OnnxTensor.FromInt64s(tokens, [.. probes[p].Select(id => (long)id)], shape)]);
                    if (outputs.Count == 1 && outputs[0].Kind == OnnxElementKind.Float && outputs[0].Length == Classes) output = outputs[0].Floats;
                    else problem = $"the graph gives {outputs.Count} outputs, the first {outputs[0].ShapeText}, for one text; a classifier gives [1, {Classes}].";
                }
                catch (Exception e) when (e is ModelFormatException or ArgumentException)
                {
                    problem = e.Message;
                }

                if (output is not null) break;
            }

            if (output is null) return problem;
            if (!MatchesAnyReading(expected[p], output)) return $"the graph's output [{string.Join(", ", output.Select(v => v.ToString("G4", System.Globalization.CultureInfo.InvariantCulture)))}] for probe text {p} is none of logits, softmax or log-softmax of the imported model's.";
        }

        return null;
    }

    private static bool MatchesAnyReading(float[] logits, float[] output)
    {
        float[] softmax = new float[logits.Length];
        ClassWeights.Softmax(logits, logits.Length, softmax);
        float[] logSoftmax = [.. softmax.Select(p => MathF.Log(p))];
        return Close(logits, output) || Close(softmax, output) || Close(logSoftmax, output);
    }

    private static bool Close(float[] a, float[] b)
    {
        for (int i = 0; i < a.Length; i++)
            if (!(MathF.Abs(a[i] - b[i]) <= ProbeTolerance * (1 + MathF.Abs(a[i])))) return false;
        return true;
    }

    private static string PaddingText(int paddingId) => paddingId >= 0 ? $" (padding id {paddingId})" : "";

    private static float[] Copy(float[] values) => (float[])values.Clone();

    private static float[] Transpose(float[] matrix, int rows, int columns)
    {
        float[] result = new float[matrix.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < columns; c++) result[c * rows + r] = matrix[r * columns + c];
        return result;
    }
}
