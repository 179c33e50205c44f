namespace LstmSimd.Benchmarking;

/// <summary>One workload's timing on one configuration, with the figures derived from it.</summary>
/// <param name="Workload">The workload timed.</param>
/// <param name="Threads">Threads the model ran on.</param>
/// <param name="Path">The kernel width the model ran at.</param>
/// <param name="Timing">The measurement.</param>
/// <param name="PeakGflops">One core's FMA peak at this width (<see cref="FmaPeak.For"/>), for <see cref="PercentOfPeak"/>.</param>
public sealed record WorkloadResult(StandardWorkload Workload, int Threads, KernelPath Path, CallTiming Timing, double PeakGflops)
{
    /// <summary>The ISA name as <c>LSTMSIMD_KERNEL</c> spells it: scalar, vector128, vector256, vector512.</summary>
    public string Isa => Path.ToString().ToLowerInvariant();

    /// <summary>Median microseconds per call.</summary>
    public double MedianMicroseconds => Timing.MedianMicroseconds;

    /// <summary>Median microseconds per time step (a call runs T steps).</summary>
    public double MicrosecondsPerStep => Timing.MedianMicroseconds / Workload.Steps;

    /// <summary>GFLOP/s at the median time, counting <see cref="StandardWorkload.FlopPerCall"/>.</summary>
    public double Gflops => Workload.FlopPerCall / (Timing.MedianMicroseconds * 1e3);

    /// <summary><see cref="Gflops"/> as a percentage of <see cref="PeakGflops"/> times <see cref="Threads"/>.</summary>
    public double PercentOfPeak => 100 * Gflops / (PeakGflops * Threads);

    /// <summary>The machine's floor for this workload (<see cref="Roofline.Floor"/>), when the run measured one.</summary>
    public RooflineFloor? Floor { get; init; }

    /// <summary>The floor as a percentage of the median time: 100 is at the machine's limit.</summary>
    public double? PercentOfFloor => Floor is { } floor ? 100 * floor.Microseconds / Timing.MedianMicroseconds : null;

    /// <summary>What the timing counted: elapsed time, or the calling thread's CPU time.</summary>
    public CallClock Clock { get; init; }

    /// <summary>Managed bytes allocated per call (the target is 0).</summary>
    public long AllocatedBytes => Timing.AllocatedBytesPerCall;
}
