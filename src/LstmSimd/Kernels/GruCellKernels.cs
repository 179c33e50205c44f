using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>
/// The GRU's epilogue (PyTorch's <c>nn.GRU</c>: the reset gate acts after the recurrent product), vectorised, from
/// pre-activations: the shared cell kernels run it on each tile's as they finish it (their fused update), and the
/// original cell on the pre-activations its first product leaves (<see cref="CellStepArgs.PreActivationsOnly"/>).
/// A GRU layer is packed into the kernels' four gate slots as r, z, n's input part and n's recurrent part: W_ih rows
/// (W_ir, W_iz, W_in, 0), W_hh rows (W_hr, W_hz, 0, W_hn), bias (b_ir + b_hr, b_iz + b_hz, b_in, b_hn), so that one
/// product pass gives every term and this epilogue combines them:
/// r = σ(slot 0), z = σ(slot 1), n = tanh(slot 2 + r ⊙ slot 3), h' = (1 − z) ⊙ n + z ⊙ h, where σ is the model's gate activation
/// (sigmoid, or a hard sigmoid: <see cref="GruSpec.GateActivation"/>); the backward kernels differentiate sigmoid gates.
/// The original cell (reset before the recurrent product) packs W_hn apart and runs in two phases: <see cref="ResetState"/>
/// writes r ⊙ h after the first products (slot 3 then holds b_hn alone), the shared kernels' second product (as for an
/// LSTM's W_hr) gives W_hn (r ⊙ h), and <see cref="Update"/> finishes the step.
/// Training keeps the pre-activations of every step and <see cref="Backward"/> turns them into their derivatives, slot
/// for slot, so that the LSTM's gradient GEMMs over the four slots give the GRU's gradients unchanged.
/// </summary>
internal static class GruCellKernels<TVec> where TVec : struct, ISimdVector<TVec>
{
    private const int Slots = 4;

    /// <summary>
    /// h' for rows [0, <paramref name="rows"/>) and blocks [<paramref name="blockStart"/>, <paramref name="blockEnd"/>) from the
    /// pre-activations (rows of 4 slots × width per block) and h (fp32 rows); inactive rows are left alone. With
    /// <paramref name="afterReset"/> (the original cell, after its second product) <paramref name="hOut"/> holds W_hn (r ⊙ h)
    /// on entry, slot 3 holds b_hn alone and receives a_hn = b_hn + W_hn (r ⊙ h), and n = tanh(slot 2 + a_hn).
    /// </summary>
    // Its own compilation unit, called from the product kernels' tiles: inlined there (or into a thin caller), the JIT's
    // inline budget ran out and left σ, tanh and the vector operators as calls.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Update(Activation gate, ref float pre, int preRowStride, ref float h, int hRowStride, ref float hOut, int hOutRowStride,
        int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active, bool afterReset = false)
    {
        int width = TVec.Count;
        TVec one = TVec.Create(1f);
        var gates = new Gates(gate);
        for (int row = 0; row < rows; row++)
        {
            if (!active.IsEmpty && active[row] == 0) continue;
            for (int block = blockStart; block < blockEnd; block++)
            {
                ref float slots = ref Unsafe.Add(ref pre, (nint)row * preRowStride + block * Slots * width);
                ref float result = ref Unsafe.Add(ref hOut, (nint)row * hOutRowStride + block * width);
                TVec z = gates.Apply(TVec.Load(in Unsafe.Add(ref slots, width)));
                TVec inputPart = TVec.Load(in Unsafe.Add(ref slots, 2 * width)), recurrentPart = TVec.Load(in Unsafe.Add(ref slots, 3 * width));
                TVec n;
                if (afterReset)
                {
                    // Slot 3 keeps the whole recurrent part, b_hn + W_hn (r ⊙ h): the backward reads it (BackwardBeforeReset).
                    recurrentPart += TVec.Load(in result);
                    TVec.Store(recurrentPart, ref Unsafe.Add(ref slots, 3 * width));
                    n = Activations.Tanh(inputPart + recurrentPart);
                }
                else
                {
                    n = Activations.Tanh(TVec.MultiplyAdd(gates.Apply(TVec.Load(in slots)), recurrentPart, inputPart));
                }

                TVec previous = TVec.Load(in Unsafe.Add(ref h, (nint)row * hRowStride + block * width));
                TVec.Store((one - z) * n + z * previous, ref result);
            }
        }
    }

    /// <summary>
    /// The original cell's first phase: r ⊙ h (r = σ(slot 0)) into <paramref name="gated"/> for rows [0, <paramref name="rows"/>)
    /// and blocks [<paramref name="blockStart"/>, <paramref name="blockEnd"/>), the input of W_hn's product; inactive rows are left alone.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void ResetState(Activation gate, ref float pre, int preRowStride, ref float h, int hRowStride, ref float gated, int gatedRowStride,
        int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active)
    {
        int width = TVec.Count;
        var gates = new Gates(gate);
        for (int row = 0; row < rows; row++)
        {
            if (!active.IsEmpty && active[row] == 0) continue;
            for (int block = blockStart; block < blockEnd; block++)
            {
                TVec r = gates.Apply(TVec.Load(in Unsafe.Add(ref pre, (nint)row * preRowStride + block * Slots * width)));
                TVec previous = TVec.Load(in Unsafe.Add(ref h, (nint)row * hRowStride + block * width));
                TVec.Store(r * previous, ref Unsafe.Add(ref gated, (nint)row * gatedRowStride + block * width));
            }
        }
    }

    /// <summary>
    /// The derivatives of one step, fused in one pass: from the pre-activations of the four slots (overwritten with
    /// ∂loss/∂slot), h_{t−1} and ∂loss/∂h_t, writes the part of ∂loss/∂h_{t−1} that bypasses the products (dh ⊙ z; the
    /// caller adds the slots' derivatives times W_hh). With n = tanh(a_in + r ⊙ a_hn):
    /// da_n = dh ⊙ (1 − z) ⊙ (1 − n²), da_z = dh ⊙ (h_{t−1} − n) ⊙ z(1 − z), da_r = da_n ⊙ a_hn ⊙ r(1 − r), da_hn = da_n ⊙ r.
    /// Inactive rows get zero derivatives and pass dh through unchanged.
    /// </summary>
    // Not inlined, as the LSTM's backward cell: compiled fully optimised on its own.
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void Backward(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dh, ref float dhPrevious, int dhRowStride,
        int rows, int blocks, ReadOnlySpan<byte> active)
    {
        int width = TVec.Count;
        TVec one = TVec.Create(1f);
        for (int row = 0; row < rows; row++)
        {
            ref float slotRow = ref Unsafe.Add(ref pre, (nint)row * preRowStride);
            ref float dhRow = ref Unsafe.Add(ref dh, (nint)row * dhRowStride);
            ref float dhPreviousRow = ref Unsafe.Add(ref dhPrevious, (nint)row * dhRowStride);
            if (!active.IsEmpty && active[row] == 0)
            {
                SkipInactiveRow(ref slotRow, ref dhRow, ref dhPreviousRow, blocks);
                continue;
            }

            ref float hRow = ref Unsafe.Add(ref hPrevious, (nint)row * hRowStride);
            for (int block = 0; block < blocks; block++)
            {
                ref float slots = ref Unsafe.Add(ref slotRow, block * Slots * width);
                int unit = block * width;
                TVec r = Activations.Sigmoid(TVec.Load(in slots));
                TVec z = Activations.Sigmoid(TVec.Load(in Unsafe.Add(ref slots, width)));
                TVec recurrent = TVec.Load(in Unsafe.Add(ref slots, 3 * width));
                TVec n = Activations.Tanh(TVec.MultiplyAdd(r, recurrent, TVec.Load(in Unsafe.Add(ref slots, 2 * width))));
                TVec dhv = TVec.Load(in Unsafe.Add(ref dhRow, unit));
                TVec previous = TVec.Load(in Unsafe.Add(ref hRow, unit));
                TVec dn = dhv * (one - z) * (one - n * n);
                TVec.Store(dn * recurrent * r * (one - r), ref slots);
                TVec.Store(dhv * (previous - n) * z * (one - z), ref Unsafe.Add(ref slots, width));
                TVec.Store(dn, ref Unsafe.Add(ref slots, 2 * width));
                TVec.Store(dn * r, ref Unsafe.Add(ref slots, 3 * width));
                TVec.Store(dhv * z, ref Unsafe.Add(ref dhPreviousRow, unit));
            }
        }
    }

    /// <summary>
    /// The original cell's step derivatives, first phase: everything but the reset gate's, which waits for
    /// ∂loss/∂(r ⊙ h) = dn·W_hn (<see cref="BackwardResetGate"/>). From the pre-activations (slot 3 holding
    /// a_hn = b_hn + W_hn (r ⊙ h), as <see cref="Update"/> leaves it), h_{t−1} and ∂loss/∂h_t, with n = tanh(a_in + a_hn):
    /// da_n = dh ⊙ (1 − z) ⊙ (1 − n²) into slots 2 and 3 and into <paramref name="dCandidate"/>, da_z = dh ⊙ (h_{t−1} − n) ⊙ z(1 − z)
    /// into slot 1, and dh ⊙ z into <paramref name="dhPrevious"/>; slot 0 keeps its pre-activation for the second phase.
    /// Inactive rows get zero derivatives and pass dh through unchanged.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void BackwardBeforeReset(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dh, ref float dhPrevious, int dhRowStride,
        ref float dCandidate, int dCandidateRowStride, int rows, int blocks, ReadOnlySpan<byte> active)
    {
        int width = TVec.Count;
        TVec one = TVec.Create(1f);
        for (int row = 0; row < rows; row++)
        {
            ref float slotRow = ref Unsafe.Add(ref pre, (nint)row * preRowStride);
            ref float dhRow = ref Unsafe.Add(ref dh, (nint)row * dhRowStride);
            ref float dhPreviousRow = ref Unsafe.Add(ref dhPrevious, (nint)row * dhRowStride);
            ref float dCandidateRow = ref Unsafe.Add(ref dCandidate, (nint)row * dCandidateRowStride);
            if (!active.IsEmpty && active[row] == 0)
            {
                SkipInactiveRow(ref slotRow, ref dhRow, ref dhPreviousRow, blocks);
                MemoryMarshal.CreateSpan(ref dCandidateRow, blocks * width).Clear();
                continue;
            }

            ref float hRow = ref Unsafe.Add(ref hPrevious, (nint)row * hRowStride);
            for (int block = 0; block < blocks; block++)
            {
                ref float slots = ref Unsafe.Add(ref slotRow, block * Slots * width);
                int unit = block * width;
                TVec z = Activations.Sigmoid(TVec.Load(in Unsafe.Add(ref slots, width)));
                TVec n = Activations.Tanh(TVec.Load(in Unsafe.Add(ref slots, 2 * width)) + TVec.Load(in Unsafe.Add(ref slots, 3 * width)));
                TVec dhv = TVec.Load(in Unsafe.Add(ref dhRow, unit));
                TVec previous = TVec.Load(in Unsafe.Add(ref hRow, unit));
                TVec dn = dhv * (one - z) * (one - n * n);
                TVec.Store(dhv * (previous - n) * z * (one - z), ref Unsafe.Add(ref slots, width));
                TVec.Store(dn, ref Unsafe.Add(ref slots, 2 * width));
                TVec.Store(dn, ref Unsafe.Add(ref slots, 3 * width));
                TVec.Store(dn, ref Unsafe.Add(ref dCandidateRow, unit));
                TVec.Store(dhv * z, ref Unsafe.Add(ref dhPreviousRow, unit));
            }
        }
    }

    /// <summary>
    /// The original cell's step derivatives, second phase: from ∂loss/∂(r ⊙ h) (<paramref name="dGated"/>, dn·W_hn), the reset
    /// gate's da_r = d(r ⊙ h) ⊙ h_{t−1} ⊙ r(1 − r) into slot 0 (which held its pre-activation), and d(r ⊙ h) ⊙ r added to
    /// <paramref name="dhPrevious"/>. Inactive rows are left alone (the first phase has zeroed them).
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    public static void BackwardResetGate(ref float pre, int preRowStride, ref float hPrevious, int hRowStride, ref float dGated, int dGatedRowStride,
        ref float dhPrevious, int dhRowStride, int rows, int blocks, ReadOnlySpan<byte> active)
    {
        int width = TVec.Count;
        TVec one = TVec.Create(1f);
        for (int row = 0; row < rows; row++)
        {
            if (!active.IsEmpty && active[row] == 0) continue;
            ref float slotRow = ref Unsafe.Add(ref pre, (nint)row * preRowStride);
            ref float hRow = ref Unsafe.Add(ref hPrevious, (nint)row * hRowStride);
            ref float dGatedRow = ref Unsafe.Add(ref dGated, (nint)row * dGatedRowStride);
            ref float dhPreviousRow = ref Unsafe.Add(ref dhPrevious, (nint)row * dhRowStride);
            for (int block = 0; block < blocks; block++)
            {
                ref float slots = ref Unsafe.Add(ref slotRow, block * Slots * width);
                int unit = block * width;
                TVec r = Activations.Sigmoid(TVec.Load(in slots));
                TVec gated = TVec.Load(in Unsafe.Add(ref dGatedRow, unit));
                TVec.Store(gated * TVec.Load(in Unsafe.Add(ref hRow, unit)) * r * (one - r), ref slots);
                ref float dhp = ref Unsafe.Add(ref dhPreviousRow, unit);
                TVec.Store(TVec.MultiplyAdd(gated, r, TVec.Load(in dhp)), ref dhp);
            }
        }
    }

    /// <summary>A row outside its sequence: zero derivatives in its four slots, and dh passed to dh_{t−1} unchanged.</summary>
    private static void SkipInactiveRow(ref float slotRow, ref float dhRow, ref float dhPreviousRow, int blocks)
    {
        int width = TVec.Count;
        MemoryMarshal.CreateSpan(ref slotRow, blocks * Slots * width).Clear();
        MemoryMarshal.CreateReadOnlySpan(ref dhRow, blocks * width).CopyTo(MemoryMarshal.CreateSpan(ref dhPreviousRow, blocks * width));
    }

    /// <summary>The gate activation of r and z: sigmoid, or max(0, min(1, α·x + β)) with NaN kept (as the LSTM's variants do).</summary>
    private readonly struct Gates(Activation gate)
    {
        private readonly bool _hard = gate.Kind == ActivationKind.HardSigmoid;
        private readonly TVec _alpha = TVec.Create(gate.Alpha), _beta = TVec.Create(gate.Beta);

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public TVec Apply(TVec x) =>
            _hard ? TVec.Select(TVec.IsNaN(x), x, HardSigmoidOperator.Apply(x, _alpha, _beta)) : Activations.Sigmoid(x);
    }
}
