using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using LstmSimd.IO;

namespace LstmSimd.Kernels;

/// <summary>
/// The one place that decides which kernel width runs. Order: widest hardware-accelerated first
/// (Vector512 → Vector256 → Vector128 → scalar), because batch-1 steps are bound by how fast weights stream
/// and wider loads move more of them per instruction; an explicit request or the <c>LSTMSIMD_KERNEL</c>
/// environment variable (scalar, vector128, vector256, vector512) overrides it, so a whole test suite can run once per width.
/// </summary>
public static class KernelSelector
{
    /// <summary>The environment variable that forces a width when a model asks for <see cref="KernelPath.Auto"/>.</summary>
    public const string EnvironmentVariable = "LSTMSIMD_KERNEL";

    /// <summary>The widest width this process runs in hardware.</summary>
    public static KernelPath Best { get; } =
        Vector512.IsHardwareAccelerated ? KernelPath.Vector512
        : Vector256.IsHardwareAccelerated ? KernelPath.Vector256
        : Vector128.IsHardwareAccelerated ? KernelPath.Vector128
        : KernelPath.Scalar;

    /// <summary>The widest width the CPU and operating system offer, whatever this process was compiled or configured for.</summary>
    public static KernelPath CpuWidest => CpuVectorSupport.Widest;

    /// <summary>
    /// Why <see cref="Best"/> is narrower than <see cref="CpuWidest"/> (a NativeAOT build for a baseline instruction set,
    /// an ISA switch in the environment), or null when this process runs the widest kernels the CPU has.
    /// </summary>
    public static string? NarrowerThanCpuReason => CpuVectorSupport.ShortfallReason(Best);

    /// <summary>The instructions Int8 weights' integer products use on <paramref name="path"/> in this process.</summary>
    public static string IntegerDotInstructions(KernelPath path) => Create(path, WeightFormat.Int8).IntegerDotInstructions;

    /// <summary>Every width, widest first. All of them run anywhere; those not accelerated run in software, slowly.</summary>
    public static IReadOnlyList<KernelPath> All { get; } = [KernelPath.Vector512, KernelPath.Vector256, KernelPath.Vector128, KernelPath.Scalar];

    /// <summary>Whether <paramref name="path"/> runs on vector hardware in this process (scalar always does).</summary>
    public static bool IsAccelerated(KernelPath path) => path switch
    {
        KernelPath.Vector512 => Vector512.IsHardwareAccelerated,
        KernelPath.Vector256 => Vector256.IsHardwareAccelerated,
        KernelPath.Vector128 => Vector128.IsHardwareAccelerated,
        KernelPath.Scalar => true,
        _ => throw new ArgumentOutOfRangeException(nameof(path), path, "Auto is not a concrete width."),
    };

    /// <summary>Turns <see cref="KernelPath.Auto"/> into a concrete width: the environment variable if set, else <see cref="Best"/>.</summary>
    public static KernelPath Resolve(KernelPath requested)
    {
        if (requested != KernelPath.Auto)
        {
            if (!Enum.IsDefined(requested)) throw new ArgumentOutOfRangeException(nameof(requested), requested, "Unknown kernel path.");
            return requested;
        }

        string? forced = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (string.IsNullOrWhiteSpace(forced)) return Best;
        if (Enum.TryParse(forced.Trim(), ignoreCase: true, out KernelPath path) && path != KernelPath.Auto && Enum.IsDefined(path)) return path;
        throw new InvalidOperationException($"{EnvironmentVariable}={UserText.Quote(forced)} is not one of scalar, vector128, vector256, vector512.");
    }

    /// <summary>The kernels of <paramref name="path"/> over panels of <paramref name="format"/> (Float16 panels in <paramref name="codes"/>).</summary>
    internal static KernelSet Create(KernelPath path, WeightFormat format = WeightFormat.Float32, Float16Codes codes = Float16Codes.Normalised) => Resolve(path) switch
    {
        KernelPath.Vector512 => Create<Vec512>(KernelPath.Vector512, format, codes),
        KernelPath.Vector256 => Create<Vec256>(KernelPath.Vector256, format, codes),
        KernelPath.Vector128 => Create<Vec128>(KernelPath.Vector128, format, codes),
        _ => Create<VecScalar>(KernelPath.Scalar, format, codes),
    };

    private static KernelSet Create<TVec>(KernelPath path, WeightFormat format, Float16Codes codes) where TVec : struct, ISimdVector<TVec> => format switch
    {
        WeightFormat.Float32 => new KernelSet<TVec, Float32Weights>(path),
        WeightFormat.Float16 when codes == Float16Codes.Ieee => new KernelSet<TVec, Float16IeeeWeights>(path),
        WeightFormat.Float16 => new KernelSet<TVec, Float16Weights>(path),
        WeightFormat.BFloat16 => new KernelSet<TVec, BFloat16Weights>(path),
        WeightFormat.Int8 => new KernelSet<TVec, Int8Weights>(path),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weight format."),
    };
}
