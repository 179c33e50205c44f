using System.Buffers.Binary;
using System.Text;

namespace LstmSimd.Tests.IO;

/// <summary>A minimal protobuf writer, independent of the reader under test, for building ONNX models in tests.</summary>
public sealed class Proto
{
    private readonly MemoryStream _bytes = new();

    public byte[] ToArray() => _bytes.ToArray();

    public Proto Varint(int field, ulong value) => Tag(field, 0).Raw(EncodeVarint(value));

    public Proto Fixed32(int field, float value)
    {
        Tag(field, 5);
        var b = new byte[4];
        BinaryPrimitives.WriteSingleLittleEndian(b, value);
        return Raw(b);
    }

    public Proto Bytes(int field, byte[] value) => Tag(field, 2).Raw(EncodeVarint((ulong)value.Length)).Raw(value);

    public Proto String(int field, string value) => Bytes(field, Encoding.UTF8.GetBytes(value));

    public Proto Message(int field, Proto message) => Bytes(field, message.ToArray());

    public Proto Raw(byte[] bytes)
    {
        _bytes.Write(bytes);
        return this;
    }

    public static byte[] EncodeVarint(ulong value)
    {
        var b = new List<byte>();
        do
        {
            byte next = (byte)(value & 0x7F);
            value >>= 7;
            b.Add(value == 0 ? next : (byte)(next | 0x80));
        }
        while (value != 0);
        return [.. b];
    }

    private Proto Tag(int field, int wire) => Raw(EncodeVarint(((ulong)field << 3) | (uint)wire));
}

/// <summary>Builds ONNX models holding one LSTM node, field numbers from onnx.proto.</summary>
public static class OnnxBuilder
{
    public static Proto FloatTensor(string name, float[] values, long[] dims, bool packedFloatData = false, string? externalLocation = null)
    {
        var t = new Proto();
        foreach (long d in dims) t.Varint(1, (ulong)d);
        t.Varint(2, 1).String(8, name);
        var raw = new byte[values.Length * 4];
        for (int i = 0; i < values.Length; i++) BinaryPrimitives.WriteSingleLittleEndian(raw.AsSpan(4 * i), values[i]);
        if (externalLocation is not null)
        {
            t.Message(13, new Proto().String(1, "location").String(2, externalLocation));
            t.Varint(14, 1);
        }
        else if (packedFloatData)
        {
            t.Bytes(4, raw);
        }
        else
        {
            t.Bytes(9, raw);
        }

        return t;
    }

    public static Proto Attribute(string name, Action<Proto> value)
    {
        var a = new Proto().String(1, name);
        value(a);
        return a;
    }

    /// <summary>A forward LSTM (or <paramref name="opType"/>) node X,W,R,B → Y with the given initializers and attributes.</summary>
    public static byte[] Model(IEnumerable<Proto> initializers, string[] inputs, IEnumerable<Proto> attributes, Action<Proto>? extraGraph = null, string opType = "LSTM")
    {
        var node = new Proto();
        foreach (string i in inputs) node.String(1, i);
        node.String(2, "Y").String(3, opType.ToLowerInvariant()).String(4, opType);
        foreach (Proto a in attributes) node.Message(5, a);
        var graph = new Proto().Message(1, node).String(2, "g");
        foreach (Proto t in initializers) graph.Message(5, t);
        graph.Message(11, new Proto().String(1, "X")).Message(12, new Proto().String(1, "Y"));
        extraGraph?.Invoke(graph);
        return new Proto().Varint(1, 8).Message(7, graph).Message(8, new Proto().String(1, "").Varint(2, 14)).ToArray();
    }

    /// <summary>W whose ONNX gate block k (order i, o, f, c) holds the value k+1, R zero, B with W_b block k = 10(k+1), R_b block k = 100(k+1).</summary>
    public static byte[] Labelled(int hidden, int input, int directions, IEnumerable<Proto> attributes, bool packed = false)
    {
        float[] Blocks(int columns, float scale)
        {
            var v = new float[directions * 4 * hidden * columns];
            for (int d = 0; d < directions; d++)
                for (int g = 0; g < 4; g++)
                    for (int i = 0; i < hidden * columns; i++) v[(d * 4 + g) * hidden * columns + i] = scale * (g + 1);
            return v;
        }

        float[] b = new float[directions * 8 * hidden];
        for (int d = 0; d < directions; d++)
            for (int g = 0; g < 4; g++)
                for (int u = 0; u < hidden; u++)
                {
                    b[d * 8 * hidden + g * hidden + u] = 10 * (g + 1);
                    b[d * 8 * hidden + 4 * hidden + g * hidden + u] = 100 * (g + 1);
                }

        return Model(
            [FloatTensor("W", Blocks(input, 1), [directions, 4 * hidden, input], packed), FloatTensor("R", new float[directions * 4 * hidden * hidden], [directions, 4 * hidden, hidden], packed), FloatTensor("B", b, [directions, 8 * hidden], packed)],
            ["X", "W", "R", "B"], attributes);
    }

    public static Proto Ints(string name, long value) => Attribute(name, a => a.Varint(3, (ulong)value).Varint(20, 2));

    public static Proto Str(string name, string value) => Attribute(name, a => a.String(4, value).Varint(20, 3));

    public static Proto Strs(string name, params string[] values) => Attribute(name, a =>
    {
        foreach (string v in values) a.String(9, v);
        a.Varint(20, 8);
    });
}
