namespace LstmSimd;

/// <summary>
/// The parameters of one layer in one direction, in PyTorch's layout (row-major, gate order i, f, g, o).
/// </summary>
public sealed class LstmLayerWeights
{
    /// <summary><c>weight_ih</c>: [4H, I_l].</summary>
    public required float[] WeightIh { get; init; }

    /// <summary><c>weight_hh</c>: [4H, H_out].</summary>
    public required float[] WeightHh { get; init; }

    /// <summary><c>bias_ih</c>: [4H], or empty when the spec has no bias.</summary>
    public float[] BiasIh { get; init; } = [];

    /// <summary><c>bias_hh</c>: [4H], or empty when the spec has no bias.</summary>
    public float[] BiasHh { get; init; } = [];

    /// <summary><c>weight_hr</c>: [P, H] with a projection, else empty.</summary>
    public float[] WeightHr { get; init; } = [];

    /// <summary>Peephole weights [3H] in gate order i, f, o when <see cref="CellVariant.Peepholes"/>, else empty.</summary>
    public float[] Peephole { get; init; } = [];
}

/// <summary>
/// All parameters of an LSTM: one <see cref="LstmLayerWeights"/> per layer and direction, shaped by a
/// <see cref="LstmSpec"/>. This is the exchange format between importers, training and the packed model.
/// </summary>
public sealed class LstmWeights
{
    private readonly LstmLayerWeights[] _layers;

    /// <summary>Wraps per-layer weights, ordered layer-major (layer 0 forward, layer 0 reverse, layer 1 forward, …), and checks every shape.</summary>
    public LstmWeights(LstmSpec spec, IReadOnlyList<LstmLayerWeights> layers)
    {
        ArgumentNullException.ThrowIfNull(spec);
        ArgumentNullException.ThrowIfNull(layers);
        spec.Validate();
        int expected = spec.LayerDirections;
        if (layers.Count != expected)
            throw new ArgumentException($"Expected {expected} layer-direction weight sets (layers {spec.NumLayers} × directions {spec.Directions}), got {layers.Count}.", nameof(layers));
        Spec = spec;
        _layers = [.. layers];
        for (int l = 0; l < spec.NumLayers; l++)
            for (int d = 0; d < spec.Directions; d++)
                CheckShapes(l, d, this[l, d]);
    }

    /// <summary>Sets every parameter to zero (a training session's gradients, before a step accumulates them).</summary>
    internal void Clear()
    {
        foreach (LstmLayerWeights w in _layers)
            foreach (float[] values in (ReadOnlySpan<float[]>)[w.WeightIh, w.WeightHh, w.BiasIh, w.BiasHh, w.WeightHr, w.Peephole]) Array.Clear(values);
    }

    /// <summary>The shape these weights belong to.</summary>
    public LstmSpec Spec { get; }

    /// <summary>The weights of layer <paramref name="layer"/>, direction <paramref name="direction"/> (0 forward, 1 reverse).</summary>
    public LstmLayerWeights this[int layer, int direction] => _layers[layer * Spec.Directions + direction];

    /// <summary>
    /// Random weights as PyTorch initialises them: every parameter uniform in [-1/√H, 1/√H]
    /// (peepholes too), drawn from a generator seeded with <paramref name="seed"/>.
    /// The values are LstmSimd's own: the same seed gives the same weights here, not in PyTorch.
    /// With <paramref name="forgetBias"/>, a model with biases then gets that forget-gate bias (see <see cref="SetForgetGateBias"/>):
    /// 1 is the usual start for training.
    /// </summary>
    public static LstmWeights CreateRandom(LstmSpec spec, int seed, float? forgetBias = null)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var random = new Random(seed);
        float bound = 1f / MathF.Sqrt(spec.HiddenSize);
        LstmWeights weights = Create(spec, length => WeightShapes.Uniform(random, length, bound));
        if (forgetBias is float value && spec.Bias) weights.SetForgetGateBias(value);
        return weights;
    }

    /// <summary>
    /// Sets the forget-gate bias of every layer and direction so that b_ih + b_hh = <paramref name="value"/>
    /// for the f gate (b_ih = value, b_hh = 0), leaving the other gates alone. A forget bias of 1 keeps the
    /// cell's memory open early in training (Gers, Schmidhuber and Cummins, 2000; Jozefowicz et al., 2015).
    /// </summary>
    /// <exception cref="InvalidOperationException">The model has no biases.</exception>
    public void SetForgetGateBias(float value = 1f)
    {
        if (!Spec.Bias) throw new InvalidOperationException("The model has no biases.");
        int h = Spec.HiddenSize;
        foreach (LstmLayerWeights w in _layers)
        {
            w.BiasIh.AsSpan(h, h).Fill(value);
            w.BiasHh.AsSpan(h, h).Clear();
        }
    }

    /// <summary>All-zero weights of the right shapes (a starting point for importers and tests).</summary>
    public static LstmWeights CreateZero(LstmSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        return Create(spec, static length => new float[length]);
    }

    /// <summary>
    /// A copy whose weight matrices (W_ih, W_hh, W_hr) hold what a model built with <paramref name="format"/> computes
    /// with: rounded to fp16 or bf16, or each row quantised to Int8 and scaled back. Biases stay as they are. Running
    /// <see cref="Reference.ReferenceLstm"/> on it separates a format's weight rounding from everything else (Int8 also
    /// quantises activations every step, which this cannot show).
    /// </summary>
    /// <exception cref="ArgumentException">A weight the format's model would refuse too: beyond ±65504 or not finite for Float16, not finite for Int8.</exception>
    public LstmWeights StoredAs(WeightFormat format)
    {
        if (!Enum.IsDefined(format)) throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weight format.");
        LstmWeights copy = Clone();
        foreach (LstmLayerWeights layer in copy._layers)
        {
            int rows = Spec.GateRows;
            foreach ((float[] matrix, int rowCount) in new[] { (layer.WeightIh, rows), (layer.WeightHh, rows), (layer.WeightHr, Spec.ProjectionSize) })
                RoundInPlace(matrix, rowCount, format);
        }

        return copy;
    }

    private static void RoundInPlace(float[] matrix, int rows, WeightFormat format)
    {
        if (matrix.Length == 0 || format == WeightFormat.Float32) return;
        if (format != WeightFormat.Int8)
        {
            // The same rounding, and the same refusals, as packing a panel of this format.
            for (int i = 0; i < matrix.Length; i++)
            {
                matrix[i] = format == WeightFormat.Float16
                    ? WeightConversion.FromFloat16(WeightConversion.ToFiniteFloat16(matrix[i]))
                    : WeightConversion.RoundTrip(matrix[i], format);
            }

            return;
        }

        int columns = matrix.Length / rows;
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = matrix.AsSpan(r * columns, columns);
            float scale = WeightConversion.Int8RowScale(row, out float inverse);
            for (int k = 0; k < columns; k++) row[k] = scale * WeightConversion.ToInt8(row[k], inverse);
        }
    }

    /// <summary>A deep copy: training and importers may change the arrays of one without touching the other.</summary>
    public LstmWeights Clone()
    {
        var layers = new LstmLayerWeights[_layers.Length];
        for (int i = 0; i < layers.Length; i++)
        {
            LstmLayerWeights w = _layers[i];
            layers[i] = new LstmLayerWeights
            {
                WeightIh = (float[])w.WeightIh.Clone(),
                WeightHh = (float[])w.WeightHh.Clone(),
                BiasIh = (float[])w.BiasIh.Clone(),
                BiasHh = (float[])w.BiasHh.Clone(),
                WeightHr = (float[])w.WeightHr.Clone(),
                Peephole = (float[])w.Peephole.Clone(),
            };
        }

        return new LstmWeights(Spec, layers);
    }

    private static LstmWeights Create(LstmSpec spec, Func<int, float[]> make)
    {
        int h = spec.HiddenSize, gates = spec.GateRows;
        var layers = new List<LstmLayerWeights>(spec.LayerDirections);
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                layers.Add(new LstmLayerWeights
                {
                    WeightIh = make(spec.InputWeightLength(l)),
                    WeightHh = make(spec.RecurrentWeightLength),
                    BiasIh = spec.Bias ? make(gates) : [],
                    BiasHh = spec.Bias ? make(gates) : [],
                    WeightHr = spec.ProjectionSize > 0 ? make(spec.ProjectionWeightLength) : [],
                    Peephole = spec.Cell.Peepholes ? make(3 * h) : [],
                });
            }
        }

        return new LstmWeights(spec, layers);
    }

    private void CheckShapes(int layer, int direction, LstmLayerWeights w)
    {
        ArgumentNullException.ThrowIfNull(w);
        int h = Spec.HiddenSize, gates = Spec.GateRows;
        string where = $"layer {layer}{(direction == 1 ? " reverse" : "")}";
        WeightShapes.Check(w.WeightIh, Spec.InputWeightLength(layer), nameof(w.WeightIh), where);
        WeightShapes.Check(w.WeightHh, Spec.RecurrentWeightLength, nameof(w.WeightHh), where);
        WeightShapes.Check(w.BiasIh, Spec.Bias ? gates : 0, nameof(w.BiasIh), where);
        WeightShapes.Check(w.BiasHh, Spec.Bias ? gates : 0, nameof(w.BiasHh), where);
        WeightShapes.Check(w.WeightHr, Spec.ProjectionWeightLength, nameof(w.WeightHr), where);
        WeightShapes.Check(w.Peephole, Spec.Cell.Peepholes ? 3 * h : 0, nameof(w.Peephole), where);
    }
}
