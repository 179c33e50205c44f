namespace LstmSimd.Text;

/// <summary>
/// Several classifiers of the same classes (typically one model trained with several seeds) read as one: a text's class
/// probabilities are the mean of the members', which evens out what one run learnt by chance.
/// </summary>
public sealed class ClassifierEnsemble
{
    private readonly SequenceClassifier[] _members;

    /// <summary>An ensemble of <paramref name="members"/>, which must name the same classes in the same order.</summary>
    /// <exception cref="ArgumentException">No member, or members whose classes differ (named).</exception>
    public ClassifierEnsemble(IReadOnlyList<SequenceClassifier> members)
    {
        ArgumentNullException.ThrowIfNull(members);
        if (members.Count == 0) throw new ArgumentException("An ensemble needs at least one classifier.", nameof(members));
        _members = [.. members];
        for (int m = 1; m < _members.Length; m++)
        {
            if (!_members[m].Labels.SequenceEqual(_members[0].Labels, StringComparer.Ordinal))
                throw new ArgumentException($"Classifier {m + 1} has the classes {UserText.QuoteList([.. _members[m].Labels])}; the first has {UserText.QuoteList([.. _members[0].Labels])}.", nameof(members));
        }
    }

    /// <summary>The class names, in the order of the probabilities.</summary>
    public IReadOnlyList<string> Labels => _members[0].Labels;

    /// <summary>The number of members.</summary>
    public int Count => _members.Length;

    /// <summary>The mean of the members' class probabilities for each text.</summary>
    public float[][] Probabilities(IReadOnlyList<string> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        var sums = new double[texts.Count][];
        for (int i = 0; i < sums.Length; i++) sums[i] = new double[Labels.Count];
        foreach (SequenceClassifier member in _members)
        {
            float[][] probabilities = member.Probabilities(texts);
            for (int i = 0; i < sums.Length; i++)
                for (int k = 0; k < sums[i].Length; k++) sums[i][k] += probabilities[i][k];
        }

        return [.. sums.Select(row => row.Select(p => (float)(p / _members.Length)).ToArray())];
    }

    /// <summary>The ensemble's scores on labelled texts (labels by name; a name the models do not know is refused).</summary>
    public ClassificationMetrics Evaluate(IReadOnlyList<LabelledText> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        int[] labels = [.. texts.Select(e => ClassifierTraining.LabelIndex(Labels, e.Label))];
        float[][] probabilities = Probabilities([.. texts.Select(e => e.Text)]);
        double loss = 0;
        for (int i = 0; i < labels.Length; i++) loss -= Math.Log(Math.Max(probabilities[i][labels[i]], 1e-30));
        return ClassificationMetrics.From(labels, [.. probabilities.Select(SequenceClassifier.ArgMax)], Labels.Count, labels.Length > 0 ? loss / labels.Length : 0);
    }
}
