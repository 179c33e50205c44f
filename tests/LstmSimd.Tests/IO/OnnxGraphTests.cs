using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Whole PyTorch modules exported by torch.onnx.export (Golden/onnx-graph, made by make_onnx_graph_golden.py) run by the
/// graph runner on every kernel path and checked against PyTorch's float64 results, each graph output by its ONNX name.
/// </summary>
public sealed class OnnxGraphTests
{
    public static TheoryData<string> Cases => new(CaseNames);

    internal static readonly string[] CaseNames =
    [
        "dynamic_axes", "static_one_layer", "batch_first_one_layer", "batch_first_two_layers", "three_layers_dynamic",
        "bidirectional_dynamic", "dropout_eval", "learned_state_one_layer", "learned_state_two_layers", "given_state",
        "embedding_tagger", "linear_every_step_batch_first", "linear_last_step_softmax", "bidirectional_last_step_log_softmax",
        "state_head_batch_first", "initializers_as_inputs", "mixer_ops", "mixer_ops_opset11",

        // Laid out as ONNX's conformance tests: W, R, B (and P, sequence_lens, initial state) are graph inputs (make_onnx_conformance_golden.py).
        "conformance_forward_weights_as_inputs", "conformance_bidirectional_peepholes_lengths_state",
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
    public void LSTM_nodes_on_two_threads_give_the_same_results_and_initializers_listed_as_inputs_are_constants()
    {
        using SafetensorsFile golden = SafetensorsFile.Open(Data("bidirectional_dynamic"));
        using OnnxGraph threaded = OnnxGraph.Load(Onnx("bidirectional_dynamic"), new OnnxGraphOptions { Threads = 2 });
        IReadOnlyList<OnnxTensor> outputs = threaded.Run(Inputs(threaded, golden));
        Tolerance.AssertClose(golden.ReadDoubles("Y"), outputs[0].Floats, "Y on two threads");

        // keep_initializers_as_inputs=True lists every weight as a graph input too; their initializers are their values.
        using OnnxGraph graph = OnnxGraph.Load(Onnx("initializers_as_inputs"));
        Assert.Equal(["X"], graph.Inputs.Select(i => i.Name));
    }

    [Theory]
    [InlineData(WeightFormat.Float16)]
    [InlineData(WeightFormat.BFloat16)]
    [InlineData(WeightFormat.Int8)]
    public void LSTM_nodes_run_with_compressed_weights_within_the_formats_documented_accuracy(WeightFormat format)
    {
        using SafetensorsFile golden = SafetensorsFile.Open(Data("bidirectional_dynamic"));
        using OnnxGraph graph = OnnxGraph.Load(Onnx("bidirectional_dynamic"), new OnnxGraphOptions { Weights = format });
        float[] y = graph.Run(Inputs(graph, golden))[0].Floats;
        double worst = golden.ReadDoubles("Y").Select((v, i) => Math.Abs(y[i] - v)).Max();
        Assert.InRange(worst, 1e-7, WeightFormatAccuracy.MaxAbsoluteChange(format)); // above 1e-7: the weights were compressed
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
    public void A_plan_whose_values_would_exceed_the_element_limit_is_refused_naming_the_input_or_the_node()
    {
        OnnxTensor x = OnnxTensor.FromFloats("X", new float[5 * 3 * 4], 5, 3, 4); // 60 elements; Y [5, 1, 3, 6] holds 90
        using OnnxGraph small = OnnxGraph.Load(Onnx("dynamic_axes"), new OnnxGraphOptions { MaxValueElements = 50 });
        Assert.Contains("input 'X' [5, 3, 4] holds more than 50 elements", Assert.Throws<ArgumentException>(() => small.Run([x])).Message, StringComparison.Ordinal);
        using OnnxGraph medium = OnnxGraph.Load(Onnx("dynamic_axes"), new OnnxGraphOptions { MaxValueElements = 70 });
        var refused = Assert.Throws<OnnxFormatException>(() => medium.Run([x]));
        Assert.Contains("(LSTM): output 0 would have shape [5, 1, 3, 6], 90 elements; the limit is 70", refused.Message, StringComparison.Ordinal);
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
    public void Weights_given_as_graph_inputs_are_packed_only_when_they_change_and_a_warm_run_allocates_nothing()
    {
        const string name = "conformance_forward_weights_as_inputs";
        using SafetensorsFile golden = SafetensorsFile.Open(Data(name));
        using OnnxGraph graph = OnnxGraph.Load(Onnx(name));
        OnnxTensor[] inputs = Inputs(graph, golden);
        Tolerance.AssertClose(golden.ReadDoubles("Y"), graph.Run(inputs)[0].Floats, "first run");
        Assert.Equal(0, Allocations.LeastOver(() => graph.Run(inputs), calls: 5));

        // All-zero weights and bias: every gate is sigmoid(0) and the candidate tanh(0) = 0, so c and h stay exactly 0.
        OnnxTensor[] zeroWeights = [.. inputs.Select(t => t.Name == "X" ? t : OnnxTensor.FromFloats(t.Name, new float[t.Length], [.. t.Shape]))];
        Assert.All(graph.Run(zeroWeights)[0].Floats, v => Assert.Equal(0f, v));

        // The same values in other arrays are not a change; the original weights back are, and give the golden result again.
        OnnxTensor[] copies = [.. inputs.Select(t => OnnxTensor.FromFloats(t.Name, [.. t.Floats], [.. t.Shape]))];
        Tolerance.AssertClose(golden.ReadDoubles("Y"), graph.Run(copies)[0].Floats, "weights restored");
        Assert.Equal(0, Allocations.LeastOver(() => graph.Run(inputs), calls: 5));
        copies[1].Floats[0] = -copies[1].Floats[0];
        Assert.NotEqual(golden.ReadDoubles("Y").Select(v => (float)v), graph.Run(copies)[0].Floats);
    }

    [Fact]
    public void A_weight_computed_from_a_graph_input_beside_a_constant_one_gives_the_results_of_both_as_initializers()
    {
        float[] w = LstmCase.Uniform(8 * 3, 1, 0.5), r = LstmCase.Uniform(8 * 2, 2, 0.5), x = LstmCase.Uniform(4 * 2 * 3, 3, 1.0);
        Proto hiddenSize = OnnxBuilder.Ints("hidden_size", 2);

        // Reference: W and R both initializers, packed at load.
        byte[] constant = OnnxBuilder.Model([OnnxBuilder.FloatTensor("W", w, [1, 8, 3]), OnnxBuilder.FloatTensor("R", r, [1, 8, 2])], ["X", "W", "R"], [hiddenSize]);
        using OnnxGraph reference = OnnxGraph.Create(OnnxModel.Parse(constant));
        float[] expected = [.. reference.Run([OnnxTensor.FromFloats("X", x, 4, 2, 3)])[0].Floats];

        // W a graph input passed through Identity, R an initializer: the node's weights are read at run time.
        var identity = new Proto().String(1, "W").String(2, "W copy").String(3, "copy").String(4, "Identity");
        var lstm = new Proto().String(1, "X").String(1, "W copy").String(1, "R").String(2, "Y").String(3, "lstm").String(4, "LSTM").Message(5, hiddenSize);
        var graph = new Proto().Message(1, identity).Message(1, lstm).String(2, "g").Message(5, OnnxBuilder.FloatTensor("R", r, [1, 8, 2]))
            .Message(11, new Proto().String(1, "X")).Message(11, new Proto().String(1, "W")).Message(12, new Proto().String(1, "Y"));
        byte[] computed = new Proto().Varint(1, 8).Message(7, graph).Message(8, new Proto().String(1, "").Varint(2, 14)).ToArray();
        using OnnxGraph runTime = OnnxGraph.Create(OnnxModel.Parse(computed));
        Assert.True(Assert.Single(runTime.Model.LstmNodes).WeightsAtRunTime);
        Assert.Equal(expected, runTime.Run([OnnxTensor.FromFloats("X", x, 4, 2, 3), OnnxTensor.FromFloats("W", w, 1, 8, 3)])[0].Floats);
    }

    [Fact]
    public void Weights_given_as_graph_inputs_are_checked_against_the_node_when_planning_naming_the_input()
    {
        byte[] bytes = OnnxBuilder.Model([], ["X", "W", "R", "B"], [OnnxBuilder.Ints("hidden_size", 2)],
            g => g.Message(11, new Proto().String(1, "W")).Message(11, new Proto().String(1, "R")).Message(11, new Proto().String(1, "B")));
        using OnnxGraph graph = OnnxGraph.Create(OnnxModel.Parse(bytes));
        Dictionary<string, int[]> Shapes(string input, int[] shape)
        {
            var shapes = new Dictionary<string, int[]> { ["X"] = [3, 1, 4], ["W"] = [1, 8, 4], ["R"] = [1, 8, 2], ["B"] = [1, 16] };
            if (input.Length > 0) shapes[input] = shape;
            return shapes;
        }

        foreach ((string input, int[] shape, string expected) in new (string, int[], string)[]
        {
            ("W", [1, 8, 5], "input W ('W') has shape [1, 8, 5]; expected [1, 8, 4]"),
            ("W", [2, 8, 4], "input W ('W') has shape [2, 8, 4]; expected [1, 8, 4]"),
            ("W", [1, 8], "input W ('W') has shape [1, 8]; expected [1, 8, 4]"),
            ("R", [1, 8, 3], "input R ('R') has shape [1, 8, 3]; expected [1, 8, 2]"),
            ("R", [1, 12, 2], "input R ('R') has shape [1, 12, 2]; expected [1, 8, 2]"),
            ("B", [1, 8], "input B ('B') has shape [1, 8]; expected [1, 16]"),
        })
        {
            var e = Assert.Throws<OnnxFormatException>(() => graph.Plan(Shapes(input, shape)));
            Assert.Contains("node 'lstm' (LSTM): " + expected, e.Message, StringComparison.Ordinal);
        }

        using OnnxGraphPlan plan = graph.Plan(Shapes("", []));
        Assert.Equal(1, plan.StepCount);
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
                    // A static export refuses other shapes before running; one with dynamic axes must run at any. Random
                    // sequence_lens may exceed the steps, which is refused naming the length.
                    Assert.False(dynamic, $"{name} at T={steps} B={batch}: {e.Message}");
                    Assert.True(e.Message.Contains("the graph declares", StringComparison.Ordinal) || e.Message.Contains("sequence_lens[", StringComparison.Ordinal), e.Message);
                }
            }
        }
    }

    [Fact]
    public void Mutated_graphs_either_run_or_are_refused_with_a_typed_exception_and_nothing_else()
    {
        string[] seeds = ["state_head_batch_first", "embedding_tagger", "bidirectional_last_step_log_softmax", "learned_state_one_layer"];
        var options = new OnnxGraphOptions { MaxValueElements = 1 << 16 };
        var random = new Random(20261203);
        int ran = 0, refused = 0;
        for (int i = 0; i < 1200; i++)
        {
            byte[] file = File.ReadAllBytes(Onnx(seeds[i % seeds.Length]));
            for (int flips = 0; flips <= i % 4; flips++)
            {
                int at = random.Next(file.Length);
                file[at] = (i & 1) == 0 ? (byte)(file[at] ^ (1 << random.Next(8))) : (byte)random.Next(256);
            }

            try
            {
                using OnnxGraph graph = OnnxGraph.Create(OnnxModel.Parse(file), options);
                foreach ((int steps, int batch) in new[] { (1, 1), (3, 2) })
                {
                    if (graph.Inputs.Any(input => input.Shape is null || input.Shape.Any(d => d.Value > 64))) break;
                    graph.Run([.. graph.Inputs.Select(input => Random(input, steps, batch))]);
                }

                ran++;
            }
            catch (Exception e) when (e is ModelFormatException or ArgumentException)
            {
                refused++;
            }
            catch (Exception e)
            {
                throw new InvalidOperationException($"mutation {i} of {seeds[i % seeds.Length]} let {e.GetType().Name} escape: {e.Message}", e);
            }
        }

        Assert.True(ran > 100 && refused > 100, $"{ran} ran, {refused} refused");
    }

    /// <summary>Random values for a graph input at (steps, batch): named dims T and B bound, numbered dims kept.</summary>
    private static OnnxTensor Random(OnnxValueInfo input, int steps, int batch)
    {
        int[] shape = [.. input.Shape!.Select<OnnxDim, int>(d => d.Name == "T" ? steps : d.Name == "B" ? batch : (int)(d.Value ?? 2))];
        int count = shape.Aggregate(1, (a, b) => a * b);
        return input.ElementType is 6 or 7
            ? OnnxTensor.FromInt64s(input.Name, [.. Enumerable.Range(0, count).Select(i => (long)(i * 7 % 11))], shape)
            : OnnxTensor.FromFloats(input.Name, LstmCase.Uniform(count, count, 1.0), shape);
    }
}

/// <summary>
/// ONNX's layout 1 on two directions, where the runner transposes around the session: a layout-1 node must give, on the
/// same sequences transposed, the layout-0 twin's results transposed (layout 0 is checked against ONNX Runtime elsewhere).
/// </summary>
public sealed class OnnxGraphLayoutTests
{
    [Theory]
    [InlineData("bidirectional")]
    [InlineData("reverse")]
    public void A_layout_1_node_gives_its_layout_0_twins_results_transposed(string direction)
    {
        const int steps = 4, batch = 3, input = 2, hidden = 5;
        int dirs = direction == "bidirectional" ? 2 : 1;
        float[] x = LstmCase.Uniform(steps * batch * input, 1, 1.0), h0 = LstmCase.Uniform(dirs * batch * hidden, 2, 0.5), c0 = LstmCase.Uniform(dirs * batch * hidden, 3, 0.5);
        long[] lengths = [4, 2, 3];
        using OnnxGraph timeMajor = OnnxGraph.Create(OnnxModel.Parse(Node(direction, dirs, layout: 0, input, hidden)));
        using OnnxGraph batchFirst = OnnxGraph.Create(OnnxModel.Parse(Node(direction, dirs, layout: 1, input, hidden)));
        IReadOnlyList<OnnxTensor> expected = timeMajor.Run(
        [
            OnnxTensor.FromFloats("X", x, steps, batch, input), OnnxTensor.FromInt64s("L", lengths, batch),
            OnnxTensor.FromFloats("H", h0, dirs, batch, hidden), OnnxTensor.FromFloats("C", c0, dirs, batch, hidden),
        ]);
        IReadOnlyList<OnnxTensor> actual = batchFirst.Run(
        [
            OnnxTensor.FromFloats("X", Swap(x, 1, steps, batch, input), batch, steps, input), OnnxTensor.FromInt64s("L", lengths, batch),
            OnnxTensor.FromFloats("H", Swap(h0, 1, dirs, batch, hidden), batch, dirs, hidden), OnnxTensor.FromFloats("C", Swap(c0, 1, dirs, batch, hidden), batch, dirs, hidden),
        ]);

        // Y [T, D, B, H] → [B, T, D, H]: (T·D, B) swapped, then (T, D) kept together.
        float[] y = Swap(expected[0].Floats, 1, steps * dirs, batch, hidden);
        Assert.Equal([batch, steps, dirs, hidden], actual[0].Shape);
        Assert.Equal(y, actual[0].Floats);
        Assert.Equal(Swap(expected[1].Floats, 1, dirs, batch, hidden), actual[1].Floats);
        Assert.Equal(Swap(expected[2].Floats, 1, dirs, batch, hidden), actual[2].Floats);
        Assert.Contains(expected[0].Floats, v => v != 0);
    }

    /// <summary>[outer, a, b, h] → [outer, b, a, h], written independently of the runner's own transposes.</summary>
    private static float[] Swap(float[] source, int outer, int a, int b, int h)
    {
        var result = new float[source.Length];
        for (int o = 0; o < outer; o++)
            for (int i = 0; i < a; i++)
                for (int j = 0; j < b; j++)
                    for (int k = 0; k < h; k++)
                        result[((o * b + j) * a + i) * h + k] = source[((o * a + i) * b + j) * h + k];
        return result;
    }

    /// <summary>One LSTM node X, W, R, B, sequence_lens L, initial_h H, initial_c C → Y, Y_h, Y_c.</summary>
    private static byte[] Node(string direction, int dirs, int layout, int input, int hidden)
    {
        var node = new Proto();
        foreach (string i in new[] { "X", "W", "R", "B", "L", "H", "C" }) node.String(1, i);
        node.String(2, "Y").String(2, "Y_h").String(2, "Y_c").String(3, "lstm").String(4, "LSTM");
        node.Message(5, OnnxBuilder.Str("direction", direction)).Message(5, OnnxBuilder.Ints("layout", layout)).Message(5, OnnxBuilder.Ints("hidden_size", hidden));
        var graph = new Proto().Message(1, node).String(2, "g");
        graph.Message(5, OnnxBuilder.FloatTensor("W", LstmCase.Uniform(dirs * 4 * hidden * input, 4, 0.5), [dirs, 4 * hidden, input]));
        graph.Message(5, OnnxBuilder.FloatTensor("R", LstmCase.Uniform(dirs * 4 * hidden * hidden, 5, 0.5), [dirs, 4 * hidden, hidden]));
        graph.Message(5, OnnxBuilder.FloatTensor("B", LstmCase.Uniform(dirs * 8 * hidden, 6, 0.5), [dirs, 8 * hidden]));
        foreach (string i in new[] { "X", "H", "C" }) graph.Message(11, new Proto().String(1, i));
        graph.Message(11, new Proto().String(1, "L").Message(2, new Proto().Message(1, new Proto().Varint(1, 7))));
        foreach (string o in new[] { "Y", "Y_h", "Y_c" }) graph.Message(12, new Proto().String(1, o));
        return new Proto().Varint(1, 8).Message(7, graph).Message(8, new Proto().String(1, "").Varint(2, 14)).ToArray();
    }
}
