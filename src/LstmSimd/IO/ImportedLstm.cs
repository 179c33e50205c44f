namespace LstmSimd.IO;

/// <summary>Which way an imported recurrent layer reads its sequence.</summary>
public enum ImportedDirection
{
    /// <summary>Forward only, or bidirectional when <see cref="LstmSpec.Bidirectional"/> says so.</summary>
    Forward,

    /// <summary>
    /// ONNX <c>direction="reverse"</c>: the weights' single direction runs from each sequence's last
    /// step to its first. Run it as a forward model over <see cref="SequenceReversal"/>-reversed input
    /// and reverse the output back.
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
    public ImportedDirection Direction { get; init; }

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
}
