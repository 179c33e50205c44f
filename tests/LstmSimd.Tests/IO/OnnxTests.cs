using LstmSimd.IO;
using Xunit;
using LstmSimd.IO.Onnx;

namespace LstmSimd.Tests.IO;

public sealed class OnnxTests
{
    [Fact]
    public void ONNX_gate_blocks_i_o_f_c_land_in_PyTorch_order_i_f_g_o_and_B_splits_into_the_two_biases()
    {
        foreach (bool packed in new[] { false, true })
        {
            OnnxModel model = OnnxModel.Parse(OnnxBuilder.Labelled(hidden: 2, input: 3, directions: 1, [OnnxBuilder.Ints("hidden_size", 2)], packed));
            LstmLayerWeights w = Assert.Single(model.LstmNodes).Model!.Weights[0, 0];
            // ONNX blocks hold 1 (i), 2 (o), 3 (f), 4 (c); ours must read i, f, g(=c), o.
            Assert.Equal(new float[] { 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3, 4, 4, 4, 4, 4, 4, 2, 2, 2, 2, 2, 2 }, w.WeightIh);
            Assert.Equal(new float[] { 10, 10, 30, 30, 40, 40, 20, 20 }, w.BiasIh);
            Assert.Equal(new float[] { 100, 100, 300, 300, 400, 400, 200, 200 }, w.BiasHh);
        }
    }

    [Fact]
    public void ONNX_peepholes_in_order_i_o_f_are_stored_in_order_i_f_o()
    {
        OnnxModel golden = OnnxModel.Load(GoldenRunner.GoldenPath("onnx", "peepholes.onnx"));
        ImportedLstm model = Assert.Single(golden.LstmNodes).Model!;
        Assert.True(model.Weights.Spec.Cell.Peepholes);
        // The raw P initializer, read with the test's own decoder: last initializer's raw_data.
        float[] p = RawInitializer(File.ReadAllBytes(GoldenRunner.GoldenPath("onnx", "peepholes.onnx")), "P");
        int h = 7;
        Assert.Equal(p[..h], model.Weights[0, 0].Peephole[..h]);
        Assert.Equal(p[(2 * h)..], model.Weights[0, 0].Peephole[h..(2 * h)]);
        Assert.Equal(p[h..(2 * h)], model.Weights[0, 0].Peephole[(2 * h)..]);
    }

    public static TheoryData<string, string> UnsupportedAttributes => new()
    {
        { "Elu", "activation 'Elu' is not supported" },
        { "Softsign", "activation 'Softsign' is not supported" },
    };

    [Theory]
    [MemberData(nameof(UnsupportedAttributes))]
    public void An_activation_LstmSimd_does_not_have_is_a_clear_error(string activation, string expected)
    {
        byte[] bytes = OnnxBuilder.Labelled(2, 3, 1, [OnnxBuilder.Strs("activations", "Sigmoid", activation, "Tanh")]);
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(bytes));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_attributes_are_refused_with_what_is_wrong()
    {
        foreach ((Proto[] attributes, int dirs, string expected) in new (Proto[], int, string)[]
        {
            ([OnnxBuilder.Str("direction", "sideways")], 1, "direction 'sideways'"),
            ([OnnxBuilder.Ints("layout", 2)], 1, "layout 2"),
            ([OnnxBuilder.Ints("hidden_size", 3)], 1, "hidden_size 3 disagrees"),
            ([OnnxBuilder.Ints("frobnicate", 1)], 1, "unknown attribute 'frobnicate'"),
            ([OnnxBuilder.Ints("layout", 0), OnnxBuilder.Ints("layout", 0)], 1, "appears twice"),
            ([OnnxBuilder.Strs("activations", "Sigmoid", "Tanh")], 1, "lists 2 functions"),
            ([OnnxBuilder.Str("direction", "bidirectional"), OnnxBuilder.Strs("activations", "Sigmoid", "Tanh", "Tanh", "Sigmoid", "Relu", "Tanh")], 2, "different activations"),
            ([OnnxBuilder.Attribute("clip", a => a.Fixed32(2, -1f))], 1, "clip -1"),
            ([OnnxBuilder.Str("direction", "bidirectional")], 1, "W has shape [1, 8, 3]; expected [2, 8, 3]"),
        })
        {
            var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(OnnxBuilder.Labelled(2, 3, dirs, attributes)));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Weights_that_are_graph_inputs_are_imported_without_weights_and_need_hidden_size()
    {
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(OnnxBuilder.Model([], ["X", "W", "R"], [])));
        Assert.Contains("computed at run time and it has no hidden_size attribute", e.Message, StringComparison.Ordinal);

        OnnxLstmNode node = Assert.Single(OnnxModel.Parse(OnnxBuilder.Model([], ["X", "W", "R"], [OnnxBuilder.Ints("hidden_size", 2)])).LstmNodes);
        Assert.True(node.WeightsAtRunTime);
        Assert.Null(node.Model);
        Assert.Contains("weights (W, R) read at run time", node.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_truncation_of_a_valid_ONNX_file_is_refused_with_the_typed_exception()
    {
        byte[] valid = File.ReadAllBytes(GoldenRunner.GoldenPath("onnx", "peepholes.onnx"));
        int refused = 0;
        for (int length = 0; length < valid.Length; length++)
        {
            try
            {
                OnnxModel.Parse(valid.AsSpan(0, length));
            }
            catch (OnnxFormatException)
            {
                refused++;
            }
        }

        // A cut exactly between two top-level fields is still valid protobuf; those prefixes must at least lack the LSTM's data.
        Assert.True(refused >= valid.Length - 4, $"only {refused} of {valid.Length} truncations refused");
    }

    public static TheoryData<byte[], string> HostileProtobuf => new()
    {
        { [0x3A, 0xFF, 0xFF, 0xFF, 0xFF, 0x0F], "runs past the end" },        // graph field whose length claims 4 GiB
        { [0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x02], "overflows 64 bits" },
        { [0x08, 0x80, 0x80, 0x80], "varint runs past the end" },
        { [0x0B], "group" },
        { [0x0E], "invalid wire type 6" },
        { [0x00, 0x01], "field number 0" },
        { [0x08, 0x01], "holds no graph" },
        { [0x3A, 0x00, 0x3A, 0x00], "two graphs" },
        { [0x4D, 0x01, 0x02], "run past the end" },                           // an unknown fixed32 field with 2 bytes
        { [0x3D, 0x01, 0x02, 0x03, 0x04], "has wire type 5; expected 2" },   // graph sent as fixed32
    };

    [Theory]
    [MemberData(nameof(HostileProtobuf))]
    public void Malformed_protobuf_is_refused_with_what_is_wrong(byte[] bytes, string expected)
    {
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(bytes));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Messages_nested_deeper_than_the_limit_are_refused()
    {
        byte[] inner = [0x08, 0x01];
        for (int i = 0; i < OnnxParseBudget.MaxDepth + 2; i++) inner = new Proto().Bytes(1, inner).ToArray();
        var e = Assert.Throws<OnnxFormatException>(() => Descend(inner));
        Assert.Contains("deeper than", e.Message, StringComparison.Ordinal);

        static void Descend(byte[] bytes)
        {
            var r = new ProtoReader(bytes);
            for (int depth = 0; depth < 100; depth++)
            {
                Assert.True(r.TryReadTag(out _, out _));
                r = r.ReadMessage();
            }
        }
    }

    [Fact]
    public void A_tensor_whose_dims_claim_more_data_than_it_holds_is_refused_without_allocating_for_the_claim()
    {
        Proto lying = OnnxBuilder.FloatTensor("W", new float[24], [1, 1 << 20, 1 << 10]);
        byte[] bytes = OnnxBuilder.Model([lying, OnnxBuilder.FloatTensor("R", new float[32], [1, 8, 2])], ["X", "W", "R"], []);
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(bytes));
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 1 << 20);
        Assert.Contains("W has shape [1, 1048576, 1024]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void External_data_inside_the_model_folder_loads_and_paths_leaving_it_are_refused()
    {
        string root = Path.Combine(Path.GetTempPath(), $"lstmsimd-onnx-{Guid.NewGuid():N}");
        string folder = Path.Combine(root, "model");
        Directory.CreateDirectory(Path.Combine(folder, "weights"));
        try
        {
            float[] w = Enumerable.Range(0, 24).Select(i => i * 0.25f).ToArray();
            byte[] raw = new byte[w.Length * 4];
            Buffer.BlockCopy(w, 0, raw, 0, raw.Length);
            File.WriteAllBytes(Path.Combine(folder, "weights", "w.bin"), raw);
            File.WriteAllBytes(Path.Combine(root, "secret.bin"), raw);
            File.CreateSymbolicLink(Path.Combine(folder, "link.bin"), Path.Combine(root, "secret.bin"));
            byte[] Model(string location) => OnnxBuilder.Model(
                [OnnxBuilder.FloatTensor("W", w, [1, 8, 3], externalLocation: location), OnnxBuilder.FloatTensor("R", new float[16], [1, 8, 2])], ["X", "W", "R"], []);

            string path = Path.Combine(folder, "m.onnx");
            File.WriteAllBytes(path, Model("weights/w.bin"));
            float[] loaded = Assert.Single(OnnxModel.Load(path).LstmNodes).Model!.Weights[0, 0].WeightIh;
            Assert.Equal(w[..6], loaded[..6]); // gate i is ONNX block 0

            foreach (string location in new[] { "../secret.bin", "weights/../../secret.bin", Path.Combine(root, "secret.bin"), "link.bin" })
            {
                File.WriteAllBytes(path, Model(location));
                var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Load(path));
                Assert.Contains("leaves the model's folder", e.Message, StringComparison.Ordinal);
            }

            Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(Model("weights/w.bin")));
        }
        finally
        {
            Directory.Delete(root, recursive: true);
        }
    }

    /// <summary>The test's own reading of an initializer's raw_data: graph (7) → initializer (5) → name (8), raw_data (9).</summary>
    private static float[] RawInitializer(byte[] model, string name)
    {
        foreach ((int f, byte[] graph) in Fields(model))
        {
            if (f != 7) continue;
            foreach ((int g, byte[] tensor) in Fields(graph))
            {
                if (g != 5) continue;
                var fields = Fields(tensor).ToList();
                if (System.Text.Encoding.UTF8.GetString(fields.First(x => x.Field == 8).Value) != name) continue;
                byte[] raw = fields.First(x => x.Field == 9).Value;
                var values = new float[raw.Length / 4];
                Buffer.BlockCopy(raw, 0, values, 0, raw.Length);
                return values;
            }
        }

        throw new InvalidOperationException("initializer not found");
    }

    /// <summary>Length-delimited fields of a message (other wire types skipped).</summary>
    private static IEnumerable<(int Field, byte[] Value)> Fields(byte[] message)
    {
        int pos = 0;
        ulong Varint()
        {
            ulong v = 0;
            for (int shift = 0; ; shift += 7)
            {
                byte b = message[pos++];
                v |= (ulong)(b & 0x7F) << shift;
                if (b < 0x80) return v;
            }
        }

        while (pos < message.Length)
        {
            ulong tag = Varint();
            int wire = (int)(tag & 7);
            if (wire == 0) Varint();
            else if (wire == 1) pos += 8;
            else if (wire == 5) pos += 4;
            else
            {
                int len = (int)Varint();
                yield return ((int)(tag >> 3), message[pos..(pos + len)]);
                pos += len;
            }
        }
    }
}
