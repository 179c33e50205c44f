using System.Numerics;
using LstmSimd.Kernels;

namespace LstmSimd.Training;

/// <summary>
/// Updates the tensors of a <see cref="ParameterSet"/> from their gradients. All state (momentum,
/// moments) is allocated in the constructor: <see cref="Step"/> allocates nothing. The parameter set
/// must not change after the optimiser is built.
/// </summary>
public abstract class Optimizer
{
    private readonly int _registered;

    /// <summary>Binds the optimiser to <paramref name="parameters"/>.</summary>
    protected Optimizer(ParameterSet parameters, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        Parameters = parameters;
        _registered = parameters.Parameters.Count;
        LearningRate = learningRate;
    }

    /// <summary>The tensors this optimiser updates.</summary>
    public ParameterSet Parameters { get; }

    /// <summary>The step size; schedules may change it between steps.</summary>
    public double LearningRate
    {
        get;
        set => field = value >= 0 && double.IsFinite(value) ? value : throw new ArgumentOutOfRangeException(nameof(value), value, "The learning rate must be finite and non-negative.");
    }

    /// <summary>How many updates <see cref="Step"/> has made.</summary>
    public long Steps { get; private set; }

    /// <summary>Applies one update from the current gradients (which it leaves as they are).</summary>
    public void Step()
    {
        if (Parameters.Parameters.Count != _registered)
            throw new InvalidOperationException("Tensors were registered after the optimiser was built; build it after registering every parameter.");
        Steps++;
        for (int k = 0; k < _registered; k++) Update(k, Parameters.Parameters[k]);
    }

    /// <summary>Updates one registered tensor; <paramref name="index"/> is its registration index, for per-tensor state.</summary>
    protected abstract void Update(int index, Parameter parameter);

    /// <summary>One state buffer per registered tensor, of its length.</summary>
    protected float[][] CreateState()
    {
        var state = new float[_registered][];
        for (int k = 0; k < state.Length; k++) state[k] = new float[Parameters.Parameters[k].Values.Length];
        return state;
    }
}

/// <summary>
/// Stochastic gradient descent with optional momentum, Nesterov momentum and L2 weight decay, as PyTorch's
/// <c>torch.optim.SGD</c> (dampening 0): g ← g + λ·p; b ← μ·b + g (b = g on the first step);
/// p ← p − lr·(Nesterov ? g + μ·b : b).
/// </summary>
public sealed class SgdOptimizer : Optimizer
{
    private readonly float[][] _momentum;

    /// <summary>Creates the optimiser; momentum buffers are allocated only when <paramref name="momentum"/> is non-zero.</summary>
    public SgdOptimizer(ParameterSet parameters, double learningRate, double momentum = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, learningRate)
    {
        if (!(momentum >= 0 && momentum < 1)) throw new ArgumentOutOfRangeException(nameof(momentum), momentum, "momentum must be in [0, 1).");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be non-negative.");
        if (nesterov && momentum == 0) throw new ArgumentException("Nesterov momentum needs a non-zero momentum.", nameof(nesterov));
        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
        _momentum = momentum > 0 ? CreateState() : [];
    }

    /// <summary>μ.</summary>
    public double Momentum { get; }

    /// <summary>λ, applied to tensors registered with weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>Whether the update looks ahead along the momentum.</summary>
    public bool Nesterov { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Parameter parameter)
    {
        float lr = (float)LearningRate, mu = (float)Momentum, decay = parameter.WeightDecay ? (float)WeightDecay : 0f;
        Span<float> p = parameter.Values;
        ReadOnlySpan<float> grad = parameter.Gradients;
        int width = Vector<float>.Count, i = 0;
        if (mu == 0)
        {
            // Vectors then the tail: the same operations on each element, so the same bits.
            for (; i + width <= p.Length; i += width)
            {
                var values = new Vector<float>(p[i..]);
                (values - lr * (new Vector<float>(grad[i..]) + decay * values)).CopyTo(p[i..]);
            }

            for (; i < p.Length; i++) p[i] -= lr * (grad[i] + decay * p[i]);
            return;
        }

        Span<float> b = _momentum[index];
        bool first = Steps == 1;
        for (; i + width <= p.Length; i += width)
        {
            var values = new Vector<float>(p[i..]);
            Vector<float> g = new Vector<float>(grad[i..]) + decay * values;
            Vector<float> buffer = first ? g : mu * new Vector<float>(b[i..]) + g;
            buffer.CopyTo(b[i..]);
            (values - lr * (Nesterov ? g + mu * buffer : buffer)).CopyTo(p[i..]);
        }

        for (; i < p.Length; i++)
        {
            float g = grad[i] + decay * p[i];
            float buffer = b[i] = first ? g : mu * b[i] + g;
            p[i] -= lr * (Nesterov ? g + mu * buffer : buffer);
        }
    }
}

/// <summary>
/// Adam (Kingma and Ba, 2015) and AdamW (Loshchilov and Hutter, 2019), as PyTorch's <c>torch.optim.Adam</c> and
/// <c>AdamW</c>: m ← β₁m + (1−β₁)g; v ← β₂v + (1−β₂)g²; p ← p − lr·(m / (1−β₁ᵗ)) / (√(v / (1−β₂ᵗ)) + ε).
/// Adam's weight decay adds λ·p to g (L2); AdamW's first multiplies p by 1 − lr·λ (decoupled).
/// </summary>
public sealed class AdamOptimizer : Optimizer
{
    private readonly float[][] _m, _v;

    /// <summary>Creates Adam, or AdamW when <paramref name="decoupledWeightDecay"/> is set.</summary>
    public AdamOptimizer(ParameterSet parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999,
        double epsilon = 1e-8, double weightDecay = 0, bool decoupledWeightDecay = false)
        : base(parameters, learningRate)
    {
        if (!(beta1 >= 0 && beta1 < 1)) throw new ArgumentOutOfRangeException(nameof(beta1), beta1, "beta1 must be in [0, 1).");
        if (!(beta2 >= 0 && beta2 < 1)) throw new ArgumentOutOfRangeException(nameof(beta2), beta2, "beta2 must be in [0, 1).");
        if (!(epsilon >= 0)) throw new ArgumentOutOfRangeException(nameof(epsilon), epsilon, "epsilon must be non-negative.");
        if (!(weightDecay >= 0)) throw new ArgumentOutOfRangeException(nameof(weightDecay), weightDecay, "weightDecay must be non-negative.");
        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
        DecoupledWeightDecay = decoupledWeightDecay;
        _m = CreateState();
        _v = CreateState();
    }

    /// <summary>AdamW with PyTorch's defaults (weight decay 0.01).</summary>
    public static AdamOptimizer AdamW(ParameterSet parameters, double learningRate = 1e-3, double weightDecay = 0.01,
        double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8) =>
        new(parameters, learningRate, beta1, beta2, epsilon, weightDecay, decoupledWeightDecay: true);

    /// <summary>β₁, the decay of the first moment.</summary>
    public double Beta1 { get; }

    /// <summary>β₂, the decay of the second moment.</summary>
    public double Beta2 { get; }

    /// <summary>ε, added to the root of the second moment.</summary>
    public double Epsilon { get; }

    /// <summary>λ, applied to tensors registered with weight decay.</summary>
    public double WeightDecay { get; }

    /// <summary>Whether weight decay is AdamW's (decoupled) rather than Adam's (L2 in the gradient).</summary>
    public bool DecoupledWeightDecay { get; }

    /// <inheritdoc/>
    protected override void Update(int index, Parameter parameter)
    {
        double correction1 = 1 - Math.Pow(Beta1, Steps), correction2 = 1 - Math.Pow(Beta2, Steps);
        float stepSize = (float)(LearningRate / correction1), rootCorrection2 = (float)Math.Sqrt(correction2);
        float b1 = (float)Beta1, b2 = (float)Beta2, eps = (float)Epsilon;
        float decay = parameter.WeightDecay ? (float)WeightDecay : 0f;
        float l2 = DecoupledWeightDecay ? 0f : decay, shrink = DecoupledWeightDecay ? 1f - (float)LearningRate * decay : 1f;
        Parameters.Kernels.AdamUpdate(parameter.Values, _m[index], _v[index], parameter.Gradients, new AdamStep(stepSize, rootCorrection2, b1, b2, eps, l2, shrink));
    }
}
