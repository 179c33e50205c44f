using System.Globalization;

namespace LstmSimd.IO.Onnx;

/// <summary>
/// Turns one ONNX <c>GRU</c> node into <see cref="GruWeights"/> with ONNX's semantics: gate blocks z, r, h reordered to r, z, n;
/// B split into W_b (b_ih) and R_b (b_hh); <c>linear_before_reset</c> 1 (PyTorch's cell, what <c>torch.onnx.export</c> writes)
/// or 0 (the original cell, ONNX's default: <see cref="GruSpec.LinearBeforeReset"/> false). Only what the fast GRU computes
/// is taken: gates f = Sigmoid or HardSigmoid with g = Tanh, no clip, weights given by initializers or Constant nodes.
/// </summary>
internal static class OnnxGruImport
{
    /// <summary>Our gate g (r, z, n) comes from ONNX gate block OnnxGate[g] (ONNX order z, r, h).</summary>
    private static ReadOnlySpan<int> OnnxGate => [1, 0, 2];

    private static readonly string[] Allowed =
        ["hidden_size", "direction", "layout", "clip", "activations", "activation_alpha", "activation_beta", "linear_before_reset"];

    public static OnnxGruNode Import(OnnxModel.Node node, OnnxModel.GraphParts graph, ReadOnlySpan<byte> file, string? directory, HashSet<string> used, int index)
    {
        (string name, string where, Dictionary<string, OnnxModel.Attribute> attributes) = OnnxLstmImport.ReadAttributes(node, "GRU", index, Allowed);
        (string direction, int dirs) = OnnxLstmImport.Direction(attributes, where);
        long layout = OnnxLstmImport.Layout(attributes, where);
        long linearBeforeReset = OnnxLstmImport.Int(attributes, "linear_before_reset", 0, where);
        if (linearBeforeReset is not (0 or 1)) throw Bad(where, $"linear_before_reset {linearBeforeReset} is not 0 or 1");
        if (attributes.ContainsKey("clip")) throw Bad(where, "clip is set; LstmSimd's GRU does not clip its gate pre-activations");
        Activation gate = GateActivation(attributes, dirs, where);

        if (node.Inputs.Count < 3 || node.Inputs.Count > 6) throw Bad(where, $"it has {node.Inputs.Count} inputs; GRU takes 3 to 6");
        string Input(int i) => i < node.Inputs.Count ? node.Inputs[i] : "";
        if (Input(1).Length == 0) throw Bad(where, "input W is missing");
        if (Input(2).Length == 0) throw Bad(where, "input R is missing");
        if (!OnnxLstmImport.HasConstantWeights(node, graph))
            throw Bad(where, "W, R or B is computed at run time; LstmSimd runs a GRU node whose weights are initializers or Constant nodes");

        OnnxTensorProto w = OnnxLstmImport.Constant(graph, Input(1), "W", where, used);
        OnnxTensorProto r = OnnxLstmImport.Constant(graph, Input(2), "R", where, used);
        OnnxTensorProto? b = Input(3).Length > 0 ? OnnxLstmImport.Constant(graph, Input(3), "B", where, used) : null;
        int inputSize = OnnxLstmImport.Dim(w, 3, 2, "W", where);
        int hidden = OnnxLstmImport.Dim(r, 3, 2, "R", where);
        if (attributes.ContainsKey("hidden_size") && OnnxLstmImport.Int(attributes, "hidden_size", 0, where) != hidden)
            throw Bad(where, $"hidden_size {OnnxLstmImport.Int(attributes, "hidden_size", 0, where)} disagrees with R {r.Shape}");
        long gates = 3L * hidden;
        OnnxLstmImport.ExpectShape(w, where, "W", dirs, gates, inputSize);
        OnnxLstmImport.ExpectShape(r, where, "R", dirs, gates, hidden);
        if (b is not null) OnnxLstmImport.ExpectShape(b, where, "B", dirs, 2 * gates);
        GruSpec spec = OnnxLstmImport.Wrap(where, () => new GruSpec(inputSize, hidden, 1, dirs == 2, b is not null, linearBeforeReset == 1) { GateActivation = gate });

        float[] wData = w.ToSingles(file, directory), rData = r.ToSingles(file, directory), bData = b?.ToSingles(file, directory) ?? [];
        // The spec checked that each direction's tensors fit an array, so these int offsets cannot wrap.
        int wLength = spec.InputWeightLength(0), rLength = spec.RecurrentWeightLength, bLength = spec.GateRows;
        var layers = new List<GruLayerWeights>();
        for (int d = 0; d < dirs; d++)
        {
            layers.Add(new GruLayerWeights
            {
                WeightIh = OnnxLstmImport.Reorder(wData.AsSpan(d * wLength, wLength), hidden, inputSize, OnnxGate),
                WeightHh = OnnxLstmImport.Reorder(rData.AsSpan(d * rLength, rLength), hidden, hidden, OnnxGate),
                BiasIh = b is null ? [] : OnnxLstmImport.Reorder(bData.AsSpan(2 * d * bLength, bLength), hidden, 1, OnnxGate),
                BiasHh = b is null ? [] : OnnxLstmImport.Reorder(bData.AsSpan((2 * d + 1) * bLength, bLength), hidden, 1, OnnxGate),
            });
        }

        GruWeights weights = OnnxLstmImport.Wrap(where, () => new GruWeights(spec, layers));
        (int[] lengths, string? lengthsInput) = OnnxLstmImport.Lengths(graph, Input(4), file, directory, where, used);
        (_, string? hInput) = OnnxLstmImport.State(graph, Input(5), "initial_h", file, directory, where, used, dirs, hidden, layout == 1, lengths.Length);
        return new OnnxGruNode
        {
            Name = name,
            Description = string.Create(CultureInfo.InvariantCulture,
                $"ONNX GRU node '{SafetensorsFile.Printable(name)}': {direction}, layout {layout}, input {inputSize}, hidden {hidden}{(b is null ? ", no bias" : "")}, linear_before_reset {linearBeforeReset}"),
            Weights = weights,
            Direction = direction == "reverse" ? ImportedDirection.Reverse : ImportedDirection.Forward,
            Layout = layout == 1 ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor,
            Input = Input(0),
            SequenceLengthsInput = lengthsInput,
            InitialHiddenInput = hInput,
        };
    }

    /// <summary>
    /// The gates' f: ONNX's default Sigmoid or a HardSigmoid (any alpha and beta); g must be Tanh. Anything else is refused,
    /// naming the function.
    /// </summary>
    private static Activation GateActivation(Dictionary<string, OnnxModel.Attribute> attributes, int dirs, string where)
    {
        Activation[]? list = OnnxLstmImport.ActivationList(attributes, 2, dirs, where, "f, g");
        if (list is null) return Activation.Sigmoid;
        if (list[0].Kind is not (ActivationKind.Sigmoid or ActivationKind.HardSigmoid))
            throw Bad(where, $"activation '{list[0].Kind}' as f is not supported; LstmSimd's GRU gates run Sigmoid or HardSigmoid");
        if (list[1].Kind != ActivationKind.Tanh)
            throw Bad(where, $"activation '{list[1].Kind}' as g is not supported; LstmSimd's GRU runs g = Tanh");
        return list[0];
    }

    private static OnnxFormatException Bad(string where, string what) => OnnxLstmImport.Bad(where, what);
}
