using System.Globalization;
using LstmSimd.IO.Onnx.Graph;

namespace LstmSimd.IO.Onnx;

/// <summary>A node of an ONNX graph, as <see cref="OnnxModel"/> lists it.</summary>
/// <param name="Name">The node's name (may be empty).</param>
/// <param name="OpType">The operator, e.g. <c>LSTM</c>.</param>
/// <param name="Inputs">Input value names; empty strings mark omitted optional inputs.</param>
/// <param name="Outputs">Output value names.</param>
public sealed record OnnxNodeInfo(string Name, string OpType, IReadOnlyList<string> Inputs, IReadOnlyList<string> Outputs);

/// <summary>An initializer of an ONNX graph: name, element type, dims, and whether its data is external.</summary>
public sealed record OnnxInitializerInfo(string Name, string DataType, IReadOnlyList<long> Dims, bool External);

/// <summary>One dimension of a declared shape: a number, or a name (<c>dim_param</c>) bound when the model runs, or neither (unknown).</summary>
public sealed record OnnxDim(long? Value, string? Name)
{
    /// <inheritdoc/>
    public override string ToString() => Value?.ToString(CultureInfo.InvariantCulture) ?? Name ?? "?";
}

/// <summary>A graph input or output as the file declares it: name, element type (ONNX <c>TensorProto.DataType</c>) and shape (null when undeclared).</summary>
public sealed record OnnxValueInfo(string Name, int ElementType, IReadOnlyList<OnnxDim>? Shape)
{
    /// <summary>The element type's ONNX name, e.g. <c>FLOAT</c>.</summary>
    public string ElementTypeName => ElementType == 0 ? "undeclared type" : OnnxTensorProto.TypeName(ElementType);

    /// <summary>The shape as text, symbolic dims by name, e.g. <c>[T, B, 4]</c>.</summary>
    public string ShapeText => Shape is null ? "[undeclared shape]" : "[" + string.Join(", ", Shape) + "]";
}

/// <summary>One imported ONNX <c>LSTM</c> node.</summary>
public sealed class OnnxLstmNode
{
    /// <summary>The node's name (or <c>LSTM #k</c> when unnamed).</summary>
    public required string Name { get; init; }

    /// <summary>
    /// The weights and run-time settings (direction, layout, constant initial state and lengths); null when W, R, B or P is
    /// computed at run time (a graph input, say): <see cref="OnnxGraph"/> then builds the weights from each run's values.
    /// </summary>
    public required ImportedLstm? Model { get; init; }

    /// <summary>What the node computes, for display (direction, layout, sizes, cell).</summary>
    public required string Description { get; init; }

    /// <summary>The node's <c>layout</c>: time-major (0) or batch-first (1).</summary>
    public required SequenceLayout Layout { get; init; }

    /// <summary>Whether W, R, B or P is computed at run time rather than given by an initializer or Constant node.</summary>
    public bool WeightsAtRunTime => Model is null;

    /// <summary>The settings of a node whose weights are computed at run time (null otherwise).</summary>
    internal OnnxLstmRunTimeWeights? RunTimeWeights { get; init; }

    /// <summary>The graph value feeding X.</summary>
    public required string Input { get; init; }

    /// <summary>The graph values the node reads at run time for sequence_lens, initial_h, initial_c (null when omitted or constant).</summary>
    public string? SequenceLengthsInput { get; init; }

    /// <inheritdoc cref="SequenceLengthsInput"/>
    public string? InitialHiddenInput { get; init; }

    /// <inheritdoc cref="SequenceLengthsInput"/>
    public string? InitialCellInput { get; init; }
}

/// <summary>One imported ONNX <c>GRU</c> node, either cell (<c>linear_before_reset</c>: <see cref="GruSpec.LinearBeforeReset"/> of its weights' spec).</summary>
public sealed class OnnxGruNode
{
    /// <summary>The node's name (or <c>GRU #k</c> when unnamed).</summary>
    public required string Name { get; init; }

    /// <summary>The weights in PyTorch's layout and gate order (r, z, n): one layer, one direction or two.</summary>
    public required GruWeights Weights { get; init; }

    /// <summary>What the node computes, for display (direction, layout, sizes).</summary>
    public required string Description { get; init; }

    /// <summary>The node's <c>layout</c>: time-major (0) or batch-first (1).</summary>
    public required SequenceLayout Layout { get; init; }

    /// <summary><see cref="ImportedDirection.Reverse"/> for <c>direction="reverse"</c>.</summary>
    internal ImportedDirection Direction { get; init; }

    /// <summary>The graph value feeding X.</summary>
    public required string Input { get; init; }

    /// <summary>The graph values the node reads at run time for sequence_lens and initial_h (null when omitted or constant).</summary>
    public string? SequenceLengthsInput { get; init; }

    /// <inheritdoc cref="SequenceLengthsInput"/>
    public string? InitialHiddenInput { get; init; }
}

/// <summary>What an LSTM node whose weights are computed at run time fixes at load: the rest comes from the weights' shapes when planning.</summary>
internal sealed record OnnxLstmRunTimeWeights(int Directions, int HiddenSize, bool HasBias, CellVariant Cell, ImportedDirection Direction);

/// <summary>
/// An ONNX model read for its <c>LSTM</c> nodes: the graph's inputs, outputs, nodes and initializers
/// are listed, and every LSTM node is imported with ONNX's semantics (gate order i, o, f, c reordered
/// to i, f, g, o; B split into W_b and R_b; P reordered from i, o, f to i, f, o; direction, layout,
/// clip, input_forget, activations). Weights given by initializers or <c>Constant</c> nodes are imported here; a node whose
/// weights are computed at run time is imported without them (<see cref="OnnxLstmNode.WeightsAtRunTime"/>). Every
/// <c>GRU</c> node is imported too (gate order z, r, h reordered to r, z, n; see <see cref="OnnxGruNode"/>).
/// </summary>
public sealed class OnnxModel
{
    private OnnxModel() { }

    /// <summary>ModelProto.ir_version.</summary>
    public long IrVersion { get; private init; }

    /// <summary>Opset versions by domain (<c>""</c> is the default ONNX domain).</summary>
    public IReadOnlyDictionary<string, long> Opsets { get; private init; } = new Dictionary<string, long>();

    /// <summary>Graph input names (initializers listed as inputs excluded).</summary>
    public IReadOnlyList<string> Inputs { get; private init; } = [];

    /// <summary>Graph output names.</summary>
    public IReadOnlyList<string> Outputs { get; private init; } = [];

    /// <summary>The declared type and shape of each of <see cref="Inputs"/>, in the same order.</summary>
    public IReadOnlyList<OnnxValueInfo> InputInfos { get; private init; } = [];

    /// <summary>The declared type and shape of each of <see cref="Outputs"/>, in the same order.</summary>
    public IReadOnlyList<OnnxValueInfo> OutputInfos { get; private init; } = [];

    /// <summary>Every node, in graph order.</summary>
    public IReadOnlyList<OnnxNodeInfo> Nodes { get; private init; } = [];

    /// <summary>Every initializer.</summary>
    public IReadOnlyList<OnnxInitializerInfo> Initializers { get; private init; } = [];

    /// <summary>The imported LSTM nodes, in graph order.</summary>
    public IReadOnlyList<OnnxLstmNode> LstmNodes { get; private init; } = [];

    /// <summary>The imported GRU nodes, in graph order.</summary>
    public IReadOnlyList<OnnxGruNode> GruNodes { get; private init; } = [];

    /// <summary>The parsed graph, nodes with their attributes, for <see cref="OnnxGraph"/>.</summary>
    internal GraphParts Graph { get; private init; } = new();

    /// <summary>
    /// Initializers decoded for the graph runner: every one some node reads other than as an LSTM node's W, R, B or P (those
    /// live in <see cref="LstmNodes"/>), or that is a graph output. Ones that cannot be decoded (a type the runner has no use
    /// for) are absent here and listed in <see cref="UndecodedConstants"/> with the reason.
    /// </summary>
    internal Dictionary<string, OnnxTensor> ConstantValues { get; private init; } = new(StringComparer.Ordinal);

    /// <inheritdoc cref="ConstantValues"/>
    internal Dictionary<string, string> UndecodedConstants { get; private init; } = new(StringComparer.Ordinal);

    /// <summary>Tensor-valued node attributes decoded for the graph runner (Constant's and ConstantOfShape's <c>value</c>), by attribute.</summary>
    internal Dictionary<Attribute, OnnxTensor> AttributeValues { get; private init; } = new(ReferenceEqualityComparer.Instance);

    /// <inheritdoc cref="AttributeValues"/>
    internal Dictionary<Attribute, string> UndecodedAttributes { get; private init; } = new(ReferenceEqualityComparer.Instance);

    /// <summary>
    /// The value of an initializer or <c>Constant</c> node output that a node other than an LSTM or GRU reads (an embedding
    /// table a <c>Gather</c> reads, a head's <c>MatMul</c> or <c>Gemm</c> weights), as the graph runner decoded it.
    /// </summary>
    /// <returns>False when no such value exists or its type could not be decoded.</returns>
    public bool TryGetConstant(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out OnnxTensor value)
    {
        ArgumentNullException.ThrowIfNull(name);
        return ConstantValues.TryGetValue(name, out value);
    }

    /// <summary>Initializers no LSTM or GRU node uses.</summary>
    public IReadOnlyList<string> IgnoredInitializers { get; private init; } = [];

    /// <summary>Largest ONNX file read: protobuf messages cannot exceed 2 GiB (bigger models keep weights as external data).</summary>
    public const long MaxFileLength = int.MaxValue;

    /// <summary>
    /// Reads an <c>.onnx</c> file, which must be a regular file (read into memory up to 256 MiB, memory-mapped above); external
    /// data is looked up in its folder.
    /// </summary>
    /// <exception cref="OnnxFormatException">The file is malformed or an LSTM node cannot be imported.</exception>
    public static OnnxModel Load(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using ByteSource source = ByteSource.OpenFile(path);
        if (source.Length > MaxFileLength) throw new OnnxFormatException($"the file is {source.Length} bytes; protobuf messages end at 2 GiB.");
        source.TryGetSpan(0, (int)source.Length, out ReadOnlySpan<byte> bytes);
        return Parse(bytes, Path.GetDirectoryName(Path.GetFullPath(path)));
    }

    /// <summary>
    /// Parses a model held in memory; <paramref name="directory"/> is where external data may be read (null: refused).
    /// What parsing builds is bounded by the file's length (see <c>OnnxParseBudget</c>): a file that would expand beyond it is refused.
    /// </summary>
    /// <exception cref="OnnxFormatException">The bytes are malformed or too costly to parse, or an LSTM node cannot be imported.</exception>
    public static OnnxModel Parse(ReadOnlySpan<byte> bytes, string? directory = null)
    {
        var graph = new GraphParts();
        long irVersion = 0;
        var opsets = new Dictionary<string, long>(StringComparer.Ordinal);
        bool sawGraph = false;
        var reader = new ProtoReader(bytes, budget: new OnnxParseBudget(bytes.Length));
        while (reader.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case OnnxFields.Model.IrVersion:
                    ProtoReader.Expect(field, wire, ProtoReader.Varint, "ModelProto.ir_version");
                    irVersion = (long)reader.ReadVarint();
                    break;
                case OnnxFields.Model.Graph:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "ModelProto.graph");
                    if (sawGraph) throw new OnnxFormatException("ModelProto holds two graphs.");
                    sawGraph = true;
                    ParseGraph(reader.ReadMessage(), graph);
                    break;
                case OnnxFields.Model.OpsetImport:
                {
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "ModelProto.opset_import");
                    ProtoReader opset = reader.ReadMessage();
                    string domain = "";
                    long version = 0;
                    while (opset.TryReadTag(out int f, out int w))
                    {
                        if (f == OnnxFields.OperatorSet.Domain && w == ProtoReader.LengthDelimited) domain = opset.ReadString();
                        else if (f == OnnxFields.OperatorSet.Version && w == ProtoReader.Varint) version = (long)opset.ReadVarint();
                        else opset.Skip(w);
                    }

                    reader.Budget.MapEntry();
                    opsets[domain] = version;
                    break;
                }

                default:
                    reader.Skip(wire);
                    break;
            }
        }

        if (!sawGraph) throw new OnnxFormatException("the file holds no graph (ModelProto.graph is missing).");
        var used = new HashSet<string>(StringComparer.Ordinal);
        var lstms = new List<(Node Node, OnnxLstmNode Imported)>();
        var grus = new List<OnnxGruNode>();
        foreach (Node node in graph.Nodes)
        {
            if (node.Domain is not ("" or "ai.onnx")) continue;
            if (node.OpType == "LSTM") lstms.Add((node, OnnxLstmImport.Import(node, graph, bytes, directory, used, lstms.Count)));
            else if (node.OpType == "GRU") grus.Add(OnnxGruImport.Import(node, graph, bytes, directory, used, grus.Count));
        }

        var initializerNames = new HashSet<string>(graph.Initializers.Keys, StringComparer.Ordinal);
        var (constants, undecoded) = OnnxGraphConstants.Decode(graph, bytes, directory);
        var (attributeValues, undecodedAttributes) = OnnxGraphConstants.DecodeAttributes(graph, bytes, directory);
        return new OnnxModel
        {
            IrVersion = irVersion,
            Opsets = opsets,
            Inputs = [.. graph.Inputs.Where(i => !initializerNames.Contains(i))],
            Outputs = graph.Outputs,
            InputInfos = [.. graph.InputInfos.Where(i => !initializerNames.Contains(i.Name))],
            OutputInfos = graph.OutputInfos,
            Graph = graph,
            ConstantValues = constants,
            UndecodedConstants = undecoded,
            AttributeValues = attributeValues,
            UndecodedAttributes = undecodedAttributes,
            Nodes = [.. graph.Nodes.Select(n => new OnnxNodeInfo(n.Name, n.OpType, n.Inputs, n.Outputs))],
            Initializers = [.. graph.InitializerOrder.Select(t => new OnnxInitializerInfo(t.Name, OnnxTensorProto.TypeName(t.DataType), t.Dims, t.IsExternal))],
            LstmNodes = [.. lstms.Select(l => l.Imported)],
            GruNodes = grus,
            IgnoredInitializers = [.. graph.InitializerOrder.Select(t => t.Name).Where(n => !used.Contains(n))],
        };
    }

    internal sealed class GraphParts
    {
        public List<Node> Nodes { get; } = [];
        public Dictionary<string, OnnxTensorProto> Initializers { get; } = new(StringComparer.Ordinal);
        public List<OnnxTensorProto> InitializerOrder { get; } = [];
        public Dictionary<string, OnnxTensorProto> Constants { get; } = new(StringComparer.Ordinal);
        public List<string> Inputs { get; } = [];
        public List<string> Outputs { get; } = [];
        public List<OnnxValueInfo> InputInfos { get; } = [];
        public List<OnnxValueInfo> OutputInfos { get; } = [];

        /// <summary>The tensor an initializer or a Constant node gives <paramref name="name"/>, or null for a value computed at run time.</summary>
        public OnnxTensorProto? Find(string name) =>
            Initializers.TryGetValue(name, out OnnxTensorProto? t) ? t : Constants.GetValueOrDefault(name);
    }

    internal sealed class Node
    {
        public string Name { get; set; } = "";
        public string OpType { get; set; } = "";
        public string Domain { get; set; } = "";
        public List<string> Inputs { get; } = [];
        public List<string> Outputs { get; } = [];
        public List<Attribute> Attributes { get; } = [];
    }

    internal sealed class Attribute
    {
        public string Name { get; set; } = "";
        public int Type { get; set; }
        public float? F { get; set; }
        public long? I { get; set; }
        public string? S { get; set; }
        public OnnxTensorProto? T { get; set; }
        public List<float> Floats { get; } = [];
        public List<long> Ints { get; } = [];
        public List<string> Strings { get; } = [];
        public bool IsReference { get; set; }
    }

    private static void ParseGraph(ProtoReader r, GraphParts graph)
    {
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case OnnxFields.Graph.Node:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "GraphProto.node");
                    Node node = ParseNode(r.ReadMessage());
                    graph.Nodes.Add(node);
                    if (node.OpType == "Constant" && node.Outputs.Count == 1)
                    {
                        Attribute? value = node.Attributes.Find(a => a.Name == "value");
                        if (value?.T is not null) graph.Constants[node.Outputs[0]] = value.T;
                    }

                    break;
                case OnnxFields.Graph.Initializer:
                {
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "GraphProto.initializer");
                    OnnxTensorProto t = OnnxTensorProto.Parse(r.ReadMessage());
                    if (!graph.Initializers.TryAdd(t.Name, t))
                        throw new OnnxFormatException($"two initializers are named '{SafetensorsFile.Printable(t.Name)}'.");
                    graph.InitializerOrder.Add(t);
                    break;
                }

                case OnnxFields.Graph.Input or OnnxFields.Graph.Output:
                {
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "GraphProto.input/output");
                    OnnxValueInfo info = ParseValueInfo(r.ReadMessage());
                    List<string> names = field == OnnxFields.Graph.Input ? graph.Inputs : graph.Outputs;
                    r.Budget.ListEntries(names.Count, 1, "GraphProto.input/output");
                    names.Add(info.Name);
                    (field == OnnxFields.Graph.Input ? graph.InputInfos : graph.OutputInfos).Add(info);
                    break;
                }

                default:
                    r.Skip(wire);
                    break;
            }
        }
    }

    /// <summary>ValueInfoProto: name (1), type (2) → TypeProto.tensor_type (1).</summary>
    private static OnnxValueInfo ParseValueInfo(ProtoReader info)
    {
        string name = "";
        int elementType = 0;
        List<OnnxDim>? shape = null;
        while (info.TryReadTag(out int f, out int w))
        {
            if (f == OnnxFields.ValueInfo.Name && w == ProtoReader.LengthDelimited) name = info.ReadString();
            else if (f == OnnxFields.ValueInfo.Type && w == ProtoReader.LengthDelimited)
            {
                ProtoReader type = info.ReadMessage();
                while (type.TryReadTag(out int tf, out int tw))
                {
                    if (tf == OnnxFields.ValueInfo.TensorType && tw == ProtoReader.LengthDelimited) ParseTensorType(type.ReadMessage(), name, ref elementType, ref shape);
                    else type.Skip(tw);
                }
            }
            else info.Skip(w);
        }

        return new OnnxValueInfo(name, elementType, shape);
    }

    /// <summary>TypeProto.Tensor: elem_type (1), shape (2) → dim (1).</summary>
    private static void ParseTensorType(ProtoReader tensor, string name, ref int elementType, ref List<OnnxDim>? shape)
    {
        while (tensor.TryReadTag(out int f, out int w))
        {
            if (f == OnnxFields.ValueInfo.ElementType && w == ProtoReader.Varint) elementType = (int)tensor.ReadVarint();
            else if (f == OnnxFields.ValueInfo.Shape && w == ProtoReader.LengthDelimited)
            {
                shape = [];
                ProtoReader dims = tensor.ReadMessage();
                while (dims.TryReadTag(out int df, out int dw))
                {
                    if (df != OnnxFields.ValueInfo.Dim || dw != ProtoReader.LengthDelimited)
                    {
                        dims.Skip(dw);
                        continue;
                    }

                    OnnxDim dim = ParseDim(dims.ReadMessage());
                    dims.Budget.Dims(shape.Count, 1, name);
                    shape.Add(dim);
                }
            }
            else tensor.Skip(w);
        }
    }

    /// <summary>TensorShapeProto.Dimension: dim_value (1) | dim_param (2); an empty dim_param is no name.</summary>
    private static OnnxDim ParseDim(ProtoReader dim)
    {
        long? value = null;
        string? param = null;
        while (dim.TryReadTag(out int f, out int w))
        {
            if (f == OnnxFields.ValueInfo.DimValue && w == ProtoReader.Varint) value = (long)dim.ReadVarint();
            else if (f == OnnxFields.ValueInfo.DimParam && w == ProtoReader.LengthDelimited) param = dim.ReadString();
            else dim.Skip(w);
        }

        return new OnnxDim(value, param is { Length: > 0 } ? param : null);
    }

    private static Node ParseNode(ProtoReader r)
    {
        r.Budget.Node();
        var node = new Node();
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case OnnxFields.Node.Input or OnnxFields.Node.Output or OnnxFields.Node.Name or OnnxFields.Node.OpType or OnnxFields.Node.Domain:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "NodeProto string field");
                    string text = r.ReadString();
                    if (field is OnnxFields.Node.Input or OnnxFields.Node.Output)
                        r.Budget.ListEntries(field == OnnxFields.Node.Input ? node.Inputs.Count : node.Outputs.Count, 1, "NodeProto.input/output");
                    if (field == OnnxFields.Node.Input) node.Inputs.Add(text);
                    else if (field == OnnxFields.Node.Output) node.Outputs.Add(text);
                    else if (field == OnnxFields.Node.Name) node.Name = text;
                    else if (field == OnnxFields.Node.OpType) node.OpType = text;
                    else node.Domain = text;
                    break;
                case OnnxFields.Node.Attribute:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "NodeProto.attribute");
                    r.Budget.Attribute(node.Attributes.Count);
                    node.Attributes.Add(ParseAttribute(r.ReadMessage()));
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        return node;
    }

    private static Attribute ParseAttribute(ProtoReader r)
    {
        var a = new Attribute();
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case OnnxFields.Attribute.Name:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "AttributeProto.name");
                    a.Name = r.ReadString();
                    break;
                case OnnxFields.Attribute.Type:
                    ProtoReader.Expect(field, wire, ProtoReader.Varint, "AttributeProto.type");
                    a.Type = (int)r.ReadVarint();
                    break;
                case OnnxFields.Attribute.F:
                    ProtoReader.Expect(field, wire, ProtoReader.Fixed32, "AttributeProto.f");
                    a.F = BitConverter.UInt32BitsToSingle(r.ReadFixed32());
                    break;
                case OnnxFields.Attribute.I:
                    ProtoReader.Expect(field, wire, ProtoReader.Varint, "AttributeProto.i");
                    a.I = (long)r.ReadVarint();
                    break;
                case OnnxFields.Attribute.S:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "AttributeProto.s");
                    a.S = r.ReadString();
                    break;
                case OnnxFields.Attribute.T:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "AttributeProto.t");
                    a.T = OnnxTensorProto.Parse(r.ReadMessage());
                    break;
                case OnnxFields.Attribute.Floats:
                    if (wire == ProtoReader.LengthDelimited)
                    {
                        ProtoReader packed = r.ReadMessage();
                        r.Budget.ListEntries(a.Floats.Count, packed.Remaining / 4, "AttributeProto.floats");
                        while (!packed.End) a.Floats.Add(BitConverter.UInt32BitsToSingle(packed.ReadFixed32()));
                    }
                    else
                    {
                        ProtoReader.Expect(field, wire, ProtoReader.Fixed32, "AttributeProto.floats");
                        r.Budget.ListEntries(a.Floats.Count, 1, "AttributeProto.floats");
                        a.Floats.Add(BitConverter.UInt32BitsToSingle(r.ReadFixed32()));
                    }

                    break;
                case OnnxFields.Attribute.Ints:
                    if (wire == ProtoReader.LengthDelimited)
                    {
                        ReadOnlySpan<byte> bytes = r.ReadBytes(out int offset);
                        r.Budget.ListEntries(a.Ints.Count, ProtoReader.CountVarints(bytes, "AttributeProto.ints"), "AttributeProto.ints");
                        var packed = new ProtoReader(bytes, offset);
                        while (!packed.End) a.Ints.Add((long)packed.ReadVarint());
                    }
                    else
                    {
                        ProtoReader.Expect(field, wire, ProtoReader.Varint, "AttributeProto.ints");
                        r.Budget.ListEntries(a.Ints.Count, 1, "AttributeProto.ints");
                        a.Ints.Add((long)r.ReadVarint());
                    }

                    break;
                case OnnxFields.Attribute.Strings:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "AttributeProto.strings");
                    r.Budget.ListEntries(a.Strings.Count, 1, "AttributeProto.strings");
                    a.Strings.Add(r.ReadString());
                    break;
                case OnnxFields.Attribute.RefAttrName:
                    a.IsReference = true;
                    r.Skip(wire);
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        return a;
    }

    internal static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);
}
