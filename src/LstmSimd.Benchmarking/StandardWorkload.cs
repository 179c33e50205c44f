using LstmSimd.IO;

namespace LstmSimd.Benchmarking;

/// <summary>What one call of a workload runs.</summary>
public enum WorkloadKind
{
    /// <summary><see cref="LstmSession.Forward"/> over a whole batch of sequences.</summary>
    Sequence,

    /// <summary>One streaming <see cref="LstmSession.Step"/>.</summary>
    Step,

    /// <summary>
    /// One training step as the peers' PyTorch script takes it: forward over the batch, a linear head H→1 on every
    /// step's output, mean squared error, backward through time and an SGD update (learning rate 1e-3).
    /// </summary>
    Train,
}

/// <summary>Which recurrent cell a workload runs.</summary>
public enum WorkloadCell
{
    /// <summary>PyTorch's <c>nn.LSTM</c> cell: four gates.</summary>
    Lstm,

    /// <summary>PyTorch's <c>nn.GRU</c> cell (<see cref="GruModel"/>; the reset gate after the recurrent product): three gates.</summary>
    Gru,

    /// <summary>
    /// The original GRU cell (the reset gate before the recurrent product: ONNX's default, Keras's <c>reset_after=False</c>;
    /// <see cref="GruSpec.LinearBeforeReset"/> false): three gates, W_hn's product waiting for r each step.
    /// </summary>
    GruOriginal,
}

/// <summary>
/// One of the standard workloads of the design document: a one-layer, unidirectional LSTM (or GRU: the <c>gru-</c> ones) with bias,
/// input size I equal to hidden size H, run for T steps over a batch of B rows per call. LstmSimd's benchmarks,
/// the <c>lstmsimd bench</c> command and the peers' scripts all time these same shapes, so numbers compare by name.
/// </summary>
/// <param name="Name">The name used on the command line and in result files (<c>seq-h256</c>, <c>step-h64</c>, …).</param>
/// <param name="Kind">Whether a call is a whole-sequence forward or one streaming step.</param>
/// <param name="Steps">T: time steps per call.</param>
/// <param name="Batch">B: sequences per call.</param>
/// <param name="InputSize">I: input features.</param>
/// <param name="HiddenSize">H: hidden units.</param>
/// <param name="Description">What the workload stands for.</param>
public sealed record StandardWorkload(string Name, WorkloadKind Kind, int Steps, int Batch, int InputSize, int HiddenSize, string Description)
{
    /// <summary>The workloads, in the order of the design document's table: inference first, then training.</summary>
    public static IReadOnlyList<StandardWorkload> All { get; } =
    [
        Sequence("seq-h32", 100, 1, 32, "a short sequence, batch 1"),
        Sequence("seq-h64", 100, 1, 64, "a short sequence, batch 1"),
        Sequence("seq-h128", 100, 1, 128, "a short sequence, batch 1"),
        Sequence("seq-h256", 100, 1, 256, "a short sequence, batch 1"),
        Sequence("seq-h512", 25, 1, 512, "DeepBench server inference"),
        Sequence("seq-b4-h1024", 25, 4, 1024, "DeepBench server inference"),
        Sequence("seq-b64-h512", 50, 64, 512, "batch throughput"),
        new("step-h64", WorkloadKind.Step, 1, 1, 64, 64, "one streaming step per call"),
        new("step-h256", WorkloadKind.Step, 1, 1, 256, 256, "one streaming step per call"),
        new("train-b32-h256", WorkloadKind.Train, 50, 32, 256, 256, "one training step (forward, backward, update)"),
        new("train-b1-h64", WorkloadKind.Train, 100, 1, 64, 64, "small-model training step"),
        Sequence("gru-seq-h64", 100, 1, 64, "a short sequence, batch 1", WorkloadCell.Gru),
        Sequence("gru-seq-h256", 100, 1, 256, "a short sequence, batch 1", WorkloadCell.Gru),
        Sequence("gru-seq-b64-h512", 50, 64, 512, "batch throughput", WorkloadCell.Gru),
        new("gru-step-h64", WorkloadKind.Step, 1, 1, 64, 64, "one streaming step per call") { Cell = WorkloadCell.Gru },
        new("gru-step-h256", WorkloadKind.Step, 1, 1, 256, 256, "one streaming step per call") { Cell = WorkloadCell.Gru },
        Sequence("gru-original-seq-h256", 100, 1, 256, "a short sequence, batch 1, the original GRU cell", WorkloadCell.GruOriginal),
        Sequence("gru-original-seq-b64-h512", 50, 64, 512, "batch throughput, the original GRU cell", WorkloadCell.GruOriginal),
        new("gru-original-step-h256", WorkloadKind.Step, 1, 1, 256, 256, "one streaming step per call, the original GRU cell") { Cell = WorkloadCell.GruOriginal },
    ];

    /// <summary>The cell the workload runs (an LSTM unless the name starts with <c>gru-</c>).</summary>
    public WorkloadCell Cell { get; init; }

    /// <summary>Gates of the cell: 4 for an LSTM, 3 for a GRU.</summary>
    public int Gates => IsGru ? 3 : 4;

    /// <summary>Whether the workload runs a GRU, of either cell.</summary>
    public bool IsGru => Cell is WorkloadCell.Gru or WorkloadCell.GruOriginal;

    /// <summary>The LSTM's shape: one layer, unidirectional, with bias.</summary>
    public LstmSpec Spec => new(InputSize, HiddenSize);

    /// <summary>The GRU's shape, for a GRU workload (<see cref="IsGru"/>): one layer, unidirectional, with bias, the workload's cell.</summary>
    public GruSpec GruSpec => new(InputSize, HiddenSize, linearBeforeReset: Cell != WorkloadCell.GruOriginal);

    /// <summary>
    /// Floating-point operations per call, counting a fused multiply-add as two: 2·B·G·H·(I+H)·T for the gate products of
    /// a forward pass with G gates (4 for an LSTM, 3 for a GRU; activations are not counted), three times that for a
    /// training step (the backward pass costs two forwards), as the peers' scripts count.
    /// </summary>
    public double FlopPerCall => (Kind == WorkloadKind.Train ? 3 : 1) * 2.0 * Batch * Gates * HiddenSize * (double)(InputSize + HiddenSize) * Steps;

    /// <summary>Bytes of fp32 weights one step reads when nothing is hoisted: 4·G·H·(I+H) (G gates of W_ih and W_hh).</summary>
    public long WeightBytesPerStep => 4L * Gates * HiddenSize * (InputSize + HiddenSize);

    /// <summary>Floats in one call's input: [T, B, I].</summary>
    public int InputLength => checked(Steps * Batch * InputSize);

    /// <summary>Floats in one call's output: [T, B, H].</summary>
    public int OutputLength => checked(Steps * Batch * HiddenSize);

    /// <summary>The workload called <paramref name="name"/> (case-insensitive).</summary>
    /// <exception cref="ArgumentException">No standard workload has that name; the message lists them.</exception>
    public static StandardWorkload Get(string name)
    {
        if (TryGet(name, out StandardWorkload? workload)) return workload;
        throw new ArgumentException($"Unknown workload '{name}'; the standard workloads are {string.Join(", ", All.Select(w => w.Name))}.", nameof(name));
    }

    /// <summary>Looks a workload up by name (case-insensitive).</summary>
    public static bool TryGet(string? name, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out StandardWorkload? workload)
    {
        workload = All.FirstOrDefault(w => string.Equals(w.Name, name?.Trim(), StringComparison.OrdinalIgnoreCase));
        return workload is not null;
    }

    private static StandardWorkload Sequence(string name, int steps, int batch, int hidden, string description, WorkloadCell cell = WorkloadCell.Lstm) =>
        new(name, WorkloadKind.Sequence, steps, batch, hidden, hidden, description) { Cell = cell };
}
