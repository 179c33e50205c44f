using System.Numerics.Tensors;
using LstmSimd.Training;

namespace LstmSimd.Cli.Experiments;

/// <summary>
/// A plain (Elman) recurrent layer, h_t = tanh(W_ih·x_t + b_ih + W_hh·h_{t−1} + b_hh) with h_{−1} = 0, as
/// PyTorch's single-layer <c>nn.RNN</c> with its default tanh: the baseline that LSTMs are compared with on
/// long dependencies. Sequences are time-major [T, B, features]. The layer owns every buffer its forward and
/// backward passes need, sized for <c>maxSteps × maxBatch</c>: after construction they allocate nothing.
/// </summary>
public sealed class TanhRnn
{
    private readonly float[] _input, _output, _gradH, _gradA;
    private int _steps = -1, _batch;

    /// <summary>A layer initialised as PyTorch does: every parameter uniform in [−1/√H, 1/√H].</summary>
    public TanhRnn(int inputSize, int hiddenSize, int maxSteps, int maxBatch, SeededRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(hiddenSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxSteps);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxBatch);
        ArgumentNullException.ThrowIfNull(random);
        InputSize = inputSize;
        HiddenSize = hiddenSize;
        MaxSteps = maxSteps;
        MaxBatch = maxBatch;
        int rows = Sizes.Elements("rows maxSteps × maxBatch", maxSteps, maxBatch);
        int inputs = Sizes.Elements("inputs maxSteps × maxBatch × I", rows, inputSize), outputs = Sizes.Elements("outputs maxSteps × maxBatch × H", rows, hiddenSize);
        WeightIh = new float[Sizes.Elements("W_ih values H × I", hiddenSize, inputSize)];
        WeightHh = new float[Sizes.Elements("W_hh values H × H", hiddenSize, hiddenSize)];
        BiasIh = new float[hiddenSize];
        BiasHh = new float[hiddenSize];
        float bound = 1f / MathF.Sqrt(hiddenSize);
        foreach (float[] p in new[] { WeightIh, WeightHh, BiasIh, BiasHh }) random.Fill(p, -bound, bound);
        WeightIhGradient = new float[WeightIh.Length];
        WeightHhGradient = new float[WeightHh.Length];
        BiasIhGradient = new float[hiddenSize];
        BiasHhGradient = new float[hiddenSize];
        _input = new float[inputs];
        _output = new float[outputs];
        _gradH = new float[Sizes.Elements("dh maxBatch × H", maxBatch, hiddenSize)];
        _gradA = new float[hiddenSize];
    }

    /// <summary>I.</summary>
    public int InputSize { get; }

    /// <summary>H.</summary>
    public int HiddenSize { get; }

    /// <summary>The longest sequence the buffers hold.</summary>
    public int MaxSteps { get; }

    /// <summary>The largest batch the buffers hold.</summary>
    public int MaxBatch { get; }

    /// <summary><c>weight_ih_l0</c>: [H, I].</summary>
    public float[] WeightIh { get; }

    /// <summary><c>weight_hh_l0</c>: [H, H].</summary>
    public float[] WeightHh { get; }

    /// <summary><c>bias_ih_l0</c>: [H].</summary>
    public float[] BiasIh { get; }

    /// <summary><c>bias_hh_l0</c>: [H].</summary>
    public float[] BiasHh { get; }

    /// <summary>∂loss/∂W_ih, accumulated by <see cref="Backward"/>.</summary>
    public float[] WeightIhGradient { get; }

    /// <summary>∂loss/∂W_hh, accumulated by <see cref="Backward"/>.</summary>
    public float[] WeightHhGradient { get; }

    /// <summary>∂loss/∂b_ih, accumulated by <see cref="Backward"/>.</summary>
    public float[] BiasIhGradient { get; }

    /// <summary>∂loss/∂b_hh, accumulated by <see cref="Backward"/>.</summary>
    public float[] BiasHhGradient { get; }

    /// <summary>Registers the four tensors under PyTorch's names (biases without weight decay).</summary>
    public void AddTo(ParameterSet parameters, string prefix = "")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Add(prefix + "weight_ih_l0", WeightIh, WeightIhGradient);
        parameters.Add(prefix + "weight_hh_l0", WeightHh, WeightHhGradient);
        parameters.Add(prefix + "bias_ih_l0", BiasIh, BiasIhGradient, weightDecay: false);
        parameters.Add(prefix + "bias_hh_l0", BiasHh, BiasHhGradient, weightDecay: false);
    }

    /// <summary>Runs the layer over <paramref name="input"/> [T, B, I] and returns its output [T, B, H] (a view of the layer's buffer, valid until the next call).</summary>
    public ReadOnlySpan<float> Forward(ReadOnlySpan<float> input, int steps, int batch)
    {
        CheckSizes(steps, batch);
        int n = InputSize, h = HiddenSize;
        CheckLength(input.Length, (long)steps * batch * n, nameof(input), false);
        input.CopyTo(_input);
        _steps = steps;
        _batch = batch;
        for (int t = 0; t < steps; t++)
        {
            for (int b = 0; b < batch; b++)
            {
                ReadOnlySpan<float> x = _input.AsSpan((t * batch + b) * n, n);
                ReadOnlySpan<float> hPrev = t == 0 ? default : _output.AsSpan(((t - 1) * batch + b) * h, h);
                Span<float> hNew = _output.AsSpan((t * batch + b) * h, h);
                for (int u = 0; u < h; u++)
                {
                    float a = BiasIh[u] + BiasHh[u] + TensorPrimitives.Dot(WeightIh.AsSpan(u * n, n), x);
                    if (t > 0) a += TensorPrimitives.Dot(WeightHh.AsSpan(u * h, h), hPrev);
                    hNew[u] = MathF.Tanh(a);
                }
            }
        }

        return _output.AsSpan(0, steps * batch * h);
    }

    /// <summary>h_n: the hidden state after the last step of the last <see cref="Forward"/>, [B, H].</summary>
    public ReadOnlySpan<float> FinalState => _steps > 0 ? _output.AsSpan((_steps - 1) * _batch * HiddenSize, _batch * HiddenSize) : default;

    /// <summary>
    /// Backpropagates through the last <see cref="Forward"/>: accumulates the parameter gradients of
    /// loss = Σ output·<paramref name="outputGradient"/> + Σ h_n·<paramref name="finalStateGradient"/> (either may be empty for zero)
    /// and writes ∂loss/∂input into <paramref name="inputGradient"/> ([T, B, I], overwritten; empty to skip).
    /// </summary>
    public void Backward(ReadOnlySpan<float> outputGradient, ReadOnlySpan<float> finalStateGradient, Span<float> inputGradient)
    {
        if (_steps < 0) throw new InvalidOperationException("Backward needs a forward pass first.");
        int steps = _steps, batch = _batch, n = InputSize, h = HiddenSize;
        CheckLength(outputGradient.Length, (long)steps * batch * h, nameof(outputGradient), true);
        CheckLength(finalStateGradient.Length, (long)batch * h, nameof(finalStateGradient), true);
        CheckLength(inputGradient.Length, (long)steps * batch * n, nameof(inputGradient), true);
        Span<float> dh = _gradH.AsSpan(0, batch * h), da = _gradA;
        if (finalStateGradient.IsEmpty) dh.Clear();
        else finalStateGradient.CopyTo(dh);
        for (int t = steps - 1; t >= 0; t--)
        {
            for (int b = 0; b < batch; b++)
            {
                int row = t * batch + b;
                Span<float> dhb = dh.Slice(b * h, h);
                if (!outputGradient.IsEmpty)
                    for (int u = 0; u < h; u++) dhb[u] += outputGradient[row * h + u];
                ReadOnlySpan<float> hNew = _output.AsSpan(row * h, h), x = _input.AsSpan(row * n, n);
                ReadOnlySpan<float> hPrev = t == 0 ? default : _output.AsSpan(((t - 1) * batch + b) * h, h);
                for (int u = 0; u < h; u++) da[u] = dhb[u] * (1 - hNew[u] * hNew[u]);
                Span<float> dx = inputGradient.IsEmpty ? default : inputGradient.Slice(row * n, n);
                dx.Clear();
                dhb.Clear();
                for (int u = 0; u < h; u++)
                {
                    float a = da[u];
                    BiasIhGradient[u] += a;
                    BiasHhGradient[u] += a;
                    MultiplyAdd(a, x, WeightIhGradient.AsSpan(u * n, n));
                    if (!dx.IsEmpty) MultiplyAdd(a, WeightIh.AsSpan(u * n, n), dx);
                    if (t > 0)
                    {
                        MultiplyAdd(a, hPrev, WeightHhGradient.AsSpan(u * h, h));
                        MultiplyAdd(a, WeightHh.AsSpan(u * h, h), dhb);
                    }
                }
            }
        }
    }

    private void CheckSizes(int steps, int batch)
    {
        if ((uint)steps > (uint)MaxSteps) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps must be in [0, MaxSteps={MaxSteps}].");
        if (batch <= 0 || batch > MaxBatch) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch must be in [1, MaxBatch={MaxBatch}].");
    }

    /// <summary>y += alpha · x.</summary>
    private static void MultiplyAdd(float alpha, ReadOnlySpan<float> x, Span<float> y) => TensorPrimitives.MultiplyAdd(x, alpha, y, y);

    private static void CheckLength(int actual, long expected, string name, bool optional)
    {
        if (actual != expected && !(optional && actual == 0))
            throw new ArgumentException($"{name} has {actual} values; expected {expected}{(optional ? " (or none)" : "")}.", name);
    }
}
