namespace LstmSimd.Reference;

/// <summary>The result of <see cref="ReferenceGru.Forward"/>, in double precision and PyTorch's shapes.</summary>
/// <param name="Output">[T, B, D·H] (or [B, T, D·H] batch-first); zero past each sequence's length.</param>
/// <param name="HiddenState">h_n: [L·D, B, H].</param>
public sealed record ReferenceGruResult(double[] Output, double[] HiddenState);

/// <summary>
/// The result of <see cref="ReferenceGru.Backward"/>: the forward results and the gradients of
/// loss = Σ output·gradOutput + Σ h_n·gradHN with respect to every parameter, the input and h0.
/// </summary>
internal sealed class ReferenceGruGradients
{
    private readonly ReferenceLayerGradients[] _layers;

    internal ReferenceGruGradients(GruSpec spec, ReferenceLayerGradients[] layers, double[] input, double[] h0, ReferenceGruResult forward)
    {
        Spec = spec;
        _layers = layers;
        Input = input;
        H0 = h0;
        Forward = forward;
    }

    /// <summary>The shape the gradients belong to.</summary>
    public GruSpec Spec { get; }

    /// <summary>The gradients of layer <paramref name="layer"/>, direction <paramref name="direction"/>, laid out like <see cref="GruLayerWeights"/> (no W_hr).</summary>
    public ReferenceLayerGradients this[int layer, int direction] => _layers[layer * Spec.Directions + direction];

    /// <summary>∂loss/∂input, in the input's layout; zero past each sequence's length.</summary>
    public double[] Input { get; }

    /// <summary>∂loss/∂h0: [L·D, B, H] (an empty h0 is a zero h0).</summary>
    public double[] H0 { get; }

    /// <summary>The forward pass the gradients were taken at.</summary>
    public ReferenceGruResult Forward { get; }
}

/// <summary>
/// A naive GRU in double precision, written straight from the equations with plain loops, and its backpropagation
/// through time from the chain rule: the oracle for the fast GRU, public so that users can validate their own.
/// </summary>
/// <remarks>
/// For each layer, direction and step (gate order r, z, n):
/// <code>
/// r = σ(W_ir x + b_ir + W_hr h + b_hr)      z = σ(W_iz x + b_iz + W_hz h + b_hz)      σ: the gate activation
/// n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))        with LinearBeforeReset (PyTorch)
/// n = tanh(W_in x + b_in + W_hn (r⊙h) + b_hn)        without it (the original cell, ONNX's default)
/// h' = (1 − z)⊙n + z⊙h
/// </code>
/// Going back in time, with q the candidate's recurrent term (W_hn h + b_hn, or W_hn (r⊙h) + b_hn):
/// <code>
/// dn = dh'⊙(1 − z)   dz = dh'⊙(h − n)   dh = dh'⊙z   da_n = dn⊙(1 − n²)   da_z = dz⊙σ'
/// before reset: dq = da_n⊙r, dr = da_n⊙q, dh += W_hnᵀ dq, dW_hn += dq⊗h
/// after reset:  dq = da_n, e = W_hnᵀ dq, dr = e⊙h, dh += e⊙r, dW_hn += dq⊗(r⊙h)
/// da_r = dr⊙σ'   dh += W_hrᵀ da_r + W_hzᵀ da_z   dx += W_ihᵀ·[da_r, da_z, da_n]
/// </code>
/// σ' is z(1 − z) (r(1 − r)) for sigmoid gates, and α inside a hard sigmoid's slope (0 &lt; z &lt; 1), else 0.
/// A sequence of length n occupies steps 0…n-1: outputs past it are 0, its final state is the state after step n-1,
/// the reverse direction starts at step n-1, and no gradient flows past its length.
/// </remarks>
public static class ReferenceGru
{
    /// <summary>Runs the whole model over a sequence. Empty <paramref name="h0"/> means zeros; empty <paramref name="lengths"/> means every sequence has <paramref name="steps"/> steps.</summary>
    /// <param name="weights">The model.</param>
    /// <param name="input">[T, B, I], or [B, T, I] batch-first.</param>
    /// <param name="steps">T.</param>
    /// <param name="batch">B.</param>
    /// <param name="h0">[L·D, B, H], or empty for zeros.</param>
    /// <param name="lengths">[B] sequence lengths in [0, T], or empty for all T.</param>
    /// <param name="layout">The layout of <paramref name="input"/> and the output.</param>
    public static ReferenceGruResult Forward(GruWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<int> lengths = default, SequenceLayout layout = SequenceLayout.TimeMajor)
    {
        ArgumentNullException.ThrowIfNull(weights);
        ReferenceArguments.Check(weights.Spec, steps, batch, input.Length, h0.Length, lengths);
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown sequence layout.");
        return new Trace(weights, input, steps, batch, h0, lengths, layout).Result;
    }

    /// <summary>
    /// Runs the forward pass and backpropagates the upstream gradients through it. Empty <paramref name="gradOutput"/> or
    /// <paramref name="gradHN"/> mean zeros; the other arguments mean what they mean in <see cref="Forward"/>.
    /// </summary>
    /// <param name="weights">The model.</param>
    /// <param name="input">[T, B, I], or [B, T, I] batch-first.</param>
    /// <param name="steps">T.</param>
    /// <param name="batch">B.</param>
    /// <param name="gradOutput">∂loss/∂output in the output's layout, or empty.</param>
    /// <param name="gradHN">∂loss/∂h_n: [L·D, B, H], or empty.</param>
    /// <param name="h0">[L·D, B, H], or empty for zeros.</param>
    /// <param name="lengths">[B] sequence lengths in [0, T], or empty for all T.</param>
    /// <param name="layout">The layout of the input, the output and their gradients.</param>
    internal static ReferenceGruGradients Backward(GruWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<double> gradOutput = default, ReadOnlySpan<double> gradHN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<int> lengths = default, SequenceLayout layout = SequenceLayout.TimeMajor)
    {
        ArgumentNullException.ThrowIfNull(weights);
        GruSpec spec = weights.Spec;
        ReferenceArguments.Check(spec, steps, batch, input.Length, h0.Length, lengths, gradOutput.Length, gradHN.Length);
        if (!Enum.IsDefined(layout)) throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown sequence layout.");
        var trace = new Trace(weights, input, steps, batch, h0, lengths, layout);
        int hidden = spec.HiddenSize, dirs = spec.Directions, outFeatures = spec.OutputSize, slots = spec.LayerDirections;

        // dy holds ∂loss/∂(layer output), time-major; the top layer's comes from the caller.
        var dy = new double[(long)steps * batch * outFeatures];
        if (!gradOutput.IsEmpty)
        {
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < batch; b++)
                    for (int k = 0; k < outFeatures; k++)
                        dy[Row(t, b, batch, outFeatures) + k] = gradOutput[ReferenceLstm.Index(layout, t, b, steps, batch, outFeatures) + k];
        }

        var grads = new ReferenceLayerGradients[slots];
        var gradH0 = new double[slots * batch * hidden];
        var dPre = new double[3 * hidden];
        var dq = new double[hidden];
        var dh = new double[hidden];
        var dhPrevious = new double[hidden];
        double[] dx = [];
        for (int l = spec.NumLayers - 1; l >= 0; l--)
        {
            int features = spec.LayerInputSize(l);
            dx = new double[(long)steps * batch * features];
            for (int d = 0; d < dirs; d++)
            {
                int slot = l * dirs + d;
                GruLayerWeights w = weights[l, d];
                ReferenceLayerGradients g = grads[slot] = new ReferenceLayerGradients
                {
                    WeightIh = new double[w.WeightIh.Length],
                    WeightHh = new double[w.WeightHh.Length],
                    BiasIh = new double[w.BiasIh.Length],
                    BiasHh = new double[w.BiasHh.Length],
                    WeightHr = [],
                };
                for (int b = 0; b < batch; b++)
                {
                    for (int k = 0; k < hidden; k++) dh[k] = gradHN.IsEmpty ? 0 : gradHN[(slot * batch + b) * hidden + k];
                    for (int s = trace.Length[b] - 1; s >= 0; s--)
                    {
                        int t = d == 0 ? s : trace.Length[b] - 1 - s;
                        int row = t * batch + b;
                        for (int k = 0; k < hidden; k++) dh[k] += dy[Row(t, b, batch, outFeatures) + d * hidden + k];

                        ReadOnlySpan<double> gate = trace.Gates[slot].AsSpan(row * 3 * hidden, 3 * hidden);
                        ReadOnlySpan<double> q = trace.Candidate[slot].AsSpan(row * hidden, hidden);
                        ReadOnlySpan<double> hPrev = trace.PreviousHidden(slot, t, b, s);
                        ReadOnlySpan<double> x = trace.LayerValues[l].AsSpan(Row(t, b, batch, features), features);
                        for (int u = 0; u < hidden; u++)
                        {
                            double r = gate[u], z = gate[hidden + u], n = gate[2 * hidden + u];
                            double daN = dh[u] * (1 - z) * (1 - n * n);
                            dPre[hidden + u] = dh[u] * (hPrev[u] - n) * GateSlope(spec, z);
                            dPre[2 * hidden + u] = daN;
                            dhPrevious[u] = dh[u] * z;
                            // Before reset, q is W_hn h + b_hn and r scales it; after reset, q's own gradient is da_n.
                            dq[u] = spec.LinearBeforeReset ? daN * r : daN;
                            dPre[u] = spec.LinearBeforeReset ? daN * q[u] * GateSlope(spec, r) : 0; // after reset: filled below
                        }

                        // The candidate's recurrent product: W_hn (rows 2H…3H of W_hh) times h, or times r⊙h.
                        for (int u = 0; u < hidden; u++)
                        {
                            if (spec.Bias) g.BiasHh[2 * hidden + u] += dq[u];
                            for (int k = 0; k < hidden; k++)
                            {
                                double recurrentInput = spec.LinearBeforeReset ? hPrev[k] : gate[k] * hPrev[k];
                                g.WeightHh[(2 * hidden + u) * hidden + k] += dq[u] * recurrentInput;
                            }
                        }

                        for (int k = 0; k < hidden; k++)
                        {
                            double e = 0;
                            for (int u = 0; u < hidden; u++) e += w.WeightHh[(2 * hidden + u) * hidden + k] * dq[u];
                            if (spec.LinearBeforeReset)
                            {
                                dhPrevious[k] += e;
                            }
                            else
                            {
                                double r = gate[k];
                                dhPrevious[k] += e * r;
                                dPre[k] = e * hPrev[k] * GateSlope(spec, r);
                            }
                        }

                        // The input products of all three gates, and the recurrent products of r and z.
                        Span<double> dxRow = dx.AsSpan(Row(t, b, batch, features), features);
                        for (int j = 0; j < 3 * hidden; j++)
                        {
                            double a = dPre[j];
                            if (spec.Bias)
                            {
                                g.BiasIh[j] += a;
                                if (j < 2 * hidden) g.BiasHh[j] += a;
                            }

                            for (int k = 0; k < features; k++)
                            {
                                g.WeightIh[j * features + k] += a * x[k];
                                dxRow[k] += w.WeightIh[j * features + k] * a;
                            }

                            if (j >= 2 * hidden) continue;
                            for (int k = 0; k < hidden; k++)
                            {
                                g.WeightHh[j * hidden + k] += a * hPrev[k];
                                dhPrevious[k] += w.WeightHh[j * hidden + k] * a;
                            }
                        }

                        dhPrevious.CopyTo(dh, 0);
                    }

                    dh.CopyTo(gradH0.AsSpan((slot * batch + b) * hidden, hidden));
                }
            }

            dy = dx;
        }

        var gradInput = new double[dx.Length];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                dx.AsSpan(Row(t, b, batch, spec.InputSize), spec.InputSize).CopyTo(gradInput.AsSpan(ReferenceLstm.Index(layout, t, b, steps, batch, spec.InputSize)));
        return new ReferenceGruGradients(spec, grads, gradInput, gradH0, trace.Result);
    }

    private static int Row(int t, int b, int batch, int features) => (int)(((long)t * batch + b) * features);

    /// <summary>
    /// The forward pass, keeping what backpropagation needs: per layer-direction (slot) and time-major row t·B + b the
    /// activated gates r, z, n and the candidate's recurrent term q, and every layer's input and output.
    /// </summary>
    private sealed class Trace
    {
        private readonly GruSpec _spec;
        private readonly int _batch;
        private readonly double[] _h0;

        public Trace(GruWeights weights, ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<float> h0, ReadOnlySpan<int> lengths, SequenceLayout layout)
        {
            GruSpec spec = _spec = weights.Spec;
            _batch = batch;
            int hidden = spec.HiddenSize, dirs = spec.Directions, slots = spec.LayerDirections;
            int rows = Sizes.Elements("rows T × B", steps, batch);
            _h0 = new double[Sizes.Elements("h_n L·D × B × H", slots, batch, hidden)];
            for (int i = 0; i < h0.Length; i++) _h0[i] = h0[i]; // empty h0: zeros
            Length = new int[batch];
            for (int b = 0; b < batch; b++) Length[b] = lengths.IsEmpty ? steps : lengths[b];

            int features = spec.InputSize;
            LayerValues = new double[spec.NumLayers + 1][];
            double[] x = LayerValues[0] = new double[Sizes.Elements("input T × B × I", steps, batch, features)];
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < batch; b++)
                    for (int k = 0; k < features; k++)
                        x[Row(t, b, batch, features) + k] = input[ReferenceLstm.Index(layout, t, b, steps, batch, features) + k];

            Gates = new double[slots][];
            Candidate = new double[slots][];
            var hN = new double[_h0.Length];
            var h = new double[hidden];
            for (int layer = 0; layer < spec.NumLayers; layer++)
            {
                double[] y = LayerValues[layer + 1] = new double[Sizes.Elements("layer output T × B × D·H", steps, batch, spec.OutputSize)];
                for (int d = 0; d < dirs; d++)
                {
                    int slot = layer * dirs + d;
                    Gates[slot] = new double[Sizes.Elements("gates T × B × 3H", rows, 3, hidden)];
                    Candidate[slot] = new double[Sizes.Elements("candidates T × B × H", rows, hidden)];
                    for (int b = 0; b < batch; b++)
                    {
                        _h0.AsSpan((slot * batch + b) * hidden, hidden).CopyTo(h);
                        for (int s = 0; s < Length[b]; s++)
                        {
                            int t = d == 0 ? s : Length[b] - 1 - s, row = t * batch + b;
                            Cell(spec, weights[layer, d], x.AsSpan(Row(t, b, batch, features), features), h,
                                Gates[slot].AsSpan(row * 3 * hidden, 3 * hidden), Candidate[slot].AsSpan(row * hidden, hidden));
                            h.CopyTo(y.AsSpan(Row(t, b, batch, spec.OutputSize) + d * hidden, hidden));
                        }

                        h.CopyTo(hN.AsSpan((slot * batch + b) * hidden, hidden));
                    }
                }

                x = y;
                features = spec.OutputSize;
            }

            var output = new double[x.Length];
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < batch; b++)
                    x.AsSpan(Row(t, b, batch, features), features).CopyTo(output.AsSpan(ReferenceLstm.Index(layout, t, b, steps, batch, features)));
            Result = new ReferenceGruResult(output, hN);
        }

        public ReferenceGruResult Result { get; }

        public int[] Length { get; }

        /// <summary>Time-major [T, B, features]: [0] the input, [l + 1] the output of layer l.</summary>
        public double[][] LayerValues { get; }

        /// <summary>[slot][T, B, 3H]: r, z, n after their activations.</summary>
        public double[][] Gates { get; }

        /// <summary>[slot][T, B, H]: q, the candidate's recurrent term before the reset gate scales it or after it was applied.</summary>
        public double[][] Candidate { get; }

        /// <summary>h before step <paramref name="s"/> (in processing order) of sequence <paramref name="b"/>: h0, or the previous step's output.</summary>
        public ReadOnlySpan<double> PreviousHidden(int slot, int t, int b, int s)
        {
            int hidden = _spec.HiddenSize, layer = slot / _spec.Directions, d = slot % _spec.Directions;
            if (s == 0) return _h0.AsSpan((slot * _batch + b) * hidden, hidden);
            int tPrevious = d == 0 ? t - 1 : t + 1;
            return LayerValues[layer + 1].AsSpan(Row(tPrevious, b, _batch, _spec.OutputSize) + d * hidden, hidden);
        }
    }

    /// <summary>
    /// One step of one cell for one sequence: updates <paramref name="h"/> [H] in place, writing the activated gates
    /// r, z, n [3H] and the candidate's recurrent term q [H].
    /// </summary>
    private static void Cell(GruSpec spec, GruLayerWeights w, ReadOnlySpan<double> x, Span<double> h, Span<double> gates, Span<double> q)
    {
        int hidden = spec.HiddenSize, inputs = x.Length;
        var inputSum = new double[3 * hidden];
        for (int j = 0; j < 3 * hidden; j++)
        {
            double sum = spec.Bias ? w.BiasIh[j] : 0.0;
            for (int k = 0; k < inputs; k++) sum += (double)w.WeightIh[j * inputs + k] * x[k];
            inputSum[j] = sum;
        }

        // r and z first: without LinearBeforeReset the candidate's recurrent product needs r.
        for (int j = 0; j < 2 * hidden; j++)
        {
            double sum = spec.Bias ? w.BiasHh[j] : 0.0;
            for (int k = 0; k < hidden; k++) sum += (double)w.WeightHh[j * hidden + k] * h[k];
            gates[j] = Gate(spec, inputSum[j] + sum);
        }

        for (int u = 0; u < hidden; u++)
        {
            int j = 2 * hidden + u;
            double sum = spec.Bias ? w.BiasHh[j] : 0.0;
            for (int k = 0; k < hidden; k++) sum += (double)w.WeightHh[j * hidden + k] * (spec.LinearBeforeReset ? h[k] : gates[k] * h[k]);
            q[u] = sum;
        }

        for (int u = 0; u < hidden; u++)
        {
            double r = gates[u], z = gates[hidden + u];
            double n = Math.Tanh(inputSum[2 * hidden + u] + (spec.LinearBeforeReset ? r * q[u] : q[u]));
            gates[2 * hidden + u] = n;
            h[u] = (1 - z) * n + z * h[u];
        }
    }

    /// <summary>The gate activation σ: sigmoid, or max(0, min(1, α·x + β)).</summary>
    private static double Gate(GruSpec spec, double x) => spec.GateActivation.Kind == ActivationKind.HardSigmoid
        ? Math.Clamp((double)spec.GateActivation.Alpha * x + spec.GateActivation.Beta, 0.0, 1.0)
        : 1.0 / (1.0 + Math.Exp(-x));

    /// <summary>σ' from σ's value g: g(1 − g) for sigmoid; α where a hard sigmoid is not clipped (0 &lt; g &lt; 1), else 0.</summary>
    private static double GateSlope(GruSpec spec, double g) => spec.GateActivation.Kind == ActivationKind.HardSigmoid
        ? (g > 0 && g < 1 ? spec.GateActivation.Alpha : 0.0)
        : g * (1 - g);
}
