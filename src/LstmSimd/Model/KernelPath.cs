namespace LstmSimd;

/// <summary>Which vector width the kernels run at.</summary>
public enum KernelPath
{
    /// <summary>The widest width this CPU accelerates, unless the <c>LSTMSIMD_KERNEL</c> environment variable names one.</summary>
    Auto,

    /// <summary>One float at a time: the fallback when hardware intrinsics are off.</summary>
    Scalar,

    /// <summary>128-bit vectors: SSE on x64, NEON on Arm64.</summary>
    Vector128,

    /// <summary>256-bit vectors: AVX2 with FMA.</summary>
    Vector256,

    /// <summary>512-bit vectors: AVX-512 (runs in software, slowly, on CPUs without it).</summary>
    Vector512,
}
