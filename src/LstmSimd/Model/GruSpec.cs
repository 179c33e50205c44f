namespace LstmSimd;

/// <summary>
/// The shape of a GRU, with PyTorch's meaning for every field (<c>nn.GRU(input_size, hidden_size, num_layers, bias,
/// bidirectional=...)</c>), plus the original cell of Cho et al., which ONNX and Keras also run.
/// </summary>
/// <remarks>
/// Per layer and direction the weights are <c>W_ih [3H, I_l]</c>, <c>W_hh [3H, H]</c> and biases <c>b_ih, b_hh [3H]</c>;
/// the gate order is r, z, n (PyTorch's; ONNX and Keras store z, r, h and their importers reorder). <c>I_l</c> is
/// <see cref="InputSize"/> for layer 0 and <c>directions·H</c> above it.
/// </remarks>
public sealed record GruSpec
{
    /// <summary>Creates a spec; every field is checked when set, and the sizes it implies by <see cref="Validate"/>.</summary>
    public GruSpec(int inputSize, int hiddenSize, int numLayers = 1, bool bidirectional = false, bool bias = true, bool linearBeforeReset = true)
    {
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        NumLayers = numLayers;
        Bidirectional = bidirectional;
        Bias = bias;
        LinearBeforeReset = linearBeforeReset;
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
            Sizes.Elements("gate rows 3 × HiddenSize", 3, value); // every bias and gate row has 3H values
            field = value;
        }
    }

    /// <summary>Stacked layers (L).</summary>
    public int NumLayers { get; init => field = Positive(value, nameof(NumLayers)); }

    /// <summary>Whether every layer also runs backwards in time (D = 2).</summary>
    public bool Bidirectional { get; init; }

    /// <summary>Whether the layers have the two bias vectors.</summary>
    public bool Bias { get; init; }

    /// <summary>
    /// Where the reset gate acts on the candidate's recurrent term. True (PyTorch's <c>nn.GRU</c>, ONNX
    /// <c>linear_before_reset = 1</c>, Keras <c>reset_after = True</c>): <c>n = tanh(W_in x + b_in + r⊙(W_hn h + b_hn))</c>.
    /// False (the original cell, ONNX's default, Keras <c>reset_after = False</c>):
    /// <c>n = tanh(W_in x + b_in + W_hn (r⊙h) + b_hn)</c>.
    /// </summary>
    public bool LinearBeforeReset { get; init; }

    /// <summary>
    /// The activation of the gates r and z: <see cref="Activation.Sigmoid"/> (PyTorch's, ONNX's default, Keras's since 2.3),
    /// or a hard sigmoid max(0, min(1, α·x + β)) (<see cref="ActivationKind.HardSigmoid"/>: Keras 2's and TensorFlow.js's
    /// clip(0.2·x + 0.5, 0, 1), Keras 3's clip(x/6 + 0.5, 0, 1)). The candidate's activation is tanh. Training runs sigmoid
    /// gates only.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">Another activation, or α or β not finite.</exception>
    public Activation GateActivation
    {
        get;
        init
        {
            if (value.Kind is not (ActivationKind.Sigmoid or ActivationKind.HardSigmoid))
                throw new ArgumentOutOfRangeException(nameof(GateActivation), value.Kind, "A GRU's gates run sigmoid or hard sigmoid.");
            if (value.Kind == ActivationKind.HardSigmoid && !(float.IsFinite(value.Alpha) && float.IsFinite(value.Beta)))
                throw new ArgumentOutOfRangeException(nameof(GateActivation), value, "A hard sigmoid's alpha and beta must be finite.");
            field = value.Kind == ActivationKind.Sigmoid ? Activation.Sigmoid : value;
        }
    } = Activation.Sigmoid;

    /// <summary>Directions D: 2 when bidirectional, else 1.</summary>
    public int Directions => Bidirectional ? 2 : 1;

    /// <summary>Features per time step of the whole model's output: D·H.</summary>
    public int OutputSize => Directions * HiddenSize;

    /// <summary>Input features of layer <paramref name="layer"/>: I for layer 0, D·H above.</summary>
    public int LayerInputSize(int layer) => layer == 0 ? InputSize : OutputSize;

    /// <summary>L·D: how many layer-directions the model has, the leading dimension of its state h_n.</summary>
    public int LayerDirections => Sizes.Elements("layer-directions NumLayers × directions", NumLayers, Directions);

    /// <summary>3H: the rows of W_ih and W_hh, and the length of each bias (representable: checked when HiddenSize is set).</summary>
    internal int GateRows => 3 * HiddenSize;

    /// <summary>Values in W_ih of layer <paramref name="layer"/>: 3H × I_l.</summary>
    internal int InputWeightLength(int layer) => Sizes.Elements("W_ih values 3 × HiddenSize × layer input size", 3, HiddenSize, LayerInputSize(layer));

    /// <summary>Values in W_hh of every layer: 3H × H.</summary>
    internal int RecurrentWeightLength => Sizes.Elements("W_hh values 3 × HiddenSize × HiddenSize", 3, HiddenSize, HiddenSize);

    /// <summary>Every weight and bias value of the model.</summary>
    internal long ParameterCount
    {
        get
        {
            long shared = RecurrentWeightLength + (Bias ? 2L * GateRows : 0); // every layer's W_hh and biases
            long upper = NumLayers > 1 ? (long)(NumLayers - 1) * (InputWeightLength(1) + shared) : 0;
            return (InputWeightLength(0) + shared + upper) * Directions;
        }
    }

    /// <summary>
    /// Throws an <see cref="ArgumentOutOfRangeException"/> naming the first weight tensor too large to be an array (each
    /// field is checked on its own when it is set; a <c>with</c> expression sets them one at a time).
    /// </summary>
    public void Validate()
    {
        _ = LayerDirections;
        _ = InputWeightLength(0);
        if (NumLayers > 1) _ = InputWeightLength(1);
        _ = RecurrentWeightLength;
    }

    private static int Positive(int value, string name) =>
        value > 0 ? value : throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive.");
}
