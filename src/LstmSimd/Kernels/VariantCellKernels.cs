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
    /// The three activations are chosen here, once per call: the loop is instantiated for them (operator structs, as
    /// TensorPrimitives does), so no vector pays for a switch or a call.
    /// </summary>
    public static void Update(CellVariant cell, ReadOnlySpan<float> peepholes, ref float pre, int preRowStride, ref float c, int cRowStride,
        ref float hOut, int hOutRowStride, int rows, int blockStart, int blockEnd, ReadOnlySpan<byte> active)
    {
        var args = new UpdateArgs
        {
            Cell = cell,
            Peepholes = peepholes,
            Pre = ref pre,
            PreRowStride = preRowStride,
            C = ref c,
            CRowStride = cRowStride,
            HOut = ref hOut,
            HOutRowStride = hOutRowStride,
            Rows = rows,
            BlockStart = blockStart,
            BlockEnd = blockEnd,
            Active = active,
        };
        switch (cell.Gate.Kind)
        {
            case ActivationKind.Sigmoid: WithGate<SigmoidOperator>(ref args); break;
            case ActivationKind.Tanh: WithGate<TanhOperator>(ref args); break;
            case ActivationKind.Relu: WithGate<ReluOperator>(ref args); break;
            default: WithGate<HardSigmoidOperator>(ref args); break;
        }
    }

    private static void WithGate<TGate>(scoped ref UpdateArgs args) where TGate : struct, IActivationOperator
    {
        switch (args.Cell.Candidate.Kind)
        {
            case ActivationKind.Sigmoid: WithCandidate<TGate, SigmoidOperator>(ref args); break;
            case ActivationKind.Tanh: WithCandidate<TGate, TanhOperator>(ref args); break;
            case ActivationKind.Relu: WithCandidate<TGate, ReluOperator>(ref args); break;
            default: WithCandidate<TGate, HardSigmoidOperator>(ref args); break;
        }
    }

    private static void WithCandidate<TGate, TCandidate>(scoped ref UpdateArgs args)
        where TGate : struct, IActivationOperator where TCandidate : struct, IActivationOperator
    {
        switch (args.Cell.Output.Kind)
        {
            case ActivationKind.Sigmoid: Run<TGate, TCandidate, SigmoidOperator>(ref args); break;
            case ActivationKind.Tanh: Run<TGate, TCandidate, TanhOperator>(ref args); break;
            case ActivationKind.Relu: Run<TGate, TCandidate, ReluOperator>(ref args); break;
            default: Run<TGate, TCandidate, HardSigmoidOperator>(ref args); break;
        }
    }

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Run<TGate, TCandidate, TOutput>(scoped ref UpdateArgs args)
        where TGate : struct, IActivationOperator where TCandidate : struct, IActivationOperator where TOutput : struct, IActivationOperator
    {
        int width = TVec.Count;
        CellVariant cell = args.Cell;
        bool peephole = cell.Peepholes, inputForget = cell.InputForget;
        float clip = cell.Clip;
        TVec gateAlpha = TVec.Create(cell.Gate.Alpha), gateBeta = TVec.Create(cell.Gate.Beta);
        TVec candidateAlpha = TVec.Create(cell.Candidate.Alpha), candidateBeta = TVec.Create(cell.Candidate.Beta);
        TVec outputAlpha = TVec.Create(cell.Output.Alpha), outputBeta = TVec.Create(cell.Output.Beta);
        ref float p = ref MemoryMarshal.GetReference(args.Peepholes);
        ReadOnlySpan<byte> active = args.Active;
        for (int row = 0; row < args.Rows; row++)
        {
            if (!active.IsEmpty && active[row] == 0) continue;
            for (int block = args.BlockStart; block < args.BlockEnd; block++)
            {
                ref float gates = ref Unsafe.Add(ref args.Pre, (nint)row * args.PreRowStride + block * Gates * width);
                ref float cRef = ref Unsafe.Add(ref args.C, (nint)row * args.CRowStride + block * width);
                TVec i = TVec.Load(in gates), f = TVec.Load(in Unsafe.Add(ref gates, width));
                TVec g = TVec.Load(in Unsafe.Add(ref gates, 2 * width)), o = TVec.Load(in Unsafe.Add(ref gates, 3 * width));
                TVec cPrevious = TVec.Load(in cRef);
                ref float blockPeepholes = ref Unsafe.Add(ref p, peephole ? block * 3 * width : 0);
                if (peephole)
                {
                    i = TVec.MultiplyAdd(TVec.Load(in blockPeepholes), cPrevious, i);
                    f = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref blockPeepholes, width)), cPrevious, f);
                }

                TVec ia = Activate<TGate>(Clip(i, clip), gateAlpha, gateBeta);
                TVec fa = inputForget ? TVec.Create(1f) - ia : Activate<TGate>(Clip(f, clip), gateAlpha, gateBeta);
                TVec ga = Activate<TCandidate>(Clip(g, clip), candidateAlpha, candidateBeta);
                TVec cNew = Activations.FlushBelowNormal(TVec.MultiplyAdd(fa, cPrevious, ia * ga));
                if (peephole) o = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref blockPeepholes, 2 * width)), cNew, o);
                TVec oa = Activate<TGate>(Clip(o, clip), gateAlpha, gateBeta);
                TVec.Store(cNew, ref cRef);
                TVec.Store(oa * Activate<TOutput>(cNew, outputAlpha, outputBeta), ref Unsafe.Add(ref args.HOut, (nint)row * args.HOutRowStride + block * width));
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
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static TVec Activate<TActivation>(TVec x, TVec alpha, TVec beta) where TActivation : struct, IActivationOperator =>
        TVec.Select(TVec.IsNaN(x), x, TActivation.Apply(x, alpha, beta));

    /// <summary>The arguments of <see cref="Update"/>, passed down the three choices of activation by reference.</summary>
    private ref struct UpdateArgs
    {
        public CellVariant Cell;
        public ReadOnlySpan<float> Peepholes;
        public ref float Pre;
        public int PreRowStride;
        public ref float C;
        public int CRowStride;
        public ref float HOut;
        public int HOutRowStride;
        public int Rows, BlockStart, BlockEnd;
        public ReadOnlySpan<byte> Active;
    }
}

/// <summary>One of ONNX's LSTM activations as an operator, so that kernels are instantiated for it (alpha, beta: HardSigmoid's).</summary>
internal interface IActivationOperator
{
    static abstract TVec Apply<TVec>(TVec x, TVec alpha, TVec beta) where TVec : struct, ISimdVector<TVec>;
}

internal readonly struct SigmoidOperator : IActivationOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TVec>(TVec x, TVec alpha, TVec beta) where TVec : struct, ISimdVector<TVec> => Activations.Sigmoid(x);
}

internal readonly struct TanhOperator : IActivationOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TVec>(TVec x, TVec alpha, TVec beta) where TVec : struct, ISimdVector<TVec> => Activations.Tanh(x);
}

internal readonly struct ReluOperator : IActivationOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TVec>(TVec x, TVec alpha, TVec beta) where TVec : struct, ISimdVector<TVec> => TVec.MaxNative(x, TVec.Zero);
}

/// <summary>max(0, min(1, alpha·x + beta)).</summary>
internal readonly struct HardSigmoidOperator : IActivationOperator
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static TVec Apply<TVec>(TVec x, TVec alpha, TVec beta) where TVec : struct, ISimdVector<TVec> =>
        TVec.MaxNative(TVec.MinNative(TVec.MultiplyAdd(alpha, x, beta), TVec.Create(1f)), TVec.Zero);
}
