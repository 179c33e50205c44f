using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>
/// The update of ONNX's cell variants (peepholes, clip, input_forget, and the activations Sigmoid, Tanh, Relu and
/// HardSigmoid), vectorised, from the pre-activations the cell kernels leave when asked to stop there
/// (<see cref="CellStepArgs.PreActivationsOnly"/>). The products stay in the shared kernels; only this epilogue differs
/// from PyTorch's cell, which keeps its fused one. Semantics as <see cref="Reference.ReferenceLstm"/>: peepholes add
/// p_i⊙c_{t−1} and p_f⊙c_{t−1} before the gate activations and p_o⊙c_t before o's; clip bounds every pre-activation.
/// </summary>
internal static class VariantCellKernels<TVec> where TVec : struct, ISimdVector<TVec>
{
    private const int Gates = 4;

    /// <summary>
    /// The cell update for rows [0, <paramref name="rows"/>) and blocks [<paramref name="blockStart"/>, <paramref name="blockEnd"/>):
    /// c (in place) and h from the pre-activations (rows of 4 gates × width per block). <paramref name="peepholes"/> holds
    /// p_i, p_f, p_o per block (packed like a bias row with three gates), empty without peepholes. Inactive rows are left alone.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Update(CellVariant cell, ReadOnlySpan<float> peepholes, ref float pre, int preRowStride, ref float c, int cRowStride,
        ref float hOut, int hOutRowStride, int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active)
    {
        int width = TVec.Count;
        bool peephole = cell.Peepholes;
        ref float p = ref MemoryMarshal.GetReference(peepholes);
        for (int row = 0; row < rows; row++)
        {
            if (!active.IsEmpty && active[row] == 0) continue;
            for (int block = blockStart; block < blockEnd; block++)
            {
                ref float gates = ref Unsafe.Add(ref pre, (nint)row * preRowStride + block * Gates * width);
                ref float cRef = ref Unsafe.Add(ref c, (nint)row * cRowStride + block * width);
                TVec i = TVec.Load(in gates), f = TVec.Load(in Unsafe.Add(ref gates, width));
                TVec g = TVec.Load(in Unsafe.Add(ref gates, 2 * width)), o = TVec.Load(in Unsafe.Add(ref gates, 3 * width));
                TVec cPrevious = TVec.Load(in cRef);
                ref float blockPeepholes = ref Unsafe.Add(ref p, peephole ? block * 3 * width : 0);
                if (peephole)
                {
                    i = TVec.MultiplyAdd(TVec.Load(in blockPeepholes), cPrevious, i);
                    f = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref blockPeepholes, width)), cPrevious, f);
                }

                TVec ia = Apply(cell.Gate, Clip(i, cell.Clip));
                TVec fa = cell.InputForget ? TVec.Create(1f) - ia : Apply(cell.Gate, Clip(f, cell.Clip));
                TVec ga = Apply(cell.Candidate, Clip(g, cell.Clip));
                TVec cNew = Activations.FlushBelowNormal(TVec.MultiplyAdd(fa, cPrevious, ia * ga));
                if (peephole) o = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref blockPeepholes, 2 * width)), cNew, o);
                TVec oa = Apply(cell.Gate, Clip(o, cell.Clip));
                TVec.Store(cNew, ref cRef);
                TVec.Store(oa * Apply(cell.Output, cNew), ref Unsafe.Add(ref hOut, (nint)row * hOutRowStride + block * width));
            }
        }
    }

    /// <summary>x within [−clip, clip] when clip is positive; NaN stays NaN.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Clip(TVec x, float clip)
    {
        if (clip <= 0f) return x;
        TVec clamped = TVec.MaxNative(TVec.MinNative(x, TVec.Create(clip)), TVec.Create(-clip));
        return TVec.Select(TVec.IsNaN(x), x, clamped);
    }

    /// <summary>One of ONNX's four activations; NaN in gives NaN out.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static TVec Apply(Activation activation, TVec x)
    {
        TVec result = activation.Kind switch
        {
            ActivationKind.Sigmoid => Activations.Sigmoid(x),
            ActivationKind.Tanh => Activations.Tanh(x),
            ActivationKind.Relu => TVec.MaxNative(x, TVec.Zero),
            _ => TVec.MaxNative(TVec.MinNative(TVec.MultiplyAdd(TVec.Create(activation.Alpha), x, TVec.Create(activation.Beta)), TVec.Create(1f)), TVec.Zero),
        };
        return TVec.Select(TVec.IsNaN(x), x, result);
    }
}
