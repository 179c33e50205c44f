using System.Globalization;

namespace LstmSimd.IO.Onnx;

/// <summary>
/// Writes an LSTM (any <see cref="LstmWeights"/>: trained here, loaded from an LstmSimd model file, or imported from
/// PyTorch, Keras or TensorFlow.js) and an optional <see cref="LinearHead"/> as a standard ONNX model (opset
/// <see cref="Opset"/>), which ONNX Runtime and anything else that reads ONNX can run. Each layer becomes one <c>LSTM</c>
/// node (<c>direction="bidirectional"</c> for a bidirectional layer; gates reordered to ONNX's i, o, f, c; the cell's
/// peepholes, clip, input_forget and activations as ONNX's inputs and attributes), joined by <c>Transpose</c> and
/// <c>Reshape</c> to [T, B, D·H]; the head is <c>MatMul</c> + <c>Add</c> on every step. The graph:
/// <list type="bullet">
/// <item><c>input</c> float [seq, batch, I], time-major, with both dims dynamic; with sequence lengths, <c>sequence_lens</c>
/// int32 [batch] (steps past a sequence's length give zeros and leave its state, as in LstmSimd and PyTorch).</item>
/// <item><c>output</c> [seq, batch, D·H], <c>h_n</c> and <c>c_n</c> [L·D, batch, H] (PyTorch's shapes, from zero initial
/// state), and with a head <c>head_output</c> [seq, batch, O].</item>
/// </list>
/// ONNX's LSTM has no projection, so a model with one is refused.
/// </summary>
public static class OnnxExport
{
    /// <summary>The ONNX opset the model imports (LSTM, Transpose, Reshape, Concat, MatMul, Add as of opset 14).</summary>
    public const int Opset = 14;

    /// <summary>The IR version released with opset 14.</summary>
    private const int IrVersion = 7;

    /// <summary>A protobuf message ends at 2 GiB; larger models would need ONNX's external data, which this writer does not write.</summary>
    private const long MaxModelBytes = int.MaxValue - (1 << 20);

    /// <summary>Writes the model to <paramref name="path"/> atomically (a failed save leaves the previous file whole).</summary>
    /// <param name="path">The <c>.onnx</c> file.</param>
    /// <param name="weights">The LSTM.</param>
    /// <param name="head">A linear head applied to every step of the output, or null.</param>
    /// <param name="sequenceLengths">Whether the graph takes a <c>sequence_lens</c> input [batch] (int32).</param>
    /// <exception cref="NotSupportedException">ONNX's LSTM cannot express the model (a projection), or it is too large for one protobuf file.</exception>
    /// <exception cref="ArgumentException">The head does not take the LSTM's D·H outputs.</exception>
    public static void Save(string path, LstmWeights weights, LinearHead? head = null, bool sequenceLengths = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] model = ToBytes(weights, head, sequenceLengths);
        AtomicFile.Write(path, stream => stream.Write(model));
    }

    /// <summary>
    /// Writes an imported model with its head; a model that reads its sequence backwards (an ONNX <c>direction="reverse"</c>
    /// node) is written as one. Constant initial states or lengths stored in its file are not part of the export (it starts
    /// from zero state, with lengths as an input), so such a model is refused rather than written to compute something else.
    /// </summary>
    /// <exception cref="NotSupportedException">ONNX's LSTM cannot express the model, or the file's constant states or lengths would be lost.</exception>
    public static void Save(string path, ImportedLstm model, bool sequenceLengths = false)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        byte[] bytes = ToBytes(model, sequenceLengths);
        AtomicFile.Write(path, stream => stream.Write(bytes));
    }

    /// <summary>The bytes <see cref="Save(string, ImportedLstm, bool)"/> writes.</summary>
    /// <exception cref="NotSupportedException">ONNX's LSTM cannot express the model, or the file's constant states or lengths would be lost.</exception>
    public static byte[] ToBytes(ImportedLstm model, bool sequenceLengths = false)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.InitialHidden.Length > 0 || model.InitialCell.Length > 0 || model.SequenceLengths.Length > 0)
            throw new NotSupportedException("The model's file stores constant initial states or sequence lengths, which the export does not write (it starts from zero state and takes lengths as an input); export its Weights and Head to drop them knowingly.");
        return Write(model.Weights, model.Head, sequenceLengths, reverse: model.Direction == ImportedDirection.Reverse);
    }

    /// <summary>The model's bytes, the same for the same model (no version or time stamp is written); see <see cref="Save(string, LstmWeights, LinearHead?, bool)"/>.</summary>
    /// <exception cref="NotSupportedException">ONNX's LSTM cannot express the model (a projection), or it is too large for one protobuf file.</exception>
    /// <exception cref="ArgumentException">The head does not take the LSTM's D·H outputs.</exception>
    public static byte[] ToBytes(LstmWeights weights, LinearHead? head = null, bool sequenceLengths = false) => Write(weights, head, sequenceLengths, reverse: false);

    private static byte[] Write(LstmWeights weights, LinearHead? head, bool sequenceLengths, bool reverse)
    {
        ArgumentNullException.ThrowIfNull(weights);
        LstmSpec spec = weights.Spec;
        if (spec.ProjectionSize > 0)
            throw new NotSupportedException($"ONNX's LSTM operator has no projection (the model projects its hidden state from {spec.HiddenSize} to {spec.ProjectionSize}, as PyTorch's proj_size does), so the model cannot be written as standard ONNX LSTM nodes.");
        if (head is not null && head.InputSize != spec.OutputSize)
            throw new ArgumentException($"The head takes {head.InputSize} features; the LSTM outputs D·H = {spec.OutputSize}.", nameof(head));
        long bytes = 4L * (spec.ParameterCount + (head is null ? 0 : (long)head.Weight.Length + head.Bias.Length));
        if (bytes > MaxModelBytes)
            throw new NotSupportedException($"The model's parameters take {bytes} bytes; one ONNX protobuf file holds less than 2 GiB, and this writer does not write external data.");

        var graph = new ProtoWriter().String(OnnxFields.Graph.Name, "lstmsimd");
        string lengths = sequenceLengths ? "sequence_lens" : "";
        const string reshape = "reshape_to_steps_batch_features";
        graph.Message(OnnxFields.Graph.Initializer, Int64Tensor(reshape, [0, 0, -1]));
        string layerInput = "input";
        var hidden = new List<string>();
        var cells = new List<string>();
        for (int l = 0; l < spec.NumLayers; l++)
        {
            string name = "lstm_l" + l.ToString(CultureInfo.InvariantCulture);
            AddLayer(graph, weights, l, name, layerInput, lengths, reverse);
            string output = l == spec.NumLayers - 1 ? "output" : name + "_output";
            graph.Message(OnnxFields.Graph.Node, Node("Transpose", name + "_transpose", [name + "_Y"], [name + "_Y_steps_batch"],
                IntsAttribute("perm", [0, 2, 1, 3])));
            graph.Message(OnnxFields.Graph.Node, Node("Reshape", name + "_reshape", [name + "_Y_steps_batch", reshape], [output]));
            hidden.Add(name + "_Y_h");
            cells.Add(name + "_Y_c");
            layerInput = output;
        }

        graph.Message(OnnxFields.Graph.Node, Node("Concat", "h_n_concat", [.. hidden], ["h_n"], IntAttribute("axis", 0)));
        graph.Message(OnnxFields.Graph.Node, Node("Concat", "c_n_concat", [.. cells], ["c_n"], IntAttribute("axis", 0)));
        if (head is not null) AddHead(graph, head);

        graph.Message(OnnxFields.Graph.Input, ValueInfo("input", OnnxTensorProto.Float, Dim("seq"), Dim("batch"), Dim(spec.InputSize)));
        if (sequenceLengths) graph.Message(OnnxFields.Graph.Input, ValueInfo("sequence_lens", OnnxTensorProto.Int32, Dim("batch")));
        graph.Message(OnnxFields.Graph.Output, ValueInfo("output", OnnxTensorProto.Float, Dim("seq"), Dim("batch"), Dim(spec.OutputSize)));
        graph.Message(OnnxFields.Graph.Output, ValueInfo("h_n", OnnxTensorProto.Float, Dim(spec.LayerDirections), Dim("batch"), Dim(spec.HiddenSize)));
        graph.Message(OnnxFields.Graph.Output, ValueInfo("c_n", OnnxTensorProto.Float, Dim(spec.LayerDirections), Dim("batch"), Dim(spec.HiddenSize)));
        if (head is not null) graph.Message(OnnxFields.Graph.Output, ValueInfo("head_output", OnnxTensorProto.Float, Dim("seq"), Dim("batch"), Dim(head.OutputSize)));

        var model = new ProtoWriter()
            .Varint(OnnxFields.Model.IrVersion, IrVersion)
            .String(OnnxFields.Model.ProducerName, "LstmSimd")
            .String(OnnxFields.Model.DocString, $"LSTM {PyTorchStateDict.Describe(spec)}{(head is null ? "" : $", linear head {head.InputSize} → {head.OutputSize}")}")
            .Message(OnnxFields.Model.Graph, graph)
            .Message(OnnxFields.Model.OpsetImport, new ProtoWriter().String(OnnxFields.OperatorSet.Domain, "").Varint(OnnxFields.OperatorSet.Version, Opset));
        return model.WrittenSpan.ToArray();
    }

    /// <summary>One LSTM node and its W, R, B (and P) initializers for layer <paramref name="layer"/>, both directions.</summary>
    private static void AddLayer(ProtoWriter graph, LstmWeights weights, int layer, string name, string input, string lengths, bool reverse)
    {
        LstmSpec spec = weights.Spec;
        CellVariant cell = spec.Cell;
        int d = spec.Directions, h = spec.HiddenSize, inputs = spec.LayerInputSize(layer), gates = spec.GateRows;
        var w = new float[(long)d * gates * inputs];
        var r = new float[(long)d * gates * h];
        var b = spec.Bias ? new float[2L * d * gates] : [];
        var p = cell.Peepholes ? new float[3L * d * h] : [];
        for (int k = 0; k < d; k++)
        {
            LstmLayerWeights direction = weights[layer, k];
            OnnxLstmImport.ToOnnxOrder(direction.WeightIh, h, inputs, w.AsSpan(k * gates * inputs, gates * inputs));
            OnnxLstmImport.ToOnnxOrder(direction.WeightHh, h, h, r.AsSpan(k * gates * h, gates * h));
            if (spec.Bias)
            {
                OnnxLstmImport.ToOnnxOrder(direction.BiasIh, h, 1, b.AsSpan(2 * k * gates, gates));
                OnnxLstmImport.ToOnnxOrder(direction.BiasHh, h, 1, b.AsSpan((2 * k + 1) * gates, gates));
            }

            if (cell.Peepholes) OnnxLstmImport.PeepholeToOnnxOrder(direction.Peephole, h, p.AsSpan(3 * k * h, 3 * h));
        }

        graph.Message(OnnxFields.Graph.Initializer, FloatTensor(name + ".W", w, d, gates, inputs));
        graph.Message(OnnxFields.Graph.Initializer, FloatTensor(name + ".R", r, d, gates, h));
        if (spec.Bias) graph.Message(OnnxFields.Graph.Initializer, FloatTensor(name + ".B", b, d, 2 * gates));
        if (cell.Peepholes) graph.Message(OnnxFields.Graph.Initializer, FloatTensor(name + ".P", p, d, 3 * h));

        // X, W, R, B, sequence_lens, initial_h, initial_c, P: omitted optional inputs are empty names, trailing ones left out.
        List<string> nodeInputs = [input, name + ".W", name + ".R", spec.Bias ? name + ".B" : "", lengths, "", "", cell.Peepholes ? name + ".P" : ""];
        while (nodeInputs[^1].Length == 0) nodeInputs.RemoveAt(nodeInputs.Count - 1);

        var attributes = new List<ProtoWriter>
        {
            IntAttribute("hidden_size", h),
            StringAttribute("direction", spec.Bidirectional ? "bidirectional" : reverse ? "reverse" : "forward"),
        };
        if (cell.Clip > 0) attributes.Add(FloatAttribute("clip", cell.Clip));
        if (cell.InputForget) attributes.Add(IntAttribute("input_forget", 1));
        Activation[] functions = [cell.Gate, cell.Candidate, cell.Output];
        if (functions[0] != Activation.Sigmoid || functions[1] != Activation.Tanh || functions[2] != Activation.Tanh)
        {
            // f, g, h for each direction; alpha and beta are consumed in order by the functions that take them (HardSigmoid).
            Activation[] all = [.. Enumerable.Range(0, d).SelectMany(_ => functions)];
            attributes.Add(StringsAttribute("activations", [.. all.Select(OnnxName)]));
            Activation[] hard = [.. all.Where(a => a.Kind == ActivationKind.HardSigmoid)];
            if (hard.Length > 0)
            {
                attributes.Add(FloatsAttribute("activation_alpha", [.. hard.Select(a => a.Alpha)]));
                attributes.Add(FloatsAttribute("activation_beta", [.. hard.Select(a => a.Beta)]));
            }
        }

        graph.Message(OnnxFields.Graph.Node, Node("LSTM", name, [.. nodeInputs], [name + "_Y", name + "_Y_h", name + "_Y_c"], [.. attributes]));
    }

    private static void AddHead(ProtoWriter graph, LinearHead head)
    {
        // MatMul takes [In, O]: the head's [O, In] transposed.
        var transposed = new float[head.Weight.Length];
        for (int o = 0; o < head.OutputSize; o++)
            for (int i = 0; i < head.InputSize; i++)
                transposed[(i * head.OutputSize) + o] = head.Weight[(o * head.InputSize) + i];
        graph.Message(OnnxFields.Graph.Initializer, FloatTensor("head.weight_transposed", transposed, head.InputSize, head.OutputSize));
        bool bias = head.Bias.Length > 0;
        graph.Message(OnnxFields.Graph.Node, Node("MatMul", "head_matmul", ["output", "head.weight_transposed"], [bias ? "head_matmul_output" : "head_output"]));
        if (!bias) return;
        graph.Message(OnnxFields.Graph.Initializer, FloatTensor("head.bias", head.Bias, head.OutputSize));
        graph.Message(OnnxFields.Graph.Node, Node("Add", "head_add", ["head_matmul_output", "head.bias"], ["head_output"]));
    }

    private static string OnnxName(Activation a) => a.Kind switch
    {
        ActivationKind.Sigmoid => "Sigmoid",
        ActivationKind.Tanh => "Tanh",
        ActivationKind.Relu => "Relu",
        ActivationKind.HardSigmoid => "HardSigmoid",
        _ => throw new NotSupportedException($"ONNX's LSTM has no activation {a.Kind}."),
    };

    private static ProtoWriter Node(string opType, string name, string[] inputs, string[] outputs, params ProtoWriter[] attributes)
    {
        var node = new ProtoWriter();
        foreach (string input in inputs) node.String(OnnxFields.Node.Input, input);
        foreach (string output in outputs) node.String(OnnxFields.Node.Output, output);
        node.String(OnnxFields.Node.Name, name).String(OnnxFields.Node.OpType, opType);
        foreach (ProtoWriter attribute in attributes) node.Message(OnnxFields.Node.Attribute, attribute);
        return node;
    }

    private static ProtoWriter IntAttribute(string name, long value) =>
        new ProtoWriter().String(OnnxFields.Attribute.Name, name).Varint(OnnxFields.Attribute.I, value).Varint(OnnxFields.Attribute.Type, OnnxFields.Attribute.TypeInt);

    private static ProtoWriter FloatAttribute(string name, float value) =>
        new ProtoWriter().String(OnnxFields.Attribute.Name, name).Fixed32(OnnxFields.Attribute.F, value).Varint(OnnxFields.Attribute.Type, OnnxFields.Attribute.TypeFloat);

    private static ProtoWriter StringAttribute(string name, string value) =>
        new ProtoWriter().String(OnnxFields.Attribute.Name, name).String(OnnxFields.Attribute.S, value).Varint(OnnxFields.Attribute.Type, OnnxFields.Attribute.TypeString);

    private static ProtoWriter IntsAttribute(string name, long[] values) =>
        new ProtoWriter().String(OnnxFields.Attribute.Name, name).PackedVarints(OnnxFields.Attribute.Ints, values).Varint(OnnxFields.Attribute.Type, OnnxFields.Attribute.TypeInts);

    private static ProtoWriter FloatsAttribute(string name, float[] values) =>
        new ProtoWriter().String(OnnxFields.Attribute.Name, name).PackedFloats(OnnxFields.Attribute.Floats, values).Varint(OnnxFields.Attribute.Type, OnnxFields.Attribute.TypeFloats);

    private static ProtoWriter StringsAttribute(string name, string[] values)
    {
        var attribute = new ProtoWriter().String(OnnxFields.Attribute.Name, name);
        foreach (string value in values) attribute.String(OnnxFields.Attribute.Strings, value);
        return attribute.Varint(OnnxFields.Attribute.Type, OnnxFields.Attribute.TypeStrings);
    }

    private static ProtoWriter FloatTensor(string name, ReadOnlySpan<float> values, params long[] dims)
    {
        var raw = new byte[4L * values.Length];
        for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), values[i]);
        return new ProtoWriter().PackedVarints(OnnxFields.Tensor.Dims, dims).Varint(OnnxFields.Tensor.DataType, OnnxTensorProto.Float)
            .String(OnnxFields.Tensor.Name, name).Bytes(OnnxFields.Tensor.RawData, raw);
    }

    private static ProtoWriter Int64Tensor(string name, long[] values)
    {
        var raw = new byte[8 * values.Length];
        for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(raw.AsSpan(8 * i), values[i]);
        return new ProtoWriter().PackedVarints(OnnxFields.Tensor.Dims, [values.Length]).Varint(OnnxFields.Tensor.DataType, OnnxTensorProto.Int64)
            .String(OnnxFields.Tensor.Name, name).Bytes(OnnxFields.Tensor.RawData, raw);
    }

    private static ProtoWriter Dim(long value) => new ProtoWriter().Varint(OnnxFields.ValueInfo.DimValue, value);

    private static ProtoWriter Dim(string name) => new ProtoWriter().String(OnnxFields.ValueInfo.DimParam, name);

    private static ProtoWriter ValueInfo(string name, int elementType, params ProtoWriter[] dims)
    {
        var shape = new ProtoWriter();
        foreach (ProtoWriter dim in dims) shape.Message(OnnxFields.ValueInfo.Dim, dim);
        var tensor = new ProtoWriter().Varint(OnnxFields.ValueInfo.ElementType, elementType).Message(OnnxFields.ValueInfo.Shape, shape);
        return new ProtoWriter().String(OnnxFields.ValueInfo.Name, name)
            .Message(OnnxFields.ValueInfo.Type, new ProtoWriter().Message(OnnxFields.ValueInfo.TensorType, tensor));
    }
}
