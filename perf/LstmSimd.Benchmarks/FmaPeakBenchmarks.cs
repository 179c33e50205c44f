using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarks.Infrastructure;

namespace LstmSimd.Benchmarks;

/// <summary>
/// One core's FMA peak per vector width: twelve independent accumulator chains (more than latency × pipes on any x64
/// or Arm64 core), no loads. Checks <c>FmaPeak.DefaultGflops</c> on the machine at hand; % peak reads near 100 for
/// the widest accelerated width when the constant fits the machine.
/// </summary>
public class FmaPeakBenchmarks : IFlopCounted
{
    private const int Iterations = 100_000;
    private const int Chains = 12;

    [Benchmark]
    public float Vector128Fma() => Run128(Iterations);

    [Benchmark]
    public float Vector256Fma() => Run256(Iterations);

    [Benchmark]
    public float Vector512Fma() => Run512(Iterations);

    public static double FlopPerOperation(BenchmarkCase benchmarkCase)
    {
        int lanes = benchmarkCase.Descriptor.WorkloadMethod.Name switch
        {
            nameof(Vector128Fma) => 4,
            nameof(Vector256Fma) => 8,
            _ => 16,
        };
        return 2.0 * Chains * lanes * Iterations;
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run128(int iterations)
    {
        Vector128<float> m = Vector128.Create(0.9999f), a = Vector128.Create(1e-3f);
        Vector128<float> x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (int i = 0; i < iterations; i++)
        {
            x0 = Vector128.FusedMultiplyAdd(x0, m, a); x1 = Vector128.FusedMultiplyAdd(x1, m, a); x2 = Vector128.FusedMultiplyAdd(x2, m, a);
            x3 = Vector128.FusedMultiplyAdd(x3, m, a); x4 = Vector128.FusedMultiplyAdd(x4, m, a); x5 = Vector128.FusedMultiplyAdd(x5, m, a);
            x6 = Vector128.FusedMultiplyAdd(x6, m, a); x7 = Vector128.FusedMultiplyAdd(x7, m, a); x8 = Vector128.FusedMultiplyAdd(x8, m, a);
            x9 = Vector128.FusedMultiplyAdd(x9, m, a); x10 = Vector128.FusedMultiplyAdd(x10, m, a); x11 = Vector128.FusedMultiplyAdd(x11, m, a);
        }

        return Vector128.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run256(int iterations)
    {
        Vector256<float> m = Vector256.Create(0.9999f), a = Vector256.Create(1e-3f);
        Vector256<float> x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (int i = 0; i < iterations; i++)
        {
            x0 = Vector256.FusedMultiplyAdd(x0, m, a); x1 = Vector256.FusedMultiplyAdd(x1, m, a); x2 = Vector256.FusedMultiplyAdd(x2, m, a);
            x3 = Vector256.FusedMultiplyAdd(x3, m, a); x4 = Vector256.FusedMultiplyAdd(x4, m, a); x5 = Vector256.FusedMultiplyAdd(x5, m, a);
            x6 = Vector256.FusedMultiplyAdd(x6, m, a); x7 = Vector256.FusedMultiplyAdd(x7, m, a); x8 = Vector256.FusedMultiplyAdd(x8, m, a);
            x9 = Vector256.FusedMultiplyAdd(x9, m, a); x10 = Vector256.FusedMultiplyAdd(x10, m, a); x11 = Vector256.FusedMultiplyAdd(x11, m, a);
        }

        return Vector256.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Run512(int iterations)
    {
        Vector512<float> m = Vector512.Create(0.9999f), a = Vector512.Create(1e-3f);
        Vector512<float> x0 = m, x1 = m, x2 = m, x3 = m, x4 = m, x5 = m, x6 = m, x7 = m, x8 = m, x9 = m, x10 = m, x11 = m;
        for (int i = 0; i < iterations; i++)
        {
            x0 = Vector512.FusedMultiplyAdd(x0, m, a); x1 = Vector512.FusedMultiplyAdd(x1, m, a); x2 = Vector512.FusedMultiplyAdd(x2, m, a);
            x3 = Vector512.FusedMultiplyAdd(x3, m, a); x4 = Vector512.FusedMultiplyAdd(x4, m, a); x5 = Vector512.FusedMultiplyAdd(x5, m, a);
            x6 = Vector512.FusedMultiplyAdd(x6, m, a); x7 = Vector512.FusedMultiplyAdd(x7, m, a); x8 = Vector512.FusedMultiplyAdd(x8, m, a);
            x9 = Vector512.FusedMultiplyAdd(x9, m, a); x10 = Vector512.FusedMultiplyAdd(x10, m, a); x11 = Vector512.FusedMultiplyAdd(x11, m, a);
        }

        return Vector512.Sum(x0 + x1 + x2 + x3 + x4 + x5 + x6 + x7 + x8 + x9 + x10 + x11);
    }
}
