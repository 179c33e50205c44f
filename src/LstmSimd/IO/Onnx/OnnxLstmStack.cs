namespace LstmSimd.IO;

/// <summary>
/// Joins the LSTM nodes of an ONNX graph into one stacked model, as PyTorch exports a multi-layer <c>nn.LSTM</c>: one
/// node per layer, each node's X the previous node's Y [T, D, B, H] reshaped to [T, B, D·H], by <c>Squeeze(axis 1)</c> for
/// one direction or <c>Transpose(perm 0, 2, 1, 3)</c> then <c>Reshape(0, 0, -1)</c> for two. Anything else between the
/// nodes, or nodes that differ in direction, hidden size, layout or cell, is reported rather than guessed at.
/// </summary>
internal static class OnnxLstmStack
{
    /// <summary>The stacked model, or why the nodes do not form one.</summary>
    public static (ImportedLstm? Model, string? Problem) Stack(OnnxModel.GraphParts graph, IReadOnlyList<(OnnxModel.Node Node, OnnxLstmNode Imported)> lstms,
        ReadOnlySpan<byte> file, string? directory)
    {
        if (lstms.Count == 0) return (null, "the model holds no LSTM node");
        if (lstms.Count == 1) return (lstms[0].Imported.Model, null);

        var producers = new Dictionary<string, OnnxModel.Node>(StringComparer.Ordinal);
        foreach (OnnxModel.Node node in graph.Nodes)
            foreach (string output in node.Outputs)
                if (output.Length > 0) producers.TryAdd(output, node);

        OnnxLstmNode first = lstms[0].Imported;
        LstmSpec firstSpec = first.Model.Weights.Spec;
        int dirs = firstSpec.Directions, hidden = firstSpec.HiddenSize;
        if (!graph.Inputs.Contains(first.Input)) return (null, $"the first LSTM node's X ('{SafetensorsFile.Printable(first.Input)}') is not a graph input");

        var layers = new List<LstmLayerWeights>();
        bool bias = lstms.Any(l => l.Imported.Model.Weights.Spec.Bias);
        var initialHidden = new List<float>();
        var initialCell = new List<float>();
        for (int k = 0; k < lstms.Count; k++)
        {
            (OnnxModel.Node node, OnnxLstmNode imported) = lstms[k];
            ImportedLstm model = imported.Model;
            LstmSpec spec = model.Weights.Spec;
            string which = $"LSTM node '{SafetensorsFile.Printable(imported.Name)}'";
            if (spec.Directions != dirs || spec.HiddenSize != hidden || model.Layout != SequenceLayout.TimeMajor || model.Direction != ImportedDirection.Forward
                || spec.Cell != firstSpec.Cell)
                return (null, $"{which} differs from the first in direction, hidden size, layout or cell, so the nodes are not one stack");
            if (imported.SequenceLengthsInput is not null || model.SequenceLengths.Length != 0)
                return (null, $"{which} takes sequence_lens; stacks are joined without them");
            if (!IsZeroOrConstant(graph, producers, imported.InitialHiddenInput, file) || !IsZeroOrConstant(graph, producers, imported.InitialCellInput, file))
                return (null, $"{which} computes its initial state at run time from something other than zeros");
            if (k > 0)
            {
                string previousY = lstms[k - 1].Node.Outputs.Count > 0 ? lstms[k - 1].Node.Outputs[0] : "";
                if (spec.InputSize != dirs * hidden || !FeedsFrom(graph, producers, imported.Input, previousY, dirs, file, directory))
                    return (null, $"{which} does not read the previous node's Y as PyTorch's export does (Squeeze(1), or Transpose(0, 2, 1, 3) and Reshape(0, 0, -1))");
            }

            if ((model.InitialHidden.Length == 0) != (first.Model.InitialHidden.Length == 0) || (model.InitialCell.Length == 0) != (first.Model.InitialCell.Length == 0))
                return (null, $"{which} has a constant initial state where the first node has none, or the other way round");
            initialHidden.AddRange(model.InitialHidden);
            initialCell.AddRange(model.InitialCell);
            for (int d = 0; d < dirs; d++)
            {
                LstmLayerWeights w = model.Weights[0, d];
                layers.Add(new LstmLayerWeights
                {
                    WeightIh = w.WeightIh,
                    WeightHh = w.WeightHh,
                    BiasIh = bias && w.BiasIh.Length == 0 ? new float[spec.GateRows] : w.BiasIh,
                    BiasHh = bias && w.BiasHh.Length == 0 ? new float[spec.GateRows] : w.BiasHh,
                    Peephole = w.Peephole,
                });
            }
        }

        LstmWeights stacked;
        try
        {
            stacked = new LstmWeights(new LstmSpec(firstSpec.InputSize, hidden, lstms.Count, dirs == 2, 0, bias) { Cell = firstSpec.Cell }, layers);
        }
        catch (ArgumentException e)
        {
            return (null, e.Message);
        }

        return (new ImportedLstm
        {
            Weights = stacked,
            Description = $"ONNX stack of {lstms.Count} LSTM nodes ('{SafetensorsFile.Printable(first.Name)}' … '{SafetensorsFile.Printable(lstms[^1].Imported.Name)}'): "
                + $"{(dirs == 2 ? "bidirectional" : "forward")}, input {firstSpec.InputSize}, hidden {hidden}",
            InitialHidden = [.. initialHidden],
            InitialCell = [.. initialCell],
            UsedTensors = [.. lstms.SelectMany(l => l.Imported.Model.UsedTensors)],
            IgnoredTensors = [.. graph.InitializerOrder.Select(t => t.Name).Where(n => !lstms.Any(l => l.Imported.Model.UsedTensors.Contains(n)))],
        }, null);
    }

    /// <summary>Whether <paramref name="value"/> turns the previous node's Y into this node's X the way PyTorch's export does.</summary>
    private static bool FeedsFrom(OnnxModel.GraphParts graph, Dictionary<string, OnnxModel.Node> producers, string value, string previousY, int dirs,
        ReadOnlySpan<byte> file, string? directory)
    {
        if (previousY.Length == 0 || !producers.TryGetValue(value, out OnnxModel.Node? last)) return false;
        if (dirs == 1)
        {
            // Squeeze: axes as an attribute (opset < 13) or as a constant second input.
            if (last.OpType != "Squeeze" || last.Inputs.Count == 0 || last.Inputs[0] != previousY) return false;
            long[]? axes = last.Inputs.Count > 1 ? Ints(graph, last.Inputs[1], file, directory) : last.Attributes.Find(a => a.Name == "axes")?.Ints.ToArray();
            return axes is [1] or [-3];
        }

        if (last.OpType != "Reshape" || last.Inputs.Count < 2 || Ints(graph, last.Inputs[1], file, directory) is not [0, 0, -1]) return false;
        if (!producers.TryGetValue(last.Inputs[0], out OnnxModel.Node? transpose) || transpose.OpType != "Transpose" || transpose.Inputs.Count == 0 || transpose.Inputs[0] != previousY)
            return false;
        return transpose.Attributes.Find(a => a.Name == "perm")?.Ints is [0, 2, 1, 3];
    }

    /// <summary>An initial state that is absent, a constant, or zeros expanded to the batch (PyTorch's export without h0/c0).</summary>
    private static bool IsZeroOrConstant(OnnxModel.GraphParts graph, Dictionary<string, OnnxModel.Node> producers, string? runtimeInput, ReadOnlySpan<byte> file)
    {
        if (runtimeInput is null) return true;
        if (!producers.TryGetValue(runtimeInput, out OnnxModel.Node? expand) || expand.OpType != "Expand" || expand.Inputs.Count == 0) return false;
        OnnxTensorProto? source = graph.Find(expand.Inputs[0]);
        if (source is null || source.IsExternal || source.ElementCount() > 1 << 20) return false;
        try
        {
            return source.ToSingles(file, null).All(v => v == 0f);
        }
        catch (OnnxFormatException)
        {
            return false; // not a float tensor
        }
    }

    private static long[]? Ints(OnnxModel.GraphParts graph, string name, ReadOnlySpan<byte> file, string? directory)
    {
        OnnxTensorProto? t = graph.Find(name);
        if (t is null || t.ElementCount() > 16) return null;
        try
        {
            return t.ToInt64s(file, directory);
        }
        catch (OnnxFormatException)
        {
            return null;
        }
    }
}
