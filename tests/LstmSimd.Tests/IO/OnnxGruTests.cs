using LstmSimd.IO;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO;

/// <summary>
/// ONNX GRU nodes through the graph runner (Golden/onnx-gru, made by make_onnx_gru_golden.py): nn.GRU exports against
/// PyTorch's float64 results, hand-built nodes (reverse, sequence_lens, layout 1, no bias) against the ONNX equations in
/// float64 (checked there against ONNX Runtime), on every kernel path; and what the importer refuses, with the reason.
/// </summary>
public sealed class OnnxGruTests
{
    public static TheoryData<string> Cases =>
    [
        "export_one_layer", "export_two_layers_bidirectional", "export_batch_first_given_state", "export_no_bias_bidirectional_given_state",
        "export_linear_head_batch_first", "node_forward_initial_h", "node_reverse", "node_reverse_lengths_no_bias", "node_bidirectional_lengths",
        "node_layout_batch_first_bidirectional", "node_layout_batch_first_lengths",
        "node_original_bidirectional_lengths", "node_original_layout_batch_first_no_bias",
        "node_hard_sigmoid_reverse", "node_original_hard_sigmoid_bidirectional_lengths",
    ];

    private static string Onnx(string name) => GoldenRunner.GoldenPath("onnx-gru", name + ".onnx");

    private static SafetensorsFile Data(string name) => SafetensorsFile.Open(GoldenRunner.GoldenPath("onnx-gru", name + ".safetensors"));

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_GRU_graph_runs_whole_and_every_output_matches_its_golden_on_every_kernel_path(string name)
    {
        using SafetensorsFile golden = Data(name);
        foreach (KernelPath path in KernelSelector.All)
        {
            using OnnxGraph graph = OnnxGraph.Load(Onnx(name), new OnnxGraphOptions { Kernel = path });
            Assert.NotEmpty(graph.Model.GruNodes);
            Assert.Contains(graph.RunNodes, n => n.OpType == "GRU");
            IReadOnlyList<OnnxTensor> outputs = graph.Run(OnnxGraphTests.Inputs(graph, golden));
            foreach (OnnxTensor output in outputs)
            {
                Assert.Equal(golden.GetTensor(output.Name).Shape, output.Shape.Select(d => (long)d));
                Tolerance.AssertClose(golden.ReadDoubles(output.Name), output.Floats, $"{name} {output.Name} on {path}");
            }
        }
    }

    [Theory]
    [InlineData(WeightFormat.Float16)]
    [InlineData(WeightFormat.BFloat16)]
    [InlineData(WeightFormat.Int8)]
    public void GRU_nodes_run_with_compressed_weights_within_the_formats_documented_accuracy(WeightFormat format)
    {
        using SafetensorsFile golden = Data("export_two_layers_bidirectional");
        using OnnxGraph graph = OnnxGraph.Load(Onnx("export_two_layers_bidirectional"), new OnnxGraphOptions { Weights = format });
        IReadOnlyList<OnnxTensor> outputs = graph.Run(OnnxGraphTests.Inputs(graph, golden));
        foreach (OnnxTensor output in outputs)
        {
            double worst = golden.ReadDoubles(output.Name).Select((v, i) => Math.Abs(output.Floats[i] - v)).Max();
            Assert.InRange(worst, 1e-7, WeightFormatAccuracy.MaxAbsoluteChange(format)); // above 1e-7: the weights were compressed
        }
    }

    [Fact]
    public void A_warm_run_of_a_GRU_graph_at_the_planned_shapes_allocates_nothing()
    {
        foreach (string name in new[] { "export_linear_head_batch_first", "node_bidirectional_lengths", "node_layout_batch_first_bidirectional" })
        {
            using SafetensorsFile golden = Data(name);
            using OnnxGraph graph = OnnxGraph.Load(Onnx(name));
            OnnxTensor[] inputs = OnnxGraphTests.Inputs(graph, golden);
            graph.Run(inputs);
            Assert.Equal(0, Allocations.LeastOver(() => graph.Run(inputs), calls: 5));
        }
    }

    [Fact]
    public void ONNX_GRU_gate_blocks_z_r_h_land_in_PyTorch_order_r_z_n_and_B_splits_into_the_two_biases()
    {
        OnnxModel model = OnnxModel.Parse(Labelled(hidden: 2, input: 3, directions: 1, [LinearBeforeReset(1)]));
        Assert.Empty(model.LstmNodes);
        GruLayerWeights w = Assert.Single(model.GruNodes).Weights[0, 0];
        // ONNX blocks hold 1 (z), 2 (r), 3 (h); ours must read r, z, n.
        Assert.Equal(new float[] { 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 1, 1, 3, 3, 3, 3, 3, 3 }, w.WeightIh);
        Assert.Equal(new float[] { 20, 20, 10, 10, 30, 30 }, w.BiasIh);
        Assert.Equal(new float[] { 200, 200, 100, 100, 300, 300 }, w.BiasHh);
        Assert.Equal(new float[12 * 1], w.WeightHh[..12]);
    }

    [Fact]
    public void Linear_before_reset_0_or_absent_imports_the_original_cell_and_1_PyTorchs()
    {
        foreach ((Proto[] attributes, bool linearBeforeReset) in new[] { (Array.Empty<Proto>(), false), ([LinearBeforeReset(0)], false), ([LinearBeforeReset(1)], true) })
        {
            OnnxGruNode node = Assert.Single(OnnxModel.Parse(Labelled(2, 3, 1, attributes)).GruNodes);
            Assert.Equal(linearBeforeReset, node.Weights.Spec.LinearBeforeReset);
            Assert.EndsWith($"linear_before_reset {(linearBeforeReset ? 1 : 0)}", node.Description, StringComparison.Ordinal);
        }
    }

    public static TheoryData<string, string> Refusals => new()
    {
        { "clip", "clip is set" },
        { "Relu activation", "activation 'Relu' as g is not supported" },
        { "Relu gates", "activation 'Relu' as f is not supported" },
        { "directions that differ", "the two directions use different activations" },
        { "three activations", "activations lists 3 functions; this direction needs 2" },
        { "linear_before_reset 2", "linear_before_reset 2 is not 0 or 1" },
        { "hidden_size", "hidden_size 3 disagrees with R" },
        { "unknown attribute", "unknown attribute 'input_forget'" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void What_the_fast_GRU_does_not_compute_is_refused_at_import_with_the_reason(string what, string expected)
    {
        Proto[] extra = what switch
        {
            "clip" => [OnnxBuilder.Attribute("clip", a => a.Fixed32(2, 3f).Varint(20, 1))],
            "Relu activation" => [OnnxBuilder.Strs("activations", "Sigmoid", "Relu")],
            "Relu gates" => [OnnxBuilder.Strs("activations", "Relu", "Tanh")],
            "directions that differ" => [OnnxBuilder.Str("direction", "bidirectional"), OnnxBuilder.Strs("activations", "HardSigmoid", "Tanh", "Sigmoid", "Tanh")],
            "three activations" => [OnnxBuilder.Strs("activations", "Sigmoid", "Tanh", "Tanh")],
            "hidden_size" => [OnnxBuilder.Ints("hidden_size", 3)],
            "unknown attribute" => [OnnxBuilder.Ints("input_forget", 1)],
            _ => [],
        };
        Proto[] attributes = what == "linear_before_reset 2" ? [LinearBeforeReset(2)] : [LinearBeforeReset(1), .. extra];
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(Labelled(2, 3, 1, attributes)));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Default_activations_spelled_out_for_both_directions_are_accepted()
    {
        OnnxModel model = OnnxModel.Parse(Labelled(2, 3, 2,
            [LinearBeforeReset(1), OnnxBuilder.Str("direction", "bidirectional"), OnnxBuilder.Strs("activations", "Sigmoid", "Tanh", "sigmoid", "tanh")]));
        Assert.True(Assert.Single(model.GruNodes).Weights.Spec.Bidirectional);
    }

    [Fact]
    public void A_GRU_whose_weights_are_graph_inputs_is_refused_naming_what_it_needs()
    {
        byte[] bytes = OnnxBuilder.Model([], ["X", "W", "R"], [LinearBeforeReset(1), OnnxBuilder.Ints("hidden_size", 2)],
            g => g.Message(11, new Proto().String(1, "W")).Message(11, new Proto().String(1, "R")), opType: "GRU");
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(bytes));
        Assert.Contains("computed at run time", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Wrong_shapes_are_refused_naming_the_tensor_and_the_expected_shape()
    {
        byte[] bytes = OnnxBuilder.Model(
            [OnnxBuilder.FloatTensor("W", new float[4 * 2 * 3], [1, 8, 3]), OnnxBuilder.FloatTensor("R", new float[3 * 2 * 2], [1, 6, 2])],
            ["X", "W", "R"], [LinearBeforeReset(1)], opType: "GRU");
        var e = Assert.Throws<OnnxFormatException>(() => OnnxModel.Parse(bytes));
        Assert.Contains("W has shape [1, 8, 3]; expected [1, 6, 3]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sequence_length_beyond_the_steps_is_refused_at_run_time_naming_the_node_and_the_length()
    {
        using SafetensorsFile golden = Data("node_bidirectional_lengths");
        using OnnxGraph graph = OnnxGraph.Load(Onnx("node_bidirectional_lengths"));
        OnnxTensor[] inputs = OnnxGraphTests.Inputs(graph, golden);
        OnnxTensor lengths = inputs.Single(i => i.Name == "sequence_lens");
        lengths.Int64s[0] = 7;
        var e = Assert.Throws<ArgumentException>(() => graph.Run(inputs));
        Assert.Contains("node 'gru' (GRU): sequence_lens[0] = 7 is outside [0, 6]", e.Message, StringComparison.Ordinal);
    }

    private static Proto LinearBeforeReset(long value) => OnnxBuilder.Ints("linear_before_reset", value);

    /// <summary>A GRU node: W's ONNX gate block k (order z, r, h) holds k+1, R zero, W_b block k = 10(k+1), R_b block k = 100(k+1).</summary>
    private static byte[] Labelled(int hidden, int input, int directions, IEnumerable<Proto> attributes)
    {
        var w = new float[directions * 3 * hidden * input];
        var b = new float[directions * 6 * hidden];
        for (int d = 0; d < directions; d++)
        {
            for (int g = 0; g < 3; g++)
            {
                for (int i = 0; i < hidden * input; i++) w[(d * 3 + g) * hidden * input + i] = g + 1;
                for (int u = 0; u < hidden; u++)
                {
                    b[d * 6 * hidden + g * hidden + u] = 10 * (g + 1);
                    b[d * 6 * hidden + 3 * hidden + g * hidden + u] = 100 * (g + 1);
                }
            }
        }

        return OnnxBuilder.Model(
            [OnnxBuilder.FloatTensor("W", w, [directions, 3 * hidden, input]), OnnxBuilder.FloatTensor("R", new float[directions * 3 * hidden * hidden], [directions, 3 * hidden, hidden]),
             OnnxBuilder.FloatTensor("B", b, [directions, 6 * hidden])],
            ["X", "W", "R", "B"], attributes, opType: "GRU");
    }
}
