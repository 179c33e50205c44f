using LstmSimd.Cli.Tool;
using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// <c>lstmsimd run</c> on an <c>.onnx</c> file: the whole graph on the graph runner, its inputs read from the input file by
/// their ONNX names, every graph output written under its own. A graph that is an LSTM stack and nothing else also takes
/// PyTorch's names for its LSTM's direct inputs (input, h0, c0 [D, B, H] whatever the layout, lengths) and also gets
/// output, h_n and c_n in PyTorch's shapes, as the LstmSimd and PyTorch models do.
/// </summary>
internal static class OnnxRun
{
    public static string Run(string modelPath, string inputPath, bool batchFirst, string outputPath, WeightFormat? weights)
    {
        if (batchFirst)
            throw new ArgumentException("--batch-first is for safetensors models: an ONNX graph carries its own layout (a batch-first export holds its Transpose).");
        using OnnxGraph graph = OnnxGraph.Load(modelPath, new OnnxGraphOptions { Weights = weights });
        using SafetensorsFile data = SafetensorsFile.Open(inputPath);
        if (data.Contains("grad_output") || data.Contains("grad_h_n") || data.Contains("grad_c_n"))
            throw new NotSupportedException("Gradients are computed for LstmSimd and PyTorch LSTMs; an ONNX graph runs forward only.");

        if (graph.InitializerInputs.FirstOrDefault(data.Contains) is string fixedValue)
            throw new ArgumentException($"'{inputPath}' holds '{fixedValue}', a graph input with an initializer: the graph's own value is used and is not overridden; remove it from the input file.");
        Dictionary<string, (string Alias, OnnxLstmNode Node)> aliases = graph.IsLstmStack ? PyTorchInputNames(graph) : [];
        OnnxTensor[] inputs = [.. graph.Inputs.Select(i => Read(graph, data, i, aliases, inputPath))];
        RefuseUnusedStateNames(graph, data, aliases, inputPath);
        IReadOnlyList<OnnxTensor> outputs = graph.Run(inputs);

        var writer = new SafetensorsWriter().AddMetadata("model", Path.GetFileName(modelPath)).AddMetadata("engine", "ONNX graph runner");
        foreach (OnnxTensor output in outputs) Add(writer, output.Name, output, [.. output.Shape.Select(d => (long)d)]);
        if (graph.IsLstmStack) AddPyTorchOutputs(writer, graph, outputs);
        writer.Save(outputPath);

        string lstms = string.Join("\n", graph.Model.LstmNodes.Select(n => n.Description).Concat(graph.Model.GruNodes.Select(n => n.Description)));
        string recurrent = graph.Model.GruNodes.Count == 0 ? "LSTM" : graph.Model.LstmNodes.Count == 0 ? "GRU" : "LSTM and GRU";
        KernelPath kernel = KernelSelector.Resolve(KernelPath.Auto);
        return $"ONNX graph: {graph.RunNodes.Count} nodes run ({string.Join(", ", graph.RunNodes.Select(n => n.OpType).Distinct())}), {graph.FoldedNodes.Count} folded when planning"
            + (lstms.Length > 0 ? $"\n{lstms}" : "")
            + $"\nran {string.Join(", ", inputs.Select(i => $"{i.Name} {i.ShapeText}"))} with {recurrent} nodes on the fast path ({kernel}, {(weights is WeightFormat w ? WeightsOption.NameOf(w) : "file-precision")} weights)"
            + $"\nwrote {string.Join(", ", writer.Names)} to {outputPath}";
    }

    private static OnnxTensor Read(OnnxGraph graph, SafetensorsFile data, OnnxValueInfo input, Dictionary<string, (string Alias, OnnxLstmNode Node)> aliases, string inputPath)
    {
        if (data.Contains(input.Name)) return OnnxTensor.FromSafetensors(data, input.Name, input.Name);
        if (aliases.TryGetValue(input.Name, out var alias) && data.Contains(alias.Alias))
        {
            OnnxTensor t = OnnxTensor.FromSafetensors(data, alias.Alias, input.Name);
            // PyTorch's h0/c0 are [D, B, H]; a layout-1 node takes [B, D, H].
            bool state = alias.Alias is "h0" or "c0";
            return state && alias.Node.Layout == SequenceLayout.BatchFirst && t.Shape.Count == 3 ? SwapLeadingAxes(t, input.Name) : t;
        }

        string needed = string.Join(", ", graph.Inputs.Select(i => $"'{i.Name}' {i.ElementTypeName} {i.ShapeText}"
            + (aliases.TryGetValue(i.Name, out var a) ? $" (or '{a.Alias}')" : "")));
        throw new ArgumentException($"'{inputPath}' holds no tensor named '{input.Name}'; the graph takes {needed}.");
    }

    /// <summary>
    /// An input file holding PyTorch's <c>input</c>, <c>h0</c>, <c>c0</c> or <c>lengths</c> that the graph does not read is
    /// refused: running without them (an export that builds its own zero state, say) would silently answer another question.
    /// </summary>
    private static void RefuseUnusedStateNames(OnnxGraph graph, SafetensorsFile data, Dictionary<string, (string Alias, OnnxLstmNode Node)> aliases, string inputPath)
    {
        foreach (string name in new[] { "input", "h0", "c0", "lengths" })
        {
            bool read = graph.Inputs.Any(i => i.Name == name) || aliases.Any(a => a.Value.Alias == name && !data.Contains(a.Key));
            if (data.Contains(name) && !read)
            {
                throw new ArgumentException($"'{inputPath}' holds '{name}', which this graph does not read (it takes {string.Join(", ", graph.Inputs.Select(i => $"'{i.Name}'"))}); "
                    + "remove it, or export the model with it as a graph input.");
            }
        }
    }

    /// <summary>PyTorch's names for graph inputs that an LSTM node reads directly: X → input, initial_h → h0, initial_c → c0, sequence_lens → lengths.</summary>
    private static Dictionary<string, (string Alias, OnnxLstmNode Node)> PyTorchInputNames(OnnxGraph graph)
    {
        var inputs = new HashSet<string>(graph.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        var aliases = new Dictionary<string, (string, OnnxLstmNode)>(StringComparer.Ordinal);
        foreach (OnnxLstmNode node in graph.Model.LstmNodes)
        {
            foreach ((string? value, string alias) in new[] { (node.Input, "input"), (node.InitialHiddenInput, "h0"), (node.InitialCellInput, "c0"), (node.SequenceLengthsInput, "lengths") })
                if (value is not null && inputs.Contains(value)) aliases.TryAdd(value, (alias, node));
        }

        return aliases;
    }

    /// <summary>output [T, B, D·H] (or [B, T, D·H]), h_n and c_n [L·D, B, H] from the stack's three outputs, unless the graph already names them so.</summary>
    private static void AddPyTorchOutputs(SafetensorsWriter writer, OnnxGraph graph, IReadOnlyList<OnnxTensor> outputs)
    {
        string[] names = ["output", "h_n", "c_n"];
        for (int k = 0; k < 3; k++)
        {
            OnnxTensor t = outputs[k];
            if (writer.Names.Contains(names[k])) continue;
            OnnxLstmNode? producer = Producer(graph, t.Name);
            bool batchFirst = producer?.Layout == SequenceLayout.BatchFirst;
            int[] s = [.. t.Shape];
            if (k == 0 && s.Length == 4)
            {
                // An LSTM's own Y: [T, D, B, H] → [T, B, D·H]; [B, T, D, H] is already [B, T, D·H] in memory.
                OnnxTensor y = batchFirst ? t : SwapMiddleAxes(t);
                Add(writer, names[k], y, batchFirst ? [s[0], s[1], (long)s[2] * s[3]] : [s[0], s[2], (long)s[1] * s[3]]);
            }
            else if (k > 0 && s.Length == 3 && batchFirst && producer is not null)
            {
                Add(writer, names[k], SwapLeadingAxes(t, t.Name), [s[1], s[0], s[2]]);
            }
            else
            {
                Add(writer, names[k], t, [.. s.Select(d => (long)d)]);
            }
        }
    }

    /// <summary>The LSTM node whose own output <paramref name="value"/> is, if any.</summary>
    private static OnnxLstmNode? Producer(OnnxGraph graph, string value)
    {
        int lstm = 0;
        foreach (OnnxNodeInfo node in graph.Model.Nodes)
        {
            if (node.OpType != "LSTM") continue;
            if (node.Outputs.Contains(value)) return graph.Model.LstmNodes[lstm];
            lstm++;
        }

        return null;
    }

    private static void Add(SafetensorsWriter writer, string name, OnnxTensor t, long[] shape)
    {
        if (t.Kind == OnnxElementKind.Float) writer.Add(name, t.Floats, shape);
        else writer.Add(name, t.Int64s, shape);
    }

    /// <summary>[a, b, h] → [b, a, h].</summary>
    private static OnnxTensor SwapLeadingAxes(OnnxTensor t, string name) =>
        OnnxTensor.FromFloats(name, SwapAxes(t.Floats, 1, t.Shape[0], t.Shape[1], t.Shape[2]), t.Shape[1], t.Shape[0], t.Shape[2]);

    /// <summary>[t, a, b, h] → [t, b, a, h].</summary>
    private static OnnxTensor SwapMiddleAxes(OnnxTensor t) =>
        OnnxTensor.FromFloats(t.Name, SwapAxes(t.Floats, t.Shape[0], t.Shape[1], t.Shape[2], t.Shape[3]), t.Shape[0], t.Shape[2], t.Shape[1], t.Shape[3]);

    /// <summary>[outer, a, b, h] → [outer, b, a, h], into a new array.</summary>
    private static float[] SwapAxes(float[] source, int outer, int a, int b, int h)
    {
        int block = a * b * h;
        var swapped = new float[source.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < a; i++)
                for (int j = 0; j < b; j++)
                    source.AsSpan(o * block + (i * b + j) * h, h).CopyTo(swapped.AsSpan(o * block + (j * a + i) * h));
        return swapped;
    }
}
