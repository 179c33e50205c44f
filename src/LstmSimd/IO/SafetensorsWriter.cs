using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text.Json;

namespace LstmSimd.IO;

/// <summary>
/// Collects tensors and metadata and writes them as one safetensors file: the header lists
/// <c>__metadata__</c> first and the tensors in ordinal name order, their bytes follow in the same
/// order, contiguous, and the header is padded with spaces so the data buffer starts 8-byte aligned.
/// Tensor arrays are referenced, not copied, until <see cref="WriteTo"/>.
/// </summary>
public sealed class SafetensorsWriter
{
    private readonly SortedDictionary<string, Entry> _tensors = new(StringComparer.Ordinal);
    private readonly SortedDictionary<string, string> _metadata = new(StringComparer.Ordinal);

    private sealed record Entry(SafetensorsDtype Dtype, long[] Shape, Array Data, long ByteLength);

    /// <summary>Adds <c>__metadata__[<paramref name="key"/>] = <paramref name="value"/>.</c></summary>
    public SafetensorsWriter AddMetadata(string key, string value)
    {
        ArgumentNullException.ThrowIfNull(key);
        ArgumentNullException.ThrowIfNull(value);
        if (!_metadata.TryAdd(key, value)) throw new ArgumentException($"Metadata key '{key}' was already added.", nameof(key));
        return this;
    }

    /// <summary>Adds an F32 tensor of the given shape (its product must equal the array's length).</summary>
    public SafetensorsWriter Add(string name, float[] data, params long[] shape) => AddArray(name, SafetensorsDtype.F32, data, shape);

    /// <summary>Adds an F64 tensor.</summary>
    public SafetensorsWriter Add(string name, double[] data, params long[] shape) => AddArray(name, SafetensorsDtype.F64, data, shape);

    /// <summary>Adds an F16 tensor.</summary>
    public SafetensorsWriter Add(string name, Half[] data, params long[] shape) => AddArray(name, SafetensorsDtype.F16, data, shape);

    /// <summary>Adds an I64 tensor.</summary>
    public SafetensorsWriter Add(string name, long[] data, params long[] shape) => AddArray(name, SafetensorsDtype.I64, data, shape);

    /// <summary>Adds an I32 tensor.</summary>
    public SafetensorsWriter Add(string name, int[] data, params long[] shape) => AddArray(name, SafetensorsDtype.I32, data, shape);

    /// <summary>Adds a tensor of any dtype from its raw little-endian bytes (BF16 and the 8-bit types go this way).</summary>
    public SafetensorsWriter AddRaw(string name, SafetensorsDtype dtype, byte[] bytes, params long[] shape)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        long count = ElementCount(shape);
        if (count * dtype.Size() != bytes.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] of {dtype} needs {count * dtype.Size()} bytes; got {bytes.Length}.", nameof(bytes));
        return AddEntry(name, new Entry(dtype, [.. shape], bytes, bytes.Length));
    }

    /// <summary>The names added so far, in the order they will be written.</summary>
    public IEnumerable<string> Names => _tensors.Keys;

    /// <summary>Writes the file to <paramref name="stream"/>.</summary>
    public void WriteTo(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        byte[] header = BuildHeader();
        Span<byte> length = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(length, (ulong)header.Length);
        stream.Write(length);
        stream.Write(header);
        foreach (Entry e in _tensors.Values) WriteData(stream, e);
    }

    /// <summary>Writes the file to <paramref name="path"/> atomically (<see cref="AtomicFile"/>): a failed save leaves the previous file whole.</summary>
    public void Save(string path) => AtomicFile.Write(path, WriteTo);

    /// <summary>The whole file as a byte array (for small files and tests).</summary>
    public byte[] ToArray()
    {
        using var memory = new MemoryStream();
        WriteTo(memory);
        return memory.ToArray();
    }

    private SafetensorsWriter AddArray<T>(string name, SafetensorsDtype dtype, T[] data, long[] shape) where T : unmanaged
    {
        ArgumentNullException.ThrowIfNull(data);
        long count = ElementCount(shape);
        if (count != data.Length)
            throw new ArgumentException($"Shape [{string.Join(", ", shape)}] holds {count} elements; the array holds {data.Length}.", nameof(data));
        return AddEntry(name, new Entry(dtype, [.. shape], data, (long)data.Length * dtype.Size()));
    }

    private SafetensorsWriter AddEntry(string name, Entry entry)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        if (name == "__metadata__") throw new ArgumentException("'__metadata__' is reserved for metadata.", nameof(name));
        if (!_tensors.TryAdd(name, entry)) throw new ArgumentException($"Tensor '{name}' was already added.", nameof(name));
        return this;
    }

    private static long ElementCount(long[] shape)
    {
        ArgumentNullException.ThrowIfNull(shape);
        long count = 1;
        foreach (long d in shape)
        {
            if (d < 0) throw new ArgumentOutOfRangeException(nameof(shape), d, "Dimensions must be non-negative.");
            count = checked(count * d);
        }

        return count;
    }

    private byte[] BuildHeader()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            json.WriteStartObject();
            if (_metadata.Count > 0)
            {
                json.WriteStartObject("__metadata__");
                foreach ((string key, string value) in _metadata) json.WriteString(key, value);
                json.WriteEndObject();
            }

            long offset = 0;
            foreach ((string name, Entry e) in _tensors)
            {
                json.WriteStartObject(name);
                json.WriteString("dtype", e.Dtype.HeaderName());
                json.WriteStartArray("shape");
                foreach (long d in e.Shape) json.WriteNumberValue(d);
                json.WriteEndArray();
                json.WriteStartArray("data_offsets");
                json.WriteNumberValue(offset);
                json.WriteNumberValue(offset + e.ByteLength);
                json.WriteEndArray();
                json.WriteEndObject();
                offset += e.ByteLength;
            }

            json.WriteEndObject();
        }

        int padding = (int)((8 - (buffer.Length % 8)) % 8);
        for (int i = 0; i < padding; i++) buffer.WriteByte((byte)' ');
        return buffer.ToArray();
    }

    private static void WriteData(Stream stream, Entry e)
    {
        switch (e.Data)
        {
            case byte[] bytes: stream.Write(bytes); break;
            case float[] f: WriteLittleEndian<float>(stream, f); break;
            case double[] d: WriteLittleEndian<double>(stream, d); break;
            case Half[] h: WriteLittleEndian<Half>(stream, h); break;
            case long[] l: WriteLittleEndian<long>(stream, l); break;
            case int[] i: WriteLittleEndian<int>(stream, i); break;
            default: throw new InvalidOperationException("Unexpected tensor array type.");
        }
    }

    private static void WriteLittleEndian<T>(Stream stream, T[] values) where T : unmanaged
    {
        if (!BitConverter.IsLittleEndian) throw new PlatformNotSupportedException("Writing safetensors needs a little-endian machine.");
        stream.Write(MemoryMarshal.AsBytes(values.AsSpan()));
    }
}
