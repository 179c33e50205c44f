using System.Buffers.Binary;
using System.Security.Cryptography;

namespace LstmSimd;

/// <summary>
/// The saved streaming state of a session or a pool: every stream's h and c (and, for a pool, its key), tied to the
/// model by <see cref="ModelIdentity"/> and its weight format. Little-endian:
/// a header (magic "LSTMSTAT", version, key kind, weight format, identity, L, H, H_out, stream count, total length),
/// then per stream the key (none, int32, int64, 16-byte Guid, or u16 length + UTF-8) and h [L, H_out], c [L, H] as
/// fp32, then a SHA-256 of everything before it. Reading checks it whole before anything is applied.
/// </summary>
internal static class StreamStateFile
{
    public const int Version = 1;
    private const int HeaderLength = 8 + 4 + 1 + 1 + 2 + ModelIdentity.Length + 4 * 4 + 8;
    private const int ChecksumLength = SavedStateBody.ChecksumLength;
        private static ReadOnlySpan<byte> Magic => "LSTMSTAT"u8;

    /// <summary>What a file holds, checked: keys (null for a session's rows), and h [n, L, H_out], c [n, L, H], stream-major.</summary>
    public sealed record Contents(object[]? Keys, float[] H, float[] C, int Count);

    /// <summary>Writes <paramref name="count"/> streams: h and c stream-major as in <see cref="Contents"/>.</summary>
    public static void Write(Stream destination, LstmModel model, SavedStreamKeys.Kind kind, ReadOnlySpan<object> keys, ReadOnlySpan<float> h, ReadOnlySpan<float> c, int count)
    {
        ArgumentNullException.ThrowIfNull(destination);
        LstmSpec spec = model.Spec;
        using var buffer = new MemoryStream();
        Span<byte> header = stackalloc byte[HeaderLength];
        header.Clear();
        buffer.Write(header); // filled in once the length is known
        Span<byte> scratch = stackalloc byte[16];
        for (int i = 0; i < count; i++)
        {
            if (kind != SavedStreamKeys.Kind.Row) SavedStreamKeys.Write(buffer, kind, keys[i], scratch);
            WriteFloats(buffer, h.Slice(i * spec.NumLayers * spec.OutputHiddenSize, spec.NumLayers * spec.OutputHiddenSize));
            WriteFloats(buffer, c.Slice(i * spec.NumLayers * spec.HiddenSize, spec.NumLayers * spec.HiddenSize));
        }

        byte[] bytes = buffer.GetBuffer();
        int length = checked((int)buffer.Length);
        Magic.CopyTo(bytes);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(8), Version);
        bytes[12] = (byte)kind;
        bytes[13] = (byte)model.WeightFormat;
        model.Identity.CopyTo(bytes.AsSpan(16));
        int at = 16 + ModelIdentity.Length;
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at), spec.NumLayers);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at + 4), spec.HiddenSize);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at + 8), spec.OutputHiddenSize);
        BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(at + 12), count);
        BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(at + 16), length + ChecksumLength);
        destination.Write(bytes, 0, length);
        destination.Write(SHA256.HashData(bytes.AsSpan(0, length)));
        destination.Flush();
    }

    /// <summary>Reads and checks a state saved for <paramref name="model"/> with keys of <paramref name="kind"/>, at most <paramref name="maxCount"/> streams.</summary>
    /// <exception cref="InvalidDataException">The data is not a state, is truncated or corrupted, or was saved for another model, kind of key or a larger capacity (the message says which).</exception>
    public static Contents Read(Stream source, LstmModel model, SavedStreamKeys.Kind kind, int maxCount)
    {
        ArgumentNullException.ThrowIfNull(source);
        LstmSpec spec = model.Spec;
        byte[] header = new byte[HeaderLength];
        int got = source.ReadAtLeast(header, HeaderLength, throwOnEndOfStream: false);
        if (got < Magic.Length || !header.AsSpan(0, Magic.Length).SequenceEqual(Magic))
            throw new InvalidDataException("Not an LstmSimd streaming state: it does not start with LSTMSTAT.");
        if (got < HeaderLength) throw new InvalidDataException($"The state is truncated: {got} bytes, shorter than its {HeaderLength}-byte header.");
        int version = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(8));
        if (version != Version) throw new InvalidDataException($"The state has format version {version}; this library reads version {Version}.");
        int at = 16 + ModelIdentity.Length;
        long total = BinaryPrimitives.ReadInt64LittleEndian(header.AsSpan(at + 16));
        int count = BinaryPrimitives.ReadInt32LittleEndian(header.AsSpan(at + 12));
        int hLength = spec.NumLayers * spec.OutputHiddenSize, cLength = spec.NumLayers * spec.HiddenSize;
        long longestRecord = SavedStreamKeys.LongestBytes(kind) + 4L * (hLength + cLength);
        byte[] bytes = SavedStateBody.Read(source, header, total, count, longestRecord);
        int body = (int)total - ChecksumLength;

        if (!bytes.AsSpan(16, ModelIdentity.Length).SequenceEqual(model.Identity))
            throw new InvalidDataException($"The state was saved for another model (spec and weights hash {Convert.ToHexStringLower(bytes, 16, 8)}…; this model's is {Convert.ToHexStringLower(model.Identity, 0, 8)}…).");
        var format = (WeightFormat)bytes[13];
        if (format != model.WeightFormat)
            throw new InvalidDataException($"The state was saved by this model's weights stored as {format}; this model stores them as {model.WeightFormat}, whose steps round differently: load the model with {format} weights to continue it.");
        var savedKind = (SavedStreamKeys.Kind)bytes[12];
        if (savedKind != kind)
            throw new InvalidDataException($"The state holds {SavedStreamKeys.Describe(savedKind)}; this {(kind == SavedStreamKeys.Kind.Row ? "session" : "pool")} takes {SavedStreamKeys.Describe(kind)}.");
        if (count > maxCount)
            throw new InvalidDataException($"The state holds {count} streams, more than the {maxCount} this {(kind == SavedStreamKeys.Kind.Row ? "session's MaxBatch" : "pool's capacity")} allows.");

        object[]? keys = kind == SavedStreamKeys.Kind.Row ? null : new object[count];
        float[] h = new float[(long)count * hLength], c = new float[(long)count * cLength];
        int offset = HeaderLength;
        var seen = new HashSet<object>();
        for (int i = 0; i < count; i++)
        {
            if (keys is not null)
            {
                keys[i] = SavedStreamKeys.Read(bytes, body, ref offset, kind, i);
                if (!seen.Add(keys[i])) throw new InvalidDataException($"The state is corrupted: stream {i}'s key '{keys[i]}' appears twice.");
            }

            ReadFloats(bytes, body, ref offset, h.AsSpan(i * hLength, hLength), i);
            ReadFloats(bytes, body, ref offset, c.AsSpan(i * cLength, cLength), i);
        }

        if (offset != body) throw new InvalidDataException($"The state is corrupted: {body - offset} bytes follow its last stream.");
        try
        {
            Span<float> magnitudes = stackalloc float[spec.NumLayers];
            for (int i = 0; i < count; i++) model.Bounds.CheckState(h.AsSpan(i * hLength, hLength), 1, magnitudes);
        }
        catch (ArgumentOutOfRangeException e)
        {
            throw new InvalidDataException($"The state holds an h this model cannot step from: {e.Message}", e);
        }

        return new Contents(keys, h, c, count);
    }

    /// <summary>Reads a state file whole (see <see cref="Read(Stream, LstmModel, SavedStreamKeys.Kind, int)"/>).</summary>
    public static Contents Read(string path, LstmModel model, SavedStreamKeys.Kind kind, int maxCount)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
        return Read(file, model, kind, maxCount);
    }

    /// <summary>Converts between a session's [L, B, size] state and <see cref="Contents"/>' stream-major [B, L, size].</summary>
    public static void Transpose(ReadOnlySpan<float> source, Span<float> destination, int outer, int inner, int size)
    {
        for (int a = 0; a < outer; a++)
            for (int b = 0; b < inner; b++)
                source.Slice((a * inner + b) * size, size).CopyTo(destination.Slice((b * outer + a) * size, size));
    }

    private static void WriteFloats(Stream buffer, ReadOnlySpan<float> values)
    {
        Span<byte> chunk = stackalloc byte[1024];
        for (int start = 0; start < values.Length; start += chunk.Length / 4)
        {
            int n = Math.Min(chunk.Length / 4, values.Length - start);
            for (int i = 0; i < n; i++) BinaryPrimitives.WriteSingleLittleEndian(chunk.Slice(4 * i), values[start + i]);
            buffer.Write(chunk[..(4 * n)]);
        }
    }

    private static void ReadFloats(byte[] bytes, int end, ref int offset, Span<float> values, int stream)
    {
        SavedStreamKeys.Need(end, offset, 4 * values.Length, stream);
        for (int i = 0; i < values.Length; i++) values[i] = BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(offset + 4 * i));
        offset += 4 * values.Length;
    }
}
