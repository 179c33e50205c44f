using System.Diagnostics;
using System.Globalization;
using System.Runtime.CompilerServices;
using LstmSimd.Kernels;

namespace LstmSimd.Benchmarking;

/// <summary>The single-core floating-point peak that percent-of-peak figures divide by, per kernel width.</summary>
/// <remarks>
/// The design document gives 95 GFLOP/s for one core of its machine kind (AMD EPYC Zen 3, two 256-bit FMA pipes).
/// The runners this project got later are AVX-512 cores with two full-width FMA pipes: about 110 GFLOP/s at 256 bits
/// and 220 at 512 bits, so a constant would be wrong on one of them. The peak is therefore measured, per width, on the
/// core at hand (best of several short runs, so that a busy neighbour lowers it less), unless
/// <see cref="EnvironmentVariable"/> sets it.
/// </remarks>
public static class FmaPeak
{
    /// <summary>The environment variable that sets the peak, in GFLOP/s for one core, instead of measuring it.</summary>
    public const string EnvironmentVariable = "LSTMSIMD_PEAK_GFLOPS";

    /// <summary>The design document's figure: one Zen 3 core, AVX2+FMA.</summary>
    public const double DesignGflops = 95;

    // Twelve independent chains: more than FMA latency × FMA pipes on any current x64 or Arm64 core.
    private const int Chains = 12;
    private const int Iterations = 100_000;

    private static readonly double?[] Cache = new double?[Enum.GetValues<KernelPath>().Length];

    /// <summary>The peak for <paramref name="path"/>: <see cref="EnvironmentVariable"/> if it holds a positive number, else measured once per process and width.</summary>
    public static double For(KernelPath path)
    {
        double? overridden = Parse(Environment.GetEnvironmentVariable(EnvironmentVariable));
        if (overridden is double value) return value;
        int slot = (int)KernelSelector.Resolve(path);
        return Cache[slot] ??= Measure(path);
    }

    /// <summary>Parses an override (invariant culture): a positive finite number, else null.</summary>
    public static double? Parse(string? value) =>
        double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double gflops) && gflops > 0 && double.IsFinite(gflops)
            ? gflops
            : null;

    /// <summary>Measures one core's FMA throughput at the width of <paramref name="path"/>: the best of 15 runs of about 0.2 ms to 1 ms each.</summary>
    public static double Measure(KernelPath path) => ProbeLanes.Run<Probe, double>(path, default);

    private readonly struct Probe : IProbe<double>
    {
        public double Run<TVec>() where TVec : struct, IProbeLanes<TVec> => Measure<TVec>();
    }

    private static double Measure<TVec>() where TVec : struct, IProbeLanes<TVec>
    {
        double best = double.MaxValue;
        float sink = 0;
        for (int run = 0; run < 15; run++)
        {
            long start = Stopwatch.GetTimestamp();
            sink += Chain<TVec>(Iterations);
            best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
        }

        GC.KeepAlive(sink);
        return 2.0 * Chains * TVec.Count * Iterations / best / 1e9;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain<TVec>(int iterations) where TVec : struct, IProbeLanes<TVec>
    {
        TVec m = TVec.Create(0.9999f), a = TVec.Create(1e-3f);
        TVec x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (int i = 0; i < iterations; i++)
        {
            x0 = TVec.MultiplyAdd(x0, m, a); x1 = TVec.MultiplyAdd(x1, m, a); x2 = TVec.MultiplyAdd(x2, m, a);
            x3 = TVec.MultiplyAdd(x3, m, a); x4 = TVec.MultiplyAdd(x4, m, a); x5 = TVec.MultiplyAdd(x5, m, a);
            x6 = TVec.MultiplyAdd(x6, m, a); x7 = TVec.MultiplyAdd(x7, m, a); x8 = TVec.MultiplyAdd(x8, m, a);
            x9 = TVec.MultiplyAdd(x9, m, a); x10 = TVec.MultiplyAdd(x10, m, a); x11 = TVec.MultiplyAdd(x11, m, a);
        }

        return TVec.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }
}
