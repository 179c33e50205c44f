using LstmSimd.Kernels;
namespace LstmSimd.Training;

/// <summary>
/// A fully connected layer y = W·x + b applied to each row of a batch, as PyTorch's <c>nn.Linear</c>
/// (W: [outputs, inputs], row-major; b may be empty for <c>bias=False</c>), with its gradient buffers.
/// Forward and backward allocate nothing.
/// </summary>
public sealed class TrainableLinearHead
{
    /// <summary>A head initialised as PyTorch's <c>nn.Linear</c>: W and b uniform in [−1/√inputs, 1/√inputs].</summary>
    public TrainableLinearHead(int inputs, int outputs, SeededRandom random)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        ArgumentNullException.ThrowIfNull(random);
        Inputs = inputs;
        Outputs = outputs;
        Weight = new float[Sizes.Elements("head weight outputs × inputs", outputs, inputs)];
        Bias = new float[outputs];
        WeightGradient = new float[Weight.Length];
        BiasGradient = new float[outputs];
        float bound = 1f / MathF.Sqrt(inputs);
        random.Fill(Weight, -bound, bound);
        random.Fill(Bias, -bound, bound);
    }

    /// <summary>
    /// Trains existing parameters in place (an imported head's, for fine-tuning): <paramref name="weight"/> [outputs, inputs]
    /// and <paramref name="bias"/> [outputs] or empty. The arrays are used, not copied.
    /// </summary>
    public TrainableLinearHead(int inputs, int outputs, float[] weight, float[] bias)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputs);
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        ShapeChecks.Length(weight.Length, (long)outputs * inputs, nameof(weight), "[outputs={0}, inputs={1}]", outputs, inputs);
        ShapeChecks.OptionalLength(bias.Length, outputs, nameof(bias), "[outputs={0}]", outputs);
        Inputs = inputs;
        Outputs = outputs;
        Weight = weight;
        Bias = bias;
        WeightGradient = new float[weight.Length];
        BiasGradient = new float[bias.Length];
    }

    /// <summary>Features per input row.</summary>
    public int Inputs { get; }

    /// <summary>Features per output row.</summary>
    public int Outputs { get; }

    /// <summary>W: [outputs, inputs].</summary>
    public float[] Weight { get; }

    /// <summary>b: [outputs], or empty for a head without bias.</summary>
    public float[] Bias { get; }

    /// <summary>∂loss/∂W, accumulated by <see cref="Backward"/>.</summary>
    public float[] WeightGradient { get; }

    /// <summary>∂loss/∂b, accumulated by <see cref="Backward"/>.</summary>
    public float[] BiasGradient { get; }

    /// <summary>Registers W and b (b without weight decay) as <c>{prefix}weight</c> and <c>{prefix}bias</c>.</summary>
    public void AddTo(ParameterSet parameters, string prefix = "head.")
    {
        ArgumentNullException.ThrowIfNull(parameters);
        parameters.Add(prefix + "weight", Weight, WeightGradient);
        parameters.Add(prefix + "bias", Bias, BiasGradient, weightDecay: false);
    }

    /// <summary>y[r] = W·x[r] + b for each of <paramref name="rows"/> rows: <paramref name="input"/> [rows, inputs], <paramref name="output"/> [rows, outputs].</summary>
    public void Forward(ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        CheckRows(input.Length, output.Length, rows);
        DenseMath.Linear(Weight, Bias, Inputs, Outputs, input, rows, output);
    }

    /// <summary>
    /// Accumulates ∂loss/∂W += Σ_r dy[r]⊗x[r] and ∂loss/∂b += Σ_r dy[r], and writes ∂loss/∂x[r] = Wᵀ·dy[r] into
    /// <paramref name="inputGradient"/> (overwritten; pass an empty span when it is not needed).
    /// </summary>
    public void Backward(ReadOnlySpan<float> input, ReadOnlySpan<float> outputGradient, int rows, Span<float> inputGradient)
    {
        CheckRows(input.Length, outputGradient.Length, rows);
        if (!inputGradient.IsEmpty) ShapeChecks.Length(inputGradient.Length, (long)rows * Inputs, nameof(inputGradient), "[rows={0}, inputs={1}]", rows, Inputs);
        for (int r = 0; r < rows; r++)
        {
            ReadOnlySpan<float> x = input.Slice(r * Inputs, Inputs), dy = outputGradient.Slice(r * Outputs, Outputs);
            Span<float> dx = inputGradient.IsEmpty ? default : inputGradient.Slice(r * Inputs, Inputs);
            dx.Clear();
            for (int o = 0; o < Outputs; o++)
            {
                float g = dy[o];
                if (BiasGradient.Length != 0) BiasGradient[o] += g;
                DenseMath.MultiplyAdd(g, x, WeightGradient.AsSpan(o * Inputs, Inputs));
                if (!dx.IsEmpty) DenseMath.MultiplyAdd(g, Weight.AsSpan(o * Inputs, Inputs), dx);
            }
        }
    }

    private void CheckRows(int inputLength, int outputLength, int rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ShapeChecks.Length(inputLength, (long)rows * Inputs, "input", "[rows={0}, inputs={1}]", rows, Inputs);
        ShapeChecks.Length(outputLength, (long)rows * Outputs, "output", "[rows={0}, outputs={1}]", rows, Outputs);
    }
}
