namespace LstmSimd.Reference;

/// <summary>The result of <see cref="ReferenceLstm.Forward"/>, in double precision and PyTorch's shapes.</summary>
/// <param name="Output">[T, B, D·H_out] (or [B, T, D·H_out] batch-first); zero past each sequence's length.</param>
/// <param name="HiddenState">h_n: [L·D, B, H_out].</param>
/// <param name="CellState">c_n: [L·D, B, H].</param>
public sealed record ReferenceResult(double[] Output, double[] HiddenState, double[] CellState);

/// <summary>
/// A naive LSTM in double precision, written straight from the equations with plain loops: no SIMD,
/// no packing, no reordering. It is the oracle the fast path is tested against, and it is public so
/// that users can validate their own implementations against it.
/// </summary>
/// <remarks>
/// For each layer, direction and step t (gate order i, f, g, o; ONNX's variants where the spec's
/// <see cref="CellVariant"/> asks for them):
/// <code>
/// i = σ(W_i x + b_i + U_i h + b'_i + p_i⊙c)   f = σ(W_f x + b_f + U_f h + b'_f + p_f⊙c)
/// g = tanh(W_g x + b_g + U_g h + b'_g)         c' = f⊙c + i⊙g
/// o = σ(W_o x + b_o + U_o h + b'_o + p_o⊙c')   h' = o⊙tanh(c')   (h' = W_hr h' with a projection)
/// </code>
/// A sequence of length n occupies steps 0…n-1: outputs past it are 0, its final state is the state
/// after step n-1, and the reverse direction starts at step n-1.
/// </remarks>
public static class ReferenceLstm
{
    /// <summary>Runs the whole model over a sequence. Empty <paramref name="h0"/>/<paramref name="c0"/> mean zeros; empty <paramref name="lengths"/> means every sequence has <paramref name="steps"/> steps.</summary>
    public static ReferenceResult Forward(LstmWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, ReadOnlySpan<int> lengths = default,
        SequenceLayout layout = SequenceLayout.TimeMajor) =>
        Run(weights, input, steps, batch, h0, c0, lengths, layout, trace: null);

    /// <summary><see cref="Forward"/>, recording in <paramref name="trace"/> (when given) what backpropagation needs.</summary>
    internal static ReferenceResult Run(LstmWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<float> h0, ReadOnlySpan<float> c0, ReadOnlySpan<int> lengths, SequenceLayout layout, ReferenceTrace? trace)
    {
        ArgumentNullException.ThrowIfNull(weights);
        LstmSpec spec = weights.Spec;
        ReferenceArguments.Check(spec, steps, batch, input.Length, h0.Length, c0.Length, lengths);
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown sequence layout.");

        int hOut = spec.OutputHiddenSize, hidden = spec.HiddenSize, dirs = spec.Directions;
        int hLength = Sizes.Elements("h_n L·D × B × H_out", spec.LayerDirections, batch, hOut), cLength = Sizes.Elements("c_n L·D × B × H", spec.LayerDirections, batch, hidden);
        int layerOutputLength = Sizes.Elements("layer output T × B × D·H_out", steps, batch, spec.OutputSize);
        var hN = new double[hLength];
        var cN = new double[cLength];
        int[] length = new int[batch];
        for (int b = 0; b < batch; b++) length[b] = lengths.IsEmpty ? steps : lengths[b];

        // The layer input, time-major [T, B, features], in double.
        int features = spec.InputSize;
        double[] x = new double[Sizes.Elements("input T × B × I", steps, batch, features)];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                for (int k = 0; k < features; k++)
                    x[((long)t * batch + b) * features + k] = input[Index(layout, t, b, steps, batch, features) + k];

        double[] layerOutput = [];
        trace?.Start(spec, steps, batch, x);
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            layerOutput = new double[layerOutputLength];
            trace?.LayerValues[layer + 1] = layerOutput;
            for (int d = 0; d < dirs; d++)
            {
                int slot = layer * dirs + d;
                var h = new double[batch * hOut];
                var c = new double[batch * hidden];
                for (int i = 0; i < h.Length; i++) h[i] = h0.IsEmpty ? 0 : h0[slot * h.Length + i];
                for (int i = 0; i < c.Length; i++) c[i] = c0.IsEmpty ? 0 : c0[slot * c.Length + i];
                for (int b = 0; b < batch; b++)
                {
                    for (int s = 0; s < length[b]; s++)
                    {
                        int t = d == 0 ? s : length[b] - 1 - s;
                        int row = t * batch + b;
                        Cell(spec, weights[layer, d], x.AsSpan(row * features, features), h.AsSpan(b * hOut, hOut), c.AsSpan(b * hidden, hidden),
                            trace is null ? default : trace.Gates[slot].AsSpan(row * 4 * hidden, 4 * hidden),
                            trace is null ? default : trace.Hidden[slot].AsSpan(row * hidden, hidden));
                        trace?.Record(slot, row, c.AsSpan(b * hidden, hidden));
                        h.AsSpan(b * hOut, hOut).CopyTo(layerOutput.AsSpan((int)(((long)t * batch + b) * dirs * hOut + d * hOut), hOut));
                    }
                }

                h.CopyTo(hN.AsSpan(slot * h.Length));
                c.CopyTo(cN.AsSpan(slot * c.Length));
            }

            x = layerOutput;
            features = dirs * hOut;
        }

        // Back to the caller's layout.
        var output = new double[layerOutput.Length];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                layerOutput.AsSpan((int)(((long)t * batch + b) * features), features).CopyTo(output.AsSpan(Index(layout, t, b, steps, batch, features)));
        return new ReferenceResult(output, hN, cN);
    }

    /// <summary>One step of one cell for one sequence: updates <paramref name="h"/> [H_out] and <paramref name="c"/> [H] in place.</summary>
    public static void Cell(LstmSpec spec, LstmLayerWeights w, ReadOnlySpan<double> x, Span<double> h, Span<double> c) =>
        Cell(spec, w, x, h, c, default, default);

    /// <summary><see cref="Cell(LstmSpec, LstmLayerWeights, ReadOnlySpan{double}, Span{double}, Span{double})"/>, also writing the activated gates i, f, g, o [4H] and m = o⊙tanh(c) [H] unless empty.</summary>
    internal static void Cell(LstmSpec spec, LstmLayerWeights w, ReadOnlySpan<double> x, Span<double> h, Span<double> c, Span<double> gates, Span<double> m)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(w);
        int hidden = spec.HiddenSize, hOut = spec.OutputHiddenSize, inputs = x.Length;
        CellVariant cell = spec.Cell;
        var pre = new double[spec.GateRows];
        for (int row = 0; row < 4 * hidden; row++)
        {
            double sum = spec.Bias ? (double)w.BiasIh[row] + w.BiasHh[row] : 0.0;
            for (int k = 0; k < inputs; k++) sum += (double)w.WeightIh[row * inputs + k] * x[k];
            for (int k = 0; k < hOut; k++) sum += (double)w.WeightHh[row * hOut + k] * h[k];
            pre[row] = sum;
        }

        var hidden1 = new double[hidden];
        for (int u = 0; u < hidden; u++)
        {
            double cPrev = c[u];
            double pi = pre[u], pf = pre[hidden + u], pg = pre[2 * hidden + u], po = pre[3 * hidden + u];
            if (cell.Peepholes)
            {
                pi += w.Peephole[u] * cPrev;
                pf += w.Peephole[hidden + u] * cPrev;
            }

            double i = Evaluate(cell.Gate, Clip(pi, cell.Clip));
            double f = cell.InputForget ? 1.0 - i : Evaluate(cell.Gate, Clip(pf, cell.Clip));
            double g = Evaluate(cell.Candidate, Clip(pg, cell.Clip));
            double cNew = f * cPrev + i * g;
            if (cell.Peepholes) po += w.Peephole[2 * hidden + u] * cNew;
            double o = Evaluate(cell.Gate, Clip(po, cell.Clip));
            c[u] = cNew;
            hidden1[u] = o * Evaluate(cell.Output, cNew);
            if (!gates.IsEmpty)
            {
                gates[u] = i;
                gates[hidden + u] = f;
                gates[2 * hidden + u] = g;
                gates[3 * hidden + u] = o;
            }
        }

        if (!m.IsEmpty) hidden1.CopyTo(m);

        if (spec.ProjectionSize == 0)
        {
            hidden1.CopyTo(h);
            return;
        }

        for (int p = 0; p < hOut; p++)
        {
            double sum = 0;
            for (int u = 0; u < hidden; u++) sum += (double)w.WeightHr[p * hidden + u] * hidden1[u];
            h[p] = sum;
        }
    }

    /// <summary>An activation in double precision, from its definition.</summary>
    private static double Evaluate(Activation activation, double x) => activation.Kind switch
    {
        ActivationKind.Sigmoid => 1.0 / (1.0 + Math.Exp(-x)),
        ActivationKind.Tanh => Math.Tanh(x),
        ActivationKind.Relu => double.IsNaN(x) ? x : Math.Max(0.0, x),
        ActivationKind.HardSigmoid => double.IsNaN(x) ? x : Math.Max(0.0, Math.Min(1.0, activation.Alpha * x + activation.Beta)),
        _ => throw new InvalidOperationException($"Unknown activation {activation.Kind}."),
    };

    private static double Clip(double x, float clip) => clip > 0 ? Math.Clamp(x, -clip, clip) : x;

    internal static int Index(SequenceLayout layout, int t, int b, int steps, int batch, int features) =>
        (int)((layout == SequenceLayout.TimeMajor ? (long)t * batch + b : (long)b * steps + t) * features);
}

/// <summary>
/// What <see cref="ReferenceLstmBackward"/> needs from a reference forward pass, per layer-direction (slot) and
/// time-major row t·B + b: the activated gates, c_t and m_t = o⊙tanh(c_t); and every layer's input and output.
/// </summary>
internal sealed class ReferenceTrace
{
    /// <summary>Time-major [T, B, features]: [0] the input, [l + 1] the output of layer l.</summary>
    public double[][] LayerValues { get; private set; } = [];

    /// <summary>[slot][T, B, 4H]: i, f, g, o after their activations.</summary>
    public double[][] Gates { get; private set; } = [];

    /// <summary>[slot][T, B, H]: c_t.</summary>
    public double[][] Cells { get; private set; } = [];

    /// <summary>[slot][T, B, H]: m_t, the hidden state before the projection.</summary>
    public double[][] Hidden { get; private set; } = [];

    internal void Start(LstmSpec spec, int steps, int batch, double[] input)
    {
        int slots = spec.LayerDirections, rows = Sizes.Elements("rows T × B", steps, batch);
        int gates = Sizes.Elements("gates T × B × 4H", rows, spec.GateRows), cells = Sizes.Elements("cells T × B × H", rows, spec.HiddenSize);
        LayerValues = new double[spec.NumLayers + 1][];
        LayerValues[0] = input;
        Gates = new double[slots][];
        Cells = new double[slots][];
        Hidden = new double[slots][];
        for (int slot = 0; slot < slots; slot++)
        {
            Gates[slot] = new double[gates];
            Cells[slot] = new double[cells];
            Hidden[slot] = new double[cells];
        }
    }

    internal void Record(int slot, int row, ReadOnlySpan<double> c) => c.CopyTo(Cells[slot].AsSpan(row * c.Length));
}
