using LstmSimd.Kernels;
using Xunit;

namespace LstmSimd.Tests.Kernels;

public class KernelSelectionTests
{
    /// <summary>
    /// CI runs the suite once per ISA setting and says which path each run must pick (LSTMSIMD_EXPECT_PATH):
    /// an ISA switch that silently did nothing would otherwise test the same path twice.
    /// </summary>
    [Fact]
    public void The_automatic_path_is_the_one_this_run_expects()
    {
        string? expected = Environment.GetEnvironmentVariable("LSTMSIMD_EXPECT_PATH");
        KernelPath chosen = KernelSelector.Resolve(KernelPath.Auto);
        if (string.IsNullOrEmpty(expected))
        {
            Assert.Equal(KernelSelector.Best, chosen);
            Assert.True(KernelSelector.IsAccelerated(chosen));
            return;
        }

        Assert.Equal(Enum.Parse<KernelPath>(expected, ignoreCase: true), chosen);
        Assert.Equal(chosen, LstmModel.Create(LstmWeights.CreateRandom(new LstmSpec(3, 4), 1)).KernelPath);
    }

    [Fact]
    public void An_explicit_path_is_honoured_even_where_it_runs_in_software()
    {
        foreach (KernelPath path in KernelSelector.All)
            Assert.Equal(path, LstmModel.Create(LstmWeights.CreateRandom(new LstmSpec(3, 4), 1), new LstmModelOptions { Kernel = path }).KernelPath);
    }

    [Fact]
    public void The_best_path_is_the_widest_accelerated_one()
    {
        KernelPath widest = KernelSelector.All.First(KernelSelector.IsAccelerated);
        Assert.Equal(widest, KernelSelector.Best);
    }

    [Fact]
    public void The_cpu_offers_at_least_what_runs_in_hardware()
    {
        KernelPath[] widestFirst = [.. KernelSelector.All];
        Assert.True(Array.IndexOf(widestFirst, KernelSelector.CpuWidest) <= Array.IndexOf(widestFirst, KernelSelector.Best),
            $"CPU offers {KernelSelector.CpuWidest}, the process runs {KernelSelector.Best} in hardware");
    }

    /// <summary>Under CI's ISA switches the process runs narrower than the CPU, and must say which switch did it.</summary>
    [Fact]
    public void A_process_narrower_than_the_cpu_says_why()
    {
        string? reason = KernelSelector.NarrowerThanCpuReason;
        if (KernelSelector.Best == KernelSelector.CpuWidest)
        {
            Assert.Null(reason);
            return;
        }

        Assert.NotNull(reason);
        Assert.Contains(KernelSelector.CpuWidest.ToString(), reason, StringComparison.Ordinal);
        string[] switches = ["DOTNET_EnableHWIntrinsic", "DOTNET_EnableAVX512", "DOTNET_EnableAVX2", "DOTNET_PreferredVectorBitWidth"];
        string? set = switches.FirstOrDefault(name => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)));
        if (set is not null) Assert.Contains(set, reason, StringComparison.Ordinal);
    }
}
