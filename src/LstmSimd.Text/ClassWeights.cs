namespace LstmSimd.Text;

/// <summary>How much each class counts in a classifier's training loss.</summary>
public enum ClassWeighting
{
    /// <summary>
    /// w_c = N / (C · n_c): every class weighs as much in total, however few its examples (scikit-learn's "balanced").
    /// On balanced data every weight is 1; on imbalanced data the rare classes are not drowned out, which is what
    /// macro-F1 (every class counted alike) rewards.
    /// </summary>
    Balanced,

    /// <summary>Every example counts alike: the loss favours the frequent classes, as accuracy does.</summary>
    None,
}

/// <summary>Class weights and the class-weighted softmax cross-entropy.</summary>
public static class ClassWeights
{
    /// <summary>The weight of each of <paramref name="classes"/> classes given the training labels; a class without examples gets 0.</summary>
    public static float[] For(ReadOnlySpan<int> labels, int classes, ClassWeighting weighting)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        float[] weights = new float[classes];
        if (weighting == ClassWeighting.None)
        {
            weights.AsSpan().Fill(1);
            return weights;
        }

        long[] counts = new long[classes];
        foreach (int label in labels)
        {
            if ((uint)label >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(labels), label, $"A label is outside [0, classes={classes}).");
            counts[label]++;
        }

        for (int c = 0; c < classes; c++) weights[c] = counts[c] == 0 ? 0 : (float)(labels.Length / ((double)classes * counts[c]));
        return weights;
    }

    /// <summary>
    /// PyTorch's <c>CrossEntropyLoss(weight=w)</c> on logits, mean reduction: loss = Σ_r w[y_r]·(−log softmax(z_r)[y_r]) / Σ_r w[y_r];
    /// gradient_r = w[y_r]·(softmax(z_r) − onehot(y_r)) / Σ_r w[y_r] (overwritten). Returns 0 (and a zero gradient) when the
    /// rows' weights sum to 0.
    /// </summary>
    /// <param name="logits">[rows, classes].</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="labels">[rows], each in [0, classes).</param>
    /// <param name="weights">[classes], non-negative.</param>
    /// <param name="gradient">[rows, classes].</param>
    public static double CrossEntropy(ReadOnlySpan<float> logits, int rows, ReadOnlySpan<int> labels, ReadOnlySpan<float> weights, Span<float> gradient)
    {
        int classes = weights.Length;
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        if (logits.Length != (long)rows * classes || gradient.Length != logits.Length || labels.Length != rows)
            throw new ArgumentException($"Expected logits and gradient of [rows={rows}, classes={classes}] and labels of [rows={rows}]; got {logits.Length}, {gradient.Length} and {labels.Length} values.");
        double total = 0, weightSum = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)classes) throw new ArgumentOutOfRangeException(nameof(labels), label, $"labels[{r}] = {label} is outside [0, classes={classes}).");
            weightSum += weights[label];
        }

        if (!(weightSum > 0))
        {
            gradient.Clear();
            return 0;
        }

        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            ReadOnlySpan<float> z = logits.Slice(r * classes, classes);
            Span<float> g = gradient.Slice(r * classes, classes);
            float max = float.NegativeInfinity;
            foreach (float v in z) max = MathF.Max(max, v);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += Math.Exp((double)z[k] - max);
            double w = weights[label] / weightSum;
            total += w * (Math.Log(sum) - ((double)z[label] - max));
            for (int k = 0; k < classes; k++) g[k] = (float)(w * Math.Exp((double)z[k] - max) / sum);
            g[label] -= (float)w;
        }

        return total;
    }

    /// <summary>Softmax of each row of <paramref name="logits"/> ([rows, classes]) into <paramref name="probabilities"/>.</summary>
    internal static void Softmax(ReadOnlySpan<float> logits, int classes, Span<float> probabilities)
    {
        for (int r = 0; r < logits.Length / classes; r++)
        {
            ReadOnlySpan<float> z = logits.Slice(r * classes, classes);
            Span<float> p = probabilities.Slice(r * classes, classes);
            float max = float.NegativeInfinity;
            foreach (float v in z) max = MathF.Max(max, v);
            double sum = 0;
            for (int k = 0; k < classes; k++) sum += Math.Exp((double)z[k] - max);
            for (int k = 0; k < classes; k++) p[k] = (float)(Math.Exp((double)z[k] - max) / sum);
        }
    }
}
