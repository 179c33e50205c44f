using LstmSimd.IO;
using Xunit;
using Xunit.Abstractions;
using LstmSimd.IO.Onnx;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Hostile ONNX files that are small on disk but would be large in memory: tensors whose typed fields declare more
/// values than they hold, and messages that expand many times over when parsed. Each is refused, naming what is wrong,
/// and parsing never allocates more than the budget allows for the file's length.
/// </summary>
public sealed class OnnxParseLimitTests(ITestOutputHelper log)
{
    private const long TwoBillion = 2_000_000_000;

    /// <summary>A TensorProto whose dims declare <paramref name="dims"/> but whose typed field holds two values.</summary>
    private static Proto TypedTensor(string name, int dataType, long[] dims, int field, bool packed)
    {
        var t = new Proto();
        foreach (long d in dims) t.Varint(1, (ulong)d);
        t.Varint(2, (ulong)dataType).String(8, name);
        bool fixedSize = field is 4 or 10;
        int size = field == 4 ? 4 : 8;
        if (packed)
        {
            byte[] payload = fixedSize ? new byte[2 * size] : [0x01, 0x02];
            t.Bytes(field, payload);
        }
        else if (fixedSize && size == 4)
        {
            t.Fixed32(field, 1f).Fixed32(field, 2f);
        }
        else if (fixedSize)
        {
            t.Raw(Proto.EncodeVarint(((ulong)field << 3) | 1)).Raw(new byte[8]).Raw(Proto.EncodeVarint(((ulong)field << 3) | 1)).Raw(new byte[8]);
        }
        else
        {
            t.Varint(field, 1).Varint(field, 2);
        }

        return t;
    }

    private static OnnxTensorProto ParseTensor(byte[] bytes) =>
        OnnxTensorProto.Parse(new ProtoReader(bytes, budget: new OnnxParseBudget(bytes.Length)));

    public static TheoryData<int, int, bool> TypedFields => new()
    {
        { OnnxTensorProto.Float, 4, true }, { OnnxTensorProto.Float, 4, false },
        { OnnxTensorProto.Double, 10, true }, { OnnxTensorProto.Double, 10, false },
        { OnnxTensorProto.Float16, 5, true }, { OnnxTensorProto.Float16, 5, false },
        { OnnxTensorProto.Int32, 5, true }, { OnnxTensorProto.Int32, 5, false },
        { OnnxTensorProto.Int64, 7, true }, { OnnxTensorProto.Int64, 7, false },
    };

    [Theory]
    [MemberData(nameof(TypedFields))]
    public void Typed_data_declaring_billions_of_values_is_refused_before_anything_is_allocated_for_them(int dataType, int field, bool packed)
    {
        byte[] bytes = TypedTensor("huge", dataType, [TwoBillion], field, packed).ToArray();
        OnnxTensorProto tensor = ParseTensor(bytes);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.ThrowsAny<ModelFormatException>(() =>
        {
            if (dataType is OnnxTensorProto.Int32 or OnnxTensorProto.Int64) tensor.ToInt64s(bytes, null);
            else tensor.ToSingles(bytes, null);
        });
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20, "nothing near the declared size may be allocated");
        Assert.Contains("tensor 'huge'", e.Message, StringComparison.Ordinal);
        Assert.Contains("needs 2000000000 values", e.Message, StringComparison.Ordinal);
        Assert.Contains("holds 2", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [MemberData(nameof(TypedFields))]
    public void Typed_data_whose_count_matches_the_dims_decodes(int dataType, int field, bool packed)
    {
        byte[] bytes = TypedTensor("two", dataType, [2], field, packed).ToArray();
        OnnxTensorProto tensor = ParseTensor(bytes);
        int decoded = dataType is OnnxTensorProto.Int32 or OnnxTensorProto.Int64 ? tensor.ToInt64s(bytes, null).Length : tensor.ToSingles(bytes, null).Length;
        Assert.Equal(2, decoded);
    }

    [Fact]
    public void A_packed_varint_field_ending_inside_a_varint_is_refused()
    {
        byte[] bytes = new Proto().Varint(1, 2).Varint(2, OnnxTensorProto.Int64).String(8, "cut").Bytes(7, [0x01, 0x82]).ToArray();
        var e = Assert.Throws<OnnxFormatException>(() => ParseTensor(bytes).ToInt64s(bytes, null));
        Assert.Contains("runs past the end", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_small_model_whose_weights_declare_billions_of_floats_in_float_data_is_refused_with_little_allocation()
    {
        Proto w = TypedTensor("W", OnnxTensorProto.Float, [1, 4, 500_000_000], 4, packed: true);
        byte[] bytes = OnnxBuilder.Model([w, OnnxBuilder.FloatTensor("R", new float[4], [1, 4, 1])], ["X", "W", "R"], []);
        Assert.True(bytes.Length < 160);
        long before = GC.GetAllocatedBytesForCurrentThread();
        Assert.ThrowsAny<ModelFormatException>(() => OnnxModel.Parse(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 4 << 20, "the declared 2 GB must never be allocated");
    }

    /// <summary>ModelProto { graph { <paramref name="graphBody"/> } }.</summary>
    private static byte[] ModelWithGraph(byte[] graphBody)
    {
        byte[] header = [0x3A, .. Proto.EncodeVarint((ulong)graphBody.Length)]; // field 7, length-delimited
        return [.. header, .. graphBody];
    }

    private static byte[] Repeat(byte[] unit, int totalBytes)
    {
        int count = totalBytes / unit.Length;
        var bytes = new byte[count * unit.Length];
        for (int i = 0; i < count; i++) unit.CopyTo(bytes, i * unit.Length);
        return bytes;
    }

    /// <summary>A node (field 1 of GraphProto) holding <paramref name="body"/>.</summary>
    private static byte[] Node(byte[] body) => [0x0A, .. Proto.EncodeVarint((ulong)body.Length), .. body];

    public static TheoryData<string> ExpandingShapes => new() { "empty nodes", "empty attributes", "attribute tensors", "one-letter inputs", "unpacked int64_data" };

    /// <summary>Graph bodies of about <paramref name="size"/> bytes whose parsed form is many times larger than the file.</summary>
    private static byte[] Expanding(string shape, int size) => shape switch
    {
        "empty nodes" => Repeat(Node([]), size),
        // Nodes of 1,000 empty attributes (field 5) each.
        "empty attributes" => Repeat(Node(Repeat([0x2A, 0x00], 2000)), size),
        // One attribute per node, its t (field 5) set again and again to a tensor with one dim.
        "attribute tensors" => Repeat(Node(new Proto().Bytes(5, Repeat(new Proto().Message(5, new Proto().Varint(1, 1)).ToArray(), 16_000)).ToArray()), size),
        "one-letter inputs" => Repeat(Node(Repeat(new Proto().String(1, "x").ToArray(), 9000)), size),
        // One initializer (field 5 of GraphProto) of INT64 filled with unpacked int64_data (field 7) values.
        "unpacked int64_data" => new Proto().Bytes(5, [.. new Proto().Varint(2, 7).ToArray(), .. Repeat(new Proto().Varint(7, 1).ToArray(), size)]).ToArray(),
        _ => throw new ArgumentOutOfRangeException(nameof(shape)),
    };

    [Theory]
    [MemberData(nameof(ExpandingShapes))]
    public void Messages_that_expand_when_parsed_stay_within_the_budget_for_the_file_length(string shape)
    {
        byte[] bytes = ModelWithGraph(Expanding(shape, 2 << 20));
        long limit = new OnnxParseBudget(bytes.Length).Limit;
        long before = GC.GetAllocatedBytesForCurrentThread();
        Exception? refused = Record.Exception(() => OnnxModel.Parse(bytes));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        log.WriteLine($"{shape}: {bytes.Length} bytes, {(refused is null ? "parsed" : "refused")} after allocating {allocated} of the budget's {limit}: {refused?.Message}");
        Assert.True(refused is null or OnnxFormatException, $"only OnnxFormatException may escape; got {refused}");
        Assert.True(allocated <= limit, $"{shape}: parsing {bytes.Length} bytes allocated {allocated}, above the budget of {limit}");
    }

    [Fact]
    public void Ten_megabytes_of_empty_nodes_are_refused_after_a_bounded_allocation()
    {
        byte[] bytes = ModelWithGraph(Repeat(Node([]), 10 << 20));
        long limit = new OnnxParseBudget(bytes.Length).Limit;
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before <= limit);
        Assert.Contains("refused: LstmSimd limits what parsing an ONNX file may build", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_node_count_above_the_cap_is_refused_naming_the_cap()
    {
        // Nodes of 30 bytes: 1,000,001 of them fit the memory budget of a 30 MB file, but not the node cap.
        byte[] node = Node(new Proto().String(4, new string('N', 26)).ToArray());
        byte[] bytes = ModelWithGraph(Repeat(node, node.Length * (OnnxParseBudget.MaxNodes + 1)));
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(bytes));
        Assert.Contains("more than 1000000 nodes (MaxNodes)", e.Message, StringComparison.Ordinal);
    }

    // Case names only: xunit serialises theory arguments element by element, and megabyte arrays would cost it gigabytes.
    public static TheoryData<string> CappedLists => new() { "packed ints", "attributes", "rank", "string" };

    /// <summary>A graph body whose list or string is one above its cap, and the message that must name the cap.</summary>
    private static (byte[] GraphBody, string Expected) AboveCap(string what) => what switch
    {
        // Attribute ints (field 8) packed: 2,000,000 one-byte varints in 2 MB.
        "packed ints" => (Node(new Proto().Message(5, new Proto().Bytes(8, new byte[2_000_000])).ToArray()), "AttributeProto.ints holds more than 1048576 entries (MaxListLength)"),
        "attributes" => (Node(Repeat([0x2A, 0x00], 2 * (OnnxParseBudget.MaxAttributesPerNode + 1))), "more than 4096 attributes (MaxAttributesPerNode)"),
        "rank" => (new Proto().Message(5, new Proto().Bytes(1, new byte[OnnxParseBudget.MaxRank + 1])).ToArray(), "more than 64 dimensions (MaxRank)"),
        "string" => (Node(new Proto().String(4, new string('x', OnnxParseBudget.MaxStringBytes + 1)).ToArray()), "longer than 4194304 (MaxStringBytes)"),
        _ => throw new ArgumentOutOfRangeException(nameof(what)),
    };

    [Theory]
    [MemberData(nameof(CappedLists))]
    public void A_list_or_string_above_its_cap_is_refused_naming_the_cap(string what)
    {
        (byte[] graphBody, string expected) = AboveCap(what);
        byte[] bytes = ModelWithGraph(graphBody);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 2 * bytes.Length + (1 << 20), $"{what}: refused only after building it");
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_large_exported_graph_with_its_weights_outside_the_file_parses()
    {
        // Nodes as exporters write them: path-like names, two inputs, one output, a few small attributes.
        const int Nodes = 50_000;
        var graph = new Proto();
        for (int i = 0; i < Nodes; i++)
        {
            graph.Message(1, new Proto()
                .String(1, $"/encoder/layer.{i}/attention/Reshape_output_0").String(1, $"/encoder/layer.{i}/attention/shape")
                .String(2, $"/encoder/layer.{i}/attention/Transpose_output_0").String(3, $"/encoder/layer.{i}/attention/Transpose").String(4, "Transpose")
                .Message(5, new Proto().String(1, "perm").Bytes(8, [0, 2, 1, 3]).Varint(20, 7))
                .Message(5, new Proto().String(1, "axis").Varint(3, 1).Varint(20, 2)));
        }

        byte[] bytes = new Proto().Varint(1, 8).Message(7, graph).ToArray();
        OnnxModel model = OnnxModel.Parse(bytes);
        Assert.Equal(Nodes, model.Nodes.Count);
        Assert.Equal("Transpose", model.Nodes[^1].OpType);
    }
}
