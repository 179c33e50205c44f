using System.Buffers.Binary;
using System.Globalization;
using System.Text.Json;
using LstmSimd.IO;

namespace LstmSimd.Keras;

/// <summary>A weight of a TensorFlow.js manifest: where its bytes start in its group's shards, and how they are stored.</summary>
internal sealed record TensorFlowJsArray(string Name, long[] Shape, int Group, long Offset, string Dtype, float Scale, float Min) : StoredArray(Name, Shape);

/// <summary>
/// The weights of a TensorFlow.js layers model: <c>model.json</c>'s <c>weightsManifest</c>, a list of groups, each naming
/// its shard files (read one after another as one buffer) and its weights (laid out one after another in that buffer).
/// Weights are float32, or quantised as tensorflowjs_converter stores them (<c>quantization</c>: uint8 or uint16 with
/// value = q·scale + min, or float16). Every size in the manifest is checked against the bytes of the shard files before
/// any is read, and shard paths must stay inside the model's folder (<see cref="ModelFolder"/>).
/// </summary>
internal sealed class TensorFlowJsWeightStore : KerasWeightStore
{
    /// <summary>More weights than a model of <see cref="KerasConfig"/>'s largest size could have: a bound for hostile manifests.</summary>
    private const int MaxWeights = 100_000;

    private const int MaxShardsPerGroup = 10_000;

    private readonly List<TensorFlowJsArray> _arrays;
    private readonly byte[][] _groups;

    private TensorFlowJsWeightStore(List<TensorFlowJsArray> arrays, byte[][] groups)
    {
        _arrays = arrays;
        _groups = groups;
    }

    /// <summary>Reads the manifest and the shard files it names in <paramref name="folder"/>.</summary>
    public static TensorFlowJsWeightStore Read(JsonElement manifest, string folder)
    {
        if (manifest.ValueKind != JsonValueKind.Array) throw Bad("'weightsManifest' is not a list");
        var arrays = new List<TensorFlowJsArray>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        var groups = new List<(List<string> Paths, long Bytes)>();
        foreach (JsonElement group in manifest.EnumerateArray())
        {
            int g = groups.Count;
            string where = $"weightsManifest group {g + 1}";
            JsonElement paths = KerasConfig.Property(group, "paths", where);
            JsonElement weights = KerasConfig.Property(group, "weights", where);
            if (paths.ValueKind != JsonValueKind.Array || paths.GetArrayLength() > MaxShardsPerGroup) throw Bad($"{where}: 'paths' is not a list of at most {MaxShardsPerGroup} file names");
            if (weights.ValueKind != JsonValueKind.Array) throw Bad($"{where}: 'weights' is not a list");
            var files = new List<string>();
            foreach (JsonElement p in paths.EnumerateArray())
                files.Add(p.ValueKind == JsonValueKind.String ? p.GetString()! : throw Bad($"{where}: a path is not a string"));
            long offset = 0;
            foreach (JsonElement weight in weights.EnumerateArray())
            {
                if (arrays.Count >= MaxWeights) throw Bad($"the manifest lists more than {MaxWeights} weights");
                TensorFlowJsArray array = Entry(weight, g, offset, where);
                if (!names.Add(array.Name)) throw Bad($"two weights are named '{KerasConfig.Printable(array.Name)}'");
                arrays.Add(array);
                offset += Bytes(array);
                if (offset > Array.MaxLength) throw Bad($"{where}'s weights need more than {Array.MaxLength} bytes");
            }

            groups.Add((files, offset));
        }

        var buffers = new byte[groups.Count][];
        for (int g = 0; g < groups.Count; g++) buffers[g] = ReadShards(folder, groups[g].Paths, groups[g].Bytes, g);
        return new TensorFlowJsWeightStore(arrays, buffers);
    }

    /// <summary>
    /// The weights whose names start with the layer's name and a slash, in Keras's order: forward before backward (a
    /// Bidirectional's weights are under <c>forward_*</c> and <c>backward_*</c>), then kernel, recurrent_kernel, bias.
    /// </summary>
    public override IReadOnlyList<StoredArray> Arrays(KerasLayerConfig layer)
    {
        string prefix = layer.Name + "/";
        return [.. _arrays.Where(a => a.Name.StartsWith(prefix, StringComparison.Ordinal)).OrderBy(a => Order(a.Name[prefix.Length..]))];
    }

    private static int Order(string name)
    {
        string[] parts = name.Split('/');
        bool backward = parts.Length > 1 && parts[..^1].Any(p => p.StartsWith("backward", StringComparison.Ordinal));
        string role = parts[^1].EndsWith(":0", StringComparison.Ordinal) ? parts[^1][..^2] : parts[^1];
        int rank = role switch { "kernel" or "embeddings" => 0, "recurrent_kernel" => 1, "bias" => 2, _ => 3 };
        return (backward ? 4 : 0) + rank;
    }

    protected override float[] ReadValues(string what, StoredArray array, long elements)
    {
        var a = (TensorFlowJsArray)array;
        ReadOnlySpan<byte> bytes = _groups[a.Group].AsSpan((int)a.Offset, (int)Bytes(a));
        var values = new float[elements];
        switch (a.Dtype)
        {
            case "float32":
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes[(4 * i)..]);
                break;
            case "float16":
                for (int i = 0; i < values.Length; i++) values[i] = (float)BinaryPrimitives.ReadHalfLittleEndian(bytes[(2 * i)..]);
                break;
            case "uint8":
                for (int i = 0; i < values.Length; i++) values[i] = bytes[i] * a.Scale + a.Min;
                break;
            case "uint16":
                for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadUInt16LittleEndian(bytes[(2 * i)..]) * a.Scale + a.Min;
                break;
            default:
                throw new KerasFormatException($"{what} is stored as {KerasConfig.Printable(a.Dtype)}; LstmSimd reads float32 weights, and uint8, uint16 or float16 quantised ones.");
        }

        foreach (float v in values)
            if (!float.IsFinite(v)) throw new KerasFormatException($"{what} holds {v.ToString(CultureInfo.InvariantCulture)}; weights must be finite.");
        return values;
    }

    public override void Dispose() { }

    /// <summary>A manifest entry: name, shape, dtype and quantisation, at <paramref name="offset"/> in its group.</summary>
    private static TensorFlowJsArray Entry(JsonElement weight, int group, long offset, string where)
    {
        string name = KerasConfig.String(weight, "name", where + " weight");
        string what = $"weight '{KerasConfig.Printable(name)}'";
        JsonElement shape = KerasConfig.Property(weight, "shape", what);
        if (shape.ValueKind != JsonValueKind.Array || shape.GetArrayLength() > 8) throw Bad($"{what}: 'shape' is not a list of at most 8 sizes");
        long[] dims = [.. shape.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Number && d.TryGetInt64(out long v) && v is >= 0 and <= int.MaxValue
            ? v : throw Bad($"{what}: its shape holds {KerasConfig.Printable(d.GetRawText())}, not a size"))];
        string dtype = KerasConfig.String(weight, "dtype", what);
        float scale = 1f, min = 0f;
        if (weight.TryGetProperty("quantization", out JsonElement q) && q.ValueKind != JsonValueKind.Null)
        {
            if (dtype != "float32") throw Bad($"{what}: quantised weights stand for float32 values; its dtype is '{KerasConfig.Printable(dtype)}'");
            dtype = KerasConfig.String(q, "dtype", what + " quantization");
            if (dtype is "uint8" or "uint16")
            {
                scale = Number(q, "scale", what);
                min = Number(q, "min", what);
            }
            else if (dtype != "float16")
            {
                throw Bad($"{what}: quantization dtype '{KerasConfig.Printable(dtype)}' is not one LstmSimd reads (uint8, uint16, float16)");
            }
        }

        var array = new TensorFlowJsArray(name, dims, group, offset, dtype, scale, min);
        _ = Bytes(array);
        return array;
    }

    private static float Number(JsonElement q, string key, string what)
    {
        JsonElement v = KerasConfig.Property(q, key, what + " quantization");
        return v.ValueKind == JsonValueKind.Number && float.IsFinite(v.GetSingle()) ? v.GetSingle() : throw Bad($"{what}: quantization {key} is not a finite number");
    }

    /// <summary>The bytes an array takes in its shards; a dtype LstmSimd does not read is sized as TF.js stores it, and refused when read.</summary>
    private static long Bytes(TensorFlowJsArray a)
    {
        long width = a.Dtype switch
        {
            "uint8" or "bool" => 1,
            "uint16" or "float16" => 2,
            "float32" or "int32" => 4,
            "complex64" => 8,
            _ => throw Bad($"weight '{KerasConfig.Printable(a.Name)}' has dtype '{KerasConfig.Printable(a.Dtype)}', which TensorFlow.js layers models do not store"),
        };
        long elements = 1;
        foreach (long d in a.Shape) elements = d == 0 ? 0 : elements <= Array.MaxLength / d ? elements * d : long.MaxValue;
        if (elements > Array.MaxLength / width) throw Bad($"weight '{KerasConfig.Printable(a.Name)}' of shape [{string.Join(", ", a.Shape)}] is larger than one array");
        return elements * width;
    }

    /// <summary>A group's shards, one after another, once their lengths add up to exactly what its weights need.</summary>
    private static byte[] ReadShards(string folder, List<string> paths, long expected, int group)
    {
        var files = new List<FileStream>();
        try
        {
            long total = 0;
            foreach (string path in paths)
            {
                files.Add(ModelFolder.OpenRead(folder, path, problem => new KerasFormatException($"model.json: weight shard '{KerasConfig.Printable(path)}' {problem}.")));
                total += files[^1].Length;
            }

            if (total != expected)
                throw Bad($"weightsManifest group {group + 1}'s weights need {expected} bytes; its shard files ({string.Join(", ", paths.Select(KerasConfig.Printable))}) hold {total}");
            var bytes = new byte[expected];
            int at = 0;
            for (int k = 0; k < files.Count; k++)
            {
                int length = (int)files[k].Length;
                if (files[k].ReadAtLeast(bytes.AsSpan(at, length), length, throwOnEndOfStream: false) != length)
                    throw Bad($"weight shard '{KerasConfig.Printable(paths[k])}' shrank while it was read");
                at += length;
            }

            return bytes;
        }
        finally
        {
            foreach (FileStream file in files) file.Dispose();
        }
    }

    private static KerasFormatException Bad(string problem) => new($"model.json: {problem}.");
}
