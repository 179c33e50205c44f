namespace LstmSimd.Text;

/// <summary>
/// Multinomial naive Bayes on token counts with Laplace (add-α) smoothing, the classic bag-of-words baseline. Texts are
/// token-id sequences over a vocabulary of <c>features</c> ids; id 0 (padding) never occurs and is not a feature, the
/// unknown id is one like any other. log P(c | text) ∝ log(n_c / N) + Σ_w count(w)·log((count(c, w) + α) / (Σ_w' count(c, w') + α·V)),
/// V = features − 1.
/// </summary>
public sealed class NaiveBayesClassifier
{
    private readonly double[] _logPrior;
    private readonly double[,] _logLikelihood;

    private NaiveBayesClassifier(double[] logPrior, double[,] logLikelihood)
    {
        _logPrior = logPrior;
        _logLikelihood = logLikelihood;
    }

    /// <summary>The number of classes.</summary>
    public int Classes => _logPrior.Length;

    /// <summary>log P(class); −∞ for a class without training texts.</summary>
    public IReadOnlyList<double> LogPrior => _logPrior;

    /// <summary>log P(token | class): [classes, features] (column 0, padding, unused).</summary>
    public double[,] LogLikelihood => _logLikelihood;

    /// <summary>Counts the training texts.</summary>
    public static NaiveBayesClassifier Fit(IReadOnlyList<int[]> texts, ReadOnlySpan<int> labels, int classes, int features, double alpha = 1)
    {
        CheckData(texts, labels.Length, classes, features);
        if (!(alpha > 0 && double.IsFinite(alpha))) throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "alpha must be positive.");
        var counts = new double[classes, features];
        var totals = new double[classes];
        var documents = new double[classes];
        for (int i = 0; i < texts.Count; i++)
        {
            int c = CheckLabel(labels[i], classes, i);
            documents[c]++;
            foreach (int id in texts[i])
            {
                counts[c, CheckId(id, features, i)]++;
                totals[c]++;
            }
        }

        double v = features - 1;
        var logPrior = new double[classes];
        var logLikelihood = new double[classes, features];
        for (int c = 0; c < classes; c++)
        {
            logPrior[c] = Math.Log(documents[c] / texts.Count);
            for (int w = 1; w < features; w++) logLikelihood[c, w] = Math.Log((counts[c, w] + alpha) / (totals[c] + alpha * v));
        }

        return new NaiveBayesClassifier(logPrior, logLikelihood);
    }

    /// <summary>The unnormalised log-posterior of each class for one text.</summary>
    public double[] LogPosterior(int[] text)
    {
        ArgumentNullException.ThrowIfNull(text);
        double[] score = [.. _logPrior];
        int features = _logLikelihood.GetLength(1);
        for (int i = 0; i < text.Length; i++)
        {
            int id = CheckId(text[i], features, 0);
            for (int c = 0; c < score.Length; c++) score[c] += _logLikelihood[c, id];
        }

        return score;
    }

    /// <summary>The most probable class of each text.</summary>
    public int[] Predict(IReadOnlyList<int[]> texts) => [.. texts.Select(t => ArgMax(LogPosterior(t)))];

    internal static int ArgMax(double[] values)
    {
        int best = 0;
        for (int k = 1; k < values.Length; k++) if (values[k] > values[best]) best = k;
        return best;
    }

    internal static void CheckData(IReadOnlyList<int[]> texts, int labels, int classes, int features)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(classes, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(features, 2);
        if (texts.Count == 0) throw new ArgumentException("A baseline needs at least one training text.", nameof(texts));
        if (labels != texts.Count) throw new ArgumentException($"There are {texts.Count} texts and {labels} labels.", nameof(labels));
    }

    internal static int CheckLabel(int label, int classes, int text) =>
        (uint)label < (uint)classes ? label : throw new ArgumentOutOfRangeException(nameof(label), label, $"Text {text}'s label {label} is outside [0, {classes}).");

    internal static int CheckId(int id, int features, int text) =>
        id >= 1 && id < features ? id : throw new ArgumentOutOfRangeException(nameof(id), id, $"Text {text} holds the id {id}, outside the features [1, {features}).");
}

/// <summary>
/// Multinomial logistic regression on TF-IDF vectors, the strong bag-of-words baseline. A text's vector holds, for each
/// token id w ≥ 1, count(w)·idf(w) with scikit-learn's smoothed idf(w) = ln((1 + N) / (1 + df(w))) + 1 (df: training texts
/// holding w), scaled to unit L2 norm. The weights minimise the mean cross-entropy + (λ/2)·‖W‖² (the bias not decayed)
/// by Nesterov-accelerated full-batch gradient descent with step 1 / (1 + λ), the inverse of a bound on the loss's
/// curvature for unit vectors; the objective is strictly convex, so the result does not depend on the start.
/// </summary>
public sealed class TfidfLogisticRegression
{
    private readonly double[] _idf;
    private readonly double[,] _weight;
    private readonly double[] _bias;

    private TfidfLogisticRegression(double[] idf, double[,] weight, double[] bias)
    {
        _idf = idf;
        _weight = weight;
        _bias = bias;
    }

    /// <summary>idf of each token id (0 for the padding id).</summary>
    public IReadOnlyList<double> Idf => _idf;

    /// <summary>W: [classes, features].</summary>
    public double[,] Weight => _weight;

    /// <summary>b: [classes].</summary>
    public IReadOnlyList<double> Bias => _bias;

    /// <summary>Fits to the training texts.</summary>
    public static TfidfLogisticRegression Fit(IReadOnlyList<int[]> texts, ReadOnlySpan<int> labels, int classes, int features, double lambda = 1e-3, int iterations = 300)
    {
        NaiveBayesClassifier.CheckData(texts, labels.Length, classes, features);
        if (!(lambda >= 0 && double.IsFinite(lambda))) throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "lambda must be finite and non-negative.");
        ArgumentOutOfRangeException.ThrowIfNegative(iterations);
        int n = texts.Count;
        var documentFrequency = new int[features];
        for (int i = 0; i < n; i++)
        {
            NaiveBayesClassifier.CheckLabel(labels[i], classes, i);
            foreach (int id in texts[i].Distinct()) documentFrequency[NaiveBayesClassifier.CheckId(id, features, i)]++;
        }

        var idf = new double[features];
        for (int w = 1; w < features; w++) idf[w] = Math.Log((1.0 + n) / (1.0 + documentFrequency[w])) + 1;
        var model = new TfidfLogisticRegression(idf, new double[classes, features], new double[classes]);
        (int[] Ids, double[] Values)[] x = [.. texts.Select(model.Vector)];

        // Nesterov's accelerated gradient: y = θ + (k − 1)/(k + 2)·(θ − θ_prev); θ_next = y − step·∇f(y).
        int size = classes * features + classes;
        double[] theta = new double[size], previous = new double[size], look = new double[size], gradient = new double[size], logits = new double[classes];
        double step = 1 / (1 + lambda);
        for (int k = 1; k <= iterations; k++)
        {
            double momentum = (k - 1.0) / (k + 2.0);
            for (int j = 0; j < size; j++) look[j] = theta[j] + momentum * (theta[j] - previous[j]);
            Gradient(look, x, labels, classes, features, lambda, gradient, logits);
            Array.Copy(theta, previous, size);
            for (int j = 0; j < size; j++) theta[j] = look[j] - step * gradient[j];
        }

        for (int c = 0; c < classes; c++)
        {
            for (int w = 0; w < features; w++) model._weight[c, w] = theta[c * features + w];
            model._bias[c] = theta[classes * features + c];
        }

        return model;
    }

    /// <summary>The objective's gradient at θ = (W row-major, then b).</summary>
    private static void Gradient(double[] theta, (int[] Ids, double[] Values)[] x, ReadOnlySpan<int> labels, int classes, int features, double lambda,
        double[] gradient, double[] logits)
    {
        int n = x.Length, biasStart = classes * features;
        for (int j = 0; j < biasStart; j++) gradient[j] = lambda * theta[j];
        for (int j = biasStart; j < gradient.Length; j++) gradient[j] = 0;
        for (int i = 0; i < n; i++)
        {
            (int[] ids, double[] values) = x[i];
            for (int c = 0; c < classes; c++)
            {
                double z = theta[biasStart + c];
                for (int k = 0; k < ids.Length; k++) z += theta[c * features + ids[k]] * values[k];
                logits[c] = z;
            }

            double max = logits.Max(), sum = 0;
            for (int c = 0; c < classes; c++) sum += logits[c] = Math.Exp(logits[c] - max);
            for (int c = 0; c < classes; c++)
            {
                double residual = (logits[c] / sum - (c == labels[i] ? 1 : 0)) / n;
                gradient[biasStart + c] += residual;
                for (int k = 0; k < ids.Length; k++) gradient[c * features + ids[k]] += residual * values[k];
            }
        }
    }

    /// <summary>The TF-IDF vector of a text as (ids, values), ids ascending; unit L2 norm (empty for an empty text).</summary>
    public (int[] Ids, double[] Values) Vector(int[] text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var counts = new SortedDictionary<int, int>();
        foreach (int id in text) counts[NaiveBayesClassifier.CheckId(id, _idf.Length, 0)] = counts.GetValueOrDefault(id) + 1;
        int[] ids = [.. counts.Keys];
        double[] values = [.. counts.Select(p => p.Value * _idf[p.Key])];
        double norm = Math.Sqrt(values.Sum(v => v * v));
        if (norm > 0) for (int k = 0; k < values.Length; k++) values[k] /= norm;
        return (ids, values);
    }

    /// <summary>The class logits of one text.</summary>
    public double[] Logits(int[] text)
    {
        (int[] ids, double[] values) = Vector(text);
        double[] z = [.. _bias];
        for (int c = 0; c < z.Length; c++)
            for (int k = 0; k < ids.Length; k++) z[c] += _weight[c, ids[k]] * values[k];
        return z;
    }

    /// <summary>The most probable class of each text.</summary>
    public int[] Predict(IReadOnlyList<int[]> texts) => [.. texts.Select(t => NaiveBayesClassifier.ArgMax(Logits(t)))];
}

/// <summary>
/// Adds word pairs to bag-of-words features, as scikit-learn's <c>ngram_range=(1, 2)</c> does: each pair of neighbouring
/// token ids seen in at least <see cref="MinCount"/> training texts gets a feature id after the vocabulary's, and
/// <see cref="Extend"/> appends a text's pairs to its tokens, so the baselines above read words and word pairs alike.
/// </summary>
public sealed class BigramFeatures
{
    private readonly Dictionary<(int First, int Second), int> _ids;

    private BigramFeatures(Dictionary<(int First, int Second), int> ids, int vocabularySize, int minCount)
    {
        _ids = ids;
        VocabularySize = vocabularySize;
        MinCount = minCount;
    }

    /// <summary>The token ids' count (pairs get the ids from here on).</summary>
    public int VocabularySize { get; }

    /// <summary>The fewest training texts a pair must occur in to become a feature.</summary>
    public int MinCount { get; }

    /// <summary>Token ids and pair ids together: the feature count to fit the baselines with.</summary>
    public int Features => VocabularySize + _ids.Count;

    /// <summary>
    /// The pairs of neighbouring ids in <paramref name="texts"/> that occur in at least <paramref name="minCount"/> texts,
    /// numbered from <paramref name="vocabularySize"/> in order of first appearance.
    /// </summary>
    public static BigramFeatures Build(IReadOnlyList<int[]> texts, int vocabularySize, int minCount = 2)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentOutOfRangeException.ThrowIfLessThan(vocabularySize, 2);
        ArgumentOutOfRangeException.ThrowIfLessThan(minCount, 1);
        var documentCount = new Dictionary<(int, int), int>();
        var order = new List<(int, int)>();
        var seen = new HashSet<(int, int)>();
        foreach (int[] text in texts)
        {
            seen.Clear();
            for (int t = 1; t < text.Length; t++)
            {
                (int, int) pair = (text[t - 1], text[t]);
                if (!seen.Add(pair)) continue;
                if (!documentCount.TryGetValue(pair, out int count)) order.Add(pair);
                documentCount[pair] = count + 1;
            }
        }

        var ids = new Dictionary<(int, int), int>();
        foreach ((int, int) pair in order)
            if (documentCount[pair] >= minCount) ids.Add(pair, vocabularySize + ids.Count);
        return new BigramFeatures(ids, vocabularySize, minCount);
    }

    /// <summary>The text's token ids followed by the feature ids of its known pairs (pairs not kept are left out).</summary>
    public int[] Extend(int[] text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var features = new List<int>(2 * text.Length);
        features.AddRange(text);
        for (int t = 1; t < text.Length; t++)
            if (_ids.TryGetValue((text[t - 1], text[t]), out int id)) features.Add(id);
        return [.. features];
    }
}
