using System.Globalization;
using System.Text.Json;

namespace LstmSimd.Benchmarking;

/// <summary>Writes <see cref="WorkloadResult"/>s as a text table for people or as JSON for scripts.</summary>
public static class BenchmarkReport
{
    private static readonly string[] Headers = ["workload", "T", "B", "I", "H", "µs/call", "µs/step", "GFLOP/s", "% peak", "alloc B/call", "isa", "threads"];
    private static readonly string[] FloorHeaders = ["floor µs", "% of floor", "bound"];

    /// <summary>An aligned text table, one row per result, numbers right-aligned; with floor columns when the results have floors.</summary>
    public static void WriteTable(TextWriter writer, IReadOnlyList<WorkloadResult> results)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(results);
        bool floors = results.Any(r => r.Floor is not null);
        string[] headers = floors ? [.. Headers, .. FloorHeaders] : Headers;
        var rows = new List<string[]>(results.Count + 1) { headers };
        foreach (WorkloadResult r in results)
        {
            StandardWorkload w = r.Workload;
            string[] row = [w.Name, Integer(w.Steps), Integer(w.Batch), Integer(w.InputSize), Integer(w.HiddenSize),
                Number(r.MedianMicroseconds), Number(r.MicrosecondsPerStep), Number(r.Gflops), Number(r.PercentOfPeak),
                Integer(r.AllocatedBytes), r.Isa, Integer(r.Threads)];
            if (floors)
            {
                row = r.Floor is { } floor
                    ? [.. row, Number(floor.Microseconds), Number(r.PercentOfFloor!.Value), BoundName(floor)]
                    : [.. row, "", "", ""];
            }

            rows.Add(row);
        }

        var widths = new int[headers.Length];
        foreach (string[] row in rows)
        {
            for (int c = 0; c < row.Length; c++) widths[c] = Math.Max(widths[c], row[c].Length);
        }

        foreach (string[] row in rows)
        {
            for (int c = 0; c < row.Length; c++)
            {
                // Text columns align left, numbers right.
                bool text = headers[c] is "workload" or "isa" or "bound";
                string cell = text ? row[c].PadRight(widths[c]) : row[c].PadLeft(widths[c]);
                writer.Write(c == 0 ? cell : "  " + cell);
            }

            writer.WriteLine();
        }
    }

    /// <summary>
    /// A JSON array with one object per result: <c>workload</c>, <c>threads</c>, <c>isa</c>, <c>clock</c> (wall or thread-cpu), <c>median_us</c>,
    /// <c>min_us</c>, <c>us_per_step</c>, <c>gflops</c>, <c>percent_of_peak</c> (of <c>peak_gflops</c>, one core's FMA peak at that width, times threads), <c>allocated_bytes</c>, the shape
    /// (<c>steps</c>, <c>batch</c>, <c>input_size</c>, <c>hidden_size</c>) and the sampling (<c>samples</c>, <c>calls_per_sample</c>); with a
    /// measured roofline also <c>floor_us</c>, <c>percent_of_floor</c>, <c>floor_bound</c> (compute or bandwidth),
    /// <c>streamed_bytes_per_step</c> and <c>bandwidth_gbs</c>.
    /// </summary>
    public static void WriteJson(Stream stream, IReadOnlyList<WorkloadResult> results)
    {
        ArgumentNullException.ThrowIfNull(stream);
        ArgumentNullException.ThrowIfNull(results);
        using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
        json.WriteStartArray();
        foreach (WorkloadResult r in results)
        {
            StandardWorkload w = r.Workload;
            json.WriteStartObject();
            json.WriteString("workload", w.Name);
            json.WriteString("cell", w.Cell switch { WorkloadCell.Gru => "gru", WorkloadCell.GruOriginal => "gru-original", _ => "lstm" });
            json.WriteNumber("threads", r.Threads);
            json.WriteString("isa", r.Isa);
            json.WriteString("clock", r.Clock == CallClock.ThreadCpu ? "thread-cpu" : "wall");
            json.WriteNumber("median_us", Round(r.MedianMicroseconds));
            json.WriteNumber("min_us", Round(r.Timing.MinMicroseconds));
            json.WriteNumber("us_per_step", Round(r.MicrosecondsPerStep));
            json.WriteNumber("gflops", Round(r.Gflops));
            json.WriteNumber("percent_of_peak", Round(r.PercentOfPeak));
            json.WriteNumber("peak_gflops", Round(r.PeakGflops));
            json.WriteNumber("allocated_bytes", r.AllocatedBytes);
            json.WriteNumber("steps", w.Steps);
            json.WriteNumber("batch", w.Batch);
            json.WriteNumber("input_size", w.InputSize);
            json.WriteNumber("hidden_size", w.HiddenSize);
            json.WriteNumber("samples", r.Timing.Samples);
            json.WriteNumber("calls_per_sample", r.Timing.CallsPerSample);
            if (r.Floor is { } floor)
            {
                json.WriteNumber("floor_us", Round(floor.Microseconds));
                json.WriteNumber("percent_of_floor", Round(r.PercentOfFloor!.Value));
                json.WriteString("floor_bound", floor.Bound == RooflineBound.Compute ? "compute" : "bandwidth");
                json.WriteNumber("streamed_bytes_per_step", floor.StreamedBytes);
                json.WriteNumber("bandwidth_gbs", Round(floor.BandwidthGBs));
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
    }

    /// <summary>"compute", or "stream 64 KiB @ 85 GB/s": what the floor is made of.</summary>
    private static string BoundName(RooflineFloor floor) => floor.Bound == RooflineBound.Compute
        ? "compute"
        : $"stream {Size(floor.StreamedBytes)} @ {Number(floor.BandwidthGBs)} GB/s";

    /// <summary>A byte count in KiB or MiB.</summary>
    public static string Size(long bytes) => bytes >= 1 << 20
        ? $"{(bytes / (double)(1 << 20)).ToString("0.#", CultureInfo.InvariantCulture)} MiB"
        : $"{(bytes / 1024.0).ToString("0.#", CultureInfo.InvariantCulture)} KiB";

    // Four significant digits: more than the run-to-run noise of a shared machine.
    private static double Round(double value) =>
        value == 0 || !double.IsFinite(value) ? value : Math.Round(value, Math.Max(0, 3 - (int)Math.Floor(Math.Log10(Math.Abs(value)))));

    private static string Number(double value) => Round(value).ToString(value >= 1000 ? "N0" : "G4", CultureInfo.InvariantCulture);

    private static string Integer(long value) => value.ToString(CultureInfo.InvariantCulture);
}
