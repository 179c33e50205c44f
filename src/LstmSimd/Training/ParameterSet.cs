using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LstmSimd.Kernels;

namespace LstmSimd.Training;

/// <summary>One trainable tensor: its values and the gradient buffer of the same length that backward passes accumulate into.</summary>
/// <param name="Name">A name for messages and files (PyTorch's, where one exists: <c>weight_ih_l0</c>).</param>
/// <param name="Values">The parameter, updated in place by optimisers.</param>
/// <param name="Gradients">∂loss/∂values, accumulated by backward passes and cleared by <see cref="ParameterSet.ZeroGradients"/>.</param>
/// <param name="WeightDecay">Whether weight decay applies (by convention off for biases).</param>
public sealed record Parameter(string Name, float[] Values, float[] Gradients, bool WeightDecay);

/// <summary>
/// The tensors one optimiser updates, registered once before training. Every per-step operation
/// (<see cref="ZeroGradients"/>, <see cref="GradientNorm"/>, <see cref="ClipGradientNorm"/>) loops over
/// the registered arrays and allocates nothing.
/// </summary>
public sealed class ParameterSet
{
    private readonly List<Parameter> _parameters = [];

    /// <summary>Creates an empty set whose per-step loops (and its optimisers') run on <paramref name="kernel"/>'s width.</summary>
    /// <param name="kernel">The kernel width (see <see cref="KernelSelector"/>); <see cref="KernelPath.Auto"/> picks as models do.</param>
    public ParameterSet(KernelPath kernel = KernelPath.Auto) => Kernels = KernelSelector.Create(kernel).Training;

    /// <summary>The loops of the width this set runs on, shared with its optimisers.</summary>
    internal TrainingKernelSet Kernels { get; }

    /// <summary>The registered tensors, in registration order.</summary>
    public IReadOnlyList<Parameter> Parameters => _parameters;

    /// <summary>The number of scalar parameters.</summary>
    public long Count { get; private set; }

    /// <summary>Registers a tensor and its gradient buffer (same length). Empty tensors (a no-bias model's biases) are skipped.</summary>
    public void Add(string name, float[] values, float[] gradients, bool weightDecay = true)
    {
        ArgumentNullException.ThrowIfNull(name);
        ArgumentNullException.ThrowIfNull(values);
        ArgumentNullException.ThrowIfNull(gradients);
        if (values.Length != gradients.Length)
            ThrowLengthMismatch(name, values.Length, gradients.Length);
        if (values.Length == 0) return;
        foreach (Parameter p in _parameters)
        {
            if (ReferenceEquals(p.Values, values))
                throw new ArgumentException($"{name}: these values are already registered as {p.Name}.", nameof(values));
        }

        _parameters.Add(new Parameter(name, values, gradients, weightDecay));
        Count += values.Length;
    }

    /// <summary>Registers every tensor of an LSTM with its gradients, under PyTorch's names; biases get no weight decay.</summary>
    public void Add(LstmWeights weights, LstmWeights gradients, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(gradients);
        if (weights.Spec != gradients.Spec)
            throw new ArgumentException("The gradients must have the weights' spec.", nameof(gradients));
        LstmSpec spec = weights.Spec;
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                LstmLayerWeights w = weights[l, d], g = gradients[l, d];
                string suffix = AddLayer(prefix, l, d, (w.WeightIh, g.WeightIh), (w.WeightHh, g.WeightHh), (w.BiasIh, g.BiasIh), (w.BiasHh, g.BiasHh));
                Add(prefix + "weight_hr" + suffix, w.WeightHr, g.WeightHr);
            }
        }
    }

    /// <summary>Registers every tensor of a GRU with its gradients, under PyTorch's <c>nn.GRU</c> names; biases get no weight decay.</summary>
    public void Add(GruWeights weights, GruWeights gradients, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(gradients);
        if (weights.Spec != gradients.Spec)
            throw new ArgumentException("The gradients must have the weights' spec.", nameof(gradients));
        GruSpec spec = weights.Spec;
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                GruLayerWeights w = weights[l, d], g = gradients[l, d];
                AddLayer(prefix, l, d, (w.WeightIh, g.WeightIh), (w.WeightHh, g.WeightHh), (w.BiasIh, g.BiasIh), (w.BiasHh, g.BiasHh));
            }
        }
    }

    /// <summary>Registers one layer-direction's W_ih, W_hh and biases (values, gradients) under PyTorch's names; returns the names' suffix.</summary>
    private string AddLayer(string prefix, int layer, int direction, (float[] Values, float[] Gradients) weightIh, (float[] Values, float[] Gradients) weightHh,
        (float[] Values, float[] Gradients) biasIh, (float[] Values, float[] Gradients) biasHh)
    {
        string suffix = $"_l{layer}{(direction == 1 ? "_reverse" : "")}";
        Add(prefix + "weight_ih" + suffix, weightIh.Values, weightIh.Gradients);
        Add(prefix + "weight_hh" + suffix, weightHh.Values, weightHh.Gradients);
        Add(prefix + "bias_ih" + suffix, biasIh.Values, biasIh.Gradients, weightDecay: false);
        Add(prefix + "bias_hh" + suffix, biasHh.Values, biasHh.Gradients, weightDecay: false);
        return suffix;
    }

    /// <summary>Sets every gradient to zero (before accumulating the next step's).</summary>
    public void ZeroGradients()
    {
        foreach (Parameter p in _parameters) p.Gradients.AsSpan().Clear();
    }

    /// <summary>The global L2 norm of all gradients, √(Σ g²), accumulated in double: the same value on every kernel path.</summary>
    public double GradientNorm()
    {
        double sum = 0;
        foreach (Parameter p in _parameters) sum += SumOfSquares(p.Gradients);
        return Math.Sqrt(sum);
    }

    /// <summary>
    /// Σ v² over <paramref name="values"/> in fp64, each square exact (a float's square fits a double), in four chains in a
    /// fixed order, not on a vector width: the same sum on every kernel path, so clipping by the norm never makes two paths
    /// train apart.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static double SumOfSquares(ReadOnlySpan<float> values)
    {
        ref float start = ref MemoryMarshal.GetReference(values);
        double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        int k = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            // The four chains as the lanes of one vector: the same operations on each, in the same order.
            Vector256<double> sums = Vector256<double>.Zero;
            for (; k + 8 <= values.Length; k += 8)
            {
                Vector256<float> v = Vector256.LoadUnsafe(ref start, (nuint)k);
                Vector256<double> low = Vector256.WidenLower(v), high = Vector256.WidenUpper(v);
                sums += low * low;
                sums += high * high;
            }

            (s0, s1, s2, s3) = (sums[0], sums[1], sums[2], sums[3]);
        }

        for (; k + 4 <= values.Length; k += 4)
        {
            double a = Unsafe.Add(ref start, k), b = Unsafe.Add(ref start, k + 1), c = Unsafe.Add(ref start, k + 2), d = Unsafe.Add(ref start, k + 3);
            s0 += a * a;
            s1 += b * b;
            s2 += c * c;
            s3 += d * d;
        }

        for (; k < values.Length; k++)
        {
            double v = Unsafe.Add(ref start, k);
            s0 += v * v;
        }

        return s0 + s1 + s2 + s3;
    }

    /// <summary>
    /// Clipping by global norm, as PyTorch's <c>clip_grad_norm_</c>: when the norm exceeds
    /// <paramref name="maxNorm"/>, every gradient is scaled by maxNorm / (norm + 1e-6).
    /// </summary>
    /// <returns>The norm before clipping (NaN or ∞ when a gradient is; the gradients are then left unchanged).</returns>
    public double ClipGradientNorm(double maxNorm)
    {
        if (!(maxNorm > 0)) throw new ArgumentOutOfRangeException(nameof(maxNorm), maxNorm, "maxNorm must be positive.");
        double norm = GradientNorm();
        double scale = maxNorm / (norm + 1e-6);
        if (scale < 1)
        {
            float s = (float)scale;
            foreach (Parameter p in _parameters) DenseMath.Scale(s, p.Gradients);
        }

        return norm;
    }

    [DoesNotReturn]
    private static void ThrowLengthMismatch(string name, int values, int gradients) =>
        throw new ArgumentException($"{name}: the gradient buffer has length {gradients}, the values {values}.", nameof(gradients));
}
