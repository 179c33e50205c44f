namespace LstmSimd.Text;

/// <summary>How a <see cref="SequenceClassifier"/> turns the LSTM's outputs over a text into one vector for its head.</summary>
public enum SequencePooling
{
    /// <summary>
    /// The output at the last valid step: the forward direction's at t = length − 1 and, when bidirectional, the reverse
    /// direction's at t = 0 (where it has read the whole text), as PyTorch's h_n of a packed sequence.
    /// </summary>
    LastStep,

    /// <summary>The mean of the outputs over the valid steps.</summary>
    Mean,

    /// <summary>The element-wise maximum of the outputs over the valid steps.</summary>
    Max,
}

/// <summary>Pools a time-major LSTM output [T, B, F] over each sequence's valid steps into [B, F], and scatters the gradient back.</summary>
internal static class Pooling
{
    /// <summary>
    /// Writes the pooled rows; for <see cref="SequencePooling.Max"/> <paramref name="argMax"/> ([B, F]) receives the step
    /// each maximum came from. <paramref name="forwardFeatures"/> is the forward direction's share of F (F when not bidirectional).
    /// </summary>
    public static void Forward(SequencePooling pooling, ReadOnlySpan<float> output, int batch, int features, int forwardFeatures,
        ReadOnlySpan<int> lengths, Span<float> pooled, Span<int> argMax)
    {
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            Span<float> row = pooled.Slice(b * features, features);
            switch (pooling)
            {
                case SequencePooling.LastStep:
                    output.Slice(((length - 1) * batch + b) * features, forwardFeatures).CopyTo(row);
                    output.Slice(b * features + forwardFeatures, features - forwardFeatures).CopyTo(row[forwardFeatures..]);
                    break;
                case SequencePooling.Mean:
                    row.Clear();
                    for (int t = 0; t < length; t++)
                    {
                        ReadOnlySpan<float> step = output.Slice((t * batch + b) * features, features);
                        for (int f = 0; f < features; f++) row[f] += step[f];
                    }

                    float scale = 1f / length;
                    for (int f = 0; f < features; f++) row[f] *= scale;
                    break;
                default:
                    Span<int> from = argMax.Slice(b * features, features);
                    output.Slice(b * features, features).CopyTo(row);
                    from.Clear();
                    for (int t = 1; t < length; t++)
                    {
                        ReadOnlySpan<float> step = output.Slice((t * batch + b) * features, features);
                        for (int f = 0; f < features; f++)
                        {
                            if (step[f] > row[f])
                            {
                                row[f] = step[f];
                                from[f] = t;
                            }
                        }
                    }

                    break;
            }
        }
    }

    /// <summary>Clears <paramref name="gradOutput"/> ([T, B, F]) and writes into it the gradient of the pooled rows.</summary>
    public static void Backward(SequencePooling pooling, ReadOnlySpan<float> gradPooled, int steps, int batch, int features, int forwardFeatures,
        ReadOnlySpan<int> lengths, ReadOnlySpan<int> argMax, Span<float> gradOutput)
    {
        gradOutput.Slice(0, steps * batch * features).Clear();
        for (int b = 0; b < batch; b++)
        {
            int length = lengths[b];
            ReadOnlySpan<float> g = gradPooled.Slice(b * features, features);
            switch (pooling)
            {
                case SequencePooling.LastStep:
                    g[..forwardFeatures].CopyTo(gradOutput.Slice(((length - 1) * batch + b) * features, forwardFeatures));
                    g[forwardFeatures..].CopyTo(gradOutput.Slice(b * features + forwardFeatures, features - forwardFeatures));
                    break;
                case SequencePooling.Mean:
                    float scale = 1f / length;
                    for (int t = 0; t < length; t++)
                    {
                        Span<float> step = gradOutput.Slice((t * batch + b) * features, features);
                        for (int f = 0; f < features; f++) step[f] = g[f] * scale;
                    }

                    break;
                default:
                    ReadOnlySpan<int> from = argMax.Slice(b * features, features);
                    for (int f = 0; f < features; f++) gradOutput[(from[f] * batch + b) * features + f] = g[f];
                    break;
            }
        }
    }
}
