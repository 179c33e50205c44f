using System.Text;

namespace LstmSimd.Text;

/// <summary>
/// The settings a classifier run takes from its training texts when the user leaves them open, so that a CSV of reviews,
/// tweets or mails trains sensibly without tuning: the token kind from the script, the length read from the texts'
/// lengths, the vocabulary's cut-off and the number of passes from the amount of text.
/// </summary>
public static class ClassifierDefaults
{
    /// <summary>Texts are read up to the length that covers this share of the training texts whole.</summary>
    public const double CoveredShare = 0.95;

    /// <summary>The bounds of the suggested <see cref="ClassifierOptions.MaxTokens"/>.</summary>
    public const int MinLength = 16, MaxLength = 1000;

    /// <summary>Below this many training tokens, a word seen once is kept (small data has few repeats).</summary>
    public const int SmallCorpusTokens = 100_000;

    /// <summary>The fewest training steps the suggested epochs add up to (small data needs many passes).</summary>
    public const int MinSteps = 400;

    /// <summary>
    /// Characters for texts written mostly in scripts without spaces between words (Chinese, Japanese, Thai, Lao, Khmer,
    /// Burmese), where "words" would be whole phrases; words otherwise.
    /// </summary>
    public static TokenKind TokenKindFor(IReadOnlyList<LabelledText> texts)
    {
        ArgumentNullException.ThrowIfNull(texts);
        long letters = 0, unspaced = 0;
        foreach (LabelledText text in texts)
        {
            foreach (Rune rune in text.Text.EnumerateRunes())
            {
                if (!Rune.IsLetter(rune)) continue;
                letters++;
                if (IsUnspacedScript(rune.Value)) unspaced++;
            }
        }

        return unspaced * 2 > letters ? TokenKind.Characters : TokenKind.Words;
    }

    /// <summary>
    /// <paramref name="options"/> with the settings not in <paramref name="fixedByUser"/> taken from <paramref name="train"/>:
    /// <list type="bullet">
    /// <item><see cref="ClassifierOptions.Tokens"/> by <see cref="TokenKindFor"/>;</item>
    /// <item><see cref="ClassifierOptions.MaxTokens"/>: the length that covers <see cref="CoveredShare"/> of the texts whole,
    /// within [<see cref="MinLength"/>, <see cref="MaxLength"/>] (a text's head carries its subject and first lines);</item>
    /// <item><see cref="ClassifierOptions.MinFrequency"/>: 1 below <see cref="SmallCorpusTokens"/> training tokens, else 2;</item>
    /// <item><see cref="ClassifierOptions.MaxEpochs"/>: at least 20, and enough for <see cref="MinSteps"/> steps;
    /// <see cref="ClassifierOptions.Patience"/> a tenth of that, at least 4.</item>
    /// </list>
    /// </summary>
    public static ClassifierOptions FitTo(ClassifierOptions options, IReadOnlyList<LabelledText> train, ClassifierSetting fixedByUser = ClassifierSetting.None)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(train);
        if (train.Count == 0) throw new ArgumentException("Suggesting settings needs at least one training text.", nameof(train));
        ClassifierOptions fitted = options;
        if (!fixedByUser.HasFlag(ClassifierSetting.Tokens)) fitted = fitted with { Tokens = TokenKindFor(train) };
        var tokenizer = new TextTokenizer(fitted.Tokens, fitted.Lowercase);
        int[] lengths = [.. train.Select(e => tokenizer.Tokenize(e.Text).Count).Order()];
        if (!fixedByUser.HasFlag(ClassifierSetting.MaxTokens))
        {
            int covering = lengths[Math.Min(lengths.Length - 1, (int)Math.Ceiling(CoveredShare * lengths.Length) - 1)];
            fitted = fitted with { MaxTokens = Math.Clamp(covering, MinLength, MaxLength) };
        }

        if (!fixedByUser.HasFlag(ClassifierSetting.MinFrequency))
        {
            long tokens = lengths.Sum(length => (long)Math.Min(length, fitted.MaxTokens));
            fitted = fitted with { MinFrequency = tokens < SmallCorpusTokens ? 1 : 2 };
        }

        if (!fixedByUser.HasFlag(ClassifierSetting.Epochs))
        {
            int stepsPerEpoch = (train.Count + fitted.BatchSize - 1) / fitted.BatchSize;
            int epochs = Math.Max(20, (MinSteps + stepsPerEpoch - 1) / stepsPerEpoch);
            fitted = fitted with { MaxEpochs = epochs, Patience = fixedByUser.HasFlag(ClassifierSetting.Patience) ? fitted.Patience : Math.Max(4, epochs / 10) };
        }

        return fitted;
    }

    private static bool IsUnspacedScript(int codePoint) => codePoint is
        (>= 0x3040 and <= 0x30FF) // Hiragana, Katakana
        or (>= 0x3400 and <= 0x4DBF) or (>= 0x4E00 and <= 0x9FFF) or (>= 0xF900 and <= 0xFAFF) or (>= 0x20000 and <= 0x3134F) // Han
        or (>= 0x0E00 and <= 0x0EFF) // Thai, Lao
        or (>= 0x1000 and <= 0x109F) // Myanmar
        or (>= 0x1780 and <= 0x17FF); // Khmer
}

/// <summary>The settings of <see cref="ClassifierDefaults.FitTo"/> that the user chose (and it leaves alone).</summary>
[Flags]
public enum ClassifierSetting
{
    /// <summary>None: every setting is taken from the data.</summary>
    None = 0,

    /// <summary><see cref="ClassifierOptions.Tokens"/>.</summary>
    Tokens = 1,

    /// <summary><see cref="ClassifierOptions.MaxTokens"/>.</summary>
    MaxTokens = 2,

    /// <summary><see cref="ClassifierOptions.MinFrequency"/>.</summary>
    MinFrequency = 4,

    /// <summary><see cref="ClassifierOptions.MaxEpochs"/>.</summary>
    Epochs = 8,

    /// <summary><see cref="ClassifierOptions.Patience"/>.</summary>
    Patience = 16,
}
