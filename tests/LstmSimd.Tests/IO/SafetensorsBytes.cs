using System.Buffers.Binary;
using System.Text;

namespace LstmSimd.Tests.IO;

/// <summary>Builds safetensors files byte by byte, so tests can write exactly the malformed file they mean.</summary>
public static class SafetensorsBytes
{
    public static byte[] Build(string header, byte[] data, ulong? lengthField = null) => Build(Encoding.UTF8.GetBytes(header), data, lengthField);

    public static byte[] Build(byte[] header, byte[] data, ulong? lengthField = null)
    {
        var file = new byte[8 + header.Length + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(file, lengthField ?? (ulong)header.Length);
        header.CopyTo(file, 8);
        data.CopyTo(file, 8 + header.Length);
        return file;
    }

    /// <summary>One F32 tensor "a" of shape [2] over 8 bytes of data: the valid baseline the hostile cases bend.</summary>
    public const string Valid = """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""";
}
