using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;
using LstmSimd.Keras;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Models exported to ONNX by <see cref="OnnxExport"/> run in ONNX Runtime as they run here: Golden/lstmsimd-onnx-export
/// holds models exported once by make_lstmsimd_onnx_export_golden.py (which checks each with onnx.checker and runs it in
/// ONNX Runtime 1.30.0, and checks the PyTorch ones against PyTorch's float64 forward pass) and ONNX Runtime's outputs.
/// The exporter must still write those files byte for byte, LstmSimd must reproduce ONNX Runtime's outputs from the source
/// model, and LstmSimd's own ONNX importer must read the export back into the same weights and LSTM outputs, bit for bit.
/// </summary>
public sealed class OnnxExportTests : IDisposable
{
    private static readonly string[] GoldenCases =
    [
        "pytorch_stacked_bidirectional_head", "pytorch_one_layer_lengths", "pytorch_three_layers_no_bias_head_without_bias",
        "lstmsimd_bidirectional_peepholes_clip_input_forget", "lstmsimd_two_layers_hard_sigmoid_relu", "keras2_hard_sigmoid_bidirectional_layer",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-onnx-export-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Golden(string file) => GoldenRunner.GoldenPath("lstmsimd-onnx-export", file);

    public static TheoryData<string> Names() => [.. GoldenCases];

    public static TheoryData<string, KernelPath> Cases() => GoldenRunner.OnEveryKernelPath(GoldenCases);

    [Theory]
    [MemberData(nameof(Names))]
    public void The_exporter_still_writes_the_files_ONNX_Runtime_and_the_onnx_checker_accepted(string name)
    {
        using Source source = Load(name);
        Assert.Equal(File.ReadAllBytes(Golden(name + ".onnx")), OnnxExport.ToBytes(source.Weights, source.Head, source.Lengths.Length > 0));
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_source_model_run_by_LstmSimd_reproduces_ONNX_Runtimes_outputs_of_the_export(string name, KernelPath path)
    {
        using Source source = Load(name);
        ImportedRun run = RunNatively(source, path);
        Assert.Equal(path, run.KernelPath);
        Tolerance.AssertClose(source.Expected.ReadDoubles("output"), run.Output, $"{name} output ({path})");
        Tolerance.AssertClose(source.Expected.ReadDoubles("h_n"), run.HiddenState, $"{name} h_n ({path})");
        Tolerance.AssertClose(source.Expected.ReadDoubles("c_n"), run.CellState, $"{name} c_n ({path})");
        Assert.Equal(source.Head is not null, source.Expected.Contains("head_output"));
        if (source.Head is not null) Tolerance.AssertClose(source.Expected.ReadDoubles("head_output"), run.HeadOutput, $"{name} head_output ({path})");
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void An_export_read_back_by_LstmSimds_ONNX_importer_has_the_same_weights_and_computes_the_same_LSTM_outputs_bit_for_bit(string name, KernelPath path)
    {
        using Source source = Load(name);
        byte[] exported = OnnxExport.ToBytes(source.Weights, source.Head, source.Lengths.Length > 0);
        OnnxModel model = OnnxModel.Parse(exported);
        Assert.Equal(OnnxExport.Opset, model.Opsets[""]);
        Assert.Equal(source.Weights.Spec.NumLayers, model.LstmNodes.Count);
        for (int l = 0; l < source.Weights.Spec.NumLayers; l++)
        {
            LstmWeights imported = model.LstmNodes[l].Model!.Weights;
            Assert.Equal(source.Weights.Spec.Cell, imported.Spec.Cell);
            for (int d = 0; d < source.Weights.Spec.Directions; d++)
            {
                LstmLayerWeights a = source.Weights[l, d], b = imported[0, d];
                Assert.Equal(a.WeightIh, b.WeightIh);
                Assert.Equal(a.WeightHh, b.WeightHh);
                Assert.Equal(a.BiasIh, b.BiasIh);
                Assert.Equal(a.BiasHh, b.BiasHh);
                Assert.Equal(a.Peephole, b.Peephole);
            }
        }

        ImportedRun original = RunNatively(source, path);
        using OnnxGraph graph = OnnxGraph.Create(model, new OnnxGraphOptions { Kernel = path });
        SafetensorsTensorInfo x = source.Expected.GetTensor("input");
        var inputs = new List<OnnxTensor> { OnnxTensor.FromFloats("input", source.Expected.ReadSingles("input"), [.. x.Shape.Select(d => (int)d)]) };
        if (source.Lengths.Length > 0) inputs.Add(OnnxTensor.FromInt64s("sequence_lens", [.. source.Lengths.Select(v => (long)v)], source.Lengths.Length));
        IReadOnlyList<OnnxTensor> outputs = graph.Run(inputs);
        Assert.Equal(["output", "h_n", "c_n", .. source.Head is null ? Array.Empty<string>() : ["head_output"]], outputs.Select(o => o.Name));
        AssertBitwise(original.Output, outputs[0].Floats, name + " output");
        AssertBitwise(original.HiddenState, outputs[1].Floats, name + " h_n");
        AssertBitwise(original.CellState, outputs[2].Floats, name + " c_n");
        // The head is MatMul then Add in ONNX; the graph runner's MatMul sums in the linear heads' order.
        if (source.Head is not null) AssertBitwise(original.HeadOutput!, outputs[3].Floats, name + " head_output");
    }

    [Fact]
    public void A_model_with_a_projection_is_refused_because_ONNXs_LSTM_has_none()
    {
        using SafetensorsFile file = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", "projection.safetensors"));
        ImportedLstm projected = PyTorchStateDict.Import(file);
        Assert.True(projected.Weights.Spec.ProjectionSize > 0);
        string path = Path.Combine(_dir, "projection.onnx");
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.Save(path, projected.Weights));
        Assert.Contains("ONNX's LSTM operator has no projection", e.Message, StringComparison.Ordinal);
        Assert.False(File.Exists(path));
    }

    [Fact]
    public void A_reverse_ONNX_node_is_exported_as_one_and_reads_back_to_the_same_outputs_bit_for_bit()
    {
        ImportedLstm reverse = OnnxModel.Load(GoldenRunner.GoldenPath("onnx", "reverse.onnx")).LstmNodes.Single().Model!;
        ImportedLstm again = OnnxModel.Parse(OnnxExport.ToBytes(reverse)).LstmNodes.Single().Model!;
        Assert.Contains("reverse", again.Description, StringComparison.Ordinal);
        using SafetensorsFile golden = SafetensorsFile.Open(GoldenRunner.GoldenPath("onnx", "reverse.safetensors"));
        SafetensorsTensorInfo x = golden.GetTensor("input");
        float[] input = golden.ReadSingles("input");
        ImportedRun expected = reverse.Run(input, (int)x.Shape[0], (int)x.Shape[1]), actual = again.Run(input, (int)x.Shape[0], (int)x.Shape[1]);
        AssertBitwise(expected.Output, actual.Output, "reverse output");
        AssertBitwise(expected.HiddenState, actual.HiddenState, "reverse h_n");
    }

    [Fact]
    public void An_imported_model_with_constant_initial_states_is_refused_rather_than_exported_from_zero_state()
    {
        using Source source = Load("pytorch_one_layer_lengths");
        var model = new ImportedLstm { Weights = source.Weights, Description = "with a stored h0", InitialHidden = new float[6] };
        var e = Assert.Throws<NotSupportedException>(() => OnnxExport.ToBytes(model));
        Assert.Contains("stores constant initial states or sequence lengths", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_head_that_does_not_take_the_LSTMs_outputs_is_refused()
    {
        using Source source = Load("pytorch_one_layer_lengths");
        var head = new LinearHead(5, 2, new float[10]);
        var e = Assert.Throws<ArgumentException>(() => OnnxExport.ToBytes(source.Weights, head));
        Assert.Contains("The head takes 5 features; the LSTM outputs D·H = 6", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Save_replaces_a_file_whole_and_leaves_no_temporary_file()
    {
        using Source source = Load("pytorch_stacked_bidirectional_head");
        string path = Path.Combine(_dir, "model.onnx");
        File.WriteAllText(path, "an older file");
        OnnxExport.Save(path, source.Weights, source.Head);
        Assert.Equal(OnnxExport.ToBytes(source.Weights, source.Head), File.ReadAllBytes(path));
        Assert.Equal(["model.onnx"], Directory.GetFiles(_dir).Select(Path.GetFileName));
    }

    [Fact]
    public void The_tool_exports_a_state_dict_and_refuses_a_Keras_model_without_a_layer_name()
    {
        string onnx = Path.Combine(_dir, "exported.onnx");
        var (code, stdout, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "export", "--model", Golden("pytorch_stacked_bidirectional_head.pt"),
            "--prefix", "lstm.", "--head", "fc.", "--onnx", onnx);
        Assert.True(code == 0, stderr);
        Assert.Contains("2 LSTM nodes, linear head", stdout, StringComparison.Ordinal);
        Assert.Equal(File.ReadAllBytes(Golden("pytorch_stacked_bidirectional_head.onnx")), File.ReadAllBytes(onnx));

        (code, _, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "export", "--model", GoldenRunner.GoldenPath("keras", "k2_hard_sigmoid_bidirectional.h5"), "--onnx", onnx);
        Assert.NotEqual(0, code);
        Assert.Contains("name it with --layer (lstm, bidirectional)", stderr, StringComparison.Ordinal);
    }

    private static void AssertBitwise(float[] expected, float[] actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}[{i}]: {actual[i]:R} from the ONNX import, {expected[i]:R} from the original model");
    }

    private static ImportedRun RunNatively(Source source, KernelPath path)
    {
        SafetensorsTensorInfo x = source.Expected.GetTensor("input");
        var model = new ImportedLstm { Weights = source.Weights, Head = source.Head, Description = "source model" };
        return model.Run(source.Expected.ReadSingles("input"), (int)x.Shape[0], (int)x.Shape[1], lengths: source.Lengths,
            options: new LstmModelOptions { Kernel = path });
    }

    private sealed record Source(LstmWeights Weights, LinearHead? Head, int[] Lengths, SafetensorsFile Expected) : IDisposable
    {
        public void Dispose() => Expected.Dispose();
    }

    /// <summary>The case's source model, loaded as the golden script exported it (its options are in the expected file's config).</summary>
    private static Source Load(string name)
    {
        SafetensorsFile expected = SafetensorsFile.Open(Golden(name + ".expected.safetensors"));
        JsonElement config = GoldenRunner.Config(expected);
        string file = config.GetProperty("source").GetString()!;
        string[] options = [.. config.GetProperty("export_options").EnumerateArray().Select(o => o.GetString()!)];
        int[] lengths = expected.Contains("sequence_lens") ? [.. expected.ReadInt64s("sequence_lens").Select(v => (int)v)] : [];
        if (file.StartsWith("keras/", StringComparison.Ordinal))
        {
            string layer = options[Array.IndexOf(options, "--layer") + 1];
            KerasModel keras = KerasModel.Load(GoldenRunner.GoldenPath("keras", file["keras/".Length..]));
            return new Source(keras.Layers.OfType<KerasLstmLayer>().Single(l => l.Name == layer).Weights, null, lengths, expected);
        }

        using SafetensorsFile model = PyTorchStateDict.Open(Golden(file));
        ImportedLstm imported = LstmModelFile.IsModelFile(model) ? LstmModelFile.Load(model)
            : PyTorchStateDict.Import(model, "lstm.", options.Contains("--head") ? "fc." : null);
        return new Source(imported.Weights, imported.Head, lengths, expected);
    }
}
