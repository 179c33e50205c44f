namespace LstmSimd.IO;

// Checkpoints: a model file with one extra __metadata__ entry describing the task the model was trained for (a
// forecaster's columns and scaling, a language model's vocabulary).
public static partial class LstmModelFile
{
    /// <summary>
    /// Writes a checkpoint: a model file with a head and one extra <c>__metadata__</c> entry, <paramref name="metadataKey"/>,
    /// describing the task the model was trained for. Saving is atomic (<see cref="SafetensorsWriter.Save"/>), so an
    /// interrupted save leaves the previous checkpoint intact.
    /// </summary>
    public static void Save(string path, LstmWeights weights, LinearHead head, string metadataKey, string metadataJson)
    {
        ArgumentNullException.ThrowIfNull(path);
        CreateWriter(weights, head).AddMetadata(metadataKey, metadataJson).Save(path);
    }

    /// <summary>Loads a checkpoint (see <see cref="Save(string, LstmWeights, LinearHead, string, string)"/>) and its task entry.</summary>
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
        if (!IsModelFile(file))
            throw new ModelFormatException($"{path} is not an LstmSimd model file (no __metadata__.format 'lstmsimd'); expected a {task}.");
        if (!file.Metadata.TryGetValue(metadataKey, out string? json))
            throw new ModelFormatException($"{path} is an LstmSimd model file but not a {task} (no __metadata__.{metadataKey}).");
        ImportedLstm model = Load(file);
        if (model.Head is null) throw new ModelFormatException($"{path} holds no head; a {task} has one.");
        return (model, json);
    }
}
