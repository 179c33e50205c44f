using System.CommandLine;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LstmSimd.Kernels;

namespace LstmSimd.Cli.Commands;

internal static class InfoCommand
{
    public static Command Create()
    {
        var command = new Command("info", "Show the runtime, the CPU's vector features and the kernel path LstmSimd picks.");
        command.SetAction(_ =>
        {
            Console.WriteLine($"runtime        {RuntimeInformation.FrameworkDescription} ({RuntimeInformation.RuntimeIdentifier})");
            Console.WriteLine($"os             {RuntimeInformation.OSDescription}");
            Console.WriteLine($"cpu            {CpuName()} ({Environment.ProcessorCount} logical cores)");
            Console.WriteLine($"isa            {string.Join(' ', IsaFeatures())}");
            Console.WriteLine($"vectors        Vector128 {Accelerated(Vector128.IsHardwareAccelerated)}, Vector256 {Accelerated(Vector256.IsHardwareAccelerated)}, Vector512 {Accelerated(Vector512.IsHardwareAccelerated)}; Vector<float> holds {Vector<float>.Count}");
            string? forced = Environment.GetEnvironmentVariable(KernelSelector.EnvironmentVariable);
            Console.WriteLine($"kernel path    {KernelSelector.Resolve(KernelPath.Auto)}{(string.IsNullOrEmpty(forced) ? " (widest accelerated)" : $" (forced by {KernelSelector.EnvironmentVariable}={forced})")}");
            if (KernelSelector.NarrowerThanCpuReason is { } narrower) Console.WriteLine($"note           {narrower}");
            Console.WriteLine($"runnable       {string.Join(", ", KernelSelector.All.Select(p => KernelSelector.IsAccelerated(p) ? p.ToString() : $"{p} (software)"))}");
            Console.WriteLine($"int8 products  {KernelSelector.IntegerDotInstructions(KernelPath.Auto)}");
            return 0;
        });
        return command;
    }

    internal static string CpuName()
    {
        try
        {
            if (File.Exists("/proc/cpuinfo"))
            {
                string? line = File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal));
                if (line is not null) return line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim();
            }
        }
        catch (IOException)
        {
        }

        return RuntimeInformation.ProcessArchitecture.ToString();
    }

    internal static IEnumerable<string> IsaFeatures()
    {
        if (System.Runtime.Intrinsics.X86.Sse42.IsSupported) yield return "SSE4.2";
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) yield return "AVX2";
        if (System.Runtime.Intrinsics.X86.Fma.IsSupported) yield return "FMA";
        if (System.Runtime.Intrinsics.X86.Avx512F.IsSupported) yield return "AVX-512F";
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) yield return "AVX-512BW";
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) yield return "AVX-VNNI";
        if (System.Runtime.Intrinsics.Arm.Dp.IsSupported) yield return "DotProd";
        if (System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported) yield return "NEON";
        if (!Vector128.IsHardwareAccelerated) yield return "(hardware intrinsics off)";
    }

    private static string Accelerated(bool value) => value ? "hardware" : "software";
}
