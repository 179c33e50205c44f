namespace LstmSimd.Forecasting;

/// <summary>How a detector's flags agree with labelled anomalies.</summary>
/// <param name="Name">The detector's name.</param>
/// <param name="TruePositives">Labelled rows flagged.</param>
/// <param name="FalsePositives">Flagged rows not labelled.</param>
/// <param name="FalseNegatives">Labelled rows not flagged.</param>
public sealed record DetectionScore(string Name, int TruePositives, int FalsePositives, int FalseNegatives)
{
    /// <summary>TP / (TP + FP); 0 when nothing is flagged.</summary>
    public double Precision => TruePositives + FalsePositives == 0 ? 0 : (double)TruePositives / (TruePositives + FalsePositives);

    /// <summary>TP / (TP + FN); 0 when nothing is labelled.</summary>
    public double Recall => TruePositives + FalseNegatives == 0 ? 0 : (double)TruePositives / (TruePositives + FalseNegatives);

    /// <summary>The harmonic mean of precision and recall; 0 when both are 0.</summary>
    public double F1 => Precision + Recall == 0 ? 0 : 2 * Precision * Recall / (Precision + Recall);
}

/// <summary>
/// Scoring anomaly flags against labels, row by row and point-adjusted, and the rolling z-score detector a learned
/// detector has to beat.
/// </summary>
public static class AnomalyEvaluation
{
    /// <summary>Row by row: each labelled row is a positive, each flagged row a prediction.</summary>
    /// <exception cref="ArgumentException">The two lists differ in length.</exception>
    public static DetectionScore Pointwise(string name, IReadOnlyList<bool> flagged, IReadOnlyList<bool> labelled)
    {
        CheckLengths(flagged, labelled);
        int tp = 0, fp = 0, fn = 0;
        for (int r = 0; r < flagged.Count; r++)
        {
            if (flagged[r] && labelled[r]) tp++;
            else if (flagged[r]) fp++;
            else if (labelled[r]) fn++;
        }

        return new DetectionScore(name, tp, fp, fn);
    }

    /// <summary>
    /// Point-adjusted (Xu et al., WWW 2018): a run of consecutive labelled rows counts as found in full when any row
    /// of it is flagged, as an operator alerted once looks at the whole event; flags outside the runs count as they are.
    /// It rewards a single lucky flag in a long event, so it is reported beside <see cref="Pointwise"/>, not instead.
    /// </summary>
    /// <exception cref="ArgumentException">The two lists differ in length.</exception>
    public static DetectionScore PointAdjusted(string name, IReadOnlyList<bool> flagged, IReadOnlyList<bool> labelled)
    {
        CheckLengths(flagged, labelled);
        var adjusted = flagged.ToArray();
        for (int start = 0; start < labelled.Count;)
        {
            if (!labelled[start])
            {
                start++;
                continue;
            }

            int end = start;
            while (end < labelled.Count && labelled[end]) end++;
            bool found = false;
            for (int r = start; r < end; r++) found |= flagged[r];
            if (found) Array.Fill(adjusted, true, start, end - start);
            start = end;
        }

        return Pointwise(name, adjusted, labelled);
    }

    /// <summary>
    /// Rolling z-scores: (y[t] − mean) / standard deviation of the <paramref name="window"/> values before t (sample
    /// standard deviation); NaN for the first <paramref name="window"/> rows, and 0 where the window is constant and
    /// y[t] equals it (±∞ where it does not).
    /// </summary>
    public static double[] RollingZScores(ReadOnlySpan<double> values, int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 2);
        var scores = new double[values.Length];
        for (int t = 0; t < values.Length; t++)
        {
            if (t < window)
            {
                scores[t] = double.NaN;
                continue;
            }

            double mean = 0, squares = 0;
            for (int k = t - window; k < t; k++) mean += values[k];
            mean /= window;
            for (int k = t - window; k < t; k++) squares += (values[k] - mean) * (values[k] - mean);
            double sd = Math.Sqrt(squares / (window - 1)), deviation = values[t] - mean;
            scores[t] = sd > 0 ? deviation / sd : deviation == 0 ? 0 : deviation * double.PositiveInfinity;
        }

        return scores;
    }

    private static void CheckLengths(IReadOnlyList<bool> flagged, IReadOnlyList<bool> labelled)
    {
        ArgumentNullException.ThrowIfNull(flagged);
        ArgumentNullException.ThrowIfNull(labelled);
        if (flagged.Count != labelled.Count) throw new ArgumentException($"Flags and labels must cover the same rows; got {flagged.Count} and {labelled.Count}.");
    }
}
