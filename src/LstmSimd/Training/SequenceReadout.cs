namespace LstmSimd.Training;

/// <summary>Which outputs of a sequence model the loss sees.</summary>
public enum Readout
{
    /// <summary>Every step inside each sequence's length (sequence labelling, prediction at every step).</summary>
    EveryStep,

    /// <summary>The output at each sequence's last step, t = length − 1 (sequence classification or regression).</summary>
    LastStep,
}

/// <summary>
/// Gathers the rows a loss sees from a sequence output ([T, B, F] or [B, T, F]) into a dense [rows, F]
/// buffer, and scatters their gradients back into a gradient of the sequence output. Rows follow the
/// layout's order (time-major: step by step; batch-first: sequence by sequence), skipping steps past a
/// sequence's length. Allocation-free.
/// </summary>
internal static class SequenceReadout
{
    /// <summary>How many rows <see cref="Gather"/> produces.</summary>
    public static int RowCount(Readout readout, int steps, int batch, ReadOnlySpan<int> lengths)
    {
        if (readout == Readout.LastStep) return batch;
        if (lengths.IsEmpty) return Sizes.Elements("rows T × B", steps, batch);
        long rows = 0;
        foreach (int length in lengths) rows += length;
        return Sizes.Elements("rows (the sum of the lengths)", rows);
    }

    /// <summary>Copies the rows the loss sees into <paramref name="rows"/> ([RowCount, features]) and returns their number.</summary>
    public static int Gather(Readout readout, ReadOnlySpan<float> output, int steps, int batch, int features,
        ReadOnlySpan<int> lengths, SequenceLayout layout, Span<float> rows)
    {
        int count = Check(readout, output.Length, steps, batch, features, lengths, rows.Length);
        int row = 0;
        foreach ((int t, int b) in Rows(readout, steps, batch, lengths, layout))
            output.Slice(Offset(layout, t, b, steps, batch, features), features).CopyTo(rows.Slice(row++ * features, features));
        return count;
    }

    /// <summary>Clears <paramref name="outputGradient"/> and writes each row's gradient to the place its row came from.</summary>
    public static void Scatter(Readout readout, ReadOnlySpan<float> rowGradient, int steps, int batch, int features,
        ReadOnlySpan<int> lengths, SequenceLayout layout, Span<float> outputGradient)
    {
        Check(readout, outputGradient.Length, steps, batch, features, lengths, rowGradient.Length);
        outputGradient.Clear();
        int row = 0;
        foreach ((int t, int b) in Rows(readout, steps, batch, lengths, layout))
            rowGradient.Slice(row++ * features, features).CopyTo(outputGradient.Slice(Offset(layout, t, b, steps, batch, features), features));
    }

    private static RowEnumerable Rows(Readout readout, int steps, int batch, ReadOnlySpan<int> lengths, SequenceLayout layout) =>
        new(readout, steps, batch, lengths, layout);

    private static int Check(Readout readout, int sequenceLength, int steps, int batch, int features, ReadOnlySpan<int> lengths, int rowsLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(steps);
        ShapeChecks.Positive(batch, nameof(batch));
        ShapeChecks.Positive(features, nameof(features));
        ShapeChecks.Length(sequenceLength, Sizes.Product("output T × B × F", steps, batch, features), "output", "[T={0}, B={1}, F={2}]", steps, batch, features);
        if (!lengths.IsEmpty)
        {
            ShapeChecks.Length(lengths.Length, batch, nameof(lengths), "[B={0}]", batch);
            for (int b = 0; b < batch; b++)
                if ((uint)lengths[b] > (uint)steps || (readout == Readout.LastStep && lengths[b] == 0))
                    throw new ArgumentOutOfRangeException(nameof(lengths), lengths[b], $"lengths[{b}] = {lengths[b]} must be in [{(readout == Readout.LastStep ? 1 : 0)}, T={steps}].");
        }
        else if (readout == Readout.LastStep && steps == 0)
        {
            throw new ArgumentOutOfRangeException(nameof(steps), steps, "A last-step readout needs at least one step.");
        }

        int count = RowCount(readout, steps, batch, lengths);
        ShapeChecks.Length(rowsLength, (long)count * features, "rows", "[rows={0}, F={1}]", count, features);
        return count;
    }

    private static int Offset(SequenceLayout layout, int t, int b, int steps, int batch, int features) =>
        (layout == SequenceLayout.TimeMajor ? t * batch + b : b * steps + t) * features;

    /// <summary>The (t, b) of each row in order, as a struct enumerator (no allocation).</summary>
    private readonly ref struct RowEnumerable(Readout readout, int steps, int batch, ReadOnlySpan<int> lengths, SequenceLayout layout)
    {
        private readonly ReadOnlySpan<int> _lengths = lengths;

        public Enumerator GetEnumerator() => new(readout, steps, batch, _lengths, layout);

        public ref struct Enumerator(Readout readout, int steps, int batch, ReadOnlySpan<int> lengths, SequenceLayout layout)
        {
            private readonly ReadOnlySpan<int> _lengths = lengths;
            private int _outer, _inner = -1;

            public (int T, int B) Current { get; private set; }

            public bool MoveNext()
            {
                if (readout == Readout.LastStep)
                {
                    if (++_outer > batch) return false;
                    int b = _outer - 1;
                    Current = ((_lengths.IsEmpty ? steps : _lengths[b]) - 1, b);
                    return true;
                }

                // Outer index: t (time-major) or b (batch-first); inner the other.
                int outerCount = layout == SequenceLayout.TimeMajor ? steps : batch, innerCount = layout == SequenceLayout.TimeMajor ? batch : steps;
                while (_outer < outerCount)
                {
                    if (++_inner < innerCount)
                    {
                        (int t, int b) = layout == SequenceLayout.TimeMajor ? (_outer, _inner) : (_inner, _outer);
                        if (_lengths.IsEmpty || t < _lengths[b])
                        {
                            Current = (t, b);
                            return true;
                        }

                        continue;
                    }

                    _outer++;
                    _inner = -1;
                }

                return false;
            }
        }
    }
}
