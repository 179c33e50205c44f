
namespace LstmSimd.IO;

/// <summary>
/// An LstmSimd model file (<see cref="LstmModelFile"/>) with one extra <c>__metadata__</c> entry describing the
/// task the model was trained for (a forecaster's columns and scaling, a language model's vocabulary).
/// Saving is atomic (<see cref="SafetensorsWriter.Save"/>), so an interrupted save leaves the previous checkpoint intact.
/// </summary>
public static class ModelCheckpoint
{
    /// <summary>Writes the checkpoint atomically.</summary>
    public static void Save(string path, LstmWeights weights, LinearHead head, string metadataKey, string metadataJson)
    {
        ArgumentNullException.ThrowIfNull(path);
        LstmModelFile.CreateWriter(weights, head).AddMetadata(metadataKey, metadataJson).Save(path);
    }

    /// <summary>Loads a checkpoint and its task entry.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable, not an LstmSimd model file, has no head, or has no <paramref name="metadataKey"/> entry (<paramref name="task"/> names what was expected).</exception>
    public static (ImportedLstm Model, string MetadataJson) Load(string path, string metadataKey, string task)
    {
        try
        {
            return LoadUnlabelled(path, metadataKey, task);
        }
        catch (ModelFormatException e) when (!e.Message.Contains(path, StringComparison.Ordinal))
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }

    private static (ImportedLstm Model, string MetadataJson) LoadUnlabelled(string path, string metadataKey, string task)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        if (!LstmModelFile.IsModelFile(file))
            throw new ModelFormatException($"{path} is not an LstmSimd model file (no __metadata__.format 'lstmsimd'); expected a {task}.");
        if (!file.Metadata.TryGetValue(metadataKey, out string? json))
            throw new ModelFormatException($"{path} is an LstmSimd model file but not a {task} (no __metadata__.{metadataKey}).");
        ImportedLstm model = LstmModelFile.Load(file);
        if (model.Head is null) throw new ModelFormatException($"{path} holds no head; a {task} has one.");
        return (model, json);
    }
}
