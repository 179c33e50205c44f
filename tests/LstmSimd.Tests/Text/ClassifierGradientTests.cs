using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Text;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Text;

/// <summary>
/// The classifier's backward pass (head, pooling, LSTM, embedding) against PyTorch 1.13's autograd on the golden files of
/// Golden/pytorch-classify/make_classify_golden.py, and against central finite differences of its own loss.
/// </summary>
public sealed class ClassifierGradientTests
{
    private static readonly Dictionary<string, SequencePooling> PoolingNames = new()
    {
        ["last"] = SequencePooling.LastStep, ["mean"] = SequencePooling.Mean, ["max"] = SequencePooling.Max,
    };

    [Theory]
    [InlineData("bidirectional_last")]
    [InlineData("bidirectional_mean")]
    [InlineData("two_layer_max")]
    [InlineData("bidirectional_max_repeated_ids")]
    public void Every_gradient_and_the_loss_match_pytorch_autograd(string name)
    {
        using var golden = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Golden", "pytorch-classify", name + ".safetensors"));
        using JsonDocument document = JsonDocument.Parse(golden.Metadata["config"]);
        JsonElement config = document.RootElement;
        int vocabulary = config.GetProperty("vocabulary").GetInt32(), dimension = config.GetProperty("embedding").GetInt32();
        int steps = config.GetProperty("steps").GetInt32(), batch = config.GetProperty("batch").GetInt32(), classes = config.GetProperty("classes").GetInt32();
        ImportedLstm imported = PyTorchStateDict.Import(golden, prefix: "lstm.", headPrefix: "head.");
        var embedding = new Embedding(vocabulary, dimension, golden.ReadSingles("embedding.weight"), paddingId: 0);
        var head = new TrainableLinearHead(imported.Head!.InputSize, classes, imported.Head.Weight, imported.Head.Bias);
        int[] lengths = [.. golden.ReadInt64s("lengths").Select(l => (int)l)];
        long[] ids = golden.ReadInt64s("ids");
        int[][] texts = [.. Enumerable.Range(0, batch).Select(b => Enumerable.Range(0, lengths[b]).Select(t => (int)ids[t * batch + b]).ToArray())];
        int[] labels = [.. golden.ReadInt64s("labels").Select(l => (int)l)];
        float[] weights = golden.ReadSingles("class_weights");

        using var network = new ClassifierNetwork(embedding, imported.Weights, head, PoolingNames[config.GetProperty("pooling").GetString()!], batch, steps);
        var parameters = new ParameterSet();
        network.AddTo(parameters);
        float[] gradLogits = new float[batch * classes];
        double loss = ClassWeights.CrossEntropy(network.Forward(texts, [.. Enumerable.Range(0, batch)]), batch, labels, weights, gradLogits);
        network.Backward(gradLogits);

        Assert.Equal(golden.ReadDoubles("loss")[0], loss, 5);
        Assert.Equal(1 + 4 * imported.Weights.Spec.LayerDirections + 2, parameters.Parameters.Count);
        foreach (Parameter p in parameters.Parameters)
        {
            double[] expected = golden.ReadDoubles("grad." + p.Name);
            Assert.Equal(expected.Length, p.Gradients.Length);
            double scale = expected.Max(Math.Abs);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(p.Gradients[i] - expected[i]) <= 1e-5 + 1e-4 * scale, $"{name} {p.Name}[{i}]: {p.Gradients[i]} vs PyTorch {expected[i]}");
        }

        Assert.All(embedding.Gradient.AsSpan(0, dimension).ToArray(), g => Assert.Equal(0f, g));
    }

    [Theory]
    [InlineData(SequencePooling.LastStep, true)]
    [InlineData(SequencePooling.Mean, false)]
    [InlineData(SequencePooling.Max, true)]
    public void Gradients_match_central_finite_differences_of_the_loss(SequencePooling pooling, bool bidirectional)
    {
        const int Vocabulary = 8, Dimension = 3, Classes = 3;
        var random = new SeededRandom(5);
        var spec = new LstmSpec(Dimension, 4, 1, bidirectional);
        var embedding = new Embedding(Vocabulary, Dimension, random, paddingId: 0);
        var head = new TrainableLinearHead(spec.OutputSize, Classes, random);
        using var network = new ClassifierNetwork(embedding, LstmWeights.CreateRandom(spec, 3), head, pooling, 3, 5);
        int[][] texts = [[2, 3, 4, 2, 5], [6, 1], [3]];   // id 7 never appears: its row must get no gradient
        int[] labels = [2, 0, 1], batch = [0, 1, 2];
        float[] weights = [1f, 2f, 0.5f], gradLogits = new float[texts.Length * Classes];
        var parameters = new ParameterSet();
        network.AddTo(parameters);

        double Loss()
        {
            network.RefreshWeights();
            return ClassWeights.CrossEntropy(network.Forward(texts, batch), texts.Length, labels, weights, gradLogits);
        }

        Loss();
        parameters.ZeroGradients();
        network.Backward(gradLogits);
        foreach (Parameter p in parameters.Parameters)
        {
            float[] analytic = (float[])p.Gradients.Clone();
            for (int i = 0; i < p.Values.Length; i++)
            {
                float saved = p.Values[i];
                const float Step = 1e-3f;
                p.Values[i] = saved + Step;
                double plus = Loss();
                p.Values[i] = saved - Step;
                double minus = Loss();
                p.Values[i] = saved;
                double numeric = (plus - minus) / (2 * Step);
                Assert.True(Math.Abs(analytic[i] - numeric) <= 2e-3 + 2e-2 * Math.Abs(numeric), $"{pooling} {p.Name}[{i}]: backward {analytic[i]}, finite differences {numeric}");
            }
        }

        Assert.All(embedding.Gradient.AsSpan(7 * Dimension, Dimension).ToArray(), g => Assert.Equal(0f, g));
        Assert.All(embedding.Gradient.AsSpan(0, Dimension).ToArray(), g => Assert.Equal(0f, g));
    }

    [Fact]
    public void The_padding_id_reads_as_zeros_and_takes_no_gradient_while_other_rows_add_up()
    {
        var embedding = new Embedding(4, 2, [0, 0, 1, 2, 3, 4, 5, 6], paddingId: 0);
        float[] vectors = new float[4 * 2];
        embedding.Forward([3, 0, 1, 3], vectors);
        Assert.Equal([5f, 6f, 0f, 0f, 1f, 2f, 5f, 6f], vectors);
        embedding.Backward([3, 0, 1, 3], [1f, 2f, 10f, 20f, 3f, 4f, 0.5f, 0.25f]);
        Assert.Equal([0f, 0f, 3f, 4f, 0f, 0f, 1.5f, 2.25f], embedding.Gradient);
    }

    [Fact]
    public void An_embedding_refuses_an_id_outside_its_table_and_a_padding_row_that_is_not_zero()
    {
        var embedding = new Embedding(3, 2, new SeededRandom(1));
        Assert.Contains("ids[1] = 3", Assert.Throws<ArgumentOutOfRangeException>(() => embedding.Forward([0, 3], new float[4])).Message, StringComparison.Ordinal);
        Assert.Contains("must be zero", Assert.Throws<ArgumentException>(() => new Embedding(2, 1, [1f, 2f], paddingId: 0)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => embedding.Forward([0, 1], new float[3]));
    }

    [Fact]
    public void An_adam_step_moves_the_rows_of_the_ids_seen_and_no_other()
    {
        var embedding = new Embedding(5, 2, new SeededRandom(2), paddingId: 0);
        float[] before = (float[])embedding.Weight.Clone();
        var parameters = new ParameterSet();
        embedding.AddTo(parameters);
        var adam = new AdamOptimizer(parameters, 0.1);
        embedding.Backward([2, 0, 4], [1f, -1f, 5f, 5f, 0.5f, 2f]);
        adam.Step();
        Assert.Equal(before.AsSpan(0, 2).ToArray(), embedding.Weight.AsSpan(0, 2).ToArray());
        Assert.Equal(before.AsSpan(2, 2).ToArray(), embedding.Weight.AsSpan(2, 2).ToArray());
        Assert.Equal(before.AsSpan(6, 2).ToArray(), embedding.Weight.AsSpan(6, 2).ToArray());
        Assert.Equal(before[4] - 0.1f, embedding.Weight[4], 5);   // Adam's first step moves by lr against the gradient's sign
        Assert.Equal(before[5] + 0.1f, embedding.Weight[5], 5);
        Assert.Equal(before[8] - 0.1f, embedding.Weight[8], 5);
    }
}
