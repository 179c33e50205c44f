using System.Globalization;
using System.Text;
using System.Text.Json;
using LstmSimd.IO;

namespace LstmSimd.Forecasting;

/// <summary>
/// A saved <see cref="GlobalForecaster"/>: an LstmSimd model file (the shared LSTM and head) whose
/// <c>__metadata__.global_forecaster</c> entry holds the kind, the shared settings with the training data's source
/// (path, SHA-256, rows, frequency, as a single forecaster's checkpoint remembers it), the series' names and each
/// series' scaler or fitted smoothing model, and each series' prediction intervals when they were calibrated (format
/// version 2; a version 1 file, written before intervals were kept, is read without them). Saving is atomic (a temporary file beside the target, renamed), so an
/// interrupted save leaves the previous file whole; reading refuses a malformed file with a message naming the problem.
/// </summary>
/// <param name="Kind">What the LSTM reads of each series.</param>
/// <param name="Settings">Window, horizon, season, split, missing-value rule and data source, shared by every series; the target column is the first series' (a wide file) or the value column (a long one).</param>
/// <param name="SeriesNames">The series in order: the columns of a wide file, or the groups of a long one.</param>
/// <param name="LongColumn">The column naming each row's series in a long-format file; null for a wide file (each series its own column).</param>
/// <param name="Encodings">Each series' scaler or smoothing model, as <see cref="GlobalForecaster.Encoding"/> gave it.</param>
/// <param name="Weights">The shared LSTM.</param>
/// <param name="Head">The head.</param>
/// <param name="Intervals">Each series' prediction intervals as calibrated before saving (<see cref="GlobalForecastIntervals.Calibrate"/>); null when none were saved.</param>
public sealed record GlobalForecasterCheckpoint(GlobalModelKind Kind, ForecastSettings Settings, IReadOnlyList<string> SeriesNames, string? LongColumn,
    IReadOnlyList<GlobalSeriesEncoding> Encodings, LstmWeights Weights, LinearHead Head, IReadOnlyList<ForecastIntervals>? Intervals = null)
{
    /// <summary>The <c>__metadata__</c> key of a global forecaster checkpoint.</summary>
    public const string MetadataKey = "global_forecaster";

    /// <summary>The format version <see cref="Save"/> writes: 2, which added the prediction intervals (a file without a version is version 1).</summary>
    public const int FormatVersion = 2;

    /// <summary>The column series <paramref name="index"/> reads: its name in a wide file, the value column in a long one.</summary>
    public string Column(int index) => LongColumn is null ? SeriesNames[index] : Settings.TargetColumn;

    /// <summary>The forecaster over <paramref name="series"/> (read from the data as <see cref="SeriesNames"/> and <see cref="Column"/> say, in that order).</summary>
    /// <exception cref="ArgumentException">Another count of series, or a series the smoothing cannot run over.</exception>
    public GlobalForecaster Create(IReadOnlyList<ForecastSeries> series) => GlobalForecaster.Create(series, Settings, Kind, Encodings, Weights, Head, KnownFuture);

    /// <summary>The known-future covariates' scaling and calendar inputs the LSTM reads (<see cref="KnownFutureInputs.None"/>: none).</summary>
    public KnownFutureInputs KnownFuture { get; init; } = KnownFutureInputs.None;

    /// <summary>
    /// Writes <paramref name="forecaster"/> to <paramref name="path"/>, its series named <paramref name="seriesNames"/>
    /// (see <see cref="SeriesNames"/> and <see cref="LongColumn"/>), with each series' <paramref name="intervals"/> when given.
    /// </summary>
    /// <exception cref="ArgumentException">Another count of names or intervals than series, or intervals of another horizon.</exception>
    public static void Save(string path, GlobalForecaster forecaster, IReadOnlyList<string> seriesNames, string? longColumn = null, IReadOnlyList<ForecastIntervals>? intervals = null)
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(forecaster);
        ArgumentNullException.ThrowIfNull(seriesNames);
        if (seriesNames.Count != forecaster.Series.Count)
            throw new ArgumentException($"{seriesNames.Count} names for {forecaster.Series.Count} series.", nameof(seriesNames));
        if (intervals is not null && (intervals.Count != forecaster.Series.Count || intervals.Any(i => i.Lower.Count != forecaster.Settings.Horizon)))
            throw new ArgumentException($"Intervals are saved one per series ({forecaster.Series.Count}), each over the horizon ({forecaster.Settings.Horizon} steps).", nameof(intervals));
        ForecastSettings settings = forecaster.Settings;
        string? relative = settings.Data is null ? null : System.IO.Path.GetRelativePath(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!, settings.Data.Path);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("version", FormatVersion);
            w.WriteString("kind", forecaster.Kind.ToString());
            w.WriteStartObject("settings");
            LstmForecaster.WriteSettings(w, settings, relative);
            w.WriteEndObject();
            if (longColumn is null) w.WriteNull("long");
            else w.WriteString("long", longColumn);
            w.WriteStartArray("series");
            for (int k = 0; k < seriesNames.Count; k++)
            {
                GlobalSeriesEncoding encoding = forecaster.Encoding(k);
                w.WriteStartObject();
                w.WriteString("name", seriesNames[k]);
                w.WriteNumber("scale", encoding.Scale);
                if (encoding.Scaler is { } scaler)
                {
                    w.WriteStartObject("scaler");
                    LstmForecaster.WriteScaler(w, scaler);
                    w.WriteEndObject();
                }

                if (encoding.Smoothing is { } model)
                {
                    w.WriteStartObject("smoothing");
                    w.WriteString("trend", model.Trend.ToString());
                    w.WriteNumber("season", model.SeasonLength);
                    w.WriteNumber("alpha", model.Alpha);
                    w.WriteNumber("beta", model.Beta);
                    w.WriteNumber("gamma", model.Gamma);
                    w.WriteNumber("phi", model.Phi);
                    w.WriteNumber("level", model.InitialLevel);
                    w.WriteNumber("slope", model.InitialTrend);
                    w.WriteStartArray("initial_season");
                    foreach (double v in model.InitialSeason) w.WriteNumberValue(v);
                    w.WriteEndArray();
                    w.WriteEndObject();
                }

                if (intervals is not null) SavedIntervals.Write(w, intervals[k]);
                w.WriteEndObject();
            }

            w.WriteEndArray();
            forecaster.KnownFuture.Write(w);
            w.WriteEndObject();
        }

        LstmModelFile.Save(path, forecaster.Weights, forecaster.Head, MetadataKey, Encoding.UTF8.GetString(stream.ToArray()));
    }

    /// <summary>Reads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable (truncated, say), not a global forecaster, or its entry is malformed (the message names what is wrong).</exception>
    public static GlobalForecasterCheckpoint Read(string path)
    {
        (ImportedLstm model, string json) = LstmModelFile.Load(path, MetadataKey, "global forecaster");
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            int version = root.TryGetProperty("version", out JsonElement v) ? v.GetInt32() : 1;
            if (version is < 1 or > FormatVersion)
                throw new FormatException($"it is format version {version}; this build reads versions 1 to {FormatVersion} (a newer LstmSimd wrote it)");
            string kindName = LstmForecaster.Property(root, "kind").GetString()!;
            if (!Enum.TryParse(kindName, out GlobalModelKind kind) || !Enum.IsDefined(kind) || int.TryParse(kindName, CultureInfo.InvariantCulture, out _))
                throw new FormatException($"unknown kind {UserText.Quote(kindName)}; the kinds are {string.Join(", ", Enum.GetNames<GlobalModelKind>())}");
            ForecastSettings settings = LstmForecaster.ReadSettings(LstmForecaster.Property(root, "settings"), System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path))!);
            JsonElement longColumn = LstmForecaster.Property(root, "long");
            var names = new List<string>();
            var encodings = new List<GlobalSeriesEncoding>();
            var intervals = new List<ForecastIntervals>();
            foreach (JsonElement entry in LstmForecaster.Property(root, "series").EnumerateArray())
            {
                names.Add(LstmForecaster.Property(entry, "name").GetString()!);
                encodings.Add(ReadEncoding(kind, settings, entry, names.Count - 1));
                if (version >= 2 && entry.TryGetProperty("intervals", out JsonElement saved)) intervals.Add(SavedIntervals.Read(saved, settings.Horizon, names.Count - 1));
            }

            if (intervals.Count != 0 && intervals.Count != names.Count) throw new FormatException($"{intervals.Count} of the {names.Count} series have intervals; either all or none do");

            if (names.Count == 0) throw new FormatException("it names no series");
            KnownFutureInputs knownFuture = KnownFutureInputs.Read(root, settings);
            if (model.Weights.Spec.InputSize != 1 + knownFuture.Width)
                throw new FormatException($"the LSTM reads {model.Weights.Spec.InputSize} values per step; this global model's reads {1 + knownFuture.Width}");
            if (model.Head!.InputSize != model.Weights.Spec.OutputSize || model.Head.OutputSize != settings.Horizon)
                throw new FormatException($"the head maps {model.Head.InputSize} → {model.Head.OutputSize}; the LSTM's {model.Weights.Spec.OutputSize} outputs → the horizon, {settings.Horizon}, is needed");
            return new GlobalForecasterCheckpoint(kind, settings, names, longColumn.ValueKind == JsonValueKind.Null ? null : longColumn.GetString(), encodings, model.Weights, model.Head,
                intervals.Count == 0 ? null : intervals)
            {
                KnownFuture = knownFuture,
            };
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ModelFormatException($"{path}: __metadata__.{MetadataKey} is malformed: {e.Message}", e);
        }
    }

    private static GlobalSeriesEncoding ReadEncoding(GlobalModelKind kind, ForecastSettings settings, JsonElement entry, int index)
    {
        double scale = LstmForecaster.Property(entry, "scale").GetDouble();
        if (kind == GlobalModelKind.ScaledPerSeries)
        {
            if (!entry.TryGetProperty("scaler", out JsonElement scaler)) throw new FormatException($"series {index} has no scaler; a {kind} model scales each series");
            return new GlobalSeriesEncoding(LstmForecaster.ReadScaler(scaler, settings.Normalization), null, 1);
        }

        if (!entry.TryGetProperty("smoothing", out JsonElement s)) throw new FormatException($"series {index} has no smoothing model; a {kind} model smooths each series");
        if (!(scale > 0) || !double.IsFinite(scale)) throw new FormatException($"series {index}'s scale is {scale}; it must be positive and finite");
        string trendName = LstmForecaster.Property(s, "trend").GetString()!;
        if (!Enum.TryParse(trendName, out EtsTrend trend) || !Enum.IsDefined(trend) || int.TryParse(trendName, CultureInfo.InvariantCulture, out _))
            throw new FormatException($"series {index}'s smoothing has an unknown trend {UserText.Quote(trendName)}");
        if (kind != GlobalModelKind.EtsCorrection && trend != EtsTrend.None) throw new FormatException($"series {index}'s smoothing has a trend; a {kind} model leaves the trend to the LSTM");
        int season = LstmForecaster.Property(s, "season").GetInt32();
        if (season != settings.SeasonLength && season != 1)
            throw new FormatException($"series {index}'s smoothing has a season of {season}; the settings' is {settings.SeasonLength}");
        var model = new EtsModel(trend, season, LstmForecaster.Property(s, "alpha").GetDouble(), LstmForecaster.Property(s, "beta").GetDouble(), LstmForecaster.Property(s, "gamma").GetDouble(),
            LstmForecaster.Property(s, "phi").GetDouble(), LstmForecaster.Property(s, "level").GetDouble(), LstmForecaster.Property(s, "slope").GetDouble(),
            [.. LstmForecaster.Property(s, "initial_season").EnumerateArray().Select(e => e.GetDouble())]);
        return new GlobalSeriesEncoding(null, model, scale);
    }
}
