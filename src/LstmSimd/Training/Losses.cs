using LstmSimd.Kernels;

namespace LstmSimd.Training;

/// <summary>Loss functions that return the loss (in double) and write its gradient into a caller's buffer, allocating nothing.</summary>
public static class Losses
{
    /// <summary>
    /// Mean squared error over all elements, as PyTorch's <c>MSELoss</c> (mean reduction):
    /// loss = Σ (p − t)² / N; gradient[i] = 2(p[i] − t[i]) / N (overwritten).
    /// </summary>
    public static double MeanSquaredError(ReadOnlySpan<float> prediction, ReadOnlySpan<float> target, Span<float> gradient)
    {
        ShapeChecks.Length(target.Length, prediction.Length, nameof(target), "[{0}] like the prediction", prediction.Length);
        ShapeChecks.Length(gradient.Length, prediction.Length, nameof(gradient), "[{0}] like the prediction", prediction.Length);
        int n = prediction.Length;
        if (n == 0) return 0;
        double sum = 0;
        float scale = 2f / n;
        for (int i = 0; i < n; i++)
        {
            float diff = prediction[i] - target[i];
            sum += (double)diff * diff;
            gradient[i] = scale * diff;
        }

        return sum / n;
    }

    /// <summary>
    /// Softmax cross-entropy averaged over rows, as PyTorch's <c>CrossEntropyLoss</c> on logits:
    /// loss = −Σ_r log softmax(z_r)[label_r] / rows; gradient_r = (softmax(z_r) − onehot(label_r)) / rows (overwritten).
    /// The softmax subtracts each row's maximum, so large logits do not overflow.
    /// </summary>
    /// <param name="logits">[rows, classes].</param>
    /// <param name="rows">The number of rows.</param>
    /// <param name="classes">The number of classes.</param>
    /// <param name="labels">[rows], each in [0, classes).</param>
    /// <param name="gradient">[rows, classes].</param>
    public static double SoftmaxCrossEntropy(ReadOnlySpan<float> logits, int rows, int classes, ReadOnlySpan<int> labels, Span<float> gradient)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        ShapeChecks.Positive(classes, nameof(classes));
        ShapeChecks.Length(logits.Length, (long)rows * classes, nameof(logits), "[rows={0}, classes={1}]", rows, classes);
        ShapeChecks.Length(labels.Length, rows, nameof(labels), "[rows={0}]", rows);
        ShapeChecks.Length(gradient.Length, (long)rows * classes, nameof(gradient), "[rows={0}, classes={1}]", rows, classes);
        if (rows == 0) return 0;
        double total = 0;
        for (int r = 0; r < rows; r++)
        {
            int label = labels[r];
            if ((uint)label >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(labels), label, $"labels[{r}] = {label} is outside [0, classes={classes}).");
            ReadOnlySpan<float> z = logits.Slice(r * classes, classes);
            Span<float> g = gradient.Slice(r * classes, classes);
            float max = float.NegativeInfinity;
            foreach (float v in z) max = MathF.Max(max, v);
            double sum = 0;
            for (int k = 0; k < classes; k++)
            {
                double e = Math.Exp((double)z[k] - max);
                sum += e;
                g[k] = (float)e;
            }

            total += Math.Log(sum) - ((double)z[label] - max);
            float scale = (float)(1.0 / (sum * rows));
            DenseMath.Scale(scale, g);
            g[label] -= 1f / rows;
        }

        return total / rows;
    }
}
