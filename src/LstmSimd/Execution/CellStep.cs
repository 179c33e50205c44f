using System.Runtime.CompilerServices;
using LstmSimd.Kernels;

namespace LstmSimd.Execution;

/// <summary>
/// One cell step of one layer-direction over a batch, for inference and training alike: where it reads and writes (pinned
/// memory, so that any team member can run its share), split by hidden-unit blocks (<see cref="RunCell"/>), then, with a
/// projection, by the blocks of W_hr (<see cref="RunProjection"/>).
/// </summary>
internal unsafe struct CellStep
{
    public PackedLayer Layer;

    /// <summary>The step's hoisted input projection, rows <see cref="InitRowStride"/> apart; null for a streaming step, which fuses bias + x·W_ih.</summary>
    public float* Init;
    public int InitRowStride;

    /// <summary>A streaming step's input rows (as the kernels read them: quantised for Int8 models).</summary>
    public float* X;
    public int XRowStride;

    /// <summary>h_{t−1} as the kernels read it.</summary>
    public float* H;
    public int HRowStride;

    /// <summary>h_{t−1} in fp32 rows <see cref="HNextRowStride"/> apart, for the GRU's update (<see cref="H"/> may be quantised).</summary>
    public float* HPrevious;

    /// <summary>c, updated in place.</summary>
    public float* C;
    public int CRowStride;

    /// <summary>
    /// Training's history: c_{t−1}, which each member copies into <see cref="C"/> for its blocks' columns before updating them (the
    /// rows outside their length keep it); null: <see cref="C"/> holds it already.
    /// </summary>
    public float* CPrevious;

    /// <summary>
    /// Where row 0's outputs of this step go, rows <see cref="OutputRowStep"/> apart, <see cref="OutputUnits"/> of them: each member writes
    /// its blocks' columns after its update (see <see cref="StepOutputs.Write"/>), reading h_t from its own cache. Null: the caller
    /// writes them (a layer with a second product, whose h_t the projection phase writes).
    /// </summary>
    public float* Output;
    public int OutputRowStep, OutputUnits;

    /// <summary>Where h_t goes.</summary>
    public float* HNext;
    public int HNextRowStride;

    /// <summary>With a projection: where the unprojected h (m_t) goes before W_hr turns it into h_t.</summary>
    public float* HRaw;
    public int HRawRowStride;

    /// <summary>Int8 models: where m_t is quantised for W_hr.</summary>
    public float* QuantizedState;

    /// <summary>ONNX cell variants: where the kernels leave the pre-activations for the variant's epilogue (null: over <see cref="Init"/>, in place).</summary>
    public float* PreActivations;
    public int PreActivationsRowStride;

    public int Rows;

    /// <summary>Per row, nonzero inside its sequence; null when every row is.</summary>
    public byte* Active;

    /// <summary>The block order of this step (see <see cref="CellStepArgs.Descending"/>).</summary>
    public bool Descending;

    /// <summary>Training: leave the activated gates over <see cref="Init"/> for the backward pass.</summary>
    public bool KeepGates;

    /// <summary>W_hh widened to fp32 for every step of the call (16-bit models, batches of whole tiles), or null.</summary>
    public float* WidePanelH;

    /// <summary>Set between the phases: m_t as W_hr reads it.</summary>
    public float* ProjectionInput;
    public int ProjectionInputStride;

    /// <summary>The multiply-adds of the cell phase, which decide whether it is worth sharing.</summary>
    public static long Work(PackedLayer layer, int rows, bool streaming) =>
        (long)rows * layer.Recurrent.Gates * layer.Recurrent.Units * (layer.Recurrent.Depth + (streaming ? layer.Input.Depth : 0));

    private readonly ReadOnlySpan<byte> ActiveRows => Active == null ? default : new ReadOnlySpan<byte>(Active, Rows);

    /// <summary>Member <paramref name="member"/>'s share of the recurrent (and fused input) products with the cell update.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public readonly void RunCell(KernelSet kernels, int member, int members)
    {
        (int blockStart, int blockEnd) = WorkerTeam.Share(Layer.Recurrent.Blocks, member, members);
        bool streaming = Init == null;
        bool variant = !Layer.Cell.IsStandard;
        // A GRU with the reset gate after the product ends its step in the kernels' fused update, as the LSTM's cell does.
        bool gruFused = Layer.Cell.IsGru && !Layer.Cell.ResetBeforeProduct;
        bool projected = Layer.Projection is not null;
        float* hOut = projected ? HRaw : HNext;
        int hOutRowStride = projected ? HRawRowStride : HNextRowStride;
        float* pre = PreActivations != null ? PreActivations : Init;
        int preRowStride = PreActivations != null ? PreActivationsRowStride : InitRowStride;
        ReadOnlySpan<byte> active = ActiveRows;
        if (CPrevious != null) CopyColumns(CPrevious, C, CRowStride, blockStart, blockEnd);
        var args = new CellStepArgs
        {
            Init = ref streaming ? ref Layer.Bias[0] : ref *Init,
            InitRowStride = InitRowStride,
            PanelX = ref Layer.Input.Start,
            DepthX = streaming ? Layer.Input.Depth : 0,
            X = ref streaming ? ref *X : ref Layer.Bias[0], // unread when DepthX is 0
            XRowStride = XRowStride,
            PanelH = ref Layer.Recurrent.Start,
            DepthH = Layer.Recurrent.Depth,
            H = ref *H,
            HRowStride = HRowStride,
            C = ref gruFused ? ref *HPrevious : ref *C,
            CRowStride = gruFused ? HNextRowStride : CRowStride,
            HOut = ref *hOut,
            HOutRowStride = hOutRowStride,
            Rows = Rows,
            BlockStart = blockStart,
            BlockEnd = blockEnd,
            Active = active,
            KeepGates = KeepGates,
            PreActivationsOnly = variant && !gruFused,
            PreActivations = ref variant ? ref *pre : ref Layer.Bias[0], // unread for the standard cell
            PreActivationsRowStride = preRowStride,
            Descending = Descending,
            Layout = Layer.Recurrent.Layout,
            GruGate = Layer.Cell.Gate,
            WidePanelH = ref WidePanelH == null ? ref Unsafe.NullRef<float>() : ref *WidePanelH,
        };
        if (streaming && Layer.Input.Layout != Layer.Recurrent.Layout)
        {
            // A GRU's W_ih and W_hh panels hold different slots: bias + x·W_ih into the pre-activations first, then h·W_hh
            // onto them in place (the same sums, in the same order, as the sequence path's hoisted projection and step).
            args.Layout = Layer.Input.Layout;
            args.DepthH = 0;
            args.PreActivationsOnly = true;
            kernels.Step(args);
            args.PreActivationsOnly = variant && !gruFused;
            args.Layout = Layer.Recurrent.Layout;
            args.Init = ref *pre;
            args.InitRowStride = preRowStride;
            args.DepthX = 0;
            args.DepthH = Layer.Recurrent.Depth;
        }

        kernels.Step(args);
        if (variant && Layer.Cell.ResetBeforeProduct)
        {
            // The original GRU: r ⊙ h for W_hn's product, in HRaw as an LSTM's m for W_hr; RunProjection finishes the step.
            kernels.GruResetState(Layer.Cell.Gate, ref *pre, preRowStride, ref *HPrevious, HNextRowStride, ref *HRaw, HRawRowStride, Rows, blockStart, blockEnd, active);
        }
        else if (variant && !gruFused)
        {
            kernels.VariantCell(Layer.Cell, Layer.Peepholes, ref *pre, preRowStride, ref *C, CRowStride,
                ref *hOut, hOutRowStride, Rows, blockStart, blockEnd, active);
        }

        if (Output != null)
        {
            (int start, int end) = Columns(blockStart, blockEnd, HNextRowStride);
            StepOutputs.Write(Rows, active, new Span<float>(HNext, Rows * HNextRowStride), new ReadOnlySpan<float>(HPrevious, Rows * HNextRowStride),
                HNextRowStride, start, end, OutputUnits, new Span<float>(Output, (Rows - 1) * OutputRowStep + OutputUnits), OutputRowStep);
        }
    }

    /// <summary>The columns of rows <paramref name="stride"/> long that hidden-unit blocks [start, end) own; the last block's owner takes the padding too.</summary>
    private readonly (int Start, int End) Columns(int blockStart, int blockEnd, int stride)
    {
        int width = Layer.Recurrent.Width;
        return (Math.Min(blockStart * width, stride), blockEnd == Layer.Recurrent.Blocks ? stride : Math.Min(blockEnd * width, stride));
    }

    private readonly void CopyColumns(float* source, float* destination, int stride, int blockStart, int blockEnd)
    {
        (int start, int end) = Columns(blockStart, blockEnd, stride);
        for (int r = 0; r < Rows; r++)
            new ReadOnlySpan<float>(source + r * stride + start, end - start).CopyTo(new Span<float>(destination + r * stride + start, end - start));
    }

    /// <summary>
    /// Member <paramref name="member"/>'s share of the second product for the active rows: h_t = W_hr·m_t, or the original
    /// GRU's W_hn (r ⊙ h) followed by its update of the same blocks.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public readonly void RunProjection(KernelSet kernels, int member, int members)
    {
        PackedPanel panel = Layer.SecondProduct!;
        (int start, int end) = WorkerTeam.Share(panel.Blocks, member, members);
        kernels.Project(panel, ref *ProjectionInput, ProjectionInputStride, ref *HNext, HNextRowStride, Rows, ActiveRows, start, end);
        if (!Layer.Cell.ResetBeforeProduct) return;
        float* pre = PreActivations != null ? PreActivations : Init;
        int preRowStride = PreActivations != null ? PreActivationsRowStride : InitRowStride;
        kernels.GruCell(Layer.Cell.Gate, ref *pre, preRowStride, ref *HPrevious, HNextRowStride, ref *HNext, HNextRowStride, Rows, start, end, ActiveRows, afterReset: true);
    }
}
