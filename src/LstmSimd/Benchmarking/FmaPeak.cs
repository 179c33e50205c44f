using System.Globalization;

namespace LstmSimd.Benchmarking;

/// <summary>The single-core floating-point peak that percent-of-peak figures divide by.</summary>
public static class FmaPeak
{
    /// <summary>The environment variable that sets the peak, in GFLOP/s, for a machine other than the project's.</summary>
    public const string EnvironmentVariable = "LSTMSIMD_PEAK_GFLOPS";

    /// <summary>
    /// One core of the project's machine kind with 256-bit FMA (AMD EPYC, AVX2+FMA): two FMA pipes × 8 floats × 2 FLOP
    /// per cycle ≈ 95 GFLOP/s, as measured for the design document. The 512-bit path on a core with a full-width
    /// AVX-512 unit can go higher; the <c>FmaPeakBenchmarks</c> in perf/ measure each width, and
    /// <see cref="EnvironmentVariable"/> overrides this figure.
    /// </summary>
    public const double DefaultGflops = 95;

    /// <summary>The peak in use: <see cref="EnvironmentVariable"/> if set to a positive number, else <see cref="DefaultGflops"/>.</summary>
    public static double Gflops { get; } = Read(Environment.GetEnvironmentVariable(EnvironmentVariable));

    /// <summary>Parses an override (invariant culture); null, blank or a non-positive value gives <see cref="DefaultGflops"/>.</summary>
    public static double Read(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double gflops) && gflops > 0 && double.IsFinite(gflops)
            ? gflops
            : DefaultGflops;
}
