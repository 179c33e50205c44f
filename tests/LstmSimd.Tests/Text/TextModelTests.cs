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
        (CharLanguageModel model, double bits, _, _, _) = CharModelTraining.Train(vocabulary, ids[..4000], ids[4000..], new CharTrainingOptions
        {
            HiddenSize = 32, Streams = 8, Steps = 16, LearningRate = 1e-2, MaxEpochs = 40, TimeBudget = TimeSpan.FromSeconds(20), Patience = 0,
        }, source: CharTextSource.Of("cat.txt", text));
        double bigram = NGramBaselines.BigramBitsPerChar(ids[..4000], ids[4000..], vocabulary.Count);
        Assert.True(bits < bigram / 2, $"LSTM {bits} bits/char, bigram {bigram}");

        string path = Path.Combine(_dir, "c.lstm");
        model.Save(path);
        CharLanguageModel loaded = CharLanguageModel.Load(path);
        Assert.Equal(vocabulary.Characters, loaded.Vocabulary.Characters);
        Assert.Equal(CharTextSource.Of("cat.txt", text), loaded.Source);
        Assert.True(loaded.Source!.Describes(text));
        Assert.False(loaded.Source.Describes(text + "."));
        string sample = loaded.Sample("the ", 40, 0.5, 7);
        Assert.Equal(model.Sample("the ", 40, 0.5, 7), sample);
        Assert.StartsWith("the ", sample, StringComparison.Ordinal);
        Assert.Equal(44, sample.Length);
    }

    /// <summary>
    /// Training on "ab" repeated while validating on "aa…": the better the model learns the alternation, the worse it does
    /// on the validation text, so validation worsens from the first measurement on and the best model is an early one.
    /// </summary>
    private static (CharTrainingResult Result, List<double> Measured, int[] Validation) TrainAwayFromValidation(int patience)
    {
        var vocabulary = new CharVocabulary("ab");
        int[] train = [.. Enumerable.Range(0, 4000).Select(i => i % 2)], validation = new int[400];
        var measured = new List<double>();
        CharTrainingResult result = CharModelTraining.Train(vocabulary, train, validation, new CharTrainingOptions
        {
            HiddenSize = 8, Streams = 4, Steps = 16, LearningRate = 3e-2, MaxEpochs = 3, TimeBudget = TimeSpan.FromMinutes(1),
            EvaluationInterval = TimeSpan.Zero, Patience = patience,
        }, report =>
        {
            if (measured.Count == 0 || report.ValidationBitsPerChar != measured[^1]) measured.Add(report.ValidationBitsPerChar);
        });
        return (result, measured, validation);
    }

    [Fact]
    public void Training_keeps_the_best_validation_model_when_validation_worsens_later()
    {
        (CharTrainingResult result, List<double> measured, int[] validation) = TrainAwayFromValidation(patience: 0);
        Assert.False(result.StoppedEarly);
        Assert.True(measured[^1] > measured.Min() + 1, $"validation should worsen: {string.Join(", ", measured)}");
        Assert.Equal(measured.Min(), result.ValidationBitsPerChar);
        Assert.Equal(measured.Min(), result.Model.BitsPerChar(validation), 6);
    }

    [Fact]
    public void Training_stops_after_patience_validations_without_a_new_best()
    {
        (CharTrainingResult full, _, _) = TrainAwayFromValidation(patience: 0);
        (CharTrainingResult patient, _, _) = TrainAwayFromValidation(patience: 3);
        Assert.True(patient.StoppedEarly);
        Assert.True(patient.Evaluations <= 4 + 1, $"{patient.Evaluations} validations"); // the best is among the first two
        Assert.True(patient.Characters < full.Characters / 4, $"{patient.Characters} vs {full.Characters} characters");
        Assert.Equal(full.ValidationBitsPerChar, patient.ValidationBitsPerChar);
    }

    [Fact]
    public void Dropout_on_a_one_layer_model_is_refused_and_on_two_layers_changes_training()
    {
        var vocabulary = new CharVocabulary("ab");
        int[] train = [.. Enumerable.Range(0, 2000).Select(i => i % 3 == 0 ? 1 : 0)], validation = train[..400];
        CharTrainingOptions options = new() { HiddenSize = 8, Streams = 4, Steps = 16, MaxEpochs = 1, Patience = 0 };
        Assert.Contains("between stacked LSTM layers", Assert.Throws<ArgumentException>(() =>
            CharModelTraining.Train(vocabulary, train, validation, options with { Dropout = 0.3 })).Message, StringComparison.Ordinal);
        double plain = CharModelTraining.Train(vocabulary, train, validation, options with { Layers = 2 }).ValidationBitsPerChar;
        double dropped = CharModelTraining.Train(vocabulary, train, validation, options with { Layers = 2, Dropout = 0.3 }).ValidationBitsPerChar;
        Assert.NotEqual(plain, dropped);
        Assert.Equal(dropped, CharModelTraining.Train(vocabulary, train, validation, options with { Layers = 2, Dropout = 0.3 }).ValidationBitsPerChar);
    }

    [Fact]
    public void Sampling_refuses_a_prime_with_unknown_characters_naming_them()
    {
        var vocabulary = new CharVocabulary("ab");
        int[] ids = [.. Enumerable.Range(0, 600).Select(i => i % 2)];
        CharLanguageModel model = CharModelTraining.Train(vocabulary, ids, ids[..100], new CharTrainingOptions { HiddenSize = 4, Streams = 2, Steps = 8, MaxEpochs = 1 }).Model;
        string message = Assert.Throws<ArgumentException>(() => model.Sample("abzq", 5, 1, 1)).Message;
        Assert.Contains("'z' (U+007A), 'q' (U+0071)", message, StringComparison.Ordinal);
    }
}
