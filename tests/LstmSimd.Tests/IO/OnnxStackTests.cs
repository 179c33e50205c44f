using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Multi-layer nn.LSTM as PyTorch 1.13 exports it to ONNX (one LSTM node per layer, Golden/onnx-pytorch-export, made by
/// make_onnx_export_golden.py): joined into one stacked model and checked against PyTorch's float64 results.
/// </summary>
public class OnnxStackTests
{
    public static TheoryData<string, int, bool> Exports() => new()
    {
        { "stacked", 2, false },
        { "stacked_bidirectional", 2, true },
        { "stacked_three", 3, false },
    };

    [Theory]
    [MemberData(nameof(Exports))]
    public void A_PyTorch_export_of_a_multi_layer_LSTM_runs_as_one_stack_and_matches_PyTorch(string name, int layers, bool bidirectional)
    {
        ImportedLstm model = OnnxModel.Load(GoldenRunner.GoldenPath("onnx-pytorch-export", name + ".onnx")).Stacked();
        LstmSpec spec = model.Weights.Spec;
        Assert.Equal(layers, spec.NumLayers);
        Assert.Equal(bidirectional, spec.Bidirectional);
        Assert.Contains($"stack of {layers} LSTM nodes", model.Description);

        using SafetensorsFile golden = SafetensorsFile.Open(GoldenRunner.GoldenPath("onnx-pytorch-export", name + ".safetensors"));
        float[] input = golden.ReadSingles("input");
        const int steps = 4, batch = 3;
        double[] output = golden.ReadDoubles("output"), hN = golden.ReadDoubles("h_n"), cN = golden.ReadDoubles("c_n");

        ReferenceResult reference = ReferenceLstm.Forward(model.Weights, input, steps, batch);
        Tolerance.AssertClose(output, [.. reference.Output.Select(v => (float)v)], $"{name} reference output");
        foreach (KernelPath path in KernelSelector.All)
        {
            using LstmSession session = LstmModel.Create(model.Weights, new LstmModelOptions { Kernel = path }).CreateSession(batch, steps);
            float[] y = new float[output.Length], h = new float[hN.Length], c = new float[cN.Length];
            session.Forward(input, steps, batch, y, h, c);
            Tolerance.AssertClose(output, y, $"{name} output on {path}");
            Tolerance.AssertClose(hN, h, $"{name} h_n on {path}");
            Tolerance.AssertClose(cN, c, $"{name} c_n on {path}");
        }
    }

    [Fact]
    public void Two_LSTM_nodes_that_are_not_chained_as_an_export_chains_them_are_refused_with_the_reason()
    {
        // The second node reads the graph input X, not the first node's Y.
        byte[] bytes = TwoNodes(secondInput: "X", secondInputSize: 2);
        var refused = Assert.Throws<NotSupportedException>(() => OnnxModel.Parse(bytes).Stacked());
        Assert.Contains("does not read the previous node's Y", refused.Message);

        // The second node reads Y [T, 1, B, H] as it is, without the Squeeze that makes it [T, B, H].
        bytes = TwoNodes(secondInput: "Y", secondInputSize: 3);
        refused = Assert.Throws<NotSupportedException>(() => OnnxModel.Parse(bytes).Stacked());
        Assert.Contains("does not read the previous node's Y", refused.Message);
    }

    [Fact]
    public void A_single_node_is_its_own_stack()
    {
        OnnxModel onnx = OnnxModel.Load(GoldenRunner.GoldenPath("onnx", "forward.onnx"));
        Assert.Same(onnx.LstmNodes[0].Model, onnx.Stacked());
    }

    /// <summary>LSTM X→Y (input 2, hidden 3), then a second LSTM (hidden 3) reading <paramref name="secondInput"/>.</summary>
    private static byte[] TwoNodes(string secondInput, int secondInputSize)
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
            });
    }
}
