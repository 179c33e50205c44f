using LstmSimd.Kernels;

namespace LstmSimd.IO.Onnx.Graph;

/// <summary>How <see cref="OnnxGraph"/> builds the fast path of its LSTM nodes.</summary>
public sealed class OnnxGraphOptions
{
    /// <summary>The kernel path of every LSTM node (<see cref="LstmModelOptions.Kernel"/>).</summary>
    public KernelPath Kernel { get; init; } = KernelPath.Auto;

    /// <summary>Threads per LSTM node (<see cref="LstmModelOptions.Threads"/>).</summary>
    public int Threads { get; init; } = 1;

    /// <summary>How the LSTM weights are stored (<see cref="LstmModelOptions.Weights"/>); null keeps each node's file precision.</summary>
    public WeightFormat? Weights { get; init; }

    /// <summary>
    /// The most elements one planned value may hold (default 2^28, 1 GiB of fp32): a plan that would allocate more for any
    /// value is refused, naming the node, so a hostile or mistaken shape cannot exhaust memory.
    /// </summary>
    public long MaxValueElements { get; init; } = 1L << 28;
}

/// <summary>
/// An ONNX graph made runnable: every node that reaches a graph output is checked when the graph loads (operator, attributes,
/// wiring) and is either folded — it depends only on initializers, constants and input shapes, so it is computed once per
/// planned shape — or run per call: LSTM and GRU nodes on the library's fast path, the operators around them in plain loops.
/// <see cref="Plan"/> sizes every buffer for the inputs' shapes; <see cref="Run"/> keeps the last plan, so a warm run at the
/// same shapes allocates nothing. What the runner does not run is refused at load, naming the node, the operator and why;
/// nodes whose outputs reach no graph output are listed in <see cref="DeadNodes"/> and not run. Not thread-safe: one graph
/// (or one <see cref="OnnxGraphPlan"/>) per thread.
/// </summary>
public sealed class OnnxGraph : IDisposable
{
    /// <summary>Operators that only carry an LSTM's values to the graph outputs (the glue of PyTorch's nn.LSTM export).</summary>
    private static readonly HashSet<string> LstmGlue = new(StringComparer.Ordinal)
    {
        "LSTM", "Squeeze", "Unsqueeze", "Reshape", "Transpose", "Concat", "Slice", "Identity", "Dropout", "Flatten",
    };

    private readonly Dictionary<OnnxOpNode, LstmModel> _fastModels = new(ReferenceEqualityComparer.Instance);
    private OnnxGraphPlan? _lastPlan;

    private OnnxGraph(OnnxModel model, OnnxGraphOptions options)
    {
        Model = model;
        Options = options;
        Opset = model.Opsets.TryGetValue("", out long opset) || model.Opsets.TryGetValue("ai.onnx", out opset) ? opset : 1;
        OnnxModel.GraphParts graph = model.Graph;
        var graphInputs = model.InputInfos.ToDictionary(i => i.Name, StringComparer.Ordinal);
        if (model.Outputs.Count == 0) throw new OnnxFormatException("the graph declares no output.");

        // Live nodes: those with an output some graph output depends on.
        var needed = new HashSet<string>(model.Outputs, StringComparer.Ordinal);
        var live = new bool[graph.Nodes.Count];
        for (int i = graph.Nodes.Count - 1; i >= 0; i--)
        {
            if (!graph.Nodes[i].Outputs.Any(needed.Contains)) continue;
            live[i] = true;
            foreach (string input in graph.Nodes[i].Inputs) needed.Add(input);
        }

        DeadNodes = [.. graph.Nodes.Where((_, i) => !live[i]).Select(Info)];
        var available = new HashSet<string>(graphInputs.Keys, StringComparer.Ordinal);
        available.UnionWith(graph.Initializers.Keys);
        var planTime = new HashSet<string>(graph.Initializers.Keys, StringComparer.Ordinal);
        var folded = new List<OnnxNodeInfo>();
        var run = new List<OnnxNodeInfo>();
        int lstmIndex = 0, gruIndex = 0;
        for (int i = 0; i < graph.Nodes.Count; i++)
        {
            OnnxModel.Node source = graph.Nodes[i];
            bool defaultDomain = source.Domain is "" or "ai.onnx";
            OnnxLstmNode? lstm = defaultDomain && source.OpType == "LSTM" ? model.LstmNodes[lstmIndex++] : null;
            OnnxGruNode? gru = defaultDomain && source.OpType == "GRU" ? model.GruNodes[gruIndex++] : null;
            if (!live[i]) continue;
            OnnxOpNode node = Check(model, source, i, lstm, gru, available);
            bool foldable = node.Op.Foldable && (node.Op.ShapeOnly || Enumerable.Range(0, source.Inputs.Count).All(k => source.Inputs[k].Length == 0 || planTime.Contains(source.Inputs[k])));
            foreach (int k in node.Op.PlanTimeInputs)
            {
                string value = node.Input(k);
                if (!foldable && value.Length > 0 && !planTime.Contains(value))
                    throw node.Fail($"input {k} ('{SafetensorsFile.Printable(value)}') is computed from data at run time; it must be known when planning (a constant, or computed from shapes)");
            }

            foreach (string output in source.Outputs.Where(o => o.Length > 0))
            {
                if (!available.Add(output)) throw node.Fail($"output '{SafetensorsFile.Printable(output)}' is already defined (ONNX values are assigned once)");
                if (foldable) planTime.Add(output);
            }

            Nodes.Add((node, foldable));
            (foldable ? folded : run).Add(Info(source));
            if (lstm?.Model is ImportedLstm imported)
                _fastModels[node] = LstmModel.Create(imported.Weights, FastModelOptions(imported.StoredWeightFormat));
            if (gru is not null)
                _fastModels[node] = GruModel.Create(gru.Weights, FastModelOptions(WeightFormat.Float32)).Core;
        }

        foreach (string output in model.Outputs)
            if (!available.Contains(output)) throw new OnnxFormatException($"graph output '{SafetensorsFile.Printable(output)}' is produced by no node, initializer or input.");

        Inputs = [.. model.InputInfos.Where(i => needed.Contains(i.Name))];
        InitializerInputs = [.. graph.Inputs.Where(graph.Initializers.ContainsKey)];
        UnusedInputs = [.. model.InputInfos.Where(i => !needed.Contains(i.Name)).Select(i => i.Name)];
        foreach (OnnxValueInfo input in Inputs) KindOf(input);
        Outputs = model.OutputInfos;
        FoldedNodes = folded;
        RunNodes = run;
        IsLstmStack = run.Any(n => n.OpType == "LSTM") && run.All(n => LstmGlue.Contains(n.OpType)) && Outputs.Count == 3;
    }

    /// <summary>The parsed file.</summary>
    public OnnxModel Model { get; }

    /// <summary>The options the graph was loaded with.</summary>
    public OnnxGraphOptions Options { get; }

    /// <summary>The default domain's opset.</summary>
    public long Opset { get; }

    /// <summary>The graph inputs a run needs, with their declared types and shapes (symbolic dims by name).</summary>
    public IReadOnlyList<OnnxValueInfo> Inputs { get; }

    /// <summary>
    /// Graph inputs that also have an initializer (as <c>keep_initializers_as_inputs</c> exports write every weight): the
    /// runner takes the initializer's value and never overrides it.
    /// </summary>
    public IReadOnlyList<string> InitializerInputs { get; }

    /// <summary>Graph inputs no graph output depends on (not needed by a run).</summary>
    public IReadOnlyList<string> UnusedInputs { get; }

    /// <summary>The graph outputs, in the order a run returns them.</summary>
    public IReadOnlyList<OnnxValueInfo> Outputs { get; }

    /// <summary>Nodes computed when planning, from initializers, constants and input shapes only.</summary>
    public IReadOnlyList<OnnxNodeInfo> FoldedNodes { get; }

    /// <summary>Nodes run on every call, in order.</summary>
    public IReadOnlyList<OnnxNodeInfo> RunNodes { get; }

    /// <summary>Nodes none of whose outputs reaches a graph output: not run, reported here.</summary>
    public IReadOnlyList<OnnxNodeInfo> DeadNodes { get; }

    /// <summary>
    /// Whether the graph is an LSTM stack and nothing else — LSTM nodes and the reshaping between them, three outputs (Y, Y_h,
    /// Y_c) — as a bare nn.LSTM export or a single LSTM node is; callers may then offer PyTorch's names and shapes.
    /// </summary>
    public bool IsLstmStack { get; }

    internal List<(OnnxOpNode Node, bool Folded)> Nodes { get; } = [];

    /// <summary>Loads an <c>.onnx</c> file and checks that its graph runs.</summary>
    /// <exception cref="OnnxFormatException">The file is malformed, or a node reaching an output is something the runner does not run; the message names it and says why.</exception>
    public static OnnxGraph Load(string path, OnnxGraphOptions? options = null) => Create(OnnxModel.Load(path), options);

    /// <inheritdoc cref="Load"/>
    public static OnnxGraph Create(OnnxModel model, OnnxGraphOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(model);
        return new OnnxGraph(model, options ?? new OnnxGraphOptions());
    }

    /// <summary>Plans the graph for the given input shapes: folds what depends only on constants and shapes, sizes every buffer.</summary>
    /// <exception cref="ArgumentException">An input is missing or its shape contradicts the declared one.</exception>
    /// <exception cref="OnnxFormatException">A node cannot run at these shapes; the message names it.</exception>
    public OnnxGraphPlan Plan(IReadOnlyDictionary<string, int[]> inputShapes)
    {
        ArgumentNullException.ThrowIfNull(inputShapes);
        return new OnnxGraphPlan(this, inputShapes);
    }

    /// <summary>
    /// Runs the graph on <paramref name="inputs"/> (by name; one per <see cref="Inputs"/>), planning first when the shapes differ
    /// from the last run's. Returns the graph outputs in order: buffers of the plan, overwritten by the next run. LSTM weights
    /// given as graph inputs are packed when their values differ from the last packed ones (that run allocates).
    /// </summary>
    public IReadOnlyList<OnnxTensor> Run(IReadOnlyList<OnnxTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        if (_lastPlan is null || !_lastPlan.Matches(inputs))
        {
            var shapes = new Dictionary<string, int[]>(StringComparer.Ordinal);
            foreach (OnnxTensor t in inputs) shapes[t.Name] = t.Dims;
            OnnxGraphPlan plan = Plan(shapes);
            _lastPlan?.Dispose();
            _lastPlan = plan;
        }

        return _lastPlan.Run(inputs);
    }

    /// <summary>Stops the worker threads of the last plan's LSTM sessions.</summary>
    public void Dispose()
    {
        _lastPlan?.Dispose();
        _lastPlan = null;
    }

    /// <summary>The fast model of an LSTM node packed at load, or a GRU node's in the LSTM's gate slots (see <see cref="GruModel"/>).</summary>
    internal LstmModel FastModel(OnnxOpNode node) => _fastModels[node];

    /// <summary>How every LSTM node's fast model is built; <paramref name="fileFormat"/> is what <see cref="OnnxGraphOptions.Weights"/> null keeps.</summary>
    internal LstmModelOptions FastModelOptions(WeightFormat fileFormat) =>
        new() { Kernel = Options.Kernel, Threads = Options.Threads, Weights = Options.Weights ?? fileFormat };

    /// <summary>How a graph input's elements are held; types the runner does not compute with are refused.</summary>
    internal static OnnxElementKind KindOf(OnnxValueInfo input) => input.ElementType == 0 ? OnnxElementKind.Float // undeclared: taken as floats
        : OnnxTensor.KindOf(input.ElementType) ?? throw new OnnxFormatException($"graph input '{SafetensorsFile.Printable(input.Name)}' has type {input.ElementTypeName}, which the runner does not compute with.");

    private static OnnxOpNode Check(OnnxModel model, OnnxModel.Node source, int index, OnnxLstmNode? lstm, OnnxGruNode? gru, HashSet<string> available)
    {
        string label = OnnxOpNode.LabelOf(source, index);
        if (source.Domain is not ("" or "ai.onnx"))
            throw new OnnxFormatException($"{label}: domain '{SafetensorsFile.Printable(source.Domain)}' is not supported; the runner runs the default ONNX domain.");
        OnnxOp op = OnnxOps.Find(source.OpType)
            ?? throw new OnnxFormatException($"{label}: operator {SafetensorsFile.Printable(source.OpType)} is not supported (the runner runs {OnnxOps.Names}).");
        var node = new OnnxOpNode(model, source, op, index, lstm, gru);
        if (source.Inputs.Count < op.MinInputs || source.Inputs.Count > op.MaxInputs)
            throw node.Fail($"it has {source.Inputs.Count} inputs; {source.OpType} takes {op.MinInputs} to {op.MaxInputs}");
        if (source.Outputs.Count < op.MinOutputs || source.Outputs.Count > op.MaxOutputs)
            throw node.Fail($"it has {source.Outputs.Count} outputs; {source.OpType} gives {op.MinOutputs} to {op.MaxOutputs}");
        for (int k = 0; k < source.Inputs.Count; k++)
        {
            string value = source.Inputs[k];
            if (value.Length == 0 || node.IsPackedWeight(k)) continue;
            if (!available.Contains(value))
                throw node.Fail($"input {k} reads '{SafetensorsFile.Printable(value)}', which no earlier node, initializer or graph input gives");
            if (model.UndecodedConstants.TryGetValue(value, out string? why)) throw node.Fail($"input {k}: {why}");
        }

        op.Check(node);
        return node;
    }

    private static OnnxNodeInfo Info(OnnxModel.Node n) => new(n.Name, n.OpType, n.Inputs, n.Outputs);
}
