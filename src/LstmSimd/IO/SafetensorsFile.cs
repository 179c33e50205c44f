using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using System.Text.Unicode;

namespace LstmSimd.IO;

/// <summary>
/// A safetensors file opened for reading: the header is parsed and checked against every rule of the
/// format up front, and tensor data is read on demand (from memory, a memory-mapped file or a seekable
/// stream), so a large file is never copied whole.
/// </summary>
/// <remarks>
/// Layout: 8-byte little-endian header length N; N bytes of UTF-8 JSON (an object: tensor name →
/// <c>{"dtype", "shape", "data_offsets": [begin, end]}</c>, plus an optional <c>"__metadata__"</c>
/// string→string map), possibly padded with spaces; then the data buffer. Refused: N above
/// 100,000,000 bytes (the reference implementation's limit) or past the end of the file, invalid UTF-8,
/// anything that is not strict JSON, duplicate keys, unknown dtypes or fields, negative or non-integer
/// dimensions, element counts or byte lengths that overflow, byte ranges that disagree with dtype and
/// shape, and offsets that overlap, leave gaps or do not cover the data buffer exactly.
/// Every violation throws <see cref="SafetensorsFormatException"/>.
/// </remarks>
public sealed class SafetensorsFile : IDisposable
{
    private const string MetadataKey = "__metadata__";

    /// <summary>The largest JSON header accepted, in bytes, as in the reference implementation; a longer one is refused before anything is allocated.</summary>
    internal const long DefaultMaxHeaderLength = 100_000_000;

    /// <summary>Most dimensions a tensor may have (as many as NumPy allows).</summary>
    internal const int MaxRank = 64;
    private const int ChunkElements = 16384;

    private readonly ByteSource _source;
    private readonly Dictionary<string, SafetensorsTensorInfo> _byName;
    private bool _disposed;

    private SafetensorsFile(ByteSource source, long dataStart, List<SafetensorsTensorInfo> tensors, Dictionary<string, string> metadata)
    {
        _source = source;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
        _byName = new Dictionary<string, SafetensorsTensorInfo>(tensors.Count, StringComparer.Ordinal);
        foreach (SafetensorsTensorInfo t in tensors) _byName.Add(t.Name, t);
    }

    /// <summary>The tensors in the order of their bytes in the file.</summary>
    public IReadOnlyList<SafetensorsTensorInfo> Tensors { get; }

    /// <summary>The <c>__metadata__</c> entries (empty when the file has none).</summary>
    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Absolute file offset of the data buffer: 8 + the header length.</summary>
    public long DataStart { get; }

    /// <summary>
    /// Whether these tensors were read from a <c>torch.save</c> file (see <see cref="PyTorchStateDict.Open"/>) and are held
    /// in memory as a safetensors file; <see cref="DataStart"/> is then that copy's.
    /// </summary>
    public bool ReadFromTorchSave { get; internal set; }

    /// <summary>
    /// Opens a file, which must be a regular file (not a FIFO, device or directory). One of up to 256 MiB is read into memory;
    /// a longer one is memory-mapped, and nothing but its header is read until a tensor is asked for.
    /// </summary>
    /// <exception cref="ModelFormatException">The path is not a regular file.</exception>
    /// <exception cref="SafetensorsFormatException">The file breaks the format's rules.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        return Create(ByteSource.OpenFile(path));
    }

    /// <summary>As <see cref="Open(string)"/>, for a file already opened from <paramref name="path"/> (taken over).</summary>
    internal static SafetensorsFile Open(FileStream file, string path) => Create(ByteSource.FromOpenedFile(file, path));

    /// <summary>Opens a readable, seekable stream; tensors are read from it on demand.</summary>
    /// <exception cref="SafetensorsFormatException">The stream's contents break the format's rules.</exception>
    public static SafetensorsFile Open(Stream stream, bool leaveOpen = false) => Create(ByteSource.FromStream(stream, leaveOpen));

    /// <summary>Parses a file held in memory (the memory must stay unchanged while this object is used).</summary>
    /// <exception cref="SafetensorsFormatException">The bytes break the format's rules.</exception>
    public static SafetensorsFile Parse(ReadOnlyMemory<byte> bytes) => Create(ByteSource.FromMemory(bytes));

    /// <summary>As <see cref="Parse(ReadOnlyMemory{byte})"/>, with a header-length limit other than the default.</summary>
    internal static SafetensorsFile Parse(ReadOnlyMemory<byte> bytes, long maxHeaderLength) => Create(ByteSource.FromMemory(bytes), maxHeaderLength);

    /// <summary>Whether the file holds a tensor named <paramref name="name"/>.</summary>
    public bool Contains(string name) => _byName.ContainsKey(name);

    /// <summary>Finds a tensor's entry by name.</summary>
    public bool TryGetTensor(string name, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out SafetensorsTensorInfo info) =>
        _byName.TryGetValue(name, out info);

    /// <summary>A tensor's entry by name.</summary>
    /// <exception cref="KeyNotFoundException">No tensor has that name.</exception>
    public SafetensorsTensorInfo GetTensor(string name) =>
        _byName.TryGetValue(name, out SafetensorsTensorInfo? info) ? info : throw new KeyNotFoundException($"The file holds no tensor named '{Printable(name)}'.");

    /// <summary>Copies a tensor's raw little-endian bytes into <paramref name="destination"/> (exactly <see cref="SafetensorsTensorInfo.ByteLength"/> long).</summary>
    public void ReadBytes(SafetensorsTensorInfo tensor, Span<byte> destination)
    {
        Check(tensor);
        if (destination.Length != tensor.ByteLength)
            throw new ArgumentException($"Destination holds {destination.Length} bytes; '{tensor.Name}' has {tensor.ByteLength}.", nameof(destination));
        _source.Read(DataStart + tensor.Begin, destination);
    }

    /// <summary>Reads a floating-point or integer tensor as <see cref="float"/> values (F64 rounds to nearest; F32 is exact).</summary>
    /// <exception cref="SafetensorsFormatException">The dtype does not convert to float (BOOL, F8), or the tensor is too large for one array.</exception>
    public float[] ReadSingles(string name) => ReadSingles(GetTensor(name));

    /// <inheritdoc cref="ReadSingles(string)"/>
    public float[] ReadSingles(SafetensorsTensorInfo tensor)
    {
        var values = new float[CheckedCount(tensor, convertible: tensor.Dtype.IsFloatingPoint() || tensor.Dtype.IsInteger(), "float")];
        ReadSingles(tensor, values);
        return values;
    }

    /// <summary>Reads a tensor into <paramref name="destination"/> (exactly <see cref="SafetensorsTensorInfo.ElementCount"/> long), converting to float.</summary>
    public void ReadSingles(SafetensorsTensorInfo tensor, Span<float> destination)
    {
        Check(tensor);
        if (destination.Length != tensor.ElementCount)
            throw new ArgumentException($"Destination holds {destination.Length} values; '{tensor.Name}' has {tensor.ElementCount}.", nameof(destination));
        SafetensorsDtype dtype = tensor.Dtype;
        if (!dtype.IsFloatingPoint() && !dtype.IsInteger())
            throw new SafetensorsFormatException($"tensor '{Printable(tensor.Name)}' has dtype {dtype}, which does not convert to float.");
        ReadConverted<float, ToSingle>(tensor, destination);
    }

    /// <summary>Reads a floating-point or integer tensor as <see cref="double"/> values (exact for F16, BF16, F32, F64 and integers up to 2^53).</summary>
    public double[] ReadDoubles(string name)
    {
        SafetensorsTensorInfo tensor = GetTensor(name);
        var values = new double[CheckedCount(tensor, tensor.Dtype.IsFloatingPoint() || tensor.Dtype.IsInteger(), "double")];
        ReadConverted<double, ToDoubleValue>(tensor, values);
        return values;
    }

    /// <summary>Reads an integer tensor (I8…I64, U8…U64) as <see cref="long"/> values; U64 above <see cref="long.MaxValue"/> is an error.</summary>
    public long[] ReadInt64s(string name)
    {
        SafetensorsTensorInfo tensor = GetTensor(name);
        var values = new long[CheckedCount(tensor, tensor.Dtype.IsInteger(), "an integer")];
        ReadConverted<long, ToInt64>(tensor, values);
        return values;
    }

    /// <summary>Reads a tensor chunk by chunk (a bounded, pooled buffer: never a second full copy) and converts each chunk.</summary>
    private void ReadConverted<T, TConverter>(SafetensorsTensorInfo tensor, Span<T> destination) where TConverter : IChunkConverter<T>
    {
        byte[]? rented = null;
        try
        {
            for (int start = 0; start < destination.Length; start += ChunkElements)
            {
                int n = Math.Min(ChunkElements, destination.Length - start);
                TConverter.Convert(tensor, Chunk(tensor, start, n, ref rented), destination.Slice(start, n));
            }
        }
        finally
        {
            if (rented is not null) ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private interface IChunkConverter<T>
    {
        static abstract void Convert(SafetensorsTensorInfo tensor, ReadOnlySpan<byte> chunk, Span<T> destination);
    }

    private readonly struct ToSingle : IChunkConverter<float>
    {
        public static void Convert(SafetensorsTensorInfo tensor, ReadOnlySpan<byte> chunk, Span<float> destination)
        {
            if (tensor.Dtype == SafetensorsDtype.F32 && BitConverter.IsLittleEndian)
                MemoryMarshal.Cast<byte, float>(chunk).CopyTo(destination);
            else
                for (int i = 0; i < destination.Length; i++) destination[i] = (float)ToDouble(tensor.Dtype, chunk, i);
        }
    }

    private readonly struct ToDoubleValue : IChunkConverter<double>
    {
        public static void Convert(SafetensorsTensorInfo tensor, ReadOnlySpan<byte> chunk, Span<double> destination)
        {
            for (int i = 0; i < destination.Length; i++) destination[i] = ToDouble(tensor.Dtype, chunk, i);
        }
    }

    private readonly struct ToInt64 : IChunkConverter<long>
    {
        public static void Convert(SafetensorsTensorInfo tensor, ReadOnlySpan<byte> chunk, Span<long> destination)
        {
            for (int i = 0; i < destination.Length; i++)
            {
                destination[i] = tensor.Dtype switch
                {
                    SafetensorsDtype.U8 => chunk[i],
                    SafetensorsDtype.I8 => (sbyte)chunk[i],
                    SafetensorsDtype.I16 => BinaryPrimitives.ReadInt16LittleEndian(chunk[(2 * i)..]),
                    SafetensorsDtype.U16 => BinaryPrimitives.ReadUInt16LittleEndian(chunk[(2 * i)..]),
                    SafetensorsDtype.I32 => BinaryPrimitives.ReadInt32LittleEndian(chunk[(4 * i)..]),
                    SafetensorsDtype.U32 => BinaryPrimitives.ReadUInt32LittleEndian(chunk[(4 * i)..]),
                    SafetensorsDtype.I64 => BinaryPrimitives.ReadInt64LittleEndian(chunk[(8 * i)..]),
                    _ => BinaryPrimitives.ReadUInt64LittleEndian(chunk[(8 * i)..]) is var u && u <= long.MaxValue
                        ? (long)u
                        : throw new SafetensorsFormatException($"tensor '{Printable(tensor.Name)}' holds a U64 value above 2^63 - 1."),
                };
            }
        }
    }

    /// <summary>Releases the file mapping or stream.</summary>
    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        _source.Dispose();
    }

    /// <summary>Elements [start, start+count) of a tensor as bytes: a view when the source allows it, else read into a pooled buffer.</summary>
    private ReadOnlySpan<byte> Chunk(SafetensorsTensorInfo tensor, int start, int count, ref byte[]? rented)
    {
        int size = tensor.Dtype.Size();
        long offset = DataStart + tensor.Begin + (long)start * size;
        if (_source.TryGetSpan(offset, count * size, out ReadOnlySpan<byte> view)) return view;
        rented ??= ArrayPool<byte>.Shared.Rent(ChunkElements * size);
        Span<byte> buffer = rented.AsSpan(0, count * size);
        _source.Read(offset, buffer);
        return buffer;
    }

    private static double ToDouble(SafetensorsDtype dtype, ReadOnlySpan<byte> chunk, int i) => dtype switch
    {
        SafetensorsDtype.F32 => BinaryPrimitives.ReadSingleLittleEndian(chunk[(4 * i)..]),
        SafetensorsDtype.F64 => BinaryPrimitives.ReadDoubleLittleEndian(chunk[(8 * i)..]),
        SafetensorsDtype.F16 => (double)BinaryPrimitives.ReadHalfLittleEndian(chunk[(2 * i)..]),
        SafetensorsDtype.BF16 => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(chunk[(2 * i)..]) << 16),
        SafetensorsDtype.U8 => chunk[i],
        SafetensorsDtype.I8 => (sbyte)chunk[i],
        SafetensorsDtype.I16 => BinaryPrimitives.ReadInt16LittleEndian(chunk[(2 * i)..]),
        SafetensorsDtype.U16 => BinaryPrimitives.ReadUInt16LittleEndian(chunk[(2 * i)..]),
        SafetensorsDtype.I32 => BinaryPrimitives.ReadInt32LittleEndian(chunk[(4 * i)..]),
        SafetensorsDtype.U32 => BinaryPrimitives.ReadUInt32LittleEndian(chunk[(4 * i)..]),
        SafetensorsDtype.I64 => BinaryPrimitives.ReadInt64LittleEndian(chunk[(8 * i)..]),
        SafetensorsDtype.U64 => BinaryPrimitives.ReadUInt64LittleEndian(chunk[(8 * i)..]),
        _ => throw new SafetensorsFormatException($"dtype {dtype} does not convert to a number."),
    };

    private int CheckedCount(SafetensorsTensorInfo tensor, bool convertible, string target)
    {
        Check(tensor);
        if (!convertible)
            throw new SafetensorsFormatException($"tensor '{tensor.Name}' has dtype {tensor.Dtype}, which does not convert to {target}.");
        if (tensor.ElementCount > Array.MaxLength)
            throw new SafetensorsFormatException($"tensor '{tensor.Name}' has {tensor.ElementCount} elements, more than one array can hold.");
        return (int)tensor.ElementCount;
    }

    private void Check(SafetensorsTensorInfo tensor)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        ArgumentNullException.ThrowIfNull(tensor);
        if (!_byName.TryGetValue(tensor.Name, out SafetensorsTensorInfo? own) || !ReferenceEquals(own, tensor))
            throw new ArgumentException($"Tensor '{tensor.Name}' does not belong to this file.", nameof(tensor));
    }

    private static SafetensorsFile Create(ByteSource source, long maxHeaderLength = DefaultMaxHeaderLength)
    {
        try
        {
            long length = source.Length;
            if (length < 8)
                throw new SafetensorsFormatException($"the file is {length} bytes long, too short for the 8-byte header length.");
            Span<byte> prefix = stackalloc byte[8];
            source.Read(0, prefix);
            ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
            if (headerLength > (ulong)Math.Max(0, maxHeaderLength))
                throw new SafetensorsFormatException($"the header length {headerLength} exceeds the limit of {maxHeaderLength} bytes.");
            if (headerLength > (ulong)(length - 8))
                throw new SafetensorsFormatException($"the header length {headerLength} runs past the end of the file ({length - 8} bytes follow the length field).");
            int n = (int)headerLength; // ≤ maxHeaderLength and ≤ file size, checked above
            long dataStart = 8 + (long)n;
            List<SafetensorsTensorInfo> tensors;
            Dictionary<string, string> metadata;
            if (source.TryGetSpan(8, n, out ReadOnlySpan<byte> header))
            {
                (tensors, metadata) = ParseHeader(header, length - dataStart);
            }
            else
            {
                byte[] buffer = new byte[n];
                source.Read(8, buffer);
                (tensors, metadata) = ParseHeader(buffer, length - dataStart);
            }

            return new SafetensorsFile(source, dataStart, tensors, metadata);
        }
        catch
        {
            source.Dispose();
            throw;
        }
    }

    /// <summary>Parses and validates the JSON header against a data buffer of <paramref name="dataLength"/> bytes.</summary>
    internal static (List<SafetensorsTensorInfo> Tensors, Dictionary<string, string> Metadata) ParseHeader(ReadOnlySpan<byte> header, long dataLength)
    {
        if (header.Length == 0 || header[0] != (byte)'{')
            throw new SafetensorsFormatException("the header does not start with '{'.");
        if (!Utf8.IsValid(header))
            throw new SafetensorsFormatException("the header is not valid UTF-8.");

        var tensors = new List<SafetensorsTensorInfo>();
        var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
        var keys = new HashSet<string>(StringComparer.Ordinal);
        var reader = new Utf8JsonReader(header, new JsonReaderOptions { MaxDepth = 4, CommentHandling = JsonCommentHandling.Disallow, AllowTrailingCommas = false });
        try
        {
            Expect(ref reader, JsonTokenType.StartObject, "the header");
            while (true)
            {
                Next(ref reader);
                if (reader.TokenType == JsonTokenType.EndObject) break;
                string key = reader.GetString()!;
                if (!keys.Add(key)) throw new SafetensorsFormatException($"duplicate key '{Printable(key)}' in the header.");
                if (key == MetadataKey) ReadMetadata(ref reader, metadata);
                else tensors.Add(ReadTensor(ref reader, key));
            }

            if (reader.Read())
                throw new SafetensorsFormatException("the header holds more than one JSON value.");
        }
        catch (JsonException e)
        {
            throw new SafetensorsFormatException($"the header is not valid JSON: {e.Message}", e);
        }
        catch (InvalidOperationException e)
        {
            throw new SafetensorsFormatException($"the header holds an invalid JSON string: {e.Message}", e);
        }

        CheckOffsets(tensors, dataLength);
        return (tensors, metadata);
    }

    private static void ReadMetadata(ref Utf8JsonReader reader, Dictionary<string, string> metadata)
    {
        Next(ref reader);
        if (reader.TokenType == JsonTokenType.Null) return;
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafetensorsFormatException("__metadata__ must be an object mapping strings to strings.");
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject) return;
            string key = reader.GetString()!;
            Next(ref reader);
            if (reader.TokenType != JsonTokenType.String)
                throw new SafetensorsFormatException($"__metadata__ entry '{Printable(key)}' is not a string.");
            if (!metadata.TryAdd(key, reader.GetString()!))
                throw new SafetensorsFormatException($"duplicate key '{Printable(key)}' in __metadata__.");
        }
    }

    private static SafetensorsTensorInfo ReadTensor(ref Utf8JsonReader reader, string name)
    {
        Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartObject)
            throw new SafetensorsFormatException($"entry '{Printable(name)}' is not an object.");
        string? dtypeName = null;
        List<long>? shape = null, offsets = null;
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndObject) break;
            string field = reader.GetString()!;
            switch (field)
            {
                case "dtype":
                    if (dtypeName is not null) throw Duplicate(name, field);
                    Next(ref reader);
                    if (reader.TokenType != JsonTokenType.String) throw new SafetensorsFormatException($"tensor '{Printable(name)}': dtype is not a string.");
                    dtypeName = reader.GetString()!;
                    break;
                case "shape":
                    if (shape is not null) throw Duplicate(name, field);
                    shape = ReadIntegers(ref reader, name, field, MaxRank);
                    break;
                case "data_offsets":
                    if (offsets is not null) throw Duplicate(name, field);
                    offsets = ReadIntegers(ref reader, name, field, 3); // a third is read to say how many there were
                    break;
                default:
                    throw new SafetensorsFormatException($"tensor '{Printable(name)}' has an unknown field '{Printable(field)}'.");
            }
        }

        if (dtypeName is null || shape is null || offsets is null)
            throw new SafetensorsFormatException($"tensor '{Printable(name)}' lacks {(dtypeName is null ? "dtype" : shape is null ? "shape" : "data_offsets")}.");
        if (!SafetensorsDtypes.TryParse(dtypeName, out SafetensorsDtype dtype))
            throw new SafetensorsFormatException($"tensor '{Printable(name)}' has an unknown dtype '{Printable(dtypeName)}'.");
        if (offsets.Count != 2)
            throw new SafetensorsFormatException($"tensor '{Printable(name)}': data_offsets must hold exactly 2 numbers, got {offsets.Count}.");
        long count = 1;
        foreach (long dim in shape)
        {
            if (!TryMultiply(count, dim, out count))
                throw new SafetensorsFormatException($"tensor '{Printable(name)}': the element count of shape [{string.Join(", ", shape)}] overflows.");
        }

        if (!TryMultiply(count, dtype.Size(), out long bytes))
            throw new SafetensorsFormatException($"tensor '{Printable(name)}': the byte length of shape [{string.Join(", ", shape)}] × {dtype.Size()} overflows.");
        long begin = offsets[0], end = offsets[1];
        if (end < begin)
            throw new SafetensorsFormatException($"tensor '{Printable(name)}': data_offsets [{begin}, {end}] end before they begin.");
        if (end - begin != bytes)
            throw new SafetensorsFormatException($"tensor '{Printable(name)}': dtype {dtype} and shape [{string.Join(", ", shape)}] need {bytes} bytes, but data_offsets [{begin}, {end}] span {end - begin}.");
        return new SafetensorsTensorInfo(name, dtype, [.. shape], begin, end, count);
    }

    /// <summary>A JSON array of non-negative integers, refused once it holds more than <paramref name="maxCount"/> (a 2-byte
    /// <c>0,</c> would otherwise become an 8-byte list entry, for as many as the header has room for).</summary>
    private static List<long> ReadIntegers(ref Utf8JsonReader reader, string name, string field, int maxCount)
    {
        Next(ref reader);
        if (reader.TokenType != JsonTokenType.StartArray)
            throw new SafetensorsFormatException($"tensor '{Printable(name)}': {field} is not an array.");
        var values = new List<long>();
        while (true)
        {
            Next(ref reader);
            if (reader.TokenType == JsonTokenType.EndArray) return values;
            if (reader.TokenType != JsonTokenType.Number || !reader.TryGetInt64(out long value) || value < 0)
                throw new SafetensorsFormatException($"tensor '{Printable(name)}': {field} holds something other than a non-negative integer below 2^63.");
            if (values.Count == maxCount)
                throw new SafetensorsFormatException($"tensor '{Printable(name)}': {field} holds more than {maxCount} numbers.");
            values.Add(value);
        }
    }

    private static void CheckOffsets(List<SafetensorsTensorInfo> tensors, long dataLength)
    {
        // The format keys tensors by name; their bytes must tile the data buffer in offset order.
        tensors.Sort(static (a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (SafetensorsTensorInfo t in tensors)
        {
            if (t.Begin != expected)
            {
                throw new SafetensorsFormatException(t.Begin < expected
                    ? $"tensor '{Printable(t.Name)}' at [{t.Begin}, {t.End}] overlaps the previous tensor, which ends at {expected}."
                    : $"tensor '{Printable(t.Name)}' starts at {t.Begin}, leaving a gap after the previous tensor, which ends at {expected}.");
            }

            expected = t.End;
        }

        if (expected != dataLength)
        {
            throw new SafetensorsFormatException(expected > dataLength
                ? $"tensors end at byte {expected} of the data buffer, past its end at {dataLength} (the file is truncated or the offsets are out of range)."
                : $"tensors cover {expected} bytes of the data buffer, but it holds {dataLength} (trailing bytes are not allowed).");
        }
    }

    private static bool TryMultiply(long a, long b, out long product)
    {
        try
        {
            product = checked(a * b);
            return true;
        }
        catch (OverflowException)
        {
            product = 0;
            return false;
        }
    }

    private static SafetensorsFormatException Duplicate(string name, string field) =>
        new($"tensor '{Printable(name)}' has a duplicate field '{field}'.");

    private static void Next(ref Utf8JsonReader reader)
    {
        if (!reader.Read()) throw new SafetensorsFormatException("the header's JSON ends early.");
    }

    private static void Expect(ref Utf8JsonReader reader, JsonTokenType type, string what)
    {
        Next(ref reader);
        if (reader.TokenType != type) throw new SafetensorsFormatException($"{what} is not a JSON object.");
    }

    /// <summary>Names in messages are shortened and stripped of control characters (<see cref="UserText.Printable"/>): they come from hostile files too.</summary>
    internal static string Printable(string text) => UserText.Printable(text);

    internal static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
