using LstmSimd.Kernels;
namespace LstmSimd.IO;

/// <summary>
/// A dense layer after the LSTM, as PyTorch's <c>nn.Linear</c> stores it: y = W·x + b with
/// <c>Weight [OutputSize, InputSize]</c> row-major and <c>Bias [OutputSize]</c> (empty for <c>bias=False</c>).
/// Importers fill it when the file names one; it is applied to every time step of the LSTM's output.
/// </summary>
public sealed class LinearHead
{
    /// <summary>Wraps and checks a weight matrix and optional bias.</summary>
    public LinearHead(int inputSize, int outputSize, float[] weight, float[]? bias = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(inputSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(outputSize);
        ArgumentNullException.ThrowIfNull(weight);
        if (weight.Length != (long)inputSize * outputSize)
            throw new ArgumentException($"Weight must hold OutputSize·InputSize = {(long)inputSize * outputSize} values, got {weight.Length}.", nameof(weight));
        bias ??= [];
        if (bias.Length != 0 && bias.Length != outputSize)
            throw new ArgumentException($"Bias must hold OutputSize = {outputSize} values or none, got {bias.Length}.", nameof(bias));
        InputSize = inputSize;
        OutputSize = outputSize;
        Weight = weight;
        Bias = bias;
    }

    /// <summary>Features in (the LSTM's D·H_out).</summary>
    public int InputSize { get; }

    /// <summary>Features out (O).</summary>
    public int OutputSize { get; }

    /// <summary><c>weight</c>: [O, In], row-major.</summary>
    public float[] Weight { get; }

    /// <summary><c>bias</c>: [O], or empty.</summary>
    public float[] Bias { get; }

    /// <summary>
    /// Applies the layer to <paramref name="rows"/> input rows of <see cref="InputSize"/> values each,
    /// writing <paramref name="rows"/>·<see cref="OutputSize"/> values, in float with the arithmetic training's head uses.
    /// </summary>
    public void Apply(ReadOnlySpan<float> input, int rows, Span<float> output)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (input.Length != (long)rows * InputSize) throw new ArgumentException($"input must hold rows·{InputSize} values.", nameof(input));
        if (output.Length != (long)rows * OutputSize) throw new ArgumentException($"output must hold rows·{OutputSize} values.", nameof(output));
        DenseMath.Linear(Weight, Bias, InputSize, OutputSize, input, rows, output);
    }
}
