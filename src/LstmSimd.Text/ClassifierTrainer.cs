using LstmSimd.Training;

namespace LstmSimd.Text;

/// <summary>
/// One optimisation step of a <see cref="ClassifierNetwork"/> at a time: forward over a batch of texts, the class-weighted
/// cross-entropy, backward into every parameter, the global gradient norm clipped, one Adam step, the LSTM's kernels
/// repacked. <see cref="ClassifierTraining"/> runs it; it is public for custom training loops. After the first steps
/// (which size the kernels' buffers) a step allocates nothing. Trains the network's parameters in place; one caller at a time.
/// </summary>
public sealed class ClassifierTrainer
{
    private readonly ParameterSet _parameters = new();
    private readonly AdamOptimizer _optimizer;
    private readonly float[] _classWeights, _gradLogits;
    private readonly int[] _batchLabels;
    private readonly double _clipNorm;

    /// <summary>Registers the network's parameters with a new Adam optimiser.</summary>
    /// <param name="network">The network to train.</param>
    /// <param name="classWeights">How much each class counts in the loss ([classes], non-negative; see <see cref="ClassWeights.For"/>).</param>
    /// <param name="learningRate">Adam's step size.</param>
    /// <param name="clipNorm">The global gradient norm is clipped to this; 0 leaves it as it is.</param>
    public ClassifierTrainer(ClassifierNetwork network, float[] classWeights, double learningRate, double clipNorm = 1)
    {
        ArgumentNullException.ThrowIfNull(network);
        ArgumentNullException.ThrowIfNull(classWeights);
        if (classWeights.Length != network.Classes) throw new ArgumentException($"{classWeights.Length} class weights for {network.Classes} classes.", nameof(classWeights));
        if (!(clipNorm >= 0)) throw new ArgumentOutOfRangeException(nameof(clipNorm), clipNorm, "The clip norm is 0 (off) or positive.");
        Network = network;
        network.AddTo(_parameters);
        _optimizer = new AdamOptimizer(_parameters, learningRate);
        _classWeights = (float[])classWeights.Clone();
        _clipNorm = clipNorm;
        _batchLabels = new int[network.MaxBatch];
        _gradLogits = new float[network.MaxBatch * network.Classes];
    }

    /// <summary>The network trained.</summary>
    public ClassifierNetwork Network { get; }

    /// <summary>The parameters the optimiser updates.</summary>
    public ParameterSet Parameters => _parameters;

    /// <summary>Steps whose gradient was not finite, which changed nothing.</summary>
    public long SkippedSteps { get; private set; }

    /// <summary>
    /// One step on the texts <paramref name="texts"/>[<paramref name="batch"/>[b]] of classes
    /// <paramref name="labels"/>[<paramref name="batch"/>[b]]; returns the batch's loss before the step.
    /// </summary>
    public double Step(IReadOnlyList<int[]> texts, ReadOnlySpan<int> batch, ReadOnlySpan<int> labels)
    {
        int classes = Network.Classes;
        if (batch.Length > _batchLabels.Length) throw new ArgumentOutOfRangeException(nameof(batch), batch.Length, $"A batch holds at most {_batchLabels.Length} texts.");
        for (int b = 0; b < batch.Length; b++)
        {
            if ((uint)batch[b] >= (uint)labels.Length) throw new ArgumentOutOfRangeException(nameof(batch), batch[b], $"batch[{b}] has no label among the {labels.Length}.");
            _batchLabels[b] = labels[batch[b]];
        }

        ReadOnlySpan<float> logits = Network.Forward(texts, batch);
        Span<float> gradient = _gradLogits.AsSpan(0, batch.Length * classes);
        double loss = ClassWeights.CrossEntropy(logits, batch.Length, _batchLabels.AsSpan(0, batch.Length), _classWeights, gradient);
        _parameters.ZeroGradients();
        Network.Backward(gradient);
        double norm = _clipNorm > 0 ? _parameters.ClipGradientNorm(_clipNorm) : _parameters.GradientNorm();
        if (!double.IsFinite(norm))
        {
            SkippedSteps++;
            return loss;
        }

        _optimizer.Step();
        Network.RefreshWeights();
        return loss;
    }
}
