namespace LstmSimd.Forecasting;

/// <summary>The weights of a NAB scoring profile (Lavin &amp; Ahmad 2015).</summary>
/// <param name="TruePositive">A_TP: the reward for a detection at the very start of an event's window.</param>
/// <param name="FalsePositive">A_FP: the weight of a flag outside every window (negative).</param>
/// <param name="FalseNegative">A_FN: the weight of a window with no flag (negative).</param>
public sealed record NabProfile(double TruePositive, double FalsePositive, double FalseNegative)
{
    /// <summary>NAB's standard profile: A_TP = 1, A_FP = −0.11, A_FN = −1.</summary>
    public static NabProfile Standard { get; } = new(1, -0.11, -1);
}

/// <summary>A NAB score and what it is made of.</summary>
/// <param name="Name">The detector's name.</param>
/// <param name="Raw">The raw score: the sum over windows and false positives.</param>
/// <param name="Null">The raw score of a detector that flags nothing (every window missed).</param>
/// <param name="Perfect">The raw score of a detector that flags each window's first row and nothing else.</param>
/// <param name="Windows">The windows, each [start, end] (rows, inclusive).</param>
/// <param name="Detected">The windows with at least one flag.</param>
/// <param name="FalsePositives">Flagged rows outside every window.</param>
public sealed record NabResult(string Name, double Raw, double Null, double Perfect, IReadOnlyList<(int Start, int End)> Windows, int Detected, int FalsePositives)
{
    /// <summary>100 · (raw − null) / (perfect − null): 100 for the perfect detector, 0 for one that flags nothing, negative below it.</summary>
    public double Normalized => Perfect == Null ? 0 : 100 * (Raw - Null) / (Perfect - Null);
}

/// <summary>
/// The Numenta Anomaly Benchmark's windowed score (Lavin &amp; Ahmad, "Evaluating real-time anomaly detection algorithms
/// — the Numenta Anomaly Benchmark", ICMLA 2015), for flags against labelled events. Each event (a run of labelled rows)
/// gets a window of 10 % of the rows divided by the number of events, centred on the event (and never shorter than it;
/// windows that would overlap are merged). A window's earliest flag scores A_TP · σ_s(y) / σ_s(−1) where
/// σ_s(y) = 2 / (1 + e^{5y}) − 1 and y = −(end − i + 1) / width runs from −1 at the window's first row towards 0 at its
/// last; a window without a flag scores A_FN. A flag outside every window scores A_FP, weighted by σ_s of its distance past
/// the previous window's end over that window's width minus one (so a flag just after a window costs little), and fully
/// (σ_s(3) taken as −1) before the first window. Every flag counts, as in NAB. NAB's probationary period is not applied:
/// the rows scored here come after the rows the detector was fitted on.
/// </summary>
public static class NabScore
{
    /// <summary>The share of the rows covered by the windows together.</summary>
    public const double WindowShare = 0.10;

    /// <summary>Scores <paramref name="flagged"/> against the events of <paramref name="labelled"/> under <paramref name="profile"/> (default: <see cref="NabProfile.Standard"/>).</summary>
    /// <exception cref="ArgumentException">The lists differ in length, or a profile weight has the wrong sign.</exception>
    public static NabResult Score(string name, IReadOnlyList<bool> flagged, IReadOnlyList<bool> labelled, NabProfile? profile = null)
    {
        ArgumentNullException.ThrowIfNull(flagged);
        ArgumentNullException.ThrowIfNull(labelled);
        if (flagged.Count != labelled.Count) throw new ArgumentException($"Flags and labels must cover the same rows; got {flagged.Count} and {labelled.Count}.");
        NabProfile weights = profile ?? NabProfile.Standard;
        if (!(weights.TruePositive > 0) || !(weights.FalsePositive <= 0) || !(weights.FalseNegative <= 0))
            throw new ArgumentException($"A NAB profile rewards true positives (A_TP > 0) and penalises the rest (A_FP, A_FN ≤ 0); got {weights}.");

        IReadOnlyList<(int Start, int End)> windows = Windows(labelled);
        double raw = 0;
        int detected = 0, falsePositives = 0, next = 0;
        (int Start, int End)? previous = null;
        for (int i = 0; i < flagged.Count; i++)
        {
            while (next < windows.Count && windows[next].End < i) previous = windows[next++];
            bool inside = next < windows.Count && windows[next].Start <= i;
            if (!flagged[i] || inside) continue;
            falsePositives++;
            double position = previous is { } p ? (i - p.End) / (double)(p.End - p.Start) : 3;
            raw += weights.FalsePositive * -ScaledSigmoid(position);
        }

        foreach ((int start, int end) in windows)
        {
            int first = -1;
            for (int i = start; i <= end && first < 0; i++)
                if (flagged[i]) first = i;
            if (first < 0)
            {
                raw += weights.FalseNegative;
                continue;
            }

            detected++;
            double width = end - start + 1;
            raw += weights.TruePositive * ScaledSigmoid(-(end - first + 1) / width) / ScaledSigmoid(-1);
        }

        return new NabResult(name, raw, weights.FalseNegative * windows.Count, weights.TruePositive * windows.Count, windows, detected, falsePositives);
    }

    /// <summary>
    /// The windows of the events in <paramref name="labelled"/>: each event's run of rows widened on both sides to
    /// ⌊<see cref="WindowShare"/> · rows / events⌋ rows (the extra split evenly, the odd row after it), clipped to the rows;
    /// overlapping windows merged.
    /// </summary>
    public static IReadOnlyList<(int Start, int End)> Windows(IReadOnlyList<bool> labelled)
    {
        ArgumentNullException.ThrowIfNull(labelled);
        var events = new List<(int Start, int End)>();
        for (int r = 0; r < labelled.Count; r++)
        {
            if (!labelled[r] || (r > 0 && labelled[r - 1])) continue;
            int end = r;
            while (end + 1 < labelled.Count && labelled[end + 1]) end++;
            events.Add((r, end));
        }

        var windows = new List<(int Start, int End)>();
        if (events.Count == 0) return windows;
        int width = (int)(WindowShare * labelled.Count / events.Count);
        foreach ((int start, int end) in events)
        {
            int extra = Math.Max(0, width - (end - start + 1));
            (int Start, int End) window = (Math.Max(0, start - extra / 2), Math.Min(labelled.Count - 1, end + extra - extra / 2));
            if (windows.Count > 0 && windows[^1].End >= window.Start - 1) windows[^1] = (windows[^1].Start, Math.Max(windows[^1].End, window.End));
            else windows.Add(window);
        }

        return windows;
    }

    /// <summary>NAB's scaled sigmoid: 2 / (1 + e^{5y}) − 1, and −1 from y = 3 on.</summary>
    public static double ScaledSigmoid(double y) => y >= 3 ? -1 : 2 / (1 + Math.Exp(5 * y)) - 1;
}
