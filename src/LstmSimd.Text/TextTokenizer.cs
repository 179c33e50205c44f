using System.Globalization;
using System.Text;

namespace LstmSimd.Text;

/// <summary>What a <see cref="TextTokenizer"/> cuts a text into.</summary>
public enum TokenKind
{
    /// <summary>Words: runs of letters, digits and combining marks (with inner apostrophes), and each other symbol on its own.</summary>
    Words,

    /// <summary>Characters: every Unicode scalar value but white space, which becomes one space per run.</summary>
    Characters,
}

/// <summary>
/// Cuts text into tokens, the same way at training and at prediction, on every machine: with <see cref="Lowercase"/> the
/// text is first lower-cased by Unicode's simple case mapping (the invariant culture). It is not Unicode-normalised
/// (runtimes without ICU data cannot), so a precomposed é and e + combining acute stay different tokens. Words are maximal runs of letters, digits, combining marks and connector punctuation, an
/// apostrophe (' or ’) joining two such runs ("don't" is one word); every other character that is not white space
/// (punctuation, currency and other symbols, emoji) is a token of its own, since "$" and "!" carry meaning. Scripts
/// written without spaces (Chinese, Japanese) come out as one word per run; use characters for them.
/// </summary>
/// <param name="Kind">Words or characters.</param>
/// <param name="Lowercase">Whether to lower-case first.</param>
public sealed record TextTokenizer(TokenKind Kind, bool Lowercase = true)
{
    /// <summary>The tokens of <paramref name="text"/>, at most <paramref name="maxTokens"/> (the first ones).</summary>
    public List<string> Tokenize(string text, int maxTokens = int.MaxValue)
    {
        ArgumentNullException.ThrowIfNull(text);
        ArgumentOutOfRangeException.ThrowIfNegative(maxTokens);
        string normal = Lowercase ? text.ToLowerInvariant() : text;
        var tokens = new List<string>();
        if (Kind == TokenKind.Characters) Characters(normal, maxTokens, tokens);
        else Words(normal, maxTokens, tokens);
        return tokens;
    }

    private static void Characters(string text, int maxTokens, List<string> tokens)
    {
        bool space = false;
        foreach (Rune rune in text.EnumerateRunes())
        {
            if (tokens.Count >= maxTokens) return;
            if (Rune.IsWhiteSpace(rune))
            {
                if (!space && tokens.Count > 0) tokens.Add(" ");
                space = true;
                continue;
            }

            space = false;
            tokens.Add(rune.ToString());
        }

        if (space && tokens.Count > 0 && tokens[^1] == " ") tokens.RemoveAt(tokens.Count - 1);
    }

    private static void Words(string text, int maxTokens, List<string> tokens)
    {
        var word = new StringBuilder();
        int i = 0;
        while (i < text.Length && tokens.Count < maxTokens)
        {
            Rune rune = Rune.GetRuneAt(text, i);
            int width = rune.Utf16SequenceLength;
            if (IsWordRune(rune))
            {
                word.Append(text, i, width);
            }
            else
            {
                bool apostrophe = (rune.Value == '\'' || rune.Value == '’') && word.Length > 0 && i + 1 < text.Length && IsWordRune(Rune.GetRuneAt(text, i + 1));
                if (apostrophe)
                {
                    word.Append(text, i, width);
                }
                else
                {
                    Flush(word, tokens);
                    if (!Rune.IsWhiteSpace(rune) && tokens.Count < maxTokens) tokens.Add(rune.ToString());
                }
            }

            i += width;
        }

        if (tokens.Count < maxTokens) Flush(word, tokens);
    }

    private static void Flush(StringBuilder word, List<string> tokens)
    {
        if (word.Length == 0) return;
        tokens.Add(word.ToString());
        word.Clear();
    }

    private static bool IsWordRune(Rune rune) => Rune.GetUnicodeCategory(rune) is
        UnicodeCategory.UppercaseLetter or UnicodeCategory.LowercaseLetter or UnicodeCategory.TitlecaseLetter or UnicodeCategory.ModifierLetter
        or UnicodeCategory.OtherLetter or UnicodeCategory.DecimalDigitNumber or UnicodeCategory.LetterNumber or UnicodeCategory.OtherNumber
        or UnicodeCategory.NonSpacingMark or UnicodeCategory.SpacingCombiningMark or UnicodeCategory.EnclosingMark or UnicodeCategory.ConnectorPunctuation;
}
