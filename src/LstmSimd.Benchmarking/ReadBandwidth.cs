using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Benchmarking;

/// <summary>
/// One core's read bandwidth from a buffer of a given size, the way a batch-1 step reads its weights: front to back, with
/// vector loads, the same buffer over and over (so a buffer that fits a cache level is read from that level).
/// </summary>
public static class ReadBandwidth
{
    // Enough bytes per timed run that the timer's resolution and the loop's start-up are noise.
    private const long BytesPerRun = 32L << 20;

    /// <summary>GB/s reading <paramref name="bytes"/> (rounded up to whole 64-byte lines) at the width of <paramref name="path"/>: the best of several runs.</summary>
    public static double Measure(long bytes, KernelPath path = KernelPath.Auto)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 64L);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(bytes, 1L << 30);
        return ProbeLanes.Run<Probe, double>(path, new Probe(bytes));
    }

    private readonly struct Probe(long bytes) : IProbe<double>
    {
        public double Run<TVec>() where TVec : struct, IProbeLanes<TVec> => Measure<TVec>(bytes);
    }

    private static unsafe double Measure<TVec>(long bytes) where TVec : struct, IProbeLanes<TVec>
    {
        int floats = (int)((bytes + 63) / 64 * 16);
        float* buffer = (float*)NativeMemory.AlignedAlloc((nuint)floats * sizeof(float), 64); // whole cache lines, as packed weights are
        try
        {
            ref float first = ref *buffer;
            new Span<float>(buffer, floats).Fill(1e-3f);
            int passes = (int)Math.Max(1, BytesPerRun / (floats * 4L));
            float sink = Sum<TVec>(ref first, floats, 1); // warm: brings the buffer into the level it fits
            double best = double.MaxValue;
            for (int run = 0; run < 7; run++)
            {
                long start = Stopwatch.GetTimestamp();
                sink += Sum<TVec>(ref first, floats, passes);
                best = Math.Min(best, Stopwatch.GetElapsedTime(start).TotalSeconds);
            }

            GC.KeepAlive(sink);
            return (double)floats * 4 * passes / best / 1e9;
        }
        finally
        {
            NativeMemory.AlignedFree(buffer);
        }
    }

    // Eight accumulators: enough independent adds to keep two loads a cycle in flight on any current core.
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Sum<TVec>(ref float start, int floats, int passes) where TVec : struct, IProbeLanes<TVec>
    {
        int width = TVec.Count, step = 8 * width, whole = floats / step * step;
        TVec a0 = TVec.Zero, a1 = TVec.Zero, a2 = TVec.Zero, a3 = TVec.Zero, a4 = TVec.Zero, a5 = TVec.Zero, a6 = TVec.Zero, a7 = TVec.Zero;
        for (int pass = 0; pass < passes; pass++)
        {
            for (int i = 0; i < whole; i += step)
            {
                ref float p = ref Unsafe.Add(ref start, i);
                a0 += TVec.Load(ref p);
                a1 += TVec.Load(ref Unsafe.Add(ref p, width));
                a2 += TVec.Load(ref Unsafe.Add(ref p, 2 * width));
                a3 += TVec.Load(ref Unsafe.Add(ref p, 3 * width));
                a4 += TVec.Load(ref Unsafe.Add(ref p, 4 * width));
                a5 += TVec.Load(ref Unsafe.Add(ref p, 5 * width));
                a6 += TVec.Load(ref Unsafe.Add(ref p, 6 * width));
                a7 += TVec.Load(ref Unsafe.Add(ref p, 7 * width));
            }

            for (int i = whole; i < floats; i += width) a0 += TVec.Load(ref Unsafe.Add(ref start, i));
        }

        return TVec.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
    }
}
