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

    /// <summary>
    /// The format every weight matrix read so far (names holding <c>weight_ih</c>, <c>weight_hh</c> or <c>weight_hr</c>) is
    /// stored in: F16 → <see cref="WeightFormat.Float16"/>, BF16 → <see cref="WeightFormat.BFloat16"/>, anything else or a
    /// mix → <see cref="WeightFormat.Float32"/>.
    /// </summary>
    public WeightFormat StoredWeightFormat
    {
        get
        {
            SafetensorsDtype[] dtypes = [.. file.Tensors.Where(t => _used.Contains(t.Name) && IsMatrix(t.Name)).Select(t => t.Dtype).Distinct()];
            return dtypes is [SafetensorsDtype.F16] ? WeightFormat.Float16 : dtypes is [SafetensorsDtype.BF16] ? WeightFormat.BFloat16 : WeightFormat.Float32;

            static bool IsMatrix(string name) =>
                name.Contains("weight_ih", StringComparison.Ordinal) || name.Contains("weight_hh", StringComparison.Ordinal) || name.Contains("weight_hr", StringComparison.Ordinal);
        }
    }

    public IReadOnlyList<string> Used => [.. file.Tensors.Select(t => t.Name).Where(_used.Contains)];

    public IReadOnlyList<string> Ignored => [.. file.Tensors.Select(t => t.Name).Where(n => !_used.Contains(n))];

    /// <summary>
    /// Refuses a spec whose parameters the file's tensors cannot hold, before anything is read or allocated: every parameter
    /// is stored in at least 2 bytes (F16, BF16), so a spec asking for more than half the file's tensor bytes describes
    /// tensors that are not there (a hostile file can declare zero-sized ones of any shape).
    /// </summary>
    public void RequireDataFor(LstmSpec spec)
    {
        long parameters;
        try
        {
            parameters = spec.ParameterCount;
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new WeightMappingException($"The {PyTorchStateDict.Describe(spec)} has too many parameters: {e.Message}", e);
        }

        RequireDataFor(parameters, PyTorchStateDict.Describe(spec));
    }

    /// <summary>As <see cref="RequireDataFor(LstmSpec)"/>, for a <paramref name="model"/> (as messages describe it) of <paramref name="parameters"/> parameters.</summary>
    public void RequireDataFor(long parameters, string model)
    {
        const int MinBytesPerParameter = 2;
        long bytes = 0;
        foreach (SafetensorsTensorInfo t in file.Tensors) bytes += t.ByteLength; // the tensors tile the data buffer, so this cannot overflow
        if (parameters > bytes / MinBytesPerParameter)
        {
            throw new WeightMappingException(SafetensorsFile.Invariant(
                $"The {model} has {parameters} parameters, but the file's tensors hold only {bytes} bytes (at least {MinBytesPerParameter} per parameter)."));
        }
    }

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
