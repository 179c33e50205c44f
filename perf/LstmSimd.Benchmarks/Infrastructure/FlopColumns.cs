using System.Globalization;
using System.Reflection;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarking;

namespace LstmSimd.Benchmarks.Infrastructure;

/// <summary>A benchmark class whose operations have a known floating-point operation count (an FMA counts as two).</summary>
public interface IFlopCounted
{
    /// <summary>FLOP per benchmark operation for this case (its parameters and method), or 0 when not counted.</summary>
    static abstract double FlopPerOperation(BenchmarkCase benchmarkCase);
}

/// <summary>GFLOP/s at the mean time, and the same as a percentage of one core's FMA peak (<see cref="FmaPeak.For"/>).</summary>
public sealed class FlopColumn(bool percentOfPeak) : IColumn
{
    public static readonly IColumn Gflops = new FlopColumn(percentOfPeak: false);
    public static readonly IColumn PercentOfPeak = new FlopColumn(percentOfPeak: true);

    public string Id => percentOfPeak ? "PercentOfPeak" : "GFLOPs";
    public string ColumnName => percentOfPeak ? "% peak" : "GFLOP/s";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => percentOfPeak ? 1 : 0;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => percentOfPeak
        ? $"GFLOP/s as a percentage of one core's FMA peak at the case's width (Path parameter, else the job's ISA), measured by the host ({FmaPeak.EnvironmentVariable} sets it)"
        : "Floating-point operations per second at the mean time, an FMA counting as two";

    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        double? meanNs = summary[benchmarkCase]?.ResultStatistics?.Mean;
        double flop = Flop(benchmarkCase);
        if (meanNs is not > 0 || flop <= 0) return "-";
        double gflops = flop / meanNs.Value;
        return (percentOfPeak ? 100 * gflops / FmaPeak.For(PathOf(benchmarkCase)) : gflops).ToString("F1", CultureInfo.InvariantCulture);
    }

    /// <summary>The kernel width a case runs: its Path parameter, else what its ISA job expects, else the host's widest.</summary>
    private static KernelPath PathOf(BenchmarkCase benchmarkCase)
    {
        if (benchmarkCase.Parameters.Items.FirstOrDefault(p => p.Name == "Path")?.Value is KernelPath path) return path;
        string? expected = BenchConfigs.IsaSettings.FirstOrDefault(s => s.Id == benchmarkCase.Job.Id).Expected;
        return Enum.TryParse(expected, ignoreCase: true, out KernelPath fromJob) ? fromJob : KernelPath.Auto;
    }

    public override string ToString() => ColumnName;

    private static double Flop(BenchmarkCase benchmarkCase)
    {
        Type type = benchmarkCase.Descriptor.Type;
        if (!typeof(IFlopCounted).IsAssignableFrom(type)) return 0;
        MethodInfo? method = type.GetMethod(nameof(IFlopCounted.FlopPerOperation), BindingFlags.Public | BindingFlags.Static, [typeof(BenchmarkCase)]);
        return method?.Invoke(null, [benchmarkCase]) is double flop ? flop : 0;
    }
}
