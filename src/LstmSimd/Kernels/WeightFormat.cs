namespace LstmSimd;

/// <summary>
/// How a model stores its weight matrices (W_ih, W_hh, W_hr). Biases, states and every sum stay fp32; compressed
/// formats are widened to fp32 in registers inside the kernels, so they trade a bounded error (documented per
/// format in the README) for fewer bytes streamed per step, which is what bounds a batch-1 step.
/// </summary>
public enum WeightFormat
{
    /// <summary>IEEE single precision: 4 bytes a weight, the reference answer.</summary>
    Float32,

    /// <summary>IEEE half precision (10-bit mantissa): 2 bytes a weight, rounded to nearest even; weights beyond ±65504 or not finite are refused.</summary>
    Float16,

    /// <summary>bfloat16 (fp32's exponent, 7-bit mantissa): 2 bytes a weight, rounded to nearest even.</summary>
    BFloat16,
}
