using System.Runtime.CompilerServices;

namespace LstmSimd.Kernels;

/// <summary>
/// The GRU's epilogue (PyTorch's <c>nn.GRU</c>: the reset gate acts after the recurrent product), vectorised, from the
/// pre-activations the shared cell kernels leave when asked to stop there (<see cref="CellStepArgs.PreActivationsOnly"/>).
/// A GRU layer is packed into the kernels' four gate slots as r, z, n's input part and n's recurrent part: W_ih rows
/// (W_ir, W_iz, W_in, 0), W_hh rows (W_hr, W_hz, 0, W_hn), bias (b_ir + b_hr, b_iz + b_hz, b_in, b_hn), so that one
/// product pass gives every term and this epilogue combines them:
/// r = σ(slot 0), z = σ(slot 1), n = tanh(slot 2 + r ⊙ slot 3), h' = (1 − z) ⊙ n + z ⊙ h.
/// </summary>
internal static class GruCellKernels<TVec> where TVec : struct, ISimdVector<TVec>
{
    private const int Slots = 4;

    /// <summary>
    /// h' for rows [0, <paramref name="rows"/>) and blocks [<paramref name="blockStart"/>, <paramref name="blockEnd"/>) from the
    /// pre-activations (rows of 4 slots × width per block) and h (fp32 rows); inactive rows are left alone.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Update(ref float pre, int preRowStride, ref float h, int hRowStride, ref float hOut, int hOutRowStride,
        int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active)
    {
        int width = TVec.Count;
        TVec one = TVec.Create(1f);
        for (int row = 0; row < rows; row++)
        {
            if (!active.IsEmpty && active[row] == 0) continue;
            for (int block = blockStart; block < blockEnd; block++)
            {
                ref float slots = ref Unsafe.Add(ref pre, (nint)row * preRowStride + block * Slots * width);
                TVec r = Activations.Sigmoid(TVec.Load(in slots));
                TVec z = Activations.Sigmoid(TVec.Load(in Unsafe.Add(ref slots, width)));
                TVec n = Activations.Tanh(TVec.MultiplyAdd(r, TVec.Load(in Unsafe.Add(ref slots, 3 * width)), TVec.Load(in Unsafe.Add(ref slots, 2 * width))));
                TVec previous = TVec.Load(in Unsafe.Add(ref h, (nint)row * hRowStride + block * width));
                TVec.Store((one - z) * n + z * previous, ref Unsafe.Add(ref hOut, (nint)row * hOutRowStride + block * width));
            }
        }
    }
}
