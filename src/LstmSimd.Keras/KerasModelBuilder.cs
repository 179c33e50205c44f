using System.Text.Json;
using LstmSimd.IO;

namespace LstmSimd.Keras;

/// <summary>
/// Turns a model's config and weights into runnable layers, reading each setting with Keras's default when absent and
/// refusing, with the layer and the setting named, whatever would make LstmSimd compute something other than Keras.
/// It also follows what each tensor is (token ids, [B, T, F] or [B, F]) so every weight's shape is checked before it is read.
/// </summary>
internal sealed class KerasModelBuilder(KerasConfig config, KerasWeightStore store, int? kerasMajor, LstmModelOptions? options)
{
    /// <summary>Larger than any real layer; a hostile config's sizes are refused before they size an allocation.</summary>
    private const int MaxSize = 1 << 24;

    private readonly Dictionary<string, TensorInfo[]> _tensors = new(StringComparer.Ordinal);

    /// <summary>Whether an Embedding reads the model input.</summary>
    public bool TakesTokenIds { get; private set; }

    /// <summary>I, once a layer reading the input has said it (0 for token ids).</summary>
    public int InputFeatures { get; private set; }

    private bool _inputResolved;

    /// <summary>What a tensor holds: token ids [B, T], a sequence [B, T, F] or one vector per sequence [B, F]; F −1 while the model input's is unknown.</summary>
    private readonly record struct TensorInfo(bool Ids, bool Sequence, int Features);

    public IReadOnlyList<KerasLayer> BuildLayers()
    {
        IReadOnlyList<long?>? shape = config.InputShape;
        if (shape is not null && shape.Count is not (2 or 3))
            throw new KerasFormatException($"the model input '{KerasConfig.Printable(config.InputName)}' has batch shape [{string.Join(", ", shape.Select(d => d?.ToString() ?? "None"))}]; LstmSimd runs sequences [B, T, I] or token ids [B, T].");
        _tensors[config.InputName] = [new TensorInfo(false, true, -1)];
        var layers = new List<KerasLayer>();
        foreach (KerasLayerConfig layer in config.Layers)
        {
            if (_tensors.ContainsKey(layer.Name)) throw new KerasFormatException($"two layers are named '{KerasConfig.Printable(layer.Name)}'.");
            TensorInfo input = Input(layer);
            CheckDtype(layer);
            (KerasLayer built, TensorInfo[] outputs) = layer.ClassName switch
            {
                "LSTM" => Lstm(layer, input, null),
                "GRU" => Gru(layer, input, null),
                "Bidirectional" => Bidirectional(layer, input),
                "Dense" => Dense(layer, input),
                "Embedding" => Embedding(layer),
                "Dropout" => (new KerasDropoutLayer(layer), new[] { input }),
                _ => throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' is a {KerasConfig.Printable(layer.ClassName)}; LstmSimd runs Embedding, LSTM, GRU, Bidirectional(LSTM or GRU), Dense and Dropout layers."),
            };
            _tensors[layer.Name] = outputs;
            layers.Add(built);
        }

        if (config.Kind == "Sequential")
        {
            foreach (KerasRecurrentLayer recurrent in layers.OfType<KerasRecurrentLayer>().Where(l => l.ReturnState && l != layers[^1]))
                throw new KerasFormatException($"layer '{KerasConfig.Printable(recurrent.Name)}' sets return_state inside a Sequential model, whose next layer would get a list.");
        }

        if (!_inputResolved) throw new KerasFormatException("no layer reads the model input.");
        if (shape is not null)
        {
            bool ids = shape.Count == 2;
            if (ids != TakesTokenIds)
                throw new KerasFormatException($"the model input has rank {shape.Count}, but its first layer takes {(TakesTokenIds ? "token ids [B, T]" : "[B, T, I]")}.");
            if (!ids && shape[2] is long declared && declared != InputFeatures)
                throw new KerasFormatException($"the model input declares {declared} features, but its first layer's weights take {InputFeatures}.");
        }

        return layers;
    }

    private TensorInfo Input(KerasLayerConfig layer)
    {
        if (!_tensors.TryGetValue(layer.Source, out TensorInfo[]? outputs) || layer.SourceIndex >= outputs.Length)
            throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' reads '{KerasConfig.Printable(KerasModel.TensorName(layer.Source, layer.SourceIndex))}', which no earlier layer outputs.");
        return outputs[layer.SourceIndex];
    }

    /// <summary>Settles the model input's features (the first layer with weights to read it decides; a second must agree).</summary>
    private int Features(KerasLayerConfig layer, TensorInfo input, long fromWeights)
    {
        if (input.Ids) throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' reads token ids; only an Embedding can.");
        if (input.Features >= 0) return input.Features;
        if (_inputResolved && TakesTokenIds) throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' reads the model input as features, while an Embedding reads it as token ids.");
        if (fromWeights is <= 0 or > MaxSize) throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' has a kernel of {fromWeights} rows.");
        if (_inputResolved && InputFeatures != fromWeights)
            throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' takes {fromWeights} input features, another layer reading the model input {InputFeatures}.");
        (_inputResolved, InputFeatures) = (true, (int)fromWeights);
        return InputFeatures;
    }

    private (KerasLayer, TensorInfo[]) Lstm(KerasLayerConfig layer, TensorInfo input, KerasMergeMode? merge)
    {
        LstmSettings s = LstmSettings.Read(layer.Config, layer.Name, Activation);
        if (!input.Sequence) throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' reads a tensor without a time axis; an LSTM reads [B, T, I].");
        IReadOnlyList<StoredArray> arrays = store.Arrays(layer);
        int perDirection = s.UseBias ? 3 : 2, directions = merge is null ? 1 : 2;
        if (arrays.Count != perDirection * directions)
            throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' has {arrays.Count} weight arrays in the file; {(merge is null ? "an LSTM" : "a Bidirectional LSTM")} with use_bias={s.UseBias} has {perDirection * directions}.");
        int inputs = Features(layer, input, arrays[0].Shape.Length == 2 ? arrays[0].Shape[0] : 0);
        // The engine's Keras mapping (kernel [I, 4H] → weight_ih [4H, I], one bias) takes the arrays by Keras's names.
        int gates = 4 * s.Units;
        var named = new SafetensorsWriter();
        string[] prefixes = merge is null ? ["forward/"] : ["forward/", "backward/"];
        for (int d = 0; d < directions; d++)
        {
            int k = d * perDirection;
            named.Add(prefixes[d] + "kernel", store.Read(layer, arrays[k], inputs, gates), inputs, gates);
            named.Add(prefixes[d] + "recurrent_kernel", store.Read(layer, arrays[k + 1], s.Units, gates), s.Units, gates);
            if (s.UseBias) named.Add(prefixes[d] + "bias", store.Read(layer, arrays[k + 2], gates), gates);
        }

        LstmWeights lstm;
        try
        {
            using SafetensorsFile file = SafetensorsFile.Parse(named.ToArray());
            var cell = new CellVariant(false, 0f, false, s.RecurrentActivation, s.Activation, s.Activation);
            lstm = KerasLstm.Import(file, [new KerasLayerNames(prefixes[0], merge is null ? null : prefixes[1])], cell).Weights;
        }
        catch (ModelFormatException e)
        {
            throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' does not form a valid LSTM: {e.Message}", e);
        }

        var built = new KerasLstmLayer(layer, lstm, options, s.ReturnSequences, s.ReturnState, s.GoBackwards, merge);
        int width = merge is null or KerasMergeMode.Concat ? directions * s.Units : s.Units;
        var state = new TensorInfo(false, false, s.Units);
        TensorInfo output = new(false, s.ReturnSequences, width);
        return (built, s.ReturnState ? [output, .. Enumerable.Repeat(state, 2 * directions)] : [output]);
    }

    /// <summary>
    /// A GRU: kernel [I, 3H] and recurrent_kernel [H, 3H] in gate order z, r, h, transposed and reordered to PyTorch's
    /// r, z, n. With reset_after=True the bias [2, 3H] splits into b_ih (row 0) and b_hh (row 1); with reset_after=False
    /// (the original cell) the one bias [3H] is b_ih and b_hh is zero.
    /// </summary>
    private (KerasLayer, TensorInfo[]) Gru(KerasLayerConfig layer, TensorInfo input, KerasMergeMode? merge)
    {
        GruSettings s = GruSettings.Read(layer.Config, layer.Name, Activation);
        string where = $"layer '{KerasConfig.Printable(layer.Name)}'";
        if (!input.Sequence) throw new KerasFormatException($"{where} reads a tensor without a time axis; a GRU reads [B, T, I].");
        IReadOnlyList<StoredArray> arrays = store.Arrays(layer);
        int perDirection = s.UseBias ? 3 : 2, directions = merge is null ? 1 : 2;
        if (arrays.Count != perDirection * directions)
            throw new KerasFormatException($"{where} has {arrays.Count} weight arrays in the file; {(merge is null ? "a GRU" : "a Bidirectional GRU")} with use_bias={s.UseBias} has {perDirection * directions}.");
        int inputs = Features(layer, input, arrays[0].Shape.Length == 2 ? arrays[0].Shape[0] : 0);
        int gates = 3 * s.Units;
        var directionWeights = new List<GruLayerWeights>();
        for (int d = 0; d < directions; d++)
        {
            int k = d * perDirection;
            float[] bias = !s.UseBias ? [] : s.ResetAfter ? store.Read(layer, arrays[k + 2], 2, gates) : store.Read(layer, arrays[k + 2], gates);
            directionWeights.Add(new GruLayerWeights
            {
                WeightIh = KerasGateOrder(store.Read(layer, arrays[k], inputs, gates), inputs, s.Units),
                WeightHh = KerasGateOrder(store.Read(layer, arrays[k + 1], s.Units, gates), s.Units, s.Units),
                BiasIh = s.UseBias ? KerasGateOrder(bias.AsSpan(0, gates).ToArray(), 1, s.Units) : [],
                BiasHh = !s.UseBias ? [] : s.ResetAfter ? KerasGateOrder(bias.AsSpan(gates, gates).ToArray(), 1, s.Units) : new float[gates],
            });
        }

        KerasGruLayer built;
        try
        {
            built = new KerasGruLayer(layer, new GruWeights(new GruSpec(inputs, s.Units, 1, merge is not null, s.UseBias, linearBeforeReset: s.ResetAfter) { GateActivation = s.RecurrentActivation }, directionWeights), options,
                s.ReturnSequences, s.ReturnState, s.GoBackwards, merge);
        }
        catch (ArgumentException e)
        {
            throw new KerasFormatException($"{where} does not form a valid GRU: {e.Message}", e);
        }

        int width = merge is null or KerasMergeMode.Concat ? directions * s.Units : s.Units;
        var state = new TensorInfo(false, false, s.Units);
        TensorInfo output = new(false, s.ReturnSequences, width);
        return (built, s.ReturnState ? [output, .. Enumerable.Repeat(state, directions)] : [output]);
    }

    /// <summary>Keras's [rows, 3H] with column blocks z, r, h → PyTorch's [3H, rows] with row blocks r, z, n.</summary>
    private static float[] KerasGateOrder(float[] keras, int rows, int units)
    {
        ReadOnlySpan<int> kerasBlockOfGate = [1, 0, 2];
        int gates = 3 * units;
        var result = new float[keras.Length];
        for (int g = 0; g < 3; g++)
            for (int u = 0; u < units; u++)
                for (int r = 0; r < rows; r++)
                    result[(g * units + u) * rows + r] = keras[r * gates + kerasBlockOfGate[g] * units + u];
        return result;
    }

    private (KerasLayer, TensorInfo[]) Bidirectional(KerasLayerConfig layer, TensorInfo input)
    {
        string where = $"layer '{KerasConfig.Printable(layer.Name)}'";
        JsonElement inner = KerasConfig.Property(layer.Config, "layer", where);
        string innerClass = KerasConfig.String(inner, "class_name", where + " layer");
        if (innerClass is not ("LSTM" or "GRU")) throw new KerasFormatException($"{where} wraps a {KerasConfig.Printable(innerClass)}; LstmSimd runs Bidirectional(LSTM) and Bidirectional(GRU).");
        JsonElement innerConfig = KerasConfig.Property(inner, "config", where + " layer");
        KerasMergeMode merge = Setting(layer.Config, "merge_mode", "concat", layer.Name) switch
        {
            "concat" => KerasMergeMode.Concat,
            "sum" => KerasMergeMode.Sum,
            "mul" => KerasMergeMode.Mul,
            "ave" => KerasMergeMode.Ave,
            string other => throw new KerasFormatException($"{where}: merge_mode '{KerasConfig.Printable(other)}' is not one LstmSimd runs (concat, sum, mul, ave)."),
            null => throw new KerasFormatException($"{where}: merge_mode None (separate forward and backward outputs) is not supported; use concat, sum, mul or ave."),
        };
        bool gru = innerClass == "GRU";
        RecurrentSettings forward = gru ? GruSettings.Read(innerConfig, layer.Name, Activation) : LstmSettings.Read(innerConfig, layer.Name, Activation);
        if (forward.GoBackwards) throw new KerasFormatException($"{where} wraps {(gru ? "a GRU" : "an LSTM")} with go_backwards=True, which LstmSimd does not run.");
        if (layer.Config.TryGetProperty("backward_layer", out JsonElement backward) && backward.ValueKind == JsonValueKind.Object)
        {
            JsonElement backwardConfig = KerasConfig.Property(backward, "config", where + " backward_layer");
            RecurrentSettings b = gru ? GruSettings.Read(backwardConfig, layer.Name, Activation) : LstmSettings.Read(backwardConfig, layer.Name, Activation);
            if (b != forward with { GoBackwards = true })
                throw new KerasFormatException($"{where} has a backward_layer whose settings differ from the forward layer's; LstmSimd runs both directions with one cell.");
        }

        return gru ? Gru(layer with { Config = innerConfig }, input, merge) : Lstm(layer with { Config = innerConfig }, input, merge);
    }

    private (KerasLayer, TensorInfo[]) Dense(KerasLayerConfig layer, TensorInfo input)
    {
        string where = $"layer '{KerasConfig.Printable(layer.Name)}'";
        int units = Int(layer.Config, "units", null, layer.Name);
        KerasDenseActivation activation = ActivationName(layer.Config, "activation", "linear", layer.Name) switch
        {
            "linear" => KerasDenseActivation.Linear,
            "relu" => KerasDenseActivation.Relu,
            "sigmoid" => KerasDenseActivation.Sigmoid,
            "tanh" => KerasDenseActivation.Tanh,
            "softmax" => KerasDenseActivation.Softmax,
            string other => throw new KerasFormatException($"{where}: activation '{KerasConfig.Printable(other)}' is not one LstmSimd's Dense runs (linear, relu, sigmoid, tanh, softmax)."),
        };
        bool bias = Bool(layer.Config, "use_bias", true, layer.Name);
        RefuseSet(layer, "lora_rank");
        RefuseSet(layer, "quantization_config");
        IReadOnlyList<StoredArray> arrays = store.Arrays(layer);
        if (arrays.Count != (bias ? 2 : 1))
            throw new KerasFormatException($"{where} has {arrays.Count} weight arrays in the file; a Dense with use_bias={bias} has {(bias ? 2 : 1)}.");
        int inputs = Features(layer, input, arrays[0].Shape.Length == 2 ? arrays[0].Shape[0] : 0);
        float[] kernel = store.Read(layer, arrays[0], inputs, units);
        float[] biasValues = bias ? store.Read(layer, arrays[1], units) : [];
        return (new KerasDenseLayer(layer, inputs, units, kernel, biasValues, activation), [input with { Features = units }]);
    }

    private (KerasLayer, TensorInfo[]) Embedding(KerasLayerConfig layer)
    {
        string where = $"layer '{KerasConfig.Printable(layer.Name)}'";
        if (layer.Source != config.InputName) throw new KerasFormatException($"{where} reads '{KerasConfig.Printable(layer.Source)}'; LstmSimd runs an Embedding on the model input only.");
        if (_inputResolved) throw new KerasFormatException($"{where} reads the model input as token ids, while another layer reads it as features.");
        bool maskZero = Bool(layer.Config, "mask_zero", false, layer.Name);
        RefuseSet(layer, "lora_rank");
        int vocabulary = Int(layer.Config, "input_dim", null, layer.Name), width = Int(layer.Config, "output_dim", null, layer.Name);
        IReadOnlyList<StoredArray> arrays = store.Arrays(layer);
        if (arrays.Count != 1) throw new KerasFormatException($"{where} has {arrays.Count} weight arrays in the file; an Embedding has 1.");
        float[] table = store.Read(layer, arrays[0], vocabulary, width);
        (_inputResolved, TakesTokenIds, InputFeatures) = (true, true, 0);
        return (new KerasEmbeddingLayer(layer, vocabulary, width, table, maskZero), [new TensorInfo(false, true, width)]);
    }

    /// <summary>A dtype policy other than float32 (mixed_float16, bfloat16…) computes in another precision than LstmSimd.</summary>
    private static void CheckDtype(KerasLayerConfig layer)
    {
        if (!layer.Config.TryGetProperty("dtype", out JsonElement dtype) || dtype.ValueKind == JsonValueKind.Null) return;
        string? name = dtype.ValueKind == JsonValueKind.String ? dtype.GetString()
            : dtype.ValueKind == JsonValueKind.Object && dtype.TryGetProperty("config", out JsonElement c) && c.ValueKind == JsonValueKind.Object
              && c.TryGetProperty("name", out JsonElement n) && n.ValueKind == JsonValueKind.String ? n.GetString() : null;
        if (name != "float32")
            throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' has dtype policy '{KerasConfig.Printable(name ?? dtype.GetRawText())}'; LstmSimd runs float32 models.");
    }

    private static void RefuseSet(KerasLayerConfig layer, string key)
    {
        if (layer.Config.TryGetProperty(key, out JsonElement v) && v.ValueKind is not (JsonValueKind.Null or JsonValueKind.False) && !(v.ValueKind == JsonValueKind.Number && v.GetDouble() == 0))
            throw new KerasFormatException($"layer '{KerasConfig.Printable(layer.Name)}' sets {key}, which LstmSimd does not run.");
    }

    /// <summary>An LSTM cell activation as the engine's, with hard_sigmoid as the saving Keras version defines it.</summary>
    private Activation Activation(string name, string key, string layerName) => name switch
    {
        "sigmoid" => LstmSimd.Activation.Sigmoid,
        "tanh" => LstmSimd.Activation.Tanh,
        "relu" => new Activation(ActivationKind.Relu),
        "hard_sigmoid" => kerasMajor switch
        {
            null => throw new KerasFormatException($"layer '{KerasConfig.Printable(layerName)}': {key} hard_sigmoid means 0.2·x + 0.5 in Keras 2 and x/6 + 0.5 in Keras 3, and the file does not say which Keras saved it."),
            >= 3 => new Activation(ActivationKind.HardSigmoid, 1f / 6f, 0.5f),
            _ => new Activation(ActivationKind.HardSigmoid, 0.2f, 0.5f),
        },
        _ => throw new KerasFormatException($"layer '{KerasConfig.Printable(layerName)}': {key} '{KerasConfig.Printable(name)}' is not one LstmSimd's cell has (sigmoid, hard_sigmoid, tanh, relu)."),
    };

    /// <summary>An activation setting: a name, or Keras 3's <c>{"class_name": "function", "config": name}</c>; None is linear.</summary>
    internal static string ActivationName(JsonElement config, string key, string absent, string layer)
    {
        if (!config.TryGetProperty(key, out JsonElement v)) return absent;
        if (v.ValueKind == JsonValueKind.Null) return "linear";
        if (v.ValueKind == JsonValueKind.String) return v.GetString()!;
        if (v.ValueKind == JsonValueKind.Object && v.TryGetProperty("class_name", out JsonElement c) && c.ValueKind == JsonValueKind.String && c.GetString() == "function"
            && v.TryGetProperty("config", out JsonElement f) && f.ValueKind == JsonValueKind.String) return f.GetString()!;
        throw new KerasFormatException($"layer '{KerasConfig.Printable(layer)}': {key} is a custom activation ({KerasConfig.Printable(v.GetRawText())}), which LstmSimd does not run.");
    }

    internal static bool Bool(JsonElement config, string key, bool absent, string layer)
    {
        if (!config.TryGetProperty(key, out JsonElement v) || v.ValueKind == JsonValueKind.Null) return absent;
        return v.ValueKind switch
        {
            JsonValueKind.True => true,
            JsonValueKind.False => false,
            _ => throw new KerasFormatException($"layer '{KerasConfig.Printable(layer)}': {key} is not true or false."),
        };
    }

    internal static int Int(JsonElement config, string key, int? absent, string layer)
    {
        if (!config.TryGetProperty(key, out JsonElement v))
            return absent ?? throw new KerasFormatException($"layer '{KerasConfig.Printable(layer)}' has no '{key}'.");
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n is > 0 and <= MaxSize
            ? n
            : throw new KerasFormatException($"layer '{KerasConfig.Printable(layer)}': {key} is {KerasConfig.Printable(v.GetRawText())}, not a size from 1 to {MaxSize}.");
    }

    private static string? Setting(JsonElement config, string key, string absent, string layer)
    {
        if (!config.TryGetProperty(key, out JsonElement v)) return absent;
        return v.ValueKind switch
        {
            JsonValueKind.Null => null,
            JsonValueKind.String => v.GetString(),
            _ => throw new KerasFormatException($"layer '{KerasConfig.Printable(layer)}': {key} is not a string."),
        };
    }

    /// <summary>What an LSTM's and a GRU's configs share, Keras's defaults where absent.</summary>
    private record RecurrentSettings(int Units, bool UseBias, bool ReturnSequences, bool ReturnState, bool GoBackwards)
    {
        /// <summary>The shared settings; stateful and time_major are refused. Dropout and recurrent_dropout do nothing at inference; unroll and implementation change how Keras computes, not what.</summary>
        protected static RecurrentSettings ReadShared(JsonElement config, string layer, string modelClass)
        {
            string where = $"layer '{KerasConfig.Printable(layer)}'";
            if (Bool(config, "stateful", false, layer)) throw new KerasFormatException($"{where} sets stateful=True (state carried across batches), which LstmSimd's Keras import does not run; stream with the layer's {modelClass} instead.");
            if (Bool(config, "time_major", false, layer)) throw new KerasFormatException($"{where} sets time_major=True, which LstmSimd's Keras import does not run.");
            return new RecurrentSettings(
                Int(config, "units", null, layer),
                Bool(config, "use_bias", true, layer),
                Bool(config, "return_sequences", false, layer),
                Bool(config, "return_state", false, layer),
                Bool(config, "go_backwards", false, layer));
        }
    }

    /// <summary>An LSTM's settings from its config; what LstmSimd cannot run is refused. unit_forget_bias only initialises the bias.</summary>
    private sealed record LstmSettings : RecurrentSettings
    {
        private LstmSettings(RecurrentSettings shared, Activation activation, Activation recurrentActivation) : base(shared)
        {
            Activation = activation;
            RecurrentActivation = recurrentActivation;
        }

        public Activation Activation { get; }

        public Activation RecurrentActivation { get; }

        public static LstmSettings Read(JsonElement config, string layer, Func<string, string, string, Activation> activation) => new(
            ReadShared(config, layer, "LstmModel"),
            activation(ActivationName(config, "activation", "tanh", layer), "activation", layer),
            activation(ActivationName(config, "recurrent_activation", "sigmoid", layer), "recurrent_activation", layer));
    }

    /// <summary>
    /// A GRU's settings from its config: reset_after=True (Keras 2.3+'s default, PyTorch's cell) or False (the original
    /// cell, Keras 1's and TensorFlow.js's), with activation tanh and recurrent_activation sigmoid or hard_sigmoid (as the
    /// saving Keras version defines it); other activations are refused with the reason.
    /// </summary>
    private sealed record GruSettings : RecurrentSettings
    {
        private GruSettings(RecurrentSettings shared, bool resetAfter, Activation recurrentActivation) : base(shared)
        {
            ResetAfter = resetAfter;
            RecurrentActivation = recurrentActivation;
        }

        /// <summary>The reset gate applied after the recurrent product (PyTorch's cell) rather than before it.</summary>
        public bool ResetAfter { get; }

        /// <summary>The activation of the gates r and z.</summary>
        public Activation RecurrentActivation { get; }

        public static GruSettings Read(JsonElement config, string layer, Func<string, string, string, Activation> activation)
        {
            string where = $"layer '{KerasConfig.Printable(layer)}'";
            bool resetAfter = Bool(config, "reset_after", true, layer);
            string candidate = ActivationName(config, "activation", "tanh", layer);
            if (candidate != "tanh")
                throw new KerasFormatException($"{where}: activation '{KerasConfig.Printable(candidate)}' is not supported; LstmSimd's GRU runs activation tanh.");
            string gate = ActivationName(config, "recurrent_activation", "sigmoid", layer);
            if (gate is not ("sigmoid" or "hard_sigmoid"))
                throw new KerasFormatException($"{where}: recurrent_activation '{KerasConfig.Printable(gate)}' is not supported; LstmSimd's GRU runs recurrent_activation sigmoid or hard_sigmoid.");
            return new GruSettings(ReadShared(config, layer, "GruModel"), resetAfter, activation(gate, "recurrent_activation", layer));
        }
    }
}
