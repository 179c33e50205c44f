using System.Text.Json;
using System.Text.Json.Nodes;
using LstmSimd.IO;
using LstmSimd.Keras;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO.Keras;

/// <summary>
/// TensorFlow.js layers models (Golden/tfjs: model.json and weight shards saved by @tensorflow/tfjs's own model.save,
/// some split into groups and shards or quantised as tensorflowjs_converter stores them; make_tfjs_golden.js) load into
/// the same model the Keras importer gives and reproduce tfjs's own predictions on every kernel path. Shard paths stay
/// in the model's folder, manifest sizes are checked against the shard files, and damaged files are refused as typed errors.
/// </summary>
public sealed class TensorFlowJsModelTests : IDisposable
{
    private static readonly string[] GoldenCases =
    [
        "sequential_stacked_softmax", "functional_bidirectional_state_sharded", "embedding_go_backwards", "bidirectional_ave",
        "quantized_uint8", "quantized_uint16", "quantized_float16", "gru_original", "gru_original_bidirectional", "gru_hard_sigmoid",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-tfjs-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Golden(string file) => GoldenRunner.GoldenPath("tfjs", file);

    private static string ModelJson(string name) => Golden(Path.Combine(name, "model.json"));

    public static TheoryData<string, KernelPath> Cases() => GoldenRunner.OnEveryKernelPath(GoldenCases);

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_TensorFlow_js_model_reproduces_the_predictions_tfjs_makes_from_the_same_files(string name, KernelPath path)
    {
        KerasModel model = KerasModel.Load(ModelJson(name), new LstmModelOptions { Kernel = path });
        Assert.Equal(KerasFileFormat.TensorFlowJs, model.Format);
        using SafetensorsFile expected = SafetensorsFile.Open(Golden(name + ".expected.safetensors"));
        string[] outputs = [.. GoldenRunner.Config(expected).GetProperty("outputs").EnumerateArray().Select(o => o.GetString()!)];
        Assert.Equal(outputs, model.OutputNames);
        SafetensorsTensorInfo input = expected.GetTensor("input");
        KerasRun run = model.Run(expected.ReadSingles("input"), (int)input.Shape[0], (int)input.Shape[1]);
        Assert.Equal(path, run.KernelPath);
        for (int k = 0; k < outputs.Length; k++)
        {
            Assert.Equal(expected.GetTensor(outputs[k]).Shape, run.Outputs[k].Shape.Select(d => (long)d));
            Tolerance.AssertClose(expected.ReadDoubles(outputs[k]), run.Outputs[k].Values, $"{name} {outputs[k]} ({path})");
        }
    }

    [Fact]
    public void Hard_sigmoid_in_a_TensorFlow_js_model_is_the_slope_tfjs_computes_with()
    {
        KerasModel model = KerasModel.Load(ModelJson("sequential_stacked_softmax"));
        KerasLstmLayer[] lstms = [.. model.Layers.OfType<KerasLstmLayer>()];
        Assert.Equal(new Activation(ActivationKind.HardSigmoid, 0.2f, 0.5f), lstms[0].Weights.Spec.Cell.Gate);
        Assert.Equal(Activation.Sigmoid, lstms[1].Weights.Spec.Cell.Gate);
        Assert.StartsWith("TensorFlow.js layers model (saved by tfjs-layers 4.22.0): input", model.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_json_is_told_apart_from_other_files_and_cannot_be_loaded_without_its_folder()
    {
        Assert.True(KerasModel.IsKerasFile(ModelJson("bidirectional_ave")));
        using FileStream stream = File.OpenRead(ModelJson("bidirectional_ave"));
        var e = Assert.Throws<KerasFormatException>(() => KerasModel.Load(stream));
        Assert.Contains("load it by its path", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_tools_run_and_inspect_take_a_model_json()
    {
        string y = Path.Combine(_dir, "y.safetensors"), expectedPath = Golden("functional_bidirectional_state_sharded.expected.safetensors");
        var (code, stdout, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "run", "--model", ModelJson("functional_bidirectional_state_sharded"), "--input", expectedPath, "--output", y);
        Assert.True(code == 0, stderr);
        Assert.Contains("TensorFlow.js layers model", stdout, StringComparison.Ordinal);
        using (SafetensorsFile expected = SafetensorsFile.Open(expectedPath), actual = SafetensorsFile.Open(y))
        {
            foreach (string name in new[] { "dense", "lstm_state:2" })
                Tolerance.AssertClose(expected.ReadDoubles(name), actual.ReadSingles(name), "run " + name);
        }

        (code, stdout, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "inspect", ModelJson("gru_hard_sigmoid"));
        Assert.True(code == 0, stderr);
        Assert.Contains("recurrent_activation hard_sigmoid (clip(0.2·x + 0.5, 0, 1)), reset_after False", stdout, StringComparison.Ordinal);
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "refuse_simple_rnn", "layer 'simple_rnn' is a SimpleRNN" },
        { "refuse_graph_model", "is a 'graph-model', not a 'layers-model'" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void What_LstmSimd_cannot_run_is_refused_naming_the_layer_or_the_format(string name, string reason)
    {
        var e = Assert.Throws<KerasFormatException>(() => KerasModel.Load(ModelJson(name)));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    public static TheoryData<string> EscapingPaths() => new() { "../outside.bin", "sub/../../outside.bin", "/etc/passwd", "link.bin" };

    [Theory]
    [MemberData(nameof(EscapingPaths))]
    public void A_shard_path_that_leaves_the_models_folder_is_refused(string shard)
    {
        string folder = Copy("bidirectional_ave");
        File.WriteAllBytes(Path.Combine(_dir, "outside.bin"), File.ReadAllBytes(Path.Combine(folder, "group1-shard1of1.bin")));
        File.CreateSymbolicLink(Path.Combine(folder, "link.bin"), Path.Combine(_dir, "outside.bin"));
        EditManifest(folder, json => json["weightsManifest"]![0]!["paths"] = new JsonArray(shard));
        var e = Assert.Throws<KerasFormatException>(() => KerasModel.Load(Path.Combine(folder, "model.json")));
        Assert.Contains($"weight shard '{shard}' leaves the model's folder", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Manifest_sizes_are_checked_against_the_shard_files_before_anything_is_read()
    {
        string folder = Copy("bidirectional_ave");
        EditManifest(folder, json => json["weightsManifest"]![0]!["weights"]![0]!["shape"] = new JsonArray(100_000_000, 1));
        var e = Assert.Throws<KerasFormatException>(() => KerasModel.Load(Path.Combine(folder, "model.json")));
        Assert.Contains("group 1's weights need 400000", e.Message, StringComparison.Ordinal);

        string huge = Copy("bidirectional_ave");
        EditManifest(huge, json => json["weightsManifest"]![0]!["weights"]![0]!["shape"] = new JsonArray(2_000_000_000, 2_000_000_000));
        Assert.Contains("is larger than one array", Assert.Throws<KerasFormatException>(() => KerasModel.Load(Path.Combine(huge, "model.json"))).Message, StringComparison.Ordinal);

        string shortShard = Copy("bidirectional_ave");
        string shard = Path.Combine(shortShard, "group1-shard1of1.bin");
        File.WriteAllBytes(shard, File.ReadAllBytes(shard)[..^4]);
        Assert.Contains("hold " + (new FileInfo(shard).Length), Assert.Throws<KerasFormatException>(() => KerasModel.Load(Path.Combine(shortShard, "model.json"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_shard_an_unknown_dtype_or_a_repeated_name_is_refused_by_name()
    {
        string missing = Copy("bidirectional_ave");
        File.Delete(Path.Combine(missing, "group1-shard1of1.bin"));
        Assert.Contains("weight shard 'group1-shard1of1.bin' does not exist", Assert.Throws<KerasFormatException>(() => KerasModel.Load(Path.Combine(missing, "model.json"))).Message, StringComparison.Ordinal);

        string int8 = Copy("quantized_uint8");
        EditManifest(int8, json => json["weightsManifest"]![0]!["weights"]![0]!["quantization"]!["dtype"] = "int8");
        Assert.Contains("quantization dtype 'int8' is not one LstmSimd reads", Assert.Throws<KerasFormatException>(() => KerasModel.Load(Path.Combine(int8, "model.json"))).Message, StringComparison.Ordinal);

        string int32 = Copy("bidirectional_ave");
        EditManifest(int32, json => json["weightsManifest"]![0]!["weights"]![0]!["dtype"] = "int32");
        Assert.Contains("weight 'bidirectional/forward_lstm/kernel' is stored as int32", Assert.Throws<KerasFormatException>(() => KerasModel.Load(Path.Combine(int32, "model.json"))).Message, StringComparison.Ordinal);

        string repeated = Copy("bidirectional_ave");
        EditManifest(repeated, json => json["weightsManifest"]![0]!["weights"]![1]!["name"] = "bidirectional/forward_lstm/kernel");
        Assert.Contains("two weights are named 'bidirectional/forward_lstm/kernel'", Assert.Throws<KerasFormatException>(() => KerasModel.Load(Path.Combine(repeated, "model.json"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Truncated_and_bit_flipped_model_json_and_shards_run_or_are_refused_as_typed_errors()
    {
        var random = new Random(20261206);
        foreach (string name in GoldenCases)
        {
            string folder = Copy(name);
            string[] files = [.. Directory.GetFiles(folder).Order(StringComparer.Ordinal)];
            var originals = files.ToDictionary(f => f, File.ReadAllBytes);
            for (int trial = 0; trial < 40; trial++)
            {
                string target = files[random.Next(files.Length)];
                byte[] original = originals[target];
                byte[] bytes = trial < 12 ? original[..random.Next(original.Length)] : (byte[])original.Clone();
                if (trial >= 12)
                {
                    for (int flips = random.Next(1, 8); flips > 0; flips--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                File.WriteAllBytes(target, bytes);
                try
                {
                    KerasModel model = KerasModel.Load(Path.Combine(folder, "model.json"));
                    model.Run(new float[2 * 3 * Math.Max(model.InputFeatures, 1)], batch: 2, steps: 3);
                }
                catch (Exception e) when (e is ModelFormatException || FuzzPipeline.IsRefusal(e))
                {
                }
                catch (Exception e)
                {
                    Assert.Fail($"{name}, trial {trial} ({Path.GetFileName(target)}): {e}");
                }
                finally
                {
                    File.WriteAllBytes(target, original);
                }
            }
        }
    }

    /// <summary>A copy of a golden model's folder in the test's folder.</summary>
    private string Copy(string name)
    {
        string folder = Path.Combine(_dir, name + "-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        foreach (string file in Directory.GetFiles(Golden(name))) File.Copy(file, Path.Combine(folder, Path.GetFileName(file)));
        return folder;
    }

    private static void EditManifest(string folder, Action<JsonNode> edit)
    {
        string path = Path.Combine(folder, "model.json");
        JsonNode json = JsonNode.Parse(File.ReadAllText(path))!;
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }
}
