using System.Text;
using System.Text.Json;
using LstmSimd.IO;

namespace LstmSimd.Forecasting;

/// <summary>
/// An LSTM that reads a window of scaled inputs and predicts the scaled target for each step of the horizon
/// through a linear head (direct multi-step forecasting), running on the fast path. One caller at a time (it owns one session and its buffers): a <see cref="Predict"/> made
/// while another is running throws <see cref="InvalidOperationException"/>; create one forecaster per thread.
/// </summary>
public sealed class LstmForecaster : IDisposable
{
    /// <summary>The <c>__metadata__</c> key of a forecaster checkpoint.</summary>
    public const string MetadataKey = "forecaster";

    private readonly LstmSession _session;
    private readonly float[] _past, _input, _output, _prediction;
    private readonly int _steps;
    private readonly SingleCaller _caller;

    /// <summary>
    /// Builds a forecaster; the weights and head are used as they are (not copied). <paramref name="options"/> sets how
    /// the packed model runs them: kernel, threads and <see cref="LstmModelOptions.Weights"/> (default: fp32).
    /// <paramref name="knownFuture"/> holds the covariates' scaling when the settings name covariates or calendar inputs
    /// (null: <see cref="KnownFutureInputs.None"/>).
    /// </summary>
    public LstmForecaster(ForecastSettings settings, SeriesScaler scaler, LstmWeights weights, LinearHead head, LstmModelOptions? options = null, KnownFutureInputs? knownFuture = null)
    {
        knownFuture ??= KnownFutureInputs.None;
        CheckParts(settings, scaler, weights, head, knownFuture);
        KnownFuture = knownFuture;
        Settings = settings;
        Scaler = scaler;
        Weights = weights;
        Head = head;
        ModelOptions = options ?? new LstmModelOptions();
        Model = LstmModel.Create(weights, ModelOptions);
        _caller = new SingleCaller(this, "forecaster");
        _steps = knownFuture.Steps(settings);
        _session = Model.CreateSession(1, _steps);
        _past = new float[Sizes.Elements("window × input columns", settings.Window, settings.InputColumns.Count)];
        _input = knownFuture.Width == 0 ? _past : new float[Sizes.Elements("steps × inputs", _steps, weights.Spec.InputSize)];
        _output = new float[Sizes.Elements("steps × D·H_out", _steps, weights.Spec.OutputSize)];
        _prediction = new float[settings.Horizon];
    }

    /// <summary>Columns, window, horizon, scaling and split.</summary>
    public ForecastSettings Settings { get; }

    /// <summary>The scaling fitted on the training rows.</summary>
    public SeriesScaler Scaler { get; }

    /// <summary>The known-future covariates and calendar inputs the LSTM reads at each step (<see cref="KnownFutureInputs.None"/>: the window alone).</summary>
    public KnownFutureInputs KnownFuture { get; }

    /// <summary>The LSTM's parameters.</summary>
    public LstmWeights Weights { get; }

    /// <summary>The head: LSTM output at the window's last step → one scaled value per step ahead.</summary>
    public LinearHead Head { get; }

    /// <summary>How <see cref="Model"/> was packed: kernel, threads and weight format.</summary>
    public LstmModelOptions ModelOptions { get; }

    /// <summary>The packed fast-path model.</summary>
    public LstmModel Model { get; }

    /// <summary>
    /// A forecaster with the same settings, scaler, weights and head (shared, not copied) whose model stores its weight
    /// matrices in <paramref name="format"/>: the trained fp32 weights are rounded when it is packed. It owns its own
    /// session; dispose it separately.
    /// </summary>
    public LstmForecaster WithWeightFormat(WeightFormat format) => new(Settings, Scaler, Weights, Head, ModelOptions with { Weights = format }, KnownFuture);

    /// <summary>
    /// Forecasts rows origin + 1 … origin + horizon of the target from the window ending at row <paramref name="origin"/>
    /// (and, with known-future covariates, their values on those rows: the series must hold them).
    /// </summary>
    public void Predict(ForecastSeries series, int origin, Span<double> destination)
    {
        ArgumentNullException.ThrowIfNull(series);
        if (origin < Settings.Window - 1 || origin >= series.Length)
            throw new ArgumentOutOfRangeException(nameof(origin), origin, $"A forecast needs {Settings.Window} rows up to its origin.");
        if (destination.Length != Settings.Horizon) throw new ArgumentException($"The destination must hold the horizon, {Settings.Horizon} values.", nameof(destination));
        _caller.Enter();
        try
        {
            Scaler.FillInput(series.Inputs, origin, Settings.Window, _past);
            if (KnownFuture.Width > 0)
            {
                KnownFuture.Check(series);
                KnownFuture.Fill(series, origin, Settings.Window, Settings.Horizon, _past, Settings.InputColumns.Count, _input);
            }

            _session.Forward(_input, _steps, 1, _output);
            int features = Weights.Spec.OutputSize;
            Head.Apply(_output.AsSpan((_steps - 1) * features, features), 1, _prediction);
            Scaler.Unscale(_prediction, series.Target, origin, destination);
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>
    /// Whether the forecast past the data's end (from its last row) can be made: not when the LSTM reads known-future
    /// covariates, whose values after the last row the series does not hold.
    /// </summary>
    public bool CanForecastPastEnd => KnownFuture.Covariates.Count == 0;

    /// <summary>This forecaster as a <see cref="ForecastMethod"/> over <paramref name="series"/>.</summary>
    public ForecastMethod AsMethod(ForecastSeries series) => (_, origin, destination) => Predict(series, origin, destination);

    /// <summary>
    /// Writes a checkpoint: the model file with the settings and scaler under <c>__metadata__.forecaster</c>. The data
    /// source (<see cref="ForecastSettings.Data"/>) is kept by its absolute path and by its path relative to the
    /// checkpoint, so a folder holding both can move.
    /// </summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        string? relative = Settings.Data is null ? null : Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(path))!, Settings.Data.Path);
        LstmModelFile.Save(path, Weights, Head, MetadataKey, SettingsToJson(Settings, Scaler, relative, KnownFuture));
    }

    /// <summary>Loads a checkpoint written by <see cref="Save"/>; <paramref name="options"/> as in the constructor.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable or not a forecaster.</exception>
    public static LstmForecaster Load(string path, LstmModelOptions? options = null)
    {
        (ImportedLstm model, string json) = LstmModelFile.Load(path, MetadataKey, "forecaster");
        (ForecastSettings Settings, SeriesScaler Scaler, KnownFutureInputs KnownFuture) parts;
        try
        {
            parts = SettingsFromJson(json, Path.GetDirectoryName(Path.GetFullPath(path))!);
            CheckParts(parts.Settings, parts.Scaler, model.Weights, model.Head!, parts.KnownFuture);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ModelFormatException($"{path}: __metadata__.forecaster is malformed: {e.Message}", e);
        }

        // Outside the try: a weight the chosen format cannot hold is the options' fault, not the file's.
        return new LstmForecaster(parts.Settings, parts.Scaler, model.Weights, model.Head!, options, parts.KnownFuture);
    }

    /// <summary>The remembered file: beside the checkpoint (by its relative path) when a file is there, else at its absolute path.</summary>
    private static ForecastDataSource DataSourceFromJson(JsonElement data, string checkpointDirectory)
    {
        string absolute = Property(data, "path").GetString()!;
        string? relative = Property(data, "relative_path").GetString();
        string besideCheckpoint = relative is null ? absolute : Path.GetFullPath(Path.Combine(checkpointDirectory, relative));
        return new ForecastDataSource(File.Exists(besideCheckpoint) ? besideCheckpoint : absolute, Property(data, "sha256").GetString()!,
            Property(data, "rows").GetInt32(), Property(data, "frequency").GetString()!);
    }

    private static void CheckParts(ForecastSettings settings, SeriesScaler scaler, LstmWeights weights, LinearHead head, KnownFutureInputs knownFuture)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(scaler);
        ArgumentNullException.ThrowIfNull(weights);
        ArgumentNullException.ThrowIfNull(head);
        if (!knownFuture.Covariates.SequenceEqual(settings.Covariates) || knownFuture.Calendar != settings.Calendar)
            throw new ArgumentException("The known-future inputs name other covariates or calendar inputs than the settings.");
        if (weights.Spec.InputSize != settings.InputColumns.Count + knownFuture.Width)
            throw new ArgumentException($"The LSTM takes {weights.Spec.InputSize} inputs; the settings name {settings.InputColumns.Count} columns{(knownFuture.Width == 0 ? "" : $" and {knownFuture.Width} known-future inputs")}.");
        if (head.OutputSize != settings.Horizon || head.InputSize != weights.Spec.OutputSize)
            throw new ArgumentException($"The head maps {head.InputSize} → {head.OutputSize}; expected {weights.Spec.OutputSize} → horizon {settings.Horizon}.");
        if (scaler.Scales.Count != settings.InputColumns.Count + 1)
            throw new ArgumentException("The scaler needs one column per input and one for the target.");
    }

    /// <summary>Disposes the session; a <see cref="Predict"/> running on another thread is waited for, later ones throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (_caller.TryDispose()) _session.Dispose();
    }

    internal static string SettingsToJson(ForecastSettings s, SeriesScaler scaler, string? relativeDataPath, KnownFutureInputs knownFuture)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            WriteSettings(w, s, relativeDataPath);
            WriteScaler(w, scaler);
            knownFuture.Write(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>The settings' properties (columns, shapes, split, missing-value rule, data source) into the open JSON object.</summary>
    internal static void WriteSettings(Utf8JsonWriter w, ForecastSettings s, string? relativeDataPath)
    {
        w.WriteString("time", s.TimeColumn);
        w.WriteStartArray("inputs");
        foreach (string c in s.InputColumns) w.WriteStringValue(c);
        w.WriteEndArray();
        w.WriteString("target", s.TargetColumn);
        w.WriteNumber("window", s.Window);
        w.WriteNumber("horizon", s.Horizon);
        w.WriteString("normalization", s.Normalization.ToString());
        w.WriteNumber("season", s.SeasonLength);
        w.WriteNumber("max_gap", s.MaxGap);
        if (s.TestFrom is null) w.WriteNull("test_from");
        else w.WriteString("test_from", s.TestFrom);
        w.WriteNumber("test_fraction", s.TestFraction);
        w.WriteNumber("validation_fraction", s.ValidationFraction);
        if (s.Covariates.Count > 0)
        {
            w.WriteStartArray("covariates");
            foreach (string c in s.Covariates) w.WriteStringValue(c);
            w.WriteEndArray();
        }

        if (s.Calendar != CalendarFeatures.None) w.WriteString("calendar", s.Calendar.ToString());
        if (s.Data is { } data)
        {
            w.WriteStartObject("data");
            w.WriteString("path", data.Path);
            w.WriteString("relative_path", relativeDataPath);
            w.WriteString("sha256", data.Sha256);
            w.WriteNumber("rows", data.Rows);
            w.WriteString("frequency", data.Frequency);
            w.WriteEndObject();
        }
    }

    /// <summary>A scaler's offsets and scales into the open JSON object.</summary>
    internal static void WriteScaler(Utf8JsonWriter w, SeriesScaler scaler)
    {
        w.WriteStartArray("offsets");
        foreach (double v in scaler.Offsets) w.WriteNumberValue(v);
        w.WriteEndArray();
        w.WriteStartArray("scales");
        foreach (double v in scaler.Scales) w.WriteNumberValue(v);
        w.WriteEndArray();
    }

    internal static (ForecastSettings Settings, SeriesScaler Scaler, KnownFutureInputs KnownFuture) SettingsFromJson(string json, string checkpointDirectory)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        ForecastSettings settings = ReadSettings(root, checkpointDirectory);
        return (settings, ReadScaler(root, settings.Normalization), KnownFutureInputs.Read(root, settings));
    }

    /// <summary>The settings <see cref="WriteSettings"/> wrote, checked.</summary>
    internal static ForecastSettings ReadSettings(JsonElement root, string checkpointDirectory)
    {
        JsonElement testFrom = Property(root, "test_from");
        var settings = new ForecastSettings
        {
            TimeColumn = Property(root, "time").GetString()!,
            InputColumns = [.. Property(root, "inputs").EnumerateArray().Select(e => e.GetString()!)],
            TargetColumn = Property(root, "target").GetString()!,
            Window = Property(root, "window").GetInt32(),
            Horizon = Property(root, "horizon").GetInt32(),
            Normalization = Enum.Parse<SeriesNormalization>(Property(root, "normalization").GetString()!),
            SeasonLength = Property(root, "season").GetInt32(),
            MaxGap = root.TryGetProperty("max_gap", out JsonElement maxGap) ? maxGap.GetInt32() : 0, // earlier checkpoints filled nothing
            TestFrom = testFrom.ValueKind == JsonValueKind.Null ? null : testFrom.GetString(),
            TestFraction = Property(root, "test_fraction").GetDouble(),
            ValidationFraction = Property(root, "validation_fraction").GetDouble(),
            Data = root.TryGetProperty("data", out JsonElement data) ? DataSourceFromJson(data, checkpointDirectory) : null,
            Covariates = root.TryGetProperty("covariates", out JsonElement covariates) ? [.. covariates.EnumerateArray().Select(e => e.GetString()!)] : [],
            Calendar = root.TryGetProperty("calendar", out JsonElement calendar) ? CalendarEncoding.Parse(calendar.GetString()!) : CalendarFeatures.None,
        };
        settings.Validate();
        return settings;
    }

    /// <summary>The scaler <see cref="WriteScaler"/> wrote.</summary>
    internal static SeriesScaler ReadScaler(JsonElement root, SeriesNormalization normalization) =>
        new(normalization, [.. Property(root, "offsets").EnumerateArray().Select(e => e.GetDouble())], [.. Property(root, "scales").EnumerateArray().Select(e => e.GetDouble())]);

    /// <summary>A checkpoint entry's property; a missing one is a <see cref="FormatException"/> that names it.</summary>
    internal static JsonElement Property(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) ? value : throw new FormatException($"{UserText.Quote(name)} is missing");
}
