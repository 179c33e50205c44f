using System.Runtime.CompilerServices;
using LstmSimd.Kernels;

namespace LstmSimd.Execution;

/// <summary>
/// What one direction of one layer runs over a sequence, in pinned memory: the layer's input and output, the hoisted
/// projection's buffer, where the state lives, the initial and final states, the lengths.
/// </summary>
/// <remarks>
/// The state either streams (inference: h ping-pongs between <see cref="H"/> and <see cref="HSpare"/>, c is updated in
/// place in <see cref="C"/>, m in <see cref="Raw"/>) or is kept for every step (training, <see cref="History"/>): h and c
/// are [T+1, B, stride] with step t's result at slot t+1 (forward) or t (reverse) and the initial state at slot 0 or T,
/// and m_t sits at row block t of <see cref="Raw"/>.
/// </remarks>
internal unsafe struct DirectionPass
{
    public PackedLayer Layer;
    public int Steps, Batch;
    public bool Reverse;

    /// <summary>h's units (H_out) and c's (H), unpadded; the padded row strides of h, and of c and m.</summary>
    public int OutputUnits, HiddenUnits, HStride, CStride;

    /// <summary>The layer's input, [T, B, features] or [B, T, features] with <see cref="InputBatchFirst"/>.</summary>
    public float* Input;
    public int Features;
    public bool InputBatchFirst;

    /// <summary>Int8 models: room for the quantised input rows and the quantised h (or m) of a step.</summary>
    public float* QuantizedInput, QuantizedState;

    /// <summary>[T·B, 4·Hp] in the input's row order: the hoisted projection; with <see cref="KeepGates"/>, then the activated gates.</summary>
    public float* Gates;
    public bool KeepGates;

    /// <summary>16-bit models: room for W_hh widened to fp32 once for every step (see <see cref="KernelSet.WidenedPanelFloats"/>); null: none.</summary>
    public float* WidePanel;

    public bool History;
    public float* H, HSpare, C, Raw;

    /// <summary>This layer-direction's h0 [B, H_out] and c0 [B, H] (null: zeros), and where h_n and c_n go (null: nowhere).</summary>
    public float* H0, C0, HN, CN;

    /// <summary>[B] packed-sequence lengths (null: every row runs every step), and [B] bytes of room for a step's activity.</summary>
    public int* Lengths;
    public byte* Active;

    /// <summary>The layer's output [T, B, features] (or batch-first); this direction writes its h_out columns from <see cref="OutputColumn"/>.</summary>
    public float* Output;
    public int OutputFeatures, OutputColumn;
    public bool OutputBatchFirst;

    /// <summary>Direction <paramref name="direction"/> of <paramref name="layer"/> over [T, B] with time-major input and output (the caller points them).</summary>
    public static DirectionPass Create(LstmSpec spec, PackedLayer weights, int layer, int direction, int steps, int batch, int hStride, int cStride) => new()
    {
        Layer = weights,
        Steps = steps,
        Batch = batch,
        Reverse = direction == 1,
        OutputUnits = spec.OutputHiddenSize,
        HiddenUnits = spec.HiddenSize,
        HStride = hStride,
        CStride = cStride,
        Features = spec.LayerInputSize(layer),
        OutputFeatures = spec.OutputSize,
        OutputColumn = direction * spec.OutputHiddenSize,
    };

    /// <summary>Points the initial and final states at layer-direction <paramref name="slot"/>'s rows of [L·D, B, H_out] and [L·D, B, H] tensors (null: none).</summary>
    public void SetStates(int slot, float* h0, float* c0, float* hN, float* cN)
    {
        long h = (long)slot * Batch * OutputUnits, c = (long)slot * Batch * HiddenUnits;
        H0 = h0 == null ? null : h0 + h;
        C0 = c0 == null ? null : c0 + c;
        HN = hN == null ? null : hN + h;
        CN = cN == null ? null : cN + c;
    }
}

/// <summary>
/// The one forward pass of a layer-direction, for inference and training: the hoisted input projection, then per step
/// the recurrent product with the fused cell (and W_hr), the packed-sequence rule and the output rows.
/// </summary>
internal static unsafe class DirectionRunner
{
    /// <summary>
    /// Runs <paramref name="p"/>; returns where the final c rows are. <paramref name="share"/> shares each kernel call across
    /// the team; it is false when the direction already runs on a team member of its own.
    /// </summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float* Run(KernelTeam team, bool share, scoped in DirectionPass p)
    {
        int steps = p.Steps, batch = p.Batch, rows = steps * batch;
        PackedLayer layer = p.Layer;
        int gateStride = layer.Recurrent.SlotRowLength;
        float* x = team.KernelRows(p.Input, rows, p.Features, p.Features, p.QuantizedInput, out int xRowStride);
        team.InputProjection(layer.Input, layer.Bias, x, xRowStride, rows, p.Gates, share);

        // History: slot 0 (forward) or T (reverse) holds the initial state; streaming: H and C do.
        int hSlot = batch * p.HStride, cSlot = batch * p.CStride;
        int initial = p.History && p.Reverse ? steps : 0;
        PaddedRows.Load(Tensor(p.H0, batch * p.OutputUnits), p.OutputUnits, batch, new Span<float>(p.H + initial * hSlot, hSlot), p.HStride);
        PaddedRows.Load(Tensor(p.C0, batch * p.HiddenUnits), p.HiddenUnits, batch, new Span<float>(p.C + initial * cSlot, cSlot), p.CStride);

        // Rows of the hoisted projection follow the input's memory order.
        int gatesPerStep = p.InputBatchFirst ? gateStride : batch * gateStride;
        int gatesPerRow = p.InputBatchFirst ? steps * gateStride : gateStride;
        float* hLast, cLast;
        bool sequenceKernel = layer.Cell.IsStandard || (layer.Cell.IsGru && !layer.Cell.ResetBeforeProduct);
        if (batch == 1 && p.Lengths == null && !p.History && sequenceKernel && layer.Projection is null && !team.Kernels.QuantizesActivations)
        {
            // One sequence: the kernel runs the whole step loop (on a team, every member its blocks). Row t of the gates and of
            // the output is step t in either layout at batch 1.
            team.Sequence(new SequenceJob(layer, p.Gates, gateStride, steps, p.Reverse, p.H, p.HSpare, p.C,
                p.Output + p.OutputColumn, p.OutputFeatures, p.OutputUnits), share);
            hLast = p.H;
            cLast = p.C;
        }
        else
        {
            // A batch's steps over 16-bit weights read W_hh widened once here, not once per step.
            int wideFloats = p.WidePanel == null || steps < 2 ? 0 : team.Kernels.WidenedPanelFloats(layer.Recurrent, batch);
            if (wideFloats > 0) team.Kernels.WidenPanel(layer.Recurrent, new Span<float>(p.WidePanel, wideFloats));
            var active = new Span<byte>(p.Active, batch);
            var output = new Span<float>(p.Output, rows * p.OutputFeatures);
            int outputRowStep = p.OutputBatchFirst ? steps * p.OutputFeatures : p.OutputFeatures;
            float* hPrevious = p.H, hNext = p.HSpare, c = p.C, cPrevious = p.C, raw = p.Raw;
            for (int s = 0; s < steps; s++)
            {
                int t = p.Reverse ? steps - 1 - s : s;
                if (p.Lengths != null) StepOutputs.MarkActive(new ReadOnlySpan<int>(p.Lengths, batch), t, active);
                if (p.History)
                {
                    int previous = p.Reverse ? t + 1 : t, next = p.Reverse ? t : t + 1;
                    hPrevious = p.H + previous * hSlot;
                    hNext = p.H + next * hSlot;
                    cPrevious = p.C + previous * cSlot;
                    c = p.C + next * cSlot;
                    raw = p.Raw + t * cSlot;
                }

                int first = p.OutputBatchFirst ? t * p.OutputFeatures + p.OutputColumn : t * batch * p.OutputFeatures + p.OutputColumn;

                var step = new CellStep
                {
                    Layer = layer,
                    Init = p.Gates + t * gatesPerStep,
                    InitRowStride = gatesPerRow,
                    H = team.KernelRows(hPrevious, batch, p.HStride, p.OutputUnits, p.QuantizedState, out int kernelHStride),
                    HRowStride = kernelHStride,
                    HPrevious = hPrevious,
                    C = c,
                    CRowStride = p.CStride,
                    HNext = hNext,
                    HNextRowStride = p.HStride,
                    HRaw = raw,
                    HRawRowStride = p.CStride,
                    QuantizedState = p.QuantizedState,
                    Rows = batch,
                    Active = p.Lengths == null ? null : p.Active,
                    Descending = s % 2 == 1,
                    KeepGates = p.KeepGates,
                    WidePanelH = wideFloats > 0 ? p.WidePanel : null,
                    // The members copy c_{t−1} and write the outputs of their own blocks: the state stays in the cache of the core that computes it.
                    CPrevious = p.History ? cPrevious : null,
                    Output = layer.SecondProduct is null ? p.Output + first : null,
                    OutputRowStep = outputRowStep,
                    OutputUnits = p.OutputUnits,
                };
                team.Cell(ref step, share);

                if (layer.SecondProduct is not null)
                {
                    StepOutputs.Write(batch, p.Lengths == null ? default : active, new Span<float>(hNext, hSlot), new ReadOnlySpan<float>(hPrevious, hSlot),
                        p.HStride, 0, p.HStride, p.OutputUnits, output[first..], outputRowStep);
                }
                if (!p.History)
                {
                    float* written = hNext;
                    hNext = hPrevious;
                    hPrevious = written;
                }
            }

            hLast = p.History ? p.H + (p.Reverse ? 0 : steps) * hSlot : hPrevious;
            cLast = p.History ? p.C + (p.Reverse ? 0 : steps) * cSlot : p.C;
        }

        if (p.HN != null) PaddedRows.Store(new ReadOnlySpan<float>(hLast, hSlot), p.HStride, new Span<float>(p.HN, batch * p.OutputUnits), p.OutputUnits, batch);
        if (p.CN != null) PaddedRows.Store(new ReadOnlySpan<float>(cLast, cSlot), p.CStride, new Span<float>(p.CN, batch * p.HiddenUnits), p.HiddenUnits, batch);
        return cLast;
    }

    /// <summary>A [B, size] tensor of <paramref name="length"/> values, or empty where there is none.</summary>
    private static ReadOnlySpan<float> Tensor(float* values, int length) => values == null ? default : new ReadOnlySpan<float>(values, length);
}
