using System.Text.Json;
using LstmSimd.Benchmarking;
using Xunit;
using LstmSimd.Kernels;

namespace LstmSimd.Tests.Benchmarking;

/// <summary>The shapes of <c>lstmsimd bench</c>'s output: scripts read the JSON, people read the table.</summary>
public class BenchmarkReportTests
{
    private static readonly WorkloadResult[] Results =
    [
        new(StandardWorkload.Get("seq-h256"), 1, KernelPath.Vector256, new CallTiming(1600.123, 1500, 40, 3, 0), PeakGflops: 100),
        new(StandardWorkload.Get("step-h64"), 2, KernelPath.Scalar, new CallTiming(1.25, 1.2, 200, 4000, 8), PeakGflops: 10),
    ];

    [Fact]
    public void Json_is_an_array_with_one_object_per_result_and_the_documented_fields()
    {
        using var stream = new MemoryStream();
        BenchmarkReport.WriteJson(stream, Results);
        using JsonDocument json = JsonDocument.Parse(stream.ToArray());
        Assert.Equal(JsonValueKind.Array, json.RootElement.ValueKind);
        Assert.Equal(2, json.RootElement.GetArrayLength());

        JsonElement first = json.RootElement[0];
        Assert.Equal("seq-h256", first.GetProperty("workload").GetString());
        Assert.Equal(1, first.GetProperty("threads").GetInt32());
        Assert.Equal("vector256", first.GetProperty("isa").GetString());
        Assert.Equal(1600, first.GetProperty("median_us").GetDouble());
        Assert.Equal(0, first.GetProperty("allocated_bytes").GetInt64());
        double gflops = first.GetProperty("gflops").GetDouble();
        Assert.InRange(gflops, 65.5, 65.6); // 2·4·256·512·100 FLOP in 1600.123 µs
        Assert.Equal(16, first.GetProperty("us_per_step").GetDouble());
        Assert.InRange(first.GetProperty("percent_of_peak").GetDouble(), 65.5, 65.6);

        JsonElement second = json.RootElement[1];
        Assert.Equal("scalar", second.GetProperty("isa").GetString());
        Assert.Equal(2, second.GetProperty("threads").GetInt32());
        Assert.Equal(8, second.GetProperty("allocated_bytes").GetInt64());
        foreach (string field in new[] { "min_us", "percent_of_peak", "peak_gflops", "steps", "batch", "input_size", "hidden_size", "samples", "calls_per_sample" })
            Assert.Equal(JsonValueKind.Number, second.GetProperty(field).ValueKind);
    }

    [Fact]
    public void The_table_has_a_header_and_one_aligned_row_per_result()
    {
        using var writer = new StringWriter();
        BenchmarkReport.WriteTable(writer, Results);
        string[] lines = writer.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(3, lines.Length);
        Assert.StartsWith("workload", lines[0], StringComparison.Ordinal);
        Assert.Contains("µs/call", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("seq-h256", lines[1], StringComparison.Ordinal);
        Assert.Contains("vector256", lines[1], StringComparison.Ordinal);
        Assert.Equal(lines[0].Length, lines[1].Length);
        Assert.Equal(lines[0].Length, lines[2].Length);
    }

    [Fact]
    public void The_peak_override_accepts_only_a_positive_number()
    {
        Assert.Equal(120.5, FmaPeak.Parse("120.5"));
        Assert.Null(FmaPeak.Parse(null));
        Assert.Null(FmaPeak.Parse("-3"));
        Assert.Null(FmaPeak.Parse("fast"));
    }

    [Fact]
    public void The_measured_peak_is_positive_and_wider_paths_are_not_measured_as_scalar()
    {
        Assert.True(FmaPeak.Measure(KernelPath.Scalar) > 0);
        Assert.True(FmaPeak.Measure(KernelPath.Vector128) > 0);
    }
}
