namespace LstmSimd.IO.Onnx;

/// <summary>
/// A bounds-checked reader of protobuf wire format over one message's bytes. Every length and varint
/// is checked against what is left; groups (wire types 3 and 4), reserved wire types, field 0, varints
/// longer than 10 bytes and nesting deeper than <see cref="OnnxParseBudget.MaxDepth"/> are refused with
/// <see cref="OnnxFormatException"/>. Offsets are absolute (relative to the whole file), so a parsed
/// field can be found again later without copying it. A reader made with a <see cref="OnnxParseBudget"/>
/// hands it to the readers of its nested messages and charges every string it reads to it.
/// </summary>
internal ref struct ProtoReader
{
    public const int Varint = 0, Fixed64 = 1, LengthDelimited = 2, Fixed32 = 5;

    /// <summary>The nesting limit, which the parse budget owns (kept here for readers of the wire format).</summary>
    public const int MaxDepth = OnnxParseBudget.MaxDepth;

    private readonly ReadOnlySpan<byte> _data;
    private readonly int _base;
    private readonly int _depth;
    private readonly OnnxParseBudget? _budget;
    private int _position;

    public ProtoReader(ReadOnlySpan<byte> data, int baseOffset = 0, int depth = 0, OnnxParseBudget? budget = null)
    {
        if (depth > OnnxParseBudget.MaxDepth) throw OnnxParseBudget.Refused($"messages nest deeper than {OnnxParseBudget.MaxDepth} levels (MaxDepth)");
        _data = data;
        _base = baseOffset;
        _depth = depth;
        _budget = budget;
        _position = 0;
    }

    /// <summary>The budget of the file being parsed (readers that only decode numbers have none).</summary>
    public readonly OnnxParseBudget Budget => _budget ?? throw new InvalidOperationException("This reader was made without a parse budget.");

    /// <summary>Absolute offset of the next byte.</summary>
    public readonly int Offset => _base + _position;

    public readonly bool End => _position >= _data.Length;

    /// <summary>Bytes left to read.</summary>
    public readonly int Remaining => _data.Length - _position;

    public bool TryReadTag(out int field, out int wireType)
    {
        if (End)
        {
            field = wireType = 0;
            return false;
        }

        ulong tag = ReadVarint();
        if (tag > uint.MaxValue) throw new OnnxFormatException($"a field tag at byte {Offset} is larger than 32 bits.");
        field = (int)(tag >> 3);
        wireType = (int)(tag & 7);
        if (field == 0) throw new OnnxFormatException($"field number 0 at byte {Offset}.");
        if (wireType is 3 or 4) throw new OnnxFormatException($"field {field} uses a protobuf group (wire type {wireType}), which ONNX never does.");
        if (wireType > 5) throw new OnnxFormatException($"field {field} has the invalid wire type {wireType}.");
        return true;
    }

    public ulong ReadVarint()
    {
        ulong value = 0;
        for (int i = 0; i < 10; i++)
        {
            if (_position >= _data.Length) throw new OnnxFormatException($"a varint runs past the end of its message at byte {Offset}.");
            byte b = _data[_position++];
            if (i == 9 && b > 1) throw new OnnxFormatException($"a varint overflows 64 bits at byte {Offset}.");
            value |= (ulong)(b & 0x7F) << (7 * i);
            if (b < 0x80) return value;
        }

        throw new OnnxFormatException($"a varint is longer than 10 bytes at byte {Offset}.");
    }

    public uint ReadFixed32() => System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(Take(4));

    public ulong ReadFixed64() => System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

    /// <summary>A length-delimited field's bytes; <paramref name="offset"/> is their absolute offset.</summary>
    public ReadOnlySpan<byte> ReadBytes(out int offset)
    {
        ulong length = ReadVarint();
        if (length > (ulong)(_data.Length - _position))
            throw new OnnxFormatException($"a field of {length} bytes at byte {Offset} runs past the end of its message ({_data.Length - _position} bytes left).");
        offset = Offset;
        return Take((int)length);
    }

    public ReadOnlySpan<byte> ReadBytes() => ReadBytes(out _);

    public ProtoReader ReadMessage()
    {
        ReadOnlySpan<byte> bytes = ReadBytes(out int offset);
        return new ProtoReader(bytes, offset, _depth + 1, _budget);
    }

    public string ReadString()
    {
        ReadOnlySpan<byte> bytes = ReadBytes();
        _budget?.String(bytes.Length);
        try
        {
            return Strict.GetString(bytes);
        }
        catch (System.Text.DecoderFallbackException e)
        {
            throw new OnnxFormatException($"a string before byte {Offset} is not valid UTF-8.", e);
        }
    }

    public void Skip(int wireType)
    {
        switch (wireType)
        {
            case Varint: ReadVarint(); break;
            case Fixed64: Take(8); break;
            case LengthDelimited: ReadBytes(); break;
            case Fixed32: Take(4); break;
            default: throw new OnnxFormatException($"cannot skip wire type {wireType}.");
        }
    }

    /// <summary>
    /// The number of varints in a packed field's bytes, counted without decoding them (each ends with a byte below 0x80);
    /// bytes that end inside a varint are refused.
    /// </summary>
    public static int CountVarints(ReadOnlySpan<byte> packed, string what)
    {
        if (packed.Length > 0 && packed[^1] >= 0x80) throw new OnnxFormatException($"{what}: its last varint runs past the end of the field.");
        int count = 0;
        foreach (byte b in packed)
        {
            if (b < 0x80) count++;
        }

        return count;
    }

    /// <summary>A field that must have a given wire type.</summary>
    public static void Expect(int field, int wireType, int expected, string what)
    {
        if (wireType != expected) throw new OnnxFormatException($"{what} (field {field}) has wire type {wireType}; expected {expected}.");
    }

    private ReadOnlySpan<byte> Take(int count)
    {
        if (count > _data.Length - _position)
            throw new OnnxFormatException($"{count} bytes at byte {Offset} run past the end of their message.");
        ReadOnlySpan<byte> slice = _data.Slice(_position, count);
        _position += count;
        return slice;
    }

    private static readonly System.Text.UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
}
