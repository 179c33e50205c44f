namespace LstmSimd.IO.Onnx.Graph;

/// <summary>How an <see cref="OnnxTensor"/> holds its elements: FLOAT (also DOUBLE, FLOAT16, BFLOAT16, computed in fp32), integers as int64, or BOOL as int64 0/1.</summary>
public enum OnnxElementKind
{
    /// <summary>fp32 values in <see cref="OnnxTensor.Floats"/>.</summary>
    Float,

    /// <summary>Integers in <see cref="OnnxTensor.Int64s"/>.</summary>
    Int64,

    /// <summary>0 or 1 in <see cref="OnnxTensor.Int64s"/>.</summary>
    Bool,
}

/// <summary>
/// A named, shaped tensor of an ONNX graph: a graph input given to <see cref="OnnxGraphPlan.Run"/>, or a value it returns. The
/// elements are row-major; a tensor returned by a run is the plan's own buffer, overwritten by the plan's next run.
/// </summary>
public sealed class OnnxTensor
{
    private readonly int[] _shape;
    private readonly float[]? _floats;
    private readonly long[]? _ints;

    private OnnxTensor(string name, OnnxElementKind kind, int[] shape, float[]? floats, long[]? ints)
    {
        Name = name;
        Kind = kind;
        _shape = shape;
        _floats = floats;
        _ints = ints;
        Length = floats?.Length ?? ints!.Length;
    }

    /// <summary>The value's name in the graph.</summary>
    public string Name { get; }

    /// <summary>How the elements are held.</summary>
    public OnnxElementKind Kind { get; }

    /// <summary>The dimensions (empty for a scalar).</summary>
    public IReadOnlyList<int> Shape => _shape;

    /// <summary>The number of elements (the product of <see cref="Shape"/>).</summary>
    public int Length { get; }

    /// <summary>The elements of a <see cref="OnnxElementKind.Float"/> tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds integers.</exception>
    public float[] Floats => _floats ?? throw new InvalidOperationException($"'{Name}' holds {Kind} values, not floats.");

    /// <summary>The elements of an <see cref="OnnxElementKind.Int64"/> or <see cref="OnnxElementKind.Bool"/> tensor.</summary>
    /// <exception cref="InvalidOperationException">The tensor holds floats.</exception>
    public long[] Int64s => _ints ?? throw new InvalidOperationException($"'{Name}' holds floats, not integers.");

    /// <summary>The shape as text, e.g. <c>[5, 3, 4]</c>.</summary>
    public string ShapeText => Describe(_shape);

    /// <summary>A float tensor over <paramref name="data"/> (not copied).</summary>
    /// <exception cref="ArgumentException">The shape's element count is not the data's length.</exception>
    public static OnnxTensor FromFloats(string name, float[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new OnnxTensor(name, OnnxElementKind.Float, CheckedShape(shape, data.Length), data, null);
    }

    /// <summary>An integer tensor over <paramref name="data"/> (not copied).</summary>
    /// <exception cref="ArgumentException">The shape's element count is not the data's length.</exception>
    public static OnnxTensor FromInt64s(string name, long[] data, params int[] shape)
    {
        ArgumentNullException.ThrowIfNull(data);
        return new OnnxTensor(name, OnnxElementKind.Int64, CheckedShape(shape, data.Length), null, data);
    }

    /// <summary>Reads tensor <paramref name="tensor"/> of a safetensors file as graph value <paramref name="name"/>: float dtypes as floats, integer dtypes as int64.</summary>
    /// <exception cref="ModelFormatException">The tensor has a dtype or size the runner does not take.</exception>
    public static OnnxTensor FromSafetensors(SafetensorsFile file, string tensor, string name)
    {
        ArgumentNullException.ThrowIfNull(file);
        SafetensorsTensorInfo info = file.GetTensor(tensor);
        int[] shape = [.. info.Shape.Select(d => d <= int.MaxValue ? (int)d : throw new WeightMappingException($"'{SafetensorsFile.Printable(tensor)}' {info.ShapeText} is too large."))];
        return info.Dtype.IsInteger()
            ? FromInt64s(name, file.ReadInt64s(tensor), shape)
            : FromFloats(name, file.ReadSingles(info), shape);
    }

    /// <summary>A new zeroed tensor of <paramref name="kind"/>.</summary>
    internal static OnnxTensor Allocate(string name, OnnxElementKind kind, int[] shape)
    {
        long count = ElementCount(shape);
        if (count > Array.MaxLength) throw new OnnxFormatException($"value '{SafetensorsFile.Printable(name)}' {Describe(shape)} is too large for one array.");
        return kind == OnnxElementKind.Float
            ? new OnnxTensor(name, kind, shape, new float[count], null)
            : new OnnxTensor(name, kind, shape, null, new long[count]);
    }

    /// <summary>A tensor over another's elements with another name and shape of the same element count (Reshape, Squeeze, Identity…).</summary>
    internal OnnxTensor View(string name, int[] shape) => new(name, Kind, shape, _floats, _ints);

    /// <summary>The same elements under another kind tag (Bool ↔ Int64).</summary>
    internal OnnxTensor Retagged(string name, OnnxElementKind kind) => new(name, kind, _shape, _floats, _ints);

    internal int[] Dims => _shape;

    /// <summary>How the runner holds an ONNX element type (<c>TensorProto.DataType</c>), or null for one it does not compute with.</summary>
    internal static OnnxElementKind? KindOf(long dataType) => dataType switch
    {
        OnnxTensorProto.Float or OnnxTensorProto.Double or OnnxTensorProto.Float16 or OnnxTensorProto.BFloat16 => OnnxElementKind.Float,
        2 or 3 or 4 or 5 or OnnxTensorProto.Int32 or OnnxTensorProto.Int64 or 12 or 13 => OnnxElementKind.Int64,
        9 => OnnxElementKind.Bool,
        _ => null,
    };

    /// <summary>The product of the dims, saturating at <see cref="long.MaxValue"/> (so a hostile shape is refused by size, not by overflow).</summary>
    internal static long ElementCount(ReadOnlySpan<int> shape)
    {
        if (shape.Contains(0)) return 0;
        long count = 1;
        foreach (int d in shape) count = count > long.MaxValue / Math.Max(d, 1) ? long.MaxValue : count * d;
        return count;
    }

    internal static string Describe(ReadOnlySpan<int> shape) => "[" + string.Join(", ", shape.ToArray()) + "]";

    private static int[] CheckedShape(int[] shape, int length)
    {
        ArgumentNullException.ThrowIfNull(shape);
        foreach (int d in shape) ArgumentOutOfRangeException.ThrowIfNegative(d, nameof(shape));
        if (ElementCount(shape) != length) throw new ArgumentException($"shape {Describe(shape)} holds {ElementCount(shape)} elements; the data has {length}.", nameof(shape));
        return (int[])shape.Clone();
    }
}
