namespace LstmSimd.Text;

/// <summary>
/// Corpus-level translation scores, 0 to 100: chrF (character n-gram F-score) and BLEU-4, both computed as sacreBLEU
/// computes them, from statistics summed over every sentence before the score is formed.
/// </summary>
public static class TranslationMetrics
{
    /// <summary>
    /// chrF with β = 2 over character n-grams of order 1 to 6, whitespace removed (sacreBLEU's default <c>CHRF()</c>):
    /// for each order, precision and recall of the clipped n-gram matches, averaged over the orders that have n-grams on
    /// both sides (a hypothesis n-gram counts only when its reference has n-grams of that order), then
    /// F_β = (1 + β²)·P·R / (β²·P + R).
    /// </summary>
    public static double ChrF(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references, int order = 6, double beta = 2)
    {
        CheckPairs(hypotheses, references);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(order);
        var stats = new long[order, 3]; // hypothesis n-grams, reference n-grams, matches
        for (int s = 0; s < hypotheses.Count; s++)
        {
            string hypothesis = string.Concat(hypotheses[s].Where(c => !char.IsWhiteSpace(c)));
            string reference = string.Concat(references[s].Where(c => !char.IsWhiteSpace(c)));
            for (int n = 1; n <= order; n++)
            {
                Dictionary<string, int> hyp = Count(Enumerable.Range(0, Math.Max(0, hypothesis.Length - n + 1)).Select(i => hypothesis.Substring(i, n)));
                Dictionary<string, int> refs = Count(Enumerable.Range(0, Math.Max(0, reference.Length - n + 1)).Select(i => reference.Substring(i, n)));
                (long hypCount, long refCount, long matches) = MatchStatistics(hyp, refs);
                stats[n - 1, 0] += refCount > 0 ? hypCount : 0;
                stats[n - 1, 1] += refCount;
                stats[n - 1, 2] += matches;
            }
        }

        const double eps = 1e-16;
        double precision = 0, recall = 0;
        int effective = 0;
        for (int n = 0; n < order; n++)
        {
            if (stats[n, 0] == 0 || stats[n, 1] == 0) continue;
            precision += (double)stats[n, 2] / stats[n, 0];
            recall += (double)stats[n, 2] / stats[n, 1];
            effective++;
        }

        if (effective == 0) return 0;
        precision /= effective;
        recall /= effective;
        double factor = beta * beta;
        return precision + recall < eps ? 0 : 100 * (1 + factor) * precision * recall / (factor * precision + recall);
    }

    /// <summary>
    /// Corpus BLEU-4 on whitespace-separated tokens (sacreBLEU with <c>tokenize="none"</c>, <c>smooth_method="none"</c>):
    /// the geometric mean of the clipped 1- to 4-gram precisions times the brevity penalty exp(1 − r/c) when the
    /// hypotheses (c tokens) are shorter than the references (r tokens); 0 when some order has no match.
    /// </summary>
    public static double Bleu(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references, int order = 4)
    {
        CheckPairs(hypotheses, references);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(order);
        var matches = new long[order];
        var totals = new long[order];
        long hypothesisLength = 0, referenceLength = 0;
        for (int s = 0; s < hypotheses.Count; s++)
        {
            string[] hyp = Words(hypotheses[s]), reference = Words(references[s]);
            hypothesisLength += hyp.Length;
            referenceLength += reference.Length;
            for (int n = 1; n <= order; n++)
            {
                (long hypCount, _, long matched) = MatchStatistics(Count(NGrams(hyp, n)), Count(NGrams(reference, n)));
                totals[n - 1] += hypCount;
                matches[n - 1] += matched;
            }
        }

        if (hypothesisLength == 0) return 0;
        double logPrecision = 0;
        for (int n = 0; n < order; n++)
        {
            if (matches[n] == 0) return 0;
            logPrecision += Math.Log((double)matches[n] / totals[n]) / order;
        }

        double brevity = hypothesisLength >= referenceLength ? 1 : Math.Exp(1 - (double)referenceLength / hypothesisLength);
        return 100 * brevity * Math.Exp(logPrecision);
    }

    /// <summary>The words of a sentence: split on whitespace.</summary>
    public static string[] Words(string sentence)
    {
        ArgumentNullException.ThrowIfNull(sentence);
        return sentence.Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries);
    }

    private static IEnumerable<string> NGrams(string[] words, int n) =>
        Enumerable.Range(0, Math.Max(0, words.Length - n + 1)).Select(i => string.Join('\u0001', words, i, n));

    private static Dictionary<string, int> Count(IEnumerable<string> grams)
    {
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string g in grams) counts[g] = counts.GetValueOrDefault(g) + 1;
        return counts;
    }

    private static (long Hypothesis, long Reference, long Matches) MatchStatistics(Dictionary<string, int> hypothesis, Dictionary<string, int> reference)
    {
        long hyp = 0, matched = 0;
        foreach ((string gram, int count) in hypothesis)
        {
            hyp += count;
            if (reference.TryGetValue(gram, out int r)) matched += Math.Min(count, r);
        }

        return (hyp, reference.Values.Sum(), matched);
    }

    private static void CheckPairs(IReadOnlyList<string> hypotheses, IReadOnlyList<string> references)
    {
        ArgumentNullException.ThrowIfNull(hypotheses);
        ArgumentNullException.ThrowIfNull(references);
        if (hypotheses.Count != references.Count)
            throw new ArgumentException($"{hypotheses.Count} hypotheses for {references.Count} references; give one reference per hypothesis.");
        if (hypotheses.Count == 0) throw new ArgumentException("No sentences to score.");
    }
}

/// <summary>
/// What a translator has to beat: copying the source unchanged, and a word-by-word lookup that replaces each source word
/// by the target word it was most often aligned with in the training pairs.
/// </summary>
/// <remarks>
/// The lookup learns from the training pairs whose source and target have the same number of words, aligning words by
/// position (most short interface messages — "Open File" / "Datei öffnen" aside — are one or two words); a word never
/// aligned is copied. Ties go to the ordinally first target word, so the table is deterministic.
/// </remarks>
public sealed class WordLookupBaseline
{
    private readonly Dictionary<string, string> _table;

    private WordLookupBaseline(Dictionary<string, string> table) => _table = table;

    /// <summary>Source words the table translates.</summary>
    public int Count => _table.Count;

    /// <summary>Learns the table from <paramref name="pairs"/>.</summary>
    public static WordLookupBaseline Learn(IEnumerable<TranslationPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        var counts = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        foreach (TranslationPair pair in pairs)
        {
            string[] source = TranslationMetrics.Words(pair.Source), target = TranslationMetrics.Words(pair.Target);
            if (source.Length != target.Length) continue;
            for (int i = 0; i < source.Length; i++)
            {
                if (!counts.TryGetValue(source[i], out Dictionary<string, int>? c)) counts[source[i]] = c = new(StringComparer.Ordinal);
                c[target[i]] = c.GetValueOrDefault(target[i]) + 1;
            }
        }

        return new WordLookupBaseline(counts.ToDictionary(e => e.Key,
            e => e.Value.OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).First().Key, StringComparer.Ordinal));
    }

    /// <summary>Each word replaced by its most frequent aligned translation (unknown words copied), joined by single spaces.</summary>
    public string Translate(string source) =>
        string.Join(' ', TranslationMetrics.Words(source).Select(w => _table.TryGetValue(w, out string? t) ? t : w));
}
