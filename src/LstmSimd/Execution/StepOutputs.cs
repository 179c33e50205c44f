namespace LstmSimd.Execution;

/// <summary>
/// The packed-sequence rule for one step's outputs, shared by inference and training: a row inside its length writes
/// its new h; a row outside it (finished, or in reverse not yet started) keeps its state and outputs zeros.
/// </summary>
internal static class StepOutputs
{
    /// <summary>Marks which rows step <paramref name="t"/> lies inside: row b while t &lt; lengths[b] (packed-sequence lengths).</summary>
    public static void MarkActive(ReadOnlySpan<int> lengths, int t, Span<byte> active)
    {
        for (int b = 0; b < active.Length; b++) active[b] = t < lengths[b] ? (byte)1 : (byte)0;
    }

    /// <param name="batch">Rows.</param>
    /// <param name="active">Per row, nonzero inside its length; empty when every row is.</param>
    /// <param name="hNext">The step's new h, rows <paramref name="hStride"/> apart; an inactive row's is overwritten with its previous h.</param>
    /// <param name="hPrevious">The h the step started from, same layout.</param>
    /// <param name="hStride">The distance between rows of h (padded).</param>
    /// <param name="hOut">The values of a row that are outputs (unpadded).</param>
    /// <param name="output">The output tensor.</param>
    /// <param name="first">Where row 0's output starts in <paramref name="output"/>.</param>
    /// <param name="rowStep">The distance between consecutive rows' outputs (time-major: the features of a row; batch-first: a whole sequence's).</param>
    public static void Write(int batch, ReadOnlySpan<byte> active, Span<float> hNext, ReadOnlySpan<float> hPrevious, int hStride, int hOut,
        Span<float> output, int first, int rowStep)
    {
        for (int b = 0; b < batch; b++)
        {
            Span<float> destination = output.Slice(first + b * rowStep, hOut);
            if (active.IsEmpty || active[b] != 0)
            {
                hNext.Slice(b * hStride, hOut).CopyTo(destination);
            }
            else
            {
                hPrevious.Slice(b * hStride, hStride).CopyTo(hNext.Slice(b * hStride, hStride));
                destination.Clear();
            }
        }
    }
}
