using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Text;
using Xunit;

namespace LstmSimd.Tests.Text;

/// <summary>
/// Accuracy, macro-F1 and the confusion matrix against hand calculations, and the two bag-of-words baselines against the
/// numpy goldens of Golden/numpy-baselines/make_baselines_golden.py.
/// </summary>
public sealed class BaselineAndMetricTests
{
    [Fact]
    public void Metrics_match_a_hand_calculation_on_three_classes()
    {
        // truth:     0 0 0 1 1 2 2 2
        // predicted: 0 1 0 1 2 2 2 0
        ClassificationMetrics m = ClassificationMetrics.From([0, 0, 0, 1, 1, 2, 2, 2], [0, 1, 0, 1, 2, 2, 2, 0], 3);
        Assert.Equal(new long[,] { { 2, 1, 0 }, { 0, 1, 1 }, { 1, 0, 2 } }, m.Confusion);
        Assert.Equal(5.0 / 8, m.Accuracy, 12);
        // class 0: TP 2, FP 1, FN 1 → F1 2·2/(2·2+1+1) = 2/3; class 1: TP 1, FP 1, FN 1 → 1/2; class 2: TP 2, FP 1, FN 1 → 2/3
        Assert.Equal(2.0 / 3, m.F1[0], 12);
        Assert.Equal(0.5, m.F1[1], 12);
        Assert.Equal(2.0 / 3, m.F1[2], 12);
        Assert.Equal((2.0 / 3 + 0.5 + 2.0 / 3) / 3, m.MacroF1, 12);
    }

    [Fact]
    public void A_class_never_predicted_scores_zero_f1_and_pulls_macro_f1_below_accuracy()
    {
        ClassificationMetrics m = ClassificationMetrics.From([0, 0, 0, 0, 1], [0, 0, 0, 0, 0], 2);
        Assert.Equal(0.8, m.Accuracy, 12);
        Assert.Equal(0, m.F1[1]);
        Assert.Equal((8.0 / 9 + 0) / 2, m.MacroF1, 12);   // class 0: 2·4/(2·4 + 1) = 8/9
    }

    [Fact]
    public void Metrics_refuse_unpaired_or_out_of_range_classes()
    {
        Assert.Throws<ArgumentException>(() => ClassificationMetrics.From([0, 1], [0], 2));
        Assert.Throws<ArgumentOutOfRangeException>(() => ClassificationMetrics.From([0, 2], [0, 1], 2));
    }

    [Fact]
    public void Balanced_class_weights_give_each_class_the_same_total_weight()
    {
        float[] w = ClassWeights.For([0, 0, 0, 1], 3, ClassWeighting.Balanced);
        Assert.Equal(4f / (3 * 3), w[0], 6);   // N / (C · n_c)
        Assert.Equal(4f / 3, w[1], 6);
        Assert.Equal(0f, w[2]);
        Assert.Equal([1f, 1f], ClassWeights.For([0, 0, 1], 2, ClassWeighting.None));
    }

    [Fact]
    public void Naive_bayes_matches_the_numpy_golden()
    {
        using Golden golden = new();
        NaiveBayesClassifier nb = NaiveBayesClassifier.Fit(golden.Train, golden.TrainLabels, golden.Classes, golden.Features);
        double[] prior = golden.File.ReadDoubles("nb.log_prior"), likelihood = golden.File.ReadDoubles("nb.log_likelihood");
        for (int c = 0; c < golden.Classes; c++)
        {
            Assert.Equal(prior[c], nb.LogPrior[c], 12);
            for (int w = 1; w < golden.Features; w++) Assert.Equal(likelihood[c * golden.Features + w], nb.LogLikelihood[c, w], 12);
        }

        Assert.Equal(golden.File.ReadInt64s("nb.predicted").Select(p => (int)p), nb.Predict(golden.Test));
    }

    [Fact]
    public void Tfidf_logistic_regression_reaches_the_numpy_optimum()
    {
        using Golden golden = new();
        TfidfLogisticRegression lr = TfidfLogisticRegression.Fit(golden.Train, golden.TrainLabels, golden.Classes, golden.Features, lambda: golden.Lambda, iterations: 3000);
        double[] idf = golden.File.ReadDoubles("idf"), weight = golden.File.ReadDoubles("lr.weight"), bias = golden.File.ReadDoubles("lr.bias");
        for (int w = 1; w < golden.Features; w++) Assert.Equal(idf[w], lr.Idf[w], 12);
        for (int c = 0; c < golden.Classes; c++)
        {
            Assert.Equal(bias[c], lr.Bias[c], 6);
            for (int w = 0; w < golden.Features; w++) Assert.Equal(weight[c * golden.Features + w], lr.Weight[c, w], 6);
        }

        Assert.Equal(golden.File.ReadInt64s("lr.predicted").Select(p => (int)p), lr.Predict(golden.Test));
    }

    [Fact]
    public void Baselines_refuse_the_padding_id_and_mismatched_labels()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => NaiveBayesClassifier.Fit([[0, 2]], [0], 2, 4));
        Assert.Throws<ArgumentException>(() => TfidfLogisticRegression.Fit([[1, 2], [3]], [0], 2, 4));
    }

    private sealed class Golden : IDisposable
    {
        public Golden()
        {
            File = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Golden", "numpy-baselines", "baselines.safetensors"));
            using JsonDocument document = JsonDocument.Parse(File.Metadata["config"]);
            Features = document.RootElement.GetProperty("features").GetInt32();
            Classes = document.RootElement.GetProperty("classes").GetInt32();
            Lambda = document.RootElement.GetProperty("lambda_").GetDouble();
            Train = Texts("train");
            Test = Texts("test");
            TrainLabels = [.. File.ReadInt64s("train.labels").Select(l => (int)l)];
        }

        public SafetensorsFile File { get; }
        public int Features { get; }
        public int Classes { get; }
        public double Lambda { get; }
        public int[][] Train { get; }
        public int[][] Test { get; }
        public int[] TrainLabels { get; }

        private int[][] Texts(string part)
        {
            long[] ids = File.ReadInt64s(part + ".ids"), lengths = File.ReadInt64s(part + ".lengths");
            var texts = new int[lengths.Length][];
            int start = 0;
            for (int i = 0; i < texts.Length; i++)
            {
                texts[i] = [.. ids.Skip(start).Take((int)lengths[i]).Select(v => (int)v)];
                start += (int)lengths[i];
            }

            return texts;
        }

        public void Dispose() => File.Dispose();
    }
}
