using System.Globalization;
using System.Text.Json;

namespace LstmSimd.Keras;

/// <summary>One layer of a model's config: its class, name, settings, the tensor it reads and where Keras 3 keeps its weights.</summary>
/// <param name="ClassName">Keras's class name, e.g. <c>LSTM</c>.</param>
/// <param name="Name">The layer's name, e.g. <c>lstm_1</c>.</param>
/// <param name="Config">The layer's <c>config</c> object.</param>
/// <param name="Source">The layer whose output it reads (the model's input layer for the first).</param>
/// <param name="SourceIndex">Which of that layer's outputs (an LSTM with return_state has three).</param>
/// <param name="WeightPath">Keras 3's path of the layer in <c>model.weights.h5</c>: <c>layers/&lt;snake_case class&gt;[_n]</c>.</param>
internal sealed record KerasLayerConfig(string ClassName, string Name, JsonElement Config, string Source, int SourceIndex, string WeightPath);

/// <summary>
/// A Sequential or plain functional model's config (<c>config.json</c> of a .keras file, the <c>model_config</c> attribute
/// of a legacy .h5): its layers in order, each reading one tensor, and the model's outputs. Models with several inputs,
/// layers called more than once, or layers reading several tensors are refused.
/// </summary>
internal sealed class KerasConfig
{
    /// <summary>A model of more layers than this is refused before any is read (a bound for hostile configs).</summary>
    private const int MaxLayers = 10_000;

    private KerasConfig(string kind, string inputName, List<KerasLayerConfig> layers, List<(string Layer, int Index)>? outputs, long?[]? inputShape)
    {
        Kind = kind;
        InputName = inputName;
        Layers = layers;
        Outputs = outputs;
        InputShape = inputShape;
    }

    /// <summary><c>Sequential</c> or <c>Functional</c>.</summary>
    public string Kind { get; }

    /// <summary>The name of the model's input tensor (its InputLayer).</summary>
    public string InputName { get; }

    /// <summary>The layers other than InputLayer, in the config's (topological) order.</summary>
    public IReadOnlyList<KerasLayerConfig> Layers { get; }

    /// <summary>The model's outputs as (layer, output index); null for a Sequential model: every output of its last layer.</summary>
    public IReadOnlyList<(string Layer, int Index)>? Outputs { get; }

    /// <summary>The input's batch shape when the config gives one (null entries: any size), e.g. [null, 5, 3].</summary>
    public IReadOnlyList<long?>? InputShape { get; }

    public static KerasConfig Parse(string json, string where)
    {
        using (JsonDocument document = ParseJson(json, where))
        {
            JsonElement root = document.RootElement.Clone();
            string kind = String(root, "class_name", where);
            JsonElement config = Object(root, "config", where);
            return kind switch
            {
                "Sequential" => ParseSequential(config, where),
                "Functional" or "Model" => ParseFunctional(config, where),
                _ => throw new KerasFormatException($"{where}: the model is a '{Printable(kind)}'; LstmSimd runs Sequential and functional models."),
            };
        }
    }

    private static KerasConfig ParseSequential(JsonElement config, string where)
    {
        string input = "input";
        long?[]? shape = null;
        var result = new List<KerasLayerConfig>();
        var names = new WeightPathNames();
        foreach (JsonElement layer in LayerList(config, where))
        {
            (string className, JsonElement layerConfig) = Header(layer, where);
            string name = String(layerConfig, "name", $"{where} layer '{Printable(className)}' config");
            if (className == "InputLayer")
            {
                if (result.Count > 0) throw new KerasFormatException($"Sequential model: InputLayer '{Printable(name)}' follows other layers.");
                input = name;
                shape = BatchShape(layerConfig);
                continue;
            }

            shape ??= result.Count == 0 ? BatchShape(layerConfig) ?? BuildShape(layer) : null;
            string source = result.Count == 0 ? input : result[^1].Name;
            result.Add(new KerasLayerConfig(className, name, layerConfig.Clone(), source, 0, names.Next(className)));
        }

        if (result.Count == 0) throw new KerasFormatException("the Sequential model has no layers.");
        return new KerasConfig("Sequential", input, result, null, shape);
    }

    private static KerasConfig ParseFunctional(JsonElement config, string where)
    {
        List<(string Layer, int Index)> inputs = TensorList(Property(config, "input_layers", where + " config"), "input_layers");
        if (inputs.Count != 1) throw new KerasFormatException($"the model has {inputs.Count} inputs; LstmSimd runs models with one.");
        List<(string Layer, int Index)> outputs = TensorList(Property(config, "output_layers", where + " config"), "output_layers");
        if (outputs.Count == 0) throw new KerasFormatException("the model names no outputs.");
        string input = inputs[0].Layer;
        long?[]? shape = null;
        var result = new List<KerasLayerConfig>();
        var names = new WeightPathNames();
        foreach (JsonElement layer in LayerList(config, where))
        {
            (string className, JsonElement layerConfig) = Header(layer, where);
            string name = layer.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString()! : String(layerConfig, "name", where + " layer config");
            string path = names.Next(className);
            if (className == "InputLayer")
            {
                if (name != input) throw new KerasFormatException($"InputLayer '{Printable(name)}' is not the model's input '{Printable(input)}'; LstmSimd runs models with one input.");
                shape = BatchShape(layerConfig);
                continue;
            }

            (string source, int index) = Inbound(layer, name);
            result.Add(new KerasLayerConfig(className, name, layerConfig.Clone(), source, index, path));
        }

        return new KerasConfig("Functional", input, result, outputs, shape);
    }

    /// <summary>The one tensor a functional layer reads, from Keras 3's or Keras 2's <c>inbound_nodes</c>.</summary>
    private static (string Layer, int Index) Inbound(JsonElement layer, string name)
    {
        string where = $"layer '{Printable(name)}'";
        JsonElement nodes = Array(layer, "inbound_nodes", where);
        if (nodes.GetArrayLength() != 1)
            throw new KerasFormatException($"{where} is called {nodes.GetArrayLength()} times in the model; LstmSimd runs layers called once.");
        JsonElement node = nodes[0];
        if (node.ValueKind == JsonValueKind.Object)
        {
            // Keras 3: {"args": [keras tensor], "kwargs": {...}}
            JsonElement args = Array(node, "args", where + " inbound node");
            if (args.GetArrayLength() != 1 || args[0].ValueKind != JsonValueKind.Object)
                throw new KerasFormatException($"{where} reads {args.GetArrayLength()} arguments; LstmSimd runs layers that read one tensor.");
            if (node.TryGetProperty("kwargs", out JsonElement kwargs)) CheckCallArguments(kwargs, where);
            JsonElement tensor = Object(args[0], "config", where + " inbound tensor");
            return History(Array(tensor, "keras_history", where + " inbound tensor"), where);
        }

        // Keras 2: [[layer, node, tensor, kwargs], ...]
        if (node.ValueKind != JsonValueKind.Array || node.GetArrayLength() != 1 || node[0].ValueKind != JsonValueKind.Array)
            throw new KerasFormatException($"{where} reads several tensors, or its inbound node is malformed; LstmSimd runs layers that read one tensor.");
        JsonElement entry = node[0];
        if (entry.GetArrayLength() >= 4) CheckCallArguments(entry[3], where);
        return History(entry, where);
    }

    /// <summary>Call arguments other than <c>training</c> and an empty <c>mask</c> (initial_state, constants…) are not run.</summary>
    private static void CheckCallArguments(JsonElement kwargs, string where)
    {
        if (kwargs.ValueKind != JsonValueKind.Object) throw new KerasFormatException($"{where}: its call arguments are not an object.");
        foreach (JsonProperty p in kwargs.EnumerateObject())
        {
            if (p.Name == "training" || (p.Name == "mask" && p.Value.ValueKind == JsonValueKind.Null)) continue;
            throw new KerasFormatException($"{where} is called with '{Printable(p.Name)}', which LstmSimd does not run.");
        }
    }

    private static (string Layer, int Index) History(JsonElement history, string where)
    {
        if (history.ValueKind != JsonValueKind.Array || history.GetArrayLength() < 3 || history[0].ValueKind != JsonValueKind.String
            || !history[1].TryGetInt32(out int node) || !history[2].TryGetInt32(out int index) || index < 0)
            throw new KerasFormatException($"{where}: a tensor reference is not [layer, node, index].");
        if (node != 0) throw new KerasFormatException($"{where} reads node {node} of layer '{Printable(history[0].GetString()!)}'; LstmSimd runs layers called once.");
        return (history[0].GetString()!, index);
    }

    /// <summary><c>[[layer, 0, i], ...]</c> or a single <c>[layer, 0, i]</c>.</summary>
    private static List<(string Layer, int Index)> TensorList(JsonElement list, string what)
    {
        if (list.ValueKind != JsonValueKind.Array) throw new KerasFormatException($"'{what}' is not a list.");
        if (list.GetArrayLength() > 0 && list[0].ValueKind == JsonValueKind.String) return [History(list, $"'{what}'")];
        return [.. list.EnumerateArray().Select(t => History(t, $"'{what}'"))];
    }

    private static long?[]? BatchShape(JsonElement config)
    {
        foreach (string key in new[] { "batch_shape", "batch_input_shape" })
            if (config.TryGetProperty(key, out JsonElement s) && s.ValueKind == JsonValueKind.Array) return Shape(s, key);
        if (config.TryGetProperty("shape", out JsonElement shape) && shape.ValueKind == JsonValueKind.Array) return [null, .. Shape(shape, "shape")];
        return null;
    }

    private static long?[]? BuildShape(JsonElement layer) =>
        layer.TryGetProperty("build_config", out JsonElement build) && build.ValueKind == JsonValueKind.Object
        && build.TryGetProperty("input_shape", out JsonElement s) && s.ValueKind == JsonValueKind.Array ? Shape(s, "input_shape") : null;

    private static long?[] Shape(JsonElement shape, string key)
    {
        if (shape.GetArrayLength() > 8) throw new KerasFormatException($"'{key}' has {shape.GetArrayLength()} dimensions.");
        return [.. shape.EnumerateArray().Select(d => d.ValueKind == JsonValueKind.Null ? (long?)null
            : d.TryGetInt64(out long v) && v >= 0 ? v : throw new KerasFormatException($"'{key}' holds {Printable(d.GetRawText())}, not a size."))];
    }

    /// <summary>The model config's <c>layers</c>, at most <see cref="MaxLayers"/> of them.</summary>
    private static JsonElement.ArrayEnumerator LayerList(JsonElement config, string where)
    {
        JsonElement layers = Array(config, "layers", where + " config");
        if (layers.GetArrayLength() > MaxLayers) throw new KerasFormatException($"{where} lists {layers.GetArrayLength()} layers (at most {MaxLayers}).");
        return layers.EnumerateArray();
    }

    /// <summary>A layer entry's <c>class_name</c> and <c>config</c>.</summary>
    private static (string ClassName, JsonElement Config) Header(JsonElement layer, string where)
    {
        string className = String(layer, "class_name", where + " layer");
        return (className, Object(layer, "config", $"{where} layer '{Printable(className)}'"));
    }

    /// <summary>A JSON document of a model file (nesting bounded); malformed JSON is a <see cref="KerasFormatException"/> naming <paramref name="where"/>.</summary>
    internal static JsonDocument ParseJson(string json, string where)
    {
        try
        {
            return JsonDocument.Parse(json, new JsonDocumentOptions { MaxDepth = 64 });
        }
        catch (JsonException e)
        {
            throw new KerasFormatException($"{where} is not valid JSON: {e.Message}", e);
        }
    }

    internal static JsonElement Property(JsonElement e, string name, string where)
    {
        if (e.ValueKind != JsonValueKind.Object) throw new KerasFormatException($"{where} is not a JSON object.");
        return e.TryGetProperty(name, out JsonElement v) ? v : throw new KerasFormatException($"{where} has no '{name}'.");
    }

    internal static string String(JsonElement e, string name, string where)
    {
        JsonElement v = Property(e, name, where);
        return v.ValueKind == JsonValueKind.String ? v.GetString()! : throw new KerasFormatException($"{where}: '{name}' is not a string.");
    }

    private static JsonElement Object(JsonElement e, string name, string where)
    {
        JsonElement v = Property(e, name, where);
        return v.ValueKind == JsonValueKind.Object ? v : throw new KerasFormatException($"{where}: '{name}' is not an object.");
    }

    private static JsonElement Array(JsonElement e, string name, string where)
    {
        JsonElement v = Property(e, name, where);
        return v.ValueKind == JsonValueKind.Array ? v : throw new KerasFormatException($"{where}: '{name}' is not a list.");
    }

    internal static string Printable(string text) => UserText.Printable(text);

    /// <summary>
    /// Keras 3 saves each layer of a model's <c>layers</c> list under its class name in snake case, numbered from the
    /// second of a class on (<c>lstm</c>, <c>lstm_1</c>, …), not under its own name (saving_lib's container state).
    /// </summary>
    private sealed class WeightPathNames
    {
        private readonly Dictionary<string, int> _used = new(StringComparer.Ordinal);

        public string Next(string className)
        {
            string snake = SnakeCase(className);
            int n = _used.TryGetValue(snake, out int seen) ? seen + 1 : 0;
            _used[snake] = n;
            return "layers/" + (n == 0 ? snake : snake + "_" + n.ToString(CultureInfo.InvariantCulture));
        }

        /// <summary>Keras's naming.to_snake_case for class names: LSTM → lstm, InputLayer → input_layer.</summary>
        private static string SnakeCase(string name)
        {
            var s = new System.Text.StringBuilder();
            for (int i = 0; i < name.Length; i++)
            {
                char c = name[i];
                if (!char.IsLetterOrDigit(c) && c != '_') continue;
                bool upper = char.IsUpper(c);
                bool startsWord = upper && i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]) || (i + 1 < name.Length && char.IsLower(name[i + 1]) && char.IsUpper(name[i - 1])));
                if (startsWord && s.Length > 0) s.Append('_');
                s.Append(char.ToLowerInvariant(c));
            }

            return s.ToString();
        }
    }
}
