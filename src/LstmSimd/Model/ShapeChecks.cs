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

    /// <summary>
    /// Checks a span's length. The shape is a composite format over the three sizes (e.g. "[T={0}, B={1}, I={2}]"),
    /// formatted only when the check fails, so that a passing check allocates nothing.
    /// </summary>
    public static void Length(int actual, long expected, string name, string shape, int size0 = 0, int size1 = 0, int size2 = 0)
    {
        if (actual != expected) ThrowLength(actual, expected, name, string.Format(CultureInfo.InvariantCulture, shape, size0, size1, size2));
    }

    /// <summary>Optional tensors are passed as empty spans; a non-empty one must be exactly the right size.</summary>
    public static void OptionalLength(int actual, long expected, string name, string shape, int size0 = 0, int size1 = 0, int size2 = 0)
    {
        if (actual != 0 && actual != expected) ThrowLength(actual, expected, name, string.Format(CultureInfo.InvariantCulture, shape, size0, size1, size2) + " (or empty)");
    }

    public static void Sequence(LstmSpec spec, int steps, int batch, int inputLength, int outputLength,
        int h0Length, int c0Length, ReadOnlySpan<int> lengths, int hnLength, int cnLength, bool outputRequired)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, "steps must be zero or positive.");
        Positive(batch, nameof(batch));
        int ld = spec.LayerDirections;
        // Three int factors can overflow even 64 bits; a wrapped product could match a short span.
        long input = Sizes.Product("input T × B × I", steps, batch, spec.InputSize), output = Sizes.Product("output T × B × D·H_out", steps, batch, spec.OutputSize);
        long h = Sizes.Product("h L·D × B × H_out", ld, batch, spec.OutputHiddenSize), c = Sizes.Product("c L·D × B × H", ld, batch, spec.HiddenSize);
        Length(inputLength, input, "input", "[T={0}, B={1}, I={2}]", steps, batch, spec.InputSize);
        if (outputRequired || outputLength != 0)
            Length(outputLength, output, "output", "[T={0}, B={1}, D·H_out={2}]", steps, batch, spec.OutputSize);
        const string hShape = "[L·D={0}, B={1}, H_out={2}]", cShape = "[L·D={0}, B={1}, H={2}]";
        OptionalLength(h0Length, h, "h0", hShape, ld, batch, spec.OutputHiddenSize);
        OptionalLength(c0Length, c, "c0", cShape, ld, batch, spec.HiddenSize);
        OptionalLength(hnLength, h, "hN", hShape, ld, batch, spec.OutputHiddenSize);
        OptionalLength(cnLength, c, "cN", cShape, ld, batch, spec.HiddenSize);
        if (lengths.Length != 0)
        {
            Length(lengths.Length, batch, nameof(lengths), "[B={0}]", batch);
            for (int b = 0; b < lengths.Length; b++)
            {
                if ((uint)lengths[b] > (uint)steps)
                    ThrowLengthOutOfRange(b, lengths[b], steps);
            }
        }
    }

    /// <summary>A call's batch and steps against what a session was sized for (it allocates nothing later, so it cannot grow).</summary>
    public static void Capacity(int steps, int batch, int maxSteps, int maxBatch)
    {
        if (batch > maxBatch)
            throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch {batch} is above this session's MaxBatch {maxBatch}; create the session with a larger maxBatch.");
        if (steps > maxSteps)
            throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps {steps} is above this session's MaxSteps {maxSteps}; create the session with a larger maxSteps.");
    }

    public static void Layout(SequenceLayout layout)
    {
        if (layout is not (SequenceLayout.TimeMajor or SequenceLayout.BatchFirst))
            throw new ArgumentOutOfRangeException(nameof(layout), layout, "Unknown sequence layout.");
    }

    [DoesNotReturn]
    private static void ThrowLengthOutOfRange(int index, int length, int steps) =>
        throw new ArgumentOutOfRangeException("lengths", length, $"lengths[{index}] = {length} is outside [0, T={steps}].");

    [DoesNotReturn]
    private static void ThrowNotPositive(int value, string name) =>
        throw new ArgumentOutOfRangeException(name, value, $"{name} must be positive, got {value}.");

    [DoesNotReturn]
    private static void ThrowLength(int actual, long expected, string name, string shape) =>
        throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
            $"{name} has length {actual}; expected {expected} for shape {shape}."), name);
}
