namespace LstmSimd.Training;

/// <summary>
/// One training step at a time for a GRU (PyTorch's <c>nn.GRU</c> or the original cell) with a linear head, as <see cref="LstmTrainer"/> trains
/// an LSTM and with the same options, optimisers, losses, readouts, clipping, dropout, lengths and truncated BPTT (see
/// <see cref="RecurrentTrainer"/>): forward, readout, head, loss, backward, clipping, update and repacking, allocating
/// nothing once warm.
/// </summary>
public sealed class GruTrainer : RecurrentTrainer
{
    /// <summary>Builds a trainer for <paramref name="weights"/> (trained in place) and <paramref name="head"/>, whose inputs must be the GRU's D·H.</summary>
    /// <param name="weights">The GRU's parameters (<see cref="GruWeights.CreateRandom"/> initialises them as PyTorch does); either cell.</param>
    /// <param name="head">The linear head on the GRU's outputs.</param>
    /// <param name="createOptimizer">Builds the optimiser over the registered parameters (the GRU first, under <c>nn.GRU</c>'s names, then the head as <c>head.weight</c>, <c>head.bias</c>).</param>
    /// <param name="options">Sizes, readout, loss, clipping.</param>
    /// <exception cref="NotSupportedException">The gates are hard sigmoids (<see cref="GruSpec.GateActivation"/>).</exception>
    public GruTrainer(GruWeights weights, TrainableLinearHead head, Func<ParameterSet, Optimizer> createOptimizer, LstmTrainerOptions options)
        : base(Spec(weights).OutputSize, Spec(weights).LayerDirections, Spec(weights).HiddenSize, 0, head, createOptimizer, options,
            o => new GruTrainingSession(weights, o.MaxBatch, o.MaxSteps, o.Kernel, o.Dropout, o.Seed, o.Threads))
    {
    }

    /// <summary>The forward/backward engine (its <see cref="GruTrainingSession.Weights"/> are the GRU being trained).</summary>
    public GruTrainingSession Session => (GruTrainingSession)Passes;

    private static GruSpec Spec(GruWeights weights) => (weights ?? throw new ArgumentNullException(nameof(weights))).Spec;
}
