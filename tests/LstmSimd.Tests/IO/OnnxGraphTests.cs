using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Whole PyTorch modules exported by torch.onnx.export (Golden/onnx-graph, made by make_onnx_graph_golden.py) run by the
/// graph runner on every kernel path and checked against PyTorch's float64 results, each graph output by its ONNX name.
/// </summary>
public sealed class OnnxGraphTests
{
    public static TheoryData<string> Cases => new(CaseNames);

    private static readonly string[] CaseNames =
    [
        "dynamic_axes", "static_one_layer", "batch_first_one_layer", "batch_first_two_layers", "three_layers_dynamic",
        "bidirectional_dynamic", "dropout_eval", "learned_state_one_layer", "learned_state_two_layers", "given_state",
        "embedding_tagger", "linear_every_step_batch_first", "linear_last_step_softmax", "bidirectional_last_step_log_softmax",
        "state_head_batch_first",
    ];

    public static string Onnx(string name) => GoldenRunner.GoldenPath("onnx-graph", name + ".onnx");

    public static string Data(string name) => GoldenRunner.GoldenPath("onnx-graph", name + ".safetensors");

    /// <summary>The graph inputs, read from the golden file by their ONNX names.</summary>
    public static OnnxTensor[] Inputs(OnnxGraph graph, SafetensorsFile file) =>
        [.. graph.Inputs.Select(i => OnnxTensor.FromSafetensors(file, i.Name, i.Name))];

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_PyTorch_export_runs_whole_and_every_output_matches_PyTorch_on_every_kernel_path(string name)
    {
        using SafetensorsFile golden = SafetensorsFile.Open(Data(name));
        foreach (KernelPath path in KernelSelector.All)
        {
            using OnnxGraph graph = OnnxGraph.Load(Onnx(name), new OnnxGraphOptions { Kernel = path });
            Assert.Empty(graph.DeadNodes);
            IReadOnlyList<OnnxTensor> outputs = graph.Run(Inputs(graph, golden));
            Assert.Equal(graph.Outputs.Select(o => o.Name), outputs.Select(o => o.Name));
            foreach (OnnxTensor output in outputs)
            {
                Assert.Equal(golden.GetTensor(output.Name).Shape, output.Shape.Select(d => (long)d));
                Tolerance.AssertClose(golden.ReadDoubles(output.Name), output.Floats, $"{name} {output.Name} on {path}");
            }
        }
    }

    [Fact]
    public void A_dynamic_axes_export_folds_its_zero_state_chain_so_only_the_LSTM_and_its_reshape_run()
    {
        using OnnxGraph graph = OnnxGraph.Load(Onnx("dynamic_axes"));
        Assert.Equal(["LSTM", "Squeeze"], graph.RunNodes.Select(n => n.OpType));
        Assert.Contains(graph.FoldedNodes, n => n.OpType == "ConstantOfShape");
        Assert.Equal("[T, B, 4]", Assert.Single(graph.Inputs).ShapeText);
    }

    [Fact]
    public void A_learned_initial_state_reaches_the_LSTM_through_its_Expand_rather_than_zeros()
    {
        // The single node's initial_h is computed by Expand from a parameter: running from zeros would be off by up to 0.15.
        using SafetensorsFile golden = SafetensorsFile.Open(Data("learned_state_one_layer"));
        using OnnxGraph graph = OnnxGraph.Load(Onnx("learned_state_one_layer"));
        OnnxLstmNode node = Assert.Single(graph.Model.LstmNodes);
        Assert.NotNull(node.InitialHiddenInput);
        IReadOnlyList<OnnxTensor> outputs = graph.Run(Inputs(graph, golden));
        Tolerance.AssertClose(golden.ReadDoubles("Y"), outputs[0].Floats, "learned state Y");
    }

    [Fact]
    public void Symbolic_dims_rebind_per_run_and_each_shape_gets_its_own_plan()
    {
        using OnnxGraph graph = OnnxGraph.Load(Onnx("bidirectional_dynamic"));
        foreach ((int steps, int batch) in new[] { (5, 3), (2, 1), (7, 4) })
        {
            float[] x = LstmCase.Uniform(steps * batch * 4, steps * 10 + batch, 1.0);
            IReadOnlyList<OnnxTensor> outputs = graph.Run([OnnxTensor.FromFloats("X", x, steps, batch, 4)]);
            Assert.Equal([steps, batch, 12], outputs[0].Shape);
            Assert.Equal([4, batch, 6], outputs[1].Shape);
        }

        var refused = Assert.Throws<ArgumentException>(() => graph.Run([OnnxTensor.FromFloats("X", new float[15], 5, 3, 1)]));
        Assert.Contains("declares [T, B, 4]", refused.Message, StringComparison.Ordinal);
        var missing = Assert.Throws<ArgumentException>(() => graph.Run([OnnxTensor.FromFloats("input", new float[12], 1, 3, 4)]));
        Assert.Contains("the graph needs input 'X'; it takes 'X' FLOAT [T, B, 4]", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_warm_run_at_the_planned_shapes_allocates_nothing()
    {
        foreach (string name in new[] { "embedding_tagger", "state_head_batch_first", "bidirectional_last_step_log_softmax", "given_state" })
        {
            using SafetensorsFile golden = SafetensorsFile.Open(Data(name));
            using OnnxGraph graph = OnnxGraph.Load(Onnx(name));
            OnnxTensor[] inputs = Inputs(graph, golden);
            graph.Run(inputs);
            Assert.Equal(0, Allocations.LeastOver(() => graph.Run(inputs), calls: 5));
        }
    }

    [Fact]
    public void Every_golden_graph_either_runs_or_refuses_cleanly_at_other_steps_and_batches()
    {
        foreach (string name in CaseNames)
        {
            using OnnxGraph graph = OnnxGraph.Load(Onnx(name));
            using SafetensorsFile golden = SafetensorsFile.Open(Data(name));
            bool dynamic = JsonDocument.Parse(golden.Metadata["config"]).RootElement.GetProperty("dynamic").GetBoolean();
            foreach ((int steps, int batch) in new[] { (1, 1), (3, 2), (7, 5) })
            {
                OnnxTensor[] inputs = [.. graph.Inputs.Select(i => Random(i, steps, batch))];
                try
                {
                    IReadOnlyList<OnnxTensor> outputs = graph.Run(inputs);
                    Assert.All(outputs, o => Assert.All(o.Floats, v => Assert.True(float.IsFinite(v), $"{name}: {o.Name} holds {v}")));
                }
                catch (Exception e) when (e is ArgumentException or OnnxFormatException)
                {
                    // A static export refuses other shapes before running; one with dynamic axes must run at any.
                    Assert.False(dynamic, $"{name} at T={steps} B={batch}: {e.Message}");
                    Assert.Contains("the graph declares", e.Message, StringComparison.Ordinal);
                }
            }
        }
    }

    /// <summary>Random values for a graph input at (steps, batch): named dims T and B bound, numbered dims kept.</summary>
    private static OnnxTensor Random(OnnxValueInfo input, int steps, int batch)
    {
        int[] shape = [.. input.Shape!.Select<OnnxDim, int>(d => d.Name == "T" ? steps : d.Name == "B" ? batch : (int)(d.Value ?? 1))];
        int count = shape.Aggregate(1, (a, b) => a * b);
        return input.ElementType == 7
            ? OnnxTensor.FromInt64s(input.Name, [.. Enumerable.Range(0, count).Select(i => (long)(i * 7 % 11))], shape)
            : OnnxTensor.FromFloats(input.Name, LstmCase.Uniform(count, count, 1.0), shape);
    }
}
