using LstmSimd.IO;
using LstmSimd.Text;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Text;

public sealed class SequenceClassifierTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-classify-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// Texts of random filler words in which the class is set by the order of two marker words: "alpha … omega" is
    /// class "forward", "omega … alpha" class "backward". A bag of words cannot tell them apart; a sequence model can.
    /// </summary>
    private static List<LabelledText> OrderTask(int count, int seed)
    {
        var random = new SeededRandom((ulong)seed);
        string[] filler = ["the", "a", "of", "to", "and", "in", "is", "it", "you", "that", "he", "was"];
        var texts = new List<LabelledText>();
        for (int i = 0; i < count; i++)
        {
            int length = 4 + random.NextInt32(8);
            var words = new List<string>();
            for (int k = 0; k < length; k++) words.Add(filler[random.NextInt32(filler.Length)]);
            int first = random.NextInt32(length), second = first + 1 + random.NextInt32(length - first);
            bool forward = random.NextInt32(2) == 0;
            words.Insert(second, forward ? "omega" : "alpha");
            words.Insert(first, forward ? "alpha" : "omega");
            texts.Add(new LabelledText(string.Join(' ', words), forward ? "forward" : "backward"));
        }

        return texts;
    }

    private static readonly ClassifierOptions Small = new()
    {
        EmbeddingSize = 8, HiddenSize = 12, BatchSize = 16, LearningRate = 1e-2, MaxEpochs = 30, Patience = 30, MinFrequency = 1, MaxTokens = 20,
    };

    [Theory]
    [InlineData(SequencePooling.LastStep)]
    [InlineData(SequencePooling.Max)]
    public void A_bidirectional_classifier_learns_word_order_that_bag_of_words_baselines_cannot(SequencePooling pooling)
    {
        List<LabelledText> train = OrderTask(400, 1), validation = OrderTask(100, 2), test = OrderTask(200, 3);
        ClassifierTrainingResult result = ClassifierTraining.Train(train, validation, Small with { Pooling = pooling });
        ClassificationMetrics lstm = ClassifierTraining.Evaluate(result.Classifier, test);

        SequenceClassifier c = result.Classifier;
        int[][] trainIds = [.. train.Select(e => c.Encode(e.Text))], testIds = [.. test.Select(e => c.Encode(e.Text))];
        int[] trainLabels = [.. train.Select(e => ClassifierTraining.LabelIndex(c.Labels, e.Label))], testLabels = [.. test.Select(e => ClassifierTraining.LabelIndex(c.Labels, e.Label))];
        ClassificationMetrics nb = ClassificationMetrics.From(testLabels, NaiveBayesClassifier.Fit(trainIds, trainLabels, 2, c.Vocabulary.Count).Predict(testIds), 2);
        Assert.True(lstm.MacroF1 > 0.95, $"LSTM macro-F1 {lstm.MacroF1} ({result.StopReason}, best epoch {result.BestEpoch})");
        Assert.True(nb.MacroF1 < 0.75, $"naive Bayes macro-F1 {nb.MacroF1}");
        Assert.Equal(["backward", "forward"], c.Labels);
    }

    [Fact]
    public void Training_is_deterministic_by_seed_and_the_saved_model_predicts_the_same_after_loading()
    {
        List<LabelledText> train = OrderTask(120, 4), validation = OrderTask(40, 5);
        ClassifierOptions options = Small with { MaxEpochs = 3, Pooling = SequencePooling.Mean, Tokens = TokenKind.Characters };
        SequenceClassifier first = ClassifierTraining.Train(train, validation, options).Classifier;
        SequenceClassifier second = ClassifierTraining.Train(train, validation, options).Classifier;
        Assert.Equal(first.EmbeddingTable, second.EmbeddingTable);
        Assert.Equal(first.Head.Weight, second.Head.Weight);

        string path = Path.Combine(_dir, "model.lstm");
        first.Save(path);
        SequenceClassifier loaded = SequenceClassifier.Load(path);
        string[] texts = [.. validation.Select(e => e.Text), "", "unseen words ✓"];
        float[][] before = first.Probabilities(texts), after = loaded.Probabilities(texts);
        for (int i = 0; i < texts.Length; i++) Assert.Equal(before[i], after[i]);
        Assert.Equal(first.Vocabulary.Tokens, loaded.Vocabulary.Tokens);
        Assert.Equal(TokenKind.Characters, loaded.Tokenizer.Kind);
        Assert.Equal(SequencePooling.Mean, loaded.Pooling);
        Assert.Equal(first.MaxTokens, loaded.MaxTokens);
    }

    [Fact]
    public void Cancellation_before_the_first_step_returns_the_untrained_model_and_says_so()
    {
        using var cancelled = new CancellationTokenSource();
        cancelled.Cancel();
        ClassifierTrainingResult result = ClassifierTraining.Train(OrderTask(40, 6), OrderTask(10, 7), Small, cancellation: cancelled.Token);
        Assert.Equal(0, result.Epochs);
        Assert.Contains("cancellation", result.StopReason, StringComparison.Ordinal);
    }

    [Fact]
    public void Training_refuses_one_class_and_a_validation_class_unseen_in_training()
    {
        var one = new List<LabelledText> { new("a b", "x"), new("c d", "x") };
        Assert.Contains("one class", Assert.Throws<ArgumentException>(() => ClassifierTraining.Train(one, one, Small)).Message, StringComparison.Ordinal);
        var two = new List<LabelledText> { new("a b", "x"), new("c d", "y") };
        Assert.Contains("'z'", Assert.Throws<ArgumentException>(() => ClassifierTraining.Train(two, [new("e", "z")], Small)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => ClassifierTraining.Train(two, two, Small with { HiddenSize = 0 }));
    }

    [Fact]
    public void A_model_file_of_another_kind_is_refused_by_name()
    {
        string path = Path.Combine(_dir, "plain.lstm");
        LstmModelFile.Save(path, LstmWeights.CreateRandom(new LstmSpec(2, 3), 1), new LinearHead(3, 2, new float[6]));
        Assert.Contains("not a text classifier", Assert.Throws<ModelFormatException>(() => SequenceClassifier.Load(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Csv_and_class_folders_read_the_same_labelled_texts()
    {
        string csv = Path.Combine(_dir, "texts.csv");
        File.WriteAllText(csv, "id,label,text\n1,spam,\"Win $100, now\"\n\n2,ham,\"see you\nat noon\"\n");
        Assert.Equal([new LabelledText("Win $100, now", "spam"), new LabelledText("see you\nat noon", "ham")], LabelledTextSource.Load(csv));

        string folder = Path.Combine(_dir, "folders");
        Directory.CreateDirectory(Path.Combine(folder, "ham"));
        Directory.CreateDirectory(Path.Combine(folder, "spam"));
        File.WriteAllText(Path.Combine(folder, "ham", "1.txt"), "see you\nat noon");
        File.WriteAllBytes(Path.Combine(folder, "spam", "1.txt"), [(byte)'W', 0xE9, (byte)'n']);   // Latin-1 é
        Assert.Equal([new LabelledText("see you\nat noon", "ham"), new LabelledText("W\uFFFDn", "spam")], LabelledTextSource.Load(folder));
    }

    [Fact]
    public void Malformed_csv_is_refused_naming_the_line_or_column()
    {
        string csv = Path.Combine(_dir, "bad.csv");
        File.WriteAllText(csv, "text,label\nhello,a\nragged\n");
        Assert.Contains("line 3", Assert.Throws<FormatException>(() => LabelledTextSource.FromCsv(csv)).Message, StringComparison.Ordinal);
        File.WriteAllText(csv, "body,label\nhello,a\n");
        Assert.Contains("'text'", Assert.Throws<FormatException>(() => LabelledTextSource.FromCsv(csv)).Message, StringComparison.Ordinal);
        File.WriteAllText(csv, "text,label\nhello,\n");
        Assert.Contains("empty", Assert.Throws<FormatException>(() => LabelledTextSource.FromCsv(csv)).Message, StringComparison.Ordinal);
    }
}
