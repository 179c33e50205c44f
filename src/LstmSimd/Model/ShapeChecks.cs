using System.Diagnostics.CodeAnalysis;
using System.Globalization;

namespace LstmSimd;

/// <summary>
/// The argument checks shared by every public entry point that takes a sequence (the session, the reference,
/// training): one place says what a well-formed call looks like, and every message names the argument
/// with its expected and actual sizes.
/// </summary>
internal static class ShapeChecks
{
    public static void Positive(int value, string name)
    {
        if (value <= 0) ThrowNotPositive(value, name);
    }

    public static void Length(int actual, long expected, string name, string shape)
    {
        if (actual != expected) ThrowLength(actual, expected, name, shape);
    }

    /// <summary>Optional tensors are passed as empty spans; a non-empty one must be exactly the right size.</summary>
    public static void OptionalLength(int actual, long expected, string name, string shape)
    {
        if (actual != 0 && actual != expected) ThrowLength(actual, expected, name, shape + " (or empty)");
    }

    public static void Sequence(LstmSpec spec, int steps, int batch, int inputLength, int outputLength,
        int h0Length, int c0Length, ReadOnlySpan<int> lengths, int hnLength, int cnLength, bool outputRequired)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be zero or positive.");
        Positive(batch, nameof(batch));
        int ld = spec.NumLayers * spec.Directions;
        Length(inputLength, (long)steps * batch * spec.InputSize, "input", $"[T={steps}, B={batch}, I={spec.InputSize}]");
        if (outputRequired || outputLength != 0)
            Length(outputLength, (long)steps * batch * spec.OutputSize, "output", $"[T={steps}, B={batch}, D·H_out={spec.OutputSize}]");
        string hShape = $"[L·D={ld}, B={batch}, H_out={spec.OutputHiddenSize}]", cShape = $"[L·D={ld}, B={batch}, H={spec.HiddenSize}]";
        OptionalLength(h0Length, (long)ld * batch * spec.OutputHiddenSize, "h0", hShape);
        OptionalLength(c0Length, (long)ld * batch * spec.HiddenSize, "c0", cShape);
        OptionalLength(hnLength, (long)ld * batch * spec.OutputHiddenSize, "hN", hShape);
        OptionalLength(cnLength, (long)ld * batch * spec.HiddenSize, "cN", cShape);
        if (lengths.Length != 0)
        {
            Length(lengths.Length, batch, nameof(lengths), $"[B={batch}]");
            for (int b = 0; b < lengths.Length; b++)
            {
                if ((uint)lengths[b] > (uint)steps)
                    throw new ArgumentOutOfRangeException(nameof(lengths), lengths[b], $"lengths[{b}] = {lengths[b]} is outside [0, T={steps}].");
            }
        }
    }

    [DoesNotReturn]
    private static void ThrowNotPositive(int value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive, got {value}.");

    [DoesNotReturn]
    private static void ThrowLength(int actual, long expected, string name, string shape) =>
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"{name} has length {actual}; expected {expected} for shape {shape}."), name);
}
