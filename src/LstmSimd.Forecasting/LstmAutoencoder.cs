using System.Text;
using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Training;

namespace LstmSimd.Forecasting;

/// <summary>
/// An LSTM encoder–decoder that reconstructs windows of a series (Malhotra, Ramakrishnan, Anand, Vig, Agarwal and Shroff,
/// "LSTM-based Encoder-Decoder for Multi-sensor Anomaly Detection", ICML 2016 anomaly detection workshop): the encoder reads
/// the window's <see cref="ForecastSettings.Window"/> rows of the input columns (z-scored on the training rows); its final
/// state starts the decoder, which gives the window back in reverse order through a linear head, reading at each step the
/// row it gave last (zeros at the first step). A window unlike those it was trained on comes back wrong: the reconstruction
/// error is the anomaly score. The point score of row t is the error of the target at t in the window ending at t (the
/// decoder's first output), so each row is scored as soon as it arrives. One caller at a time, like <see cref="LstmForecaster"/>.
/// </summary>
public sealed class LstmAutoencoder : IDisposable
{
    /// <summary>The <c>__metadata__</c> key of an autoencoder checkpoint.</summary>
    public const string MetadataKey = "reconstructor";

    /// <summary>The most windows one batched call encodes: bounds the scratch memory.</summary>
    private const int MaxBatch = 256;

    private readonly LstmModel _encoderModel, _decoderModel;
    private readonly LstmSession _encoder, _decoder;
    private readonly float[] _input, _encoded, _h, _c, _step, _hidden, _reconstructed;
    private readonly SingleCaller _caller;
    private readonly int _features, _target;

    /// <summary>An autoencoder from its parts (used as they are, not copied).</summary>
    /// <exception cref="ArgumentException">The parts do not fit together, or the target is not one of the input columns.</exception>
    public LstmAutoencoder(ForecastSettings settings, SeriesScaler scaler, LstmWeights encoder, LstmWeights decoder, LinearHead head)
    {
        CheckParts(settings, scaler, encoder, decoder, head);
        Settings = settings;
        Scaler = scaler;
        Encoder = encoder;
        Decoder = decoder;
        Head = head;
        _features = settings.InputColumns.Count;
        _target = settings.InputColumns.ToList().IndexOf(settings.TargetColumn);
        int hidden = encoder.Spec.HiddenSize;
        _encoderModel = LstmModel.Create(encoder);
        _decoderModel = LstmModel.Create(decoder);
        _encoder = _encoderModel.CreateSession(MaxBatch, settings.Window);
        _decoder = _decoderModel.CreateSession(MaxBatch, 1);
        _caller = new SingleCaller(this, "autoencoder");
        _input = new float[Sizes.Elements("windows batch × window × columns", MaxBatch, settings.Window, _features)];
        _encoded = new float[Sizes.Elements("encoder outputs batch × window × hidden", MaxBatch, settings.Window, hidden)];
        _h = new float[MaxBatch * hidden];
        _c = new float[MaxBatch * hidden];
        _step = new float[MaxBatch * _features];
        _hidden = new float[MaxBatch * hidden];
        _reconstructed = new float[Sizes.Elements("reconstructions batch × window × columns", MaxBatch, settings.Window, _features)];
    }

    /// <summary>The columns (<see cref="ForecastSettings.InputColumns"/>, which hold the target), window and split.</summary>
    public ForecastSettings Settings { get; }

    /// <summary>The z-scores of the columns, fitted on the training rows.</summary>
    public SeriesScaler Scaler { get; }

    /// <summary>The encoder LSTM (input columns → hidden).</summary>
    public LstmWeights Encoder { get; }

    /// <summary>The decoder LSTM (input columns → hidden), started from the encoder's final state.</summary>
    public LstmWeights Decoder { get; }

    /// <summary>The head: decoder output → one scaled row.</summary>
    public LinearHead Head { get; }

    /// <summary>
    /// Reconstructs the window of rows end − window + 1 … end of every input column, in time order, into
    /// <paramref name="destination"/> ([window, columns], in the columns' units), decoding each row from the one decoded
    /// after it as Malhotra et al. do at inference.
    /// </summary>
    public void Reconstruct(ForecastSeries series, int end, Span<double> destination)
    {
        CheckRow(series, end);
        int window = Settings.Window;
        if (destination.Length != window * _features) throw new ArgumentException($"The destination must hold window × columns = {window * _features} values.", nameof(destination));
        _caller.Enter();
        try
        {
            Scaler.FillInput(series.Inputs, end, window, _input.AsSpan(0, window * _features));
            Decode(1, window);
            for (int k = 0; k < window; k++)
                for (int col = 0; col < _features; col++)
                    destination[k * _features + col] = Unscale(col, _reconstructed[k * _features + col]);
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>
    /// The reconstruction of the target at every row t ≥ window − 1 from the window ending at t (in the target's units);
    /// NaN before. Windows are encoded in batches.
    /// </summary>
    public double[] Expected(ForecastSeries series)
    {
        ArgumentNullException.ThrowIfNull(series);
        CheckColumns(series);
        int window = Settings.Window, first = window - 1;
        var expected = new double[series.Length];
        Array.Fill(expected, double.NaN);
        _caller.Enter();
        try
        {
            for (int start = first; start < series.Length; start += MaxBatch)
            {
                int batch = Math.Min(MaxBatch, series.Length - start);
                for (int b = 0; b < batch; b++) Scaler.FillInput(series.Inputs, start + b, window, _input.AsSpan(b * window * _features, window * _features));
                Decode(batch, 1);
                for (int b = 0; b < batch; b++) expected[start + b] = Unscale(_target, _reconstructed[b * window * _features + (window - 1) * _features + _target]);
            }
        }
        finally
        {
            _caller.Exit();
        }

        return expected;
    }

    /// <summary>
    /// The reconstruction of the newest row's target from a window given as raw rows ([window, columns], oldest first, in
    /// the columns' units); allocation-free. For streams (see <see cref="ReconstructionStream"/>).
    /// </summary>
    public double ReconstructNewest(ReadOnlySpan<double> rows)
    {
        int window = Settings.Window;
        if (rows.Length != window * _features) throw new ArgumentException($"A window holds window × columns = {window * _features} values; got {rows.Length}.", nameof(rows));
        _caller.Enter();
        try
        {
            for (int k = 0; k < window; k++)
                for (int col = 0; col < _features; col++)
                    _input[k * _features + col] = (float)((rows[k * _features + col] - Scaler.Offsets[col]) / Scaler.Scales[col]);
            Decode(1, 1);
            return Unscale(_target, _reconstructed[(window - 1) * _features + _target]);
        }
        finally
        {
            _caller.Exit();
        }
    }

    /// <summary>
    /// Encodes the <paramref name="batch"/> scaled windows in <c>_input</c> and decodes the last <paramref name="rows"/> rows
    /// of each (newest first) into <c>_reconstructed</c> ([batch, window, columns], scaled, time order).
    /// </summary>
    private void Decode(int batch, int rows)
    {
        int window = Settings.Window, hidden = Encoder.Spec.HiddenSize;
        _encoder.Forward(_input.AsSpan(0, batch * window * _features), window, batch, _encoded.AsSpan(0, batch * window * hidden),
            _h.AsSpan(0, batch * hidden), _c.AsSpan(0, batch * hidden), layout: SequenceLayout.BatchFirst);
        _decoder.SetState(_h.AsSpan(0, batch * hidden), _c.AsSpan(0, batch * hidden), batch);
        Span<float> step = _step.AsSpan(0, batch * _features);
        step.Clear();
        for (int k = 0; k < rows; k++)
        {
            _decoder.Step(step, batch, _hidden.AsSpan(0, batch * hidden));
            Head.Apply(_hidden.AsSpan(0, batch * hidden), batch, step);
            int row = window - 1 - k;
            for (int b = 0; b < batch; b++) step.Slice(b * _features, _features).CopyTo(_reconstructed.AsSpan((b * window + row) * _features, _features));
        }
    }

    private double Unscale(int column, float scaled) => Scaler.Offsets[column] + scaled * Scaler.Scales[column];

    private void CheckRow(ForecastSeries series, int end)
    {
        ArgumentNullException.ThrowIfNull(series);
        CheckColumns(series);
        if (end < Settings.Window - 1 || end >= series.Length)
            throw new ArgumentOutOfRangeException(nameof(end), end, $"A window needs {Settings.Window} rows up to its end, inside the series' {series.Length}.");
    }

    private void CheckColumns(ForecastSeries series)
    {
        if (series.Inputs.Count != _features)
            throw new ArgumentException($"The autoencoder reads {_features} columns ({string.Join(", ", Settings.InputColumns)}); the series holds {series.Inputs.Count}.", nameof(series));
    }

    /// <summary>
    /// Writes a checkpoint (atomically): both LSTMs under PyTorch's names with prefixes <c>encoder.</c> and <c>decoder.</c>,
    /// the head as <c>head.weight</c> and <c>head.bias</c>, and the settings and scaling under <c>__metadata__.reconstructor</c>.
    /// </summary>
    public void Save(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        var writer = new SafetensorsWriter();
        foreach (Parameter p in Parameters(Encoder, Decoder, Head).Parameters) writer.Add(p.Name, p.Values, p.Values.Length);
        string? relative = Settings.Data is null ? null : Path.GetRelativePath(Path.GetDirectoryName(Path.GetFullPath(path))!, Settings.Data.Path);
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream))
        {
            w.WriteStartObject();
            w.WriteNumber("hidden_size", Encoder.Spec.HiddenSize);
            LstmForecaster.WriteSettings(w, Settings, relative);
            LstmForecaster.WriteScaler(w, Scaler);
            w.WriteEndObject();
        }

        writer.AddMetadata(MetadataKey, Encoding.UTF8.GetString(stream.ToArray())).Save(path);
    }

    /// <summary>Loads a checkpoint written by <see cref="Save"/>.</summary>
    /// <exception cref="ModelFormatException">The file is unreadable, not an autoencoder, or a tensor is missing, mis-sized or not finite.</exception>
    public static LstmAutoencoder Load(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        using SafetensorsFile file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(MetadataKey, out string? json))
            throw new ModelFormatException($"{path} is not an autoencoder checkpoint (no __metadata__.{MetadataKey}).");
        ForecastSettings settings;
        SeriesScaler scaler;
        int hidden;
        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            JsonElement root = document.RootElement;
            hidden = LstmForecaster.Property(root, "hidden_size").GetInt32();
            if (hidden is < 1 or > 1 << 14) throw new ArgumentException($"hidden_size {hidden} is outside [1, 16384].");
            settings = LstmForecaster.ReadSettings(root, Path.GetDirectoryName(Path.GetFullPath(path))!);
            scaler = LstmForecaster.ReadScaler(root, settings.Normalization);
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or ArgumentException or FormatException)
        {
            throw new ModelFormatException($"{path}: __metadata__.{MetadataKey} is malformed: {e.Message}", e);
        }

        int columns = settings.InputColumns.Count;
        var spec = new LstmSpec(columns, hidden);
        LstmWeights encoder = LstmWeights.CreateZero(spec), decoder = LstmWeights.CreateZero(spec);
        var head = new LinearHead(hidden, columns, new float[hidden * columns], new float[columns]);
        foreach (Parameter p in Parameters(encoder, decoder, head).Parameters)
        {
            if (!file.TryGetTensor(p.Name, out SafetensorsTensorInfo? tensor)) throw new ModelFormatException($"{path}: the autoencoder's tensor {p.Name} is missing.");
            if (tensor.ElementCount != p.Values.Length) throw new ModelFormatException($"{path}: {p.Name} holds {tensor.ElementCount} values; the settings make it {p.Values.Length}.");
            file.ReadSingles(tensor, p.Values);
            foreach (float v in p.Values)
                if (!float.IsFinite(v)) throw new ModelFormatException($"{path}: {p.Name} holds a non-finite value.");
        }

        try
        {
            return new LstmAutoencoder(settings, scaler, encoder, decoder, head);
        }
        catch (ArgumentException e)
        {
            throw new ModelFormatException($"{path}: {e.Message}", e);
        }
    }

    /// <summary>Every tensor under its checkpoint name (the gradients are throwaway zeros).</summary>
    internal static ParameterSet Parameters(LstmWeights encoder, LstmWeights decoder, LinearHead head)
    {
        var set = new ParameterSet();
        set.Add(encoder, LstmWeights.CreateZero(encoder.Spec), "encoder.");
        set.Add(decoder, LstmWeights.CreateZero(decoder.Spec), "decoder.");
        new TrainableLinearHead(head.InputSize, head.OutputSize, head.Weight, head.Bias).AddTo(set, "head.");
        return set;
    }

    private static void CheckParts(ForecastSettings settings, SeriesScaler scaler, LstmWeights encoder, LstmWeights decoder, LinearHead head)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(scaler);
        ArgumentNullException.ThrowIfNull(encoder);
        ArgumentNullException.ThrowIfNull(decoder);
        ArgumentNullException.ThrowIfNull(head);
        int columns = settings.InputColumns.Count;
        if (!settings.InputColumns.Contains(settings.TargetColumn))
            throw new ArgumentException($"The autoencoder scores the target by reconstructing it: {UserText.Quote(settings.TargetColumn)} must be one of the input columns ({string.Join(", ", settings.InputColumns)}).");
        if (settings.Normalization != SeriesNormalization.ZScore)
            throw new ArgumentException($"The autoencoder's columns are z-scored (a window scaled by its own last value would give that value away); got {settings.Normalization}.");
        if (encoder.Spec != new LstmSpec(columns, encoder.Spec.HiddenSize) || decoder.Spec != encoder.Spec)
            throw new ArgumentException($"The encoder and decoder must both be one-layer, one-direction LSTMs {columns} → H with the same H; got {encoder.Spec} and {decoder.Spec}.");
        if (head.InputSize != encoder.Spec.HiddenSize || head.OutputSize != columns)
            throw new ArgumentException($"The head maps {head.InputSize} → {head.OutputSize}; expected hidden {encoder.Spec.HiddenSize} → {columns} columns.");
        if (scaler.Scales.Count != columns + 1)
            throw new ArgumentException("The scaler needs one column per input and one for the target.");
    }

    /// <summary>Disposes both sessions; later calls throw <see cref="ObjectDisposedException"/>.</summary>
    public void Dispose()
    {
        if (!_caller.TryDispose()) return;
        _encoder.Dispose();
        _decoder.Dispose();
    }
}
