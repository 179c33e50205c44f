using System.Runtime.CompilerServices;
using LstmSimd.IO;

namespace LstmSimd.Kernels;

/// <summary>The kernels of one width and weight format behind one virtual call per layer step, so callers never branch on the ISA.</summary>
internal abstract class KernelSet(KernelPath path, int width, WeightFormat format, Float16Codes float16Codes)
{
    public KernelPath Path { get; } = path;

    /// <summary>How the panels these kernels read are stored.</summary>
    public WeightFormat Format { get; } = format;

    /// <summary>How the Float16 panels these kernels read code their halves (Float16 kernels only).</summary>
    public Float16Codes Float16Codes { get; } = float16Codes;

    /// <summary>Floats per vector: the hidden-unit block of the packed panels.</summary>
    public int Width { get; } = width;

    public abstract void Step(scoped in CellStepArgs args);

    /// <summary>A whole batch-1 sequence of the standard cell or a GRU over <paramref name="recurrent"/> (see <see cref="CellKernels{TVec, TFormat}.Sequence"/>).</summary>
    public abstract void Sequence(PackedPanel recurrent, scoped in SequenceArgs args);

    /// <summary>The instructions this width's Int8 products use in this process.</summary>
    public abstract string IntegerDotInstructions { get; }

    /// <summary>Whether the kernels read activations as <see cref="QuantizedRows"/> (Int8 panels) rather than as floats.</summary>
    public bool QuantizesActivations => Format == WeightFormat.Int8;

    /// <summary>Floats to widen a recurrent panel once for steps of <paramref name="rows"/> rows, 0 where they would not widen it (see <see cref="CellKernels{TVec, TFormat}.WidenedPanelFloats"/>).</summary>
    public abstract int WidenedPanelFloats(PackedPanel panel, int rows);

    /// <summary>A 16-bit panel widened to fp32 for a call's steps (see <see cref="CellKernels{TVec, TFormat}.WidenPanel"/>).</summary>
    public abstract void WidenPanel(PackedPanel panel, Span<float> destination);

    public abstract void InputProjection(PackedPanel panel, ReadOnlySpan<float> packedBias, ReadOnlySpan<float> x, int xRowStride, int rows, Span<float> gx, int blockStart, int blockEnd);

    public abstract void Project(PackedPanel panel, ref float h, int hRowStride, ref float y, int yRowStride, int rows, ReadOnlySpan<byte> active, int blockStart, int blockEnd);

    /// <summary>An ONNX cell variant's update from pre-activations (see <see cref="VariantCellKernels{TVec}.Update"/>).</summary>
    public abstract void VariantCell(CellVariant cell, ReadOnlySpan<float> peepholes, ref float pre, int preRowStride, ref float c, int cRowStride,
        ref float hOut, int hOutRowStride, int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active);

    /// <summary>The GRU's update from pre-activations in the four gate slots, gates r and z by <paramref name="gate"/> (see <see cref="GruCellKernels{TVec}.Update"/>).</summary>
    public abstract void GruCell(Activation gate, ref float pre, int preRowStride, ref float h, int hRowStride, ref float hOut, int hOutRowStride,
        int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active, bool afterReset = false);

    /// <summary>The original GRU's r ⊙ h between its two product phases (see <see cref="GruCellKernels{TVec}.ResetState"/>).</summary>
    public abstract void GruResetState(Activation gate, ref float pre, int preRowStride, ref float h, int hRowStride, ref float gated, int gatedRowStride,
        int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active);

    /// <summary>The training kernels (forward step keeping gates, backward cell, GEMM) of the same width.</summary>
    public abstract TrainingKernelSet Training { get; }

    /// <summary>The largest |v| of <paramref name="values"/>, NaN ignored (see <see cref="VectorMath{TVec}.LargestMagnitude"/>).</summary>
    public abstract float LargestMagnitude(ReadOnlySpan<float> values);

    /// <summary>Quantises rows for Int8 panels (see <see cref="QuantizedRows"/>).</summary>
    public abstract void QuantizeRows(ReadOnlySpan<float> source, int sourceStride, int rows, int depth, Span<float> destination);
}

internal sealed class KernelSet<TVec, TFormat>(KernelPath path)
    : KernelSet(path, TVec.Count, TFormat.Format, typeof(TFormat) == typeof(Float16IeeeWeights) ? Float16Codes.Ieee : Float16Codes.Normalised)
    where TVec : struct, ISimdVector<TVec>
    where TFormat : struct, IWeightFormat
{
    public override TrainingKernelSet Training { get; } = new TrainingKernelSet<TVec>();

    public override string IntegerDotInstructions => TVec.DotInstructions;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Step(scoped in CellStepArgs args) => CellKernels<TVec, TFormat>.Step(args);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Sequence(PackedPanel recurrent, scoped in SequenceArgs args) => CellKernels<TVec, TFormat>.Sequence(recurrent, args);

    public override int WidenedPanelFloats(PackedPanel panel, int rows) => CellKernels<TVec, TFormat>.WidenedPanelFloats(panel, rows);

    public override void WidenPanel(PackedPanel panel, Span<float> destination) => CellKernels<TVec, TFormat>.WidenPanel(panel, destination);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void InputProjection(PackedPanel panel, ReadOnlySpan<float> packedBias, ReadOnlySpan<float> x, int xRowStride, int rows, Span<float> gx, int blockStart, int blockEnd) =>
        CellKernels<TVec, TFormat>.InputProjection(panel, packedBias, x, xRowStride, rows, gx, blockStart, blockEnd);

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public override void Project(PackedPanel panel, ref float h, int hRowStride, ref float y, int yRowStride, int rows, ReadOnlySpan<byte> active, int blockStart, int blockEnd) =>
        CellKernels<TVec, TFormat>.Project(panel, ref h, hRowStride, ref y, yRowStride, rows, active, blockStart, blockEnd);

    public override void GruCell(Activation gate, ref float pre, int preRowStride, ref float h, int hRowStride, ref float hOut, int hOutRowStride,
        int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active, bool afterReset = false) =>
        GruCellKernels<TVec>.Update(gate, ref pre, preRowStride, ref h, hRowStride, ref hOut, hOutRowStride, rows, blockStart, blockEnd, active, afterReset);

    public override void GruResetState(Activation gate, ref float pre, int preRowStride, ref float h, int hRowStride, ref float gated, int gatedRowStride,
        int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active) =>
        GruCellKernels<TVec>.ResetState(gate, ref pre, preRowStride, ref h, hRowStride, ref gated, gatedRowStride, rows, blockStart, blockEnd, active);

    public override float LargestMagnitude(ReadOnlySpan<float> values) => VectorMath<TVec>.LargestMagnitude(values);

    public override void QuantizeRows(ReadOnlySpan<float> source, int sourceStride, int rows, int depth, Span<float> destination) =>
        QuantizedRows.Quantize<TVec>(source, sourceStride, rows, depth, destination);

    public override void VariantCell(CellVariant cell, ReadOnlySpan<float> peepholes, ref float pre, int preRowStride, ref float c, int cRowStride,
        ref float hOut, int hOutRowStride, int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active) =>
        VariantCellKernels<TVec>.Update(cell, peepholes, ref pre, preRowStride, ref c, cRowStride, ref hOut, hOutRowStride, rows, blockStart, blockEnd, active);
}
