namespace LstmSimd.IO;

/// <summary>
/// Reads named parameters out of a safetensors file for an importer: checks presence, dtype (floating
/// point) and exact shape before reading, and remembers which tensors were used so the rest can be
/// reported as ignored.
/// </summary>
internal sealed class TensorLookup(SafetensorsFile file)
{
    private readonly HashSet<string> _used = new(StringComparer.Ordinal);

    public SafetensorsFile File => file;

    public bool Has(string name) => file.Contains(name);

    public SafetensorsTensorInfo Info(string name) =>
        file.TryGetTensor(name, out SafetensorsTensorInfo? info) ? info : throw new WeightMappingException($"The file holds no tensor '{SafetensorsFile.Printable(name)}'.");

    /// <summary>The tensor's dimension <paramref name="axis"/> of a tensor of rank <paramref name="rank"/>, as an int.</summary>
    public int Dim(string name, int rank, int axis)
    {
        SafetensorsTensorInfo info = Info(name);
        if (info.Shape.Count != rank)
            throw new WeightMappingException($"'{SafetensorsFile.Printable(name)}' has shape {info.ShapeText}; expected {rank} dimensions.");
        long d = info.Shape[axis];
        if (d <= 0 || d > int.MaxValue)
            throw new WeightMappingException($"'{SafetensorsFile.Printable(name)}' has shape {info.ShapeText}; dimension {axis} must be in [1, 2^31 - 1].");
        return (int)d;
    }

    public float[] Read(string name, params long[] shape)
    {
        SafetensorsTensorInfo info = Info(name);
        if (!info.HasShape(shape))
            throw new WeightMappingException($"'{SafetensorsFile.Printable(name)}' has shape {info.ShapeText}; expected [{string.Join(", ", shape)}].");
        if (!info.Dtype.IsFloatingPoint())
            throw new WeightMappingException($"'{SafetensorsFile.Printable(name)}' has dtype {info.Dtype}; parameters must be F32, F16, BF16 or F64.");
        _used.Add(name);
        return file.ReadSingles(info);
    }

    public IReadOnlyList<string> Used => [.. file.Tensors.Select(t => t.Name).Where(_used.Contains)];

    public IReadOnlyList<string> Ignored => [.. file.Tensors.Select(t => t.Name).Where(n => !_used.Contains(n))];

    /// <summary>Builds the weights, turning the model's own argument checks into a mapping error.</summary>
    public static LstmWeights Build(LstmSpec spec, IReadOnlyList<LstmLayerWeights> layers)
    {
        try
        {
            return new LstmWeights(spec, layers);
        }
        catch (ArgumentException e)
        {
            throw new WeightMappingException($"The parameters do not form a valid LSTM: {e.Message}", e);
        }
    }

    public static LstmSpec Spec(Func<LstmSpec> create)
    {
        try
        {
            return create();
        }
        catch (ArgumentException e)
        {
            throw new WeightMappingException($"The parameters do not describe a valid LSTM: {e.Message}", e);
        }
    }

    public static string NormalizePrefix(string? prefix) =>
        string.IsNullOrEmpty(prefix) || prefix.EndsWith('.') ? prefix ?? "" : prefix + ".";
}
