using Xunit.Sdk;

namespace LstmSimd.Tests.Support;

/// <summary>The numerics contract: |Δ| ≤ 1e-5 + 1e-4·|ref| per element.</summary>
public static class Tolerance
{
    public const double Absolute = 1e-5, Relative = 1e-4;

    public static void AssertClose(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what)
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (!(Math.Abs(a - e) <= Absolute + Relative * Math.Abs(e)))
                throw new XunitException($"{what}[{i}] = {a:R}, reference {e:R}, |Δ| = {Math.Abs(a - e):E3}");
        }
    }

    /// <summary>
    /// The contract's rule for runs that amplify rounding from step to step (chaotic or expansive ones, where no fp32
    /// computation stays within the per-element bound): ‖actual − expected‖₂ ≤ <paramref name="bound"/>·‖expected‖₂.
    /// </summary>
    public static void AssertRelativeL2(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual, string what, double bound = Relative)
    {
        double[] widened = new double[actual.Length];
        for (int i = 0; i < actual.Length; i++) widened[i] = actual[i];
        (double difference, double norm) = SquaredL2(expected, widened, what);
        if (!(Math.Sqrt(difference) <= bound * Math.Sqrt(norm) + Absolute))
            throw new XunitException($"{what}: relative L2 error {RelativeL2(expected, widened, what):E3}, bound {bound:E1}");
    }

    /// <summary>‖actual − expected‖₂ / ‖expected‖₂ (over the smallest positive double when expected is all zeros).</summary>
    public static double RelativeL2(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        (double difference, double norm) = SquaredL2(expected, actual, what);
        return Math.Sqrt(difference / Math.Max(norm, double.Epsilon));
    }

    /// <summary>‖actual − expected‖₂² and ‖expected‖₂².</summary>
    private static (double Difference, double Expected) SquaredL2(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual, string what)
    {
        if (expected.Length != actual.Length)
            throw new XunitException($"{what}: length {actual.Length}, expected {expected.Length}");
        double difference = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            double d = actual[i] - expected[i];
            difference += d * d;
            norm += expected[i] * expected[i];
        }

        return (difference, norm);
    }

    /// <summary>Output, h_n and c_n of a fast run against the reference's, each to the contract.</summary>
    public static void AssertMatches(LstmSimd.Reference.ReferenceResult expected, (float[] Output, float[] H, float[] C) actual, string where)
    {
        AssertClose(expected.Output, actual.Output, $"output ({where})");
        AssertClose(expected.HiddenState, actual.H, $"h_n ({where})");
        AssertClose(expected.CellState, actual.C, $"c_n ({where})");
    }

    public static double MaxError(ReadOnlySpan<double> expected, ReadOnlySpan<float> actual)
    {
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }
}
