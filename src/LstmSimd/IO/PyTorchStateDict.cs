using System.Globalization;
using System.Text.RegularExpressions;

namespace LstmSimd.IO;

/// <summary>
/// PyTorch <c>nn.LSTM</c> and <c>nn.LSTMCell</c> state_dicts in safetensors files, by PyTorch's own
/// parameter names (<c>weight_ih_l0</c>, <c>weight_hh_l0</c>, <c>bias_ih_l0</c>, <c>bias_hh_l0</c>,
/// <c>weight_hr_l0</c>, <c>…_reverse</c>; <c>weight_ih</c>… for a cell) under an optional prefix such
/// as <c>lstm.</c>, plus an optional <c>nn.Linear</c> head (<c>weight</c>, <c>bias</c>) under its own prefix.
/// </summary>
/// <remarks>
/// The layout is PyTorch's own (rows grouped by gate i, f, g, o), so weights are copied as they are.
/// Any other tensor in the file is left alone and listed in <see cref="ImportedLstm.IgnoredTensors"/>.
/// </remarks>
public static partial class PyTorchStateDict
{
    /// <summary>
    /// Opens a state_dict saved either way PyTorch users save one: <c>torch.save(model.state_dict(), "m.pt")</c> (the zip
    /// format of PyTorch 1.6 and later) or safetensors, told apart by the file's first bytes (<see cref="SafetensorsFile.ReadFromTorchSave"/>
    /// says which it was).
    /// </summary>
    /// <exception cref="ModelFormatException">The file is neither, or is malformed.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        // One open for both formats: the first bytes decide, then the same handle is read (a file swapped between two
        // opens cannot be judged as one format and read as the other).
        FileStream file = RegularFile.OpenRead(path, problem => new ModelFormatException($"{UserText.Quote(path)} {problem}; a model is read from a regular file."));
        bool handedOver = false;
        try
        {
            if (TorchSave.PyTorchFile.StartsLikeTorchSave(file)) return TorchSave.PyTorchFile.Read(file, UserText.Quote(path));
            handedOver = true;
            return SafetensorsFile.Open(file, path);
        }
        finally
        {
            if (!handedOver) file.Dispose();
        }
    }

    /// <summary>Opens a state_dict file (a <c>.pt</c>/<c>.pth</c> from <c>torch.save</c>, or safetensors) and imports it: <see cref="Open"/>, then <see cref="Import(SafetensorsFile, string?, string?)"/>.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable, or its parameters do not describe an LSTM (<see cref="WeightMappingException"/>).</exception>
    public static ImportedLstm Import(string path, string? prefix = null, string? headPrefix = null)
    {
        using SafetensorsFile file = Open(path);
        return Import(file, prefix, headPrefix);
    }

    /// <summary>
    /// Imports the LSTM (or LSTMCell) whose parameters sit under <paramref name="prefix"/>. With a null
    /// prefix the file is searched: exactly one <c>*weight_ih_l0</c> or <c>*weight_ih</c> must exist.
    /// <paramref name="headPrefix"/> names an <c>nn.Linear</c> head (<c>fc</c> reads <c>fc.weight</c>, <c>fc.bias</c>).
    /// </summary>
    /// <exception cref="WeightMappingException">Parameters are missing, inconsistent, mis-shaped or not floating point.</exception>
    public static ImportedLstm Import(SafetensorsFile file, string? prefix = null, string? headPrefix = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        var lookup = new TensorLookup(file);
        string p;
        bool cell;
        if (prefix is null)
        {
            IReadOnlyList<(string Prefix, bool IsCell)> found = FindModules(file);
            if (found.Count == 0)
                throw new WeightMappingException("No nn.LSTM or nn.LSTMCell parameters found: no tensor name ends in 'weight_ih_l0' or 'weight_ih'.");
            if (found.Count > 1)
                throw new WeightMappingException($"Several LSTM modules found ({string.Join(", ", found.Select(f => $"'{SafetensorsFile.Printable(f.Prefix)}'"))}); choose one with a prefix.");
            (p, cell) = found[0];
        }
        else
        {
            p = TensorLookup.NormalizePrefix(prefix);
            cell = !file.Contains(p + "weight_ih_l0") && file.Contains(p + "weight_ih");
        }

        ImportedLstm core = cell ? ImportCell(lookup, p) : ImportLstm(lookup, p);
        LinearHead? head = headPrefix is null ? null : ImportHead(lookup, TensorLookup.NormalizePrefix(headPrefix), core.Weights.Spec.OutputSize);
        return new ImportedLstm
        {
            Weights = core.Weights,
            StoredWeightFormat = lookup.StoredWeightFormat,
            Head = head,
            IsCell = cell,
            Description = core.Description + (head is null ? "" : $" with nn.Linear head '{headPrefix}' ({head.InputSize} → {head.OutputSize})"),
            UsedTensors = lookup.Used,
            IgnoredTensors = lookup.Ignored,
        };
    }

    /// <summary>The prefixes under which the file holds an <c>nn.LSTM</c> (<c>*weight_ih_l0</c>) or <c>nn.LSTMCell</c> (<c>*weight_ih</c>).</summary>
    public static IReadOnlyList<(string Prefix, bool IsCell)> FindModules(SafetensorsFile file)
    {
        ArgumentNullException.ThrowIfNull(file);
        var found = new List<(string, bool)>();
        foreach (SafetensorsTensorInfo t in file.Tensors)
        {
            foreach ((string suffix, bool isCell) in new[] { ("weight_ih_l0", false), ("weight_ih", true) })
            {
                if (!t.Name.EndsWith(suffix, StringComparison.Ordinal)) continue;
                string p = t.Name[..^suffix.Length];
                if (p.Length == 0 || p.EndsWith('.')) found.Add((p, isCell));
            }
        }

        return found;
    }

    /// <summary>
    /// The model's parameters under PyTorch's names, ready for <c>load_state_dict</c> after
    /// <c>safetensors.torch.load_file</c>: an <c>nn.LSTM</c>'s, or with <paramref name="asCell"/> an
    /// <c>nn.LSTMCell</c>'s (one layer, one direction, no projection), plus the head under <paramref name="headPrefix"/>.
    /// </summary>
    /// <exception cref="NotSupportedException">The cell uses ONNX variants PyTorch does not have, or a cell export was asked of a model that is not one.</exception>
    public static SafetensorsWriter Export(LstmWeights weights, string prefix = "", LinearHead? head = null, string headPrefix = "head.", bool asCell = false)
    {
        SafetensorsWriter writer = AddTo(new SafetensorsWriter(), weights, prefix, asCell);
        if (head is not null)
        {
            string h = TensorLookup.NormalizePrefix(headPrefix);
            writer.Add(h + "weight", head.Weight, head.OutputSize, head.InputSize);
            if (head.Bias.Length != 0) writer.Add(h + "bias", head.Bias, head.OutputSize);
        }

        return writer;
    }

    /// <summary>
    /// Adds the parameters as <see cref="Export"/> names them, under <paramref name="prefix"/>, to <paramref name="writer"/>:
    /// gradients beside a run's outputs, say, or a second model in one file.
    /// </summary>
    /// <exception cref="NotSupportedException">The cell uses ONNX variants PyTorch does not have, or a cell export was asked of a model that is not one.</exception>
    public static SafetensorsWriter AddTo(SafetensorsWriter writer, LstmWeights weights, string prefix = "", bool asCell = false)
    {
        ArgumentNullException.ThrowIfNull(writer);
        ArgumentNullException.ThrowIfNull(weights);
        LstmSpec spec = weights.Spec;
        if (!spec.Cell.IsStandard)
            throw new NotSupportedException("PyTorch's LSTM has no peepholes, clip, input_forget or other activations; this model uses them.");
        if (asCell && (spec.NumLayers != 1 || spec.Bidirectional || spec.ProjectionSize != 0))
            throw new NotSupportedException("nn.LSTMCell has one layer, one direction and no projection.");
        AddParameters(writer, weights, TensorLookup.NormalizePrefix(prefix), asCell, WeightFormat.Float32);
        return writer;
    }

    /// <summary>The parameter name of layer <paramref name="layer"/>, direction <paramref name="direction"/>, e.g. <c>weight_ih_l1_reverse</c>.</summary>
    public static string ParameterName(string kind, int layer, int direction) =>
        string.Create(CultureInfo.InvariantCulture, $"{kind}_l{layer}{(direction == 1 ? "_reverse" : "")}");

    internal static void AddParameters(SafetensorsWriter writer, LstmWeights weights, string p, bool asCell, WeightFormat matrices)
    {
        void AddMatrix(string name, float[] values, int rows, int columns)
        {
            switch (matrices)
            {
                case WeightFormat.Float16:
                    writer.Add(name, [.. values.Select(v => BitConverter.UInt16BitsToHalf(WeightConversion.ToFloat16(v)))], rows, columns);
                    break;
                case WeightFormat.BFloat16:
                    var bytes = new byte[Sizes.Elements("BF16 bytes 2 × values", 2, values.Length)];
                    for (int i = 0; i < values.Length; i++) System.Buffers.Binary.BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), WeightConversion.ToBFloat16(values[i]));
                    writer.AddRaw(name, SafetensorsDtype.BF16, bytes, rows, columns);
                    break;
                default:
                    writer.Add(name, values, rows, columns);
                    break;
            }
        }

        LstmSpec spec = weights.Spec;
        int gates = spec.GateRows;
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                LstmLayerWeights w = weights[l, d];
                string Name(string kind) => p + (asCell ? kind : ParameterName(kind, l, d));
                AddMatrix(Name("weight_ih"), w.WeightIh, gates, spec.LayerInputSize(l));
                AddMatrix(Name("weight_hh"), w.WeightHh, gates, spec.OutputHiddenSize);
                if (spec.Bias)
                {
                    writer.Add(Name("bias_ih"), w.BiasIh, gates);
                    writer.Add(Name("bias_hh"), w.BiasHh, gates);
                }

                if (spec.ProjectionSize > 0) AddMatrix(Name("weight_hr"), w.WeightHr, spec.ProjectionSize, spec.HiddenSize);
            }
        }
    }

    [GeneratedRegex(@"^(weight_ih|weight_hh|bias_ih|bias_hh|weight_hr)_l([0-9]{1,6})(_reverse)?$", RegexOptions.CultureInvariant)]
    private static partial Regex LstmParameter();

    private static ImportedLstm ImportLstm(TensorLookup lookup, string p)
    {
        StackShape shape = Discover(lookup, p, gateCount: 4, "LSTM");
        int gates = 4 * shape.Hidden;
        LstmSpec spec = TensorLookup.Spec(() => new LstmSpec(shape.Input, shape.Hidden, shape.Layers, shape.Bidirectional, shape.Projection, shape.Bias));
        RequireExactly(lookup, p, shape, Kinds(spec), Describe(spec));
        lookup.RequireDataFor(spec);

        var weights = new List<LstmLayerWeights>();
        for (int l = 0; l < shape.Layers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                string Name(string kind) => p + ParameterName(kind, l, d);
                weights.Add(new LstmLayerWeights
                {
                    WeightIh = lookup.Read(Name("weight_ih"), gates, spec.LayerInputSize(l)),
                    WeightHh = lookup.Read(Name("weight_hh"), gates, spec.OutputHiddenSize),
                    BiasIh = shape.Bias ? lookup.Read(Name("bias_ih"), gates) : [],
                    BiasHh = shape.Bias ? lookup.Read(Name("bias_hh"), gates) : [],
                    WeightHr = shape.Projection > 0 ? lookup.Read(Name("weight_hr"), shape.Projection, shape.Hidden) : [],
                });
            }
        }

        return new ImportedLstm { Weights = TensorLookup.Build(spec, weights), Description = $"PyTorch nn.LSTM at prefix '{p}': {Describe(spec)}" };
    }

    /// <summary>Opens a state_dict file (a <c>.pt</c>/<c>.pth</c> from <c>torch.save</c>, or safetensors) and imports its <c>nn.GRU</c>: <see cref="Open"/>, then <see cref="ImportGru(SafetensorsFile, string?)"/>.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable, or its parameters do not describe a GRU (<see cref="WeightMappingException"/>).</exception>
    public static GruWeights ImportGru(string path, string? prefix = null)
    {
        using SafetensorsFile file = Open(path);
        return ImportGru(file, prefix);
    }

    /// <summary>
    /// Imports the <c>nn.GRU</c> whose parameters sit under <paramref name="prefix"/> (PyTorch's names and layout: gate rows r, z, n;
    /// PyTorch's cell, <see cref="GruSpec.LinearBeforeReset"/> true). With a null prefix the file is searched: exactly one
    /// <c>*weight_ih_l0</c> must exist.
    /// </summary>
    /// <exception cref="WeightMappingException">Parameters are missing, inconsistent, mis-shaped or not floating point.</exception>
    public static GruWeights ImportGru(SafetensorsFile file, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        var lookup = new TensorLookup(file);
        string p = prefix is not null ? TensorLookup.NormalizePrefix(prefix) : FindModules(file).Where(m => !m.IsCell).ToList() switch
        {
            [] => throw new WeightMappingException("No nn.GRU parameters found: no tensor name ends in 'weight_ih_l0'."),
            [var only] => only.Prefix,
            var several => throw new WeightMappingException($"Several recurrent modules found ({string.Join(", ", several.Select(f => $"'{SafetensorsFile.Printable(f.Prefix)}'"))}); choose one with a prefix."),
        };
        StackShape shape = Discover(lookup, p, gateCount: 3, "GRU");
        if (shape.Projection > 0) throw new WeightMappingException($"'{SafetensorsFile.Printable(p + "weight_hr_l0")}' is a projection, which an nn.GRU does not have.");
        GruSpec spec;
        try
        {
            spec = new GruSpec(shape.Input, shape.Hidden, shape.Layers, shape.Bidirectional, shape.Bias);
        }
        catch (ArgumentException e)
        {
            throw new WeightMappingException($"The parameters do not describe a valid GRU: {e.Message}", e);
        }

        string description = Describe(spec);
        string[] kinds = spec.Bias ? ["weight_ih", "weight_hh", "bias_ih", "bias_hh"] : ["weight_ih", "weight_hh"];
        RequireExactly(lookup, p, shape, kinds, description);
        lookup.RequireDataFor(spec.ParameterCount, description);

        int gates = 3 * shape.Hidden;
        var layers = new List<GruLayerWeights>();
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                string Name(string kind) => p + ParameterName(kind, l, d);
                layers.Add(new GruLayerWeights
                {
                    WeightIh = lookup.Read(Name("weight_ih"), gates, spec.LayerInputSize(l)),
                    WeightHh = lookup.Read(Name("weight_hh"), gates, spec.HiddenSize),
                    BiasIh = spec.Bias ? lookup.Read(Name("bias_ih"), gates) : [],
                    BiasHh = spec.Bias ? lookup.Read(Name("bias_hh"), gates) : [],
                });
            }
        }

        try
        {
            return new GruWeights(spec, layers);
        }
        catch (ArgumentException e)
        {
            throw new WeightMappingException($"The parameters do not form a valid GRU: {e.Message}", e);
        }
    }

    /// <summary>
    /// Whether the stacked module under <paramref name="prefix"/> (null: the file's only one) is an <c>nn.GRU</c> rather than an
    /// <c>nn.LSTM</c>: its <c>weight_hh_l0</c> has 3·hidden_size rows and no projection sits beside it. Tells a tool which
    /// importer to call; the importers check everything else.
    /// </summary>
    public static bool IsGru(SafetensorsFile file, string? prefix = null)
    {
        ArgumentNullException.ThrowIfNull(file);
        string? p = prefix is not null ? TensorLookup.NormalizePrefix(prefix)
            : FindModules(file).Where(m => !m.IsCell).Select(m => m.Prefix).ToList() is [string only] ? only : null;
        return p is not null && !file.Contains(p + "weight_hr_l0") && file.TryGetTensor(p + "weight_hh_l0", out SafetensorsTensorInfo? recurrent)
            && recurrent.Shape is [long rows, long columns] && columns > 0 && rows == 3 * columns;
    }

    /// <summary>The shape a stacked <c>nn.LSTM</c> or <c>nn.GRU</c>'s parameters under a prefix imply (layer 0 decides; every layer is checked later).</summary>
    private readonly record struct StackShape(int Input, int Hidden, int Layers, bool Bidirectional, bool Bias, int Projection);

    private static StackShape Discover(TensorLookup lookup, string p, int gateCount, string module)
    {
        string first = p + "weight_ih_l0", recurrent = p + "weight_hh_l0";
        lookup.Info(first);
        int gates = lookup.Dim(recurrent, 2, 0), columns = lookup.Dim(recurrent, 2, 1), input = lookup.Dim(first, 2, 1);
        int proj = lookup.Has(p + "weight_hr_l0") ? lookup.Dim(p + "weight_hr_l0", 2, 0) : 0;
        int otherCount = gateCount == 4 ? 3 : 4;
        bool looksLikeOther = proj == 0 && gates == (long)otherCount * columns && gates != (long)gateCount * columns;
        if (gates % gateCount != 0 || looksLikeOther)
        {
            string other = !looksLikeOther ? "" : gateCount == 4 ? " It looks like an nn.GRU: import it with ImportGru." : " It looks like an nn.LSTM: import it with Import.";
            throw new WeightMappingException($"'{SafetensorsFile.Printable(recurrent)}' is [{gates}, {columns}]; an {module} has {gateCount}·hidden_size rows.{other}");
        }

        int layers = 0;
        foreach (SafetensorsTensorInfo t in lookup.File.Tensors)
        {
            if (!t.Name.StartsWith(p, StringComparison.Ordinal)) continue;
            Match m = LstmParameter().Match(t.Name[p.Length..]);
            if (m.Success) layers = Math.Max(layers, int.Parse(m.Groups[2].ValueSpan, CultureInfo.InvariantCulture) + 1);
        }

        return new StackShape(input, gates / gateCount, layers, lookup.Has(p + "weight_ih_l0_reverse"), lookup.Has(p + "bias_ih_l0") || lookup.Has(p + "bias_hh_l0"), proj);
    }

    /// <summary>Every parameter the shape needs is present, and every recurrent-parameter name under the prefix belongs to it.</summary>
    private static void RequireExactly(TensorLookup lookup, string p, StackShape shape, IEnumerable<string> kinds, string description)
    {
        var expected = new HashSet<string>(StringComparer.Ordinal);
        for (int l = 0; l < shape.Layers; l++)
        {
            for (int d = 0; d < (shape.Bidirectional ? 2 : 1); d++)
            {
                foreach (string kind in kinds)
                {
                    string name = p + ParameterName(kind, l, d);
                    expected.Add(name);
                    if (!lookup.Has(name)) throw new WeightMappingException($"Missing '{SafetensorsFile.Printable(name)}' for a {description}.");
                }
            }
        }

        foreach (SafetensorsTensorInfo t in lookup.File.Tensors)
        {
            if (t.Name.StartsWith(p, StringComparison.Ordinal) && LstmParameter().IsMatch(t.Name[p.Length..]) && !expected.Contains(t.Name))
                throw new WeightMappingException($"'{SafetensorsFile.Printable(t.Name)}' does not fit the {description} that '{p}weight_ih_l0' and its neighbours describe.");
        }
    }

    private static ImportedLstm ImportCell(TensorLookup lookup, string p)
    {
        int gates = lookup.Dim(p + "weight_ih", 2, 0), input = lookup.Dim(p + "weight_ih", 2, 1);
        if (gates % 4 != 0)
            throw new WeightMappingException($"'{SafetensorsFile.Printable(p + "weight_ih")}' has {gates} rows; an LSTMCell has 4·hidden_size.");
        int hidden = gates / 4;
        bool bias = lookup.Has(p + "bias_ih") || lookup.Has(p + "bias_hh");
        LstmSpec spec = TensorLookup.Spec(() => new LstmSpec(input, hidden, bias: bias));
        lookup.RequireDataFor(spec);
        var w = new LstmLayerWeights
        {
            WeightIh = lookup.Read(p + "weight_ih", gates, input),
            WeightHh = lookup.Read(p + "weight_hh", gates, hidden),
            BiasIh = bias ? lookup.Read(p + "bias_ih", gates) : [],
            BiasHh = bias ? lookup.Read(p + "bias_hh", gates) : [],
        };
        return new ImportedLstm
        {
            Weights = TensorLookup.Build(spec, [w]),
            IsCell = true,
            Description = $"PyTorch nn.LSTMCell at prefix '{p}': input {input}, hidden {hidden}{(bias ? "" : ", no bias")}",
        };
    }

    internal static LinearHead ImportHead(TensorLookup lookup, string h, int inputSize)
    {
        int outputs = lookup.Dim(h + "weight", 2, 0);
        float[] weight = lookup.Read(h + "weight", outputs, inputSize);
        float[]? bias = lookup.Has(h + "bias") ? lookup.Read(h + "bias", outputs) : null;
        return new LinearHead(inputSize, outputs, weight, bias);
    }

    private static IEnumerable<string> Kinds(LstmSpec spec)
    {
        yield return "weight_ih";
        yield return "weight_hh";
        if (spec.Bias)
        {
            yield return "bias_ih";
            yield return "bias_hh";
        }

        if (spec.ProjectionSize > 0) yield return "weight_hr";
    }

    internal static string Describe(GruSpec spec) => string.Create(CultureInfo.InvariantCulture,
        $"{spec.NumLayers}-layer {(spec.Bidirectional ? "bidirectional " : "")}GRU, input {spec.InputSize}, hidden {spec.HiddenSize}{(spec.Bias ? "" : ", no bias")}");

    internal static string Describe(LstmSpec spec) => string.Create(CultureInfo.InvariantCulture,
        $"{spec.NumLayers}-layer {(spec.Bidirectional ? "bidirectional " : "")}LSTM, input {spec.InputSize}, hidden {spec.HiddenSize}{(spec.ProjectionSize > 0 ? $", projection {spec.ProjectionSize}" : "")}{(spec.Bias ? "" : ", no bias")}");
}
