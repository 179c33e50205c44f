using BenchmarkDotNet.Columns;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Engines;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Perfolizer.Horology;

namespace LstmSimd.Benchmarks.Infrastructure;

/// <summary>Which set of jobs a run uses; chosen by Program from its first argument.</summary>
public enum BenchMode
{
    /// <summary>One job on this machine's native ISA, short iterations: the machine is shared, so runs stay short and results are ratios.</summary>
    Default,

    /// <summary>One job per ISA setting, each expecting the kernel path its switches give (see <see cref="IsaCheck"/>).</summary>
    Isa,

    /// <summary>In-process, one iteration per case: checks that every benchmark runs, in seconds; numbers mean nothing.</summary>
    Smoke,
}

public static class BenchConfigs
{
    /// <summary>The mode of this run; class-level configs (the first-call jobs) read it, so that a smoke run stays in-process.</summary>
    public static BenchMode Mode { get; set; } = BenchMode.Default;

    /// <summary>The runtime switches of each ISA job and the kernel path each must give on an AVX-512 machine (this project's runner).</summary>
    /// <remarks>
    /// In .NET 10 <c>EnableAVX512F</c>, <c>EnableFMA</c> and <c>EnableSSE41</c> are ignored; <c>EnableAVX512=0</c> leaves AVX2+FMA,
    /// <c>PreferredVectorBitWidth=128</c> keeps FMA on 128-bit vectors, <c>EnableAVX2=0</c> drops FMA as well, and
    /// <c>EnableHWIntrinsic=0</c> leaves scalar code.
    /// </remarks>
    public static IReadOnlyList<(string Id, string? Variable, string? Value, string? Expected)> IsaSettings { get; } =
    [
        ("native", null, null, null),
        ("avx512-off", "DOTNET_EnableAVX512", "0", "vector256"),
        ("width128", "DOTNET_PreferredVectorBitWidth", "128", "vector128"),
        ("avx2-off", "DOTNET_EnableAVX2", "0", "vector128"),
        ("hwintrinsic-off", "DOTNET_EnableHWIntrinsic", "0", "scalar"),
    ];

    public static IConfig Create(BenchMode mode)
    {
        ManualConfig config = ManualConfig.CreateEmpty()
            .AddColumnProvider(DefaultColumnProviders.Instance)
            .AddLogger(BenchmarkDotNet.Loggers.ConsoleLogger.Default)
            .AddExporter(BenchmarkDotNet.Exporters.MarkdownExporter.GitHub)
            .AddExporter(BenchmarkDotNet.Exporters.Csv.CsvExporter.Default)
            .AddDiagnoser(MemoryDiagnoser.Default)
            .AddColumn(FlopColumn.Gflops, FlopColumn.PercentOfPeak)
            .AddColumn(StatisticColumn.Median)
            .HideColumns(Column.Error)
            .WithOrderer(new BenchmarkDotNet.Order.DefaultOrderer(BenchmarkDotNet.Order.SummaryOrderPolicy.Declared))
            .WithSummaryStyle(SummaryStyle.Default.WithRatioStyle(RatioStyle.Trend))
            .AddValidator(BenchmarkDotNet.Validators.JitOptimizationsValidator.FailOnError);
        switch (mode)
        {
            case BenchMode.Smoke:
                config.AddJob(Job.Dry.WithToolchain(InProcessEmitToolchain.Instance).WithId("smoke"));
                break;
            case BenchMode.Isa:
                foreach ((string id, string? variable, string? value, string? expected) in IsaSettings)
                {
                    Job job = Short.WithId(id);
                    if (variable is not null) job = job.WithEnvironmentVariable(variable, value!).WithEnvironmentVariable(IsaCheck.ExpectedPathVariable, expected!);
                    config.AddJob(job);
                }

                break;
            default:
                config.AddJob(Short.WithId("native"));
                break;
        }

        return config;
    }

    /// <summary>Few, short iterations: the machine is shared by several engineers and a long run only collects more noise.</summary>
    private static Job Short { get; } = Job.Default
        .WithLaunchCount(1)
        .WithWarmupCount(3)
        .WithIterationCount(9)
        .WithIterationTime(TimeInterval.FromMilliseconds(120));

    /// <summary>
    /// Each launch times its first calls one by one (no jitting stage, one call per iteration): as shipped, with tiered
    /// compilation off (every method optimised before its first call: the floor), and with every method at tier-0 code quality
    /// (<c>DOTNET_JITMinOpts=1</c>: what a kernel without <c>AggressiveOptimization</c> runs at until it is promoted).
    /// </summary>
    public sealed class FirstCallConfig : ManualConfig
    {
        public FirstCallConfig()
        {
            if (Mode == BenchMode.Smoke) return;
            Job cold = Job.Default.WithStrategy(RunStrategy.ColdStart).WithLaunchCount(5).WithWarmupCount(0).WithIterationCount(20)
                .WithInvocationCount(1).WithUnrollFactor(1);
            AddJob(cold.WithId("first-calls"));
            AddJob(cold.WithEnvironmentVariable("DOTNET_TieredCompilation", "0").WithId("first-tiering-off"));
            AddJob(cold.WithEnvironmentVariable("DOTNET_JITMinOpts", "1").WithId("first-tier0-everywhere"));
            AddColumn(new FirstIterationColumn());
        }
    }
}
