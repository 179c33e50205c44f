namespace LstmSimd.Text;

/// <summary>
/// Scores of a classifier on labelled examples: accuracy, macro-F1 and the confusion matrix. Macro-F1 is the mean over
/// the classes of F1 = 2·precision·recall / (precision + recall), each class counted alike however rare; a class's F1 is 0
/// when it has no true positive (precision or recall undefined or 0), so a class never predicted and never present
/// counts as 0 too.
/// </summary>
public sealed class ClassificationMetrics
{
    private ClassificationMetrics(long[,] confusion, double loss)
    {
        Confusion = confusion;
        Loss = loss;
        int classes = confusion.GetLength(0);
        Classes = classes;
        long correct = 0, total = 0;
        var f1 = new double[classes];
        for (int c = 0; c < classes; c++)
        {
            long truePositive = confusion[c, c], actual = 0, predicted = 0;
            for (int k = 0; k < classes; k++)
            {
                actual += confusion[c, k];
                predicted += confusion[k, c];
                total += confusion[c, k];
            }

            correct += truePositive;
            f1[c] = truePositive == 0 ? 0 : 2.0 * truePositive / (actual + predicted);
        }

        Count = total;
        Accuracy = total == 0 ? 0 : (double)correct / total;
        F1 = f1;
        MacroF1 = f1.Average();
    }

    /// <summary>The number of classes.</summary>
    public int Classes { get; }

    /// <summary>The number of examples.</summary>
    public long Count { get; }

    /// <summary>Confusion[true class, predicted class]: how many examples of the first were predicted as the second.</summary>
    public long[,] Confusion { get; }

    /// <summary>The share of examples predicted right.</summary>
    public double Accuracy { get; }

    /// <summary>Each class's F1.</summary>
    public IReadOnlyList<double> F1 { get; }

    /// <summary>The mean of the classes' F1.</summary>
    public double MacroF1 { get; }

    /// <summary>The model's loss on the examples (cross-entropy, natural log), or NaN where a model gives none.</summary>
    public double Loss { get; }

    /// <summary>Scores predictions against the truth; both are class indices in [0, classes).</summary>
    public static ClassificationMetrics From(ReadOnlySpan<int> actual, ReadOnlySpan<int> predicted, int classes, double loss = double.NaN)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(classes);
        if (actual.Length != predicted.Length)
            throw new ArgumentException($"There are {actual.Length} true classes and {predicted.Length} predictions; they must pair up.");
        var confusion = new long[classes, classes];
        for (int i = 0; i < actual.Length; i++)
        {
            if ((uint)actual[i] >= (uint)classes || (uint)predicted[i] >= (uint)classes)
                throw new ArgumentOutOfRangeException(nameof(actual), $"Example {i}: class {actual[i]} predicted as {predicted[i]}; classes are in [0, {classes}).");
            confusion[actual[i], predicted[i]]++;
        }

        return new ClassificationMetrics(confusion, loss);
    }
}
