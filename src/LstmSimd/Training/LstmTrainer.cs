namespace LstmSimd.Training;

/// <summary>The loss a <see cref="RecurrentTrainer"/> minimises on its head's outputs.</summary>
public enum LossKind
{
    /// <summary><see cref="Losses.MeanSquaredError"/> against float targets [rows, outputs].</summary>
    MeanSquaredError,

    /// <summary><see cref="Losses.SoftmaxCrossEntropy"/> against class labels [rows].</summary>
    CrossEntropy,
}

/// <summary>How an <see cref="LstmTrainer"/> or a <see cref="GruTrainer"/> is set up; fixed when it is built.</summary>
public sealed record LstmTrainerOptions
{
    /// <summary>The largest batch a step may pass.</summary>
    public required int MaxBatch { get; init; }

    /// <summary>The longest sequence (or chunk, with truncated BPTT) a step may pass.</summary>
    public required int MaxSteps { get; init; }

    /// <summary>Which outputs of the network the head and the loss see.</summary>
    public Readout Readout { get; init; } = Readout.LastStep;

    /// <summary>The loss.</summary>
    public LossKind Loss { get; init; } = LossKind.MeanSquaredError;

    /// <summary>Clips the global gradient norm to this value before each update (PyTorch's <c>clip_grad_norm_</c>); 0 turns clipping off.</summary>
    public double ClipNorm { get; init; }

    /// <summary>The kernel width.</summary>
    public KernelPath Kernel { get; init; } = KernelPath.Auto;

    /// <summary>Threads each forward and backward pass computes with (1 to 64; see <see cref="LstmTrainingSession"/>); results are bitwise those of one thread.</summary>
    public int Threads { get; init; } = 1;

    /// <summary>Dropout probability between stacked layers during training steps.</summary>
    public double Dropout { get; init; }

    /// <summary>Seeds the dropout masks.</summary>
    public ulong Seed { get; init; }

    /// <summary>The layout of inputs (and of targets with <see cref="Readout.EveryStep"/>, whose rows follow it).</summary>
    public SequenceLayout Layout { get; init; } = SequenceLayout.TimeMajor;
}

/// <summary>
/// One training step at a time for an LSTM with a linear head (see <see cref="RecurrentTrainer"/>): forward, readout,
/// head, loss, backward, gradient clipping, optimiser update and repacking, allocating nothing once warm.
/// </summary>
public sealed class LstmTrainer : RecurrentTrainer
{
    /// <summary>Builds a trainer for <paramref name="weights"/> (trained in place) and <paramref name="head"/>, whose inputs must be the LSTM's D·H_out.</summary>
    /// <param name="weights">The LSTM's parameters.</param>
    /// <param name="head">The linear head on the LSTM's outputs.</param>
    /// <param name="createOptimizer">Builds the optimiser over the registered parameters (LSTM first, then the head as <c>head.weight</c>, <c>head.bias</c>).</param>
    /// <param name="options">Sizes, readout, loss, clipping.</param>
    public LstmTrainer(LstmWeights weights, TrainableLinearHead head, Func<ParameterSet, Optimizer> createOptimizer, LstmTrainerOptions options)
        : base(Spec(weights).OutputSize, Spec(weights).LayerDirections, Spec(weights).OutputHiddenSize, Spec(weights).HiddenSize, head, createOptimizer, options,
            o => new LstmTrainingSession(weights, o.MaxBatch, o.MaxSteps, o.Kernel, o.Dropout, o.Seed, o.Threads))
    {
    }

    /// <summary>The forward/backward engine (its <see cref="LstmTrainingSession.Weights"/> are the LSTM being trained).</summary>
    public LstmTrainingSession Session => (LstmTrainingSession)Passes;

    private static LstmSpec Spec(LstmWeights weights) => (weights ?? throw new ArgumentNullException(nameof(weights))).Spec;
}
