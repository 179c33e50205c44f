namespace LstmSimd.IO;

/// <summary>The names of one Keras LSTM layer: its forward cell's prefix and, inside a <c>Bidirectional</c> wrapper, the backward cell's.</summary>
/// <param name="Forward">Prefix of <c>kernel</c>, <c>recurrent_kernel</c>, <c>bias</c>, e.g. <c>lstm/lstm_cell/</c>.</param>
/// <param name="Backward">Prefix of the backward layer's tensors, or null for a unidirectional layer.</param>
public sealed record KerasLayerNames(string Forward, string? Backward = null);

/// <summary>
/// Keras LSTM weights by Keras's names: <c>kernel</c> [I, 4H], <c>recurrent_kernel</c> [H, 4H] and
/// <c>bias</c> [4H] (absent with <c>use_bias=False</c>), gate order i, f, c, o, i.e. PyTorch's order
/// transposed, with one bias (imported as <c>b_ih</c>, with <c>b_hh</c> zero). A TensorFlow-style
/// <c>:0</c> suffix on the names is accepted. Keras's <c>Bidirectional</c> runs its backward layer over
/// the reversed sequence and concatenates [forward, backward], which is LstmSimd's bidirectional layer.
/// </summary>
public static class KerasLstm
{
    /// <summary>Imports one unidirectional layer whose tensors are <paramref name="prefix"/><c>kernel</c> etc.</summary>
    public static ImportedLstm Import(SafetensorsFile file, string prefix = "", CellVariant? cell = null) =>
        Import(file, [new KerasLayerNames(prefix)], cell);

    /// <summary>
    /// Imports stacked layers (each optionally bidirectional; all alike). <paramref name="cell"/> sets the
    /// activations when the model was not built with Keras's defaults (sigmoid, tanh, tanh); Keras 2's old
    /// <c>hard_sigmoid</c> is <c>HardSigmoid(0.2, 0.5)</c>.
    /// </summary>
    /// <exception cref="WeightMappingException">A tensor is missing or mis-shaped, or the layers disagree.</exception>
    public static ImportedLstm Import(SafetensorsFile file, IReadOnlyList<KerasLayerNames> layers, CellVariant? cell = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        ArgumentNullException.ThrowIfNull(layers);
        if (layers.Count == 0) throw new ArgumentException("Name at least one layer.", nameof(layers));
        if (cell is not null && (cell.Peepholes || cell.Clip > 0 || cell.InputForget))
            throw new ArgumentException("Keras's LSTM has no peepholes, clip or input_forget.", nameof(cell));
        var lookup = new TensorLookup(file);
        bool bidirectional = layers[0].Backward is not null;
        string k0 = Name(lookup, layers[0].Forward, "kernel");
        int input = lookup.Dim(k0, 2, 0), gates = lookup.Dim(k0, 2, 1);
        if (gates % 4 != 0) throw new WeightMappingException($"'{SafetensorsFile.Printable(k0)}' has {gates} columns; an LSTM kernel has 4·units.");
        int hidden = gates / 4;
        bool bias = Find(lookup, layers[0].Forward, "bias") is not null;
        LstmSpec spec = TensorLookup.Spec(() => new LstmSpec(input, hidden, layers.Count, bidirectional, 0, bias) { Cell = cell ?? CellVariant.Standard });
        var weights = new List<LstmLayerWeights>();
        for (int l = 0; l < layers.Count; l++)
        {
            if ((layers[l].Backward is not null) != bidirectional)
                throw new ArgumentException("Every layer must be bidirectional, or none.", nameof(layers));
            foreach (string? p in new[] { layers[l].Forward, layers[l].Backward })
            {
                if (p is null) continue;
                int layerInput = spec.LayerInputSize(l);
                string? b = Find(lookup, p, "bias");
                if ((b is not null) != bias)
                    throw new WeightMappingException($"Layer '{SafetensorsFile.Printable(p)}' {(bias ? "lacks" : "has")} a bias, unlike layer '{SafetensorsFile.Printable(layers[0].Forward)}'.");
                weights.Add(new LstmLayerWeights
                {
                    WeightIh = Transpose(lookup.Read(Name(lookup, p, "kernel"), layerInput, gates), layerInput, gates),
                    WeightHh = Transpose(lookup.Read(Name(lookup, p, "recurrent_kernel"), hidden, gates), hidden, gates),
                    BiasIh = b is not null ? lookup.Read(b, gates) : [],
                    BiasHh = b is not null ? new float[gates] : [],
                });
            }
        }

        return new ImportedLstm
        {
            Weights = TensorLookup.Build(spec, weights),
            Description = $"Keras LSTM ({string.Join(", ", layers.Select(n => n.Backward is null ? $"'{n.Forward}'" : $"'{n.Forward}' + '{n.Backward}'"))}): {PyTorchStateDict.Describe(spec)}",
            UsedTensors = lookup.Used,
            IgnoredTensors = lookup.Ignored,
        };
    }

    /// <summary>
    /// Writes the model under Keras's names (one bias per cell: <c>b_ih + b_hh</c>); it must have no
    /// projection and the standard cell or activations only (Keras has no peepholes, clip or input_forget).
    /// </summary>
    public static SafetensorsWriter Export(LstmWeights weights, IReadOnlyList<KerasLayerNames> layers)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(layers);
        LstmSpec spec = weights.Spec;
        if (spec.ProjectionSize > 0 || spec.Cell.Peepholes || spec.Cell.Clip > 0 || spec.Cell.InputForget)
            throw new NotSupportedException("Keras's LSTM has no projection, peepholes, clip or input_forget.");
        if (layers.Count != spec.NumLayers) throw new ArgumentException($"Name {spec.NumLayers} layers.", nameof(layers));
        int gates = spec.GateRows;
        var writer = new SafetensorsWriter();
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                string p = (d == 0 ? layers[l].Forward : layers[l].Backward) ?? throw new ArgumentException($"Layer {l} needs a backward name.", nameof(layers));
                LstmLayerWeights w = weights[l, d];
                int layerInput = spec.LayerInputSize(l);
                writer.Add(p + "kernel", Transpose(w.WeightIh, gates, layerInput), layerInput, gates);
                writer.Add(p + "recurrent_kernel", Transpose(w.WeightHh, gates, spec.HiddenSize), spec.HiddenSize, gates);
                if (spec.Bias)
                {
                    var bias = new float[gates];
                    for (int i = 0; i < gates; i++) bias[i] = w.BiasIh[i] + w.BiasHh[i];
                    writer.Add(p + "bias", bias, gates);
                }
            }
        }

        return writer;
    }

    private static string Name(TensorLookup lookup, string prefix, string kind) =>
        Find(lookup, prefix, kind) ?? throw new WeightMappingException($"Missing Keras tensor '{SafetensorsFile.Printable(prefix + kind)}'.");

    private static string? Find(TensorLookup lookup, string prefix, string kind) =>
        lookup.Has(prefix + kind) ? prefix + kind : lookup.Has(prefix + kind + ":0") ? prefix + kind + ":0" : null;

    /// <summary>[rows, cols] → [cols, rows].</summary>
    private static float[] Transpose(float[] source, int rows, int cols)
    {
        var result = new float[source.Length];
        for (int r = 0; r < rows; r++)
            for (int c = 0; c < cols; c++)
                result[c * rows + r] = source[r * cols + c];
        return result;
    }
}
