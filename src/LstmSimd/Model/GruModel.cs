namespace LstmSimd;

/// <summary>
/// An immutable GRU ready to run on the LSTM's kernels: its three gates are packed into the four gate slots of the same
/// panels (r, z, n's input part, n's recurrent part) and a GRU epilogue replaces the LSTM's, so it gets every kernel width,
/// weight format and thread of <see cref="LstmModel"/>. Safe to share across threads; each thread runs it through its own
/// <see cref="GruSession"/>.
/// </summary>
/// <remarks>
/// Runs PyTorch's <c>nn.GRU</c> (<see cref="GruSpec.LinearBeforeReset"/> true: ONNX <c>linear_before_reset = 1</c>, Keras
/// <c>reset_after = True</c>) and the original cell (false: ONNX's default, Keras <c>reset_after = False</c>), whose W_hn
/// multiplies r ⊙ h: it is packed apart and its product runs as a second phase of each step on the same product kernels
/// (as an LSTM's projection does), after r is known.
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
    /// <exception cref="ArgumentException">A weight the format cannot store, or weights so large that the fp32 sums could overflow whatever the input.</exception>
    public static GruModel Create(GruWeights weights, LstmModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        GruSpec spec = weights.Spec;
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
        var slots = new LstmSpec(spec.InputSize, spec.HiddenSize, spec.NumLayers, spec.Bidirectional, bias: spec.Bias) { Cell = (spec.LinearBeforeReset ? CellVariant.Gru : CellVariant.GruResetFirst) with { Gate = spec.GateActivation } };
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
                    WeightIh = Place(w.WeightIh, features, h, InputGateOfSlot),
                    WeightHh = Place(w.WeightHh, h, h, RecurrentGateOfSlot),
                    BiasIh = spec.Bias ? Place(w.BiasIh, 1, h, InputGateOfSlot) : [],
                    BiasHh = spec.Bias ? Place(w.BiasHh, 1, h, RecurrentGateOfSlot) : [],
                };
            }
        }

        return new LstmWeights(slots, layers);
    }

    /// <summary>The GRU gate (r, z, n) each of the four slots of W_ih and b_ih holds; −1: none.</summary>
    internal static ReadOnlySpan<int> InputGateOfSlot => [0, 1, 2, -1];

    /// <summary>The GRU gate each of the four slots of W_hh and b_hh holds; −1: none.</summary>
    internal static ReadOnlySpan<int> RecurrentGateOfSlot => [0, 1, -1, 2];

    /// <summary>A [3H, depth] matrix's gate blocks moved into four slots of [4H, depth]: slot s takes gate <paramref name="gateOfSlot"/>[s] (−1: zeros).</summary>
    private static float[] Place(float[] source, int depth, int hidden, ReadOnlySpan<int> gateOfSlot)
    {
        float[] placed = new float[Sizes.Elements("four gate slots 4 × H × depth", 4, hidden, depth)];
        PlaceInto(source, depth, hidden, gateOfSlot, placed);
        return placed;
    }

    /// <summary>Gates r, z, n of a [3H, depth] matrix, taken from the slots of a four-slot [4H, depth] one that hold them (the inverse of <see cref="Place"/>).</summary>
    internal static float[] FromSlots(ReadOnlySpan<float> slots, int depth, int hidden, ReadOnlySpan<int> gateOfSlot)
    {
        float[] gates = new float[Sizes.Elements("three gates 3 × H × depth", 3, hidden, depth)];
        int block = hidden * depth;
        for (int slot = 0; slot < 4; slot++)
        {
            if (gateOfSlot[slot] >= 0) slots.Slice(slot * block, block).CopyTo(gates.AsSpan(gateOfSlot[slot] * block));
        }

        return gates;
    }

    /// <summary>Copies a [3H, depth] matrix's gate blocks into the slots of <paramref name="slots"/> [4H, depth] that hold them (the others are left alone).</summary>
    internal static void PlaceInto(ReadOnlySpan<float> source, int depth, int hidden, ReadOnlySpan<int> gateOfSlot, Span<float> slots)
    {
        int block = hidden * depth;
        for (int slot = 0; slot < 4; slot++)
        {
            if (gateOfSlot[slot] >= 0) source.Slice(gateOfSlot[slot] * block, block).CopyTo(slots.Slice(slot * block));
        }
    }

    /// <summary>Adds the slots of <paramref name="slots"/> [4H, depth] that hold a gate to that gate's block of <paramref name="gates"/> [3H, depth].</summary>
    internal static void AddFromSlots(ReadOnlySpan<float> slots, int depth, int hidden, ReadOnlySpan<int> gateOfSlot, Span<float> gates)
    {
        int block = hidden * depth;
        for (int slot = 0; slot < 4; slot++)
        {
            if (gateOfSlot[slot] < 0) continue;
            ReadOnlySpan<float> source = slots.Slice(slot * block, block);
            Span<float> destination = gates.Slice(gateOfSlot[slot] * block, block);
            for (int i = 0; i < block; i++) destination[i] += source[i];
        }
    }
}
