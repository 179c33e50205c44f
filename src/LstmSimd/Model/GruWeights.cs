namespace LstmSimd;

/// <summary>The parameters of one GRU layer in one direction, in PyTorch's layout (row-major, gate order r, z, n).</summary>
public sealed class GruLayerWeights
{
    /// <summary><c>weight_ih</c>: [3H, I_l].</summary>
    public required float[] WeightIh { get; init; }

    /// <summary><c>weight_hh</c>: [3H, H].</summary>
    public required float[] WeightHh { get; init; }

    /// <summary><c>bias_ih</c>: [3H], or empty when the spec has no bias.</summary>
    public float[] BiasIh { get; init; } = [];

    /// <summary><c>bias_hh</c>: [3H], or empty when the spec has no bias.</summary>
    public float[] BiasHh { get; init; } = [];
}

/// <summary>
/// All parameters of a GRU: one <see cref="GruLayerWeights"/> per layer and direction, shaped by a <see cref="GruSpec"/>.
/// </summary>
public sealed class GruWeights
{
    private readonly GruLayerWeights[] _layers;

    /// <summary>Wraps per-layer weights, ordered layer-major (layer 0 forward, layer 0 reverse, layer 1 forward, …), and checks every shape.</summary>
    public GruWeights(GruSpec spec, IReadOnlyList<GruLayerWeights> layers)
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
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                GruLayerWeights w = this[l, d];
                ArgumentNullException.ThrowIfNull(w);
                string where = $"layer {l}{(d == 1 ? " reverse" : "")}";
                WeightShapes.Check(w.WeightIh, spec.InputWeightLength(l), nameof(w.WeightIh), where);
                WeightShapes.Check(w.WeightHh, spec.RecurrentWeightLength, nameof(w.WeightHh), where);
                WeightShapes.Check(w.BiasIh, spec.Bias ? spec.GateRows : 0, nameof(w.BiasIh), where);
                WeightShapes.Check(w.BiasHh, spec.Bias ? spec.GateRows : 0, nameof(w.BiasHh), where);
            }
        }
    }

    /// <summary>Sets every parameter to zero (a training session's gradients, before a step accumulates them).</summary>
    internal void Clear()
    {
        foreach (GruLayerWeights w in _layers)
            foreach (float[] values in (ReadOnlySpan<float[]>)[w.WeightIh, w.WeightHh, w.BiasIh, w.BiasHh]) Array.Clear(values);
    }

    /// <summary>The shape these weights belong to.</summary>
    public GruSpec Spec { get; }

    /// <summary>The weights of layer <paramref name="layer"/>, direction <paramref name="direction"/> (0 forward, 1 reverse).</summary>
    public GruLayerWeights this[int layer, int direction] => _layers[layer * Spec.Directions + direction];

    /// <summary>
    /// A copy whose weight matrices (W_ih, W_hh) hold what a <see cref="GruModel"/> built with <paramref name="format"/>
    /// computes with: rounded to fp16 or bf16, or each row quantised to Int8 and scaled back, as packed in the gate slots.
    /// Biases stay as they are. Running <see cref="Reference.ReferenceGru"/> on it separates a format's weight rounding from
    /// everything else (Int8 also quantises activations every step, which this cannot show).
    /// </summary>
    /// <exception cref="ArgumentException">A weight the format's model would refuse too (see <see cref="LstmWeights.StoredAs"/>).</exception>
    public GruWeights StoredAs(WeightFormat format)
    {
        LstmWeights slots = GruModel.InGateSlots(this).StoredAs(format);
        int h = Spec.HiddenSize;
        var layers = new List<GruLayerWeights>(Spec.LayerDirections);
        for (int layer = 0; layer < Spec.NumLayers; layer++)
        {
            for (int d = 0; d < Spec.Directions; d++)
            {
                LstmLayerWeights w = slots[layer, d];
                GruLayerWeights original = this[layer, d];
                layers.Add(new GruLayerWeights
                {
                    WeightIh = GruModel.FromSlots(w.WeightIh, Spec.LayerInputSize(layer), h, GruModel.InputGateOfSlot),
                    WeightHh = GruModel.FromSlots(w.WeightHh, h, h, GruModel.RecurrentGateOfSlot),
                    BiasIh = [.. original.BiasIh],
                    BiasHh = [.. original.BiasHh],
                });
            }
        }

        return new GruWeights(Spec, layers);
    }

    /// <summary>
    /// Random weights as PyTorch initialises them: every parameter uniform in [-1/√H, 1/√H], drawn from a generator seeded
    /// with <paramref name="seed"/> (LstmSimd's own values: the same seed gives the same weights here, not in PyTorch).
    /// </summary>
    public static GruWeights CreateRandom(GruSpec spec, int seed)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var random = new Random(seed);
        float bound = 1f / MathF.Sqrt(spec.HiddenSize);
        var layers = new List<GruLayerWeights>(spec.LayerDirections);
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                layers.Add(new GruLayerWeights
                {
                    WeightIh = WeightShapes.Uniform(random, spec.InputWeightLength(l), bound),
                    WeightHh = WeightShapes.Uniform(random, spec.RecurrentWeightLength, bound),
                    BiasIh = spec.Bias ? WeightShapes.Uniform(random, spec.GateRows, bound) : [],
                    BiasHh = spec.Bias ? WeightShapes.Uniform(random, spec.GateRows, bound) : [],
                });
            }
        }

        return new GruWeights(spec, layers);
    }

    /// <summary>All-zero weights of the right shapes (gradient buffers, a starting point for tests).</summary>
    public static GruWeights CreateZero(GruSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        spec.Validate();
        var layers = new List<GruLayerWeights>(spec.LayerDirections);
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                layers.Add(new GruLayerWeights
                {
                    WeightIh = new float[spec.InputWeightLength(l)],
                    WeightHh = new float[spec.RecurrentWeightLength],
                    BiasIh = spec.Bias ? new float[spec.GateRows] : [],
                    BiasHh = spec.Bias ? new float[spec.GateRows] : [],
                });
            }
        }

        return new GruWeights(spec, layers);
    }
}
