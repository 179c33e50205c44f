namespace LstmSimd.Keras;

/// <summary>How a <c>Bidirectional</c> layer joins its forward and backward outputs (Keras's <c>merge_mode</c>).</summary>
public enum KerasMergeMode
{
    /// <summary>[forward, backward] side by side.</summary>
    Concat,
    /// <summary>forward + backward.</summary>
    Sum,
    /// <summary>forward · backward.</summary>
    Mul,
    /// <summary>(forward + backward) / 2.</summary>
    Ave,
}

/// <summary>The activation of a <c>Dense</c> layer.</summary>
public enum KerasDenseActivation
{
    /// <summary>None (<c>linear</c>).</summary>
    Linear,
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>e^x / Σ e^x over the last axis.</summary>
    Softmax,
}

/// <summary>A values array and its shape, row-major, batch first as Keras lays out tensors.</summary>
/// <param name="Name">The model output's name: the layer's name, then <c>:1</c>, <c>:2</c>… for its further outputs (an LSTM's h and c, a GRU's h).</param>
/// <param name="Values">The values.</param>
/// <param name="Shape">The shape, e.g. [B, T, H].</param>
public sealed record KerasTensor(string Name, float[] Values, int[] Shape);

/// <summary>One layer of a <see cref="KerasModel"/>, with what it reads.</summary>
public abstract class KerasLayer
{
    private protected KerasLayer(string name, string className, string source, int sourceIndex)
    {
        Name = name;
        ClassName = className;
        Source = source;
        SourceIndex = sourceIndex;
        Input = KerasModel.TensorName(source, sourceIndex);
    }

    /// <summary>The layer's name in the model.</summary>
    public string Name { get; }

    /// <summary>Keras's class name: <c>LSTM</c>, <c>GRU</c>, <c>Bidirectional</c>, <c>Dense</c>, <c>Embedding</c> or <c>Dropout</c>.</summary>
    public string ClassName { get; }

    /// <summary>The tensor the layer reads: the model input's name, or a layer's name (with <c>:i</c> for its i-th output).</summary>
    public string Input { get; }

    /// <summary>The layer (or the model input) whose output this layer reads.</summary>
    internal string Source { get; }

    /// <summary>Which of <see cref="Source"/>'s outputs it reads.</summary>
    internal int SourceIndex { get; }

    /// <summary>The layer and its settings, one line.</summary>
    public abstract string Description { get; }

    /// <summary>How many tensors the layer outputs.</summary>
    internal virtual int OutputCount => 1;

    internal abstract Tensor[] Apply(Tensor input);
}

/// <summary>
/// What <c>LSTM</c>, <c>GRU</c> and their <c>Bidirectional</c> wrappers share: Keras's <c>return_sequences</c>,
/// <c>return_state</c>, <c>go_backwards</c> and <c>merge_mode</c> around one run of the layer on LstmSimd's kernels, batch
/// first, from zero state.
/// </summary>
public abstract class KerasRecurrentLayer : KerasLayer
{
    private protected KerasRecurrentLayer(KerasLayerConfig layer, bool returnSequences, bool returnState, bool goBackwards, KerasMergeMode? mergeMode)
        : base(layer.Name, layer.ClassName, layer.Source, layer.SourceIndex)
    {
        ReturnSequences = returnSequences;
        ReturnState = returnState;
        GoBackwards = goBackwards;
        MergeMode = mergeMode;
    }

    /// <summary>Keras's <c>return_sequences</c>: every step's output [B, T, ·] rather than the last [B, ·].</summary>
    public bool ReturnSequences { get; }

    /// <summary>Keras's <c>return_state</c>: the states (per direction: an LSTM's h and c, a GRU's h) follow the output.</summary>
    public bool ReturnState { get; }

    /// <summary>Keras's <c>go_backwards</c>: reads the sequence from its last step and returns the outputs in that order.</summary>
    public bool GoBackwards { get; }

    /// <summary>The Bidirectional wrapper's merge mode, or null for a plain layer.</summary>
    public KerasMergeMode? MergeMode { get; }

    /// <summary>The kernel path the layer's model runs on.</summary>
    public abstract KernelPath KernelPath { get; }

    /// <summary>I: features per step in.</summary>
    private protected abstract int InputSize { get; }

    /// <summary>H: units per direction.</summary>
    private protected abstract int Units { get; }

    /// <summary>1, or 2 for a Bidirectional wrapper.</summary>
    private protected abstract int Directions { get; }

    /// <summary>Whether the cell has an LSTM's c beside h (return_state then gives both per direction).</summary>
    private protected abstract bool HasCellState { get; }

    /// <summary>Runs the model over [B, T, I] batch first from zero state: output [B, T, D·H], h [D, B, H] and, for an LSTM, c [D, B, H].</summary>
    private protected abstract void Forward(ReadOnlySpan<float> input, int steps, int batch, float[] output, float[] h, float[] c);

    /// <summary>The settings after the units and activations, for <see cref="KerasLayer.Description"/>.</summary>
    private protected string Options =>
        (MergeMode is KerasMergeMode m ? $", merge_mode {m.ToString().ToLowerInvariant()}" : "")
        + (ReturnSequences ? ", return_sequences" : "") + (ReturnState ? ", return_state" : "") + (GoBackwards ? ", go_backwards" : "");

    internal override int OutputCount => ReturnState ? 1 + (HasCellState ? 2 : 1) * Directions : 1;

    internal override Tensor[] Apply(Tensor input)
    {
        if (input.Shape.Length != 3 || input.Shape[2] != InputSize)
            throw new ArgumentException($"Layer '{Name}' takes [B, T, {InputSize}]; it got [{string.Join(", ", input.Shape)}].");
        int batch = input.Shape[0], steps = input.Shape[1], hidden = Units, directions = Directions;
        if (batch == 0 || steps == 0) throw new ArgumentException($"Layer '{Name}' got an empty batch or no time steps: [{string.Join(", ", input.Shape)}].");
        ReadOnlySpan<float> x = GoBackwards ? ReverseSteps(input.Values, batch, steps, InputSize) : input.Values;

        float[] output = new float[Sizes.Elements($"layer '{Name}' output", batch, steps, directions * (long)hidden)];
        float[] hN = new float[Sizes.Elements($"layer '{Name}' h", directions, batch, hidden)];
        float[] cN = HasCellState ? new float[hN.Length] : [];
        Forward(x, steps, batch, output, hN, cN);

        // The engine's bidirectional output is Keras's: the backward direction's outputs already aligned with the forward's.
        Tensor result = ReturnSequences
            ? Merge(output, batch * steps, hidden, [batch, steps])
            : Merge(LastOutputs(hN, batch, hidden, directions), batch, hidden, [batch]);
        if (!ReturnState) return [result];
        var tensors = new List<Tensor> { result };
        for (int d = 0; d < directions; d++)
        {
            tensors.Add(new Tensor(hN.AsSpan(d * batch * hidden, batch * hidden).ToArray(), [batch, hidden]));
            if (HasCellState) tensors.Add(new Tensor(cN.AsSpan(d * batch * hidden, batch * hidden).ToArray(), [batch, hidden]));
        }

        return [.. tensors];
    }

    /// <summary>[B, T, F] with each sequence's steps in reverse order (go_backwards reads from the last step).</summary>
    private static float[] ReverseSteps(float[] values, int batch, int steps, int features)
    {
        float[] reversed = new float[values.Length];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < steps; t++)
                values.AsSpan((b * steps + t) * features, features).CopyTo(reversed.AsSpan((b * steps + steps - 1 - t) * features));
        return reversed;
    }

    /// <summary>[D, B, H] final h → [B, D·H]: each direction's last output (the backward direction's is its state after step 0).</summary>
    private static float[] LastOutputs(float[] hN, int batch, int hidden, int directions)
    {
        float[] last = new float[hN.Length];
        for (int d = 0; d < directions; d++)
            for (int b = 0; b < batch; b++)
                hN.AsSpan((d * batch + b) * hidden, hidden).CopyTo(last.AsSpan((b * directions + d) * hidden));
        return last;
    }

    /// <summary>Rows of [forward, backward] merged by <see cref="MergeMode"/>; a plain layer's rows as they are.</summary>
    private Tensor Merge(float[] rows, int count, int hidden, int[] leading)
    {
        if (MergeMode is null or KerasMergeMode.Concat) return new Tensor(rows, [.. leading, rows.Length / count]);
        float[] merged = new float[count * hidden];
        for (int r = 0; r < count; r++)
        {
            for (int j = 0; j < hidden; j++)
            {
                float f = rows[r * 2 * hidden + j], b = rows[(r * 2 + 1) * hidden + j];
                merged[r * hidden + j] = MergeMode switch
                {
                    KerasMergeMode.Sum => f + b,
                    KerasMergeMode.Mul => f * b,
                    _ => (f + b) * 0.5f,
                };
            }
        }

        return new Tensor(merged, [.. leading, hidden]);
    }
}

/// <summary>
/// An <c>LSTM</c> or <c>Bidirectional(LSTM)</c> layer on LstmSimd's kernels. Its weights are Keras's, transposed to
/// LstmSimd's layout (kernel [I, 4H] → weight_ih [4H, I], same gate order i, f, c, o; Keras's one bias as b_ih);
/// <see cref="Model"/> runs it and can also be streamed one step at a time.
/// </summary>
public sealed class KerasLstmLayer : KerasRecurrentLayer
{
    internal KerasLstmLayer(KerasLayerConfig layer, LstmWeights weights, LstmModelOptions? options,
        bool returnSequences, bool returnState, bool goBackwards, KerasMergeMode? mergeMode)
        : base(layer, returnSequences, returnState, goBackwards, mergeMode)
    {
        Weights = weights;
        Model = LstmModel.Create(weights, options);
    }

    /// <summary>The weights in LstmSimd's layout (one layer; bidirectional for a Bidirectional wrapper), the cell's activations set from the config.</summary>
    public LstmWeights Weights { get; }

    /// <summary>The packed model that runs the layer.</summary>
    public LstmModel Model { get; }

    /// <inheritdoc/>
    public override KernelPath KernelPath => Model.KernelPath;

    /// <inheritdoc/>
    public override string Description
    {
        get
        {
            LstmSpec spec = Weights.Spec;
            string cell = $"activation {Describe(spec.Cell.Candidate)}, recurrent_activation {Describe(spec.Cell.Gate)}";
            return $"{ClassName} '{Name}' ← {Input}: units {spec.HiddenSize}, input {spec.InputSize}, {cell}, use_bias {spec.Bias}" + Options;
        }
    }

    private protected override int InputSize => Weights.Spec.InputSize;

    private protected override int Units => Weights.Spec.HiddenSize;

    private protected override int Directions => Weights.Spec.Directions;

    private protected override bool HasCellState => true;

    private protected override void Forward(ReadOnlySpan<float> input, int steps, int batch, float[] output, float[] h, float[] c)
    {
        using LstmSession session = Model.CreateSession(batch, steps);
        session.Forward(input, steps, batch, output, h, c, layout: SequenceLayout.BatchFirst);
    }

    internal static string Describe(Activation a) => a.Kind switch
    {
        ActivationKind.HardSigmoid => FormattableString.Invariant($"hard_sigmoid (clip({a.Alpha:0.######}·x + {a.Beta}, 0, 1))"),
        _ => a.Kind.ToString().ToLowerInvariant(),
    };
}

/// <summary>
/// A <c>GRU</c> or <c>Bidirectional(GRU)</c> layer on LstmSimd's kernels, either cell (<c>reset_after</c> True or False:
/// <see cref="GruSpec.LinearBeforeReset"/>). Its weights are Keras's, transposed and reordered to PyTorch's layout (kernel
/// [I, 3H] in gate order z, r, h → weight_ih [3H, I] in order r, z, n; bias [2, 3H] → b_ih, b_hh, or bias [3H] → b_ih with
/// b_hh zero); <see cref="Model"/> runs it and can also be streamed one step at a time.
/// </summary>
public sealed class KerasGruLayer : KerasRecurrentLayer
{
    internal KerasGruLayer(KerasLayerConfig layer, GruWeights weights, LstmModelOptions? options,
        bool returnSequences, bool returnState, bool goBackwards, KerasMergeMode? mergeMode)
        : base(layer, returnSequences, returnState, goBackwards, mergeMode)
    {
        Weights = weights;
        Model = GruModel.Create(weights, options);
    }

    /// <summary>The weights in PyTorch's layout (one layer; bidirectional for a Bidirectional wrapper).</summary>
    public GruWeights Weights { get; }

    /// <summary>The packed model that runs the layer.</summary>
    public GruModel Model { get; }

    /// <inheritdoc/>
    public override KernelPath KernelPath => Model.KernelPath;

    /// <inheritdoc/>
    public override string Description =>
        $"{ClassName} '{Name}' ← {Input}: units {Weights.Spec.HiddenSize}, input {Weights.Spec.InputSize}, activation tanh, recurrent_activation {KerasLstmLayer.Describe(Weights.Spec.GateActivation)}, "
        + $"reset_after {Weights.Spec.LinearBeforeReset}, use_bias {Weights.Spec.Bias}" + Options;

    private protected override int InputSize => Weights.Spec.InputSize;

    private protected override int Units => Weights.Spec.HiddenSize;

    private protected override int Directions => Weights.Spec.Directions;

    private protected override bool HasCellState => false;

    private protected override void Forward(ReadOnlySpan<float> input, int steps, int batch, float[] output, float[] h, float[] c)
    {
        using GruSession session = Model.CreateSession(batch, steps);
        session.Forward(input, steps, batch, output, h, layout: SequenceLayout.BatchFirst);
    }
}

/// <summary>A <c>Dense</c> layer: y = activation(x·kernel + bias) over the last axis (every time step of a sequence).</summary>
public sealed class KerasDenseLayer : KerasLayer
{
    internal KerasDenseLayer(KerasLayerConfig layer, int inputSize, int units, float[] kernel, float[] bias, KerasDenseActivation activation)
        : base(layer.Name, "Dense", layer.Source, layer.SourceIndex)
    {
        InputSize = inputSize;
        Units = units;
        Kernel = kernel;
        Bias = bias;
        Activation = activation;
    }

    /// <summary>Features in.</summary>
    public int InputSize { get; }

    /// <summary>Features out.</summary>
    public int Units { get; }

    /// <summary>Keras's kernel [InputSize, Units], row-major.</summary>
    public float[] Kernel { get; }

    /// <summary>The bias [Units], or empty with <c>use_bias=False</c>.</summary>
    public float[] Bias { get; }

    /// <summary>The activation applied after the linear map.</summary>
    public KerasDenseActivation Activation { get; }

    /// <inheritdoc/>
    public override string Description => $"Dense '{Name}' ← {Input}: units {Units}, input {InputSize}, activation {Activation.ToString().ToLowerInvariant()}, use_bias {Bias.Length > 0}";

    internal override Tensor[] Apply(Tensor input)
    {
        if (input.Shape.Length < 2 || input.Shape[^1] != InputSize)
            throw new ArgumentException($"Layer '{Name}' takes [..., {InputSize}]; it got [{string.Join(", ", input.Shape)}].");
        int rows = input.Values.Length / InputSize;
        float[] y = new float[Sizes.Elements($"layer '{Name}' output", rows, Units)];
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = y.AsSpan(r * Units, Units);
            if (Bias.Length > 0) Bias.CopyTo(row);
            for (int i = 0; i < InputSize; i++)
            {
                float x = input.Values[r * InputSize + i];
                ReadOnlySpan<float> weights = Kernel.AsSpan(i * Units, Units);
                for (int o = 0; o < Units; o++) row[o] += x * weights[o];
            }

            switch (Activation)
            {
                case KerasDenseActivation.Relu: foreach (ref float v in row) v = MathF.Max(v, 0f); break;
                case KerasDenseActivation.Sigmoid: foreach (ref float v in row) v = 1f / (1f + MathF.Exp(-v)); break;
                case KerasDenseActivation.Tanh: foreach (ref float v in row) v = MathF.Tanh(v); break;
                case KerasDenseActivation.Softmax: Softmax(row); break;
                default: break;
            }
        }

        return [new Tensor(y, [.. input.Shape[..^1], Units])];
    }

    private static void Softmax(Span<float> row)
    {
        float max = float.NegativeInfinity;
        foreach (float v in row) max = MathF.Max(max, v);
        double sum = 0;
        foreach (ref float v in row)
        {
            v = MathF.Exp(v - max);
            sum += v;
        }

        foreach (ref float v in row) v = (float)(v / sum);
    }
}

/// <summary>An <c>Embedding</c> layer: token ids [B, T] → rows of its table [B, T, output_dim].</summary>
public sealed class KerasEmbeddingLayer : KerasLayer
{
    internal KerasEmbeddingLayer(KerasLayerConfig layer, int inputDim, int outputDim, float[] embeddings, bool maskZero) : base(layer.Name, "Embedding", layer.Source, layer.SourceIndex)
    {
        InputDim = inputDim;
        OutputDim = outputDim;
        Embeddings = embeddings;
        MaskZero = maskZero;
    }

    /// <summary>
    /// Keras's <c>mask_zero</c>: id 0 is padding, and the layers after skip its steps. <see cref="KerasModel.Run"/> does not
    /// mask, so it refuses such a model; <see cref="KerasTextClassifier"/> reads a text classifier with it.
    /// </summary>
    public bool MaskZero { get; }

    /// <summary>The vocabulary size: ids run from 0 to InputDim − 1.</summary>
    public int InputDim { get; }

    /// <summary>The size of each row.</summary>
    public int OutputDim { get; }

    /// <summary>The table [InputDim, OutputDim], row-major.</summary>
    public float[] Embeddings { get; }

    /// <inheritdoc/>
    public override string Description => $"Embedding '{Name}' ← {Input}: input_dim {InputDim}, output_dim {OutputDim}";

    internal override Tensor[] Apply(Tensor input)
    {
        if (MaskZero)
            throw new NotSupportedException($"Layer '{Name}' sets mask_zero=True: running it would skip the padded steps, which KerasModel.Run does not do; KerasTextClassifier.Load reads a text classifier with it.");
        if (input.Shape.Length != 2) throw new ArgumentException($"Layer '{Name}' takes token ids [B, T]; it got [{string.Join(", ", input.Shape)}].");
        float[] y = new float[Sizes.Elements($"layer '{Name}' output", input.Values.Length, OutputDim)];
        for (int k = 0; k < input.Values.Length; k++)
        {
            float id = input.Values[k];
            if (!(id >= 0 && id < InputDim && id == MathF.Floor(id)))
                throw new ArgumentException($"Layer '{Name}': token id {id} at position {k} is not an integer in [0, {InputDim}).");
            Embeddings.AsSpan((int)id * OutputDim, OutputDim).CopyTo(y.AsSpan(k * OutputDim));
        }

        return [new Tensor(y, [.. input.Shape, OutputDim])];
    }
}

/// <summary>A <c>Dropout</c> layer: the identity at inference.</summary>
public sealed class KerasDropoutLayer : KerasLayer
{
    internal KerasDropoutLayer(KerasLayerConfig layer) : base(layer.Name, "Dropout", layer.Source, layer.SourceIndex) { }

    /// <inheritdoc/>
    public override string Description => $"Dropout '{Name}' ← {Input}: identity at inference";

    internal override Tensor[] Apply(Tensor input) => [input];
}

/// <summary>A tensor flowing between layers.</summary>
internal readonly record struct Tensor(float[] Values, int[] Shape);
