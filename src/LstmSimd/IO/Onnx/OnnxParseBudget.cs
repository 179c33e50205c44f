using System.Globalization;

namespace LstmSimd.IO.Onnx;

/// <summary>
/// What parsing one ONNX file may build. Protobuf is compact: an empty message is 2 bytes on disk but a parsed
/// object of a hundred or more, and a packed varint is 1 byte but an 8-byte list entry, so a small hostile file could
/// otherwise expand into gigabytes. Every object the parser creates is charged here at an estimate of its size in
/// memory (rounded up), and parsing stops with <see cref="OnnxFormatException"/> naming the limit once the charges
/// pass <see cref="MemoryPerFileByte"/> × the file's length + <see cref="FixedMemory"/>, or once a count below is
/// exceeded. The limits are far above what exported models use: their weights fill the file, or, kept as external
/// data, leave nodes of tens of bytes each that cost a few times that in memory.
/// </summary>
internal sealed class OnnxParseBudget
{
    /// <summary>Estimated memory a parse may build per byte of the file.</summary>
    public const long MemoryPerFileByte = 32;

    /// <summary>Estimated memory any file may use, however small.</summary>
    public const long FixedMemory = 16L << 20;

    /// <summary>Nodes in the whole file, subgraphs included.</summary>
    public const int MaxNodes = 1_000_000;

    /// <summary>Attributes of one node.</summary>
    public const int MaxAttributesPerNode = 4096;

    /// <summary>Entries of one repeated field: a node's inputs or outputs, an attribute's ints, floats or strings, a graph's inputs.</summary>
    public const int MaxListLength = 1 << 20;

    /// <summary>Dimensions of one tensor.</summary>
    public const int MaxRank = 64;

    /// <summary>UTF-8 bytes of one string (a name, an op type, a string attribute).</summary>
    public const int MaxStringBytes = 4 << 20;

    /// <summary>Levels of nested messages (model, graph, node, attribute, tensor, and again for every subgraph).</summary>
    public const int MaxDepth = 16;

    // Estimated sizes on a 64-bit runtime, including the slot in the list or dictionary that holds the object
    // (doubled for list growth) and what the finished OnnxModel adds per object (node and initializer records).
    private const int NodeBytes = 256, AttributeBytes = 256, TensorBytes = 384, ListEntryBytes = 16, MapEntryBytes = 64, StringBytes = 24;

    private readonly long _limit;
    private long _charged;
    private int _nodes;

    public OnnxParseBudget(long fileLength)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(fileLength);
        _limit = fileLength > (long.MaxValue - FixedMemory) / MemoryPerFileByte ? long.MaxValue : fileLength * MemoryPerFileByte + FixedMemory;
    }

    /// <summary>Estimated bytes charged so far.</summary>
    public long Charged => _charged;

    /// <summary>The most that may be charged for this file.</summary>
    public long Limit => _limit;

    public void Node()
    {
        if (++_nodes > MaxNodes) throw Refused($"the file holds more than {Count(MaxNodes)} nodes (MaxNodes)");
        Charge(NodeBytes);
    }

    /// <param name="existing">Attributes the node already has.</param>
    public void Attribute(int existing)
    {
        if (existing >= MaxAttributesPerNode) throw Refused($"a node has more than {Count(MaxAttributesPerNode)} attributes (MaxAttributesPerNode)");
        Charge(AttributeBytes);
    }

    public void Tensor() => Charge(TensorBytes);

    /// <summary>A dictionary entry: an opset, an external-data key, a named initializer.</summary>
    public void MapEntry() => Charge(MapEntryBytes);

    /// <summary><paramref name="added"/> more entries for a repeated field that holds <paramref name="existing"/>.</summary>
    public void ListEntries(int existing, long added, string what)
    {
        if (added > MaxListLength - (long)existing) throw Refused($"{what} holds more than {Count(MaxListLength)} entries (MaxListLength)");
        Charge(added * ListEntryBytes);
    }

    /// <summary><paramref name="added"/> more dimensions for a tensor that has <paramref name="existing"/>.</summary>
    public void Dims(int existing, long added, string tensorName)
    {
        if (added > MaxRank - (long)existing) throw Refused($"tensor '{SafetensorsFile.Printable(tensorName)}' has more than {Count(MaxRank)} dimensions (MaxRank)");
        Charge(added * ListEntryBytes);
    }

    public void String(int utf8Bytes)
    {
        if (utf8Bytes > MaxStringBytes) throw Refused($"a string of {Count(utf8Bytes)} bytes is longer than {Count(MaxStringBytes)} (MaxStringBytes)");
        Charge(StringBytes + 2L * utf8Bytes); // UTF-16: at most two bytes per UTF-8 byte
    }

    /// <summary>Charges an estimate of <paramref name="bytes"/> for something without a method of its own.</summary>
    public void Charge(long bytes)
    {
        _charged += bytes;
        if (_charged > _limit)
        {
            throw Refused($"parsing it would take more than {Count(_limit)} bytes of memory ({Count(MemoryPerFileByte)} per byte of the file + {Count(FixedMemory)}; MemoryPerFileByte)");
        }
    }

    public static OnnxFormatException Refused(string what) => new($"{what}; refused: LstmSimd limits what parsing an ONNX file may build.");

    private static string Count(long n) => n.ToString(CultureInfo.InvariantCulture);
}
