using System.Runtime.Intrinsics;
using LstmSimd.Kernels;

namespace LstmSimd.Benchmarks.Infrastructure;

/// <summary>
/// Every benchmark process prints the kernel path it runs, and fails when its job expected another one:
/// a job that switches an ISA off (DOTNET_EnableAVX2=0, …) must really have moved LstmSimd to a narrower path.
/// </summary>
public static class IsaCheck
{
    /// <summary>Set by a job to the path (scalar, vector128, vector256, vector512) its runtime switches must give.</summary>
    public const string ExpectedPathVariable = "LSTMSIMD_EXPECT_PATH";

    public static void Verify(KernelPath actual)
    {
        string expected = Environment.GetEnvironmentVariable(ExpectedPathVariable) ?? "";
        Console.WriteLine($"// LstmSimd kernel path: {actual.ToString().ToLowerInvariant()} (auto picks {KernelSelector.Best.ToString().ToLowerInvariant()}; "
            + $"Vector512/256/128 accelerated: {Vector512.IsHardwareAccelerated}/{Vector256.IsHardwareAccelerated}/{Vector128.IsHardwareAccelerated}"
            + (expected.Length > 0 ? $"; job expects {expected})" : ")"));
        if (expected.Length > 0 && !string.Equals(expected, actual.ToString(), StringComparison.OrdinalIgnoreCase))
            throw new InvalidOperationException($"This job expects kernel path {expected} but LstmSimd runs {actual}: the job's runtime switches did not take effect.");
    }
}
