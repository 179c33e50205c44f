namespace LstmSimd.Forecasting;

/// <summary>
/// Scales each column of a window: scaled = (x − reference) / scale, where the reference is the window's last
/// value (<see cref="SeriesNormalization.Relative"/>) or a constant fitted on the training rows. Column k of the
/// scaler is input column k; the last is the target.
/// </summary>
public sealed class SeriesScaler
{
    /// <summary>Creates a scaler from stored parameters.</summary>
    public SeriesScaler(SeriesNormalization normalization, double[] offsets, double[] scales)
    {
        ArgumentNullException.ThrowIfNull(offsets);
        ArgumentNullException.ThrowIfNull(scales);
        if (offsets.Length != scales.Length || offsets.Length < 2) throw new ArgumentException("Offsets and scales need one entry per input column and one for the target.");
        if (scales.Any(s => !(s > 0) || !double.IsFinite(s))) throw new ArgumentException("Every scale must be positive and finite.");
        Normalization = normalization;
        Offsets = offsets;
        Scales = scales;
    }

    /// <summary>The kind of scaling.</summary>
    public SeriesNormalization Normalization { get; }

    /// <summary>The constant references (unused with <see cref="SeriesNormalization.Relative"/>).</summary>
    public IReadOnlyList<double> Offsets { get; }

    /// <summary>The divisors.</summary>
    public IReadOnlyList<double> Scales { get; }

    /// <summary>Fits the scaler on the rows before <paramref name="end"/> of each column (inputs, then the target).</summary>
    public static SeriesScaler Fit(SeriesNormalization normalization, IReadOnlyList<double[]> columns, int end, int horizon)
    {
        ArgumentNullException.ThrowIfNull(columns);
        double[] offsets = new double[columns.Count], scales = new double[columns.Count];
        for (int c = 0; c < columns.Count; c++)
        {
            ReadOnlySpan<double> x = columns[c].AsSpan(0, end);
            (offsets[c], scales[c]) = normalization switch
            {
                SeriesNormalization.Relative => (0, TypicalChange(x, horizon)),
                SeriesNormalization.ZScore => (Mean(x), StandardDeviation(x)),
                SeriesNormalization.MinMax => (Min(x), Max(x) - Min(x)),
                _ => (0, 1),
            };
            if (!(scales[c] > 1e-12)) scales[c] = 1; // a constant column: leave it unscaled rather than divide by zero
        }

        return new SeriesScaler(normalization, offsets, scales);
    }

    /// <summary>The reference of column <paramref name="column"/> for a window ending at row <paramref name="origin"/>.</summary>
    public double Reference(int column, double[] values, int origin) =>
        Normalization == SeriesNormalization.Relative ? values[origin] : Offsets[column];

    /// <summary>Writes the batch-first input of one window, [window, inputs], ending at row <paramref name="origin"/>.</summary>
    public void FillInput(IReadOnlyList<double[]> inputs, int origin, int window, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        int features = inputs.Count;
        for (int c = 0; c < features; c++)
        {
            double[] x = inputs[c];
            double reference = Reference(c, x, origin), scale = Scales[c];
            for (int k = 0; k < window; k++) destination[k * features + c] = (float)((x[origin - window + 1 + k] - reference) / scale);
        }
    }

    /// <summary>Writes the scaled targets of rows origin + 1 … origin + horizon.</summary>
    public void FillTarget(double[] target, int origin, int horizon, Span<float> destination)
    {
        ArgumentNullException.ThrowIfNull(target);
        int c = Scales.Count - 1;
        double reference = Reference(c, target, origin), scale = Scales[c];
        for (int h = 0; h < horizon; h++) destination[h] = (float)((target[origin + 1 + h] - reference) / scale);
    }

    /// <summary>Turns scaled predictions back into target values for a window ending at <paramref name="origin"/>.</summary>
    public void Unscale(ReadOnlySpan<float> scaled, double[] target, int origin, Span<double> destination)
    {
        int c = Scales.Count - 1;
        double reference = Reference(c, target, origin), scale = Scales[c];
        for (int h = 0; h < scaled.Length; h++) destination[h] = reference + scaled[h] * scale;
    }

    // Root mean square of x[t + k] − x[t] over k = 1…horizon: the size of what a relative target holds.
    private static double TypicalChange(ReadOnlySpan<double> x, int horizon)
    {
        double sum = 0;
        long count = 0;
        for (int t = 0; t < x.Length; t++)
        {
            for (int k = 1; k <= horizon && t + k < x.Length; k++)
            {
                double d = x[t + k] - x[t];
                sum += d * d;
                count++;
            }
        }

        return count == 0 ? 1 : Math.Sqrt(sum / count);
    }

    private static double Mean(ReadOnlySpan<double> x)
    {
        double sum = 0;
        foreach (double v in x) sum += v;
        return x.IsEmpty ? 0 : sum / x.Length;
    }

    private static double StandardDeviation(ReadOnlySpan<double> x)
    {
        double mean = Mean(x), sum = 0;
        foreach (double v in x) sum += (v - mean) * (v - mean);
        return x.IsEmpty ? 1 : Math.Sqrt(sum / x.Length);
    }

    private static double Min(ReadOnlySpan<double> x)
    {
        double m = double.PositiveInfinity;
        foreach (double v in x) m = Math.Min(m, v);
        return x.IsEmpty ? 0 : m;
    }

    private static double Max(ReadOnlySpan<double> x)
    {
        double m = double.NegativeInfinity;
        foreach (double v in x) m = Math.Max(m, v);
        return x.IsEmpty ? 1 : m;
    }
}
