namespace LstmSimd.Forecasting;

/// <summary>How <see cref="DieboldMariano"/> estimates the long-run variance of the loss differential from its autocovariances up to lag h − 1.</summary>
public enum DieboldMarianoVariance
{
    /// <summary>
    /// Bartlett weights 1 − k/h on lag k (Newey–West): never negative, so the test always runs at the horizon asked.
    /// R: <c>dm.test(…, varestimator = "bartlett")</c>.
    /// </summary>
    Bartlett,

    /// <summary>
    /// Equal weights, as Diebold and Mariano (1995) wrote it. The sum can be zero or negative for h &gt; 1; then, as R's
    /// default <c>dm.test(…, varestimator = "acf")</c> does, the test is made again with h = 1 and
    /// <see cref="DieboldMarianoResult.FellBackToOneStep"/> says so.
    /// </summary>
    Rectangular,
}

/// <summary>The outcome of a Diebold–Mariano test of a candidate's losses against a rival's.</summary>
/// <param name="Statistic">The statistic with the Harvey–Leybourne–Newbold correction; negative when the candidate's mean loss is lower. ±∞ when the differential is constant and not zero, 0 when it is constantly zero.</param>
/// <param name="PValueCandidateBetter">P(T ≤ statistic) for Student's t with n − 1 degrees of freedom: small when the candidate's expected loss is lower (R's <c>alternative = "less"</c>).</param>
/// <param name="PValueRivalBetter">P(T ≥ statistic): small when the rival's expected loss is lower (R's <c>alternative = "greater"</c>).</param>
/// <param name="Count">The number of loss pairs n.</param>
/// <param name="Horizon">The horizon h whose autocovariances entered the variance (1 after a fallback).</param>
/// <param name="FellBackToOneStep">The rectangular variance was not positive at the horizon asked, so the test used h = 1.</param>
public sealed record DieboldMarianoResult(double Statistic, double PValueCandidateBetter, double PValueRivalBetter, int Count, int Horizon, bool FellBackToOneStep);

/// <summary>
/// The Diebold–Mariano test of equal predictive accuracy (Diebold and Mariano, 1995) with the small-sample correction
/// of Harvey, Leybourne and Newbold (1997), computed as R's <c>forecast::dm.test</c> computes it. With loss
/// differentials dₜ = L₁ₜ − L₂ₜ over n origins and γₖ their autocovariances (divided by n, as R's <c>acf</c>):
/// DM = d̄ / √((γ₀ + 2 Σₖ₌₁ʰ⁻¹ wₖ γₖ) / n), then multiplied by √((n + 1 − 2h + h(h − 1)/n) / n) and referred to
/// Student's t with n − 1 degrees of freedom. Forecasts h steps ahead from neighbouring origins share errors, so their
/// losses are correlated up to lag h − 1; the autocovariances account for that.
/// </summary>
public static class DieboldMariano
{
    /// <summary>Tests whether <paramref name="candidateLosses"/> are lower on average than <paramref name="rivalLosses"/> (the same origins, in time order).</summary>
    /// <param name="candidateLosses">The candidate's loss at each origin (e.g. |error|, or the mean absolute error over the horizon).</param>
    /// <param name="rivalLosses">The rival's loss at the same origins.</param>
    /// <param name="horizon">h: losses at origins closer than h steps are taken as correlated.</param>
    /// <param name="variance">How the long-run variance is estimated.</param>
    /// <exception cref="ArgumentException">The lengths differ, a loss is not finite, or there are not more than max(1, 2h − 1) origins (the correction needs n + 1 − 2h + h(h − 1)/n &gt; 0; this keeps it at least 1).</exception>
    public static DieboldMarianoResult Test(ReadOnlySpan<double> candidateLosses, ReadOnlySpan<double> rivalLosses, int horizon, DieboldMarianoVariance variance = DieboldMarianoVariance.Bartlett)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        if (!Enum.IsDefined(variance)) throw new ArgumentOutOfRangeException(nameof(variance));
        if (candidateLosses.Length != rivalLosses.Length)
            throw new ArgumentException($"The two loss series must cover the same origins; got {candidateLosses.Length} and {rivalLosses.Length}.");
        int n = candidateLosses.Length;
        if (n <= Math.Max(1, 2 * horizon - 1))
            throw new ArgumentException($"A Diebold–Mariano test at horizon {horizon} needs more than {Math.Max(1, 2 * horizon - 1)} origins; got {n}.");
        var d = new double[n];
        double mean = 0;
        for (int t = 0; t < n; t++)
        {
            d[t] = candidateLosses[t] - rivalLosses[t];
            if (!double.IsFinite(d[t])) throw new ArgumentException($"Losses must be finite; origin {t} has {candidateLosses[t]} and {rivalLosses[t]}.");
            mean += d[t];
        }

        mean /= n;
        double longRun = LongRunVariance(d, mean, horizon, variance);
        int used = horizon;
        if (!(longRun > 0) && variance == DieboldMarianoVariance.Rectangular && horizon > 1)
        {
            used = 1;
            longRun = LongRunVariance(d, mean, 1, variance);
        }

        double statistic;
        if (longRun > 0)
        {
            double correction = Math.Sqrt((n + 1 - 2 * used + (double)used * (used - 1) / n) / n);
            statistic = mean / Math.Sqrt(longRun / n) * correction;
        }
        else
        {
            // Every differential is the same number: no doubt about the sign, nothing to test.
            statistic = mean == 0 ? 0 : mean > 0 ? double.PositiveInfinity : double.NegativeInfinity;
        }

        double lower = StudentT.DistributionFunction(statistic, n - 1);
        double upper = StudentT.DistributionFunction(-statistic, n - 1);
        return new DieboldMarianoResult(statistic, lower, upper, n, used, used != horizon);
    }

    private static double LongRunVariance(double[] d, double mean, int horizon, DieboldMarianoVariance variance)
    {
        int n = d.Length;
        double sum = 0;
        for (int lag = 0; lag < Math.Min(horizon, n); lag++)
        {
            double autocovariance = 0;
            for (int t = lag; t < n; t++) autocovariance += (d[t] - mean) * (d[t - lag] - mean);
            autocovariance /= n;
            double weight = lag == 0 ? 1 : variance == DieboldMarianoVariance.Bartlett ? 2 * (1 - (double)lag / horizon) : 2;
            sum += weight * autocovariance;
        }

        return sum;
    }
}

/// <summary>Student's t distribution, through the regularised incomplete beta function (Numerical Recipes, 3rd ed., §6.4 and §6.14).</summary>
internal static class StudentT
{
    /// <summary>P(T ≤ x) for T with <paramref name="degreesOfFreedom"/> degrees of freedom.</summary>
    public static double DistributionFunction(double x, double degreesOfFreedom)
    {
        if (double.IsNaN(x)) return double.NaN;
        if (double.IsPositiveInfinity(x)) return 1;
        if (double.IsNegativeInfinity(x)) return 0;
        double tail = 0.5 * RegularizedIncompleteBeta(degreesOfFreedom / 2, 0.5, degreesOfFreedom / (degreesOfFreedom + x * x));
        return x > 0 ? 1 - tail : tail;
    }

    /// <summary>Iₓ(a, b) by its continued fraction, on the side of x where it converges fast.</summary>
    internal static double RegularizedIncompleteBeta(double a, double b, double x)
    {
        if (x <= 0) return 0;
        if (x >= 1) return 1;
        double front = Math.Exp(LogGamma(a + b) - LogGamma(a) - LogGamma(b) + a * Math.Log(x) + b * Math.Log(1 - x));
        return x < (a + 1) / (a + b + 2)
            ? front * BetaContinuedFraction(a, b, x) / a
            : 1 - front * BetaContinuedFraction(b, a, 1 - x) / b;
    }

    /// <summary>The continued fraction of the incomplete beta function by the modified Lentz method.</summary>
    private static double BetaContinuedFraction(double a, double b, double x)
    {
        const double tiny = 1e-300;
        double c = 1, d = 1 - (a + b) * x / (a + 1);
        if (Math.Abs(d) < tiny) d = tiny;
        d = 1 / d;
        double result = d;
        for (int m = 1; m <= 10_000; m++)
        {
            int m2 = 2 * m;
            double even = m * (b - m) * x / ((a + m2 - 1) * (a + m2));
            d = 1 + even * d;
            if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + even / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            result *= d * c;
            double odd = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));
            d = 1 + odd * d;
            if (Math.Abs(d) < tiny) d = tiny;
            c = 1 + odd / c;
            if (Math.Abs(c) < tiny) c = tiny;
            d = 1 / d;
            double step = d * c;
            result *= step;
            if (Math.Abs(step - 1) < 1e-16) break;
        }

        return result;
    }

    /// <summary>ln Γ(x) for x &gt; 0 by Lanczos' series (g = 7, 9 terms; Godfrey's coefficients), and the reflection formula below 0.5.</summary>
    internal static double LogGamma(double x)
    {
        ReadOnlySpan<double> coefficients =
        [
            0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313, -176.61502916214059,
            12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6, 1.5056327351493116e-7,
        ];
        if (x < 0.5) return Math.Log(Math.PI / Math.Sin(Math.PI * x)) - LogGamma(1 - x);
        x -= 1;
        double sum = coefficients[0];
        for (int i = 1; i < coefficients.Length; i++) sum += coefficients[i] / (x + i);
        double t = x + 7.5;
        return 0.5 * Math.Log(2 * Math.PI) + (x + 0.5) * Math.Log(t) - t + Math.Log(sum);
    }
}
