using System.Buffers.Binary;
using System.Text;
using LstmSimd.IO;
using Xunit;

namespace LstmSimd.Tests.IO;

public sealed class SafetensorsTests
{
    private static readonly byte[] EightBytes = new byte[8];

    [Fact]
    public void Every_supported_dtype_written_by_the_writer_reads_back_with_its_exact_values()
    {
        byte[] bf16 = new byte[4];
        BinaryPrimitives.WriteUInt16LittleEndian(bf16, 0x3FC0); // 1.5 in bfloat16
        BinaryPrimitives.WriteUInt16LittleEndian(bf16.AsSpan(2), 0xC040); // -3.0
        byte[] bytes = new SafetensorsWriter()
            .AddMetadata("note", "héllo \"quoted\"")
            .Add("f32", new[] { 1.25f, -0f, float.MaxValue, float.Epsilon }, 2, 2)
            .Add("f64", new[] { Math.PI, -1e300 }, 2)
            .Add("f16", new[] { (Half)0.5f, (Half)(-65504f) }, 2)
            .Add("i64", new[] { long.MinValue, 42L }, 2)
            .Add("i32", new[] { -7, int.MaxValue }, 1, 2)
            .AddRaw("bf16", SafetensorsDtype.BF16, bf16, 2)
            .Add("empty", Array.Empty<float>(), 0, 3)
            .Add("scalar", new[] { 9f })
            .ToArray();

        using SafetensorsFile file = SafetensorsFile.Parse(bytes);
        Assert.Equal("héllo \"quoted\"", file.Metadata["note"]);
        Assert.Equal(new[] { 1.25f, -0f, float.MaxValue, float.Epsilon }, file.ReadSingles("f32"));
        Assert.True(float.IsNegative(file.ReadSingles("f32")[1]));
        Assert.Equal(new long[] { 2, 2 }, file.GetTensor("f32").Shape);
        Assert.Equal(new[] { Math.PI, -1e300 }, file.ReadDoubles("f64"));
        Assert.Equal(new[] { 0.5f, -65504f }, file.ReadSingles("f16"));
        Assert.Equal(new[] { long.MinValue, 42L }, file.ReadInt64s("i64"));
        Assert.Equal(new[] { -7L, int.MaxValue }, file.ReadInt64s("i32"));
        Assert.Equal(new[] { 1.5f, -3f }, file.ReadSingles("bf16"));
        Assert.Empty(file.ReadSingles("empty"));
        Assert.Equal(new[] { 9f }, file.ReadSingles("scalar"));
        Assert.Empty(file.GetTensor("scalar").Shape);
    }

    [Fact]
    public void The_writer_lays_out_an_8_byte_length_a_space_padded_header_and_contiguous_data_in_name_order()
    {
        byte[] bytes = new SafetensorsWriter().Add("b", new[] { 2f }, 1).Add("a", new[] { 1f, 1f }, 2).ToArray();
        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes);
        string header = Encoding.UTF8.GetString(bytes, 8, (int)n);
        Assert.Equal(0, (8 + (int)n) % 8);
        Assert.Equal("""{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}""", header.TrimEnd(' '));
        Assert.Equal(8 + (int)n + 12, bytes.Length);
        Assert.Equal(1f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n)));
        Assert.Equal(2f, BinaryPrimitives.ReadSingleLittleEndian(bytes.AsSpan(8 + (int)n + 8)));
    }

    [Fact]
    public void A_memory_mapped_file_and_a_stream_give_the_same_tensors_as_memory()
    {
        string path = Path.Combine(Path.GetTempPath(), $"lstmsimd-{Guid.NewGuid():N}.safetensors");
        var values = Enumerable.Range(0, 40000).Select(i => i * 0.5f).ToArray(); // more than one read chunk
        new SafetensorsWriter().Add("x", values, 200, 200).Add("y", new[] { 3.0 }, 1).Save(path);
        try
        {
            using SafetensorsFile mapped = SafetensorsFile.Open(path);
            using SafetensorsFile streamed = SafetensorsFile.Open(File.OpenRead(path));
            Assert.Equal(values, mapped.ReadSingles("x"));
            Assert.Equal(values, streamed.ReadSingles("x"));
            Assert.Equal(new[] { 3.0 }, streamed.ReadDoubles("y"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_stream_is_read_on_demand_the_header_first_and_then_only_the_tensor_asked_for()
    {
        byte[] bytes = new SafetensorsWriter().Add("big", new float[100_000], 100_000).Add("small", new[] { 1f, 2f }, 2).ToArray();
        using var stream = new CountingStream(bytes);
        using SafetensorsFile file = SafetensorsFile.Open(stream, leaveOpen: true);
        long afterHeader = stream.BytesRead;
        Assert.True(afterHeader < 300, $"opening read {afterHeader} bytes");
        Assert.Equal(new[] { 1f, 2f }, file.ReadSingles("small"));
        Assert.Equal(afterHeader + 8, stream.BytesRead);
    }

    [Fact]
    public void A_header_length_above_the_cap_is_refused_before_the_header_is_read()
    {
        byte[] bytes = SafetensorsBytes.Build(SafetensorsBytes.Valid, EightBytes);
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Parse(bytes, maxHeaderLength: 16));
        Assert.Contains("exceeds the limit of 16", e.Message, StringComparison.Ordinal);
        using SafetensorsFile ok = SafetensorsFile.Parse(bytes); // the default cap takes it
        Assert.Single(ok.Tensors);
    }

    [Fact]
    public void A_huge_header_length_is_refused_without_allocating_for_it()
    {
        byte[] bytes = SafetensorsBytes.Build(SafetensorsBytes.Valid, EightBytes, lengthField: 99_000_000);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Parse(bytes));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Contains("past the end of the file", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 64 * 1024, $"allocated {allocated} bytes");
    }

    [Fact]
    public void An_absurd_shape_whose_byte_count_fits_in_64_bits_is_refused_without_allocating_for_it()
    {
        string header = """{"a":{"dtype":"F32","shape":[1048576,1048576,1024],"data_offsets":[0,8]}}""";
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Parse(SafetensorsBytes.Build(header, EightBytes)));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
        Assert.Contains("need 4503599627370496 bytes", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shape_of_more_dimensions_than_the_cap_is_refused_before_the_list_grows()
    {
        // 5 million zero dimensions in a 10 MB header: 40 MB as a list of longs, for a tensor of no elements.
        string zeros = string.Join(",", Enumerable.Repeat("0", 5_000_000));
        byte[] bytes = SafetensorsBytes.Build($$$"""{"a":{"dtype":"F32","shape":[{{{zeros}}}],"data_offsets":[0,0]}}""", []);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Parse(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 64 * 1024);
        Assert.Contains("tensor 'a': shape holds more than 64 numbers", e.Message, StringComparison.Ordinal);

        string sixtyFour = string.Join(",", Enumerable.Repeat("1", 64));
        using SafetensorsFile ok = SafetensorsFile.Parse(SafetensorsBytes.Build($$$"""{"a":{"dtype":"F32","shape":[{{{sixtyFour}}}],"data_offsets":[0,4]}}""", new byte[4]));
        Assert.Equal(64, ok.Tensors[0].Shape.Count);
    }

    public static TheoryData<string, string> MalformedHeaders => new()
    {
        { "[1,2]", "does not start with '{'" },
        { " " + SafetensorsBytes.Valid, "does not start with '{'" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},}""", "not valid JSON" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}""", "not valid JSON" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} {}""", "not valid JSON" },
        { """{"a":{"dtype":"F32","shape":[2],/*c*/"data_offsets":[0,8]}}""", "not valid JSON" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"a":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}""", "duplicate key 'a'" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"\u0061":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}""", "duplicate key 'a'" },
        { """{"__metadata__":{"k":"1","k":"2"},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "duplicate key 'k' in __metadata__" },
        { """{"__metadata__":{},"__metadata__":{},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "duplicate key '__metadata__'" },
        { """{"a":{"dtype":"F32","dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "duplicate field 'dtype'" },
        { """{"__metadata__":{"k":1},"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "is not a string" },
        { """{"__metadata__":["k"],"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", "must be an object" },
        { """{"a":{"dtype":"F31","shape":[2],"data_offsets":[0,8]}}""", "unknown dtype 'F31'" },
        { """{"a":{"dtype":"f32","shape":[2],"data_offsets":[0,8]}}""", "unknown dtype 'f32'" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"extra":1}}""", "unknown field 'extra'" },
        { """{"a":{"dtype":"F32","data_offsets":[0,8]}}""", "lacks shape" },
        { """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", "non-negative integer" },
        { """{"a":{"dtype":"F32","shape":[2.0],"data_offsets":[0,8]}}""", "non-negative integer" },
        { """{"a":{"dtype":"F32","shape":[[2]],"data_offsets":[0,8]}}""", "non-negative integer" },
        { """{"a":{"dtype":"F32","shape":[99999999999999999999],"data_offsets":[0,8]}}""", "non-negative integer" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8,16]}}""", "exactly 2 numbers" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[8,0]}}""", "end before they begin" },
        { """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", "need 12 bytes" },
        { """{"a":{"dtype":"F32","shape":[4294967296,4294967296],"data_offsets":[0,8]}}""", "element count" },
        { """{"a":{"dtype":"F64","shape":[3074457345618258603],"data_offsets":[0,8]}}""", "byte length" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"F32","shape":[1],"data_offsets":[2,6]}}""", "overlaps" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[2],"data_offsets":[6,8]}}""", "leaving a gap" },
        { """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", "past its end" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}""", "trailing bytes" },
        { """{"a":{"dtype":"F32","shape":[1],"data_offsets":[4,8]}}""", "leaving a gap" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":"x"}""", "is not an object" },
        { """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"bad\uD800":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}""", "invalid JSON string" },
    };

    [Theory]
    [MemberData(nameof(MalformedHeaders))]
    public void A_header_that_breaks_a_format_rule_is_refused_with_a_message_naming_the_rule(string header, string expected)
    {
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Parse(SafetensorsBytes.Build(header, EightBytes)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.IsAssignableFrom<ModelFormatException>(e);
        Assert.IsAssignableFrom<IOException>(e);
    }

    [Fact]
    public void A_header_with_invalid_UTF_8_is_refused()
    {
        byte[] header = Encoding.UTF8.GetBytes("""{"aé":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""");
        int i = Array.IndexOf(header, (byte)0xC3);
        header[i] = 0xFF;
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Parse(SafetensorsBytes.Build(header, EightBytes)));
        Assert.Contains("UTF-8", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_file_of_fewer_than_8_bytes_and_every_truncation_of_a_valid_file_are_refused()
    {
        byte[] valid = new SafetensorsWriter().Add("a", new[] { 1f, 2f }, 2).Add("b", new[] { 3L }, 1).ToArray();
        for (int length = 0; length < valid.Length; length++)
            Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Parse(valid.AsMemory(0, length)));
        var e = Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Parse(new byte[7]));
        Assert.Contains("too short", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_empty_file_on_disk_is_refused_as_too_short()
    {
        string path = Path.GetTempFileName();
        try
        {
            Assert.Throws<SafetensorsFormatException>(() => SafetensorsFile.Open(path));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Offsets_listed_out_of_order_in_the_header_are_accepted_when_the_data_is_tiled_exactly()
    {
        string header = """{"b":{"dtype":"F32","shape":[1],"data_offsets":[4,8]},"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},"z":{"dtype":"F32","shape":[0],"data_offsets":[8,8]}}""";
        byte[] data = new byte[8];
        BinaryPrimitives.WriteSingleLittleEndian(data, 1f);
        BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4), 2f);
        using SafetensorsFile file = SafetensorsFile.Parse(SafetensorsBytes.Build(header, data));
        Assert.Equal(new[] { "a", "b", "z" }, file.Tensors.Select(t => t.Name));
        Assert.Equal(new[] { 2f }, file.ReadSingles("b"));
    }

    [Fact]
    public void Reading_a_dtype_that_does_not_convert_says_so()
    {
        byte[] bytes = new SafetensorsWriter().AddRaw("f8", SafetensorsDtype.F8_E4M3, new byte[2], 2).Add("f", new[] { 1f }, 1).ToArray();
        using SafetensorsFile file = SafetensorsFile.Parse(bytes);
        var e = Assert.Throws<SafetensorsFormatException>(() => file.ReadSingles("f8"));
        Assert.Contains("F8_E4M3", e.Message, StringComparison.Ordinal);
        Assert.Throws<SafetensorsFormatException>(() => file.ReadInt64s("f"));
    }

    [Fact]
    public void The_golden_files_written_by_Python_parse_and_their_integer_lengths_read_back()
    {
        using SafetensorsFile file = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", "variable_lengths.safetensors"));
        Assert.Equal(new[] { 7L, 5, 2 }, file.ReadInt64s("lengths"));
        Assert.Equal(SafetensorsDtype.F64, file.GetTensor("output").Dtype);
        Assert.Contains("\"module\": \"LSTM\"", file.Metadata["config"], StringComparison.Ordinal);
    }

    private sealed class CountingStream(byte[] bytes) : MemoryStream(bytes)
    {
        public long BytesRead { get; private set; }

        public override int Read(byte[] buffer, int offset, int count)
        {
            int n = base.Read(buffer, offset, count);
            BytesRead += n;
            return n;
        }
    }
}
