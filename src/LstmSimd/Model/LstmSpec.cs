namespace LstmSimd;

/// <summary>
/// The shape of an LSTM, with PyTorch's meaning for every field (<c>nn.LSTM(input_size, hidden_size,
/// num_layers, bias, bidirectional=..., proj_size=...)</c>), plus ONNX's cell variants.
/// </summary>
/// <remarks>
/// Per layer and direction the weights are <c>W_ih [4H, I_l]</c>, <c>W_hh [4H, H_out]</c>, biases
/// <c>b_ih, b_hh [4H]</c> and, with a projection, <c>W_hr [P, H]</c>; the gate order is i, f, g, o.
/// <c>I_l</c> is <see cref="InputSize"/> for layer 0 and <c>directions·H_out</c> above it.
/// </remarks>
public sealed record LstmSpec
{
    /// <summary>Creates a spec; every size is checked by <see cref="Validate"/>.</summary>
    public LstmSpec(int inputSize, int hiddenSize, int numLayers = 1, bool bidirectional = false, int projectionSize = 0, bool bias = true)
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bidirectional = bidirectional;
        ProjectionSize = projectionSize;
        Bias = bias;
        Validate();
    }

    /// <summary>Features per time step fed to layer 0 (I).</summary>
    public int InputSize { get; init; }

    /// <summary>Hidden units per layer and direction (H).</summary>
    public int HiddenSize { get; init; }

    /// <summary>Stacked layers (L).</summary>
    public int NumLayers { get; init; }

    /// <summary>Whether every layer also runs backwards in time (D = 2).</summary>
    public bool Bidirectional { get; init; }

    /// <summary>PyTorch <c>proj_size</c>: 0 for none, else P with 0 &lt; P &lt; H; h is projected to P.</summary>
    public int ProjectionSize { get; init; }

    /// <summary>Whether the layers have the two bias vectors.</summary>
    public bool Bias { get; init; }

    /// <summary>ONNX cell variants (peepholes, clip, coupled input-forget, other activations); <see cref="CellVariant.Standard"/> for PyTorch.</summary>
    public CellVariant Cell { get; init; } = CellVariant.Standard;

    /// <summary>Directions D: 2 when bidirectional, else 1.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>H_out: the size of h as layers and users see it (P with a projection, else H).</summary>
    public int OutputHiddenSize => ProjectionSize > 0 ? ProjectionSize : HiddenSize;

    /// <summary>Features per time step of the whole model's output: D·H_out.</summary>
    public int OutputSize => Directions * OutputHiddenSize;

    /// <summary>Input features of layer <paramref name="layer"/>: I for layer 0, D·H_out above.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : OutputSize;

    /// <summary>Throws an <see cref="ArgumentException"/> naming the first field that is out of range.</summary>
    public void Validate()
    {
        if (InputSize <= 0) throw new ArgumentOutOfRangeException(nameof(InputSize), InputSize, "InputSize must be positive.");
        if (HiddenSize <= 0) throw new ArgumentOutOfRangeException(nameof(HiddenSize), HiddenSize, "HiddenSize must be positive.");
        if (NumLayers <= 0) throw new ArgumentOutOfRangeException(nameof(NumLayers), NumLayers, "NumLayers must be positive.");
        if (ProjectionSize < 0 || (ProjectionSize > 0 && ProjectionSize >= HiddenSize))
            throw new ArgumentOutOfRangeException(nameof(ProjectionSize), ProjectionSize, $"ProjectionSize must be 0 (none) or in [1, HiddenSize - 1 = {HiddenSize - 1}], as in PyTorch.");
        ArgumentNullException.ThrowIfNull(Cell, nameof(Cell));
        Cell.Validate();
        if (Cell.Peepholes && ProjectionSize > 0)
            throw new ArgumentException("Peepholes (ONNX) and a projection (PyTorch) cannot be combined.", nameof(Cell));
    }
}
