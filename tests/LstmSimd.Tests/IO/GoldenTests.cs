using LstmSimd.IO;
using LstmSimd.Tests.Support;
using Xunit;
using Xunit.Abstractions;
using LstmSimd.IO.Onnx;

namespace LstmSimd.Tests.IO;

/// <summary>
/// External truth: every PyTorch case (forward part of the grad cases included) and every ONNX Runtime case,
/// imported through the IO layer and run on each engine that supports the model. Which engine ran is in
/// the test output and in every failure message.
/// </summary>
public sealed class GoldenTests(ITestOutputHelper log)
{
    public static TheoryData<string> PyTorchCases => new()
    {
        "single_layer", "two_layer", "bidirectional_two_layer", "projection", "batch_first_no_bias", "cell",
        "variable_lengths", "grad_single_layer", "grad_two_layer_bidirectional",
    };

    public static TheoryData<string> OnnxCases => new()
    {
        "forward", "reverse", "bidirectional", "peepholes", "clip", "input_forget", "sequence_lens_bidirectional",
        "layout_batch_first", "activations", "no_initial_state",
    };

    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void A_PyTorch_state_dict_imported_by_its_names_reproduces_PyTorchs_float64_results(string name)
    {
        using SafetensorsFile file = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", name + ".safetensors"));
        // The grad cases also hold the gradients under 'grad.weight_ih_l0'…, a second LSTM-shaped set of names:
        // there the prefix must be given; elsewhere the importer finds the module on its own.
        bool grad = name.StartsWith("grad_", StringComparison.Ordinal);
        ImportedLstm model = PyTorchStateDict.Import(file, grad ? "" : null);
        Assert.Contains("input", model.IgnoredTensors);
        if (grad) Assert.Contains("grad.weight_ih_l0", model.IgnoredTensors);
        var config = GoldenRunner.Config(file);
        bool batchFirst = config.GetProperty("batch_first").GetBoolean();
        int batch = config.GetProperty("batch").GetInt32(), steps = model.IsCell ? 1 : config.GetProperty("seq_len").GetInt32();
        int[] lengths = file.Contains("lengths") ? GoldenRunner.ToInt32(file.ReadInt64s("lengths")) : [];
        foreach (EnginePath engine in GoldenRunner.Engines(model))
        {
            var (output, h, c) = GoldenRunner.Run(engine, model, file.ReadSingles("input"), steps, batch, file.ReadSingles("h0"), file.ReadSingles("c0"),
                lengths, batchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor);
            if (!model.IsCell) AssertClose(file.ReadDoubles("output"), output, $"{name} output on the {engine} path");
            AssertClose(file.ReadDoubles("h_n"), h, $"{name} h_n on the {engine} path");
            AssertClose(file.ReadDoubles("c_n"), c, $"{name} c_n on the {engine} path");
            log.WriteLine($"{name}: {model.Description}; matches PyTorch on the {engine} path");
        }
    }

    [Fact]
    public void The_500_step_PyTorch_case_stays_within_relative_L2_of_1e_4_on_every_engine()
    {
        using SafetensorsFile file = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", "long_sequence.safetensors"));
        ImportedLstm model = PyTorchStateDict.Import(file);
        Assert.Equal(500, GoldenRunner.Config(file).GetProperty("seq_len").GetInt32());
        foreach (EnginePath engine in GoldenRunner.Engines(model))
        {
            var (output, h, c) = GoldenRunner.Run(engine, model, file.ReadSingles("input"), 500, 1, file.ReadSingles("h0"), file.ReadSingles("c0"), [], SequenceLayout.TimeMajor);
            foreach ((string what, double[] actual) in new[] { ("output", output), ("h_n", h), ("c_n", c) })
            {
                double rel = Tolerance.RelativeL2(file.ReadDoubles(what), actual, $"long_sequence {what} on the {engine} path");
                log.WriteLine($"long_sequence {what} on the {engine} path: relative L2 {rel:E2}");
                Assert.True(rel <= 1e-4, $"long_sequence {what} on the {engine} path: relative L2 {rel:E3} > 1e-4");
            }
        }
    }

    [Theory]
    [MemberData(nameof(OnnxCases))]
    public void An_ONNX_LSTM_node_reproduces_ONNX_Runtimes_results(string name)
    {
        OnnxModel onnx = OnnxModel.Load(GoldenRunner.GoldenPath("onnx", name + ".onnx"));
        ImportedLstm model = Assert.Single(onnx.LstmNodes).Model!;
        using SafetensorsFile data = SafetensorsFile.Open(GoldenRunner.GoldenPath("onnx", name + ".safetensors"));
        var config = GoldenRunner.Config(data);
        Assert.Equal(config.GetProperty("batch_first").GetBoolean(), model.Layout == SequenceLayout.BatchFirst);
        int batch = config.GetProperty("batch").GetInt32(), steps = config.GetProperty("seq_len").GetInt32();
        float[] h0 = data.Contains("h0") ? data.ReadSingles("h0") : [], c0 = data.Contains("c0") ? data.ReadSingles("c0") : [];
        int[] lengths = data.Contains("lengths") ? GoldenRunner.ToInt32(data.ReadInt64s("lengths")) : [];
        foreach (EnginePath engine in GoldenRunner.Engines(model))
        {
            var (output, h, c) = GoldenRunner.Run(engine, model, data.ReadSingles("input"), steps, batch, h0, c0, lengths, model.Layout);
            AssertClose(data.ReadDoubles("output"), output, $"{name} Y on the {engine} path");
            AssertClose(data.ReadDoubles("h_n"), h, $"{name} Y_h on the {engine} path");
            AssertClose(data.ReadDoubles("c_n"), c, $"{name} Y_c on the {engine} path");
            log.WriteLine($"{name}: {model.Description}; matches ONNX Runtime on the {engine} path");
        }
    }

    private static void AssertClose(double[] expected, double[] actual, string what) =>
        Tolerance.AssertClose(expected, actual.Select(v => (float)v).ToArray(), what);
}
