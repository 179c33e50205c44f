namespace LstmSimd;

/// <summary>An activation function of the LSTM cell, as ONNX names them.</summary>
public enum ActivationKind
{
    /// <summary>1 / (1 + e^-x).</summary>
    Sigmoid,
    /// <summary>tanh(x).</summary>
    Tanh,
    /// <summary>max(0, x).</summary>
    Relu,
    /// <summary>max(0, min(1, alpha·x + beta)).</summary>
    HardSigmoid,
}

/// <summary>An activation with its ONNX parameters (alpha and beta are used by <see cref="ActivationKind.HardSigmoid"/> only).</summary>
public readonly record struct Activation(ActivationKind Kind, float Alpha = 0.2f, float Beta = 0.5f)
{
    /// <summary>The standard gate activation.</summary>
    public static Activation Sigmoid => new(ActivationKind.Sigmoid);

    /// <summary>The standard cell and output activation.</summary>
    public static Activation Tanh => new(ActivationKind.Tanh);
}

/// <summary>
/// The ONNX LSTM operator's cell variants. <see cref="Standard"/> is PyTorch's cell:
/// sigmoid gates, tanh candidate and output, no peepholes, no clip.
/// </summary>
/// <param name="Peepholes">i and f also see c_{t-1}, o sees c_t, through per-unit weights (ONNX <c>P</c>).</param>
/// <param name="Clip">When positive, gate pre-activations are clipped to [-Clip, Clip] (ONNX <c>clip</c>).</param>
/// <param name="InputForget">f = 1 - i (ONNX <c>input_forget</c>).</param>
/// <param name="Gate">ONNX f: the activation of gates i, f, o.</param>
/// <param name="Candidate">ONNX g: the activation of the cell candidate.</param>
/// <param name="Output">ONNX h: the activation applied to c_t before the output gate.</param>
public sealed record CellVariant(bool Peepholes, float Clip, bool InputForget, Activation Gate, Activation Candidate, Activation Output)
{
    /// <summary>PyTorch's cell.</summary>
    public static CellVariant Standard { get; } = new(false, 0f, false, Activation.Sigmoid, Activation.Tanh, Activation.Tanh);

    /// <summary>Whether this is exactly PyTorch's cell.</summary>
    public bool IsStandard => this == Standard;

    /// <summary>
    /// A GRU packed into the LSTM's four gate slots (see <see cref="Kernels.GruCellKernels{TVec}"/>): how <see cref="GruModel"/>
    /// runs on the same kernels, sessions and threads. Never seen outside the engine.
    /// </summary>
    internal static CellVariant Gru { get; } = Standard with { IsGru = true };

    /// <summary>
    /// The original GRU (the reset gate applied before the recurrent product, ONNX's <c>linear_before_reset = 0</c>) in the
    /// same slots: W_hn's product waits for r, so it runs as a second product phase (see <see cref="Kernels.GruCellKernels{TVec}"/>).
    /// </summary>
    internal static CellVariant GruResetFirst { get; } = Gru with { ResetBeforeProduct = true };

    /// <summary>Whether the four gate slots hold a GRU (see <see cref="Gru"/>).</summary>
    internal bool IsGru { get; private init; }

    /// <summary>Whether the GRU applies its reset gate before the recurrent product (see <see cref="GruResetFirst"/>).</summary>
    internal bool ResetBeforeProduct { get; private init; }

    internal void Validate()
    {
        if (!(Clip >= 0f) || float.IsInfinity(Clip))
            throw new ArgumentOutOfRangeException(nameof(Clip), Clip, "Clip must be 0 (off) or a positive finite threshold.");
    }
}
