using System.Globalization;
using System.Text.Json;
using LstmSimd.Forecasting;
using LstmSimd.IO;

namespace LstmSimd.Cli.Serving;

/// <summary>
/// What <c>lstmsimd serve</c> steps: the streams of a plain model (<see cref="PoolStreams"/>) or of a forecaster
/// (<see cref="ForecasterStreams"/>). Only the batcher's loop calls the stepping members; <see cref="Count"/> and
/// <see cref="SaveState"/> are safe from any thread.
/// </summary>
internal abstract class ServedStreams : IDisposable
{
    public abstract int Capacity { get; }

    public abstract int Count { get; }

    /// <summary>The values a request gives per stream and step.</summary>
    public abstract int InputSize { get; }

    /// <summary>What a step's input holds, for a refusal's reason: "the model takes 8".</summary>
    public abstract string Takes { get; }

    public abstract bool Contains(string key);

    public abstract void Add(string key);

    public abstract bool Remove(string key);

    /// <summary>Steps the streams <paramref name="keys"/> with <paramref name="inputs"/> [k, <see cref="InputSize"/>] as one batch.</summary>
    /// <exception cref="ArgumentException">The model refused an input (one that could overflow its sums); nothing changed.</exception>
    /// <exception cref="OverflowException">A cell overflowed fp32; the streams hold the overflowed state.</exception>
    public abstract void Step(ReadOnlySpan<string> keys, ReadOnlySpan<double> inputs);

    /// <summary>The answers of rows [<paramref name="firstRow"/>, + <paramref name="rows"/>) of the last <see cref="Step"/>, copied.</summary>
    public abstract StepAnswer Answer(int firstRow, int rows);

    /// <summary>Saves every stream atomically to <paramref name="path"/>.</summary>
    public abstract void SaveState(string path);

    /// <summary>Restores the streams from <paramref name="path"/>.</summary>
    /// <exception cref="InvalidDataException">The file does not fit (the message says why); the streams are left as they were.</exception>
    public abstract void RestoreState(string path);

    public abstract void Dispose();
}

/// <summary>The answers of a request's streams, written into the response one stream at a time.</summary>
internal abstract class StepAnswer
{
    /// <summary>Writes the properties of stream <paramref name="index"/>'s answer (after its key).</summary>
    public abstract void Write(Utf8JsonWriter json, int index);

    protected static void WriteArray(Utf8JsonWriter json, string name, ReadOnlySpan<float> values)
    {
        json.WriteStartArray(name);
        foreach (float v in values) json.WriteNumberValue(v); // the shortest text that reads back as the same float
        json.WriteEndArray();
    }
}

/// <summary>A plain model's streams: one <see cref="LstmStreamPool{TKey}"/>, each step answered with the top layer's h and the head's output.</summary>
internal sealed class PoolStreams : ServedStreams
{
    private readonly LstmStreamPool<string> _pool;
    private readonly LinearHead? _head;
    private readonly int _outputSize;
    private readonly float[] _inputs, _outputs, _headOutputs;

    public PoolStreams(LstmStreamPool<string> pool, LinearHead? head)
    {
        _pool = pool;
        _head = head;
        InputSize = pool.Model.Spec.InputSize;
        _outputSize = pool.Model.Spec.OutputHiddenSize;
        _inputs = new float[Sizes.Elements("batch inputs capacity × I", pool.Capacity, InputSize)];
        _outputs = new float[Sizes.Elements("batch outputs capacity × H_out", pool.Capacity, _outputSize)];
        _headOutputs = head is null ? [] : new float[Sizes.Elements("batch head outputs capacity × O", pool.Capacity, head.OutputSize)];
    }

    public override int Capacity => _pool.Capacity;

    public override int Count => _pool.Count;

    public override int InputSize { get; }

    public override string Takes => $"the model takes {InputSize}";

    public override bool Contains(string key) => _pool.Contains(key);

    public override void Add(string key) => _pool.Add(key);

    public override bool Remove(string key) => _pool.Remove(key);

    public override void Step(ReadOnlySpan<string> keys, ReadOnlySpan<double> inputs)
    {
        int rows = keys.Length;
        for (int i = 0; i < inputs.Length; i++) _inputs[i] = (float)inputs[i]; // requests are checked to be within float's range
        _pool.Step(keys, _inputs.AsSpan(0, rows * InputSize), _outputs.AsSpan(0, rows * _outputSize));
        _head?.Apply(_outputs.AsSpan(0, rows * _outputSize), rows, _headOutputs.AsSpan(0, rows * _head.OutputSize));
    }

    public override StepAnswer Answer(int firstRow, int rows) => new PoolAnswer(
        _outputs.AsSpan(firstRow * _outputSize, rows * _outputSize).ToArray(), _outputSize,
        _head is null ? null : _headOutputs.AsSpan(firstRow * _head.OutputSize, rows * _head.OutputSize).ToArray(), _head?.OutputSize ?? 0);

    public override void SaveState(string path) => _pool.SaveState(path);

    public override void RestoreState(string path) => _pool.RestoreState(path);

    public override void Dispose() => _pool.Dispose();

    private sealed class PoolAnswer(float[] outputs, int outputSize, float[]? head, int headSize) : StepAnswer
    {
        public override void Write(Utf8JsonWriter json, int index)
        {
            WriteArray(json, "output", outputs.AsSpan(index * outputSize, outputSize));
            if (head is not null) WriteArray(json, "head", head.AsSpan(index * headSize, headSize));
        }
    }
}

/// <summary>
/// How the served detector judges a value: its residual against the one-step forecast, less the training residuals'
/// median, in robust standard deviations (as <c>lstmsimd detect</c> scores), flagged beyond <see cref="Threshold"/>.
/// </summary>
internal sealed record ResidualThreshold(double Median, double Sigma, double Threshold)
{
    public double Score(double value, double expected) => (value - expected - Median) / Sigma;
}

/// <summary>
/// A forecaster's streams: each keeps its latest window of values (<see cref="ForecastStreams{TKey}"/>); a step answers
/// the forecast of the horizon once the window is full and, with a <see cref="ResidualThreshold"/>, the anomaly score of
/// the value given against the forecast the stream's previous step made for it.
/// </summary>
internal sealed class ForecasterStreams : ServedStreams
{
    private readonly ForecastStreams<string> _streams;
    private readonly ResidualThreshold? _detector;
    private readonly int _horizon, _window, _targetColumn;
    private readonly double[] _forecasts, _expected, _targets;
    private readonly int[] _held;

    public ForecasterStreams(ForecastStreams<string> streams, ResidualThreshold? detector)
    {
        _streams = streams;
        _detector = detector;
        ForecastSettings settings = streams.Forecaster.Settings;
        _horizon = settings.Horizon;
        _window = settings.Window;
        _targetColumn = IndexOf(streams.Columns, settings.TargetColumn);
        InputSize = streams.Columns.Count;
        _forecasts = new double[Sizes.Elements("batch forecasts capacity × horizon", streams.Capacity, _horizon)];
        _expected = new double[streams.Capacity];
        _targets = new double[streams.Capacity];
        _held = new int[streams.Capacity];
    }

    public override int Capacity => _streams.Capacity;

    public override int Count => _streams.Count;

    public override int InputSize { get; }

    public override string Takes => $"the forecaster takes {InputSize} per step: {string.Join(", ", _streams.Columns.Select(UserText.Quote))}";

    public override bool Contains(string key) => _streams.Contains(key);

    public override void Add(string key) => _streams.Add(key);

    public override bool Remove(string key) => _streams.Remove(key);

    public override void Step(ReadOnlySpan<string> keys, ReadOnlySpan<double> inputs)
    {
        int rows = keys.Length;
        _streams.Step(keys, inputs, _forecasts.AsSpan(0, rows * _horizon), _expected.AsSpan(0, rows));
        for (int row = 0; row < rows; row++)
        {
            _targets[row] = inputs[row * InputSize + _targetColumn];
            _held[row] = _streams.Held(keys[row]);
        }
    }

    public override StepAnswer Answer(int firstRow, int rows) => new ForecastAnswer(this,
        _forecasts.AsSpan(firstRow * _horizon, rows * _horizon).ToArray(), _expected.AsSpan(firstRow, rows).ToArray(),
        _targets.AsSpan(firstRow, rows).ToArray(), _held.AsSpan(firstRow, rows).ToArray());

    public override void SaveState(string path) => _streams.SaveState(path);

    public override void RestoreState(string path) => _streams.RestoreState(path);

    /// <summary>The step's values, in order: the forecaster's input columns, then its target when that is not an input.</summary>
    public IReadOnlyList<string> Columns => _streams.Columns;

    public override void Dispose()
    {
        _streams.Dispose();
        _streams.Forecaster.Dispose();
    }

    private static int IndexOf(IReadOnlyList<string> names, string name)
    {
        for (int i = 0; i < names.Count; i++)
            if (names[i] == name) return i;
        throw new ArgumentException($"The columns {string.Join(", ", names)} do not hold the target {name}.");
    }

    private sealed class ForecastAnswer(ForecasterStreams owner, double[] forecasts, double[] expected, double[] targets, int[] held) : StepAnswer
    {
        public override void Write(Utf8JsonWriter json, int index)
        {
            int horizon = owner._horizon, window = owner._window;
            json.WriteNumber("held", held[index]);
            if (held[index] < window)
            {
                int needs = window - held[index];
                json.WriteNull("forecast");
                json.WriteNumber("needs", needs);
                json.WriteString("note", string.Create(CultureInfo.InvariantCulture, $"needs {needs} more value{(needs == 1 ? "" : "s")} for a forecast (the window is {window})."));
            }
            else
            {
                json.WriteStartArray("forecast");
                foreach (double v in forecasts.AsSpan(index * horizon, horizon)) json.WriteNumberValue(v); // the shortest text that reads back as the same double
                json.WriteEndArray();
            }

            if (owner._detector is not { } detector) return;
            double previous = expected[index];
            if (double.IsNaN(previous))
            {
                json.WriteNull("expected");
                json.WriteNull("score");
                json.WriteNull("anomaly");
                return;
            }

            double score = detector.Score(targets[index], previous);
            json.WriteNumber("expected", previous);
            json.WriteNumber("score", score);
            json.WriteBoolean("anomaly", Math.Abs(score) > detector.Threshold);
        }
    }
}
