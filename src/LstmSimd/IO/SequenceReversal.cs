namespace LstmSimd.IO;

/// <summary>
/// Reverses each sequence of a batch in time within its own length: step t of sequence b moves to
/// step length[b]-1-t, and the padding past the length stays where it is. Applying it to the input,
/// running forward, and applying it again to the output computes ONNX's <c>direction="reverse"</c>.
/// </summary>
internal static class SequenceReversal
{
    /// <summary>Reverses <paramref name="data"/> [T, B, features] (or [B, T, features]) in place; empty <paramref name="lengths"/> means all <paramref name="steps"/>.</summary>
    public static void ReverseInPlace(Span<float> data, int steps, int batch, int features, ReadOnlySpan<int> lengths, SequenceLayout layout)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ArgumentOutOfRangeException.ThrowIfNegative(batch);
        ArgumentOutOfRangeException.ThrowIfNegative(features);
        if (data.Length != Sizes.Product("data T × B × features", steps, batch, features)) throw new ArgumentException("data must hold steps·batch·features values.", nameof(data));
        if (lengths.Length != 0 && lengths.Length != batch) throw new ArgumentException("lengths must be empty or hold batch values.", nameof(lengths));
        for (int b = 0; b < batch; b++)
        {
            int n = lengths.IsEmpty ? steps : lengths[b];
            if ((uint)n > (uint)steps) throw new ArgumentOutOfRangeException(nameof(lengths), n, "A length is outside [0, steps].");
            for (int t = 0; t < n / 2; t++)
            {
                Span<float> a = data.Slice(Index(layout, t, b, steps, batch, features), features);
                Span<float> z = data.Slice(Index(layout, n - 1 - t, b, steps, batch, features), features);
                for (int k = 0; k < features; k++) (a[k], z[k]) = (z[k], a[k]);
            }
        }
    }

    private static int Index(SequenceLayout layout, int t, int b, int steps, int batch, int features) =>
        (layout == SequenceLayout.TimeMajor ? t * batch + b : b * steps + t) * features;
}
