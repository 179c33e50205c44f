using System.Text;
using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.IO.TorchSave;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO.TorchSave;

/// <summary>
/// State_dicts saved by PyTorch 1.13's <c>torch.save</c> (Golden/pytorch-pt, made by make_pt_golden.py) load in one
/// call and reproduce PyTorch's float64 results on every kernel path: stacks, bidirectional, projection, a module with a
/// head under prefixes, fp16 and bf16 tensors, non-contiguous views with offsets, and shared storages. Whole-module
/// pickles, the legacy format and hostile pickles are refused with the reason.
/// </summary>
public class PyTorchFileTests
{
    public static TheoryData<string, KernelPath> Cases()
    {
        var data = new TheoryData<string, KernelPath>();
        foreach (string name in new[] { "single_layer", "two_layer_bidirectional", "projection", "module_with_head", "float16", "bfloat16", "non_contiguous", "shared_storage" })
            foreach (KernelPath path in LstmSimd.Kernels.KernelSelector.All) data.Add(name, path);
        return data;
    }

    private static string Golden(string file) => GoldenRunner.GoldenPath("pytorch-pt", file);

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_torch_save_state_dict_reproduces_PyTorchs_float64_results(string name, KernelPath path)
    {
        using SafetensorsFile expected = SafetensorsFile.Open(Golden(name + ".expected.safetensors"));
        JsonElement config = GoldenRunner.Config(expected);
        string? head = config.GetProperty("head_prefix").ValueKind == JsonValueKind.String ? config.GetProperty("head_prefix").GetString() : null;
        ImportedLstm model = PyTorchStateDict.Import(Golden(name + ".pt"), headPrefix: head); // the prefix is found on its own
        bool batchFirst = config.GetProperty("batch_first").GetBoolean();
        int batch = config.GetProperty("batch").GetInt32(), steps = config.GetProperty("seq_len").GetInt32();
        ImportedRun run = model.Run(expected.ReadSingles("input"), steps, batch, layout: batchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor,
            options: new LstmModelOptions { Kernel = path, Weights = model.StoredWeightFormat });
        Tolerance.AssertClose(expected.ReadDoubles("output"), run.Output, $"{name} output ({path})");
        Tolerance.AssertClose(expected.ReadDoubles("h_n"), run.HiddenState, $"{name} h_n ({path})");
        Tolerance.AssertClose(expected.ReadDoubles("c_n"), run.CellState, $"{name} c_n ({path})");
        if (head is not null) Tolerance.AssertClose(expected.ReadDoubles("head_output"), run.HeadOutput, $"{name} head output ({path})");
        else Assert.Null(run.HeadOutput);
    }

    [Fact]
    public void Half_precision_files_keep_their_format_and_views_keep_their_values()
    {
        Assert.Equal(WeightFormat.Float16, PyTorchStateDict.Import(Golden("float16.pt")).StoredWeightFormat);
        Assert.Equal(WeightFormat.BFloat16, PyTorchStateDict.Import(Golden("bfloat16.pt")).StoredWeightFormat);
        using SafetensorsFile views = PyTorchFile.Open(Golden("non_contiguous.pt"));
        Assert.Equal([24L, 6L], views.GetTensor("weight_hh_l0").Shape);
        using SafetensorsFile shared = PyTorchFile.Open(Golden("shared_storage.pt"));
        Assert.NotEqual(shared.ReadSingles("bias_ih_l0"), shared.ReadSingles("bias_hh_l0")); // two views of one storage, not one tensor twice
    }

    [Fact]
    public void A_pickled_whole_module_is_refused_with_the_advice_to_save_its_state_dict()
    {
        var e = Assert.Throws<ModelFormatException>(() => PyTorchFile.Open(Golden("whole_module.pt")));
        Assert.Contains("pickles a whole module ('torch.nn.modules.rnn.LSTM')", e.Message, StringComparison.Ordinal);
        Assert.Contains("torch.save(model.state_dict(), path)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_legacy_format_is_refused_with_how_to_convert_it()
    {
        var e = Assert.Throws<ModelFormatException>(() => PyTorchStateDict.Import(Golden("legacy_format.pt")));
        Assert.Contains("legacy torch.save format of PyTorch before 1.6", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_safetensors_file_is_read_as_safetensors_by_the_same_call()
    {
        ImportedLstm model = PyTorchStateDict.Import(GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors"));
        using SafetensorsFile safetensors = PyTorchStateDict.Open(GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors"));
        using SafetensorsFile torchSave = PyTorchStateDict.Open(Golden("single_layer.pt"));
        Assert.False(safetensors.ReadFromTorchSave);
        Assert.True(torchSave.ReadFromTorchSave);
        Assert.True(model.Weights.Spec.HiddenSize > 0);
    }

    [Fact]
    public void A_checkpoint_dictionary_is_flattened_and_its_other_values_left_out()
    {
        // {"model": {"weight_ih_l0": tensor, …}, "epoch": 3}: the state_dict of single_layer under a key.
        using SafetensorsFile original = PyTorchFile.Open(Golden("single_layer.pt"));
        var pickle = new PickleBuilder().Proto().EmptyDict().Mark().Unicode("model").EmptyDict().Mark();
        var storages = new Dictionary<string, byte[]>();
        int key = 0;
        foreach (SafetensorsTensorInfo t in original.Tensors)
        {
            byte[] bytes = new byte[t.ByteLength];
            original.ReadBytes(t, bytes);
            storages[key.ToString(System.Globalization.CultureInfo.InvariantCulture)] = bytes;
            pickle.Unicode(t.Name).Tensor(key++, "FloatStorage", t.Shape.ToArray());
        }

        pickle.SetItems().Unicode("epoch").Int(3).SetItems().Stop();
        using SafetensorsFile flattened = PyTorchFile.Read(new MemoryStream(FuzzPipeline.TorchZip(pickle.ToArray(), storages)));
        Assert.Equal(original.Tensors.Select(t => "model." + t.Name), flattened.Tensors.Select(t => t.Name));
        ImportedLstm model = PyTorchStateDict.Import(flattened);
        Assert.Contains("model.", model.Description, StringComparison.Ordinal);
    }

    public static TheoryData<string, byte[]> HostilePickles() => new()
    {
        { "names 'os.system', which a state_dict does not hold", new PickleBuilder().Proto().Global("os", "system").Unicode("ls").Tuple1().Reduce().Stop().ToArray() },
        { "nests too deeply", Repeat((byte)'(', 100) },
        { "recalls memo entry 7, which was never stored", new PickleBuilder().Proto().BinGet(7).Stop().ToArray() },
        { "ends in the middle of an opcode", [0x80, 2, (byte)'X', 0xff, 0xff, 0xff, 0x7f] },
        { "holds a list, not a state_dict", new PickleBuilder().Proto().EmptyList().Stop().ToArray() },
        { "reaches element 1000 of storage '0', which holds 4", new PickleBuilder().Proto().EmptyDict().Unicode("w").Tensor(0, "FloatStorage", [1001], elements: 4).SetItem().Stop().ToArray() },
        { "uses pickle opcode 0x69", new PickleBuilder().Proto().Raw((byte)'i').Stop().ToArray() }, // INST
    };

    [Theory]
    [MemberData(nameof(HostilePickles))]
    public void Hostile_pickles_are_refused_with_the_reason(string reason, byte[] pickle)
    {
        var e = Assert.Throws<ModelFormatException>(() => PyTorchFile.Read(new MemoryStream(FuzzPipeline.TorchZip(pickle, new() { ["0"] = new byte[16] }))));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pickle_that_builds_more_than_its_size_allows_is_refused_within_its_budget()
    {
        // Each memoised recall of a 1 KB string costs a few bytes on disk and a tuple entry in memory: 2 million of them.
        var pickle = new PickleBuilder().Proto().Unicode(new string('x', 1024)).BinPut(0).Mark();
        for (int i = 0; i < 2_000_000; i++) pickle.BinGet(0);
        pickle.Tuple().Stop();
        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ModelFormatException>(() => PyTorchFile.Read(new MemoryStream(FuzzPipeline.TorchZip(pickle.ToArray(), []))));
        Assert.Contains("pushes too many values", e.Message, StringComparison.Ordinal);
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 512L << 20);
    }

    [Fact]
    public void A_tensor_naming_a_storage_the_zip_lacks_is_refused()
    {
        byte[] pickle = new PickleBuilder().Proto().EmptyDict().Unicode("w").Tensor(5, "FloatStorage", [2], elements: 2).SetItem().Stop().ToArray();
        var e = Assert.Throws<ModelFormatException>(() => PyTorchFile.Read(new MemoryStream(FuzzPipeline.TorchZip(pickle, []))));
        Assert.Contains("names storage '5', which the zip does not hold", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_view_that_repeats_its_storage_past_the_files_size_is_refused_before_it_is_copied()
    {
        // shape [2^20, 2^20] with strides [0, 0] lies inside a one-element storage but would expand to 4 TiB.
        byte[] pickle = new PickleBuilder().Proto().EmptyDict().Unicode("w").Tensor(0, "FloatStorage", [1 << 20, 1 << 20], elements: 1, strides: [0, 0]).SetItem().Stop().ToArray();
        var e = Assert.Throws<ModelFormatException>(() => PyTorchFile.Read(new MemoryStream(FuzzPipeline.TorchZip(pickle, new() { ["0"] = new byte[4] }))));
        Assert.Contains("tensor 'w' of shape [1048576, 1048576] needs 4398046511104 bytes, more than the file's size allows", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Zips_torch_save_never_writes_are_refused_as_format_errors()
    {
        byte[] pickle = new PickleBuilder().Proto().EmptyDict().Stop().ToArray();
        byte[] twoPickles = Zip(("a/data.pkl", pickle), ("b/data.pkl", pickle));
        Assert.Contains("with 2 <folder>/data.pkl entries, not one", Assert.Throws<ModelFormatException>(() => PyTorchFile.Read(new MemoryStream(twoPickles))).Message, StringComparison.Ordinal);
        byte[] twice = Zip(("a/data.pkl", pickle), ("a/data/0", new byte[4]), ("a/data/0", new byte[8]));
        Assert.Contains("two entries named 'a/data/0'", Assert.Throws<ModelFormatException>(() => PyTorchFile.Read(new MemoryStream(twice))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_tensors_flattened_to_one_name_are_refused()
    {
        // {"a.w": tensor, "a": {"w": tensor}}
        byte[] pickle = new PickleBuilder().Proto().EmptyDict().Mark().Unicode("a.w").Tensor(0, "FloatStorage", [1])
            .Unicode("a").EmptyDict().Unicode("w").Tensor(0, "FloatStorage", [1]).SetItem().SetItems().Stop().ToArray();
        var e = Assert.Throws<ModelFormatException>(() => PyTorchFile.Read(new MemoryStream(FuzzPipeline.TorchZip(pickle, new() { ["0"] = new byte[4] }))));
        Assert.Contains("two tensors are named 'a.w'", e.Message, StringComparison.Ordinal);
    }

    private static byte[] Zip(params (string Name, byte[] Bytes)[] entries)
    {
        var memory = new MemoryStream();
        using (var zip = new System.IO.Compression.ZipArchive(memory, System.IO.Compression.ZipArchiveMode.Create, leaveOpen: true))
        {
            foreach ((string name, byte[] bytes) in entries)
            {
                using Stream s = zip.CreateEntry(name).Open();
                s.Write(bytes);
            }
        }

        return memory.ToArray();
    }

    private static byte[] Repeat(byte b, int count) => [0x80, 2, .. Enumerable.Repeat(b, count)];

    /// <summary>Writes the pickle opcodes the tests need (protocol 2, as torch.save writes).</summary>
    private sealed class PickleBuilder
    {
        private readonly List<byte> _bytes = [];

        public PickleBuilder Raw(params byte[] bytes) { _bytes.AddRange(bytes); return this; }
        public PickleBuilder Proto() => Raw(0x80, 2);
        public PickleBuilder Stop() => Raw((byte)'.');
        public PickleBuilder Mark() => Raw((byte)'(');
        public PickleBuilder EmptyDict() => Raw((byte)'}');
        public PickleBuilder EmptyList() => Raw((byte)']');
        public PickleBuilder Tuple() => Raw((byte)'t');
        public PickleBuilder Tuple1() => Raw(0x85);
        public PickleBuilder Reduce() => Raw((byte)'R');
        public PickleBuilder SetItem() => Raw((byte)'s');
        public PickleBuilder SetItems() => Raw((byte)'u');
        public PickleBuilder BinPut(byte index) => Raw((byte)'q', index);
        public PickleBuilder BinGet(byte index) => Raw((byte)'h', index);
        public PickleBuilder Int(int value) => Raw((byte)'J').Raw(BitConverter.GetBytes(value));
        public PickleBuilder Global(string module, string name) => Raw((byte)'c').Raw(Encoding.ASCII.GetBytes($"{module}\n{name}\n"));

        public PickleBuilder Unicode(string text)
        {
            byte[] utf8 = Encoding.UTF8.GetBytes(text);
            return Raw((byte)'X').Raw(BitConverter.GetBytes(utf8.Length)).Raw(utf8);
        }

        /// <summary>_rebuild_tensor_v2(('storage', torch.TYPE, 'KEY', 'cpu', elements), 0, shape, strides (contiguous unless given), False, OrderedDict()).</summary>
        public PickleBuilder Tensor(int key, string storage, long[] shape, long? elements = null, long[]? strides = null)
        {
            long count = shape.Aggregate(1L, (a, b) => a * b);
            Global("torch._utils", "_rebuild_tensor_v2").Mark();
            Mark().Unicode("storage").Global("torch", storage).Unicode(key.ToString(System.Globalization.CultureInfo.InvariantCulture)).Unicode("cpu").Int((int)(elements ?? count)).Tuple().Raw((byte)'Q');
            Int(0).Mark();
            foreach (long d in shape) Int((int)d);
            Tuple().Mark();
            long stride = 1;
            long[] contiguous = new long[shape.Length];
            for (int i = shape.Length - 1; i >= 0; i--) { contiguous[i] = stride; stride *= shape[i]; }
            foreach (long s in strides ?? contiguous) Int((int)s);
            Tuple().Raw(0x89).Global("collections", "OrderedDict").Raw((byte)')').Reduce().Tuple().Reduce();
            return this;
        }

        public byte[] ToArray() => [.. _bytes];
    }
}
