using System.Globalization;
using System.Runtime.CompilerServices;

namespace LstmSimd.Training;

/// <summary>
/// Length checks for the per-step training calls, whose shape descriptions are interpolated only when a
/// check fails, so that a correct call allocates nothing (<see cref="ShapeChecks"/> gives the message).
/// </summary>
internal static class TrainingChecks
{
    public static void Length(int actual, long expected, string name,
        [InterpolatedStringHandlerArgument(nameof(actual), nameof(expected))] ref ShapeText shape)
    {
        if (actual != expected) ShapeChecks.Length(actual, expected, name, shape.ToStringAndClear());
    }

    /// <summary>An empty span is accepted (it means zeros or "not needed"); otherwise the length must match.</summary>
    public static void OptionalLength(int actual, long expected, string name,
        [InterpolatedStringHandlerArgument(nameof(actual), nameof(expected))] ref OptionalShapeText shape)
    {
        if (actual != 0 && actual != expected) ShapeChecks.OptionalLength(actual, expected, name, shape.ToStringAndClear());
    }

    /// <summary>Builds the shape text only when the length is wrong.</summary>
    [InterpolatedStringHandler]
    public ref struct ShapeText
    {
        private DefaultInterpolatedStringHandler _text;

        public ShapeText(int literalLength, int formattedCount, int actual, long expected, out bool failed)
        {
            failed = actual != expected;
            _text = failed ? new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture) : default;
        }

        public void AppendLiteral(string value) => _text.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

        public string ToStringAndClear() => _text.ToStringAndClear();
    }

    /// <summary>Builds the shape text only when a non-empty span has the wrong length.</summary>
    [InterpolatedStringHandler]
    public ref struct OptionalShapeText
    {
        private DefaultInterpolatedStringHandler _text;

        public OptionalShapeText(int literalLength, int formattedCount, int actual, long expected, out bool failed)
        {
            failed = actual != 0 && actual != expected;
            _text = failed ? new DefaultInterpolatedStringHandler(literalLength, formattedCount, CultureInfo.InvariantCulture) : default;
        }

        public void AppendLiteral(string value) => _text.AppendLiteral(value);

        public void AppendFormatted<T>(T value) => _text.AppendFormatted(value);

        public string ToStringAndClear() => _text.ToStringAndClear();
    }
}
