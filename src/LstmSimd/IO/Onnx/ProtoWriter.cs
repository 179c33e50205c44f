using System.Buffers;
using System.Buffers.Binary;
using System.Text;

namespace LstmSimd.IO.Onnx;

/// <summary>
/// Writes protobuf wire format, the counterpart of <see cref="ProtoReader"/>: each message is built in its own writer
/// and embedded, length first, in its parent's. Packed repeated fields are written as one length-delimited run.
/// </summary>
internal sealed class ProtoWriter
{
    private readonly ArrayBufferWriter<byte> _bytes = new();

    public ReadOnlySpan<byte> WrittenSpan => _bytes.WrittenSpan;

    public ProtoWriter Varint(int field, long value)
    {
        Tag(field, ProtoReader.Varint);
        WriteVarint(_bytes, (ulong)value);
        return this;
    }

    public ProtoWriter Fixed32(int field, float value)
    {
        Tag(field, ProtoReader.Fixed32);
        BinaryPrimitives.WriteSingleLittleEndian(_bytes.GetSpan(4), value);
        _bytes.Advance(4);
        return this;
    }

    public ProtoWriter Bytes(int field, ReadOnlySpan<byte> value)
    {
        Tag(field, ProtoReader.LengthDelimited);
        WriteVarint(_bytes, (ulong)value.Length);
        _bytes.Write(value);
        return this;
    }

    public ProtoWriter String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public ProtoWriter Message(int field, ProtoWriter message) => Bytes(field, message.WrittenSpan);

    public ProtoWriter PackedVarints(int field, ReadOnlySpan<long> values)
    {
        var packed = new ArrayBufferWriter<byte>();
        foreach (long v in values) WriteVarint(packed, (ulong)v);
        return Bytes(field, packed.WrittenSpan);
    }

    public ProtoWriter PackedFloats(int field, ReadOnlySpan<float> values)
    {
        var packed = new byte[4 * values.Length];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(packed.AsSpan(4 * i), values[i]);
        return Bytes(field, packed);
    }

    private void Tag(int field, int wireType) => WriteVarint(_bytes, ((ulong)field << 3) | (uint)wireType);

    private static void WriteVarint(ArrayBufferWriter<byte> to, ulong value)
    {
        Span<byte> span = to.GetSpan(10);
        int n = 0;
        while (value >= 0x80)
        {
            span[n++] = (byte)(value | 0x80);
            value >>= 7;
        }

        span[n++] = (byte)value;
        to.Advance(n);
    }
}
