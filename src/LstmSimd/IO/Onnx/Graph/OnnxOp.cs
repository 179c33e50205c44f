using System.Globalization;

namespace LstmSimd.IO.Onnx.Graph;

/// <summary>
/// One ONNX operator the graph runner knows: which attributes and how many inputs and outputs it takes (checked when the
/// graph loads), which inputs must be known when planning (shapes, axes…), and how to plan it for concrete input shapes:
/// allocate its outputs and return the work to do per run. A node whose inputs are all known when planning is run once,
/// then, and its outputs become constants. Adding an operator is one small class in the file of its family plus one
/// line in <see cref="OnnxOps"/>.
/// </summary>
internal abstract class OnnxOp
{
    /// <summary>Attributes the operator reads; any other is refused at load.</summary>
    public virtual IReadOnlyList<string> Attributes => [];

    public virtual int MinInputs => 1;

    public virtual int MaxInputs => MinInputs;

    public virtual int MinOutputs => 1;

    public virtual int MaxOutputs => MinOutputs;

    /// <summary>Inputs whose values decide output shapes or indices, so must be constants or computed from shapes.</summary>
    public virtual IReadOnlyList<int> PlanTimeInputs => [];

    /// <summary>Whether the outputs depend only on the inputs' shapes (<c>Shape</c>), so are known when planning.</summary>
    public virtual bool ShapeOnly => false;

    /// <summary>Whether the node may be run at plan time when its inputs are known then (false for the LSTM, which keeps its session).</summary>
    public virtual bool Foldable => true;

    /// <summary>Load-time checks of attribute values that need no shapes.</summary>
    public virtual void Check(OnnxOpNode node) { }

    /// <summary>Allocates the outputs for the inputs' planned shapes; returns the per-run work, or null when planning did it all (views).</summary>
    public abstract Action? Plan(OnnxPlanContext c);
}

/// <summary>A node as the graph runner holds it: the parsed node, its operator, a printable label, and its attributes by name.</summary>
internal sealed class OnnxOpNode
{
    private readonly OnnxModel _model;

    public OnnxOpNode(OnnxModel model, OnnxModel.Node source, OnnxOp op, int index, OnnxLstmNode? lstm, OnnxGruNode? gru)
    {
        _model = model;
        Source = source;
        Op = op;
        Lstm = lstm;
        Gru = gru;
        Label = LabelOf(source, index);
        foreach (OnnxModel.Attribute a in source.Attributes)
        {
            if (a.IsReference) throw Fail($"attribute '{SafetensorsFile.Printable(a.Name)}' refers to a function attribute, which is not supported");
            if (!op.Attributes.Contains(a.Name)) throw Fail($"attribute '{SafetensorsFile.Printable(a.Name)}' is not supported");
            if (!AttributesByName.TryAdd(a.Name, a)) throw Fail($"attribute '{SafetensorsFile.Printable(a.Name)}' appears twice");
        }
    }

    public OnnxModel.Node Source { get; }

    public OnnxOp Op { get; }

    public OnnxLstmNode? Lstm { get; }

    public OnnxGruNode? Gru { get; }

    /// <summary><c>node 'name' (OpType)</c>, for messages.</summary>
    public string Label { get; }

    /// <summary>The label of the <paramref name="index"/>-th node: by name, or by position when it has none.</summary>
    public static string LabelOf(OnnxModel.Node source, int index) =>
        $"node '{SafetensorsFile.Printable(source.Name.Length > 0 ? source.Name : "#" + index.ToString(CultureInfo.InvariantCulture))}' ({SafetensorsFile.Printable(source.OpType)})";

    public Dictionary<string, OnnxModel.Attribute> AttributesByName { get; } = new(StringComparer.Ordinal);

    public string Input(int i) => i < Source.Inputs.Count ? Source.Inputs[i] : "";

    /// <summary>Whether input <paramref name="i"/> is an LSTM or GRU weight packed at load (so not a graph value the runner reads).</summary>
    public bool IsPackedWeight(int i) => (Lstm?.Model is not null || Gru is not null) && OnnxLstmImport.WeightInputs.Contains(i);

    public string Output(int i) => i < Source.Outputs.Count ? Source.Outputs[i] : "";

    public long Int(string name, long fallback) =>
        AttributesByName.TryGetValue(name, out OnnxModel.Attribute? a) ? a.I ?? throw Fail($"attribute '{name}' is not an integer") : fallback;

    public float Float(string name, float fallback) =>
        AttributesByName.TryGetValue(name, out OnnxModel.Attribute? a) ? a.F ?? throw Fail($"attribute '{name}' is not a float") : fallback;

    public long[]? Ints(string name) => AttributesByName.TryGetValue(name, out OnnxModel.Attribute? a) ? [.. a.Ints] : null;

    public bool Has(string name) => AttributesByName.ContainsKey(name);

    /// <summary>A tensor-valued attribute, decoded when the file was read; null when absent.</summary>
    public OnnxTensor? Tensor(string name)
    {
        if (!AttributesByName.TryGetValue(name, out OnnxModel.Attribute? a)) return null;
        if (a.T is null) throw Fail($"attribute '{name}' is not a tensor");
        return _model.AttributeValues.TryGetValue(a, out OnnxTensor? t) ? t : throw Fail($"attribute '{name}': {_model.UndecodedAttributes.GetValueOrDefault(a, "not decoded")}");
    }

    public OnnxFormatException Fail(string why) => new($"{Label}: {why}.");
}

/// <summary>What an operator sees while it is planned: its inputs' tensors (planned shapes; values when known), its outputs to allocate.</summary>
internal sealed class OnnxPlanContext(OnnxOpNode node, long opset, OnnxGraphPlan plan, OnnxTensor?[] inputs)
{
    private readonly OnnxTensor?[] _outputs = new OnnxTensor?[node.Source.Outputs.Count];

    public OnnxOpNode Node { get; } = node;

    /// <summary>The default domain's opset, for operators whose inputs or attributes moved between versions.</summary>
    public long Opset { get; } = opset;

    public OnnxGraphPlan Plan { get; } = plan;

    public int InputCount => inputs.Length;

    public IReadOnlyList<OnnxTensor?> Outputs => _outputs;

    /// <summary>Input <paramref name="i"/>, or null when omitted.</summary>
    public OnnxTensor? Input(int i) => i < inputs.Length ? inputs[i] : null;

    public OnnxTensor Required(int i, string what) => Input(i) ?? throw Node.Fail($"input {what} is missing");

    /// <summary>A float input (the runner computes in fp32).</summary>
    public OnnxTensor FloatInput(int i, string what)
    {
        OnnxTensor t = Required(i, what);
        return t.Kind == OnnxElementKind.Float ? t : throw Node.Fail($"input {what} holds {t.Kind} values; this operator takes floats");
    }

    /// <summary>The integer values of a plan-time input (checked at load to be known when planning).</summary>
    public long[] Ints(int i, string what)
    {
        OnnxTensor t = Required(i, what);
        if (t.Kind == OnnxElementKind.Float) throw Node.Fail($"input {what} holds floats; expected integers");
        return t.Int64s;
    }

    public bool OutputUsed(int i) => i < _outputs.Length && Node.Output(i).Length > 0;

    /// <summary>Allocates output <paramref name="i"/> (a scratch tensor when the node leaves that output unnamed).</summary>
    public OnnxTensor Output(int i, OnnxElementKind kind, int[] shape)
    {
        foreach (int d in shape)
            if (d < 0) throw Node.Fail($"output {i} would have shape {OnnxTensor.Describe(shape)}");
        long elements = OnnxTensor.ElementCount(shape);
        if (elements > Plan.MaxValueElements)
            throw Node.Fail($"output {i} would have shape {OnnxTensor.Describe(shape)}, {elements} elements; the limit is {Plan.MaxValueElements} (OnnxGraphOptions.MaxValueElements)");
        OnnxTensor t = OnnxTensor.Allocate(Node.Output(i).Length > 0 ? Node.Output(i) : $"{Node.Label} output {i}", kind, shape);
        if (i < _outputs.Length) _outputs[i] = t;
        return t;
    }

    /// <summary>Output <paramref name="i"/> as a view of <paramref name="source"/>'s elements with another shape of the same size.</summary>
    public void View(int i, OnnxTensor source, int[] shape)
    {
        if (OnnxTensor.ElementCount(shape) != source.Length)
            throw Node.Fail($"shape {OnnxTensor.Describe(shape)} does not hold the {source.Length} elements of {source.ShapeText}");
        if (i < _outputs.Length) _outputs[i] = source.View(Node.Output(i), shape);
    }

    /// <summary>Normalises an axis in [-rank, rank) to [0, rank).</summary>
    public int Axis(long axis, int rank, string what = "axis")
    {
        long a = axis < 0 ? axis + rank : axis;
        return a >= 0 && a < Math.Max(rank, 1) ? (int)a : throw Node.Fail($"{what} {axis} is out of range for rank {rank}");
    }

    public int Checked(long value, string what) =>
        value is >= 0 and <= int.MaxValue ? (int)value : throw Node.Fail($"{what} {value} is out of range");
}
