using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;

namespace LstmSimd.Tests.IO;

/// <summary><c>lstmsimd run</c> and <c>inspect</c> on ONNX graphs, as a child process: outputs by ONNX name, PyTorch's names for bare LSTM stacks, refusals.</summary>
public sealed class OnnxGraphCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-onnx-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    public static TheoryData<string> Cases => OnnxGraphTests.Cases;

    /// <summary>
    /// Every golden case on every kernel path (LSTMSIMD_KERNEL): a child process each, which stays cheap at this count (about
    /// 0.3 s a run, under half a minute for all of them).
    /// </summary>
    public static TheoryData<string, string> KernelCases()
    {
        var data = new TheoryData<string, string>();
        foreach (KernelPath path in KernelSelector.All)
            foreach (string name in OnnxGraphTests.CaseNames)
                data.Add(name, path.ToString().ToLowerInvariant());
        return data;
    }

    public static TheoryData<string> RuntimeCases => new()
    {
        "forward", "reverse", "bidirectional", "peepholes", "clip", "input_forget", "sequence_lens_bidirectional",
        "layout_batch_first", "activations", "no_initial_state",
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void Run_writes_every_graph_output_under_its_ONNX_name_matching_PyTorch(string name) => RunAndCompare(name, null);

    [Theory]
    [MemberData(nameof(KernelCases))]
    public void Run_matches_PyTorch_on_every_kernel_path(string name, string kernel) =>
        RunAndCompare(name, new Dictionary<string, string> { [KernelSelector.EnvironmentVariable] = kernel });

    [Theory]
    [MemberData(nameof(RuntimeCases))]
    public void A_bare_LSTM_node_takes_PyTorch_names_and_writes_output_h_n_c_n_in_PyTorchs_shapes(string name)
    {
        // These files hold input, h0 and c0 [D, B, H] (whatever the node's layout) and lengths, as the LstmSimd route takes them.
        string golden = GoldenRunner.GoldenPath("onnx", name + ".safetensors"), y = Path.Combine(_dir, name + ".safetensors");
        var (code, stdout, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "run", "--model", GoldenRunner.GoldenPath("onnx", name + ".onnx"), "--input", golden, "--output", y);
        Assert.True(code == 0, stderr);
        Assert.Contains("fast path", stdout, StringComparison.Ordinal);
        using SafetensorsFile expected = SafetensorsFile.Open(golden), actual = SafetensorsFile.Open(y);
        foreach (string tensor in new[] { "output", "h_n", "c_n" })
        {
            Assert.Equal(expected.GetTensor(tensor).Shape, actual.GetTensor(tensor).Shape);
            Tolerance.AssertClose(expected.ReadDoubles(tensor), actual.ReadSingles(tensor), $"{name} {tensor}");
        }

        Assert.True(actual.Contains("Y") && actual.Contains("Y_h") && actual.Contains("Y_c"));
    }

    [Fact]
    public void Run_refuses_batch_first_for_ONNX_and_names_the_inputs_a_graph_needs()
    {
        string model = OnnxGraphTests.Onnx("given_state"), y = Path.Combine(_dir, "y.safetensors"), x = Path.Combine(_dir, "x.safetensors");
        new SafetensorsWriter().Add("X", new float[5 * 3 * 4], 5, 3, 4).Save(x);
        var (code, _, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "run", "--model", model, "--input", x, "--output", y);
        Assert.Equal(2, code);
        Assert.Contains("holds no tensor named 'h0'; the graph takes 'X' FLOAT [T, B, 4] (or 'input'), 'h0' FLOAT [2, B, 6], 'c0' FLOAT [2, B, 6]", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(y));

        (code, _, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "run", "--model", OnnxGraphTests.Onnx("batch_first_one_layer"), "--input", x, "--output", y, "--batch-first");
        Assert.Equal(2, code);
        Assert.Contains("--batch-first is for safetensors models", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_refuses_an_input_file_that_would_override_an_initializer_listed_as_a_graph_input()
    {
        string x = Path.Combine(_dir, "x.safetensors"), y = Path.Combine(_dir, "y.safetensors");
        new SafetensorsWriter().Add("X", new float[5 * 3 * 4], 5, 3, 4).Add("head.bias", new float[3], 3).Save(x);
        var (code, _, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "run", "--model", OnnxGraphTests.Onnx("initializers_as_inputs"), "--input", x, "--output", y);
        Assert.Equal(2, code);
        Assert.Contains("holds 'head.bias', a graph input with an initializer", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(y));
    }

    [Fact]
    public void Run_refuses_an_initial_state_the_graph_does_not_read_rather_than_running_from_its_own_zeros()
    {
        // dynamic_axes builds its zero state inside the graph: an h0 in the input file would be ignored.
        string x = Path.Combine(_dir, "x.safetensors"), y = Path.Combine(_dir, "y.safetensors");
        new SafetensorsWriter().Add("X", new float[5 * 3 * 4], 5, 3, 4).Add("h0", new float[3 * 6], 1, 3, 6).Save(x);
        var (code, _, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "run", "--model", OnnxGraphTests.Onnx("dynamic_axes"), "--input", x, "--output", y);
        Assert.Equal(2, code);
        Assert.Contains("holds 'h0', which this graph does not read (it takes 'X')", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(y));
    }

    [Fact]
    public void Inspect_shows_the_plan_inputs_with_named_dims_folded_nodes_running_nodes_and_outputs()
    {
        var (code, stdout, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "inspect", OnnxGraphTests.Onnx("linear_last_step_softmax"));
        Assert.True(code == 0, stderr);
        Assert.Contains("plan (opset 13):", stdout, StringComparison.Ordinal);
        Assert.Matches(@"X\s+FLOAT\s+\[T, B, 4\]", stdout);
        Assert.Contains("folded when planning (", stdout, StringComparison.Ordinal);
        Assert.Contains("ConstantOfShape", stdout, StringComparison.Ordinal);
        Assert.Matches(@"runs \(\d+ nodes\):", stdout);
        Assert.Contains("    Softmax '/Softmax'", stdout, StringComparison.Ordinal);
        Assert.Matches(@"probabilities\s+FLOAT\s+\[B, 3\]", stdout);
        Assert.Contains("dead nodes (reach no output, not run): none", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_graph_with_an_operator_the_runner_lacks_is_refused_by_run_and_shown_as_not_runnable_by_inspect()
    {
        string model = Path.Combine(_dir, "erf.onnx"), x = Path.Combine(_dir, "x.safetensors");
        File.WriteAllBytes(model, OnnxBuilder.Model(
            [OnnxBuilder.FloatTensor("W", new float[4 * 3 * 2], [1, 12, 2]), OnnxBuilder.FloatTensor("R", new float[4 * 3 * 3], [1, 12, 3])], ["X", "W", "R"], [],
            graph =>
            {
                graph.Message(1, new Proto().String(1, "Y").String(2, "Z").String(3, "activation").String(4, "Erf"));
                graph.Message(12, new Proto().String(1, "Z"));
            }));
        new SafetensorsWriter().Add("X", new float[4 * 2 * 2], 4, 2, 2).Save(x);
        var (code, _, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "run", "--model", model, "--input", x, "--output", Path.Combine(_dir, "y.safetensors"));
        Assert.Equal(2, code);
        Assert.Contains("node 'activation' (Erf): operator Erf is not supported", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_dir, "y.safetensors")));

        var (inspectCode, stdout, _) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, "inspect", model);
        Assert.Equal(0, inspectCode);
        Assert.Contains("not runnable: onnx: node 'activation' (Erf): operator Erf is not supported", stdout, StringComparison.Ordinal);
    }

    private void RunAndCompare(string name, IReadOnlyDictionary<string, string>? environment)
    {
        string y = Path.Combine(_dir, name + ".out.safetensors");
        var (code, stdout, stderr) = LstmSimd.Tests.Tool.ToolCli.Run(_dir, environment, "run", "--model", OnnxGraphTests.Onnx(name), "--input", OnnxGraphTests.Data(name), "--output", y);
        Assert.True(code == 0, stderr);
        string kernel = environment?.GetValueOrDefault(KernelSelector.EnvironmentVariable) ?? "";
        Assert.Contains("fast path (", stdout, StringComparison.Ordinal);
        if (kernel.Length > 0) Assert.Contains($"fast path ({kernel}", stdout, StringComparison.OrdinalIgnoreCase);
        using OnnxGraph graph = OnnxGraph.Load(OnnxGraphTests.Onnx(name));
        using SafetensorsFile expected = SafetensorsFile.Open(OnnxGraphTests.Data(name)), actual = SafetensorsFile.Open(y);
        foreach (OnnxValueInfo output in graph.Outputs)
        {
            Assert.Equal(expected.GetTensor(output.Name).Shape, actual.GetTensor(output.Name).Shape);
            Tolerance.AssertClose(expected.ReadDoubles(output.Name), actual.ReadSingles(output.Name), $"cli {name} {output.Name} {kernel}");
        }
    }
}
