using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Tests.IO;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>
/// The <c>lstmsimd</c> tool on GRUs, run as a child process: nn.GRU state_dicts, ONNX GRU graphs and Keras GRU models through
/// <c>run</c> and <c>inspect</c> against their goldens, GRU rows in <c>verify</c>, and the GRU workloads of <c>bench</c>.
/// </summary>
public sealed class GruCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-gru-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => ToolCli.Run(_dir, args);

    [Theory]
    [InlineData("variable_lengths", false)]
    [InlineData("batch_first_no_bias", true)]
    [InlineData("two_layer_bidirectional", false)]
    public void Run_on_an_nn_GRU_state_dict_writes_PyTorchs_output_and_h_n(string name, bool batchFirst)
    {
        string golden = GoldenRunner.GoldenPath("pytorch-gru", name + ".safetensors"), y = Path.Combine(_dir, "y.safetensors");
        string[] args = ["run", "--model", golden, "--input", golden, "--output", y, .. batchFirst ? new[] { "--batch-first" } : []];
        var (code, stdout, stderr) = Cli(args);
        Assert.True(code == 0, stderr);
        Assert.Contains("PyTorch nn.GRU", stdout, StringComparison.Ordinal);
        using SafetensorsFile expected = SafetensorsFile.Open(golden), actual = SafetensorsFile.Open(y);
        Assert.Equal(["h_n", "output"], actual.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (string tensor in new[] { "output", "h_n" })
        {
            Assert.Equal(expected.GetTensor(tensor).Shape, actual.GetTensor(tensor).Shape);
            Tolerance.AssertClose(expected.ReadDoubles(tensor), actual.ReadSingles(tensor), $"cli {name} {tensor}");
        }
    }

    [Fact]
    public void Run_refuses_a_cell_state_or_gradients_for_a_GRU_and_inspect_names_the_GRU()
    {
        string golden = GoldenRunner.GoldenPath("pytorch-gru", "single_layer.safetensors"), y = Path.Combine(_dir, "y.safetensors");
        var input = new SafetensorsWriter();
        using (SafetensorsFile g = SafetensorsFile.Open(golden))
        {
            input.Add("input", g.ReadSingles("input"), [.. g.GetTensor("input").Shape]);
            input.Add("c0", g.ReadSingles("h0"), [.. g.GetTensor("h0").Shape]);
        }

        string inputPath = Path.Combine(_dir, "x.safetensors");
        input.Save(inputPath);
        var (code, _, stderr) = Cli("run", "--model", golden, "--input", inputPath, "--output", y);
        Assert.Equal(2, code);
        Assert.Contains("holds 'c0': a GRU has no cell state", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(y));

        (code, string stdout, stderr) = Cli("inspect", golden);
        Assert.True(code == 0, stderr);
        Assert.Contains("found: PyTorch nn.GRU at prefix '': 1-layer GRU, input 3, hidden 4", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("not importable", stdout, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("node_bidirectional_lengths")]
    [InlineData("export_batch_first_given_state")]
    public void Run_on_an_ONNX_GRU_graph_writes_every_output_under_its_ONNX_name_and_inspect_lists_the_GRU_nodes(string name)
    {
        string model = GoldenRunner.GoldenPath("onnx-gru", name + ".onnx"), golden = GoldenRunner.GoldenPath("onnx-gru", name + ".safetensors");
        string y = Path.Combine(_dir, "y.safetensors"), inputPath = Path.Combine(_dir, "x.safetensors");
        var input = new SafetensorsWriter();
        using (SafetensorsFile g = SafetensorsFile.Open(golden))
        {
            foreach (string graphInput in new[] { "X", "sequence_lens", "initial_h", "input", "h0" }.Where(g.Contains))
            {
                SafetensorsTensorInfo t = g.GetTensor(graphInput);
                if (t.Dtype == SafetensorsDtype.I32) input.Add(graphInput, [.. g.ReadInt64s(graphInput).Select(v => (int)v)], [.. t.Shape]);
                else input.Add(graphInput, g.ReadSingles(graphInput), [.. t.Shape]);
            }
        }

        input.Save(inputPath);
        var (code, stdout, stderr) = Cli("run", "--model", model, "--input", inputPath, "--output", y);
        Assert.True(code == 0, stderr);
        Assert.Contains("with GRU nodes on the fast path", stdout, StringComparison.Ordinal);
        using (SafetensorsFile expected = SafetensorsFile.Open(golden), actual = SafetensorsFile.Open(y))
        {
            foreach (string output in new[] { "Y", "Y_h", "output", "h_n" }.Where(expected.Contains))
                Tolerance.AssertClose(expected.ReadDoubles(output), actual.ReadSingles(output), $"cli {name} {output}");
        }

        (code, stdout, stderr) = Cli("inspect", model);
        Assert.True(code == 0, stderr);
        Assert.Contains("found: ONNX GRU node", stdout, StringComparison.Ordinal);
        Assert.Contains("linear_before_reset 1", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_on_a_Keras_GRU_model_reproduces_its_float64_outputs()
    {
        string expectedPath = GoldenRunner.GoldenPath("keras", "k2_gru_bidirectional_state.expected.safetensors"), y = Path.Combine(_dir, "y.safetensors");
        var (code, stdout, stderr) = Cli("run", "--model", GoldenRunner.GoldenPath("keras", "k2_gru_bidirectional_state.h5"), "--input", expectedPath, "--output", y);
        Assert.True(code == 0, stderr);
        Assert.Contains("with GRU layers on the fast path", stdout, StringComparison.Ordinal);
        using SafetensorsFile expected = SafetensorsFile.Open(expectedPath), actual = SafetensorsFile.Open(y);
        foreach (string output in new[] { "dense", "bidirectional:1", "bidirectional:2" })
            Tolerance.AssertClose(expected.ReadDoubles(output), actual.ReadSingles(output), "cli keras " + output);
    }

    [Fact]
    public void Verify_holds_GRUs_to_the_reference_on_every_path()
    {
        var (code, stdout, stderr) = Cli("verify");
        Assert.True(code == 0, stderr + stdout);
        // Five GRU rows (a narrow console wraps the longer names, so only their start is certain).
        Assert.Equal(5, stdout.Split('\n').Count(line => line.Contains(" GRU ", StringComparison.Ordinal)));
        Assert.Contains("GRU I=7 H=17", stdout, StringComparison.Ordinal);
        Assert.Contains("all paths match", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_runs_the_GRU_workloads_counting_their_own_three_gates_at_zero_bytes_per_call()
    {
        var (code, stdout, stderr) = Cli("bench", "--workload", "gru-step-h64", "--workload", "gru-seq-h64", "--seconds", "0.3", "--json");
        Assert.True(code == 0, stderr);
        using JsonDocument json = JsonDocument.Parse(stdout);
        Assert.Equal(2, json.RootElement.GetArrayLength());
        foreach (JsonElement result in json.RootElement.EnumerateArray())
        {
            Assert.Equal("gru", result.GetProperty("cell").GetString());
            Assert.Equal(0, result.GetProperty("allocated_bytes").GetInt64());
            // GFLOP/s counts 2·B·3H·(I+H)·T: with the median time it gives back the GRU's own multiply-adds.
            double flop = result.GetProperty("gflops").GetDouble() * result.GetProperty("median_us").GetDouble() * 1e3;
            double expected = 2.0 * 3 * 64 * 128 * result.GetProperty("steps").GetInt32();
            Assert.InRange(flop, expected * 0.98, expected * 1.02);
        }
    }
}
