using System.Text.Json;

namespace LstmSimd.Cli.Serving;

/// <summary>
/// One HTTP request's work for the batcher: a step of one or more streams, or the removal of one stream. The batcher
/// answers it through <see cref="Done"/>.
/// </summary>
internal sealed class PoolWork
{
    private PoolWork(string[] keys, double[] inputs, bool removal)
    {
        Keys = keys;
        Inputs = inputs;
        IsRemoval = removal;
    }

    /// <summary>The streams named, each once, in the request's order.</summary>
    public string[] Keys { get; }

    /// <summary>Each stream's input (a plain model's x_t, a forecaster's new row), in the order of <see cref="Keys"/>: [k, values] (empty for a removal).</summary>
    public double[] Inputs { get; }

    public bool IsRemoval { get; }

    /// <summary>Whether the request named several streams (<c>{"steps": [...]}</c>) and is answered with a list.</summary>
    public bool IsList { get; private init; }

    /// <summary>The streams this request added to the pool, removed again if its step is refused.</summary>
    public List<string>? AddedKeys { get; set; }

    /// <summary>Rows of the batch this work takes.</summary>
    public int Rows => IsRemoval ? 0 : Keys.Length;

    public TaskCompletionSource<WorkOutcome> Done { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public static PoolWork Removal(string key) => new([key], [], removal: true);

    /// <summary>
    /// Reads a step request: <c>{"key": "pump-7", "input": [0.5, -1]}</c>, or several streams at once:
    /// <c>{"steps": [{"key": "a", "input": [...]}, ...]}</c>.
    /// </summary>
    /// <exception cref="BadRequestException">The JSON is well formed but is not a valid request; the message says why.</exception>
    public static PoolWork ParseStep(JsonElement root, int inputSize, int maxStreams, string takes)
    {
        if (root.ValueKind != JsonValueKind.Object) throw new BadRequestException($"the body must be a JSON object, not {Describe(root.ValueKind)}.");
        if (root.TryGetProperty("steps", out JsonElement steps))
        {
            RefuseOtherProperties(root, "the request", "steps");
            if (steps.ValueKind != JsonValueKind.Array) throw new BadRequestException($"'steps' must be an array, not {Describe(steps.ValueKind)}.");
            int count = steps.GetArrayLength();
            if (count == 0) throw new BadRequestException("'steps' is empty.");
            if (count > maxStreams) throw new BadRequestException($"'steps' names {count} streams; the pool holds at most {maxStreams}.");
            var keys = new string[count];
            var inputs = new double[count * inputSize];
            var seen = new HashSet<string>(count, StringComparer.Ordinal);
            int i = 0;
            foreach (JsonElement step in steps.EnumerateArray())
            {
                if (step.ValueKind != JsonValueKind.Object) throw new BadRequestException($"steps[{i}] must be an object with 'key' and 'input', not {Describe(step.ValueKind)}.");
                keys[i] = ReadStep(step, $"steps[{i}]", inputs.AsSpan(i * inputSize, inputSize), takes);
                if (!seen.Add(keys[i])) throw new BadRequestException($"steps[{i}]: stream {UserText.Quote(keys[i])} is named twice; a stream advances once per step.");
                i++;
            }

            return new PoolWork(keys, inputs, removal: false) { IsList = true };
        }

        var input = new double[inputSize];
        return new PoolWork([ReadStep(root, "the request", input, takes)], input, removal: false);
    }

    /// <summary>Checks a stream key from a request or a URL.</summary>
    /// <exception cref="BadRequestException">The key is empty or longer than <see cref="MaxKeyLength"/>.</exception>
    public static string CheckKey(string key, string where)
    {
        if (key.Length == 0) throw new BadRequestException($"{where}: 'key' is empty.");
        if (key.Length > MaxKeyLength) throw new BadRequestException($"{where}: 'key' has {key.Length} characters; at most {MaxKeyLength} are allowed.");
        return key;
    }

    /// <summary>The longest stream key taken, so that keys cannot grow the pool's memory without bound.</summary>
    public const int MaxKeyLength = 256;

    private static string ReadStep(JsonElement step, string where, Span<double> input, string takes)
    {
        RefuseOtherProperties(step, where, "key", "input");
        if (!step.TryGetProperty("key", out JsonElement key)) throw new BadRequestException($"{where} has no 'key'.");
        if (key.ValueKind != JsonValueKind.String) throw new BadRequestException($"{where}: 'key' must be a string, not {Describe(key.ValueKind)}.");
        if (!step.TryGetProperty("input", out JsonElement values)) throw new BadRequestException($"{where} has no 'input'.");
        if (values.ValueKind != JsonValueKind.Array) throw new BadRequestException($"{where}: 'input' must be an array of numbers, not {Describe(values.ValueKind)}.");
        string name = CheckKey(key.GetString()!, where);
        int length = values.GetArrayLength();
        if (length != input.Length) throw new BadRequestException($"{where}: 'input' has {length} value{(length == 1 ? "" : "s")}; {takes}.");
        int i = 0;
        foreach (JsonElement value in values.EnumerateArray())
        {
            // JSON has no NaN or infinity; a number beyond float32's range would become one, so it is refused too.
            if (value.ValueKind != JsonValueKind.Number) throw new BadRequestException($"{where}: input[{i}] must be a number, not {Describe(value.ValueKind)}.");
            if (!value.TryGetDouble(out double number) || !float.IsFinite((float)number))
                throw new BadRequestException($"{where}: input[{i}] = {value.GetRawText()} is beyond the range of float32.");
            input[i++] = number;
        }

        return name;
    }

    private static void RefuseOtherProperties(JsonElement element, string where, params string[] allowed)
    {
        foreach (JsonProperty property in element.EnumerateObject())
            if (!allowed.Contains(property.Name, StringComparer.Ordinal))
                throw new BadRequestException($"{where} has an unknown property {UserText.Quote(property.Name)}; expected {string.Join(" and ", allowed.Select(a => $"'{a}'"))}.");
    }

    private static string Describe(JsonValueKind kind) => kind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        _ => "null",
    };
}

/// <summary>How the batcher answered a piece of work: an HTTP status, and the outputs or the reason.</summary>
internal sealed record WorkOutcome(int Status, string? Reason = null, StepAnswer? Answer = null)
{
    public static WorkOutcome Refused(int status, string reason) => new(status, reason);
}

/// <summary>A request the service refuses with 400 and the message as its one-line reason.</summary>
internal sealed class BadRequestException(string message) : Exception(message);
