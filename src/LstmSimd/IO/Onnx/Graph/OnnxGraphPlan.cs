using LstmSimd.Kernels;

namespace LstmSimd.IO.Onnx.Graph;

/// <summary>
/// An <see cref="OnnxGraph"/> planned for one set of input shapes: what depends only on constants and shapes is computed,
/// every other value has its buffer, and <see cref="Run"/> copies the inputs in and runs the remaining nodes in order,
/// allocating nothing — except that an LSTM node whose W, R, B or P is a graph input (or computed from one) packs those
/// weights into a new fast model on the first run and on every run whose weight values differ from the last packed ones,
/// which allocates. Dispose it to stop the worker threads of its LSTM sessions.
/// </summary>
public sealed class OnnxGraphPlan : IDisposable
{
    private readonly OnnxGraph _graph;
    private readonly List<IDisposable> _owned = [];
    private readonly Action[] _steps;
    private readonly OnnxTensor[] _inputs;

    internal OnnxGraphPlan(OnnxGraph graph, IReadOnlyDictionary<string, int[]> inputShapes)
    {
        _graph = graph;
        var values = new Dictionary<string, OnnxTensor>(graph.Model.ConstantValues, StringComparer.Ordinal);
        var bound = new Dictionary<string, int>(StringComparer.Ordinal);
        var inputs = new List<OnnxTensor>();
        foreach (OnnxValueInfo info in graph.Inputs)
        {
            if (!inputShapes.TryGetValue(info.Name, out int[]? shape)) throw Missing(graph, info.Name);
            CheckDeclared(info, shape, bound);
            if (OnnxTensor.ElementCount(shape) > graph.Options.MaxValueElements)
                throw new ArgumentException($"input '{SafetensorsFile.Printable(info.Name)}' {OnnxTensor.Describe(shape)} holds more than {graph.Options.MaxValueElements} elements (OnnxGraphOptions.MaxValueElements).");
            OnnxTensor buffer = OnnxTensor.Allocate(info.Name, OnnxGraph.KindOf(info), [.. shape]);
            inputs.Add(buffer);
            values[info.Name] = buffer;
        }

        _inputs = [.. inputs];
        var steps = new List<Action>();
        try
        {
            foreach ((OnnxOpNode node, bool folded) in graph.Nodes)
            {
                var arguments = new OnnxTensor?[node.Source.Inputs.Count];
                for (int k = 0; k < arguments.Length; k++)
                {
                    string name = node.Input(k);
                    if (name.Length == 0 || node.IsPackedWeight(k)) continue;
                    arguments[k] = values[name];
                }

                var context = new OnnxPlanContext(node, graph.Opset, this, arguments);
                Action? step = Guard(node, () => node.Op.Plan(context));
                if (step is not null)
                {
                    if (folded) Guard(node, () => step());
                    else steps.Add(step);
                }

                for (int k = 0; k < context.Outputs.Count; k++)
                    if (context.Outputs[k] is OnnxTensor t && node.Output(k).Length > 0) values[node.Output(k)] = t;
            }

            Outputs = [.. graph.Model.Outputs.Select(name => values.TryGetValue(name, out OnnxTensor? t) ? t.View(name, t.Dims)
                : throw new OnnxFormatException($"graph output '{SafetensorsFile.Printable(name)}' was not computed."))];
        }
        catch
        {
            Dispose();
            throw;
        }

        _steps = [.. steps];
        InputShapes = inputShapes.ToDictionary(p => p.Key, p => (IReadOnlyList<int>)[.. p.Value], StringComparer.Ordinal);
    }

    /// <summary>The shapes this plan was made for.</summary>
    public IReadOnlyDictionary<string, IReadOnlyList<int>> InputShapes { get; }

    /// <summary>The graph outputs as the last run left them, in the graph's order, under their ONNX names.</summary>
    public IReadOnlyList<OnnxTensor> Outputs { get; }

    /// <summary>The number of nodes run per call (the rest were folded when planning).</summary>
    public int StepCount => _steps.Length;

    /// <summary>
    /// Copies <paramref name="inputs"/> (matched by name) into the plan and runs it; allocates only to repack LSTM weights
    /// given at run time whose values changed since the last run.
    /// </summary>
    /// <exception cref="ArgumentException">An input is missing or differs from the planned shape or kind; nothing is run.</exception>
    public IReadOnlyList<OnnxTensor> Run(IReadOnlyList<OnnxTensor> inputs)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        foreach (OnnxTensor buffer in _inputs)
        {
            OnnxTensor given = Find(inputs, buffer.Name) ?? throw Missing(_graph, buffer.Name);
            if (!given.Dims.AsSpan().SequenceEqual(buffer.Dims))
                throw new ArgumentException($"input '{SafetensorsFile.Printable(buffer.Name)}' has shape {given.ShapeText}; this plan is for {buffer.ShapeText}.", nameof(inputs));
            if ((given.Kind == OnnxElementKind.Float) != (buffer.Kind == OnnxElementKind.Float))
                throw new ArgumentException($"input '{SafetensorsFile.Printable(buffer.Name)}' holds {given.Kind} values; the graph takes {buffer.Kind}.", nameof(inputs));
        }

        foreach (OnnxTensor buffer in _inputs)
        {
            OnnxTensor given = Find(inputs, buffer.Name)!;
            if (buffer.Kind == OnnxElementKind.Float) given.Floats.CopyTo(buffer.Floats, 0);
            else given.Int64s.CopyTo(buffer.Int64s, 0);
        }

        foreach (Action step in _steps) step();
        return Outputs;
    }

    /// <inheritdoc/>
    public void Dispose()
    {
        foreach (IDisposable d in _owned) d.Dispose();
        _owned.Clear();
    }

    internal bool Matches(IReadOnlyList<OnnxTensor> inputs)
    {
        foreach (OnnxTensor buffer in _inputs)
            if (Find(inputs, buffer.Name) is not OnnxTensor given || !given.Dims.AsSpan().SequenceEqual(buffer.Dims)) return false;
        return true;
    }

    internal LstmModel FastModel(OnnxOpNode node) => _graph.FastModel(node);

    internal LstmModelOptions FastModelOptions(WeightFormat fileFormat) => _graph.FastModelOptions(fileFormat);

    internal long MaxValueElements => _graph.Options.MaxValueElements;

    internal T Own<T>(T disposable)
        where T : IDisposable
    {
        _owned.Add(disposable);
        return disposable;
    }

    private static OnnxTensor? Find(IReadOnlyList<OnnxTensor> inputs, string name)
    {
        for (int i = 0; i < inputs.Count; i++)
            if (inputs[i].Name == name) return inputs[i];
        return null;
    }

    private static ArgumentException Missing(OnnxGraph graph, string name) =>
        new($"the graph needs input '{SafetensorsFile.Printable(name)}'; it takes {string.Join(", ", graph.Inputs.Select(i => $"'{SafetensorsFile.Printable(i.Name)}' {i.ElementTypeName} {i.ShapeText}"))}.");

    /// <summary>A shape against the declared one: same rank, numbered dims equal, a named dim the same wherever it appears.</summary>
    private static void CheckDeclared(OnnxValueInfo info, int[] shape, Dictionary<string, int> bound)
    {
        foreach (int d in shape) ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
        if (info.Shape is null) return;
        string where = $"input '{SafetensorsFile.Printable(info.Name)}' has shape {OnnxTensor.Describe(shape)}; the graph declares {info.ShapeText}";
        if (info.Shape.Count != shape.Length) throw new ArgumentException(where + ".");
        for (int d = 0; d < shape.Length; d++)
        {
            OnnxDim dim = info.Shape[d];
            if (dim.Value is long value && value != shape[d]) throw new ArgumentException(where + ".");
            if (dim.Name is string name && bound.TryGetValue(name, out int other) && other != shape[d])
                throw new ArgumentException($"{where}, and {name} is {other} elsewhere.");
            if (dim.Name is string n) bound[n] = shape[d];
        }
    }

    /// <summary>Runs planning work, turning a failure of the shapes (a bad index, an overflow) into a refusal naming the node.</summary>
    private static T Guard<T>(OnnxOpNode node, Func<T> plan)
    {
        try
        {
            return plan();
        }
        catch (Exception e) when (e is ArgumentException or OverflowException or IndexOutOfRangeException)
        {
            throw new OnnxFormatException($"{node.Label}: {e.Message}", e);
        }
    }

    private static void Guard(OnnxOpNode node, Action plan) => Guard(node, () =>
    {
        plan();
        return 0;
    });
}
