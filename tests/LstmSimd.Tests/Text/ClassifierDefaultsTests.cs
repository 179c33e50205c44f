using LstmSimd.Text;
using Xunit;

namespace LstmSimd.Tests.Text;

/// <summary>The settings a classifier run takes from its data, and the word-pair features of the baselines, against hand counts.</summary>
public sealed class ClassifierDefaultsTests
{
    private static List<LabelledText> TextsOfWordCounts(IEnumerable<int> counts) =>
        [.. counts.Select((n, i) => new LabelledText(string.Join(' ', Enumerable.Repeat("word", n)), i % 2 == 0 ? "a" : "b"))];

    [Fact]
    public void Texts_mostly_in_scripts_without_spaces_are_read_as_characters()
    {
        Assert.Equal(TokenKind.Characters, ClassifierDefaults.TokenKindFor([new("这部电影非常好看", "pos"), new("映画はとても退屈だった", "neg")]));
        Assert.Equal(TokenKind.Characters, ClassifierDefaults.TokenKindFor([new("ภาพยนตร์เรื่องนี้ดีมาก OK", "pos")]));
        Assert.Equal(TokenKind.Words, ClassifierDefaults.TokenKindFor([new("The film was great", "pos"), new("Der Film war schrecklich, 非常", "neg")]));
        Assert.Equal(TokenKind.Words, ClassifierDefaults.TokenKindFor([new("Фильм был отличный", "pos")]));
    }

    [Fact]
    public void A_small_set_of_short_texts_keeps_every_word_reads_them_whole_and_gets_enough_steps()
    {
        // 40 texts of 1..40 words: 95% of them (38) hold at most 38 words; 820 tokens in all; 2 batches of 32 per epoch.
        ClassifierOptions fitted = ClassifierDefaults.FitTo(new ClassifierOptions(), TextsOfWordCounts(Enumerable.Range(1, 40)));
        Assert.Equal(38, fitted.MaxTokens);
        Assert.Equal(1, fitted.MinFrequency);
        Assert.Equal(TokenKind.Words, fitted.Tokens);
        Assert.Equal(200, fitted.MaxEpochs);   // 400 steps / 2 per epoch
        Assert.Equal(20, fitted.Patience);
    }

    [Fact]
    public void A_large_set_of_long_texts_is_cut_at_the_longest_length_and_drops_words_seen_once()
    {
        // 200 texts of 2,000 words: 400,000 tokens when cut at 1,000 each; 7 batches per epoch, so 20 epochs are enough.
        ClassifierOptions fitted = ClassifierDefaults.FitTo(new ClassifierOptions(), TextsOfWordCounts(Enumerable.Repeat(2000, 200)));
        Assert.Equal(ClassifierDefaults.MaxLength, fitted.MaxTokens);
        Assert.Equal(2, fitted.MinFrequency);
        Assert.Equal(58, fitted.MaxEpochs);   // ⌈400 / 7⌉
        Assert.Equal(5, fitted.Patience);

        ClassifierOptions tiny = ClassifierDefaults.FitTo(new ClassifierOptions(), TextsOfWordCounts([1, 2, 1]));
        Assert.Equal(ClassifierDefaults.MinLength, tiny.MaxTokens);
    }

    [Fact]
    public void Settings_the_user_chose_are_left_alone()
    {
        var chosen = new ClassifierOptions { Tokens = TokenKind.Characters, MaxTokens = 7, MinFrequency = 5, MaxEpochs = 3, Patience = 2 };
        ClassifierSetting all = ClassifierSetting.Tokens | ClassifierSetting.MaxTokens | ClassifierSetting.MinFrequency | ClassifierSetting.Epochs | ClassifierSetting.Patience;
        Assert.Equal(chosen, ClassifierDefaults.FitTo(chosen, TextsOfWordCounts(Enumerable.Range(1, 40)), all));

        ClassifierOptions patient = ClassifierDefaults.FitTo(chosen, TextsOfWordCounts(Enumerable.Range(1, 40)), ClassifierSetting.Patience);
        Assert.Equal(2, patient.Patience);
        Assert.Equal(200, patient.MaxEpochs);
        Assert.Equal(TokenKind.Words, patient.Tokens);
        Assert.Throws<ArgumentException>(() => ClassifierDefaults.FitTo(chosen, []));
    }

    [Fact]
    public void Word_pairs_seen_in_enough_texts_become_features_after_the_vocabulary()
    {
        // (2,3) is in two texts (twice in the first, counted once), (3,4) and (4,2) in one each.
        BigramFeatures pairs = BigramFeatures.Build([[2, 3, 4, 2, 3], [2, 3], [4]], vocabularySize: 5, minCount: 2);
        Assert.Equal(6, pairs.Features);
        Assert.Equal([2, 3, 2, 3, 5, 5], pairs.Extend([2, 3, 2, 3]));
        Assert.Equal([3, 4, 1], pairs.Extend([3, 4, 1]));
        Assert.Equal(8, BigramFeatures.Build([[2, 3, 4, 2, 3], [2, 3], [4]], vocabularySize: 5, minCount: 1).Features);
        Assert.Throws<ArgumentOutOfRangeException>(() => BigramFeatures.Build([[2, 3]], vocabularySize: 5, minCount: 0));
    }
}
