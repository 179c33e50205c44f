namespace LstmSimd.IO;

/// <summary>One tensor's entry in a safetensors header, checked against the format's rules.</summary>
public sealed class SafetensorsTensorInfo
{
    internal SafetensorsTensorInfo(string name, SafetensorsDtype dtype, long[] shape, long begin, long end, long elementCount)
    {
        Name = name;
        Dtype = dtype;
        Shape = shape;
        Begin = begin;
        End = end;
        ElementCount = elementCount;
    }

    /// <summary>The tensor's name (its key in the header).</summary>
    public string Name { get; }

    /// <summary>The element type.</summary>
    public SafetensorsDtype Dtype { get; }

    /// <summary>The dimensions, outermost first; empty for a scalar.</summary>
    public IReadOnlyList<long> Shape { get; }

    /// <summary>Start of the tensor's bytes, relative to the start of the data buffer (after the header).</summary>
    public long Begin { get; }

    /// <summary>End (exclusive) of the tensor's bytes, relative to the start of the data buffer.</summary>
    public long End { get; }

    /// <summary>The product of <see cref="Shape"/> (1 for a scalar).</summary>
    public long ElementCount { get; }

    /// <summary>Bytes the tensor occupies: <see cref="ElementCount"/> × the dtype's size.</summary>
    public long ByteLength => End - Begin;

    /// <summary>The shape as PyTorch prints it, e.g. <c>[4, 3]</c>.</summary>
    public string ShapeText => "[" + string.Join(", ", Shape) + "]";

    /// <summary>Whether the shape is exactly <paramref name="dims"/>.</summary>
    public bool HasShape(params ReadOnlySpan<long> dims)
    {
        if (Shape.Count != dims.Length) return false;
        for (int i = 0; i < dims.Length; i++)
            if (Shape[i] != dims[i]) return false;
        return true;
    }

    /// <inheritdoc/>
    public override string ToString() => $"{Name}: {Dtype} {ShapeText}";
}
