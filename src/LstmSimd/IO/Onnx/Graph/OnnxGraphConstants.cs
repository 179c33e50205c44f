namespace LstmSimd.IO.Onnx.Graph;

/// <summary>Decodes, while the file is still open, the initializers and tensor attributes the graph runner may read.</summary>
internal static class OnnxGraphConstants
{
    /// <summary>Every initializer read by a node other than as W, R, B or P of an LSTM or GRU node packed at load, or that is a graph output.</summary>
    public static (Dictionary<string, OnnxTensor> Decoded, Dictionary<string, string> Undecoded) Decode(OnnxModel.GraphParts graph, ReadOnlySpan<byte> file, string? directory)
    {
        var decoded = new Dictionary<string, OnnxTensor>(StringComparer.Ordinal);
        var undecoded = new Dictionary<string, string>(StringComparer.Ordinal);
        var wanted = new HashSet<string>(graph.Outputs, StringComparer.Ordinal);
        foreach (OnnxModel.Node node in graph.Nodes)
        {
            bool packedAtLoad = node.OpType is "LSTM" or "GRU" && OnnxLstmImport.HasConstantWeights(node, graph);
            for (int i = 0; i < node.Inputs.Count; i++)
                if (!(packedAtLoad && OnnxLstmImport.WeightInputs.Contains(i))) wanted.Add(node.Inputs[i]);
        }

        foreach (string name in wanted)
        {
            if (name.Length == 0 || !graph.Initializers.TryGetValue(name, out OnnxTensorProto? t)) continue;
            try
            {
                decoded[name] = Decode(name, t, file, directory);
            }
            catch (OnnxFormatException e)
            {
                undecoded[name] = e.Message;
            }
        }

        return (decoded, undecoded);
    }

    /// <summary>Tensor-valued attributes (Constant's and ConstantOfShape's <c>value</c>), keyed by the attribute; undecodable ones with the reason.</summary>
    public static (Dictionary<OnnxModel.Attribute, OnnxTensor> Decoded, Dictionary<OnnxModel.Attribute, string> Undecoded) DecodeAttributes(
        OnnxModel.GraphParts graph, ReadOnlySpan<byte> file, string? directory)
    {
        var decoded = new Dictionary<OnnxModel.Attribute, OnnxTensor>(ReferenceEqualityComparer.Instance);
        var undecoded = new Dictionary<OnnxModel.Attribute, string>(ReferenceEqualityComparer.Instance);
        foreach (OnnxModel.Node node in graph.Nodes)
        {
            foreach (OnnxModel.Attribute a in node.Attributes)
            {
                if (a.T is null) continue;
                try
                {
                    decoded[a] = Decode(a.Name, a.T, file, directory);
                }
                catch (OnnxFormatException e)
                {
                    undecoded[a] = e.Message;
                }
            }
        }

        return (decoded, undecoded);
    }

    private static OnnxTensor Decode(string name, OnnxTensorProto t, ReadOnlySpan<byte> file, string? directory)
    {
        var shape = new int[t.Dims.Count];
        for (int i = 0; i < shape.Length; i++)
        {
            if (t.Dims[i] is < 0 or > int.MaxValue) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(name)}' has dimension {t.Dims[i]} in {t.Shape}.");
            shape[i] = (int)t.Dims[i];
        }

        return t.DataType is OnnxTensorProto.Int32 or OnnxTensorProto.Int64
            ? OnnxTensor.FromInt64s(name, t.ToInt64s(file, directory), shape)
            : OnnxTensor.FromFloats(name, t.ToSingles(file, directory), shape);
    }
}
