using LstmSimd.IO;
using LstmSimd.Text;

namespace LstmSimd.Keras;

/// <summary>Reads a Keras text classifier as an LstmSimd.Text <see cref="ImportedClassifier"/>.</summary>
public static class KerasTextClassifier
{
    /// <summary>
    /// Reads a Keras model (<c>.keras</c>, legacy <c>.h5</c>, or a TensorFlow.js <c>model.json</c>) of the layers
    /// <c>Embedding</c> → <c>LSTM</c> or <c>Bidirectional(LSTM)</c> (concat, the last step) → <c>Dense</c>, with Dropout
    /// layers anywhere between. A softmax or linear Dense gives the logits as they are; a one-unit sigmoid Dense becomes two
    /// classes with logits [0, z], whose softmax is [1 − σ(z), σ(z)]. <c>mask_zero=True</c> is honoured: id 0 is the padding id
    /// and its steps are skipped (<see cref="ImportedClassifier.SkipsPadding"/>), as Keras's masking skips them.
    /// </summary>
    /// <exception cref="ModelFormatException">The file is unreadable, or the model is not such a classifier (the layer and reason are named).</exception>
    public static ImportedClassifier Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string where = $"'{KerasConfig.Printable(path)}'";
        KerasModel model = KerasModel.Load(path);
        KerasLayer[] layers = [.. model.Layers.Where(l => l is not KerasDropoutLayer)];
        if (layers is not [KerasEmbeddingLayer embedding, KerasLstmLayer lstm, KerasDenseLayer dense] || model.OutputNames.Count != 1)
            throw new KerasFormatException($"{where} is {string.Join(" → ", model.Layers.Select(l => l.ClassName))}; a text classifier is Embedding → LSTM or Bidirectional(LSTM) → Dense, with one output.");
        if (lstm.ReturnSequences || lstm.ReturnState || lstm.GoBackwards || lstm.MergeMode is not (null or KerasMergeMode.Concat))
            throw new KerasFormatException($"{where}: layer '{KerasConfig.Printable(lstm.Name)}' must return its last step only, read forward, and merge a Bidirectional's directions by concat.");
        int features = lstm.Weights.Spec.OutputSize;
        if (dense.InputSize != features)
            throw new KerasFormatException($"{where}: layer '{KerasConfig.Printable(dense.Name)}' takes {dense.InputSize} features; the LSTM gives {features}.");

        // Keras's kernel is [inputs, units]; a LinearHead's weight is [units, inputs].
        float[] weight = new float[dense.Kernel.Length];
        for (int i = 0; i < dense.InputSize; i++)
            for (int u = 0; u < dense.Units; u++) weight[u * dense.InputSize + i] = dense.Kernel[i * dense.Units + u];
        float[] bias = dense.Bias.Length == 0 ? new float[dense.Units] : (float[])dense.Bias.Clone();
        LinearHead head = dense.Activation switch
        {
            KerasDenseActivation.Linear or KerasDenseActivation.Softmax => new LinearHead(features, dense.Units, weight, bias),
            // σ(z) = softmax([0, z])[1]: a zero row for the negative class.
            KerasDenseActivation.Sigmoid when dense.Units == 1 => new LinearHead(features, 2, [.. new float[features], .. weight], [0f, bias[0]]),
            _ => throw new KerasFormatException($"{where}: layer '{KerasConfig.Printable(dense.Name)}' applies {dense.Activation.ToString().ToLowerInvariant()} to {dense.Units} units; a classifier's head is linear, softmax, or one sigmoid unit."),
        };

        float[] table = (float[])embedding.Embeddings.Clone();
        if (embedding.MaskZero) table.AsSpan(0, embedding.OutputDim).Clear(); // masked steps never read row 0
        return ImportedClassifier.Create(where, $"Keras: {embedding.Description}{(embedding.MaskZero ? ", mask_zero" : "")} → {lstm.Description} → {dense.Description}",
            table, embedding.InputDim, embedding.OutputDim, embedding.MaskZero ? 0 : -1, lstm.Weights, head, SequencePooling.LastStep, skipsPadding: embedding.MaskZero);
    }
}
