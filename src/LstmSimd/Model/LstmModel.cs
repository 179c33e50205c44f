using LstmSimd.Kernels;

namespace LstmSimd;

/// <summary>Options fixed when a model is built.</summary>
public sealed record LstmModelOptions
{
    /// <summary>The kernel width; <see cref="KernelPath.Auto"/> picks the widest the CPU accelerates (see <see cref="KernelSelector"/>).</summary>
    public KernelPath Kernel { get; init; } = KernelPath.Auto;

    /// <summary>
    /// Threads each session computes with (1 to 64; default 1): the calling thread plus persistent workers that split
    /// hidden-unit blocks, or run the two directions of a bidirectional layer side by side. Pays off for large layers
    /// or batches; a small layer's step is too short to share. The workers spin between steps, so give each thread a core
    /// of its own: on an oversubscribed machine a member waits for a descheduled partner at every step.
    /// </summary>
    public int Threads { get; init; } = 1;

    /// <summary>
    /// How the weight matrices are stored (default <see cref="WeightFormat.Float32"/>). The 16-bit formats halve the
    /// bytes each step streams, for a bounded error (see the README's accuracy table); biases, states and sums stay fp32.
    /// </summary>
    public WeightFormat Weights { get; init; } = WeightFormat.Float32;
}

/// <summary>
/// An immutable LSTM ready to run: the spec and its weights packed once into gate-interleaved panels for
/// one kernel width. Safe to share across threads; each thread runs it through its own <see cref="LstmSession"/>.
/// </summary>
public sealed class LstmModel
{
    private LstmModel(LstmSpec spec, KernelSet kernels, PackedLayer[] layers, int threads, SumBounds bounds)
    {
        Spec = spec;
        Bounds = bounds;
        Threads = threads;
        Kernels = kernels;
        Layers = layers;
    }

    /// <summary>The model's shape.</summary>
    public LstmSpec Spec { get; }

    /// <summary>The kernel width this model was packed for.</summary>
    public KernelPath KernelPath => Kernels.Path;

    /// <summary>Threads each session computes with (see <see cref="LstmModelOptions.Threads"/>).</summary>
    public int Threads { get; }

    /// <summary>How this model stores its weight matrices (see <see cref="LstmModelOptions.Weights"/>).</summary>
    public WeightFormat WeightFormat => Kernels.Format;

    internal KernelSet Kernels { get; }

    /// <summary>Packed weights per layer and direction, layer-major.</summary>
    internal PackedLayer[] Layers { get; }

    /// <summary>What keeps the fp32 sums finite: sessions check every call's inputs against it.</summary>
    internal SumBounds Bounds { get; }

    /// <summary>The hash of the spec and weights that saved streaming states carry (see <see cref="ModelIdentity"/>).</summary>
    internal byte[] Identity { get; private init; } = [];

    /// <summary>
    /// Packs <paramref name="weights"/> (copied: later changes to the arrays do not reach the model). Every cell runs here:
    /// PyTorch's with its fused epilogue, ONNX's variants (peepholes, clip, input_forget, other activations) with their own.
    /// </summary>
    /// <exception cref="ArgumentException">
    /// A weight the format cannot store, or weights so large that the fp32 sums b + W_ih·x + W_hh·h could overflow
    /// whatever the input (see the README's Numerics section).
    /// </exception>
    public static LstmModel Create(LstmWeights weights, LstmModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(weights);
        LstmSpec spec = weights.Spec;
        int threads = options?.Threads ?? 1;
        if (threads is < 1 or > 64) throw new ArgumentOutOfRangeException(nameof(options), threads, "Threads must be in [1, 64].");
        WeightFormat format = options?.Weights ?? WeightFormat.Float32;
        if (!Enum.IsDefined(format)) throw new ArgumentOutOfRangeException(nameof(options), format, "Unknown weight format.");
        KernelSet kernels = KernelSelector.Create(options?.Kernel ?? KernelPath.Auto, format,
            format == WeightFormat.Float16 ? Float16CodesFor(weights) : Float16Codes.Normalised);
        var layers = new PackedLayer[spec.LayerDirections];
        for (int layer = 0; layer < spec.NumLayers; layer++)
            for (int d = 0; d < spec.Directions; d++)
                layers[layer * spec.Directions + d] = PackedLayer.Pack(spec, layer, weights[layer, d], kernels);
        return new LstmModel(spec, kernels, layers, threads, SumBounds.Create(weights, format, kernels)) { Identity = ModelIdentity.Of(weights) };
    }

    /// <summary>The codes a Float16 model's panels use: normalised unless a weight, rounded to a half, reaches their limit.</summary>
    private static Float16Codes Float16CodesFor(LstmWeights weights)
    {
        for (int layer = 0; layer < weights.Spec.NumLayers; layer++)
        {
            for (int d = 0; d < weights.Spec.Directions; d++)
            {
                LstmLayerWeights w = weights[layer, d];
                foreach (float[] matrix in (ReadOnlySpan<float[]>)[w.WeightIh, w.WeightHh, w.WeightHr])
                {
                    foreach (float value in matrix)
                    {
                        // Only weights near the limit can round up to it (the rounding is the costly part).
                        if (MathF.Abs(value) >= Float16Bits.NormalisedLimit / 2
                            && MathF.Abs(WeightConversion.RoundTrip(value, WeightFormat.Float16)) >= Float16Bits.NormalisedLimit) return Float16Codes.Ieee;
                    }
                }
            }
        }

        return Float16Codes.Normalised;
    }

    /// <summary>
    /// Creates a session that runs up to <paramref name="maxBatch"/> sequences of up to <paramref name="maxSteps"/> steps
    /// without allocating. Dispose it to stop its worker threads (when <see cref="Threads"/> &gt; 1).
    /// </summary>
    public LstmSession CreateSession(int maxBatch = 1, int maxSteps = 1) => new(this, maxBatch, maxSteps);

    /// <summary>
    /// Runs the kernels this model's sessions call once, on a scratch session of zeros, so that a just-in-time compiled
    /// process compiles them now instead of in the first real call: a latency-sensitive service calls it at start.
    /// Batches 1 to 4 reach every row tile of the kernels, a batch of 8 the path of batched 16-bit weights, and two-step
    /// sequences the whole-sequence path.
    /// Under NativeAOT there is nothing to compile and it only costs the scratch runs.
    /// </summary>
    public void Warmup()
    {
        // Every row count a tile can leave as a tail, then two whole tiles (16-bit weights widen a block that serves two).
        const int Steps = 2, MaxTileRows = 4, MaxBatch = 2 * MaxTileRows;
        using LstmSession session = CreateSession(MaxBatch, Steps);
        float[] input = new float[Steps * MaxBatch * Spec.InputSize];
        float[] output = new float[Steps * MaxBatch * Spec.OutputSize];
        foreach (int batch in (ReadOnlySpan<int>)[1, 2, 3, 4, MaxBatch])
        {
            session.Forward(input.AsSpan(0, Steps * batch * Spec.InputSize), Steps, batch, output.AsSpan(0, Steps * batch * Spec.OutputSize));
            if (!Spec.Bidirectional) session.Step(input.AsSpan(0, batch * Spec.InputSize), batch, output.AsSpan(0, batch * Spec.OutputHiddenSize));
        }
    }
}

/// <summary>One layer-direction's weights, packed for the kernels.</summary>
internal sealed class PackedLayer
{
    private PackedLayer(PackedPanel input, PackedPanel recurrent, float[] bias, PackedPanel? projection, CellVariant cell, float[] peepholes, PackedPanel? resetRecurrent)
    {
        Input = input;
        Recurrent = recurrent;
        Bias = bias;
        Projection = projection;
        Cell = cell;
        Peepholes = peepholes;
        ResetRecurrent = resetRecurrent;
    }

    /// <summary>The original GRU's W_hn as a 1-gate panel over H, the second product phase's (<see cref="Recurrent"/> holds r and z only); otherwise null.</summary>
    public PackedPanel? ResetRecurrent { get; }

    /// <summary>The panel of a step's second product phase, which reads the cell phase's output (m, or r ⊙ h): W_hr or the original GRU's W_hn.</summary>
    public PackedPanel? SecondProduct => Projection ?? ResetRecurrent;

    /// <summary>W_ih as a panel over the layer's input features (four gates; a GRU's three).</summary>
    public PackedPanel Input { get; }

    /// <summary>W_hh as a panel over H_out (four gates; a GRU's three, or the original GRU's r and z).</summary>
    public PackedPanel Recurrent { get; }

    /// <summary>b_ih + b_hh in panel row order (zeros without bias).</summary>
    public float[] Bias { get; }

    /// <summary>W_hr as a 1-gate panel over H, or null without a projection.</summary>
    public PackedPanel? Projection { get; }

    /// <summary>The cell: PyTorch's (the kernels' fused epilogue) or an ONNX variant (its own epilogue, <see cref="VariantCellKernels{TVec}"/>).</summary>
    public CellVariant Cell { get; }

    /// <summary>p_i, p_f, p_o in panel row order (3 gates), or empty without peepholes.</summary>
    public float[] Peepholes { get; }

    /// <summary>Packs one layer-direction's weights for <paramref name="kernels"/> (their width, weight format and Float16 codes).</summary>
    public static PackedLayer Pack(LstmSpec spec, int layer, LstmLayerWeights w, KernelSet kernels)
    {
        (int width, WeightFormat format, Float16Codes codes) = (kernels.Width, kernels.Format, kernels.Float16Codes);
        int h = spec.HiddenSize;
        float[] bias = new float[spec.GateRows];
        if (spec.Bias)
        {
            for (int i = 0; i < bias.Length; i++) bias[i] = w.BiasIh[i] + w.BiasHh[i];
        }

        // A GRU's four slots hold zero rows (W_ih has none for n's recurrent part, W_hh none for its input part): its panels
        // leave them out. The original GRU's W_hn (slot 3 of W_hh) multiplies r ⊙ h, known only after the first phase: its own panel.
        (GateLayout input, GateLayout recurrent) = !spec.Cell.IsGru ? (GateLayout.Lstm, GateLayout.Lstm)
            : spec.Cell.ResetBeforeProduct ? (GateLayout.GruInput, GateLayout.GruGates)
            : (GateLayout.GruInput, GateLayout.GruRecurrent);
        PackedPanel? resetRecurrent = null;
        if (spec.Cell.ResetBeforeProduct)
        {
            int block = h * spec.OutputHiddenSize;
            resetRecurrent = PackedPanel.Pack(w.WeightHh.AsSpan(3 * block, block), GateLayout.Single, h, spec.OutputHiddenSize, width, format, codes);
        }

        return new PackedLayer(
            PackedPanel.Pack(w.WeightIh, input, h, spec.LayerInputSize(layer), width, format, codes),
            PackedPanel.Pack(w.WeightHh, recurrent, h, spec.OutputHiddenSize, width, format, codes),
            PackedPanel.PackRow(bias, 4, h, width),
            spec.ProjectionSize > 0 ? PackedPanel.Pack(w.WeightHr, GateLayout.Single, spec.ProjectionSize, h, width, format, codes) : null,
            spec.Cell, spec.Cell.Peepholes ? PackedPanel.PackRow(w.Peephole, 3, h, width) : [], resetRecurrent);
    }
}
