namespace LstmSimd.Reference;

/// <summary>
/// The gradients of one layer in one direction, in double precision, with the shapes of its weights: <see cref="LstmLayerWeights"/>
/// (4H gate rows), or <see cref="GruLayerWeights"/> (3H gate rows, no W_hr).
/// </summary>
internal sealed class ReferenceLayerGradients
{
    /// <summary>∂loss/∂<c>weight_ih</c>: [4H, I_l] (GRU: [3H, I_l]).</summary>
    public required double[] WeightIh { get; init; }

    /// <summary>∂loss/∂<c>weight_hh</c>: [4H, H_out].</summary>
    public required double[] WeightHh { get; init; }

    /// <summary>∂loss/∂<c>bias_ih</c>: [4H], or empty when the spec has no bias.</summary>
    public required double[] BiasIh { get; init; }

    /// <summary>∂loss/∂<c>bias_hh</c>: [4H], or empty when the spec has no bias (always equal to <see cref="BiasIh"/>).</summary>
    public required double[] BiasHh { get; init; }

    /// <summary>∂loss/∂<c>weight_hr</c>: [P, H] with a projection, else empty.</summary>
    public required double[] WeightHr { get; init; }
}

/// <summary>
/// The result of <see cref="ReferenceLstmBackward.Backward"/>: the forward results and the gradients of
/// loss = Σ output·gradOutput + Σ h_n·gradHN + Σ c_n·gradCN with respect to every parameter, the input and
/// the initial states.
/// </summary>
internal sealed class ReferenceGradients
{
    private readonly ReferenceLayerGradients[] _layers;

    internal ReferenceGradients(LstmSpec spec, ReferenceLayerGradients[] layers, double[] input, double[] h0, double[] c0, ReferenceResult forward)
    {
        Spec = spec;
        _layers = layers;
        Input = input;
        H0 = h0;
        C0 = c0;
        Forward = forward;
    }

    /// <summary>The shape the gradients belong to.</summary>
    public LstmSpec Spec { get; }

    /// <summary>The gradients of layer <paramref name="layer"/>, direction <paramref name="direction"/> (0 forward, 1 reverse), laid out like <see cref="LstmWeights"/>.</summary>
    public ReferenceLayerGradients this[int layer, int direction] => _layers[layer * Spec.Directions + direction];

    /// <summary>∂loss/∂input, in the input's layout ([T, B, I] or [B, T, I]); zero past each sequence's length.</summary>
    public double[] Input { get; }

    /// <summary>∂loss/∂h0: [L·D, B, H_out] (computed whether or not h0 was given: an empty h0 is a zero h0).</summary>
    public double[] H0 { get; }

    /// <summary>∂loss/∂c0: [L·D, B, H].</summary>
    public double[] C0 { get; }

    /// <summary>The forward pass the gradients were taken at (the same values as <see cref="ReferenceLstm.Forward"/>).</summary>
    public ReferenceResult Forward { get; }
}

/// <summary>
/// Backpropagation through time for the standard (PyTorch) cell, in double precision with plain loops:
/// the oracle for the fast backward, written straight from the chain rule.
/// </summary>
/// <remarks>
/// Per step, with m = o⊙tanh(c) and h = W_hr·m (or h = m without a projection), going back in time:
/// <code>
/// dm = W_hrᵀ·dh            dW_hr += dh⊗m
/// dc += dm⊙o⊙(1 − tanh²c)  do = dm⊙tanh(c)
/// di = dc⊙g  df = dc⊙c_prev  dg = dc⊙i  dc_prev = dc⊙f
/// da = [di⊙i(1−i), df⊙f(1−f), dg⊙(1−g²), do⊙o(1−o)]
/// dW_ih += da⊗x  dW_hh += da⊗h_prev  db_ih = db_hh += da  dx += W_ihᵀ·da  dh_prev = W_hhᵀ·da
/// </code>
/// The upstream gradient of h at a step is the output gradient there plus dh_prev from the step processed
/// after it; a layer's dx is the output gradient of the layer below (both directions add into it).
/// Sequences shorter than T take no gradient past their length, as in PyTorch's packed sequences.
/// </remarks>
internal static class ReferenceLstmBackward
{
    /// <summary>
    /// Runs the forward pass and backpropagates the upstream gradients through it. Empty
    /// <paramref name="gradOutput"/>, <paramref name="gradHN"/> or <paramref name="gradCN"/> mean zeros; the other
    /// arguments mean what they mean in <see cref="ReferenceLstm.Forward"/>.
    /// </summary>
    /// <param name="weights">The model; its cell must be <see cref="CellVariant.Standard"/>.</param>
    /// <param name="input">[T, B, I], or [B, T, I] batch-first.</param>
    /// <param name="steps">T.</param>
    /// <param name="batch">B.</param>
    /// <param name="gradOutput">∂loss/∂output in the output's layout ([T, B, D·H_out] or [B, T, D·H_out]), or empty.</param>
    /// <param name="gradHN">∂loss/∂h_n: [L·D, B, H_out], or empty.</param>
    /// <param name="gradCN">∂loss/∂c_n: [L·D, B, H], or empty.</param>
    /// <param name="h0">[L·D, B, H_out], or empty for zeros.</param>
    /// <param name="c0">[L·D, B, H], or empty for zeros.</param>
    /// <param name="lengths">[B] sequence lengths in [0, T], or empty for all T.</param>
    /// <param name="layout">The layout of <paramref name="input"/>, <paramref name="gradOutput"/>, the output and the input gradient.</param>
    public static ReferenceGradients Backward(LstmWeights weights, ReadOnlySpan<float> input, int steps, int batch,
        ReadOnlySpan<double> gradOutput = default, ReadOnlySpan<double> gradHN = default, ReadOnlySpan<double> gradCN = default,
        ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default, ReadOnlySpan<int> lengths = default,
        SequenceLayout layout = SequenceLayout.TimeMajor)
    {
        ArgumentNullException.ThrowIfNull(weights);
        LstmSpec spec = weights.Spec;
        ReferenceArguments.Check(spec, steps, batch, input.Length, h0.Length, c0.Length, lengths, gradOutput.Length, gradHN.Length, gradCN.Length);
        if (!spec.Cell.IsStandard)
            throw new NotSupportedException("The reference backward supports the standard (PyTorch) cell only; ONNX's cell variants have no backward.");
        int hOut = spec.OutputHiddenSize, hidden = spec.HiddenSize, dirs = spec.Directions, layers = spec.NumLayers;
        int outFeatures = dirs * hOut;

        int[] length = new int[batch];
        for (int b = 0; b < batch; b++) length[b] = lengths.IsEmpty ? steps : lengths[b];

        // The forward pass, keeping per layer-direction and time step the activated gates, c_t and the
        // pre-projection hidden m_t, and every layer's input (xs[l]) and output (xs[l + 1]), time-major.
        var trace = new ReferenceTrace();
        ReferenceResult forward = ReferenceLstm.Run(weights, input, steps, batch, h0, c0, lengths, layout, trace);
        double[][] xs = trace.LayerValues, gates = trace.Gates, cells = trace.Cells, ms = trace.Hidden;
        int slots = layers * dirs;

        // Backward, top layer first. dy holds ∂loss/∂(layer output), time-major.
        var dy = new double[(long)steps * batch * outFeatures];
        if (!gradOutput.IsEmpty)
        {
            for (int t = 0; t < steps; t++)
                for (int b = 0; b < batch; b++)
                    for (int k = 0; k < outFeatures; k++)
                        dy[Row(t, b, batch, outFeatures) + k] = gradOutput[ReferenceLstm.Index(layout, t, b, steps, batch, outFeatures) + k];
        }

        var grads = new ReferenceLayerGradients[slots];
        var gradH0 = new double[slots * batch * hOut];
        var gradC0 = new double[slots * batch * hidden];
        var dPre = new double[4 * hidden];
        var dm = new double[hidden];
        double[] dx = [];
        for (int l = layers - 1; l >= 0; l--)
        {
            int features = spec.LayerInputSize(l);
            dx = new double[(long)steps * batch * features];
            for (int d = 0; d < dirs; d++)
            {
                int slot = l * dirs + d;
                LstmLayerWeights w = weights[l, d];
                var g = grads[slot] = new ReferenceLayerGradients
                {
                    WeightIh = new double[w.WeightIh.Length],
                    WeightHh = new double[w.WeightHh.Length],
                    BiasIh = new double[w.BiasIh.Length],
                    BiasHh = new double[w.BiasHh.Length],
                    WeightHr = new double[w.WeightHr.Length],
                };
                for (int b = 0; b < batch; b++)
                {
                    var dh = new double[hOut];
                    var dc = new double[hidden];
                    for (int k = 0; k < hOut; k++) dh[k] = gradHN.IsEmpty ? 0 : gradHN[(slot * batch + b) * hOut + k];
                    for (int k = 0; k < hidden; k++) dc[k] = gradCN.IsEmpty ? 0 : gradCN[(slot * batch + b) * hidden + k];
                    for (int s = length[b] - 1; s >= 0; s--)
                    {
                        int t = d == 0 ? s : length[b] - 1 - s;
                        // The step before t in processing order supplies h_prev and c_prev (or h0/c0 at s = 0).
                        int tPrev = d == 0 ? t - 1 : t + 1;
                        for (int k = 0; k < hOut; k++) dh[k] += dy[Row(t, b, batch, outFeatures) + d * hOut + k];

                        ReadOnlySpan<double> gate = gates[slot].AsSpan(Row(t, b, batch, 4 * hidden), 4 * hidden);
                        ReadOnlySpan<double> m = ms[slot].AsSpan(Row(t, b, batch, hidden), hidden);
                        ReadOnlySpan<double> c = cells[slot].AsSpan(Row(t, b, batch, hidden), hidden);
                        if (spec.ProjectionSize > 0)
                        {
                            for (int u = 0; u < hidden; u++) dm[u] = 0;
                            for (int p = 0; p < hOut; p++)
                            {
                                for (int u = 0; u < hidden; u++)
                                {
                                    dm[u] += w.WeightHr[p * hidden + u] * dh[p];
                                    g.WeightHr[p * hidden + u] += dh[p] * m[u];
                                }
                            }
                        }
                        else
                        {
                            dh.CopyTo(dm, 0);
                        }

                        for (int u = 0; u < hidden; u++)
                        {
                            double i = gate[u], f = gate[hidden + u], gg = gate[2 * hidden + u], o = gate[3 * hidden + u];
                            double tc = Math.Tanh(c[u]);
                            double cPrev = s == 0
                                ? (c0.IsEmpty ? 0 : c0[(slot * batch + b) * hidden + u])
                                : cells[slot][Row(tPrev, b, batch, hidden) + u];
                            double dcu = dc[u] + dm[u] * o * (1 - tc * tc);
                            double dO = dm[u] * tc;
                            dPre[u] = dcu * gg * i * (1 - i);
                            dPre[hidden + u] = dcu * cPrev * f * (1 - f);
                            dPre[2 * hidden + u] = dcu * i * (1 - gg * gg);
                            dPre[3 * hidden + u] = dO * o * (1 - o);
                            dc[u] = dcu * f;
                        }

                        ReadOnlySpan<double> x = xs[l].AsSpan(Row(t, b, batch, features), features);
                        Span<double> dxRow = dx.AsSpan(Row(t, b, batch, features), features);
                        for (int k = 0; k < hOut; k++) dh[k] = 0;
                        for (int r = 0; r < 4 * hidden; r++)
                        {
                            double a = dPre[r];
                            if (spec.Bias)
                            {
                                g.BiasIh[r] += a;
                                g.BiasHh[r] += a;
                            }

                            for (int k = 0; k < features; k++)
                            {
                                g.WeightIh[r * features + k] += a * x[k];
                                dxRow[k] += w.WeightIh[r * features + k] * a;
                            }

                            for (int k = 0; k < hOut; k++)
                            {
                                double hPrev = s == 0
                                    ? (h0.IsEmpty ? 0 : h0[(slot * batch + b) * hOut + k])
                                    : xs[l + 1][Row(tPrev, b, batch, outFeatures) + d * hOut + k];
                                g.WeightHh[r * hOut + k] += a * hPrev;
                                dh[k] += w.WeightHh[r * hOut + k] * a;
                            }
                        }
                    }

                    dh.CopyTo(gradH0.AsSpan((slot * batch + b) * hOut, hOut));
                    dc.CopyTo(gradC0.AsSpan((slot * batch + b) * hidden, hidden));
                }
            }

            dy = dx;
        }

        var gradInput = new double[dx.Length];
        for (int t = 0; t < steps; t++)
            for (int b = 0; b < batch; b++)
                dx.AsSpan(Row(t, b, batch, spec.InputSize), spec.InputSize).CopyTo(gradInput.AsSpan(ReferenceLstm.Index(layout, t, b, steps, batch, spec.InputSize)));
        return new ReferenceGradients(spec, grads, gradInput, gradH0, gradC0, forward);
    }

    private static int Row(int t, int b, int batch, int features) => (int)(((long)t * batch + b) * features);
}
