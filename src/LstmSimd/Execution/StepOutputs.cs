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

    /// <summary>
    /// The outputs of columns [<paramref name="columnStart"/>, <paramref name="columnEnd"/>) of h's rows (a team member's blocks,
    /// or every column): an active row's new h is copied to the output, an inactive row's h_t is its previous h and its output zero.
    /// </summary>
    /// <param name="batch">Rows.</param>
    /// <param name="active">Per row, nonzero inside its length; empty when every row is.</param>
    /// <param name="hNext">The step's new h, rows <paramref name="hStride"/> apart; an inactive row's is overwritten with its previous h.</param>
    /// <param name="hPrevious">The h the step started from, same layout.</param>
    /// <param name="hStride">The distance between rows of h (padded).</param>
    /// <param name="columnStart">The first column of h written.</param>
    /// <param name="columnEnd">The end of the columns of h written (up to <paramref name="hStride"/>: padding is carried too).</param>
    /// <param name="hOut">The values of a row that are outputs (unpadded).</param>
    /// <param name="output">The output tensor, from row 0's first output value.</param>
    /// <param name="rowStep">The distance between consecutive rows' outputs (time-major: the features of a row; batch-first: a whole sequence's).</param>
    public static void Write(int batch, ReadOnlySpan<byte> active, Span<float> hNext, ReadOnlySpan<float> hPrevious, int hStride,
        int columnStart, int columnEnd, int hOut, Span<float> output, int rowStep)
    {
        int outputs = Math.Min(columnEnd, hOut) - columnStart;
        for (int b = 0; b < batch; b++)
        {
            Span<float> destination = outputs > 0 ? output.Slice(b * rowStep + columnStart, outputs) : default;
            if (active.IsEmpty || active[b] != 0)
            {
                hNext.Slice(b * hStride + columnStart, destination.Length).CopyTo(destination);
            }
            else
            {
                hPrevious.Slice(b * hStride + columnStart, columnEnd - columnStart).CopyTo(hNext.Slice(b * hStride + columnStart));
                destination.Clear();
            }
        }
    }
}
