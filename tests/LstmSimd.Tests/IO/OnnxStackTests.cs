using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Multi-layer nn.LSTM as PyTorch 1.13 exports it to ONNX (one LSTM node per layer, Golden/onnx-pytorch-export, made by
/// make_onnx_export_golden.py), run whole by the graph runner and checked against PyTorch's float64 results; and graphs of
/// LSTM nodes wired otherwise, which run as wired, are reported, or are refused naming the node.
/// </summary>
public class OnnxStackTests
{
    public static TheoryData<string, int> Exports() => new()
    {
        { "stacked", 2 },
        { "stacked_bidirectional", 2 },
        { "stacked_three", 3 },
    };

    [Theory]
    [MemberData(nameof(Exports))]
    public void A_PyTorch_export_of_a_multi_layer_LSTM_runs_as_a_graph_and_matches_PyTorch(string name, int layers)
    {
        using SafetensorsFile golden = SafetensorsFile.Open(GoldenRunner.GoldenPath("onnx-pytorch-export", name + ".safetensors"));
        OnnxTensor x = OnnxTensor.FromSafetensors(golden, "input", "X");
        foreach (KernelPath path in KernelSelector.All)
        {
            using OnnxGraph graph = OnnxGraph.Load(GoldenRunner.GoldenPath("onnx-pytorch-export", name + ".onnx"), new OnnxGraphOptions { Kernel = path });
            Assert.Equal(layers, graph.RunNodes.Count(n => n.OpType == "LSTM"));
            Assert.True(graph.IsLstmStack);
            IReadOnlyList<OnnxTensor> outputs = graph.Run([x]);
            Tolerance.AssertClose(golden.ReadDoubles("output"), outputs[0].Floats, $"{name} Y on {path}");
            Tolerance.AssertClose(golden.ReadDoubles("h_n"), outputs[1].Floats, $"{name} Y_h on {path}");
            Tolerance.AssertClose(golden.ReadDoubles("c_n"), outputs[2].Floats, $"{name} Y_c on {path}");
        }
    }

    [Fact]
    public void A_node_whose_output_reaches_no_graph_output_is_listed_as_dead_and_not_run()
    {
        // The second node reads the graph input X, and its Y2 is no graph output.
        using OnnxGraph graph = OnnxGraph.Create(OnnxModel.Parse(TwoNodes(secondInput: "X", secondInputSize: 2, secondIsOutput: false)));
        Assert.Equal("lstm2", Assert.Single(graph.DeadNodes).Name);
        Assert.Equal(["lstm"], graph.RunNodes.Select(n => n.Name));
    }

    [Fact]
    public void A_second_LSTM_reading_the_first_ones_four_dimensional_Y_is_refused_naming_the_node_before_anything_runs()
    {
        // Y is [T, 1, B, H]: an export squeezes it to [T, B, H] first.
        using OnnxGraph graph = OnnxGraph.Create(OnnxModel.Parse(TwoNodes(secondInput: "Y", secondInputSize: 3, secondIsOutput: true)));
        var refused = Assert.Throws<OnnxFormatException>(() => graph.Run([OnnxTensor.FromFloats("X", new float[4 * 2 * 2], 4, 2, 2)]));
        Assert.Contains("node 'lstm2' (LSTM): X has shape [4, 1, 2, 3]; expected [steps, batch, 3]", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_operator_the_runner_does_not_run_is_refused_at_load_naming_the_node_and_the_operator()
    {
        byte[] bytes = OnnxBuilder.Model(
            [OnnxBuilder.FloatTensor("W", new float[4 * 3 * 2], [1, 12, 2]), OnnxBuilder.FloatTensor("R", new float[4 * 3 * 3], [1, 12, 3])], ["X", "W", "R"], [],
            graph =>
            {
                graph.Message(1, new Proto().String(1, "Y").String(2, "Z").String(3, "activation").String(4, "Erf"));
                graph.Message(12, new Proto().String(1, "Z"));
            });
        var refused = Assert.Throws<OnnxFormatException>(() => OnnxGraph.Create(OnnxModel.Parse(bytes)));
        Assert.Contains("node 'activation' (Erf): operator Erf is not supported", refused.Message, StringComparison.Ordinal);

        byte[] unknownAttribute = OnnxBuilder.Model(
            [OnnxBuilder.FloatTensor("W", new float[4 * 3 * 2], [1, 12, 2]), OnnxBuilder.FloatTensor("R", new float[4 * 3 * 3], [1, 12, 3])], ["X", "W", "R"], [],
            graph =>
            {
                graph.Message(1, new Proto().String(1, "Y").String(2, "Z").String(3, "act").String(4, "Relu").Message(5, OnnxBuilder.Ints("frobnicate", 1)));
                graph.Message(12, new Proto().String(1, "Z"));
            });
        refused = Assert.Throws<OnnxFormatException>(() => OnnxGraph.Create(OnnxModel.Parse(unknownAttribute)));
        Assert.Contains("node 'act' (Relu): attribute 'frobnicate' is not supported", refused.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Dropout_runs_as_the_identity_at_inference_with_an_all_true_mask_and_Identity_passes_its_input_on()
    {
        byte[] bytes = OnnxBuilder.Model(
            [OnnxBuilder.FloatTensor("W", LstmCase.Uniform(4 * 3 * 2, 1, 0.5), [1, 12, 2]), OnnxBuilder.FloatTensor("R", LstmCase.Uniform(4 * 3 * 3, 2, 0.5), [1, 12, 3])],
            ["X", "W", "R"], [],
            graph =>
            {
                graph.Message(1, new Proto().String(1, "Y").String(2, "D").String(2, "mask").String(3, "drop").String(4, "Dropout")
                    .Message(5, OnnxBuilder.Attribute("ratio", a => a.Fixed32(2, 0.5f).Varint(20, 1))));
                graph.Message(1, new Proto().String(1, "D").String(2, "Z").String(3, "same").String(4, "Identity"));
                graph.Message(12, new Proto().String(1, "Z")).Message(12, new Proto().String(1, "mask"));
            });
        using OnnxGraph graph = OnnxGraph.Create(OnnxModel.Parse(bytes));
        OnnxTensor x = OnnxTensor.FromFloats("X", LstmCase.Uniform(4 * 2 * 2, 3, 1.0), 4, 2, 2);
        IReadOnlyList<OnnxTensor> outputs = graph.Run([x]);
        Assert.Equal(["Y", "Z", "mask"], outputs.Select(o => o.Name));
        Assert.Equal(outputs[0].Floats, outputs[1].Floats);
        Assert.Contains(outputs[0].Floats, v => v != 0);
        Assert.All(outputs[2].Int64s, v => Assert.Equal(1, v));
    }

    /// <summary>LSTM X→Y (input 2, hidden 3), then a second LSTM (hidden 3) reading <paramref name="secondInput"/>, its Y2 a graph output or not.</summary>
    private static byte[] TwoNodes(string secondInput, int secondInputSize, bool secondIsOutput)
    {
        const int hidden = 3;
        return OnnxBuilder.Model(
            [OnnxBuilder.FloatTensor("W", new float[4 * hidden * 2], [1, 4 * hidden, 2]), OnnxBuilder.FloatTensor("R", new float[4 * hidden * hidden], [1, 4 * hidden, hidden])],
            ["X", "W", "R"], [],
            graph =>
            {
                graph.Message(5, OnnxBuilder.FloatTensor("W2", new float[4 * hidden * secondInputSize], [1, 4 * hidden, secondInputSize]));
                graph.Message(5, OnnxBuilder.FloatTensor("R2", new float[4 * hidden * hidden], [1, 4 * hidden, hidden]));
                var second = new Proto().String(1, secondInput).String(1, "W2").String(1, "R2").String(2, "Y2").String(3, "lstm2").String(4, "LSTM");
                graph.Message(1, second);
                if (secondIsOutput) graph.Message(12, new Proto().String(1, "Y2"));
            });
    }
}
