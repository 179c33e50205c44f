using LstmSimd.IO;
using LstmSimd.Keras;
using LstmSimd.Text;
using Xunit;

namespace LstmSimd.Tests.Text;

/// <summary>
/// Whole classifiers (embedding → LSTM → pooling → head) read from PyTorch, ONNX and Keras files against the framework's own
/// outputs: Golden/classifier-import/make_classifier_import_golden.py (PyTorch 1.13's float64 forward; Keras's equations
/// with its masking in numpy) and Golden/make_tfjs_golden.js (TensorFlow.js's own predictions).
/// </summary>
public sealed class ImportedClassifierTests
{
    private static string Golden(string file) => Path.Combine(AppContext.BaseDirectory, "Golden", "classifier-import", file);

    private static (int[][] Texts, double[][] Logits, double[][] Probabilities) Expected(string name)
    {
        using var file = SafetensorsFile.Open(Golden(name + ".expected.safetensors"));
        long[] ids = file.ReadInt64s("ids"), lengths = file.ReadInt64s("lengths");
        double[] logits = file.ReadDoubles("logits"), probabilities = file.ReadDoubles("probabilities");
        int classes = logits.Length / lengths.Length, start = 0;
        var texts = new int[lengths.Length][];
        for (int i = 0; i < texts.Length; i++)
        {
            texts[i] = [.. ids.Skip(start).Take((int)lengths[i]).Select(id => (int)id)];
            start += (int)lengths[i];
        }

        double[][] Rows(double[] values) => [.. Enumerable.Range(0, texts.Length).Select(i => values[(i * classes)..((i + 1) * classes)])];
        return (texts, Rows(logits), Rows(probabilities));
    }

    private static void AssertClose(double[][] expected, float[][] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal(expected[i].Length, actual[i].Length);
            for (int k = 0; k < expected[i].Length; k++)
                Assert.True(Math.Abs(actual[i][k] - expected[i][k]) <= 2e-5 * (1 + Math.Abs(expected[i][k])), $"{what} text {i} class {k}: {actual[i][k]} vs {expected[i][k]}");
        }
    }

    [Theory]
    [InlineData("torch_bidirectional_max.pt", SequencePooling.Max, 0)]
    [InlineData("torch_bidirectional_max.safetensors", SequencePooling.Max, 0)]
    [InlineData("torch_two_layer_last_padding3.pt", SequencePooling.LastStep, 3)]
    [InlineData("torch_mean.safetensors", SequencePooling.Mean, 0)]
    public void A_pytorch_state_dict_classifier_gives_pytorchs_logits_padding_inside_a_text_included(string file, SequencePooling pooling, int paddingId)
    {
        ImportedClassifier model = ImportedClassifier.FromPyTorch(Golden(file), pooling, paddingId);
        var (texts, logits, probabilities) = Expected(Path.GetFileNameWithoutExtension(file));
        Assert.Contains(texts, t => t.Contains(paddingId));
        AssertClose(logits, model.Logits(texts), file);
        AssertClose(probabilities, model.Probabilities(texts), file);
        Assert.Equal(paddingId, model.Embedding.PaddingId);
        Assert.Contains($"padding id {paddingId}", model.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void An_onnx_classifier_is_read_from_its_gather_lstm_and_gemm_and_its_last_step_pooling_is_found_by_running_the_graph()
    {
        ImportedClassifier model = ImportedClassifier.FromOnnx(Golden("onnx_bidirectional_last.onnx"), paddingId: 0);
        var (texts, logits, _) = Expected("onnx_bidirectional_last");
        Assert.Equal(SequencePooling.LastStep, model.Pooling);
        Assert.True(model.Weights.Spec.Bidirectional);
        AssertClose(logits, model.Logits(texts), "onnx");
    }

    [Fact]
    public void An_onnx_graph_the_runner_cannot_run_is_refused_saying_the_pooling_cannot_be_checked()
    {
        var e = Assert.Throws<ModelFormatException>(() => ImportedClassifier.FromOnnx(Golden("onnx_max.onnx"), paddingId: 0));
        Assert.Contains("ReduceMax", e.Message, StringComparison.Ordinal);
        Assert.Contains("import the PyTorch state_dict instead", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_onnx_tagger_that_labels_every_step_is_not_taken_for_a_classifier()
    {
        string tagger = Path.Combine(AppContext.BaseDirectory, "Golden", "onnx-graph", "embedding_tagger.onnx");
        var e = Assert.Throws<ModelFormatException>(() => ImportedClassifier.FromOnnx(tagger));
        Assert.Contains("not a pooling LstmSimd reads", e.Message, StringComparison.Ordinal);
        Assert.Contains("a classifier gives [1, ", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("keras3_mask_zero_softmax.keras")]
    [InlineData("keras2_mask_zero_sigmoid.h5")]
    public void A_keras_classifier_with_mask_zero_skips_the_masked_steps_as_keras_does(string file)
    {
        ImportedClassifier model = KerasTextClassifier.Load(Golden(file));
        var (texts, logits, probabilities) = Expected(Path.GetFileNameWithoutExtension(file));
        Assert.True(model.SkipsPadding);
        Assert.Contains(texts, t => t.Contains(0));
        AssertClose(logits, model.Logits(texts), file);
        AssertClose(probabilities, model.Probabilities(texts), file);
    }

    [Fact]
    public void A_tensorflow_js_classifier_gives_the_probabilities_tfjs_predicts_for_padded_texts_and_a_hard_sigmoid_one_is_refused()
    {
        // Golden/make_tfjs_golden.js: Embedding(mask_zero) → LSTM → Dense(softmax), predicted by @tensorflow/tfjs on texts
        // padded with 0 at the end, one of them with a 0 inside.
        string folder = Path.Combine(AppContext.BaseDirectory, "Golden", "tfjs");
        ImportedClassifier model = KerasTextClassifier.Load(Path.Combine(folder, "classifier_mask_zero", "model.json"));
        using var expected = SafetensorsFile.Open(Path.Combine(folder, "classifier_mask_zero.expected.safetensors"));
        float[] ids = expected.ReadSingles("input");
        double[] probabilities = expected.ReadDoubles("dense");
        const int steps = 7, classes = 3;
        int[][] texts = [.. ids.Chunk(steps).Select(row => row.Select(id => (int)id).ToArray())];
        double[][] rows = [.. probabilities.Chunk(classes)];
        Assert.Equal(4, texts.Length);
        Assert.True(model.SkipsPadding);
        Assert.Contains("Keras: ", model.Description, StringComparison.Ordinal);
        AssertClose(rows, model.Probabilities(texts), "tfjs");

        // TF.js's default recurrent activation, hard_sigmoid, is a cell variant the classifiers do not run: refused, not approximated.
        var refused = Assert.Throws<ModelFormatException>(() => KerasTextClassifier.Load(Path.Combine(folder, "refuse_classifier_hard_sigmoid", "model.json")));
        Assert.Contains("a text classifier runs the standard cell", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_ensemble_gives_the_mean_of_its_members_probabilities_and_refuses_members_of_other_classes()
    {
        var vocabulary = new TokenVocabulary(Enumerable.Range(2, 15).Select(i => "w" + i));
        SequenceClassifier Member(SequencePooling pooling, string[] labels) =>
            ImportedClassifier.FromPyTorch(Golden("torch_bidirectional_max.pt"), pooling, paddingId: 0).ToClassifier(new TextTokenizer(TokenKind.Words), vocabulary, labels, maxTokens: 50);
        SequenceClassifier max = Member(SequencePooling.Max, ["a", "b", "c"]), mean = Member(SequencePooling.Mean, ["a", "b", "c"]);
        string[] texts = ["w5 w16 w2", "w9 w4", "w3 w3 w14 w7 w11"];   // two steps or more, where max and mean pooling differ
        float[][] p = max.Probabilities(texts), q = mean.Probabilities(texts);
        float[][] both = new ClassifierEnsemble([max, mean]).Probabilities(texts);
        for (int i = 0; i < texts.Length; i++)
        {
            Assert.NotEqual(p[i][0], q[i][0]);
            for (int k = 0; k < 3; k++) Assert.Equal((p[i][k] + q[i][k]) / 2, both[i][k], 6);
        }

        ClassificationMetrics scores = new ClassifierEnsemble([max, mean]).Evaluate([new("w5 w16 w2", "a"), new("w9", "b")]);
        Assert.Equal(2, scores.Confusion.Cast<long>().Sum());
        var e = Assert.Throws<ArgumentException>(() => new ClassifierEnsemble([max, Member(SequencePooling.Max, ["a", "b", "d"])]));
        Assert.Contains("Classifier 2 has the classes 'a', 'b', 'd'", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => new ClassifierEnsemble([]));
    }

    [Fact]
    public void An_imported_classifier_joined_to_a_vocabulary_classifies_raw_text_as_the_ids_say()
    {
        ImportedClassifier model = ImportedClassifier.FromPyTorch(Golden("torch_bidirectional_max.pt"), SequencePooling.Max, paddingId: 0);
        var vocabulary = new TokenVocabulary(Enumerable.Range(2, model.Embedding.Count - 2).Select(i => "w" + i));
        SequenceClassifier classifier = model.ToClassifier(new TextTokenizer(TokenKind.Words), vocabulary, ["a", "b", "c"], maxTokens: 50);
        int[] ids = classifier.Encode("w5 w16 w2 nothing");
        Assert.Equal([5, 16, 2, TokenVocabulary.UnknownId], ids);
        float[] expected = model.Probabilities([ids])[0];
        float[] actual = classifier.Probabilities(["w5 w16 w2 nothing"])[0];
        for (int k = 0; k < 3; k++) Assert.Equal(expected[k], actual[k], 6);
    }

    [Fact]
    public void A_model_that_does_not_pad_with_id_0_cannot_become_a_text_classifier_and_says_why()
    {
        ImportedClassifier model = ImportedClassifier.FromPyTorch(Golden("torch_two_layer_last_padding3.pt"), SequencePooling.LastStep, paddingId: 3);
        var vocabulary = new TokenVocabulary(Enumerable.Range(2, model.Embedding.Count - 2).Select(i => "w" + i));
        var e = Assert.Throws<ArgumentException>(() => model.ToClassifier(new TextTokenizer(TokenKind.Words), vocabulary, ["a", "b"], 10));
        Assert.Contains("pads with id 0; this model's padding id is 3", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_padding_id_whose_row_is_not_zero_is_refused()
    {
        var e = Assert.Throws<ModelFormatException>(() => ImportedClassifier.FromPyTorch(Golden("torch_bidirectional_max.pt"), SequencePooling.Max, paddingId: 4));
        Assert.Contains("row 4, the padding id's, is not zero", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_embedding_whose_width_is_not_the_lstms_input_size_is_refused_naming_both()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lstmsimd-import-{Guid.NewGuid():N}.safetensors");
        try
        {
            using (SafetensorsFile source = SafetensorsFile.Open(Golden("torch_mean.safetensors")))
            {
                var writer = new SafetensorsWriter();
                foreach (SafetensorsTensorInfo t in source.Tensors)
                {
                    float[] values = source.ReadSingles(t);
                    if (t.Name == "embedding.weight") writer.Add(t.Name, [.. values, .. new float[11]], 11, 4);
                    else writer.Add(t.Name, values, [.. t.Shape.Select(d => (long)d)]);
                }

                writer.Save(path);
            }

            var e = Assert.Throws<ModelFormatException>(() => ImportedClassifier.FromPyTorch(path, SequencePooling.Mean, paddingId: 0));
            Assert.Contains("the embedding gives vectors of 4; the LSTM takes 3 inputs", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_state_dict_without_the_embedding_is_refused_listing_what_it_holds()
    {
        var e = Assert.Throws<ModelFormatException>(() => ImportedClassifier.FromPyTorch(Golden("torch_mean.safetensors"), SequencePooling.Mean, embeddingName: "encoder.weight"));
        Assert.Contains("holds no 'encoder.weight'", e.Message, StringComparison.Ordinal);
        Assert.Contains("'embedding.weight'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_token_id_outside_the_embedding_is_refused_naming_the_text_the_position_and_the_id()
    {
        ImportedClassifier model = ImportedClassifier.FromPyTorch(Golden("torch_mean.safetensors"), SequencePooling.Mean, paddingId: 0);
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => model.Logits([[1, 2], [3, 11, 4]]));
        Assert.Contains("Text 1 holds the token id 11 at position 1, outside the embedding's 11 rows", e.Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentOutOfRangeException>(() => model.Logits([[-1]]));
        Assert.Throws<ArgumentException>(() => model.Logits([[]]));
    }
}
