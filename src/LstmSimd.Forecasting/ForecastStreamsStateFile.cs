using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace LstmSimd.Forecasting;

/// <summary>
/// The saved state of <see cref="ForecastStreams{TKey}"/>: every stream's key, latest rows and pending one-step forecast,
/// tied to the forecaster by a SHA-256 of what its forecasts depend on (<see cref="IdentityOf"/>) and its weight format.
/// Little-endian: a header (magic "LSTMFCST", version, key kind, weight format, identity, window, columns, horizon, stream
/// count, total length), then per stream the key (int32, int64, 16-byte Guid, or u16 length + UTF-8), the rows held
/// (int32), the pending forecast (float64, NaN for none) and the rows [held, columns] as float64, oldest first; then a
/// SHA-256 of everything before it. Reading checks it whole before anything is applied.
/// </summary>
internal static class ForecastStreamsStateFile
{
    public const int Version = 1;
    private const int IdentityLength = 32;
    private const int HeaderLength = 8 + 4 + 1 + 1 + 2 + IdentityLength + 4 * 4 + 8;
    private const int ChecksumLength = SavedStateBody.ChecksumLength;
        private static ReadOnlySpan<byte> Magic => "LSTMFCST"u8;

    /// <summary>One stream: its key, its rows [held, columns] oldest first, and its pending one-step forecast.</summary>
    public sealed record SavedStream(object Key, double[] Rows, double Expected);

    public static void Write(Stream destination, LstmForecaster forecaster, int columns, SavedStreamKeys.Kind kind, IReadOnlyList<SavedStream> streams)
    {
        using var buffer = new MemoryStream();
        buffer.Write(new byte[HeaderLength]); // filled in once the length is known
        Span<byte> field = stackalloc byte[16];
        foreach (SavedStream stream in streams)
        {
            SavedStreamKeys.Write(buffer, kind, stream.Key, field);
            BinaryPrimitives.WriteInt32LittleEndian(field, stream.Rows.Length / columns);
            buffer.Write(field[..4]);
            BinaryPrimitives.WriteDoubleLittleEndian(field, stream.Expected);
            buffer.Write(field[..8]);
            foreach (double value in stream.Rows)
            {
                BinaryPrimitives.WriteDoubleLittleEndian(field, value);
                buffer.Write(field[..8]);
            }
        }

        byte[] bytes = buffer.GetBuffer();
        int length = checked((int)buffer.Length);
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), Version);
        bytes[12] = (byte)kind;
        bytes[13] = (byte)forecaster.Model.WeightFormat;
        IdentityOf(forecaster).CopyTo(bytes.AsSpan(16));
        int at = 16 + IdentityLength;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), forecaster.Settings.Window);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at + 4), columns);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at + 8), forecaster.Settings.Horizon);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at + 12), streams.Count);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at + 16), length + ChecksumLength);
        destination.Write(bytes, 0, length);
        destination.Write(SHA256.HashData(bytes.AsSpan(0, length)));
        destination.Flush();
    }

    /// <summary>Reads and checks a state saved for <paramref name="forecaster"/> with keys of <paramref name="kind"/>, at most <paramref name="maxCount"/> streams.</summary>
    /// <exception cref="InvalidDataException">The data is not such a state, is truncated or corrupted, or was saved for another forecaster, weight format, kind of key or a larger capacity (the message says which).</exception>
    public static SavedStream[] Read(Stream source, LstmForecaster forecaster, int columns, SavedStreamKeys.Kind kind, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(source);
        int window = forecaster.Settings.Window;
        byte[] header = new byte[HeaderLength];
        int got = source.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false);
        if (got < Magic.Length || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException("Not a saved state of forecast streams: it does not start with LSTMFCST.");
        if (got < HeaderLength) throw new InvalidDataException($"The state is truncated: {got} bytes, shorter than its {HeaderLength}-byte header.");
        int version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
        if (version != Version) throw new InvalidDataException($"The state has format version {version}; this library reads version {Version}.");
        int at = 16 + IdentityLength;
        int count = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(at + 12));
        long total = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(at + 16));
        long longestRecord = SavedStreamKeys.LongestBytes(kind) + 4 + 8 + 8L * window * columns;
        byte[] bytes = SavedStateBody.Read(source, header, total, count, longestRecord);
        int body = (int)total - ChecksumLength;

        byte[] identity = IdentityOf(forecaster);
        if (!bytes.AsSpan(16, IdentityLength).SequenceEqual(identity))
            throw new InvalidDataException($"The state was saved for another forecaster (settings, scaling, weights and head hash {Convert.ToHexStringLower(bytes, 16, 8)}…; this one's is {Convert.ToHexStringLower(identity, 0, 8)}…).");
        var format = (WeightFormat)bytes[13];
        if (format != forecaster.Model.WeightFormat)
            throw new InvalidDataException($"The state was saved by this forecaster with its weights stored as {format}; this one stores them as {forecaster.Model.WeightFormat}, whose forecasts round differently: load it with {format} weights to continue.");
        var savedKind = (SavedStreamKeys.Kind)bytes[12];
        if (savedKind != kind) throw new InvalidDataException($"The state holds {SavedStreamKeys.Describe(savedKind)}; these streams take {SavedStreamKeys.Describe(kind)}.");
        if (count > maxCount) throw new InvalidDataException($"The state holds {count} streams, more than the capacity of {maxCount}.");

        var streams = new SavedStream[count];
        var seen = new HashSet<object>();
        int offset = HeaderLength;
        for (int i = 0; i < count; i++)
        {
            object key = SavedStreamKeys.Read(bytes, body, ref offset, kind, i);
            if (!seen.Add(key)) throw new InvalidDataException($"The state is corrupted: stream {i}'s key '{key}' appears twice.");
            SavedStreamKeys.Need(body, offset, 12, i);
            int held = BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(offset));
            double expected = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(offset + 4));
            offset += 12;
            if (held < 0 || held > window) throw new InvalidDataException($"The state is corrupted: stream {i} holds {held} rows; the window is {window}.");
            if (double.IsInfinity(expected)) throw new InvalidDataException($"The state is corrupted: stream {i}'s pending forecast is {expected}.");
            double[] rows = new double[held * columns];
            SavedStreamKeys.Need(body, offset, 8 * rows.Length, i);
            for (int v = 0; v < rows.Length; v++)
            {
                rows[v] = BinaryPrimitives.ReadDoubleLittleEndian(bytes.AsSpan(offset + 8 * v));
                if (!double.IsFinite(rows[v])) throw new InvalidDataException($"The state is corrupted: stream {i} holds a value of {rows[v]}.");
            }

            offset += 8 * rows.Length;
            streams[i] = new SavedStream(key, rows, expected);
        }

        if (offset != body) throw new InvalidDataException($"The state is corrupted: {body - offset} bytes follow its last stream.");
        return streams;
    }

    /// <summary>
    /// A SHA-256 of everything a forecast depends on: the settings that shape a window and its forecast (columns, window,
    /// horizon, scaling), the scaler's numbers, the LSTM's spec and every weight as created (before any packing), and the
    /// head. Equal for the same forecaster loaded on any machine; the weight format is recorded beside it.
    /// </summary>
    public static byte[] IdentityOf(LstmForecaster forecaster)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        byte[] field = new byte[8];
        void Long(long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(field, value);
            hash.AppendData(field);
        }

        void Text(string value)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(value);
            Long(utf8.Length);
            hash.AppendData(utf8);
        }

        void Doubles(IReadOnlyList<double> values)
        {
            Long(values.Count);
            foreach (double v in values) Long(BitConverter.DoubleToInt64Bits(v));
        }

        void Floats(float[] values)
        {
            Long(values.Length);
            foreach (float v in values) Long(BitConverter.SingleToInt32Bits(v));
        }

        void Act(Activation activation)
        {
            Long((int)activation.Kind);
            Long(BitConverter.SingleToInt32Bits(activation.Alpha));
            Long(BitConverter.SingleToInt32Bits(activation.Beta));
        }

        ForecastSettings settings = forecaster.Settings;
        Long(settings.InputColumns.Count);
        foreach (string column in settings.InputColumns) Text(column);
        Text(settings.TargetColumn);
        Long(settings.Window);
        Long(settings.Horizon);
        Long((int)forecaster.Scaler.Normalization);
        Doubles(forecaster.Scaler.Offsets);
        Doubles(forecaster.Scaler.Scales);
        LstmSpec spec = forecaster.Weights.Spec;
        foreach (long value in (ReadOnlySpan<long>)[spec.InputSize, spec.HiddenSize, spec.NumLayers, spec.Bidirectional ? 1 : 0, spec.ProjectionSize, spec.Bias ? 1 : 0,
                     spec.Cell.Peepholes ? 1 : 0, BitConverter.SingleToInt32Bits(spec.Cell.Clip), spec.Cell.InputForget ? 1 : 0])
            Long(value);
        Act(spec.Cell.Gate);
        Act(spec.Cell.Candidate);
        Act(spec.Cell.Output);
        for (int layer = 0; layer < spec.NumLayers; layer++)
            for (int d = 0; d < spec.Directions; d++)
            {
                LstmLayerWeights w = forecaster.Weights[layer, d];
                foreach (float[] values in (ReadOnlySpan<float[]>)[w.WeightIh, w.WeightHh, w.BiasIh, w.BiasHh, w.WeightHr, w.Peephole])
                    Floats(values);
            }

        Long(forecaster.Head.InputSize);
        Long(forecaster.Head.OutputSize);
        Floats(forecaster.Head.Weight);
        Floats(forecaster.Head.Bias);
        return hash.GetHashAndReset();
    }
}
