namespace LstmSimd.Text;

/// <summary>
/// Bits per character of count-based models fitted on training text, the baselines a character-level LSTM must
/// beat: a unigram with add-one smoothing, and a bigram with add-k smoothing where k is the best of a small grid
/// on the evaluated text itself (a generous baseline).
/// </summary>
public static class NGramBaselines
{
    /// <summary>−mean log₂ p(c) under the add-one unigram of <paramref name="train"/>.</summary>
    public static double UnigramBitsPerChar(ReadOnlySpan<int> train, ReadOnlySpan<int> evaluate, int vocabulary)
    {
        var counts = new long[vocabulary];
        foreach (int c in train) counts[c]++;
        double bits = 0;
        foreach (int c in evaluate) bits -= Math.Log2((counts[c] + 1.0) / (train.Length + vocabulary));
        return bits / evaluate.Length;
    }

    /// <summary>−mean log₂ p(c | previous c) under the add-k bigram of <paramref name="train"/>, with the best k of {1, 0.3, 0.1, 0.03, 0.01}.</summary>
    public static double BigramBitsPerChar(ReadOnlySpan<int> train, ReadOnlySpan<int> evaluate, int vocabulary)
    {
        var pairs = new long[Sizes.Elements("bigrams vocabulary × vocabulary", vocabulary, vocabulary)];
        var contexts = new long[vocabulary];
        for (int i = 1; i < train.Length; i++)
        {
            pairs[train[i - 1] * vocabulary + train[i]]++;
            contexts[train[i - 1]]++;
        }

        double best = double.PositiveInfinity;
        foreach (double k in (ReadOnlySpan<double>)[1, 0.3, 0.1, 0.03, 0.01])
        {
            double bits = 0;
            for (int i = 1; i < evaluate.Length; i++)
                bits -= Math.Log2((pairs[evaluate[i - 1] * vocabulary + evaluate[i]] + k) / (contexts[evaluate[i - 1]] + k * vocabulary));
            best = Math.Min(best, bits / (evaluate.Length - 1));
        }

        return best;
    }
}
