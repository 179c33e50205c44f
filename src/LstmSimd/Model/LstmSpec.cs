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
    /// <summary>Creates a spec; every field is checked when set, and the rules between them by <see cref="Validate"/>.</summary>
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
    public int InputSize { get; init => field = Positive(value, nameof(InputSize)); }

    /// <summary>Hidden units per layer and direction (H).</summary>
    public int HiddenSize
    {
        get;
        init
        {
            Positive(value, nameof(HiddenSize));
            Sizes.Elements("gate rows 4 × HiddenSize", 4, value); // every bias and gate row has 4H values
            field = value;
        }
    }

    /// <summary>Stacked layers (L).</summary>
    public int NumLayers { get; init => field = Positive(value, nameof(NumLayers)); }

    /// <summary>Whether every layer also runs backwards in time (D = 2).</summary>
    public bool Bidirectional { get; init; }

    /// <summary>PyTorch <c>proj_size</c>: 0 for none, else P with 0 &lt; P &lt; H; h is projected to P.</summary>
    public int ProjectionSize
    {
        get;
        init => field = value >= 0 ? value : throw new ArgumentOutOfRangeException(nameof(ProjectionSize), value, "ProjectionSize must be 0 (none) or positive.");
    }

    /// <summary>Whether the layers have the two bias vectors.</summary>
    public bool Bias { get; init; }

    /// <summary>ONNX cell variants (peepholes, clip, coupled input-forget, other activations); <see cref="CellVariant.Standard"/> for PyTorch.</summary>
    public CellVariant Cell
    {
        get;
        init
        {
            ArgumentNullException.ThrowIfNull(value, nameof(Cell));
            value.Validate();
            field = value;
        }
    } = CellVariant.Standard;

    /// <summary>Directions D: 2 when bidirectional, else 1.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>H_out: the size of h as layers and users see it (P with a projection, else H).</summary>
    public int OutputHiddenSize => ProjectionSize > 0 ? ProjectionSize : HiddenSize;

    /// <summary>Features per time step of the whole model's output: D·H_out.</summary>
    public int OutputSize => Directions * OutputHiddenSize;

    /// <summary>Input features of layer <paramref name="layer"/>: I for layer 0, D·H_out above.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : OutputSize;

    /// <summary>4H: the rows of W_ih and W_hh, and the length of each bias (representable: checked when HiddenSize is set).</summary>
    internal int GateRows => 4 * HiddenSize;

    /// <summary>Values in W_ih of layer <paramref name="layer"/>: 4H × I_l.</summary>
    internal int InputWeightLength(int layer) => Sizes.Elements("W_ih values 4 × HiddenSize × layer input size", 4, HiddenSize, LayerInputSize(layer));

    /// <summary>Values in W_hh of every layer: 4H × H_out.</summary>
    internal int RecurrentWeightLength => Sizes.Elements("W_hh values 4 × HiddenSize × output hidden size", 4, HiddenSize, OutputHiddenSize);

    /// <summary>Values in W_hr of every layer: P × H (0 without a projection).</summary>
    internal int ProjectionWeightLength => Sizes.Elements("W_hr values ProjectionSize × HiddenSize", ProjectionSize, HiddenSize);

    /// <summary>Layer-directions L·D: the weight sets, and the leading dimension of h_n and c_n.</summary>
    /// <summary>L·D: how many layer-directions the model has, the leading dimension of its states h_n and c_n.</summary>
    public int LayerDirections => Sizes.Elements("layer-directions NumLayers × directions", NumLayers, Directions);

    /// <summary>
    /// Every parameter value of every layer and direction (W_ih, W_hh, biases, W_hr, peepholes): what a file holding this
    /// model must hold data for.
    /// </summary>
    internal long ParameterCount
    {
        get
        {
            long shared = RecurrentWeightLength + (Bias ? 2L * GateRows : 0) + ProjectionWeightLength + (Cell.Peepholes ? 3L * HiddenSize : 0);
            long firstLayer = InputWeightLength(0) + shared;
            long upperLayer = NumLayers > 1 ? InputWeightLength(1) + shared : 0;
            // L·D times the larger layer bounds the sum, so once it fits in 64 bits the exact sum cannot overflow.
            Sizes.Product("parameters NumLayers × directions × values per layer", NumLayers, Directions, Math.Max(firstLayer, upperLayer));
            return Directions * (firstLayer + (NumLayers - 1L) * upperLayer);
        }
    }

    /// <summary>
    /// Throws an <see cref="ArgumentException"/> naming the first rule between fields that is broken, or the first weight
    /// tensor too large to be an array. Each field is checked on its own when it is set (so no spec has, say, a zero
    /// HiddenSize); the rules that tie fields together are checked here, by the constructor and by everything that builds
    /// weights or a model from a spec, since a <c>with</c> expression sets fields one at a time.
    /// </summary>
    public void Validate()
    {
        if (ProjectionSize >= HiddenSize)
            throw new ArgumentOutOfRangeException(nameof(ProjectionSize), ProjectionSize, $"ProjectionSize must be 0 (none) or in [1, HiddenSize - 1 = {HiddenSize - 1}], as in PyTorch.");
        if (Cell.Peepholes && ProjectionSize > 0)
            throw new ArgumentException("Peepholes (ONNX) and a projection (PyTorch) cannot be combined.", nameof(Cell));

        // Every tensor the spec implies must fit an array, so that code sizing buffers from a valid spec can use int products.
        _ = LayerDirections;
        _ = InputWeightLength(0);
        if (NumLayers > 1) _ = InputWeightLength(1);
        _ = RecurrentWeightLength;
        _ = ProjectionWeightLength;
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
}
