using LstmSimd.Text;
using Xunit;

namespace LstmSimd.Tests.Text;

public sealed class TokenizerTests
{
    [Fact]
    public void Words_are_lower_cased_runs_of_letters_and_digits_with_inner_apostrophes_and_each_symbol_alone()
    {
        var words = new TextTokenizer(TokenKind.Words);
        Assert.Equal(["don't", "pay", "$", "100", "now", "!", "!", "café", "über", "naïve", "'", "quoted", "'"],
            words.Tokenize("Don't PAY $100 now!!  Café\tÜBER naïve 'quoted'"));
    }

    [Fact]
    public void A_combining_accent_stays_inside_its_word()
    {
        Assert.Equal(["cafe\u0301", "ok"], new TextTokenizer(TokenKind.Words).Tokenize("CAFE\u0301 ok"));
    }

    [Fact]
    public void Non_latin_scripts_and_emoji_split_as_words_and_symbols()
    {
        var words = new TextTokenizer(TokenKind.Words);
        Assert.Equal(["привет", "мир", "😀", "αβγ"], words.Tokenize("Привет, мир 😀 ΑΒΓ".Replace(",", "", StringComparison.Ordinal)));
    }

    [Fact]
    public void Characters_keep_case_when_asked_collapse_white_space_and_keep_surrogate_pairs_whole()
    {
        var characters = new TextTokenizer(TokenKind.Characters, Lowercase: false);
        Assert.Equal(["A", "b", " ", "c", "😀"], characters.Tokenize("  Ab \n\t c😀  "));
    }

    [Fact]
    public void Tokenizing_stops_at_the_token_limit()
    {
        Assert.Equal(["a", "b"], new TextTokenizer(TokenKind.Words).Tokenize("a b c d", maxTokens: 2));
        Assert.Equal(["a", "b"], new TextTokenizer(TokenKind.Characters).Tokenize("abcd", maxTokens: 2));
    }

    [Fact]
    public void The_vocabulary_keeps_tokens_at_or_above_the_cut_off_most_frequent_first_and_maps_the_rest_to_unknown()
    {
        List<string>[] texts = [["b", "a", "b", "c"], ["a", "b", "d"], ["c"]];
        TokenVocabulary vocabulary = TokenVocabulary.Build(texts, minFrequency: 2);
        Assert.Equal(["<pad>", "<unk>", "b", "a", "c"], vocabulary.Tokens);
        Assert.Equal([2, 3, TokenVocabulary.UnknownId, 4], vocabulary.Encode(["b", "a", "d", "c"]));
        Assert.Equal(["<pad>", "<unk>", "b"], TokenVocabulary.Build(texts, minFrequency: 1, maxSize: 3).Tokens);
    }

    [Fact]
    public void The_vocabulary_refuses_reserved_and_repeated_tokens()
    {
        Assert.Throws<ArgumentException>(() => new TokenVocabulary(["a", "a"]));
        Assert.Throws<ArgumentException>(() => new TokenVocabulary(["<unk>"]));
    }
}
