using System.Globalization;

namespace LstmSimd.IO.Onnx;

/// <summary>Turns one ONNX <c>LSTM</c> node into LstmSimd weights with ONNX's semantics.</summary>
internal static class OnnxLstmImport
{
    /// <summary>Our gate g (i, f, g, o) comes from ONNX gate block OnnxGate[g] (ONNX order i, o, f, c).</summary>
    private static ReadOnlySpan<int> OnnxGate => [0, 2, 3, 1];

    /// <summary>Our peephole p (i, f, o) comes from ONNX block OnnxPeephole[p] (ONNX order i, o, f).</summary>
    private static ReadOnlySpan<int> OnnxPeephole => [0, 2, 1];

    public static OnnxLstmNode Import(OnnxModel.Node node, OnnxModel.GraphParts graph, ReadOnlySpan<byte> file, string? directory, HashSet<string> used, int index)
    {
        (string name, string where, Dictionary<string, OnnxModel.Attribute> attributes) = ReadAttributes(node, "LSTM", index,
            ["hidden_size", "direction", "layout", "clip", "input_forget", "activations", "activation_alpha", "activation_beta", "output_sequence"]);
        (string direction, int dirs) = Direction(attributes, where);
        long layout = Layout(attributes, where);
        long inputForget = Int(attributes, "input_forget", 0, where);
        if (inputForget is not (0 or 1)) throw Bad(where, $"input_forget {inputForget} is not 0 or 1");
        float clip = 0f;
        if (attributes.TryGetValue("clip", out OnnxModel.Attribute? clipAttribute))
        {
            clip = clipAttribute.F ?? throw Bad(where, "clip is not a float");
            if (!(clip > 0f) || float.IsInfinity(clip)) throw Bad(where, $"clip {clip.ToString(CultureInfo.InvariantCulture)} is not a positive finite number");
        }

        if (node.Inputs.Count < 3 || node.Inputs.Count > 8) throw Bad(where, $"it has {node.Inputs.Count} inputs; LSTM takes 3 to 8");
        string Input(int i) => i < node.Inputs.Count ? node.Inputs[i] : "";

        if (Input(1).Length == 0) throw Bad(where, "input W is missing");
        if (Input(2).Length == 0) throw Bad(where, "input R is missing");
        if (!HasConstantWeights(node, graph)) return ImportRunTimeWeights(node, graph, file, directory, used, name, where, attributes, direction, dirs, layout, inputForget == 1, clip);

        OnnxTensorProto w = Constant(graph, Input(1), "W", where, used);
        OnnxTensorProto r = Constant(graph, Input(2), "R", where, used);
        OnnxTensorProto? b = Input(3).Length > 0 ? Constant(graph, Input(3), "B", where, used) : null;
        OnnxTensorProto? p = Input(7).Length > 0 ? Constant(graph, Input(7), "P", where, used) : null;

        int inputSize = Dim(w, 3, 2, "W", where);
        int hidden = Dim(r, 3, 2, "R", where);
        if (attributes.ContainsKey("hidden_size") && Int(attributes, "hidden_size", 0, where) != hidden)
            throw Bad(where, $"hidden_size {Int(attributes, "hidden_size", 0, where)} disagrees with R {r.Shape}");
        long gates = 4L * hidden;
        ExpectShape(w, where, "W", dirs, gates, inputSize);
        ExpectShape(r, where, "R", dirs, gates, hidden);
        if (b is not null) ExpectShape(b, where, "B", dirs, 2 * gates);
        if (p is not null) ExpectShape(p, where, "P", dirs, 3L * hidden);

        (Activation gate, Activation candidate, Activation output) = Activations(attributes, dirs, where);
        var cell = new CellVariant(p is not null, clip, inputForget == 1, gate, candidate, output);
        LstmSpec spec = Wrap(where, () => new LstmSpec(inputSize, hidden, 1, dirs == 2, 0, b is not null) { Cell = cell });

        float[] wData = w.ToSingles(file, directory), rData = r.ToSingles(file, directory);
        float[] bData = b?.ToSingles(file, directory) ?? [], pData = p?.ToSingles(file, directory) ?? [];
        // The spec checked that each direction's tensors fit an array, so these int offsets cannot wrap.
        int wLength = spec.InputWeightLength(0), rLength = spec.RecurrentWeightLength, bLength = spec.GateRows, pLength = 3 * hidden;
        var layers = new List<LstmLayerWeights>();
        for (int d = 0; d < dirs; d++)
        {
            layers.Add(new LstmLayerWeights
            {
                WeightIh = Reorder(wData.AsSpan(d * wLength, wLength), hidden, inputSize),
                WeightHh = Reorder(rData.AsSpan(d * rLength, rLength), hidden, hidden),
                BiasIh = b is null ? [] : Reorder(bData.AsSpan(2 * d * bLength, bLength), hidden, 1),
                BiasHh = b is null ? [] : Reorder(bData.AsSpan((2 * d + 1) * bLength, bLength), hidden, 1),
                Peephole = p is null ? [] : ReorderPeephole(pData.AsSpan(d * pLength, pLength), hidden),
            });
        }

        LstmWeights weights = Wrap(where, () => new LstmWeights(spec, layers));
        SequenceLayout seqLayout = layout == 1 ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor;
        (int[] lengths, string? lengthsInput) = Lengths(graph, Input(4), file, directory, where, used);
        (float[] h0, string? hInput) = State(graph, Input(5), "initial_h", file, directory, where, used, dirs, hidden, layout == 1, lengths.Length);
        (float[] c0, string? cInput) = State(graph, Input(6), "initial_c", file, directory, where, used, dirs, hidden, layout == 1, lengths.Length);
        if (h0.Length != 0 && c0.Length != 0 && h0.Length != c0.Length) throw Bad(where, "initial_h and initial_c have different batch sizes");

        string description = $"ONNX LSTM node '{SafetensorsFile.Printable(name)}': {direction}, layout {layout}, input {inputSize}, hidden {hidden}{(b is null ? ", no bias" : "")}"
            + (cell.IsStandard ? "" : ", " + LstmModelFile.DescribeCell(cell));
        var usedHere = new[] { Input(1), Input(2), Input(3), Input(4), Input(5), Input(6), Input(7) }.Where(n => n.Length > 0 && graph.Initializers.ContainsKey(n)).ToArray();
        return new OnnxLstmNode
        {
            Name = name,
            Description = description,
            Layout = seqLayout,
            Input = Input(0),
            SequenceLengthsInput = lengthsInput,
            InitialHiddenInput = hInput,
            InitialCellInput = cInput,
            Model = new ImportedLstm
            {
                Weights = weights,
                Description = description,
                Direction = direction == "reverse" ? ImportedDirection.Reverse : ImportedDirection.Forward,
                Layout = seqLayout,
                InitialHidden = h0,
                InitialCell = c0,
                SequenceLengths = lengths,
                UsedTensors = usedHere,
                IgnoredTensors = [.. graph.InitializerOrder.Select(t => t.Name).Where(n => !usedHere.Contains(n))],
            },
        };
    }

    /// <summary>
    /// The node's display name (<c>OpType #k</c> when unnamed), the prefix of its messages, and its attributes by name; an
    /// attribute not in <paramref name="allowed"/>, a repeated one or a function-attribute reference is refused.
    /// </summary>
    internal static (string Name, string Where, Dictionary<string, OnnxModel.Attribute> Attributes) ReadAttributes(OnnxModel.Node node, string opType, int index, string[] allowed)
    {
        string name = node.Name.Length > 0 ? node.Name : opType + " #" + index.ToString(CultureInfo.InvariantCulture);
        string where = $"{opType} node '{SafetensorsFile.Printable(name)}'";
        var attributes = new Dictionary<string, OnnxModel.Attribute>(StringComparer.Ordinal);
        foreach (OnnxModel.Attribute a in node.Attributes)
        {
            if (a.IsReference) throw new OnnxFormatException($"{where}: attribute '{SafetensorsFile.Printable(a.Name)}' refers to a function attribute, which is not supported.");
            if (!allowed.Contains(a.Name)) throw new OnnxFormatException($"{where}: unknown attribute '{SafetensorsFile.Printable(a.Name)}'.");
            if (!attributes.TryAdd(a.Name, a)) throw new OnnxFormatException($"{where}: attribute '{a.Name}' appears twice.");
        }

        return (name, where, attributes);
    }

    /// <summary>The <c>direction</c> attribute (default forward) and the number of directions it implies.</summary>
    internal static (string Direction, int Directions) Direction(Dictionary<string, OnnxModel.Attribute> attributes, string where)
    {
        string direction = attributes.TryGetValue("direction", out OnnxModel.Attribute? dir) ? dir.S ?? throw Bad(where, "direction is not a string") : "forward";
        int dirs = direction switch
        {
            "forward" or "reverse" => 1,
            "bidirectional" => 2,
            _ => throw Bad(where, $"direction '{SafetensorsFile.Printable(direction)}' is not forward, reverse or bidirectional"),
        };
        return (direction, dirs);
    }

    /// <summary>The <c>layout</c> attribute: 0 (time-major, the default) or 1 (batch-first).</summary>
    internal static long Layout(Dictionary<string, OnnxModel.Attribute> attributes, string where)
    {
        long layout = Int(attributes, "layout", 0, where);
        return layout is 0 or 1 ? layout : throw Bad(where, $"layout {layout} is not 0 or 1");
    }

    /// <summary>Whether W, R, B and P all come from initializers or Constant nodes (so they are packed once, at load).</summary>
    internal static bool HasConstantWeights(OnnxModel.Node node, OnnxModel.GraphParts graph)
    {
        foreach (int k in WeightInputs)
            if (k < node.Inputs.Count && node.Inputs[k].Length > 0 && graph.Find(node.Inputs[k]) is null) return false;
        return true;
    }

    /// <summary>The inputs holding W, R, B and P.</summary>
    internal static ReadOnlySpan<int> WeightInputs => [1, 2, 3, 7];

    /// <summary>
    /// A node whose W, R, B or P is computed at run time (a graph input, say, as ONNX's conformance tests feed them): only its
    /// settings are read here; the graph runner checks the weights' shapes when planning and packs their values when running.
    /// </summary>
    private static OnnxLstmNode ImportRunTimeWeights(OnnxModel.Node node, OnnxModel.GraphParts graph, ReadOnlySpan<byte> file, string? directory, HashSet<string> used,
        string name, string where, Dictionary<string, OnnxModel.Attribute> attributes, string direction, int dirs, long layout, bool inputForget, float clip)
    {
        string Input(int i) => i < node.Inputs.Count ? node.Inputs[i] : "";
        foreach (int k in WeightInputs)
            if (Input(k).Length > 0 && graph.Find(Input(k)) is not null) used.Add(Input(k));
        OnnxTensorProto? constantR = graph.Find(Input(2));
        long hidden = attributes.ContainsKey("hidden_size") ? Int(attributes, "hidden_size", 0, where)
            : constantR is not null ? Dim(constantR, 3, 2, "R", where)
            : throw Bad(where, "its weights are computed at run time and it has no hidden_size attribute; add hidden_size");
        if (hidden is <= 0 or > 1 << 24) throw Bad(where, $"hidden_size {hidden} must be in [1, 2^24]");
        (Activation gate, Activation candidate, Activation output) = Activations(attributes, dirs, where);
        var cell = new CellVariant(Input(7).Length > 0, clip, inputForget, gate, candidate, output);
        (int[] lengths, string? lengthsInput) = Lengths(graph, Input(4), file, directory, where, used);
        (_, string? hInput) = State(graph, Input(5), "initial_h", file, directory, where, used, dirs, (int)hidden, layout == 1, lengths.Length);
        (_, string? cInput) = State(graph, Input(6), "initial_c", file, directory, where, used, dirs, (int)hidden, layout == 1, lengths.Length);
        string weights = string.Join(", ", new[] { (1, "W"), (2, "R"), (3, "B"), (7, "P") }.Where(w => Input(w.Item1).Length > 0).Select(w => w.Item2));
        return new OnnxLstmNode
        {
            Name = name,
            Description = $"ONNX LSTM node '{SafetensorsFile.Printable(name)}': {direction}, layout {layout}, hidden {hidden}{(Input(3).Length == 0 ? ", no bias" : "")}"
                + (cell.IsStandard ? "" : ", " + LstmModelFile.DescribeCell(cell)) + $", weights ({weights}) read at run time",
            Layout = layout == 1 ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor,
            Input = Input(0),
            SequenceLengthsInput = lengthsInput,
            InitialHiddenInput = hInput,
            InitialCellInput = cInput,
            Model = null,
            RunTimeWeights = new OnnxLstmRunTimeWeights(dirs, (int)hidden, Input(3).Length > 0, cell, direction == "reverse" ? ImportedDirection.Reverse : ImportedDirection.Forward),
        };
    }

    private static (Activation Gate, Activation Candidate, Activation Output) Activations(Dictionary<string, OnnxModel.Attribute> attributes, int dirs, string where)
    {
        Activation[]? list = ActivationList(attributes, 3, dirs, where, "f, g, h");
        return list is null ? (Activation.Sigmoid, Activation.Tanh, Activation.Tanh) : (list[0], list[1], list[2]);
    }

    /// <summary>
    /// The node's <c>activations</c> for one direction (<paramref name="perDirection"/> functions, <paramref name="roles"/>),
    /// or null when it lists none. Alpha and beta values are consumed in order by the functions that take them, as ONNX
    /// Runtime does; both directions must list the same functions.
    /// </summary>
    internal static Activation[]? ActivationList(Dictionary<string, OnnxModel.Attribute> attributes, int perDirection, int dirs, string where, string roles)
    {
        if (!attributes.TryGetValue("activations", out OnnxModel.Attribute? list)) return null;
        if (list.Strings.Count != perDirection * dirs)
            throw Bad(where, $"activations lists {list.Strings.Count} functions; this direction needs {perDirection * dirs} ({roles} per direction)");
        List<float> alphas = attributes.TryGetValue("activation_alpha", out OnnxModel.Attribute? a) ? a.Floats : [];
        List<float> betas = attributes.TryGetValue("activation_beta", out OnnxModel.Attribute? bb) ? bb.Floats : [];
        int ai = 0, bi = 0;
        var parsed = new Activation[list.Strings.Count];
        for (int i = 0; i < parsed.Length; i++)
        {
            string fn = list.Strings[i];
            parsed[i] = fn.ToUpperInvariant() switch
            {
                "SIGMOID" => Activation.Sigmoid,
                "TANH" => Activation.Tanh,
                "RELU" => new Activation(ActivationKind.Relu),
                "HARDSIGMOID" => new Activation(ActivationKind.HardSigmoid, ai < alphas.Count ? alphas[ai++] : 0.2f, bi < betas.Count ? betas[bi++] : 0.5f),
                _ => throw Bad(where, $"activation '{SafetensorsFile.Printable(fn)}' is not supported (supported: Sigmoid, Tanh, Relu, HardSigmoid)"),
            };
        }

        for (int i = perDirection; i < parsed.Length; i++)
        {
            if (parsed[i] != parsed[i - perDirection]) throw Bad(where, "the two directions use different activations, which LstmSimd does not support");
        }

        return parsed[..perDirection];
    }

    internal static (int[] Lengths, string? RuntimeInput) Lengths(OnnxModel.GraphParts graph, string name, ReadOnlySpan<byte> file, string? directory, string where, HashSet<string> used)
    {
        if (name.Length == 0) return ([], null);
        OnnxTensorProto? t = graph.Find(name);
        if (t is null) return ([], name);
        used.Add(name);
        if (t.Dims.Count != 1) throw Bad(where, $"sequence_lens has shape {t.Shape}; expected [batch]");
        long[] values = t.ToInt64s(file, directory);
        var lengths = new int[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            if (values[i] < 0 || values[i] > int.MaxValue) throw Bad(where, $"sequence_lens[{i}] = {values[i]} is out of range");
            lengths[i] = (int)values[i];
        }

        return (lengths, null);
    }

    /// <summary>A constant initial state, transposed from ONNX's layout-1 shape [B, D, H] to PyTorch's [D, B, H].</summary>
    internal static (float[] State, string? RuntimeInput) State(OnnxModel.GraphParts graph, string name, string what, ReadOnlySpan<byte> file, string? directory,
        string where, HashSet<string> used, int dirs, int hidden, bool batchFirst, int batchFromLengths)
    {
        if (name.Length == 0) return ([], null);
        OnnxTensorProto? t = graph.Find(name);
        if (t is null) return ([], name);
        used.Add(name);
        if (t.Dims.Count != 3 || t.Dims[batchFirst ? 1 : 0] != dirs || t.Dims[2] != hidden || t.Dims[batchFirst ? 0 : 1] <= 0)
            throw Bad(where, $"{what} has shape {t.Shape}; expected {(batchFirst ? $"[batch, {dirs}, {hidden}]" : $"[{dirs}, batch, {hidden}]")}");
        int batch = (int)Math.Min(t.Dims[batchFirst ? 0 : 1], int.MaxValue);
        if (batchFromLengths != 0 && batch != batchFromLengths) throw Bad(where, $"{what} has batch {batch}; sequence_lens has {batchFromLengths}");
        float[] data = t.ToSingles(file, directory);
        if (!batchFirst) return (data, null);
        var transposed = new float[data.Length];
        for (int b = 0; b < batch; b++)
            for (int d = 0; d < dirs; d++)
                data.AsSpan((b * dirs + d) * hidden, hidden).CopyTo(transposed.AsSpan((d * batch + b) * hidden));
        return (transposed, null);
    }

    internal static float[] Reorder(ReadOnlySpan<float> onnx, int hidden, int columns) => Reorder(onnx, hidden, columns, OnnxGate);

    /// <summary>Gate blocks of <paramref name="hidden"/> rows × <paramref name="columns"/>: our block g is ONNX's block <paramref name="onnxBlockOfGate"/>[g].</summary>
    internal static float[] Reorder(ReadOnlySpan<float> onnx, int hidden, int columns, ReadOnlySpan<int> onnxBlockOfGate)
    {
        var result = new float[onnx.Length];
        int block = hidden * columns;
        for (int g = 0; g < onnxBlockOfGate.Length; g++)
            onnx.Slice(onnxBlockOfGate[g] * block, block).CopyTo(result.AsSpan(g * block));
        return result;
    }

    internal static float[] ReorderPeephole(ReadOnlySpan<float> onnx, int hidden)
    {
        var result = new float[onnx.Length];
        for (int g = 0; g < 3; g++)
            onnx.Slice(OnnxPeephole[g] * hidden, hidden).CopyTo(result.AsSpan(g * hidden));
        return result;
    }

    /// <summary>The inverse of <see cref="Reorder(ReadOnlySpan{float}, int, int)"/>: our gate blocks (i, f, g, o) written into ONNX's order (i, o, f, c) at <paramref name="onnx"/>.</summary>
    internal static void ToOnnxOrder(ReadOnlySpan<float> ours, int hidden, int columns, Span<float> onnx)
    {
        int block = hidden * columns;
        for (int g = 0; g < 4; g++)
            ours.Slice(g * block, block).CopyTo(onnx.Slice(OnnxGate[g] * block, block));
    }

    /// <summary>The inverse of <see cref="ReorderPeephole"/>: our peepholes (i, f, o) written into ONNX's order (i, o, f).</summary>
    internal static void PeepholeToOnnxOrder(ReadOnlySpan<float> ours, int hidden, Span<float> onnx)
    {
        for (int g = 0; g < 3; g++)
            ours.Slice(g * hidden, hidden).CopyTo(onnx.Slice(OnnxPeephole[g] * hidden, hidden));
    }

    internal static OnnxTensorProto Constant(OnnxModel.GraphParts graph, string name, string what, string where, HashSet<string> used)
    {
        if (name.Length == 0) throw Bad(where, $"input {what} is missing");
        OnnxTensorProto t = graph.Find(name) ?? throw Bad(where, $"{what} ('{SafetensorsFile.Printable(name)}') is not an initializer or Constant; LstmSimd needs constant weights");
        used.Add(name);
        return t;
    }

    internal static int Dim(OnnxTensorProto t, int rank, int axis, string what, string where)
    {
        if (t.Dims.Count != rank) throw Bad(where, $"{what} has shape {t.Shape}; expected {rank} dimensions");
        long d = t.Dims[axis];
        if (d <= 0 || d > 1 << 24) throw Bad(where, $"{what} has shape {t.Shape}; dimension {axis} must be in [1, 2^24]");
        return (int)d;
    }

    internal static void ExpectShape(OnnxTensorProto t, string where, string what, params long[] dims)
    {
        if (!t.Dims.SequenceEqual(dims)) throw Bad(where, $"{what} has shape {t.Shape}; expected [{string.Join(", ", dims)}]");
    }

    internal static long Int(Dictionary<string, OnnxModel.Attribute> attributes, string name, long fallback, string where) =>
        attributes.TryGetValue(name, out OnnxModel.Attribute? a) ? a.I ?? throw Bad(where, $"{name} is not an integer") : fallback;

    internal static T Wrap<T>(string where, Func<T> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw new OnnxFormatException($"{where}: {e.Message}", e);
        }
    }

    internal static OnnxFormatException Bad(string where, string what) => new($"{where}: {what}.");
}
