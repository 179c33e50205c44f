using System.Buffers.Binary;

namespace LstmSimd.IO;

/// <summary>
/// An ONNX <c>TensorProto</c> as parsed: name, type, dims and where its data lies in the file (or in an
/// external file). Data is decoded on request, after its element count has been checked against the
/// bytes actually present, so a lying header never causes a large allocation.
/// </summary>
internal sealed class OnnxTensorProto
{
    public const int Float = 1, Int32 = 6, Int64 = 7, Float16 = 10, Double = 11, BFloat16 = 16;

    private readonly List<(int Field, int WireType, int Offset, int Length)> _data = [];

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

    public static OnnxTensorProto Parse(ProtoReader r)
    {
        var t = new OnnxTensorProto();
        while (r.TryReadTag(out int field, out int wire))
        {
            switch (field)
            {
                case 1: // dims
                    if (wire == ProtoReader.LengthDelimited)
                    {
                        var packed = new ProtoReader(r.ReadBytes());
                        while (!packed.End) t.Dims.Add((long)packed.ReadVarint());
                    }
                    else
                    {
                        ProtoReader.Expect(field, wire, ProtoReader.Varint, "TensorProto.dims");
                        t.Dims.Add((long)r.ReadVarint());
                    }

                    break;
                case 2:
                    ProtoReader.Expect(field, wire, ProtoReader.Varint, "TensorProto.data_type");
                    t.DataType = (int)r.ReadVarint();
                    break;
                case 3:
                    throw new OnnxFormatException("segmented tensors (TensorProto.segment) are not supported.");
                case 8:
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "TensorProto.name");
                    t.Name = r.ReadString();
                    break;
                case 4 or 5 or 7 or 9 or 10 or 11:
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
                case 13:
                {
                    ProtoReader.Expect(field, wire, ProtoReader.LengthDelimited, "TensorProto.external_data");
                    ProtoReader entry = r.ReadMessage();
                    string key = "", value = "";
                    while (entry.TryReadTag(out int f, out int w))
                    {
                        if (f == 1 && w == ProtoReader.LengthDelimited) key = entry.ReadString();
                        else if (f == 2 && w == ProtoReader.LengthDelimited) value = entry.ReadString();
                        else entry.Skip(w);
                    }

                    if (!t.External.TryAdd(key, value)) throw new OnnxFormatException($"external_data key '{SafetensorsFile.Printable(key)}' appears twice.");
                    break;
                }

                case 14:
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
        int count = CheckedCount();
        ReadOnlySpan<byte> raw = Raw(file, directory, size, count, out bool hasRaw);
        var values = new float[count];
        if (hasRaw)
        {
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

        // Typed fields: FLOAT in float_data, DOUBLE in double_data, 16-bit floats as varints in int32_data.
        int expectedField = DataType switch { Float => 4, Double => 10, _ => 5 };
        int n = 0;
        foreach (ulong bits in Values(file, expectedField, DataType == Float ? 4 : DataType == Double ? 8 : 0, count))
        {
            values[n++] = DataType switch
            {
                Float => BitConverter.Int32BitsToSingle((int)bits),
                Double => (float)BitConverter.Int64BitsToDouble((long)bits),
                Float16 => (float)BitConverter.UInt16BitsToHalf((ushort)bits),
                _ => BitConverter.Int32BitsToSingle((int)(bits & 0xFFFF) << 16),
            };
        }

        return values;
    }

    /// <summary>Decodes an INT32 or INT64 tensor.</summary>
    public long[] ToInt64s(ReadOnlySpan<byte> file, string? directory)
    {
        int size = DataType switch { Int32 => 4, Int64 => 8, _ => 0 };
        if (size == 0) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' has data type {TypeName(DataType)}; expected INT32 or INT64.");
        int count = CheckedCount();
        ReadOnlySpan<byte> raw = Raw(file, directory, size, count, out bool hasRaw);
        var values = new long[count];
        if (hasRaw)
        {
            for (int i = 0; i < count; i++)
                values[i] = size == 4 ? BinaryPrimitives.ReadInt32LittleEndian(raw[(4 * i)..]) : BinaryPrimitives.ReadInt64LittleEndian(raw[(8 * i)..]);
            return values;
        }

        int n = 0;
        foreach (ulong v in Values(file, size == 4 ? 5 : 7, 0, count))
            values[n++] = size == 4 ? (int)v : (long)v;
        return values;
    }

    private int CheckedCount()
    {
        long count = ElementCount();
        if (count > Array.MaxLength) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' {Shape} is too large for one array.");
        return (int)count;
    }

    /// <summary>The raw bytes (raw_data or external), checked to hold exactly count·size bytes; hasRaw false when the tensor uses typed fields.</summary>
    private ReadOnlySpan<byte> Raw(ReadOnlySpan<byte> file, string? directory, int size, int count, out bool hasRaw)
    {
        long expected = (long)count * size;
        if (IsExternal)
        {
            if (_data.Count != 0) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' has both external and embedded data.");
            hasRaw = true;
            return OnnxExternalData.Read(this, directory, expected);
        }

        int rawFields = _data.Count(d => d.Field == 9);
        if (rawFields == 0)
        {
            hasRaw = false;
            return default;
        }

        if (rawFields > 1 || _data.Count > 1)
            throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' holds its data in more than one field.");
        (_, int wire, int offset, int length) = _data[0];
        if (wire != ProtoReader.LengthDelimited) throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}': raw_data is not length-delimited.");
        if (length != expected)
            throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' {TypeName(DataType)} {Shape} needs {expected} bytes of raw_data; it has {length}.");
        hasRaw = true;
        return file.Slice(offset, length);
    }

    /// <summary>The values of a typed repeated field, packed or not: fixed-size (4 or 8 bytes) or varints (size 0); their number must be count.</summary>
    private List<ulong> Values(ReadOnlySpan<byte> file, int field, int size, int count)
    {
        var values = new List<ulong>(Math.Min(count, 1 << 16));
        foreach ((int f, int wire, int offset, int length) in _data)
        {
            if (f != field)
                throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' of type {TypeName(DataType)} holds data in field {f}.");
            var r = new ProtoReader(file.Slice(offset, length), offset);
            bool packed = wire == ProtoReader.LengthDelimited;
            int expectedWire = size == 4 ? ProtoReader.Fixed32 : size == 8 ? ProtoReader.Fixed64 : ProtoReader.Varint;
            if (!packed && wire != expectedWire)
                throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}': field {f} has wire type {wire}.");
            while (!r.End)
            {
                if (values.Count == count)
                    throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' {Shape} holds more than {count} values.");
                values.Add(size == 4 ? r.ReadFixed32() : size == 8 ? r.ReadFixed64() : r.ReadVarint());
            }
        }

        if (values.Count != count)
            throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(Name)}' {Shape} needs {count} values; it holds {values.Count}.");
        return values;
    }
}
