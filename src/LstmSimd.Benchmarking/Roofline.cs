
namespace LstmSimd.Benchmarking;

/// <summary>What limits a workload's floor: the FMA units, or how fast its weights stream from where they fit.</summary>
public enum RooflineBound
{
    /// <summary>The FLOPs at the FMA peak take longer than the bytes at the bandwidth.</summary>
    Compute,

    /// <summary>Streaming the weights at the measured bandwidth takes longer than the FLOPs.</summary>
    Bandwidth,
}

/// <summary>
/// A workload's floor on this machine: the shortest time a call could take at one core's (or <c>threads</c> cores') FMA
/// peak and read bandwidth, with fp32 weights and the strategy LstmSimd uses (see <see cref="Roofline.Floor"/>).
/// </summary>
/// <param name="Microseconds">The floor per call.</param>
/// <param name="Bound">Whether the recurrent part (the whole step, for a streaming step) is bound by compute or by bandwidth.</param>
/// <param name="StreamedBytes">Weight bytes one step streams: the footprint whose bandwidth applies.</param>
/// <param name="BandwidthGBs">The bandwidth measured at that footprint (per core).</param>
public sealed record RooflineFloor(double Microseconds, RooflineBound Bound, long StreamedBytes, double BandwidthGBs);

/// <summary>
/// One core's measured limits, FMA peak and read bandwidth by buffer size, and the floor they put under each standard
/// workload. Speed targets are ratios to peers; this says how far below a machine's limit a time still is, which a
/// ratio cannot (every CPU kind has other limits).
/// </summary>
/// <param name="PeakGflops">One core's FMA peak at the kernel width (<see cref="FmaPeak"/>).</param>
/// <param name="Bandwidth">Read bandwidth, GB/s, by buffer size in bytes (ascending sizes).</param>
public sealed record Roofline(double PeakGflops, IReadOnlyList<(long Bytes, double GBs)> Bandwidth)
{
    /// <summary>The buffer sizes <see cref="Measure"/> reads: L1 to DRAM on current x64 and Arm64 server cores.</summary>
    public static IReadOnlyList<long> Footprints { get; } = [16 << 10, 64 << 10, 256 << 10, 1 << 20, 2 << 20, 4 << 20, 8 << 20, 16 << 20, 64 << 20];

    /// <summary>
    /// Measures the peak and the bandwidth at every one of <see cref="Footprints"/> on the current core (a few seconds). The
    /// sizes are swept twice and each keeps its better figure: on a shared machine a busy neighbour lowers a whole sweep,
    /// and a floor computed from a lowered bandwidth would not be a floor.
    /// </summary>
    public static Roofline Measure(KernelPath path = KernelPath.Auto)
    {
        double[] best = new double[Footprints.Count];
        for (int sweep = 0; sweep < 2; sweep++)
        {
            for (int i = 0; i < best.Length; i++) best[i] = Math.Max(best[i], ReadBandwidth.Measure(Footprints[i], path));
        }

        return new(FmaPeak.For(path), Footprints.Select((bytes, i) => (bytes, best[i])).ToArray());
    }

    /// <summary>
    /// The bandwidth for streaming <paramref name="bytes"/>: that of the smallest measured buffer at least that large
    /// (the level the bytes fit in), or of the largest measured one.
    /// </summary>
    public double BandwidthFor(long bytes)
    {
        if (Bandwidth.Count == 0) throw new InvalidOperationException("No bandwidth was measured.");
        foreach ((long size, double gbs) in Bandwidth)
        {
            if (size >= bytes) return gbs;
        }

        return Bandwidth[^1].GBs;
    }

    /// <summary>
    /// The floor of one call of <paramref name="workload"/> with fp32 weights on <paramref name="threads"/> cores, each with
    /// this core's limits and its share of the weights (optimistic where cores share a cache level or DRAM):
    /// <list type="bullet">
    /// <item>a sequence: the hoisted input projection at the FMA peak, then per step the recurrent product at the slower of
    /// the peak and streaming W_hh (4·G·H² bytes, G gates) at the bandwidth of its size;</item>
    /// <item>a streaming step: both products at the slower of the peak and streaming W_ih and W_hh (4·G·H·(I+H) bytes);</item>
    /// <item>a training step: its FLOPs at the peak (a GEMM-bound pass over the batch).</item>
    /// </list>
    /// Activations, the cell update and the per-step overhead are not counted: the floor is a bound, not a prediction. A GRU's
    /// floor counts its three gates.
    /// </summary>
    public RooflineFloor Floor(StandardWorkload workload, int threads = 1)
    {
        ArgumentNullException.ThrowIfNull(workload);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        double flopsPerMicrosecond = PeakGflops * 1e3 * threads;
        long b = workload.Batch, i = workload.InputSize, h = workload.HiddenSize;
        if (workload.Kind == WorkloadKind.Train)
            return new RooflineFloor(workload.FlopPerCall / flopsPerMicrosecond, RooflineBound.Compute, 0, 0);

        bool step = workload.Kind == WorkloadKind.Step;
        long gates = workload.Gates;
        long streamed = step ? workload.WeightBytesPerStep : 4 * gates * h * h;
        double projection = step ? 0 : 2.0 * workload.Steps * b * gates * h * i / flopsPerMicrosecond;
        double recurrentFlops = 2.0 * b * gates * h * (step ? i + h : h);
        double bandwidth = BandwidthFor((streamed + threads - 1) / threads) * threads;
        double compute = recurrentFlops / flopsPerMicrosecond, memory = streamed / (bandwidth * 1e3);
        RooflineBound bound = memory > compute ? RooflineBound.Bandwidth : RooflineBound.Compute;
        return new RooflineFloor(projection + workload.Steps * Math.Max(compute, memory), bound, streamed, bandwidth / threads);
    }
}
