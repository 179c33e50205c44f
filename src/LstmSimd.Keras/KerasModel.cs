using System.Globalization;
using System.IO.Compression;
using System.Text;
using System.Text.Json;
using LstmSimd.IO;

namespace LstmSimd.Keras;

/// <summary>Which file a <see cref="KerasModel"/> came from.</summary>
public enum KerasFileFormat
{
    /// <summary>A <c>.keras</c> zip (Keras 3): config.json, metadata.json, model.weights.h5.</summary>
    KerasArchive,

    /// <summary>A legacy HDF5 <c>.h5</c> (Keras 2, or Keras 3's <c>model.save("m.h5")</c>): model_config and model_weights.</summary>
    LegacyHdf5,

    /// <summary>A TensorFlow.js layers model: <c>model.json</c> (a Keras model config and a weights manifest) and the binary weight shards beside it.</summary>
    TensorFlowJs,
}

/// <summary>What <see cref="KerasModel.Run"/> computed.</summary>
/// <param name="Outputs">The model's outputs in the model's order, batch first as in Keras.</param>
/// <param name="KernelPath">The kernel path the LSTM and GRU layers ran on.</param>
public sealed record KerasRun(IReadOnlyList<KerasTensor> Outputs, KernelPath KernelPath);

/// <summary>
/// A Keras model read from a <c>.keras</c> or legacy <c>.h5</c> file: a Sequential or plain functional model (one input,
/// each layer reading one tensor) of Embedding, LSTM, GRU (either <c>reset_after</c>), Bidirectional(LSTM or GRU), Dense and
/// Dropout layers, run with Keras's semantics (batch-first tensors, <c>return_sequences</c>, <c>return_state</c>,
/// <c>go_backwards</c>, <c>merge_mode</c>, the activations from the config), its LSTM and GRU layers on LstmSimd's kernels. Anything else the config asks for (another
/// layer, <c>stateful</c>, masking, another activation, a mixed-precision policy) is refused naming the layer and the setting.
/// </summary>
public sealed class KerasModel
{
    private const long MaxConfigBytes = 64L << 20;
    private static readonly byte[] Hdf5Signature = [0x89, (byte)'H', (byte)'D', (byte)'F', (byte)'\r', (byte)'\n', 0x1a, (byte)'\n'];

    private readonly IReadOnlyList<(string Layer, int Index)> _outputs;

    private KerasModel(KerasFileFormat format, string kerasVersion, string inputName, bool takesTokenIds, int inputFeatures,
        IReadOnlyList<KerasLayer> layers, IReadOnlyList<(string Layer, int Index)> outputs)
    {
        Format = format;
        KerasVersion = kerasVersion;
        InputName = inputName;
        TakesTokenIds = takesTokenIds;
        InputFeatures = inputFeatures;
        Layers = layers;
        _outputs = outputs;
        OutputNames = [.. outputs.Select(o => TensorName(o.Layer, o.Index))];
    }

    /// <summary>The file's format.</summary>
    public KerasFileFormat Format { get; }

    /// <summary>The Keras version that saved the file, e.g. <c>3.6.0</c> (it decides what <c>hard_sigmoid</c> means), or for a TensorFlow.js model its <c>keras_version</c>, e.g. <c>tfjs-layers 4.22.0</c>.</summary>
    public string KerasVersion { get; }

    /// <summary>The name of the model's input.</summary>
    public string InputName { get; }

    /// <summary>Whether the input is token ids [B, T] (an Embedding reads it) rather than features [B, T, I].</summary>
    public bool TakesTokenIds { get; }

    /// <summary>I, the features per time step of the input; 0 when it takes token ids.</summary>
    public int InputFeatures { get; }

    /// <summary>The layers in the order they run (InputLayer left out).</summary>
    public IReadOnlyList<KerasLayer> Layers { get; }

    /// <summary>The names of the model's outputs: a layer's name, with <c>:i</c> for its i-th output (an LSTM's h is <c>:1</c>, c <c>:2</c>).</summary>
    public IReadOnlyList<string> OutputNames { get; }

    /// <summary>A summary: format, version, and each layer with its settings.</summary>
    public string Description
    {
        get
        {
            var s = new StringBuilder();
            s.Append(Format switch
            {
                KerasFileFormat.KerasArchive => $"Keras {KerasVersion} .keras model",
                KerasFileFormat.LegacyHdf5 => $"Keras {KerasVersion} legacy .h5 model",
                _ => $"TensorFlow.js layers model (saved by {KerasVersion})",
            });
            s.Append(CultureInfo.InvariantCulture, $": input '{InputName}' ");
            s.Append(TakesTokenIds ? "token ids [B, T]" : $"[B, T, {InputFeatures}]");
            foreach (KerasLayer layer in Layers) s.Append('\n').Append("  ").Append(layer.Description);
            s.Append('\n').Append("  outputs: ").Append(string.Join(", ", OutputNames));
            return s.ToString();
        }
    }

    /// <summary>
    /// Whether <paramref name="path"/> looks like a Keras file: an HDF5 file, a zip named <c>*.keras</c>, or a JSON file
    /// named <c>*.json</c> (a TensorFlow.js <c>model.json</c>).
    /// </summary>
    public static bool IsKerasFile(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        Span<byte> head = stackalloc byte[8];
        using FileStream stream = File.OpenRead(path);
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        if (read == 8 && head.SequenceEqual(Hdf5Signature)) return true;
        if (IsJson(head[..read])) return path.EndsWith(".json", StringComparison.OrdinalIgnoreCase);
        return read >= 4 && head[..4].SequenceEqual("PK\u0003\u0004"u8) && path.EndsWith(".keras", StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>JSON text that opens an object: <c>{</c> after optional white space and a UTF-8 byte-order mark.</summary>
    private static bool IsJson(ReadOnlySpan<byte> head)
    {
        if (head.StartsWith((ReadOnlySpan<byte>)[0xEF, 0xBB, 0xBF])) head = head[3..];
        head = head.TrimStart(" \t\r\n"u8);
        return head.Length > 0 && head[0] == (byte)'{';
    }

    /// <summary>
    /// Reads a <c>.keras</c> (Keras 3), legacy <c>.h5</c> or TensorFlow.js <c>model.json</c> model and packs its LSTM layers.
    /// <c>hard_sigmoid</c> means clip(0.2·x + 0.5, 0, 1) in a file saved by Keras 1 or 2 and clip(x/6 + 0.5, 0, 1) in one
    /// saved by Keras 3, as each defines it; in a TensorFlow.js model it means what TensorFlow.js computes, clip(0.2·x + 0.5, 0, 1).
    /// A <c>model.json</c>'s weight shards are read from its folder, and must stay inside it.
    /// </summary>
    /// <param name="path">The file: <c>.keras</c>, <c>.h5</c>, or a TensorFlow.js <c>model.json</c>.</param>
    /// <param name="options">How to build the LSTM layers' fast models (kernel path, threads, weight format); null for the defaults.</param>
    /// <exception cref="KerasFormatException">The file is malformed, or the model uses something LstmSimd cannot run (named).</exception>
    public static KerasModel Load(string path, LstmModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        using FileStream stream = File.OpenRead(path);
        if (StartsAsJson(stream)) return LoadTensorFlowJs(stream, Path.GetDirectoryName(Path.GetFullPath(path))!, options);
        return Load(stream, options, $"'{KerasConfig.Printable(Path.GetFileName(path))}'");
    }

    /// <summary>Reads a <c>.keras</c> or legacy <c>.h5</c> model from a seekable stream (an embedded resource, say); see <see cref="Load(string, LstmModelOptions?)"/>.</summary>
    /// <exception cref="KerasFormatException">The data is malformed, or the model uses something LstmSimd cannot run (named).</exception>
    public static KerasModel Load(Stream stream, LstmModelOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek) throw new ArgumentException("The stream must be seekable.", nameof(stream));
        return Load(stream, options, "the stream");
    }

    private static KerasModel Load(Stream stream, LstmModelOptions? options, string what)
    {
        Span<byte> head = stackalloc byte[8];
        long start = stream.Position;
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        if (read == 8 && head.SequenceEqual(Hdf5Signature)) return LoadLegacy(stream, options);
        if (read >= 4 && head[..4].SequenceEqual("PK\u0003\u0004"u8)) return LoadArchive(stream, options);
        if (IsJson(head[..read]))
            throw new KerasFormatException($"{what} is JSON, perhaps a TensorFlow.js model.json: its weight shards are files beside it, so load it by its path.");
        throw new KerasFormatException($"{what} is neither a .keras zip, an HDF5 file nor a TensorFlow.js model.json.");
    }

    private static bool StartsAsJson(Stream stream)
    {
        Span<byte> head = stackalloc byte[8];
        long start = stream.Position;
        int read = stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false);
        stream.Position = start;
        return IsJson(head[..read]);
    }

    /// <summary>
    /// A TensorFlow.js layers model: <c>model.json</c>'s <c>modelTopology</c> is a Keras model config (tfjs's own
    /// <c>model.save</c> writes it bare, tensorflowjs_converter under <c>model_config</c>), read as a Keras file's, and its
    /// <c>weightsManifest</c> names the shards in <paramref name="folder"/>.
    /// </summary>
    private static KerasModel LoadTensorFlowJs(Stream stream, string folder, LstmModelOptions? options)
    {
        if (stream.Length > MaxConfigBytes) throw new KerasFormatException($"model.json is {stream.Length} bytes, more than LstmSimd reads for one ({MaxConfigBytes}).");
        byte[] bytes = new byte[stream.Length];
        stream.ReadExactly(bytes);
        using (JsonDocument document = KerasConfig.ParseJson(Encoding(bytes, "model.json"), "model.json"))
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object) throw new KerasFormatException("model.json is not a JSON object.");
            if (root.TryGetProperty("format", out JsonElement format) && format.ValueKind == JsonValueKind.String && format.GetString() != "layers-model")
                throw new KerasFormatException($"model.json is a '{KerasConfig.Printable(format.GetString()!)}', not a 'layers-model': a graph model (converted from a SavedModel) has no layer config for LstmSimd to read; convert the Keras model instead.");
            JsonElement topology = KerasConfig.Property(root, "modelTopology", "model.json");
            if (topology.ValueKind != JsonValueKind.Object) throw new KerasFormatException("model.json's 'modelTopology' is not an object.");
            string version = topology.TryGetProperty("keras_version", out JsonElement v) && v.ValueKind == JsonValueKind.String ? v.GetString()! : "unknown";
            JsonElement model = topology.TryGetProperty("model_config", out JsonElement inner) && inner.ValueKind == JsonValueKind.Object ? inner : topology;
            KerasConfig config = KerasConfig.Parse(model.GetRawText(), "model.json modelTopology");
            using TensorFlowJsWeightStore store = TensorFlowJsWeightStore.Read(KerasConfig.Property(root, "weightsManifest", "model.json"), folder);
            return Build(KerasFileFormat.TensorFlowJs, version, config, store, options, TensorFlowJsKerasMajor);
        }
    }

    /// <summary>TensorFlow.js's layers follow Keras 2: its hard_sigmoid is clip(0.2·x + 0.5, 0, 1) whoever saved the model.</summary>
    private const int TensorFlowJsKerasMajor = 2;

    private static KerasModel LoadArchive(Stream stream, LstmModelOptions? options)
    {
        ZipArchive zip;
        try
        {
            zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
        }
        catch (InvalidDataException e)
        {
            throw new KerasFormatException($".keras: not a readable zip: {e.Message}", e);
        }

        using (zip)
        {
            string metadata = Encoding(Entry(zip, "metadata.json", MaxConfigBytes, stream.Length), "metadata.json");
            string version = MetadataVersion(metadata);
            if (Major(version) is int major && major < 3)
                throw new KerasFormatException($"the .keras file was saved by Keras {KerasConfig.Printable(version)}, whose .keras layout LstmSimd does not read; save it as .h5 with that Keras, or as .keras with Keras 3.");
            string configJson = Encoding(Entry(zip, "config.json", MaxConfigBytes, stream.Length), "config.json");
            KerasConfig config = KerasConfig.Parse(configJson, "config.json");
            long limit = Math.Min(Array.MaxLength, Math.Max(stream.Length, 1 << 20) * 1100);
            byte[] weights = Entry(zip, "model.weights.h5", limit, stream.Length);
            using var store = new Hdf5WeightStore.Keras3(NativeFileHandle.Open(new MemoryStream(weights, writable: false), "model.weights.h5"), weights.Length);
            return Build(KerasFileFormat.KerasArchive, version, config, store, options, Major(version));
        }
    }

    private static KerasModel LoadLegacy(Stream stream, LstmModelOptions? options)
    {
        long length = stream.Length - stream.Position;
        var copy = new MemoryStream();
        stream.CopyTo(copy);
        copy.Position = 0;
        NativeFileHandle file = NativeFileHandle.Open(copy, ".h5");
        using var store = new Hdf5WeightStore.Legacy(file, length);
        (string? configJson, string? version, bool hasWeights) = Attributes(file);
        if (configJson is null)
            throw new KerasFormatException(".h5: no 'model_config' attribute: the file holds weights only (save_weights); save the whole model with model.save.");
        if (!hasWeights) throw new KerasFormatException(".h5: no 'model_weights' group.");
        if (version is not null && Major(version) is int major && major < 2)
            throw new KerasFormatException($".h5: saved by Keras {KerasConfig.Printable(version)}, whose layers are configured and stored differently; load and save it again with Keras 2 or 3.");
        KerasConfig config = KerasConfig.Parse(configJson, ".h5 model_config");
        return Build(KerasFileFormat.LegacyHdf5, version ?? "unknown", config, store, options, version is null ? null : Major(version));
    }

    private static (string? Config, string? Version, bool HasWeights) Attributes(NativeFileHandle file) =>
        NativeFileHandle.Guard(".h5 root attributes", () =>
            (NativeFileHandle.StringAttribute(file.Root, "model_config"), NativeFileHandle.StringAttribute(file.Root, "keras_version"), file.Root.LinkExists("model_weights")));

    /// <summary>An entry's bytes, read to at most <paramref name="limit"/> whatever its header claims.</summary>
    private static byte[] Entry(ZipArchive zip, string name, long limit, long archiveLength)
    {
        try
        {
            ZipArchiveEntry entry = zip.GetEntry(name) ?? throw new KerasFormatException($".keras: no '{name}' in the archive.");
            if (entry.Length > limit || entry.Length > Math.Max(archiveLength, 1 << 20) * 1100L)
                throw new KerasFormatException($".keras: '{name}' claims {entry.Length} bytes, more than LstmSimd reads for it ({limit}).");
            using Stream s = entry.Open();
            byte[] data = new byte[entry.Length];
            s.ReadExactly(data);
            if (s.ReadByte() >= 0) throw new KerasFormatException($".keras: '{name}' holds more bytes than its header says.");
            return data;
        }
        catch (InvalidDataException e)
        {
            throw new KerasFormatException($".keras: '{name}' cannot be read: {e.Message}", e);
        }
        catch (EndOfStreamException e)
        {
            throw new KerasFormatException($".keras: '{name}' ends early.", e);
        }
    }

    private static string Encoding(byte[] bytes, string name) =>
        UserText.DecodeUtf8(bytes, problem => new KerasFormatException($"'{name}' is not UTF-8 text: {problem}"));

    private static string MetadataVersion(string metadata)
    {
        try
        {
            using var document = JsonDocument.Parse(metadata, new JsonDocumentOptions { MaxDepth = 16 });
            return document.RootElement.ValueKind == JsonValueKind.Object && document.RootElement.TryGetProperty("keras_version", out JsonElement v) && v.ValueKind == JsonValueKind.String
                ? v.GetString()!
                : throw new KerasFormatException("metadata.json gives no keras_version.");
        }
        catch (JsonException e)
        {
            throw new KerasFormatException($"metadata.json is not valid JSON: {e.Message}", e);
        }
    }

    private static int? Major(string version)
    {
        int dot = version.IndexOf('.', StringComparison.Ordinal);
        return int.TryParse(dot < 0 ? version : version[..dot], NumberStyles.None, CultureInfo.InvariantCulture, out int major) ? major : null;
    }

    private static KerasModel Build(KerasFileFormat format, string version, KerasConfig config, KerasWeightStore store, LstmModelOptions? options, int? kerasMajor)
    {
        var builder = new KerasModelBuilder(config, store, kerasMajor, options);
        IReadOnlyList<KerasLayer> layers = builder.BuildLayers();
        List<(string Layer, int Index)> outputs;
        if (config.Outputs is null)
        {
            KerasLayer last = layers[^1];
            outputs = [.. Enumerable.Range(0, last.OutputCount).Select(i => (last.Name, i))];
        }
        else
        {
            outputs = [.. config.Outputs];
            foreach ((string layer, int index) in outputs)
            {
                KerasLayer? producer = layers.FirstOrDefault(l => l.Name == layer);
                if (producer is null || index >= producer.OutputCount)
                    throw new KerasFormatException($"the model's output '{KerasConfig.Printable(TensorName(layer, index))}' is not a layer output.");
            }
        }

        return new KerasModel(format, version, config.InputName, builder.TakesTokenIds, builder.InputFeatures, layers, outputs);
    }

    internal static string TensorName(string layer, int index) => index == 0 ? layer : $"{layer}:{index.ToString(CultureInfo.InvariantCulture)}";

    /// <summary>
    /// Runs the model on one batch. Allocates its results and a session per LSTM or GRU layer; to stream one step at a time,
    /// use the layer's <see cref="KerasLstmLayer.Model"/> or <see cref="KerasGruLayer.Model"/> directly.
    /// </summary>
    /// <param name="input">[B, T, I] batch first as in Keras, or token ids [B, T] (as floats) when <see cref="TakesTokenIds"/>.</param>
    /// <param name="batch">B, at least 1.</param>
    /// <param name="steps">T, at least 1.</param>
    /// <exception cref="ArgumentException">The input's length does not match, or a token id is out of range (named).</exception>
    public KerasRun Run(ReadOnlySpan<float> input, int batch, int steps)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(steps);
        int[] shape = TakesTokenIds ? [batch, steps] : [batch, steps, InputFeatures];
        long expected = Sizes.Product("input", [.. shape.Select(d => (long)d)]);
        if (input.Length != expected)
            throw new ArgumentException($"The input must hold B·T{(TakesTokenIds ? "" : "·I")} = {expected} values ([{string.Join(", ", shape)}]); it holds {input.Length}.", nameof(input));
        var tensors = new Dictionary<string, Tensor[]>(StringComparer.Ordinal) { [InputName] = [new Tensor(input.ToArray(), shape)] };
        foreach (KerasLayer layer in Layers)
        {
            tensors[layer.Name] = layer.Apply(tensors[layer.Source][layer.SourceIndex]);
        }

        KernelPath path = Layers.OfType<KerasRecurrentLayer>().FirstOrDefault()?.KernelPath ?? KernelPath.Auto;
        return new KerasRun([.. _outputs.Select(o => new KerasTensor(TensorName(o.Layer, o.Index), tensors[o.Layer][o.Index].Values, tensors[o.Layer][o.Index].Shape))], path);
    }
}
