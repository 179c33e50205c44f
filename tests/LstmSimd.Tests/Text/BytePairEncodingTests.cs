using LstmSimd.Text;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Text;

/// <summary>Byte-pair encoding against merges worked out by hand (Sennrich et al.'s low/lower/newest/widest example).</summary>
public sealed class BytePairEncodingTests
{
    // Pair counts at the start: e+s 9, s+t 9, w+e 8, l+o 7, o+w 7, n+e 6, e+w 6, w+i 3, i+d 3, d+e 3, e+r 2.
    // 1. e+s (9, tied with s+t, ordinally first); 2. es+t (9); 3. l+o (7, tied with o+w); 4. lo+w (7);
    // then n+e, e+w and w+est tie at 6: 5. e+w; then ew+est and n+ew tie at 6: 6. ew+est; 7. n+ewest; then d+est, i+d
    // and w+i tie at 3: 8. d+est; 9. i+dest; 10. w+idest; then e+r and low+e tie at 2: 11. e+r; 12. low+er; no pair is left.
    private static readonly string[] Corpus = [.. Enumerable.Repeat("low", 5), .. Enumerable.Repeat("lower", 2), .. Enumerable.Repeat("newest", 6), .. Enumerable.Repeat("widest", 3)];

    [Fact]
    public void The_merges_are_those_worked_out_by_hand()
    {
        BytePairEncoding encoding = BytePairEncoding.Learn(Corpus, merges: 100);
        Assert.Equal("deilnorstw", encoding.Characters);
        Assert.Equal([("e", "s"), ("es", "t"), ("l", "o"), ("lo", "w"), ("e", "w"), ("ew", "est"), ("n", "ewest"), ("d", "est"), ("i", "dest"), ("w", "idest"), ("e", "r"), ("low", "er")],
            encoding.Merges);
        Assert.Equal(2 + 10 + 12, encoding.Count);
        Assert.Equal(["widest"], encoding.Encode("widest").Pieces);
    }

    [Fact]
    public void Encoding_applies_the_merges_in_the_order_they_were_learned()
    {
        BytePairEncoding encoding = BytePairEncoding.Learn(Corpus, merges: 4);
        Assert.Equal([("e", "s"), ("es", "t"), ("l", "o"), ("lo", "w")], encoding.Merges);
        (int[] ids, string[] pieces) = encoding.Encode("lowest");
        Assert.Equal(["low", "est"], pieces);
        Assert.Equal([2 + 10 + 3, 2 + 10 + 1], ids); // after the end, the unknown symbol and ten characters: es, est, lo, low
        (ids, pieces) = encoding.Encode("newer x");
        Assert.Equal(["n", "e", "w", "e", "r", "\u2581", "x"], pieces);
        Assert.Equal([2 + 4, 2 + 1, 2 + 9, 2 + 1, 2 + 6, BytePairEncoding.UnknownId, BytePairEncoding.UnknownId], ids);
        Assert.Equal("newer x", BytePairEncoding.Decode(pieces));
    }

    [Fact]
    public void Text_is_cut_at_spaces_and_where_letters_meet_other_characters()
    {
        Assert.Equal(["Open", "\u2581file", ":", "\u2581%", "s"], BytePairEncoding.Chunks("Open file: %s"));
        Assert.Equal(["\u2581", "\u2581a", "...", "\u25811"], BytePairEncoding.Chunks("  a... 1"));
        Assert.Contains("U+2581", Assert.Throws<ArgumentException>(() => BytePairEncoding.Chunks("a\u2581").ToList()).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decoding_gives_any_text_back_exactly()
    {
        BytePairEncoding encoding = BytePairEncoding.Learn(["Open file", "Datei öffnen", "Save file as…", "%s: not found"], merges: 30);
        var random = new SeededRandom(3);
        const string alphabet = "Opfilesa öDtn…%:xyz_-.";
        for (int k = 0; k < 200; k++)
        {
            string text = new([.. Enumerable.Range(0, random.NextInt32(15)).Select(_ => alphabet[random.NextInt32(alphabet.Length)])]);
            (int[] ids, string[] pieces) = encoding.Encode(text);
            Assert.Equal(text, BytePairEncoding.Decode(pieces));
            Assert.Equal(ids.Length, pieces.Length);
            for (int i = 0; i < ids.Length; i++)
            {
                if (ids[i] == BytePairEncoding.UnknownId) Assert.Single(pieces[i]);
                else Assert.Equal(encoding.Symbols[ids[i]], pieces[i]);
            }
        }
    }

    [Fact]
    public void Rare_characters_and_bad_merges_are_refused_as_symbols()
    {
        BytePairEncoding encoding = BytePairEncoding.Learn(["aab", "aac"], merges: 0, minCharacterCount: 2);
        Assert.Equal("a", encoding.Characters);
        Assert.Contains("joins a symbol not defined before it", Assert.Throws<ArgumentException>(() => new BytePairEncoding("ab", [("a", "c")])).Message, StringComparison.Ordinal);
        Assert.Contains("appears twice", Assert.Throws<ArgumentException>(() => new BytePairEncoding("aa", [])).Message, StringComparison.Ordinal);
    }
}
