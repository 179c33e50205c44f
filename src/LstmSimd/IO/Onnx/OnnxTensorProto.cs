using System.Buffers.Binary;

namespace LstmSimd.IO.Onnx;

/// <summary>
/// An ONNX <c>TensorProto</c> as parsed: name, type, dims and where its data lies in the file (or in an
/// external file). Data is decoded on request, after its element count has been checked against the
/// bytes actually present, so a lying header never causes a large allocation.
/// </summary>
internal sealed class OnnxTensorProto
{
    public const int Float = 1, Int32 = 6, Int64 = 7, Float16 = 10, Double = 11, BFloat16 = 16;

    /// <summary>Where each data field lies in the file: raw_data once, or the typed fields, one entry per packed run or unpacked value.</summary>
    private readonly List<(int Field, int WireType, int Offset, int Length)> _data = [];

    /// <summary>Estimated memory of one <see cref="_data"/> entry, list growth included.</summary>
    private const int DataFieldBytes = 32;

    public string Name { get; private set; } = "";

    public int DataType { get; private set; }

    public List<long> Dims { get; } = [];

    public bool IsExternal { get; private set; }

    public Dictionary<string, string> External { get; } = new(StringComparer.Ordinal);

    public string Shape => "[" + string.Join(", ", Dims) + "]";

    public static string TypeName(int dataType) => dataType switch
    {
        1 => "FLOAT", 2 => "UINT8", 3 => "INT8", 4 => "UINT16", 5 => "INT16", 6 => "INT32", 7 => "INT64", 8 => "STRING", 9 => "BOOL",
        10 => "FLOAT16", 11 => "DOUBLE", 12 => "UINT32", 13 => "UINT64", 14 => "COMPLEX64", 15 => "COMPLEX128", 16 => "BFLOAT16",
        _ => $"type {dataType}",
    };

    /// <summary>Parses a TensorProto; what it builds is charged to the reader's budget.</summary>
    public static OnnxTensorProto Parse(ProtoReader r)
    {
        OnnxParseBudget budget = r.Budget;
        budget.Tensor();
        var t = new OnnxTensorProto();
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case OnnxFields.Tensor.Dims:
                    if (wire == ProtoReader.LengthDelimited)
                    {
                        ReadOnlySpan<byte> bytes = r.ReadBytes();
                        budget.Dims(t.Dims.Count, ProtoReader.CountVarints(bytes, "TensorProto.dims"), t.Name);
                        var packed = new ProtoReader(bytes);
                        while (!packed.End) t.Dims.Add((long)packed.ReadVarint());
                    }
                    else
                    {
                        ProtoReader.Expect(field, wire, ProtoReader.Varint, "TensorProto.dims");
                        budget.Dims(t.Dims.Count, 1, t.Name);
                        t.Dims.Add((long)r.ReadVarint());
                    }

                    break;
                case OnnxFields.Tensor.DataType:
                    ProtoReader.Expect(field, wire, ProtoReader.Varint, "TensorProto.data_type");
                    t.DataType = (int)r.ReadVarint();
                    break;
                case OnnxFields.Tensor.Segment:
                    throw new OnnxFormatException("segmented tensors (TensorProto.segment) are not supported.");
                case OnnxFields.Tensor.Name:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "TensorProto.name");
                    t.Name = r.ReadString();
                    break;
                case OnnxFields.Tensor.FloatData or OnnxFields.Tensor.Int32Data or OnnxFields.Tensor.Int64Data or OnnxFields.Tensor.RawData
                    or OnnxFields.Tensor.DoubleData or OnnxFields.Tensor.Uint64Data:
                    budget.Charge(DataFieldBytes);
                    int start = r.Offset;
                    if (wire == ProtoReader.LengthDelimited)
                    {
                        ReadOnlySpan<byte> bytes = r.ReadBytes(out int offset);
                        t._data.Add((field, wire, offset, bytes.Length));
                    }
                    else
                    {
                        r.Skip(wire);
                        t._data.Add((field, wire, start, r.Offset - start));
                    }

                    break;
                case OnnxFields.Tensor.ExternalData:
                {
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "TensorProto.external_data");
                    ProtoReader entry = r.ReadMessage();
                    string key = "", value = "";
                    while (entry.TryReadTag(out int f, out int w))
                    {
                        if (f == OnnxFields.StringEntry.Key && w == ProtoReader.LengthDelimited) key = entry.ReadString();
                        else if (f == OnnxFields.StringEntry.Value && w == ProtoReader.LengthDelimited) value = entry.ReadString();
                        else entry.Skip(w);
                    }

                    budget.MapEntry();
                    if (!t.External.TryAdd(key, value)) throw new OnnxFormatException($"external_data key '{SafetensorsFile.Printable(key)}' appears twice.");
                    break;
                }

                case OnnxFields.Tensor.DataLocation:
                    ProtoReader.Expect(field, wire, ProtoReader.Varint, "TensorProto.data_location");
                    t.IsExternal = r.ReadVarint() == 1;
                    break;
                default:
                    r.Skip(wire);
                    break;
            }
        }

        return t;
    }

    public long ElementCount()
    {
        long count = 1;
        foreach (long d in Dims)
        {
            if (d < 0) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' has a negative dimension in {Shape}.");
            try
            {
                count = checked(count * d);
            }
            catch (OverflowException e)
            {
                throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}': the element count of {Shape} overflows.", e);
            }
        }

        return count;
    }

    /// <summary>Decodes a FLOAT, DOUBLE, FLOAT16 or BFLOAT16 tensor.</summary>
    public float[] ToSingles(ReadOnlySpan<byte> file, string? directory)
    {
        int size = DataType switch { Float => 4, Double => 8, Float16 or BFloat16 => 2, _ => 0 };
        if (size == 0) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' has data type {TypeName(DataType)}; expected FLOAT, DOUBLE, FLOAT16 or BFLOAT16.");
        long declared = ElementCount();
        if (!HasRaw)
        {
            // Typed fields: FLOAT in float_data, DOUBLE in double_data, 16-bit floats as varints in int32_data.
            var typed = new TypedValues(this, file, DataType switch { Float => OnnxFields.Tensor.FloatData, Double => OnnxFields.Tensor.DoubleData, _ => OnnxFields.Tensor.Int32Data }, DataType switch { Float => 4, Double => 8, _ => 0 }, declared);
            var decoded = new float[typed.Count];
            for (int i = 0; i < decoded.Length; i++)
            {
                ulong bits = typed.Next();
                decoded[i] = DataType switch
                {
                    Float => BitConverter.Int32BitsToSingle((int)bits),
                    Double => (float)BitConverter.Int64BitsToDouble((long)bits),
                    Float16 => (float)BitConverter.UInt16BitsToHalf((ushort)bits),
                    _ => BitConverter.Int32BitsToSingle((int)(bits & 0xFFFF) << 16),
                };
            }

            return decoded;
        }

        int count = ArrayLength(declared);
        ReadOnlySpan<byte> raw = Raw(file, directory, size, count);
        var values = new float[count];
        for (int i = 0; i < count; i++)
        {
            values[i] = DataType switch
            {
                Float => BinaryPrimitives.ReadSingleLittleEndian(raw[(4 * i)..]),
                Double => (float)BinaryPrimitives.ReadDoubleLittleEndian(raw[(8 * i)..]),
                Float16 => (float)BinaryPrimitives.ReadHalfLittleEndian(raw[(2 * i)..]),
                _ => BitConverter.Int32BitsToSingle(BinaryPrimitives.ReadUInt16LittleEndian(raw[(2 * i)..]) << 16),
            };
        }

        return values;
    }

    /// <summary>Decodes an INT32 or INT64 tensor.</summary>
    public long[] ToInt64s(ReadOnlySpan<byte> file, string? directory)
    {
        int size = DataType switch { Int32 => 4, Int64 => 8, _ => 0 };
        if (size == 0) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' has data type {TypeName(DataType)}; expected INT32 or INT64.");
        long declared = ElementCount();
        if (!HasRaw)
        {
            var typed = new TypedValues(this, file, size == 4 ? OnnxFields.Tensor.Int32Data : OnnxFields.Tensor.Int64Data, 0, declared);
            var decoded = new long[typed.Count];
            for (int i = 0; i < decoded.Length; i++)
            {
                ulong v = typed.Next();
                decoded[i] = size == 4 ? (int)v : (long)v;
            }

            return decoded;
        }

        int count = ArrayLength(declared);
        ReadOnlySpan<byte> raw = Raw(file, directory, size, count);
        var values = new long[count];
        for (int i = 0; i < count; i++)
            values[i] = size == 4 ? BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]);
        return values;
    }

    /// <summary>Whether the data is raw bytes (raw_data or an external file) rather than typed fields.</summary>
    private bool HasRaw => IsExternal || _data.Exists(d => d.Field == OnnxFields.Tensor.RawData);

    private int ArrayLength(long count)
    {
        if (count > Array.MaxLength) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' {Shape} is too large for one array.");
        return (int)count;
    }

    /// <summary>The raw bytes (raw_data or external), checked to hold exactly count·size bytes before anything is allocated.</summary>
    private ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> file, string? directory, int size, int count)
    {
        long expected = (long)count * size;
        if (IsExternal)
        {
            if (_data.Count != 0) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' has both external and embedded data.");
            return OnnxExternalData.Read(this, directory, expected);
        }

        if (_data.Count > 1)
            throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' holds its data in more than one field.");
        (_, int wire, int offset, int length) = _data[0];
        if (wire != ProtoReader.LengthDelimited) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}': raw_data is not length-delimited.");
        if (length != expected)
            throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' {TypeName(DataType)} {Shape} needs {expected} bytes of raw_data; it has {length}.");
        return file.Slice(offset, length);
    }

    /// <summary>
    /// The values of a typed repeated field (packed or not; fixed-size of 4 or 8 bytes, or varints for size 0). The constructor
    /// counts them without decoding (a packed run's length bounds its count) and checks the count against the tensor's dims,
    /// so nothing is allocated for values the file does not hold; <see cref="Next"/> then decodes them in order.
    /// </summary>
    private ref struct TypedValues
    {
        private readonly OnnxTensorProto _tensor;
        private readonly ReadOnlySpan<byte> _file;
        private readonly int _size;
        private int _entry;
        private ProtoReader _current;

        public TypedValues(OnnxTensorProto tensor, ReadOnlySpan<byte> file, int field, int size, long declared)
        {
            _tensor = tensor;
            _file = file;
            _size = size;
            string name = SafetensorsFile.Printable(tensor.Name);
            int expectedWire = size == 4 ? ProtoReader.Fixed32 : size == 8 ? ProtoReader.Fixed64 : ProtoReader.Varint;
            long present = 0;
            foreach ((int f, int wire, int offset, int length) in tensor._data)
            {
                if (f != field) throw new OnnxFormatException($"tensor '{name}' of type {TypeName(tensor.DataType)} holds data in field {f}.");
                if (wire == ProtoReader.LengthDelimited)
                {
                    if (size > 0 && length % size != 0)
                        throw new OnnxFormatException($"tensor '{name}': packed field {f} holds {length} bytes, not a whole number of {size}-byte values.");
                    present += size > 0 ? length / size : ProtoReader.CountVarints(file.Slice(offset, length), $"tensor '{name}'");
                }
                else if (wire == expectedWire)
                {
                    present++;
                }
                else
                {
                    throw new OnnxFormatException($"tensor '{name}': field {f} has wire type {wire}.");
                }
            }

            if (present != declared)
                throw new OnnxFormatException($"tensor '{name}' {TypeName(tensor.DataType)} {tensor.Shape} needs {declared} values; field {field} holds {present}.");
            Count = tensor.ArrayLength(present);
        }

        /// <summary>How many values there are (equal to the tensor's element count).</summary>
        public int Count { get; }

        /// <summary>The next value; call it <see cref="Count"/> times.</summary>
        public ulong Next()
        {
            while (_current.End)
            {
                (_, _, int offset, int length) = _tensor._data[_entry++];
                _current = new ProtoReader(_file.Slice(offset, length), offset);
            }

            return _size == 4 ? _current.ReadFixed32() : _size == 8 ? _current.ReadFixed64() : _current.ReadVarint();
        }
    }
}
