using LstmSimd.Training;

namespace LstmSimd.IO;

/// <summary>Which way an imported recurrent layer reads its sequence.</summary>
internal enum ImportedDirection
{
    /// <summary>Forward only, or bidirectional when <see cref="LstmSpec.Bidirectional"/> says so.</summary>
    Forward,

    /// <summary>
    /// ONNX <c>direction="reverse"</c>: the weights' single direction runs from each sequence's last
    /// step to its first. <see cref="ImportedLstm.Run"/> does so; a session of a model built from the weights runs
    /// it forward, over <see cref="SequenceReversal"/>-reversed input, with the output reversed back.
    /// </summary>
    Reverse,
}

/// <summary>
/// An LSTM taken from a file: the weights in LstmSimd's layout, an optional linear head, what the file
/// says about running it (layout, constant initial state and lengths for ONNX), and which tensors were
/// used and which ignored.
/// </summary>
public sealed class ImportedLstm
{
    /// <summary>The weights, in PyTorch's layout and gate order (i, f, g, o).</summary>
    public required LstmWeights Weights { get; init; }

    /// <summary>
    /// How the file stores the weight matrices: <see cref="WeightFormat.Float16"/> or <see cref="WeightFormat.BFloat16"/> when
    /// every one is F16 or BF16, else <see cref="WeightFormat.Float32"/>. <see cref="Weights"/> holds their exact values as fp32,
    /// so a model built with <c>LstmModelOptions.Weights</c> set to this keeps the file's values and size, with no rounding.
    /// </summary>
    public WeightFormat StoredWeightFormat { get; init; }

    /// <summary>The <c>nn.Linear</c> head, when the file names one.</summary>
    public LinearHead? Head { get; init; }

    /// <summary>What was found, e.g. <c>PyTorch nn.LSTM at prefix 'lstm.'</c>.</summary>
    public required string Description { get; init; }

    /// <summary>
    /// PyTorch <c>nn.LSTMCell</c>: one step; the input is [B, I] and the states are [B, H] rather than
    /// [T, B, I] and [1, B, H] (the same memory, without the leading 1).
    /// </summary>
    public bool IsCell { get; init; }

    /// <summary><see cref="ImportedDirection.Reverse"/> for an ONNX node with <c>direction="reverse"</c>.</summary>
    internal ImportedDirection Direction { get; init; }

    /// <summary>The layout the source model expects its input in (ONNX <c>layout</c>; time-major otherwise).</summary>
    public SequenceLayout Layout { get; init; }

    /// <summary>Constant initial hidden state [L·D, B, H_out] stored in the model (ONNX initializer), or empty.</summary>
    public float[] InitialHidden { get; init; } = [];

    /// <summary>Constant initial cell state [L·D, B, H] stored in the model, or empty.</summary>
    public float[] InitialCell { get; init; } = [];

    /// <summary>Constant sequence lengths [B] stored in the model, or empty.</summary>
    public int[] SequenceLengths { get; init; } = [];

    /// <summary>Names of the tensors the import used.</summary>
    public IReadOnlyList<string> UsedTensors { get; init; } = [];

    /// <summary>Names of the tensors in the file that the import left alone.</summary>
    public IReadOnlyList<string> IgnoredTensors { get; init; } = [];

    /// <summary>
    /// Runs the model once as its source framework would, on the fast path: a reverse ONNX node reads each sequence
    /// from its last valid step back, the initial states and lengths stored in the file apply unless others are given,
    /// the file's <see cref="Layout"/> applies unless another is given, and the head, if any, maps every output row
    /// (for a cell, h_n). Allocates its results and a session: to stream or call repeatedly, build an
    /// <see cref="LstmModel"/> from <see cref="Weights"/> and keep a session.
    /// </summary>
    /// <param name="input">[T, B, I] (or [B, T, I] batch-first); for a cell, [B, I] with <paramref name="steps"/> 1.</param>
    /// <param name="steps">T, at least 1 (1 for a cell).</param>
    /// <param name="batch">B.</param>
    /// <param name="h0">Initial h [L·D, B, H_out] (a cell: [B, H]); empty for the file's, or zeros.</param>
    /// <param name="c0">Initial c [L·D, B, H] (a cell: [B, H]); empty for the file's, or zeros.</param>
    /// <param name="lengths">[B] lengths in [0, T]; empty for the file's, or T for every sequence.</param>
    /// <param name="layout">The layout of <paramref name="input"/> and the output; null for <see cref="Layout"/>.</param>
    /// <param name="options">How to build the fast model; null for the defaults with the file's <see cref="StoredWeightFormat"/>.</param>
    /// <exception cref="ArgumentException">A length or shape does not match, or an element could overflow the fp32 sums (it is named).</exception>
    public ImportedRun Run(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<float> h0 = default, ReadOnlySpan<float> c0 = default,
        ReadOnlySpan<int> lengths = default, SequenceLayout? layout = null, LstmModelOptions? options = null)
    {
        LstmSpec spec = Weights.Spec;
        if (IsCell && steps != 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "An nn.LSTMCell runs one step.");
        ShapeChecks.Positive(steps, nameof(steps));
        ShapeChecks.Positive(batch, nameof(batch));
        SequenceLayout order = layout ?? Layout;
        if (h0.IsEmpty) h0 = InitialHidden;
        if (c0.IsEmpty) c0 = InitialCell;
        if (lengths.IsEmpty) lengths = SequenceLengths;

        LstmModel model = LstmModel.Create(Weights, options ?? new LstmModelOptions { Weights = StoredWeightFormat });
        float[] output = new float[Sizes.Elements("output T × B × D·H_out", steps, batch, spec.OutputSize)];
        float[] hN = new float[Sizes.Elements("h_n L·D × B × H_out", spec.LayerDirections, batch, spec.OutputHiddenSize)];
        float[] cN = new float[Sizes.Elements("c_n L·D × B × H", spec.LayerDirections, batch, spec.HiddenSize)];
        using (LstmSession session = model.CreateSession(batch, steps))
        {
            if (Direction == ImportedDirection.Reverse)
            {
                ShapeChecks.Sequence(spec, steps, batch, input.Length, output.Length, h0.Length, c0.Length, lengths, hN.Length, cN.Length, outputRequired: true);
                float[] reversed = input.ToArray();
                SequenceReversal.ReverseInPlace(reversed, steps, batch, spec.InputSize, lengths, order);
                session.Forward(reversed, steps, batch, output, hN, cN, h0, c0, lengths, order);
                SequenceReversal.ReverseInPlace(output, steps, batch, spec.OutputSize, lengths, order);
            }
            else
            {
                session.Forward(input, steps, batch, output, hN, cN, h0, c0, lengths, order);
            }
        }

        return new ImportedRun(IsCell ? [] : output, hN, cN, ApplyHead(IsCell ? hN : output, steps, batch), model.KernelPath, model.WeightFormat);
    }

    /// <summary>
    /// One forward and backward pass on the fast path with the same semantics as <see cref="Run"/> (the file's initial
    /// states, lengths and layout unless others are given): the forward results and every gradient of
    /// loss = Σ output·gradOutput + Σ h_n·gradHN + Σ c_n·gradCN (empty upstream gradients are zeros), in fp32.
    /// </summary>
    /// <exception cref="NotSupportedException">The model has no backward here: an ONNX cell variant, or a reverse-only ONNX node.</exception>
    /// <exception cref="ArgumentException">A length or shape does not match, or an element could overflow the fp32 sums (it is named).</exception>
    public LstmGradients Gradients(ReadOnlySpan<float> input, int steps, int batch, ReadOnlySpan<float> gradOutput = default,
        ReadOnlySpan<float> gradHN = default, ReadOnlySpan<float> gradCN = default, ReadOnlySpan<float> h0 = default,
        ReadOnlySpan<float> c0 = default, ReadOnlySpan<int> lengths = default, SequenceLayout? layout = null)
    {
        if (!Weights.Spec.Cell.IsStandard) throw new NotSupportedException("Gradients need PyTorch's standard cell; this model uses ONNX cell variants.");
        if (Direction == ImportedDirection.Reverse) throw new NotSupportedException("Gradients of a reverse-only ONNX LSTM node are not supported.");
        if (IsCell && steps != 1) throw new ArgumentOutOfRangeException(nameof(steps), steps, "An nn.LSTMCell runs one step.");
        return LstmTrainingSession.ComputeGradients(Weights, input, steps, batch, IsCell ? default : gradOutput, gradHN, gradCN,
            h0.IsEmpty ? InitialHidden : h0, c0.IsEmpty ? InitialCell : c0, lengths.IsEmpty ? SequenceLengths : lengths, layout ?? Layout);
    }

    /// <summary>
    /// The head applied to every output row of a run's <paramref name="outputs"/> ([T, B, D·H_out] in either layout; for
    /// a cell, h_n [B, H]), or null without a head.
    /// </summary>
    public float[]? ApplyHead(ReadOnlySpan<float> outputs, int steps, int batch)
    {
        if (Head is not LinearHead head) return null;
        int count = Sizes.Elements("head output rows", IsCell ? 1 : steps, batch);
        float[] headOutput = new float[Sizes.Elements("head output rows × head outputs", count, head.OutputSize)];
        head.Apply(outputs, count, headOutput);
        return headOutput;
    }
}

/// <summary>What <see cref="ImportedLstm.Run"/> computed, in the source framework's shapes and the run's layout.</summary>
/// <param name="Output">[T, B, D·H_out] (or [B, T, D·H_out]); empty for a cell.</param>
/// <param name="HiddenState">h_n [L·D, B, H_out] (a cell: [B, H]).</param>
/// <param name="CellState">c_n [L·D, B, H] (a cell: [B, H]).</param>
/// <param name="HeadOutput">The head applied to every output row (a cell: to h_n), or null without a head.</param>
/// <param name="KernelPath">The kernel path that ran.</param>
/// <param name="WeightFormat">The weight format the fast model computed with.</param>
public sealed record ImportedRun(float[] Output, float[] HiddenState, float[] CellState, float[]? HeadOutput, KernelPath KernelPath, WeightFormat WeightFormat);
