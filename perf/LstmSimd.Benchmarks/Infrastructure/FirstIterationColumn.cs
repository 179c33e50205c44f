using System.Globalization;
using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;

namespace LstmSimd.Benchmarks.Infrastructure;

/// <summary>The median over launches of the very first call's time (JIT included), in µs: what a latency-sensitive app sees once.</summary>
public sealed class FirstIterationColumn : IColumn
{
    public string Id => "FirstCall";
    public string ColumnName => "1st call µs";
    public bool AlwaysShow => true;
    public ColumnCategory Category => ColumnCategory.Custom;
    public int PriorityInCategory => 2;
    public bool IsNumeric => true;
    public UnitType UnitType => UnitType.Dimensionless;
    public string Legend => "Median over launches of the first iteration (one call, JIT included), µs";
    public bool IsAvailable(Summary summary) => true;
    public bool IsDefault(Summary summary, BenchmarkCase benchmarkCase) => false;
    public string GetValue(Summary summary, BenchmarkCase benchmarkCase) => GetValue(summary, benchmarkCase, SummaryStyle.Default);

    public string GetValue(Summary summary, BenchmarkCase benchmarkCase, SummaryStyle style)
    {
        BenchmarkReport? report = summary[benchmarkCase];
        if (report is null) return "-";
        double[] first = report.AllMeasurements
            .Where(m => m.IterationMode == IterationMode.Workload && m.IterationStage == IterationStage.Actual && m.IterationIndex == 1)
            .Select(m => m.Nanoseconds / m.Operations / 1e3)
            .Order()
            .ToArray();
        return first.Length == 0 ? "-" : first[first.Length / 2].ToString("F1", CultureInfo.InvariantCulture);
    }

    public override string ToString() => ColumnName;
}
