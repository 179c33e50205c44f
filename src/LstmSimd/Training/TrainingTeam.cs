using System.Runtime.CompilerServices;
using LstmSimd.Kernels;

namespace LstmSimd.Training;

/// <summary>
/// The training session's kernels, each call shared by a <see cref="WorkerTeam"/>: the forward kernels split hidden-unit
/// blocks (as <see cref="LstmSession"/> does), the fused backward cell splits blocks, and a GEMM splits the rows of C (or
/// its columns, when it has more of them) at whole register tiles. Every element is computed by one member with the same
/// code as on one thread, so the results are bitwise those of one thread. With one thread the calls go straight to the
/// kernels, and so do calls too small to repay a hand-off (see <see cref="WorkerTeam.WorthSharing"/>). Arguments are arrays and
/// offsets, not references, because a worker runs them after the call has built them.
/// </summary>
internal sealed class TrainingTeam : ITeamWork, IDisposable
{
    private readonly WorkerTeam _team;
    private readonly KernelSet _kernels;
    private readonly TrainingKernelSet _train;
    private Job _job;
    private ProjectionJob _projection;
    private StepJob _step;
    private OutputProjectionJob _output;
    private CellJob _cell;
    private GemmJob _gemm;

    public TrainingTeam(int threads, KernelSet kernels)
    {
        _team = new WorkerTeam(threads);
        _kernels = kernels;
        _train = kernels.Training;
    }

    private enum Job
    {
        InputProjection,
        Step,
        OutputProjection,
        BackwardCell,
        Multiply,
    }

    public int Size => _team.Size;

    /// <summary>Multiply-adds below which a call runs on the calling thread alone (<see cref="WorkerTeam.MinSharedWork"/>); tests set 0 to share every call.</summary>
    public long MinSharedWork
    {
        get => _team.MinSharedWork;
        set => _team.MinSharedWork = value;
    }

    /// <summary>gates = bias + x·W_ih for every row (see <see cref="KernelSet.InputProjection"/>).</summary>
    public void InputProjection(PackedPanel panel, float[] bias, float[] x, int xRowStride, int rows, float[] gates)
    {
        _projection = new ProjectionJob(panel, bias, x, xRowStride, rows, gates);
        Run(Job.InputProjection, (long)rows * panel.Depth * panel.Gates * panel.PaddedUnits);
    }

    /// <summary>One forward cell step keeping the activated gates (see <see cref="KernelSet.Step"/>).</summary>
    public void Step(in StepJob job)
    {
        _step = job;
        Run(Job.Step, (long)job.Rows * job.Layer.Recurrent.Depth * 4 * job.Layer.Recurrent.PaddedUnits);
    }

    /// <summary>y = W_hr·m for the active rows (see <see cref="KernelSet.Project"/>).</summary>
    public void Project(PackedPanel panel, float[] m, int mOffset, int mRowStride, float[] y, int yOffset, int yRowStride, int rows, byte[] active, int activeOffset, bool hasActive)
    {
        _output = new OutputProjectionJob(panel, m, mOffset, mRowStride, y, yOffset, yRowStride, rows, active, activeOffset, hasActive);
        Run(Job.OutputProjection, (long)rows * panel.Depth * panel.PaddedUnits);
    }

    /// <summary>The fused gate derivatives of one step (see <see cref="TrainingKernelSet.BackwardCell"/>).</summary>
    public void BackwardCell(in CellJob job)
    {
        _cell = job;
        Run(Job.BackwardCell, (long)job.Rows * job.Blocks * _kernels.Width * 16); // about 16 operations per unit
    }

    /// <summary>C (+)= A·B (see <see cref="TrainingKernelSet.Multiply"/>).</summary>
    public void Multiply(float[] a, int aOffset, nint aRowStride, nint aColumnStride, float[] b, int bOffset, nint bRowStride,
        float[] c, int cOffset, nint cRowStride, int m, int n, int k, bool accumulate)
    {
        _gemm = new GemmJob(a, aOffset, aRowStride, aColumnStride, b, bOffset, bRowStride, c, cOffset, cRowStride, m, n, k, accumulate);
        Run(Job.Multiply, (long)m * n * k);
    }

    public void Dispose() => _team.Dispose();

    private void Run(Job job, long work)
    {
        _job = job;
        if (!_team.WorthSharing(work)) Execute(0, 1);
        else _team.Run(this);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Execute(int member, int members)
    {
        switch (_job)
        {
            case Job.InputProjection:
            {
                ref readonly ProjectionJob p = ref _projection;
                (int start, int end) = WorkerTeam.Share(p.Panel.Blocks, member, members);
                _kernels.InputProjection(p.Panel, p.Bias, p.X.AsSpan(0, p.Rows * p.XRowStride), p.XRowStride, p.Rows, p.Gates, start, end);
                break;
            }

            case Job.Step:
            {
                ref readonly StepJob s = ref _step;
                (int start, int end) = WorkerTeam.Share(s.Layer.Recurrent.Blocks, member, members);
                var args = new CellStepArgs
                {
                    Init = ref s.Gates[s.GatesOffset],
                    InitRowStride = s.GatesRowStride,
                    PanelX = ref s.Layer.Input.Start,
                    DepthX = 0,
                    X = ref s.Layer.Bias[0], // unread when DepthX is 0
                    XRowStride = 0,
                    PanelH = ref s.Layer.Recurrent.Start,
                    DepthH = s.Layer.Recurrent.Depth,
                    H = ref s.H[s.HOffset],
                    HRowStride = s.HRowStride,
                    C = ref s.C[s.COffset],
                    CRowStride = s.CRowStride,
                    HOut = ref s.HOut[s.HOutOffset],
                    HOutRowStride = s.HOutRowStride,
                    Rows = s.Rows,
                    BlockStart = start,
                    BlockEnd = end,
                    Active = s.HasActive ? s.Active.AsSpan(s.ActiveOffset, s.Rows) : default,
                    KeepGates = true,
                };
                _kernels.Step(args);
                break;
            }

            case Job.OutputProjection:
            {
                ref readonly OutputProjectionJob o = ref _output;
                (int start, int end) = WorkerTeam.Share(o.Panel.Blocks, member, members);
                _kernels.Project(o.Panel, ref o.M[o.MOffset], o.MRowStride, ref o.Y[o.YOffset], o.YRowStride, o.Rows,
                    o.HasActive ? o.Active.AsSpan(o.ActiveOffset, o.Rows) : default, start, end);
                break;
            }

            case Job.BackwardCell:
            {
                ref readonly CellJob j = ref _cell;
                (int start, int end) = WorkerTeam.Share(j.Blocks, member, members);
                if (start == end) break;
                int width = _kernels.Width, gates = 4 * width;
                _train.BackwardCell(ref j.Gates[j.GatesOffset + start * gates], j.GatesRowStride, ref j.C[j.COffset + start * width], ref j.C[j.CPreviousOffset + start * width],
                    j.CRowStride, ref j.Dm[j.DmOffset + start * width], j.DmRowStride, ref j.Dc[start * width], j.Rows, end - start,
                    j.HasActive ? j.Active.AsSpan(j.ActiveOffset, j.Rows) : default);
                break;
            }

            default:
            {
                ref readonly GemmJob g = ref _gemm;

                // Split at whole register tiles (4 rows, or two vectors of columns) so that every element is computed as on one thread.
                if (g.M >= g.N)
                {
                    (int start, int end) = WorkerTeam.Share(g.M, member, members, grain: 4);
                    if (start == end) break;
                    _train.Multiply(ref g.A[g.AOffset + start * g.ARowStride], g.ARowStride, g.AColumnStride, ref g.B[g.BOffset], g.BRowStride,
                        ref g.C[g.COffset + start * g.CRowStride], g.CRowStride, end - start, g.N, g.K, g.Accumulate);
                }
                else
                {
                    (int start, int end) = WorkerTeam.Share(g.N, member, members, grain: 2 * _kernels.Width);
                    if (start == end) break;
                    _train.Multiply(ref g.A[g.AOffset], g.ARowStride, g.AColumnStride, ref g.B[g.BOffset + start], g.BRowStride,
                        ref g.C[g.COffset + start], g.CRowStride, g.M, end - start, g.K, g.Accumulate);
                }

                break;
            }
        }
    }

    private readonly record struct ProjectionJob(PackedPanel Panel, float[] Bias, float[] X, int XRowStride, int Rows, float[] Gates);

    private readonly record struct OutputProjectionJob(PackedPanel Panel, float[] M, int MOffset, int MRowStride, float[] Y, int YOffset, int YRowStride,
        int Rows, byte[] Active, int ActiveOffset, bool HasActive);

    private readonly record struct GemmJob(float[] A, int AOffset, nint ARowStride, nint AColumnStride, float[] B, int BOffset, nint BRowStride,
        float[] C, int COffset, nint CRowStride, int M, int N, int K, bool Accumulate);
}

/// <summary>One forward cell step of training, as arrays and offsets (see <see cref="TrainingTeam.Step"/>).</summary>
internal readonly record struct StepJob(PackedLayer Layer, float[] Gates, int GatesOffset, int GatesRowStride, float[] H, int HOffset, int HRowStride,
    float[] C, int COffset, int CRowStride, float[] HOut, int HOutOffset, int HOutRowStride, int Rows, byte[] Active, int ActiveOffset, bool HasActive);

/// <summary>One backward cell step, as arrays and offsets (see <see cref="TrainingTeam.BackwardCell"/>); c_t and c_{t−1} share an array.</summary>
internal readonly record struct CellJob(float[] Gates, int GatesOffset, int GatesRowStride, float[] C, int COffset, int CPreviousOffset, int CRowStride,
    float[] Dm, int DmOffset, int DmRowStride, float[] Dc, int Rows, int Blocks, byte[] Active, int ActiveOffset, bool HasActive);
