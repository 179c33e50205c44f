using LstmSimd.Text;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Text;

public sealed class TranslatorTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-translate-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static float[] Random(int length, ulong seed, float scale = 1)
    {
        var values = new float[length];
        new SeededRandom(seed).Fill(values, -scale, scale);
        return values;
    }

    [Fact]
    public void The_attention_weights_sum_to_one_and_the_context_is_their_mix_of_the_keys()
    {
        float[] query = [1, 0], keys = [2, 0, 0, 1, -2, 5], weights = new float[3], context = new float[2];
        LuongAttention.Forward(query, keys, weights, context);
        double e2 = Math.Exp(2), e0 = 1, em2 = Math.Exp(-2), sum = e2 + e0 + em2; // scores q·k = 2, 0, −2
        Assert.Equal(e2 / sum, weights[0], 6);
        Assert.Equal(e0 / sum, weights[1], 6);
        Assert.Equal((2 * e2 - 2 * em2) / sum, context[0], 5);
        Assert.Equal((1 * e0 + 5 * em2) / sum, context[1], 5);
    }

    [Fact]
    public void The_attention_gradient_matches_finite_differences()
    {
        const int h = 5, n = 4;
        float[] query = Random(h, 1), keys = Random(n * h, 2), upstream = Random(h, 3);
        // loss = upstream · context(query, keys)
        double Loss(float[] q, float[] k)
        {
            float[] w = new float[n], c = new float[h];
            LuongAttention.Forward(q, k, w, c);
            double s = 0;
            for (int i = 0; i < h; i++) s += upstream[i] * (double)c[i];
            return s;
        }

        float[] weights = new float[n], context = new float[h], dQuery = new float[h], dKeys = new float[n * h];
        LuongAttention.Forward(query, keys, weights, context);
        LuongAttention.Backward(query, keys, weights, upstream, dQuery, dKeys);
        const float eps = 1e-2f;
        foreach ((float[] values, float[] analytic) in new[] { (query, dQuery), (keys, dKeys) })
        {
            for (int i = 0; i < values.Length; i++)
            {
                float saved = values[i];
                values[i] = saved + eps;
                double up = Loss(query, keys);
                values[i] = saved - eps;
                double down = Loss(query, keys);
                values[i] = saved;
                double numeric = (up - down) / (2 * eps);
                Assert.True(Math.Abs(numeric - analytic[i]) < 2e-3 + 1e-2 * Math.Abs(numeric), $"element {i}: finite difference {numeric}, backward {analytic[i]}");
            }
        }
    }

    [Fact]
    public void The_translator_gradient_matches_finite_differences_through_the_embedding_attention_and_both_encoder_directions()
    {
        BytePairEncoding encoding = BytePairEncoding.Learn(["ab ab", "ba c", "x y", "yx"], merges: 2, minCharacterCount: 1);
        TranslationPair[] pairs = [new("ab c", "x yy"), new("cb", "yxx"), new("a", "y")];
        using var training = new TranslatorTraining(encoding, 6, 6, new TranslatorTrainingOptions { EmbeddingSize = 5, HiddenSize = 6, Batch = 3, Seed = 4 });
        training.Gradients(pairs);
        var analytic = training.Parameters.Parameters.ToDictionary(p => p.Name, p => (float[])p.Gradients.Clone());
        // The encoder reaches the loss only through the attention's keys and the decoder's initial state; the reverse
        // direction (suffix _reverse) only through its outputs and its final state at the first step.
        foreach (string name in new[] { "embedding.weight", "encoder.weight_ih_l0", "encoder.weight_hh_l0_reverse", "encoder.bias_hh_l0", "decoder.weight_hh_l0", "decoder.weight_ih_l0", "combine.weight", "output.bias" })
        {
            Parameter p = training.Parameters.Parameters.Single(x => x.Name == name);
            int checkedCount = 0;
            for (int i = 0; i < p.Values.Length; i += Math.Max(1, p.Values.Length / 12), checkedCount++)
            {
                float saved = p.Values[i];
                const float eps = 5e-3f;
                p.Values[i] = saved + eps;
                training.RefreshWeights();
                double up = training.Loss(pairs);
                p.Values[i] = saved - eps;
                training.RefreshWeights();
                double down = training.Loss(pairs);
                p.Values[i] = saved;
                training.RefreshWeights();
                double numeric = (up - down) / (2 * eps);
                Assert.True(Math.Abs(numeric - analytic[name][i]) < 1e-3 + 2e-2 * Math.Abs(numeric), $"{name}[{i}]: finite difference {numeric}, backward {analytic[name][i]}");
            }

            Assert.True(checkedCount >= Math.Min(6, p.Values.Length), $"{name}: {checkedCount} values checked");
            Assert.Contains(analytic[name], g => Math.Abs(g) > 1e-5);
        }
    }

    [Fact]
    public void A_batch_cut_among_threads_gives_the_gradient_of_the_whole_batch()
    {
        BytePairEncoding encoding = BytePairEncoding.Learn(["ab ab", "ba c", "x y", "yx"], merges: 3, minCharacterCount: 1);
        TranslationPair[] pairs = [new("ab c", "x yy"), new("cb", "yxx"), new("a", "y"), new("ba ab", "yx x"), new("c", "xyxy")];
        TranslatorTrainingOptions options = new() { EmbeddingSize = 4, HiddenSize = 6, Batch = 5, Seed = 2 };
        using var one = new TranslatorTraining(encoding, 6, 6, options);
        using var three = new TranslatorTraining(encoding, 6, 6, options with { Threads = 3 });
        Assert.Equal(one.Gradients(pairs), three.Gradients(pairs), 5);
        for (int i = 0; i < one.Parameters.Parameters.Count; i++)
        {
            float[] expected = one.Parameters.Parameters[i].Gradients, actual = three.Parameters.Parameters[i].Gradients;
            for (int j = 0; j < expected.Length; j++)
                Assert.True(Math.Abs(expected[j] - actual[j]) < 1e-5 + 1e-4 * Math.Abs(expected[j]), $"{one.Parameters.Parameters[i].Name}[{j}]: {expected[j]} whole, {actual[j]} in parts");
        }

        one.Step(pairs);
        three.Step(pairs);
        Assert.Equal(one.Loss(pairs), three.Loss(pairs), 4);
    }

    private static TranslatorTrainingResult TrainSmall(TranslationPair[] train, TranslationPair[] validation, int merges, int epochs, int minCharacterCount = 2) =>
        TranslatorTraining.Train(train, validation, new TranslatorTrainingOptions
        {
            Merges = merges, MinCharacterCount = minCharacterCount, EmbeddingSize = 24, HiddenSize = 48, Batch = 16, LearningRate = 1e-2, MaxEpochs = epochs,
            TimeBudget = TimeSpan.FromMinutes(10), EvaluationInterval = TimeSpan.FromMinutes(10), Patience = 0,
        });

    [Fact]
    public void A_small_translator_learns_to_reverse_and_uppercase_words_and_survives_a_save()
    {
        var random = new SeededRandom(9);
        string Word() => new([.. Enumerable.Range(0, 2 + random.NextInt32(4)).Select(_ => "abcde"[random.NextInt32(5)])]);
        TranslationPair Make(string w) => new(w, new string([.. w.Reverse().Select(char.ToUpperInvariant)]));
        TranslationPair[] train = [.. Enumerable.Range(0, 600).Select(_ => Make(Word()))], validation = [.. Enumerable.Range(0, 60).Select(_ => Make(Word()))];
        TranslatorTrainingResult result = TrainSmall(train, validation, merges: 0, epochs: 30);
        string[] sources = [.. validation.Select(p => p.Source)], references = [.. validation.Select(p => p.Target)];
        string[] greedy = [.. sources.Select(s => result.Model.Translate(s))], beam = [.. sources.Select(s => result.Model.Translate(s, 4))];
        double copy = TranslationMetrics.ChrF(sources, references);
        Assert.True(TranslationMetrics.ChrF(greedy, references) > 90, $"greedy chrF {TranslationMetrics.ChrF(greedy, references)}, copying {copy}: {string.Join(", ", greedy.Take(8))}");
        Assert.True(TranslationMetrics.ChrF(beam, references) > 90, $"beam chrF {TranslationMetrics.ChrF(beam, references)}");

        string path = Path.Combine(_dir, "t.lstm");
        result.Model.Save(path);
        SubwordTranslator loaded = SubwordTranslator.Load(path);
        Assert.Equal(beam, sources.Select(s => loaded.Translate(s, 4)));
        Assert.Equal(greedy, sources.Select(s => loaded.Translate(s)));
        Assert.Equal("", loaded.Translate(""));
    }

    [Fact]
    public void Characters_the_encoding_lacks_are_copied_from_the_source_position_the_decoder_attends_to()
    {
        // Copy words of a few letters; a fifth of them carry a character met in that pair only (twice), which the encoding leaves unknown.
        var random = new SeededRandom(5);
        string rare = "ßþðæøåçñ";
        string Word() => new([.. Enumerable.Range(0, 2 + random.NextInt32(3)).Select(_ => "abcd"[random.NextInt32(4)])]);
        TranslationPair Make(int i)
        {
            string w = Word();
            if (i % 5 == 0) w = w.Insert(random.NextInt32(w.Length + 1), ((char)(0x4E00 + i)).ToString());
            return new(w, w);
        }

        TranslationPair[] train = [.. Enumerable.Range(0, 500).Select(Make)], validation = [.. Enumerable.Range(500, 40).Select(Make)];
        TranslatorTrainingResult result = TrainSmall(train, validation, merges: 0, epochs: 20, minCharacterCount: 3);
        Assert.DoesNotContain(result.Model.Encoding.Characters, c => c >= 0x4E00);
        string[] sources = [.. rare.Select((c, i) => "abcd"[i % 4] + c.ToString() + "dcba"[i % 4])];
        string[] outputs = [.. sources.Select(s => result.Model.Translate(s, 3))];
        Assert.True(outputs.Zip(sources).Count(x => x.First == x.Second) >= 6, $"outputs {string.Join(", ", outputs)} for {string.Join(", ", sources)}");
    }

    [Fact]
    public void Training_is_deterministic_by_seed()
    {
        TranslationPair[] pairs = [new("open file", "Datei öffnen"), new("save file", "Datei speichern"), new("open", "öffnen"), new("file", "Datei")];
        SubwordTranslator Run(int seed) => TranslatorTraining.Train(pairs, pairs[..2], new TranslatorTrainingOptions
        {
            Merges = 10, EmbeddingSize = 8, HiddenSize = 8, Batch = 2, MaxEpochs = 3, Seed = seed, TimeBudget = TimeSpan.FromMinutes(10), EvaluationInterval = TimeSpan.FromMinutes(10), Patience = 0,
        }).Model;
        SubwordTranslator a = Run(3), b = Run(3), c = Run(4);
        Assert.Equal(a.Output.Weight, b.Output.Weight);
        Assert.Equal(a.Embedding.Weight, b.Embedding.Weight);
        Assert.NotEqual(a.Output.Weight, c.Output.Weight);
    }

    [Fact]
    public void Bad_checkpoints_and_arguments_are_refused_with_the_reason()
    {
        BytePairEncoding encoding = BytePairEncoding.Learn(["ab", "xy"], 0, minCharacterCount: 1);
        using var training = new TranslatorTraining(encoding, 4, 4, new TranslatorTrainingOptions { EmbeddingSize = 3, HiddenSize = 4, Batch = 2 });
        SubwordTranslator model = training.Snapshot();
        Assert.Contains("beam width", Assert.Throws<ArgumentOutOfRangeException>(() => model.Translate("ab", 0)).Message, StringComparison.Ordinal);
        Assert.Contains("U+2581", Assert.Throws<ArgumentException>(() => model.Translate("a\u2581b")).Message, StringComparison.Ordinal);
        string path = Path.Combine(_dir, "m.lstm");
        model.Save(path);
        Assert.Equal(model.Output.Weight, SubwordTranslator.Load(path).Output.Weight);
        var language = new CharLanguageModel(new CharVocabulary("ab"), LstmWeights.CreateRandom(new LstmSpec(2, 3), 1), new LstmSimd.IO.LinearHead(3, 2, new float[6]));
        string other = Path.Combine(_dir, "lm.lstm");
        language.Save(other);
        Assert.Contains("is not a translator checkpoint", Assert.Throws<LstmSimd.IO.ModelFormatException>(() => SubwordTranslator.Load(other)).Message, StringComparison.Ordinal);
        Assert.Contains("longer than the 4 → 4", Assert.Throws<ArgumentException>(() => training.Step([new("ababa", "x")])).Message, StringComparison.Ordinal);
        Assert.Contains("HiddenSize must be even", Assert.Throws<ArgumentException>(() => new TranslatorTraining(encoding, 4, 4, new TranslatorTrainingOptions { HiddenSize = 5 })).Message, StringComparison.Ordinal);
        Assert.Contains("longer than 3 characters", Assert.Throws<ArgumentException>(() => TranslatorTraining.Train([new("abcd", "x")], [new("a", "x")], new TranslatorTrainingOptions(), maxLength: 3)).Message, StringComparison.Ordinal);
    }
}
