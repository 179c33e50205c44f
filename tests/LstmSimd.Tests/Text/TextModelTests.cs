using LstmSimd.Text;
using Xunit;

namespace LstmSimd.Tests.Text;

public sealed class TextModelTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-text-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Fact]
    public void The_vocabulary_is_sorted_and_refuses_unknown_characters()
    {
        var vocabulary = CharVocabulary.FromText("banana!");
        Assert.Equal("!abn", vocabulary.Characters);
        Assert.Equal([2, 1, 3], vocabulary.Encode("ban"));
        Assert.Contains("'z'", Assert.Throws<ArgumentException>(() => vocabulary.Encode("z")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Ngram_baselines_give_the_bits_a_count_model_should()
    {
        int[] alternating = [.. Enumerable.Range(0, 2000).Select(i => i % 2)];
        Assert.Equal(1, NGramBaselines.UnigramBitsPerChar(alternating, alternating, 2), 3);
        Assert.True(NGramBaselines.BigramBitsPerChar(alternating, alternating, 2) < 0.01);
    }

    [Fact]
    public void A_short_training_run_learns_a_repeating_text_saves_and_samples_deterministically()
    {
        string text = string.Concat(Enumerable.Repeat("the cat sat on the mat. ", 200));
        var vocabulary = CharVocabulary.FromText(text);
        int[] ids = vocabulary.Encode(text);
        (CharLanguageModel model, double bits, _) = CharModelTraining.Train(vocabulary, ids[..4000], ids[4000..], new CharTrainingOptions
        {
            HiddenSize = 32, Streams = 8, Steps = 16, LearningRate = 1e-2, MaxEpochs = 40, TimeBudget = TimeSpan.FromSeconds(20),
        });
        double bigram = NGramBaselines.BigramBitsPerChar(ids[..4000], ids[4000..], vocabulary.Count);
        Assert.True(bits < bigram / 2, $"LSTM {bits} bits/char, bigram {bigram}");

        string path = Path.Combine(_dir, "c.lstm");
        model.Save(path);
        CharLanguageModel loaded = CharLanguageModel.Load(path);
        Assert.Equal(vocabulary.Characters, loaded.Vocabulary.Characters);
        string sample = loaded.Sample("the ", 40, 0.5, 7);
        Assert.Equal(model.Sample("the ", 40, 0.5, 7), sample);
        Assert.StartsWith("the ", sample, StringComparison.Ordinal);
        Assert.Equal(44, sample.Length);
    }
}
