using System.Buffers.Binary;
using System.Text;

namespace LstmSimd.Shared;

/// <summary>
/// How saved streaming states (a pool's, a session's, forecast streams') write the keys of their streams, little-endian:
/// none for a session's rows, int32, int64, a 16-byte Guid, or a u16 length and UTF-8. Reading refuses a key that runs
/// past the data or is not valid UTF-8 with an <see cref="InvalidDataException"/> naming the stream.
/// </summary>
internal static class SavedStreamKeys
{
    /// <summary>The longest string key a state holds, in UTF-8 bytes.</summary>
    public const int MaxKeyBytes = ushort.MaxValue;

    public enum Kind : byte
    {
        Row = 0, // a session's rows, in order: no key
        Int32 = 1,
        Int64 = 2,
        String = 3,
        Guid = 4,
    }

    /// <summary>The kind of key <typeparamref name="TKey"/> is saved as; <paramref name="owner"/> names whose keys, e.g. "this pool's".</summary>
    /// <exception cref="NotSupportedException">Keys of another type cannot be saved.</exception>
    public static Kind KindOf<TKey>(string owner) =>
        typeof(TKey) == typeof(string) ? Kind.String
        : typeof(TKey) == typeof(int) ? Kind.Int32
        : typeof(TKey) == typeof(long) ? Kind.Int64
        : typeof(TKey) == typeof(Guid) ? Kind.Guid
        : throw new NotSupportedException($"A saved state holds keys of type string, int, long or Guid; {owner} keys are {typeof(TKey).Name}.");

    /// <summary>The most bytes one key of <paramref name="kind"/> takes.</summary>
    public static int LongestBytes(Kind kind) => kind == Kind.String ? 2 + MaxKeyBytes : 16;

    public static string Describe(Kind kind) => kind switch
    {
        Kind.Row => "a session's rows (no keys)",
        Kind.Int32 => "streams keyed by int",
        Kind.Int64 => "streams keyed by long",
        Kind.String => "streams keyed by string",
        Kind.Guid => "streams keyed by Guid",
        _ => $"keys of an unknown kind ({(byte)kind})",
    };

    /// <summary>Writes <paramref name="key"/> (of a kind other than <see cref="Kind.Row"/>); <paramref name="scratch"/> holds at least 16 bytes.</summary>
    /// <exception cref="NotSupportedException">A string key is longer than <see cref="MaxKeyBytes"/> in UTF-8.</exception>
    public static void Write(Stream buffer, Kind kind, object key, Span<byte> scratch)
    {
        switch (kind)
        {
            case Kind.Int32:
                BinaryPrimitives.WriteInt32LittleEndian(scratch, (int)key);
                buffer.Write(scratch[..4]);
                break;
            case Kind.Int64:
                BinaryPrimitives.WriteInt64LittleEndian(scratch, (long)key);
                buffer.Write(scratch[..8]);
                break;
            case Kind.Guid:
                ((Guid)key).TryWriteBytes(scratch);
                buffer.Write(scratch[..16]);
                break;
            default:
                byte[] text = Encoding.UTF8.GetBytes((string)key);
                if (text.Length > MaxKeyBytes) throw new NotSupportedException($"A saved state holds string keys of at most {MaxKeyBytes} UTF-8 bytes; key '{((string)key)[..32]}…' has {text.Length}.");
                BinaryPrimitives.WriteUInt16LittleEndian(scratch, (ushort)text.Length);
                buffer.Write(scratch[..2]);
                buffer.Write(text);
                break;
        }
    }

    /// <summary>Reads stream <paramref name="stream"/>'s key at <paramref name="offset"/> (which it advances), within <paramref name="bytes"/>[..<paramref name="end"/>].</summary>
    /// <exception cref="InvalidDataException">The key runs past <paramref name="end"/> or is not valid UTF-8.</exception>
    public static object Read(byte[] bytes, int end, ref int offset, Kind kind, int stream)
    {
        int size = kind switch { Kind.Int32 => 4, Kind.Int64 => 8, Kind.Guid => 16, _ => 2 };
        Need(end, offset, size, stream);
        ReadOnlySpan<byte> field = bytes.AsSpan(offset, size);
        offset += size;
        switch (kind)
        {
            case Kind.Int32: return BinaryPrimitives.ReadInt32LittleEndian(field);
            case Kind.Int64: return BinaryPrimitives.ReadInt64LittleEndian(field);
            case Kind.Guid: return new Guid(field);
        }

        int length = BinaryPrimitives.ReadUInt16LittleEndian(field);
        Need(end, offset, length, stream);
        string key;
        try
        {
            key = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes, offset, length);
        }
        catch (DecoderFallbackException e)
        {
            throw new InvalidDataException($"The state is corrupted: stream {stream}'s key is not valid UTF-8.", e);
        }

        offset += length;
        return key;
    }

    /// <summary>Refuses a field of <paramref name="size"/> bytes at <paramref name="offset"/> that runs past <paramref name="end"/>.</summary>
    public static void Need(int end, int offset, int size, int stream)
    {
        if (end - offset < size) throw new InvalidDataException($"The state is corrupted: stream {stream} runs past the end of its data.");
    }
}
