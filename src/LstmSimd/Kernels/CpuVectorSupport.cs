using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics.X86;

namespace LstmSimd.Kernels;

/// <summary>
/// The widest kernel width the CPU and operating system offer, read from the CPU itself rather than from what this
/// process was compiled or configured for, so that a process running narrower kernels than the machine has
/// (a NativeAOT build for a baseline instruction set, an ISA switch in the environment) can say so instead of
/// running slowly in silence.
/// </summary>
internal static class CpuVectorSupport
{
    /// <summary>The widest width the hardware offers.</summary>
    public static KernelPath Widest { get; } = Detect();

    /// <summary>Why <paramref name="running"/> is narrower than <see cref="Widest"/>, or null when it is not.</summary>
    public static string? ShortfallReason(KernelPath running)
    {
        if (Rank(running) >= Rank(Widest)) return null;
        string what = $"the CPU offers {Widest} kernels but this process runs {running}";
        if (!RuntimeFeature.IsDynamicCodeSupported)
            return $"{what}: it was compiled ahead of time (NativeAOT) for a narrower instruction set; publish with -p:IlcInstructionSet=native (or x86-64-v4 for AVX-512, x86-64-v3 for AVX2) to get the widest kernels.";

        string[] switches = ["DOTNET_EnableHWIntrinsic", "DOTNET_EnableAVX512", "DOTNET_EnableAVX2", "DOTNET_EnableAVX", "DOTNET_PreferredVectorBitWidth"];
        string? set = switches.FirstOrDefault(name => !string.IsNullOrEmpty(Environment.GetEnvironmentVariable(name)));
        return set is not null
            ? $"{what}: the environment sets {set}={Environment.GetEnvironmentVariable(set)}."
            : $"{what}: the .NET runtime does not accelerate the wider vectors on this CPU by default.";
    }

    private static int Rank(KernelPath path) => path switch
    {
        KernelPath.Vector512 => 3,
        KernelPath.Vector256 => 2,
        KernelPath.Vector128 => 1,
        _ => 0,
    };

    private static KernelPath Detect()
    {
        if (RuntimeInformation.ProcessArchitecture is Architecture.Arm64) return KernelPath.Vector128;
        if (RuntimeInformation.ProcessArchitecture is not (Architecture.X64 or Architecture.X86) || !X86Base.IsSupported) return KernelPath.Scalar;

        // Linux lists only the features whose register state the kernel saves, which CPUID alone cannot tell (XCR0).
        HashSet<string>? flags = LinuxCpuFlags();
        if (flags is not null)
        {
            return flags.Contains("avx512f") ? KernelPath.Vector512
                : flags.Contains("avx2") && flags.Contains("fma") ? KernelPath.Vector256
                : flags.Contains("sse4_1") ? KernelPath.Vector128
                : KernelPath.Scalar;
        }

        const int OsXSave = 1 << 27, Fma = 1 << 12, Sse41 = 1 << 19, Avx2 = 1 << 5, Avx512F = 1 << 16;
        (_, _, int ecx1, _) = X86Base.CpuId(1, 0);
        (_, int ebx7, _, _) = X86Base.CpuId(7, 0);
        bool osSavesAvx = (ecx1 & OsXSave) != 0;
        return osSavesAvx && (ebx7 & Avx512F) != 0 ? KernelPath.Vector512
            : osSavesAvx && (ebx7 & Avx2) != 0 && (ecx1 & Fma) != 0 ? KernelPath.Vector256
            : (ecx1 & Sse41) != 0 ? KernelPath.Vector128
            : KernelPath.Scalar;
    }

    private static HashSet<string>? LinuxCpuFlags()
    {
        const string CpuInfo = "/proc/cpuinfo";
        if (!OperatingSystem.IsLinux() || !File.Exists(CpuInfo)) return null;
        try
        {
            string? line = File.ReadLines(CpuInfo).FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal));
            return line is null ? null : [.. line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries)];
        }
        catch (IOException)
        {
            return null;
        }
        catch (UnauthorizedAccessException)
        {
            return null;
        }
    }
}
