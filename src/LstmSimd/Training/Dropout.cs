namespace LstmSimd.Training;

/// <summary>
/// Inverted dropout, as PyTorch applies between stacked LSTM layers in training: each value is zeroed with
/// probability p and the rest are scaled by 1/(1 − p), so inference needs no rescaling. Masks come from a
/// seeded generator: the same seed gives the same masks in the same order. The mask buffer is allocated once.
/// </summary>
internal sealed class Dropout
{
    private readonly float[] _mask;
    private readonly SeededRandom _random;
    private int _length = -1;

    /// <summary>Dropout with probability <paramref name="probability"/> in [0, 1) for up to <paramref name="capacity"/> values per call.</summary>
    public Dropout(double probability, ulong seed, int capacity)
    {
        if (!(probability >= 0 && probability < 1))
            throw new ArgumentOutOfRangeException(nameof(probability), probability, "The dropout probability must be in [0, 1).");
        ArgumentOutOfRangeException.ThrowIfNegative(capacity);
        Probability = probability;
        _mask = new float[capacity];
        _random = new SeededRandom(seed);
    }

    /// <summary>p, the probability that a value is dropped.</summary>
    public double Probability { get; }

    /// <summary>Draws a fresh mask and applies it in place: x ← x·mask, mask ∈ {0, 1/(1 − p)}.</summary>
    public void Forward(Span<float> values)
    {
        if (values.Length > _mask.Length)
            throw new ArgumentException($"values has length {values.Length}, more than the capacity {_mask.Length}.", nameof(values));
        _length = values.Length;
        float keep = 1f / (float)(1 - Probability);
        // Compare 24-bit uniforms against a threshold so the decision is exact and platform-independent.
        uint threshold = (uint)Math.Round(Probability * (1 << 24));
        for (int i = 0; i < values.Length; i++)
        {
            float m = (uint)(_random.NextUInt64() >> 40) < threshold ? 0f : keep;
            _mask[i] = m;
            values[i] *= m;
        }
    }

    /// <summary>Backpropagates through the last <see cref="Forward"/>: g ← g·mask, in place.</summary>
    public void Backward(Span<float> gradients)
    {
        if (gradients.Length != _length)
            throw new InvalidOperationException($"The gradient has length {gradients.Length}, the last forward call had {_length} values.");
        for (int i = 0; i < gradients.Length; i++) gradients[i] *= _mask[i];
    }
}
