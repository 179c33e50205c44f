namespace LstmSimd;

/// <summary>
/// An immutable GRU ready to run on the LSTM's kernels: its three gates are packed into the four gate slots of the same
/// panels (r, z, n's input part, n's recurrent part) and a GRU epilogue replaces the LSTM's, so it gets every kernel width,
/// weight format and thread of <see cref="LstmModel"/>. Safe to share across threads; each thread runs it through its own
/// <see cref="GruSession"/>.
/// </summary>
/// <remarks>
/// Runs PyTorch's <c>nn.GRU</c> (<see cref="GruSpec.LinearBeforeReset"/> true: ONNX <c>linear_before_reset = 1</c>, Keras
/// <c>reset_after = True</c>). The original cell (reset before the recurrent product) is refused here; <see
/// cref="Reference.ReferenceGru"/> runs both.
/// </remarks>
public sealed class GruModel
{
    private GruModel(GruSpec spec, LstmModel core)
    {
        Spec = spec;
        Core = core;
    }

    /// <summary>The model's shape.</summary>
    public GruSpec Spec { get; }

    /// <summary>The kernel width this model was packed for.</summary>
    public KernelPath KernelPath => Core.KernelPath;

    /// <summary>Threads each session computes with (see <see cref="LstmModelOptions.Threads"/>).</summary>
    public int Threads => Core.Threads;

    /// <summary>How this model stores its weight matrices (see <see cref="LstmModelOptions.Weights"/>).</summary>
    public WeightFormat WeightFormat => Core.WeightFormat;

    /// <summary>The GRU in the LSTM's gate slots, which the sessions run.</summary>
    internal LstmModel Core { get; }

    /// <summary>Packs <paramref name="weights"/> (copied: later changes to the arrays do not reach the model).</summary>
    /// <param name="weights">The GRU, in PyTorch's layout.</param>
    /// <param name="options">Kernel width, threads and weight format, as for <see cref="LstmModel.Create"/>.</param>
    /// <exception cref="NotSupportedException">The spec asks for the original cell (<see cref="GruSpec.LinearBeforeReset"/> false).</exception>
    /// <exception cref="ArgumentException">A weight the format cannot store, or weights so large that the fp32 sums could overflow whatever the input.</exception>
    public static GruModel Create(GruWeights weights, LstmModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        GruSpec spec = weights.Spec;
        if (!spec.LinearBeforeReset)
            throw new NotSupportedException("The fast GRU runs PyTorch's cell (LinearBeforeReset = true: the reset gate after the recurrent product); ReferenceGru runs the original one.");
        return new GruModel(spec, LstmModel.Create(InGateSlots(weights), options));
    }

    /// <summary>
    /// Creates a session that runs up to <paramref name="maxBatch"/> sequences of up to <paramref name="maxSteps"/> steps
    /// without allocating. Dispose it to stop its worker threads (when <see cref="Threads"/> &gt; 1).
    /// </summary>
    public GruSession CreateSession(int maxBatch = 1, int maxSteps = 1) => new(this, maxBatch, maxSteps);

    /// <summary>Runs the kernels this model's sessions call once, so that they are compiled before the first real call (see <see cref="LstmModel.Warmup"/>).</summary>
    public void Warmup() => Core.Warmup();

    /// <summary>
    /// The GRU as LSTM weights in the four gate slots: W_ih rows (W_ir, W_iz, W_in, 0), W_hh rows (W_hr, W_hz, 0, W_hn),
    /// b_ih (b_ir, b_iz, b_in, 0), b_hh (b_hr, b_hz, 0, b_hn); the packed bias is their sum.
    /// </summary>
    internal static LstmWeights InGateSlots(GruWeights weights)
    {
        GruSpec spec = weights.Spec;
        var slots = new LstmSpec(spec.InputSize, spec.HiddenSize, spec.NumLayers, spec.Bidirectional, bias: spec.Bias) { Cell = CellVariant.Gru };
        int h = spec.HiddenSize;
        var layers = new LstmLayerWeights[spec.LayerDirections];
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                GruLayerWeights w = weights[layer, d];
                int features = spec.LayerInputSize(layer);
                layers[layer * spec.Directions + d] = new LstmLayerWeights
                {
                    WeightIh = Place(w.WeightIh, features, h, [0, 1, 2, -1]),
                    WeightHh = Place(w.WeightHh, h, h, [0, 1, -1, 2]),
                    BiasIh = spec.Bias ? Place(w.BiasIh, 1, h, [0, 1, 2, -1]) : [],
                    BiasHh = spec.Bias ? Place(w.BiasHh, 1, h, [0, 1, -1, 2]) : [],
                };
            }
        }

        return new LstmWeights(slots, layers);
    }

    /// <summary>Gates r, z, n of a [3H, depth] matrix, taken from a four-slot [4H, depth] one at <paramref name="slotOfGate"/> (the inverse of <see cref="InGateSlots"/>).</summary>
    internal static float[] FromSlots(float[] slots, int depth, int hidden, int[] slotOfGate)
    {
        int block = hidden * depth;
        float[] gates = new float[3 * block];
        for (int g = 0; g < 3; g++) slots.AsSpan(slotOfGate[g] * block, block).CopyTo(gates.AsSpan(g * block));
        return gates;
    }

    /// <summary>A [3H, depth] matrix's gate blocks moved into four slots of [4H, depth]: slot s takes gate <paramref name="gateOfSlot"/>[s] (−1: zeros).</summary>
    private static float[] Place(float[] source, int depth, int hidden, int[] gateOfSlot)
    {
        int block = Sizes.Elements("gate block H × depth", hidden, depth);
        float[] placed = new float[Sizes.Elements("four gate slots 4 × H × depth", 4, hidden, depth)];
        for (int slot = 0; slot < 4; slot++)
        {
            if (gateOfSlot[slot] >= 0) source.AsSpan(gateOfSlot[slot] * block, block).CopyTo(placed.AsSpan(slot * block));
        }

        return placed;
    }
}
