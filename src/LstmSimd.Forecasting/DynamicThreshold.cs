namespace LstmSimd.Forecasting;

/// <summary>
/// The settings of <see cref="DynamicThreshold"/>. The defaults are telemanom's (Hundman et al.'s code): errors smoothed
/// over a span of 105 (5 % of its 70 × 30 history), a history of 2100 errors moved by 70 at a time, z from 2.5 to 12 in
/// steps of 0.5, and a minimum percent decrease of 0.13.
/// </summary>
public sealed record DynamicThresholdOptions
{
    /// <summary>The span of the exponentially weighted moving average: α = 2 / (span + 1); 1 leaves the errors as they are.</summary>
    public int SmoothingSpan { get; init; } = 105;

    /// <summary>h: how many smoothed errors each threshold is chosen from.</summary>
    public int Window { get; init; } = 2100;

    /// <summary>How many new errors each window adds (and flags) after the first, which flags all of its own.</summary>
    public int Step { get; init; } = 70;

    /// <summary>The smallest z tried.</summary>
    public double MinZ { get; init; } = 2.5;

    /// <summary>The largest z tried (inclusive).</summary>
    public double MaxZ { get; init; } = 12;

    /// <summary>The step between the z tried.</summary>
    public double ZStep { get; init; } = 0.5;

    /// <summary>p: an anomalous sequence stays one only if its peak stands this fraction above the next lower peak (or above the largest nominal error), or a higher sequence's does.</summary>
    public double MinPercentDecrease { get; init; } = 0.13;

    /// <summary>Checks the numbers; throws <see cref="ArgumentException"/> naming the first that is wrong.</summary>
    public void Validate()
    {
        if (SmoothingSpan < 1) throw new ArgumentException($"The smoothing span must be at least 1; got {SmoothingSpan}.");
        if (Window < 2) throw new ArgumentException($"The window of errors must hold at least 2; got {Window}.");
        if (Step < 1 || Step > Window) throw new ArgumentException($"The step must be in [1, window {Window}]; got {Step}.");
        if (!(MinZ > 0) || !(MaxZ >= MinZ) || !(ZStep > 0) || !double.IsFinite(MaxZ)) throw new ArgumentException($"The z range needs 0 < min ≤ max (finite) and a positive step; got {MinZ} … {MaxZ} by {ZStep}.");
        if (!(MinPercentDecrease is >= 0 and < 1)) throw new ArgumentException($"The minimum percent decrease must be in [0, 1); got {MinPercentDecrease}.");
    }
}

/// <summary>The threshold chosen for one window of smoothed errors.</summary>
/// <param name="Epsilon">ε = μ + zσ; errors above it are anomalous. +∞ when no z flags anything.</param>
/// <param name="Z">The z chosen (NaN when none flags anything).</param>
/// <param name="Score">(Δμ/μ + Δσ/σ) / (|e_a| + |E_seq|²) at that z (0 when none flags anything).</param>
public readonly record struct ThresholdChoice(double Epsilon, double Z, double Score);

/// <summary>
/// Non-parametric dynamic thresholds (Hundman, Constantinou, Laporte, Colwell and Söderström, "Detecting Spacecraft
/// Anomalies Using LSTMs and Nonparametric Dynamic Thresholding", KDD 2018): the absolute errors are smoothed by an
/// exponentially weighted moving average; over each window of h smoothed errors e_s, the threshold ε = μ(e_s) + zσ(e_s)
/// is the one, among the z tried, that maximises (Δμ/μ + Δσ/σ) / (|e_a| + |E_seq|²), where Δμ and Δσ are how much the mean
/// and standard deviation fall when the errors at or above ε are left out, e_a are the errors above ε and E_seq their runs;
/// then the runs are pruned: with the runs' peaks sorted from highest, followed by the largest error not above ε, a run
/// stays anomalous only if some peak at or below its own drops by at least p to the next (d = (peak_i − peak_{i+1}) /
/// peak_i ≥ p). Only high errors are flagged (telemanom also flags unusually low ones; not here).
/// </summary>
public static class DynamicThreshold
{
    /// <summary>
    /// The exponentially weighted moving average of |errors|: s_0 = |e_0|, s_t = α|e_t| + (1 − α)s_{t−1}, α = 2 / (span + 1)
    /// (pandas' <c>ewm(span, adjust=False)</c>). NaN errors are refused.
    /// </summary>
    /// <exception cref="ArgumentException">An error is NaN or infinite, or the span is below 1.</exception>
    public static double[] Smooth(ReadOnlySpan<double> errors, int span)
    {
        var smoothed = new double[errors.Length];
        Smooth(errors, span, smoothed);
        return smoothed;
    }

    /// <summary><see cref="Smooth(ReadOnlySpan{double}, int)"/> into <paramref name="destination"/> (the same length).</summary>
    public static void Smooth(ReadOnlySpan<double> errors, int span, Span<double> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(span, 1);
        if (destination.Length != errors.Length) throw new ArgumentException($"The destination must hold {errors.Length} values; it holds {destination.Length}.");
        double alpha = 2.0 / (span + 1), s = 0;
        for (int t = 0; t < errors.Length; t++)
        {
            double e = Math.Abs(errors[t]);
            if (!double.IsFinite(e)) throw new ArgumentException($"Error {t} is {errors[t]}; the errors must be finite.");
            s = t == 0 ? e : alpha * e + (1 - alpha) * s;
            destination[t] = s;
        }
    }

    /// <summary>The threshold for one window of smoothed errors (see the class). Among equal scores the larger z wins (fewer flags); allocation-free.</summary>
    /// <exception cref="ArgumentException">The window holds fewer than 2 errors, or a value that is negative or not finite.</exception>
    public static ThresholdChoice Choose(ReadOnlySpan<double> smoothed, DynamicThresholdOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.Validate();
        if (smoothed.Length < 2) throw new ArgumentException($"A threshold needs at least 2 errors; got {smoothed.Length}.");
        double sum = 0, squares = 0;
        foreach (double e in smoothed)
        {
            if (!(e >= 0) || !double.IsFinite(e)) throw new ArgumentException($"Smoothed errors must be finite and not negative; got {e}.");
            sum += e;
        }

        double mean = sum / smoothed.Length;
        foreach (double e in smoothed) squares += (e - mean) * (e - mean);
        double sd = Math.Sqrt(squares / smoothed.Length);
        var best = new ThresholdChoice(double.PositiveInfinity, double.NaN, 0);
        if (!(sd > 0)) return best; // constant errors: nothing stands out
        int steps = (int)Math.Floor((options.MaxZ - options.MinZ) / options.ZStep + 1e-9);
        for (int k = 0; k <= steps; k++)
        {
            double z = options.MinZ + k * options.ZStep, epsilon = mean + z * sd;
            double keptSum = 0, keptSquares = 0;
            int kept = 0, above = 0, runs = 0;
            for (int i = 0; i < smoothed.Length; i++)
            {
                double e = smoothed[i];
                if (e < epsilon)
                {
                    keptSum += e;
                    kept++;
                }

                if (e > epsilon)
                {
                    above++;
                    if (i == 0 || !(smoothed[i - 1] > epsilon)) runs++;
                }
            }

            if (above == 0 || kept == 0) continue;
            double keptMean = keptSum / kept;
            for (int i = 0; i < smoothed.Length; i++)
                if (smoothed[i] < epsilon) keptSquares += (smoothed[i] - keptMean) * (smoothed[i] - keptMean);
            double keptSd = Math.Sqrt(keptSquares / kept);
            double score = ((mean - keptMean) / mean + (sd - keptSd) / sd) / (above + (double)runs * runs);
            if (score >= best.Score) best = new ThresholdChoice(epsilon, z, score);
        }

        return best;
    }

    /// <summary>
    /// Which smoothed errors stay anomalous in <paramref name="smoothed"/> against <paramref name="epsilon"/> after pruning by
    /// <paramref name="minPercentDecrease"/> (see the class): sets <paramref name="flags"/>[i] for each error of a run kept, and
    /// clears the rest. Allocation-free when the window holds at most 256 runs.
    /// </summary>
    public static void FlagAndPrune(ReadOnlySpan<double> smoothed, double epsilon, double minPercentDecrease, Span<bool> flags)
    {
        if (flags.Length != smoothed.Length) throw new ArgumentException($"The flags must cover the {smoothed.Length} errors; they cover {flags.Length}.");
        flags.Clear();
        double nominalMax = 0;
        int runs = 0;
        for (int i = 0; i < smoothed.Length; i++)
        {
            if (smoothed[i] > epsilon)
            {
                if (i == 0 || !(smoothed[i - 1] > epsilon)) runs++;
            }
            else
            {
                nominalMax = Math.Max(nominalMax, smoothed[i]);
            }
        }

        if (runs == 0) return;
        Span<double> peaks = runs <= 256 ? stackalloc double[runs] : new double[runs];
        int run = -1;
        for (int i = 0; i < smoothed.Length; i++)
        {
            if (!(smoothed[i] > epsilon)) continue;
            if (i == 0 || !(smoothed[i - 1] > epsilon)) peaks[++run] = smoothed[i];
            else peaks[run] = Math.Max(peaks[run], smoothed[i]);
        }

        // The lowest peak still anomalous: the last one, from the highest down, that drops by at least p to the next.
        Span<double> sorted = runs <= 256 ? stackalloc double[runs] : new double[runs];
        peaks.CopyTo(sorted);
        sorted.Sort();
        sorted.Reverse();
        double lowestKept = double.PositiveInfinity;
        for (int i = 0; i < runs; i++)
        {
            double next = i + 1 < runs ? sorted[i + 1] : nominalMax;
            if ((sorted[i] - next) / sorted[i] >= minPercentDecrease) lowestKept = sorted[i];
        }

        run = -1;
        for (int i = 0; i < smoothed.Length; i++)
        {
            if (!(smoothed[i] > epsilon)) continue;
            if (i == 0 || !(smoothed[i - 1] > epsilon)) run++;
            flags[i] = peaks[run] >= lowestKept;
        }
    }

    /// <summary>
    /// Flags over a whole error series: smooths |<paramref name="errors"/>|, then slides a window of
    /// <see cref="DynamicThresholdOptions.Window"/> smoothed errors by <see cref="DynamicThresholdOptions.Step"/>: each window
    /// chooses its ε, flags and prunes, and decides the flags of the errors it adds (the first window all of its errors; a
    /// series shorter than the window is one window). A flag once set stays set.
    /// </summary>
    public static DynamicThresholdResult Detect(ReadOnlySpan<double> errors, DynamicThresholdOptions? options = null)
    {
        DynamicThresholdOptions o = options ?? new DynamicThresholdOptions();
        o.Validate();
        double[] smoothed = Smooth(errors, o.SmoothingSpan);
        var flags = new bool[errors.Length];
        var epsilons = new double[errors.Length];
        if (errors.Length < 2)
        {
            Array.Fill(epsilons, double.PositiveInfinity);
            return new DynamicThresholdResult(smoothed, epsilons, flags);
        }

        int window = Math.Min(o.Window, errors.Length);
        var windowFlags = new bool[window];
        for (int previousEnd = 0, end = window; ; previousEnd = end, end = Math.Min(end + o.Step, errors.Length))
        {
            int start = end - window, fresh = end - previousEnd;
            ReadOnlySpan<double> slice = smoothed.AsSpan(start, window);
            ThresholdChoice choice = Choose(slice, o);
            FlagAndPrune(slice, choice.Epsilon, o.MinPercentDecrease, windowFlags);
            for (int i = window - fresh; i < window; i++)
            {
                flags[start + i] |= windowFlags[i];
                epsilons[start + i] = choice.Epsilon;
            }

            if (end == errors.Length) break;
        }

        return new DynamicThresholdResult(smoothed, epsilons, flags);
    }
}

/// <summary>What <see cref="DynamicThreshold.Detect"/> found, one entry per error.</summary>
/// <param name="Smoothed">The smoothed absolute errors.</param>
/// <param name="Epsilons">The threshold of the window that decided each error's flag.</param>
/// <param name="Flags">Whether each error is anomalous.</param>
public sealed record DynamicThresholdResult(double[] Smoothed, double[] Epsilons, bool[] Flags);
