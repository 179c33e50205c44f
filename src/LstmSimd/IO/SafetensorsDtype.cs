namespace LstmSimd.IO;

/// <summary>The element types of the safetensors format, named as in its header (<c>"F32"</c>, <c>"BF16"</c>, …).</summary>
public enum SafetensorsDtype
{
    /// <summary>Boolean, one byte.</summary>
    BOOL,
    /// <summary>Unsigned 8-bit integer.</summary>
    U8,
    /// <summary>Signed 8-bit integer.</summary>
    I8,
    /// <summary>8-bit float, 5 exponent bits, 2 mantissa bits (stored and listed; not converted).</summary>
    F8_E5M2,
    /// <summary>8-bit float, 4 exponent bits, 3 mantissa bits (stored and listed; not converted).</summary>
    F8_E4M3,
    /// <summary>Signed 16-bit integer.</summary>
    I16,
    /// <summary>Unsigned 16-bit integer.</summary>
    U16,
    /// <summary>IEEE half precision.</summary>
    F16,
    /// <summary>bfloat16: the top 16 bits of an IEEE single.</summary>
    BF16,
    /// <summary>Signed 32-bit integer.</summary>
    I32,
    /// <summary>Unsigned 32-bit integer.</summary>
    U32,
    /// <summary>IEEE single precision.</summary>
    F32,
    /// <summary>IEEE double precision.</summary>
    F64,
    /// <summary>Signed 64-bit integer.</summary>
    I64,
    /// <summary>Unsigned 64-bit integer.</summary>
    U64,
}

/// <summary>Sizes, names and conversions of <see cref="SafetensorsDtype"/>.</summary>
internal static class SafetensorsDtypes
{
    /// <summary>Bytes per element.</summary>
    public static int Size(this SafetensorsDtype dtype) => dtype switch
    {
        SafetensorsDtype.BOOL or SafetensorsDtype.U8 or SafetensorsDtype.I8 or SafetensorsDtype.F8_E5M2 or SafetensorsDtype.F8_E4M3 => 1,
        SafetensorsDtype.I16 or SafetensorsDtype.U16 or SafetensorsDtype.F16 or SafetensorsDtype.BF16 => 2,
        SafetensorsDtype.I32 or SafetensorsDtype.U32 or SafetensorsDtype.F32 => 4,
        SafetensorsDtype.F64 or SafetensorsDtype.I64 or SafetensorsDtype.U64 => 8,
        _ => throw new ArgumentOutOfRangeException(nameof(dtype), dtype, "Unknown dtype."),
    };

    /// <summary>Whether the dtype is a floating-point type that converts to <see cref="float"/> (F16, BF16, F32, F64).</summary>
    public static bool IsFloatingPoint(this SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.F16 or SafetensorsDtype.BF16 or SafetensorsDtype.F32 or SafetensorsDtype.F64;

    /// <summary>Whether the dtype is an integer type (BOOL excluded).</summary>
    public static bool IsInteger(this SafetensorsDtype dtype) =>
        dtype is SafetensorsDtype.U8 or SafetensorsDtype.I8 or SafetensorsDtype.I16 or SafetensorsDtype.U16
            or SafetensorsDtype.I32 or SafetensorsDtype.U32 or SafetensorsDtype.I64 or SafetensorsDtype.U64;

    /// <summary>The dtype's name in a safetensors header.</summary>
    public static string HeaderName(this SafetensorsDtype dtype) => dtype.ToString();

    /// <summary>Parses a header dtype name (case-sensitive, as the format requires); false for anything unknown.</summary>
    public static bool TryParse(string name, out SafetensorsDtype dtype)
    {
        dtype = name switch
        {
            "BOOL" => SafetensorsDtype.BOOL,
            "U8" => SafetensorsDtype.U8,
            "I8" => SafetensorsDtype.I8,
            "F8_E5M2" => SafetensorsDtype.F8_E5M2,
            "F8_E4M3" => SafetensorsDtype.F8_E4M3,
            "I16" => SafetensorsDtype.I16,
            "U16" => SafetensorsDtype.U16,
            "F16" => SafetensorsDtype.F16,
            "BF16" => SafetensorsDtype.BF16,
            "I32" => SafetensorsDtype.I32,
            "U32" => SafetensorsDtype.U32,
            "F32" => SafetensorsDtype.F32,
            "F64" => SafetensorsDtype.F64,
            "I64" => SafetensorsDtype.I64,
            "U64" => SafetensorsDtype.U64,
            _ => (SafetensorsDtype)(-1),
        };
        return (int)dtype >= 0;
    }
}
