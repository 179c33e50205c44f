using System.Globalization;
using System.Text.Json;

namespace LstmSimd.IO;

/// <summary>
/// LstmSimd's own model files: safetensors holding the parameters under PyTorch's names
/// (<c>weight_ih_l0</c>, …; peepholes as <c>peephole_l0</c> [3H] in gate order i, f, o; a head as
/// <c>head.weight</c>, <c>head.bias</c>), F32, with <c>__metadata__</c> entries
/// <c>format = "lstmsimd"</c>, <c>format_version = "1"</c> and <c>spec</c>, a JSON object with the
/// <see cref="LstmSpec"/> and its <see cref="CellVariant"/>. Saving and loading round-trips every bit.
/// </summary>
public static partial class LstmModelFile
{
    /// <summary>The value of <c>__metadata__.format</c>.</summary>
    public const string FormatName = "lstmsimd";

    /// <summary>The version written and the only one read.</summary>
    public const string FormatVersion = "1";

    private const string HeadPrefix = "head.";

    /// <summary>Writes a model file; <paramref name="matrices"/> F16 or BF16 stores the weight matrices rounded to that format (half the bytes); Int8 is refused (a build-time choice).</summary>
    public static void Save(string path, LstmWeights weights, LinearHead? head = null, WeightFormat matrices = WeightFormat.Float32) =>
        CreateWriter(weights, head, matrices).Save(path);

    /// <summary>A writer holding the model file's contents (for streams and tests).</summary>
    public static SafetensorsWriter CreateWriter(LstmWeights weights, LinearHead? head = null, WeightFormat matrices = WeightFormat.Float32)
    {
        if (!Enum.IsDefined(matrices)) throw new ArgumentOutOfRangeException(nameof(matrices), matrices, "Unknown weight format.");
        if (matrices == WeightFormat.Int8)
            throw new ArgumentException("Model files store weight matrices as F32, F16 or BF16; Int8 is chosen when a model is built (LstmModelOptions.Weights).", nameof(matrices));
        ArgumentNullException.ThrowIfNull(weights);
        LstmSpec spec = weights.Spec;
        if (head is not null && head.InputSize != spec.OutputSize)
            throw new ArgumentException($"The head takes {head.InputSize} features; the LSTM gives {spec.OutputSize}.", nameof(head));
        var writer = new SafetensorsWriter()
            .AddMetadata("format", FormatName)
            .AddMetadata("format_version", FormatVersion)
            .AddMetadata("spec", SpecToJson(spec));
        PyTorchStateDict.AddParameters(writer, weights, "", asCell: false, matrices);
        if (spec.Cell.Peepholes)
        {
            for (int l = 0; l < spec.NumLayers; l++)
                for (int d = 0; d < spec.Directions; d++)
                    writer.Add(PyTorchStateDict.ParameterName("peephole", l, d), weights[l, d].Peephole, weights[l, d].Peephole.Length);
        }

        if (head is not null)
        {
            writer.Add(HeadPrefix + "weight", head.Weight, head.OutputSize, head.InputSize);
            if (head.Bias.Length != 0) writer.Add(HeadPrefix + "bias", head.Bias, head.OutputSize);
        }

        return writer;
    }

    /// <summary>Whether an opened safetensors file says it is an LstmSimd model file.</summary>
    public static bool IsModelFile(SafetensorsFile file) =>
        file is not null && file.Metadata.TryGetValue("format", out string? format) && format == FormatName;

    /// <summary>Loads a model file.</summary>
    /// <exception cref="ModelFormatException">The file is malformed, is not an LstmSimd model file, or its tensors disagree with its spec.</exception>
    public static ImportedLstm Load(string path)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        return Load(file);
    }

    /// <summary>Loads the model held by an opened safetensors file.</summary>
    /// <exception cref="ModelFormatException">The file is not an LstmSimd model file, or its tensors disagree with its spec.</exception>
    public static ImportedLstm Load(SafetensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        if (!IsModelFile(file))
            throw new WeightMappingException("Not an LstmSimd model file: __metadata__.format is not 'lstmsimd'.");
        if (!file.Metadata.TryGetValue("format_version", out string? version) || version != FormatVersion)
            throw new WeightMappingException($"Unsupported LstmSimd model file version '{SafetensorsFile.Printable(version ?? "(none)")}'; this build reads version {FormatVersion}.");
        if (!file.Metadata.TryGetValue("spec", out string? specJson))
            throw new WeightMappingException("The LstmSimd model file has no __metadata__.spec.");
        LstmSpec spec = SpecFromJson(specJson);
        var lookup = new TensorLookup(file);
        lookup.RequireDataFor(spec);
        int gates = spec.GateRows;
        var layers = new List<LstmLayerWeights>();
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                string Name(string kind) => PyTorchStateDict.ParameterName(kind, l, d);
                layers.Add(new LstmLayerWeights
                {
                    WeightIh = lookup.Read(Name("weight_ih"), gates, spec.LayerInputSize(l)),
                    WeightHh = lookup.Read(Name("weight_hh"), gates, spec.OutputHiddenSize),
                    BiasIh = spec.Bias ? lookup.Read(Name("bias_ih"), gates) : [],
                    BiasHh = spec.Bias ? lookup.Read(Name("bias_hh"), gates) : [],
                    WeightHr = spec.ProjectionSize > 0 ? lookup.Read(Name("weight_hr"), spec.ProjectionSize, spec.HiddenSize) : [],
                    Peephole = spec.Cell.Peepholes ? lookup.Read(Name("peephole"), 3 * spec.HiddenSize) : [],
                });
            }
        }

        LinearHead? head = lookup.Has(HeadPrefix + "weight") ? PyTorchStateDict.ImportHead(lookup, HeadPrefix, spec.OutputSize) : null;
        return new ImportedLstm
        {
            Weights = TensorLookup.Build(spec, layers),
            StoredWeightFormat = lookup.StoredWeightFormat,
            Head = head,
            Description = $"LstmSimd model file: {PyTorchStateDict.Describe(spec)}{(spec.Cell.IsStandard ? "" : ", ONNX cell variant " + DescribeCell(spec.Cell))}{(head is null ? "" : $", linear head {head.InputSize} → {head.OutputSize}")}",
            UsedTensors = lookup.Used,
            IgnoredTensors = lookup.Ignored,
        };
    }

    /// <summary>The spec as the JSON stored in <c>__metadata__.spec</c>.</summary>
    public static string SpecToJson(LstmSpec spec)
    {
        ArgumentNullException.ThrowIfNull(spec);
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteNumber("input_size", spec.InputSize);
            json.WriteNumber("hidden_size", spec.HiddenSize);
            json.WriteNumber("num_layers", spec.NumLayers);
            json.WriteBoolean("bidirectional", spec.Bidirectional);
            json.WriteNumber("proj_size", spec.ProjectionSize);
            json.WriteBoolean("bias", spec.Bias);
            json.WriteStartObject("cell");
            json.WriteBoolean("peepholes", spec.Cell.Peepholes);
            // Floats are stored by their bit patterns as well as their values: the round trip is exact by construction.
            WriteFloat(json, "clip", spec.Cell.Clip);
            json.WriteBoolean("input_forget", spec.Cell.InputForget);
            WriteActivation(json, "gate", spec.Cell.Gate);
            WriteActivation(json, "candidate", spec.Cell.Candidate);
            WriteActivation(json, "output", spec.Cell.Output);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }

    /// <summary>Parses <c>__metadata__.spec</c>: strict JSON, duplicate or unknown keys refused.</summary>
    /// <exception cref="WeightMappingException">The JSON is malformed or describes an invalid spec.</exception>
    public static LstmSpec SpecFromJson(string json)
    {
        ArgumentNullException.ThrowIfNull(json);
        try
        {
            using var doc = JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 4, AllowDuplicateProperties = false });
            JsonElement root = doc.RootElement;
            Only(root, "input_size", "hidden_size", "num_layers", "bidirectional", "proj_size", "bias", "cell");
            JsonElement cell = Get(root, "cell");
            Only(cell, "peepholes", "clip", "input_forget", "gate", "candidate", "output");
            var variant = new CellVariant(Get(cell, "peepholes").GetBoolean(), ReadFloat(cell, "clip"), Get(cell, "input_forget").GetBoolean(),
                ReadActivation(cell, "gate"), ReadActivation(cell, "candidate"), ReadActivation(cell, "output"));
            return TensorLookup.Spec(() => new LstmSpec(Get(root, "input_size").GetInt32(), Get(root, "hidden_size").GetInt32(), Get(root, "num_layers").GetInt32(),
                Get(root, "bidirectional").GetBoolean(), Get(root, "proj_size").GetInt32(), Get(root, "bias").GetBoolean()) { Cell = variant }.Validated());
        }
        catch (Exception e) when (e is JsonException or InvalidOperationException or FormatException or KeyNotFoundException)
        {
            throw new WeightMappingException($"__metadata__.spec is not a valid LstmSimd spec: {e.Message}", e);
        }
    }

    internal static string DescribeCell(CellVariant cell)
    {
        var parts = new List<string>();
        if (cell.Peepholes) parts.Add("peepholes");
        if (cell.Clip > 0) parts.Add(string.Create(CultureInfo.InvariantCulture, $"clip {cell.Clip}"));
        if (cell.InputForget) parts.Add("input_forget");
        if (cell.Gate != Activation.Sigmoid || cell.Candidate != Activation.Tanh || cell.Output != Activation.Tanh)
            parts.Add($"activations {Name(cell.Gate)}, {Name(cell.Candidate)}, {Name(cell.Output)}");
        return string.Join(", ", parts);

        static string Name(Activation a) => a.Kind == ActivationKind.HardSigmoid
            ? string.Create(CultureInfo.InvariantCulture, $"HardSigmoid(alpha {a.Alpha}, beta {a.Beta})")
            : a.Kind.ToString();
    }

    private static LstmSpec Validated(this LstmSpec spec)
    {
        spec.Validate();
        return spec;
    }

    private static void WriteFloat(Utf8JsonWriter json, string name, float value) =>
        json.WriteString(name, BitConverter.SingleToInt32Bits(value).ToString("X8", CultureInfo.InvariantCulture) + " " + value.ToString("R", CultureInfo.InvariantCulture));

    private static float ReadFloat(JsonElement parent, string name)
    {
        string text = Get(parent, name).GetString() ?? "";
        int space = text.IndexOf(' ', StringComparison.Ordinal);
        if (space != 8 || !int.TryParse(text.AsSpan(0, 8), NumberStyles.AllowHexSpecifier, CultureInfo.InvariantCulture, out int bits))
            throw new FormatException($"'{name}' must be 8 hex digits of the float's bits, a space, and its value.");
        return BitConverter.Int32BitsToSingle(bits);
    }

    private static void WriteActivation(Utf8JsonWriter json, string name, Activation activation)
    {
        json.WriteStartObject(name);
        json.WriteString("kind", activation.Kind.ToString());
        WriteFloat(json, "alpha", activation.Alpha);
        WriteFloat(json, "beta", activation.Beta);
        json.WriteEndObject();
    }

    private static Activation ReadActivation(JsonElement parent, string name)
    {
        JsonElement e = Get(parent, name);
        Only(e, "kind", "alpha", "beta");
        string kind = Get(e, "kind").GetString() ?? "";
        if (!Enum.TryParse(kind, ignoreCase: false, out ActivationKind k) || !Enum.IsDefined(k) || !char.IsLetter(kind[0]))
            throw new FormatException($"Unknown activation '{SafetensorsFile.Printable(kind)}'.");
        return new Activation(k, ReadFloat(e, "alpha"), ReadFloat(e, "beta"));
    }

    private static JsonElement Get(JsonElement parent, string name) =>
        parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(name, out JsonElement value) ? value : throw new KeyNotFoundException($"'{name}' is missing.");

    private static void Only(JsonElement element, params string[] names)
    {
        if (element.ValueKind != JsonValueKind.Object) throw new FormatException("Expected a JSON object.");
        foreach (JsonProperty p in element.EnumerateObject())
            if (Array.IndexOf(names, p.Name) < 0) throw new FormatException($"Unknown key '{SafetensorsFile.Printable(p.Name)}'.");
    }
}
