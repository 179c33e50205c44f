using System.Runtime.CompilerServices;
using LstmSimd.Kernels;

namespace LstmSimd.Execution;

/// <summary>
/// Every kernel call of inference and training, each shared by a <see cref="WorkerTeam"/> when it is large enough to
/// repay the hand-off (<see cref="WorkerTeam.WorthSharing"/>, the one policy): the input projection, the cell step and
/// the output projection split hidden-unit blocks, and a GEMM splits the rows of C (or its columns, when it has more of
/// them) at whole register tiles. Every element is computed by one member with the same code as on one thread, so results
/// are bitwise those of one thread. (A training session's backward steps split the batch rows for the whole sequence
/// through <see cref="RunOnEveryMember"/>.)
/// </summary>
/// <remarks>
/// Arguments are pointers into pinned memory, because a worker runs a call after the caller built it; the caller keeps
/// them pinned until the call returns. A call with <c>share</c> false runs on the calling thread alone and touches no
/// state of the team, so two members may make such calls at once (the two directions of a bidirectional layer).
/// </remarks>
internal sealed unsafe class KernelTeam : ITeamWork, IDisposable
{
    private readonly WorkerTeam _team;
    private readonly TrainingKernelSet _training;
    private Job _job;
    private ProjectionJob _projection;
    private CellStep _cell;
    private SequenceJob _sequence;
    private readonly StepBarrier _stepBarrier;
    private GemmJob _gemm;
    private ColumnSumsJob _columnSums;

    /// <param name="threads">Members including the calling thread; the others are persistent threads until <see cref="Dispose"/>.</param>
    /// <param name="kernels">The width and weight format every call runs.</param>
    public KernelTeam(int threads, KernelSet kernels)
    {
        Kernels = kernels;
        _training = kernels.Training;
        _team = new WorkerTeam(threads);
        _stepBarrier = new StepBarrier(threads);
    }

    private enum Job
    {
        InputProjection,
        Cell,
        OutputProjection,
        Sequence,
        Multiply,
        ColumnSums,
    }

    public KernelSet Kernels { get; }

    /// <summary>Members including the calling thread.</summary>
    public int Size => _team.Size;

    /// <summary>Multiply-adds below which a call runs on the calling thread alone; tests set 0 to share every call.</summary>
    public long MinSharedWork
    {
        get => _team.MinSharedWork;
        set => _team.MinSharedWork = value;
    }

    /// <summary>Whether <paramref name="multiplyAdds"/> of work would be shared.</summary>
    public bool WorthSharing(long multiplyAdds) => _team.WorthSharing(multiplyAdds);

    /// <summary>Runs <paramref name="work"/> once per member (each takes its own part, by its index), and waits for all.</summary>
    public void RunOnEveryMember(ITeamWork work) => _team.Run(work);

    /// <summary>
    /// The rows a kernel reads: <paramref name="rows"/> as they are, or, for Int8 models, quantised into
    /// <paramref name="quantized"/> (see <see cref="QuantizedRows"/>); <paramref name="kernelStride"/> receives their row stride.
    /// </summary>
    public float* KernelRows(float* rows, int count, int stride, int depth, float* quantized, out int kernelStride)
    {
        if (!Kernels.QuantizesActivations)
        {
            kernelStride = stride;
            return rows;
        }

        kernelStride = QuantizedRows.Stride(depth);
        if (count > 0)
            Kernels.QuantizeRows(new ReadOnlySpan<float>(rows, (count - 1) * stride + depth), stride, count, depth, new Span<float>(quantized, count * kernelStride));
        return quantized;
    }

    /// <summary>gates = bias + x·W_ih for every row (see <see cref="KernelSet.InputProjection"/>).</summary>
    public void InputProjection(PackedPanel panel, float[] bias, float* x, int xRowStride, int rows, float* gates, bool share)
    {
        var job = new ProjectionJob(panel, bias, x, xRowStride, rows, gates);
        if (!share || !_team.WorthSharing((long)rows * panel.Depth * panel.Gates * panel.PaddedUnits))
        {
            job.Run(Kernels, 0, 1);
            return;
        }

        _projection = job;
        Run(Job.InputProjection);
    }

    /// <summary>
    /// One cell step: the recurrent (and, streaming, input) products with the cell update, then with a projection
    /// h_t = W_hr·m_t (m_t quantised first for Int8 models), or the original GRU's W_hn (r ⊙ h) and update.
    /// </summary>
    public void Cell(scoped ref CellStep step, bool share)
    {
        bool shared = share && _team.WorthSharing(CellStep.Work(step.Layer, step.Rows, streaming: step.Init == null));
        if (shared)
        {
            _cell = step;
            Run(Job.Cell);
        }
        else
        {
            step.RunCell(Kernels, 0, 1);
        }

        if (step.Layer.SecondProduct is not { } panel) return;
        step.ProjectionInput = KernelRows(step.HRaw, step.Rows, step.HRawRowStride, panel.Depth, step.QuantizedState, out step.ProjectionInputStride);
        if (share && _team.WorthSharing((long)step.Rows * panel.Depth * panel.PaddedUnits))
        {
            _cell = step;
            Run(Job.OutputProjection);
        }
        else
        {
            step.RunProjection(Kernels, 0, 1);
        }
    }

    /// <summary>
    /// A whole batch-1 sequence of the standard cell or a GRU (see <see cref="KernelSet.Sequence"/>); shared, every member runs every
    /// step over its own blocks and the members meet after each step.
    /// </summary>
    public void Sequence(in SequenceJob job, bool share)
    {
        if (share && _team.WorthSharing(CellStep.Work(job.Layer, rows: 1, streaming: false)))
        {
            _sequence = job;
            Run(Job.Sequence);
        }
        else
        {
            job.Run(Kernels, null, 0, 1);
        }
    }

    /// <summary>C (+)= A·B (see <see cref="TrainingKernelSet.Multiply"/>).</summary>
    public void Multiply(float* a, nint aRowStride, nint aColumnStride, float* b, nint bRowStride, float* c, nint cRowStride, int m, int n, int k, bool accumulate)
    {
        _gemm = new GemmJob(a, aRowStride, aColumnStride, b, bRowStride, c, cRowStride, m, n, k, accumulate);
        Run(Job.Multiply, (long)m * n * k);
    }

    /// <summary>
    /// sums[j] += Σ_r values[r·stride + j] (see <see cref="TrainingKernelSet.AddColumnSums"/>); shared, the members split the columns
    /// at whole vectors, each column summed as on one thread.
    /// </summary>
    public void AddColumnSums(float* values, int rows, int stride, int columns, float* sums)
    {
        _columnSums = new ColumnSumsJob(values, rows, stride, columns, sums);
        Run(Job.ColumnSums, (long)rows * columns);
    }

    public void Dispose() => _team.Dispose();

    private void Run(Job job, long work)
    {
        _job = job;
        if (!_team.WorthSharing(work)) Execute(0, 1);
        else _team.Run(this);
    }

    private void Run(Job job)
    {
        _job = job;
        _team.Run(this);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int member, int members)
    {
        switch (_job)
        {
            case Job.InputProjection:
                _projection.Run(Kernels, member, members);
                break;
            case Job.Cell:
                _cell.RunCell(Kernels, member, members);
                break;
            case Job.OutputProjection:
                _cell.RunProjection(Kernels, member, members);
                break;
            case Job.Sequence:
                _sequence.Run(Kernels, _stepBarrier, member, members);
                break;
            case Job.ColumnSums:
                _columnSums.Run(_training, Kernels.Width, member, members);
                break;
            default:
                _gemm.Run(_training, Kernels.Width, member, members);
                break;
        }
    }

    private readonly struct ProjectionJob(PackedPanel panel, float[] bias, float* x, int xRowStride, int rows, float* gates)
    {
        private readonly PackedPanel Panel = panel;
        private readonly float[] Bias = bias;
        private readonly float* X = x, Gates = gates;
        private readonly int XRowStride = xRowStride, Rows = rows;

        [MethodImpl(MethodImplOptions.AggressiveOptimization)]
        public void Run(KernelSet kernels, int member, int members)
        {
            (int start, int end) = WorkerTeam.Share(Panel.Blocks, member, members);
            kernels.InputProjection(Panel, Bias, new ReadOnlySpan<float>(X, Rows * XRowStride), XRowStride, Rows,
                new Span<float>(Gates, Rows * Panel.SlotRowLength), start, end);
        }
    }

    private readonly struct ColumnSumsJob(float* values, int rows, int stride, int columns, float* sums)
    {
        private readonly float* Values = values, Sums = sums;
        private readonly int Rows = rows, Stride = stride, Columns = columns;

        public void Run(TrainingKernelSet kernels, int width, int member, int members)
        {
            (int start, int end) = WorkerTeam.Share(Columns, member, members, grain: 4 * width); // the kernel's four-vector passes
            if (start == end || Rows == 0) return;
            kernels.AddColumnSums(new ReadOnlySpan<float>(Values + start, (Rows - 1) * Stride + end - start), Rows, Stride, end - start,
                new Span<float>(Sums + start, end - start));
        }
    }

    private readonly struct GemmJob(float* a, nint aRowStride, nint aColumnStride, float* b, nint bRowStride,
        float* c, nint cRowStride, int m, int n, int k, bool accumulate)
    {
        private readonly float* A = a, B = b, C = c;
        private readonly nint ARowStride = aRowStride, AColumnStride = aColumnStride, BRowStride = bRowStride, CRowStride = cRowStride;
        private readonly int M = m, N = n, K = k;
        private readonly bool Accumulate = accumulate;

        // Split at whole register tiles (4 rows, or two vectors of columns) so that every element is computed as on one thread.
        public void Run(TrainingKernelSet kernels, int width, int member, int members)
        {
            if (M >= N)
            {
                (int start, int end) = WorkerTeam.Share(M, member, members, grain: 4);
                if (start == end) return;
                kernels.Multiply(ref A[start * ARowStride], ARowStride, AColumnStride, ref *B, BRowStride, ref C[start * CRowStride], CRowStride, end - start, N, K, Accumulate);
            }
            else
            {
                (int start, int end) = WorkerTeam.Share(N, member, members, grain: 2 * width);
                if (start == end) return;
                kernels.Multiply(ref *A, ARowStride, AColumnStride, ref B[start], BRowStride, ref C[start], CRowStride, M, end - start, K, Accumulate);
            }
        }
    }
}

/// <summary>One batch-1 sequence of a layer-direction's standard cell or GRU over hoisted pre-activations, in pinned memory (see <see cref="SequenceArgs"/>).</summary>
internal readonly unsafe struct SequenceJob(PackedLayer layer, float* init, int initStepStride, int steps, bool reverse,
    float* h, float* hSpare, float* c, float* output, int outputStepStride, int outputCount)
{
    public PackedLayer Layer { get; } = layer;
    private readonly float* Init = init, H = h, HSpare = hSpare, C = c, Output = output;
    private readonly int InitStepStride = initStepStride, Steps = steps, OutputStepStride = outputStepStride, OutputCount = outputCount;
    private readonly bool Reverse = reverse;

    /// <summary>Member <paramref name="member"/>'s blocks for every step; the members of a team meet at <paramref name="barrier"/> (null alone).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Run(KernelSet kernels, StepBarrier? barrier, int member, int members)
    {
        PackedPanel panel = Layer.Recurrent;
        if (panel.Layout != (Layer.Cell.IsGru ? GateLayout.GruRecurrent : GateLayout.Lstm))
            throw new InvalidOperationException($"The sequence kernel runs the LSTM's or the GRU's (reset after the product) recurrent panel, not {panel.Layout}.");
        (int start, int end) = WorkerTeam.Share(panel.Blocks, member, members);
        kernels.Sequence(panel, new SequenceArgs
        {
            Init = ref *Init,
            InitStepStride = InitStepStride,
            Steps = Steps,
            Reverse = Reverse,
            DepthH = panel.Depth,
            BlockStart = start,
            BlockEnd = end,
            Barrier = members > 1 ? barrier : null,
            Gru = Layer.Cell.IsGru,
            GruGate = Layer.Cell.Gate,
            H = ref *H,
            HSpare = ref *HSpare,
            C = ref *C,
            Output = ref *Output,
            OutputStepStride = OutputStepStride,
            OutputCount = OutputCount,
        });
    }
}
