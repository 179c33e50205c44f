using System.Text.Json;
using LstmSimd.Benchmarking;
using Xunit;
using LstmSimd.Kernels;

namespace LstmSimd.Tests.Benchmarking;

/// <summary>The roofline model behind <c>lstmsimd bench --roofline</c>: floors that follow from the limits given, and a bandwidth probe that measures.</summary>
public class RooflineTests
{
    // A made-up machine: 100 GFLOP/s, 200 GB/s up to 64 KiB, 100 GB/s up to 1 MiB, 50 GB/s beyond.
    private static readonly Roofline Machine = new(100, [(64 << 10, 200), (1 << 20, 100), (16 << 20, 50)]);

    [Fact]
    public void Bandwidth_is_that_of_the_smallest_measured_buffer_the_bytes_fit_in()
    {
        Assert.Equal(200, Machine.BandwidthFor(1));
        Assert.Equal(200, Machine.BandwidthFor(64 << 10));
        Assert.Equal(100, Machine.BandwidthFor((64 << 10) + 1));
        Assert.Equal(50, Machine.BandwidthFor(1L << 30));
        Assert.Throws<InvalidOperationException>(() => new Roofline(100, []).BandwidthFor(1));
    }

    [Fact]
    public void A_streaming_step_is_bound_by_the_slower_of_its_flops_and_its_weight_bytes()
    {
        // step-h64: 16·64·128 = 128 KiB of weights (100 GB/s here: 1.31 µs) against 2·4·64·128 = 65,536 FLOP (0.66 µs).
        RooflineFloor floor = Machine.Floor(StandardWorkload.Get("step-h64"));
        Assert.Equal(RooflineBound.Bandwidth, floor.Bound);
        Assert.Equal(131072, floor.StreamedBytes);
        Assert.Equal(131072 / 100e3, floor.Microseconds, 9);

        // With bandwidth to spare, the FMA peak sets it.
        var fast = new Roofline(100, [(1L << 30, 1e6)]);
        RooflineFloor computeBound = fast.Floor(StandardWorkload.Get("step-h64"));
        Assert.Equal(RooflineBound.Compute, computeBound.Bound);
        Assert.Equal(65536 / 100e3, computeBound.Microseconds, 9);
    }

    [Fact]
    public void A_sequence_adds_the_hoisted_projection_at_peak_to_its_recurrent_steps()
    {
        StandardWorkload w = StandardWorkload.Get("seq-h64");
        RooflineFloor floor = Machine.Floor(w);
        double projection = 2.0 * 100 * 4 * 64 * 64 / 100e3;         // T·B rows × 4H × I, at peak
        double perStep = Math.Max(2.0 * 4 * 64 * 64 / 100e3, 16.0 * 64 * 64 / 200e3); // W_hh: 64 KiB, from the 200 GB/s level
        Assert.Equal(projection + 100 * perStep, floor.Microseconds, 9);
        Assert.Equal(16L * 64 * 64, floor.StreamedBytes);
    }

    [Fact]
    public void Two_threads_at_least_halve_the_floor()
    {
        foreach (StandardWorkload w in StandardWorkload.All)
        {
            double one = Machine.Floor(w).Microseconds, two = Machine.Floor(w, threads: 2).Microseconds;
            // Twice the peak and the bandwidth, and each core's half of the weights fits the same level or a faster one.
            Assert.True(two <= one / 2 * (1 + 1e-9), $"{w.Name}: {two} µs on two threads, {one} on one");
            Assert.True(one > 0 && double.IsFinite(one), w.Name);
        }
    }

    [Fact]
    public void The_probe_measures_a_positive_bandwidth_and_rejects_silly_sizes()
    {
        double bandwidth = ReadBandwidth.Measure(32 << 10, KernelPath.Vector128);
        Assert.True(bandwidth > 0.1 && double.IsFinite(bandwidth), $"{bandwidth} GB/s");
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidth.Measure(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidth.Measure(2L << 30));
    }

    [Fact]
    public void Floors_appear_in_the_table_and_the_json_only_when_measured()
    {
        var timing = new CallTiming(20, 19, 40, 3, 0);
        WorkloadResult plain = new(StandardWorkload.Get("seq-h32"), 1, KernelPath.Vector256, timing, PeakGflops: 100);
        WorkloadResult floored = plain with { Floor = new RooflineFloor(10, RooflineBound.Bandwidth, 16384, 150) };
        Assert.Null(plain.PercentOfFloor);
        Assert.Equal(50, floored.PercentOfFloor);

        using var table = new StringWriter();
        BenchmarkReport.WriteTable(table, [floored]);
        Assert.Contains("% of floor", table.ToString(), StringComparison.Ordinal);
        Assert.Contains("stream 16 KiB @ 150 GB/s", table.ToString(), StringComparison.Ordinal);

        using var stream = new MemoryStream();
        BenchmarkReport.WriteJson(stream, [plain, floored]);
        using JsonDocument json = JsonDocument.Parse(stream.ToArray());
        Assert.False(json.RootElement[0].TryGetProperty("floor_us", out _));
        Assert.Equal(10, json.RootElement[1].GetProperty("floor_us").GetDouble());
        Assert.Equal(50, json.RootElement[1].GetProperty("percent_of_floor").GetDouble());
        Assert.Equal("bandwidth", json.RootElement[1].GetProperty("floor_bound").GetString());
    }
}
