using System.Text;

namespace LstmSimd.Text;

/// <summary>
/// Subword units learned by byte-pair encoding (Sennrich et al., 2016) over characters: starting from the characters of
/// the training text, the most frequent adjacent pair of symbols is merged into a new symbol, again and again, so that
/// frequent words become one symbol and rare words (names, file names) a few pieces that can still be copied.
/// </summary>
/// <remarks>
/// A space becomes the mark <c>▁</c> (U+2581) on the next word's first piece, so decoding is concatenation and gives
/// the text back exactly. Merges never cross a word boundary nor the boundary between letters or digits and other
/// characters (<c>"file:"</c> is <c>"file"</c> then <c>":"</c>). Characters met fewer than the minimum count of times
/// in the training text are not symbols: they, and any character never seen, encode as <see cref="UnknownId"/>, whose
/// piece keeps the character. Id 0 is kept for the end of a sentence (and the start, as a decoder input), id 1 for the
/// unknown symbol; the symbols follow from id 2. Ties between equally frequent pairs go to the ordinally first pair.
/// </remarks>
public sealed class BytePairEncoding
{
    /// <summary>The id of the end of a sentence (and of its start, read by a decoder).</summary>
    public const int EndId = 0;

    /// <summary>The id of a character the encoding has no symbol for.</summary>
    public const int UnknownId = 1;

    /// <summary>The mark a space becomes at the start of the next word.</summary>
    public const char SpaceMark = '\u2581';

    private readonly Dictionary<string, int> _ids = new(StringComparer.Ordinal);
    private readonly Dictionary<(int Left, int Right), (int Rank, int Merged)> _merges = [];

    /// <summary>An encoding of the given base characters and merges (each a pair of symbols already defined, in order).</summary>
    /// <exception cref="ArgumentException">A character repeats, or a merge names a symbol not defined before it.</exception>
    public BytePairEncoding(string characters, IReadOnlyList<(string Left, string Right)> merges)
    {
        ArgumentNullException.ThrowIfNull(characters);
        ArgumentNullException.ThrowIfNull(merges);
        var symbols = new List<string> { "", "" };
        foreach (char c in characters)
        {
            if (char.IsSurrogate(c) || c == ' ') throw new ArgumentException($"U+{(int)c:X4} cannot be a base symbol (a space or half of a surrogate pair).", nameof(characters));
            if (!_ids.TryAdd(c.ToString(), symbols.Count)) throw new ArgumentException($"The character U+{(int)c:X4} appears twice.", nameof(characters));
            symbols.Add(c.ToString());
        }

        for (int rank = 0; rank < merges.Count; rank++)
        {
            (string left, string right) = merges[rank];
            if (left is null || right is null || !_ids.TryGetValue(left, out int l) || !_ids.TryGetValue(right, out int r))
                throw new ArgumentException($"Merge {rank} ({UserText.Quote(left ?? "null")} + {UserText.Quote(right ?? "null")}) joins a symbol not defined before it.", nameof(merges));
            string merged = left + right;
            if (!_ids.TryAdd(merged, symbols.Count)) throw new ArgumentException($"Merge {rank} makes {UserText.Quote(merged)}, which is already a symbol.", nameof(merges));
            if (!_merges.TryAdd((l, r), (rank, symbols.Count))) throw new ArgumentException($"Merge {rank} repeats an earlier merge.", nameof(merges));
            symbols.Add(merged);
        }

        Characters = characters;
        Merges = [.. merges];
        Symbols = symbols;
    }

    /// <summary>The base characters, ids 2 onwards in this order.</summary>
    public string Characters { get; }

    /// <summary>The merges in the order they were learned (and are applied).</summary>
    public IReadOnlyList<(string Left, string Right)> Merges { get; }

    /// <summary>Every symbol's text by id (ids 0 and 1, the end and the unknown symbol, are empty).</summary>
    public IReadOnlyList<string> Symbols { get; }

    /// <summary>Ids: the end, the unknown symbol, the characters and the merges.</summary>
    public int Count => Symbols.Count;

    /// <summary>
    /// Learns <paramref name="merges"/> merges (fewer if no pair occurs twice) from <paramref name="texts"/>, over the
    /// characters met at least <paramref name="minCharacterCount"/> times.
    /// </summary>
    public static BytePairEncoding Learn(IEnumerable<string> texts, int merges, int minCharacterCount = 2)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfNegative(merges);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minCharacterCount);
        var chunkCounts = new Dictionary<string, long>(StringComparer.Ordinal);
        var characterCounts = new Dictionary<char, long>();
        foreach (string text in texts)
        {
            ArgumentNullException.ThrowIfNull(text, nameof(texts));
            foreach (string chunk in Chunks(text))
            {
                chunkCounts[chunk] = chunkCounts.GetValueOrDefault(chunk) + 1;
                foreach (char c in chunk) characterCounts[c] = characterCounts.GetValueOrDefault(c) + 1;
            }
        }

        char[] kept = [.. characterCounts.Where(e => e.Value >= minCharacterCount && !char.IsSurrogate(e.Key)).Select(e => e.Key).Order()];
        var symbols = new List<string> { "", "" };
        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (char c in kept)
        {
            ids[c.ToString()] = symbols.Count;
            symbols.Add(c.ToString());
        }

        // Each distinct chunk as a list of symbol ids (unknown characters as −1, never merged), with its count.
        string[] chunkTexts = [.. chunkCounts.Keys.Order(StringComparer.Ordinal)];
        var words = new List<int>[chunkTexts.Length];
        var frequency = new long[chunkTexts.Length];
        var pairCounts = new Dictionary<(int, int), long>();
        var pairWords = new Dictionary<(int, int), HashSet<int>>();
        void Count(int word, long sign)
        {
            List<int> w = words[word];
            for (int i = 0; i + 1 < w.Count; i++)
            {
                if (w[i] < 0 || w[i + 1] < 0) continue;
                var pair = (w[i], w[i + 1]);
                pairCounts[pair] = pairCounts.GetValueOrDefault(pair) + sign * frequency[word];
                if (sign > 0)
                {
                    if (!pairWords.TryGetValue(pair, out HashSet<int>? set)) pairWords[pair] = set = [];
                    set.Add(word);
                }
            }
        }

        for (int k = 0; k < chunkTexts.Length; k++)
        {
            words[k] = [.. chunkTexts[k].Select(c => ids.TryGetValue(c.ToString(), out int id) ? id : -1)];
            frequency[k] = chunkCounts[chunkTexts[k]];
            Count(k, +1);
        }

        var learned = new List<(string, string)>();
        while (learned.Count < merges)
        {
            (int Left, int Right) best = (-1, -1);
            long bestCount = 1;
            foreach (((int, int) pair, long count) in pairCounts)
            {
                if (count > bestCount || (count == bestCount && best.Left >= 0 && ComparePairs(symbols, pair, best) < 0))
                {
                    best = pair;
                    bestCount = count;
                }
            }

            if (best.Left < 0) break; // no pair occurs twice
            string merged = symbols[best.Left] + symbols[best.Right];
            int mergedId = symbols.Count;
            symbols.Add(merged);
            ids[merged] = mergedId;
            learned.Add((symbols[best.Left], symbols[best.Right]));
            foreach (int word in pairWords[best].Order().ToArray())
            {
                Count(word, -1);
                words[word] = MergeAll(words[word], best.Left, best.Right, mergedId);
                Count(word, +1);
            }

            pairCounts.Remove(best);
            pairWords.Remove(best);
        }

        return new BytePairEncoding(new string(kept), learned);
    }

    private static int ComparePairs(List<string> symbols, (int Left, int Right) a, (int Left, int Right) b)
    {
        int c = string.CompareOrdinal(symbols[a.Left], symbols[b.Left]);
        return c != 0 ? c : string.CompareOrdinal(symbols[a.Right], symbols[b.Right]);
    }

    private static List<int> MergeAll(List<int> word, int left, int right, int merged)
    {
        var result = new List<int>(word.Count);
        for (int i = 0; i < word.Count; i++)
        {
            if (i + 1 < word.Count && word[i] == left && word[i + 1] == right)
            {
                result.Add(merged);
                i++;
            }
            else result.Add(word[i]);
        }

        return result;
    }

    /// <summary>
    /// The pieces a text is cut into before merging: spaces become <see cref="SpaceMark"/> on the following character, and
    /// a new piece starts at each mark and wherever letters or digits meet other characters.
    /// </summary>
    public static IEnumerable<string> Chunks(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        if (text.Contains(SpaceMark)) throw new ArgumentException($"The text {UserText.Quote(text)} holds U+2581 ('{SpaceMark}'), the mark this encoding gives spaces.", nameof(text));
        string marked = text.Replace(' ', SpaceMark);
        int start = 0;
        for (int i = 1; i <= marked.Length; i++)
        {
            if (i == marked.Length || marked[i] == SpaceMark || (marked[i - 1] != SpaceMark && IsWordCharacter(marked[i - 1]) != IsWordCharacter(marked[i])))
            {
                yield return marked[start..i];
                start = i;
            }
        }
    }

    private static bool IsWordCharacter(char c) => char.IsLetterOrDigit(c) || char.GetUnicodeCategory(c) is System.Globalization.UnicodeCategory.NonSpacingMark or System.Globalization.UnicodeCategory.SpacingCombiningMark;

    /// <summary>
    /// The ids of <paramref name="text"/> and, for each, the text it stands for (a space as <see cref="SpaceMark"/>; an
    /// unknown symbol's piece is its character).
    /// </summary>
    /// <exception cref="ArgumentException">The text holds <see cref="SpaceMark"/>, which this encoding reserves.</exception>
    public (int[] Ids, string[] Pieces) Encode(string text)
    {
        var ids = new List<int>();
        var pieces = new List<string>();
        foreach (string chunk in Chunks(text))
        {
            var symbols = new List<int>(chunk.Length);
            var texts = new List<string>(chunk.Length);
            foreach (char c in chunk)
            {
                symbols.Add(_ids.TryGetValue(c.ToString(), out int id) ? id : UnknownId);
                texts.Add(c.ToString());
            }

            while (true)
            {
                int at = -1, bestRank = int.MaxValue, merged = 0;
                for (int i = 0; i + 1 < symbols.Count; i++)
                {
                    if (_merges.TryGetValue((symbols[i], symbols[i + 1]), out (int Rank, int Merged) m) && m.Rank < bestRank)
                        (at, bestRank, merged) = (i, m.Rank, m.Merged);
                }

                if (at < 0) break;
                symbols[at] = merged;
                texts[at] += texts[at + 1];
                symbols.RemoveAt(at + 1);
                texts.RemoveAt(at + 1);
            }

            ids.AddRange(symbols);
            pieces.AddRange(texts);
        }

        return ([.. ids], [.. pieces]);
    }

    /// <summary>The text of <paramref name="pieces"/>: concatenated, marks back to spaces.</summary>
    public static string Decode(IEnumerable<string> pieces)
    {
        ArgumentNullException.ThrowIfNull(pieces);
        var text = new StringBuilder();
        foreach (string piece in pieces) text.Append(piece);
        return text.Replace(SpaceMark, ' ').ToString();
    }
}
