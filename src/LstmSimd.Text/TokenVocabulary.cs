namespace LstmSimd.Text;

/// <summary>
/// The tokens a model knows, each with an id: <see cref="PaddingId"/> (0) pads short texts in a batch and reads as
/// zeros, <see cref="UnknownId"/> (1) stands for every token the vocabulary does not hold, and the known tokens follow,
/// most frequent first (ties in ordinal order, so the same text always gives the same ids).
/// </summary>
public sealed class TokenVocabulary
{
    /// <summary>The id that pads a batch.</summary>
    public const int PaddingId = 0;

    /// <summary>The id of every token not in the vocabulary.</summary>
    public const int UnknownId = 1;

    /// <summary>The names <see cref="Tokens"/> shows for the two reserved ids.</summary>
    public const string PaddingToken = "<pad>", UnknownToken = "<unk>";

    private readonly Dictionary<string, int> _ids;

    /// <summary>A vocabulary of exactly <paramref name="known"/> (distinct), which get ids 2, 3, … in order.</summary>
    public TokenVocabulary(IEnumerable<string> known)
    {
        ArgumentNullException.ThrowIfNull(known);
        List<string> tokens = [PaddingToken, UnknownToken];
        _ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (string token in known)
        {
            ArgumentException.ThrowIfNullOrEmpty(token, nameof(known));
            if (token is PaddingToken or UnknownToken) throw new ArgumentException($"{token} is reserved for its own id.", nameof(known));
            if (!_ids.TryAdd(token, tokens.Count)) throw new ArgumentException($"The token {UserText.Quote(token)} appears twice.", nameof(known));
            tokens.Add(token);
        }

        Tokens = tokens;
    }

    /// <summary>Every id's token, the two reserved ones first.</summary>
    public IReadOnlyList<string> Tokens { get; }

    /// <summary>The number of ids, the two reserved ones included.</summary>
    public int Count => Tokens.Count;

    /// <summary>
    /// The tokens of <paramref name="texts"/> seen at least <paramref name="minFrequency"/> times, the
    /// <paramref name="maxSize"/> − 2 most frequent of them at most.
    /// </summary>
    public static TokenVocabulary Build(IEnumerable<IReadOnlyList<string>> texts, int minFrequency = 2, int maxSize = 30_000)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(minFrequency, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(maxSize, 3);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (IReadOnlyList<string> text in texts)
            foreach (string token in text)
                counts[token] = counts.GetValueOrDefault(token) + 1;
        IEnumerable<string> kept = counts.Where(c => c.Value >= minFrequency)
            .OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal)
            .Take(maxSize - 2).Select(c => c.Key);
        return new TokenVocabulary(kept);
    }

    /// <summary>The id of <paramref name="token"/>, or <see cref="UnknownId"/>.</summary>
    public int Id(string token) => _ids.TryGetValue(token, out int id) ? id : UnknownId;

    /// <summary>The id of each token.</summary>
    public int[] Encode(IReadOnlyList<string> tokens)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        int[] ids = new int[tokens.Count];
        for (int i = 0; i < ids.Length; i++) ids[i] = Id(tokens[i]);
        return ids;
    }
}
