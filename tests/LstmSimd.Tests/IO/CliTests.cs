using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO;

/// <summary>The <c>lstmsimd</c> tool run as a child process, as users run it: exit codes, stdout, stderr and files.</summary>
public sealed class CliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => LstmSimd.Tests.Tool.ToolCli.Run(_dir, args);

    [Fact]
    public void Run_on_a_PyTorch_state_dict_with_lengths_writes_PyTorchs_output_h_n_and_c_n()
    {
        string golden = GoldenRunner.GoldenPath("pytorch", "variable_lengths.safetensors"), y = Path.Combine(_dir, "y.safetensors");
        var (code, stdout, stderr) = Cli("run", "--model", golden, "--input", golden, "--output", y);
        Assert.True(code == 0, stderr);
        Assert.Contains("fast path", stdout, StringComparison.Ordinal);
        using SafetensorsFile expected = SafetensorsFile.Open(golden), actual = SafetensorsFile.Open(y);
        foreach (string name in new[] { "output", "h_n", "c_n" })
        {
            Assert.Equal(SafetensorsDtype.F32, actual.GetTensor(name).Dtype);
            Assert.Equal(expected.GetTensor(name).Shape, actual.GetTensor(name).Shape);
            Tolerance.AssertClose(expected.ReadDoubles(name), actual.ReadSingles(name), "cli " + name);
        }
    }

    [Fact]
    public void Run_and_inspect_take_a_torch_save_file_and_refuse_a_whole_module_with_the_advice()
    {
        string model = GoldenRunner.GoldenPath("pytorch-pt", "module_with_head.pt"), golden = GoldenRunner.GoldenPath("pytorch-pt", "module_with_head.expected.safetensors");
        string y = Path.Combine(_dir, "y.safetensors");
        var (code, stdout, stderr) = Cli("run", "--model", model, "--head", "fc.", "--batch-first", "--input", golden, "--output", y);
        Assert.True(code == 0, stderr);
        using (SafetensorsFile expected = SafetensorsFile.Open(golden), actual = SafetensorsFile.Open(y))
        {
            foreach (string name in new[] { "output", "h_n", "c_n", "head_output" })
                Tolerance.AssertClose(expected.ReadDoubles(name), actual.ReadSingles(name), "cli .pt " + name);
        }

        (code, stdout, _) = Cli("inspect", model);
        Assert.Equal(0, code);
        Assert.Contains("PyTorch torch.save file: 6 tensors", stdout, StringComparison.Ordinal);
        Assert.Contains("lstm.weight_ih_l0", stdout, StringComparison.Ordinal);
        Assert.Contains("with nn.Linear head 'fc.' (6 → 2)", stdout, StringComparison.Ordinal); // the head it would use shows as used
        Assert.Contains("uses 6 tensors; ignored: none", stdout, StringComparison.Ordinal);

        (code, _, stderr) = Cli("run", "--model", GoldenRunner.GoldenPath("pytorch-pt", "whole_module.pt"), "--input", golden, "--output", y);
        Assert.Equal(2, code);
        Assert.Contains("save its state_dict instead: torch.save(model.state_dict(), path)", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_with_upstream_gradients_writes_pytorchs_gradients_under_pytorch_names()
    {
        string golden = GoldenRunner.GoldenPath("pytorch", "grad_two_layer_bidirectional.safetensors"), y = Path.Combine(_dir, "g.safetensors");
        var (code, stdout, stderr) = Cli("run", "--model", golden, "--prefix", "", "--input", golden, "--output", y);
        Assert.True(code == 0, stderr);
        Assert.Contains("SIMD backward", stdout, StringComparison.Ordinal);
        using SafetensorsFile expected = SafetensorsFile.Open(golden), actual = SafetensorsFile.Open(y);
        string[] gradients = [.. expected.Tensors.Select(t => t.Name).Where(n => n.StartsWith("grad.", StringComparison.Ordinal))];
        Assert.Contains("grad.weight_hh_l1_reverse", gradients);
        Assert.Contains("grad.input", gradients);
        foreach (string name in gradients.Append("output").Append("h_n"))
        {
            Assert.Equal(expected.GetTensor(name).Shape, actual.GetTensor(name).Shape);
            double[] reference = expected.ReadDoubles(name);
            float[] value = actual.ReadSingles(name);
            for (int i = 0; i < reference.Length; i++)
                Assert.True(Math.Abs(value[i] - reference[i]) <= 1e-4 + 1e-3 * Math.Abs(reference[i]), $"{name}[{i}] = {value[i]}, PyTorch {reference[i]}");
        }
    }

    [Fact]
    public void Info_names_the_kernel_path_and_the_int8_instructions_this_process_uses()
    {
        var (code, stdout, _) = Cli("info");
        Assert.Equal(0, code);
        Assert.Contains($"kernel path    {KernelSelector.Resolve(KernelPath.Auto)}", stdout, StringComparison.Ordinal);
        Assert.Contains($"int8 products  {KernelSelector.IntegerDotInstructions(KernelPath.Auto)}", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_with_int8_weights_stays_within_int8s_documented_accuracy_of_PyTorch()
    {
        string y = Path.Combine(_dir, "y-int8.safetensors");
        string golden = GoldenRunner.GoldenPath("pytorch", "two_layer.safetensors");
        var (code, stdout, stderr) = Cli("run", "--model", golden, "--input", golden, "--output", y, "--weights", "int8");
        Assert.True(code == 0, stderr);
        Assert.Contains("int8 weights", stdout, StringComparison.Ordinal);
        using SafetensorsFile expected = SafetensorsFile.Open(golden), actual = SafetensorsFile.Open(y);
        double[] reference = expected.ReadDoubles("output");
        float[] output = actual.ReadSingles("output");
        double worst = reference.Select((v, i) => Math.Abs(output[i] - v)).Max();
        Assert.InRange(worst, 1e-6, WeightFormatAccuracy.MaxAbsoluteChange(WeightFormat.Int8)); // above 1e-6: it did run quantised
    }

    [Fact]
    public void Run_on_an_ONNX_model_with_clip_uses_the_fast_path_and_matches_ONNX_Runtime()
    {
        string y = Path.Combine(_dir, "y.safetensors");
        var (code, stdout, stderr) = Cli("run", "--model", GoldenRunner.GoldenPath("onnx", "clip.onnx"), "--input", GoldenRunner.GoldenPath("onnx", "clip.safetensors"), "--output", y);
        Assert.True(code == 0, stderr);
        Assert.Contains("fast path", stdout, StringComparison.Ordinal);
        using SafetensorsFile expected = SafetensorsFile.Open(GoldenRunner.GoldenPath("onnx", "clip.safetensors")), actual = SafetensorsFile.Open(y);
        Tolerance.AssertClose(expected.ReadDoubles("output"), actual.ReadSingles("output"), "cli clip output");
    }

    [Fact]
    public void Inspect_names_the_architecture_every_tensor_and_what_is_ignored()
    {
        var (code, stdout, _) = Cli("inspect", GoldenRunner.GoldenPath("pytorch", "projection.safetensors"));
        Assert.Equal(0, code);
        Assert.Contains("found: PyTorch nn.LSTM at prefix '': 2-layer LSTM, input 6, hidden 20, projection 8", stdout, StringComparison.Ordinal);
        Assert.Contains("weight_hr_l1", stdout, StringComparison.Ordinal);
        Assert.Contains("ignored: c0, c_n, h0, h_n, input, output", stdout, StringComparison.Ordinal);

        var (onnxCode, onnx, _) = Cli("inspect", GoldenRunner.GoldenPath("onnx", "sequence_lens_bidirectional.onnx"));
        Assert.Equal(0, onnxCode);
        Assert.Contains("bidirectional, layout 0, input 3, hidden 5", onnx, StringComparison.Ordinal);
        Assert.Contains("sequence_lens 'sequence_lens'", onnx, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_input_gives_one_clear_line_on_stderr_exit_code_2_and_no_stack_trace()
    {
        string garbage = Path.Combine(_dir, "bad.safetensors"), input = Path.Combine(_dir, "x.safetensors");
        File.WriteAllBytes(garbage, [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12]);
        new SafetensorsWriter().Add("input", new float[2 * 3 * 4], 2, 3, 4).Save(input);
        string model = GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors");
        foreach ((string[] args, string expected) in new (string[], string)[]
        {
            (["inspect", garbage], "header length"),
            (["run", "--model", garbage, "--input", input, "--output", Path.Combine(_dir, "y")], "header length"),
            (["run", "--model", model, "--input", input, "--output", Path.Combine(_dir, "y")], "'input' has 4 features; the model takes 5"),
            (["run", "--model", Path.Combine(_dir, "missing.onnx"), "--input", input, "--output", Path.Combine(_dir, "y")], "missing.onnx"),
            (["run", "--model", model, "--input", input], "--output"),
        })
        {
            var (code, _, stderr) = Cli(args);
            Assert.Equal(2, code);
            Assert.Contains(expected, stderr, StringComparison.Ordinal);
            Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Verify_checks_int8_models_against_the_reference_on_their_stored_weights_and_its_documented_bound()
    {
        var (code, stdout, stderr) = Cli("verify", "--weights", "int8");
        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("int8 weights", stdout, StringComparison.Ordinal);
        Assert.Contains("bound per element: 0.02", stdout, StringComparison.Ordinal);
        Assert.Contains("all paths match", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_runs_with_compressed_weights_and_refuses_an_unknown_format()
    {
        foreach (string format in new[] { "fp16", "bf16", "int8" })
        {
            var (code, stdout, stderr) = Cli("bench", "--workload", "step-h64", "--seconds", "0.2", "--weights", format);
            Assert.True(code == 0, stderr);
            Assert.Contains("weights " + format, stdout, StringComparison.Ordinal);
            Assert.Contains("step-h64", stdout, StringComparison.Ordinal);
        }

        var (badCode, _, badErr) = Cli("bench", "--workload", "step-h64", "--seconds", "0.2", "--weights", "int4");
        Assert.Equal(2, badCode);
        Assert.Contains("--weights int4", badErr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", badErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Bench_with_roofline_shows_the_measured_bandwidths_and_each_workloads_floor()
    {
        var (code, stdout, stderr) = Cli("bench", "--workload", "step-h64", "--workload", "seq-h32", "--seconds", "0.2", "--roofline");
        Assert.True(code == 0, stderr);
        Assert.Contains("read bandwidth, one core: 16 KiB", stdout, StringComparison.Ordinal);
        Assert.Contains("% of floor", stdout, StringComparison.Ordinal);

        var (badCode, _, badErr) = Cli("bench", "--workload", "step-h64", "--seconds", "0.2", "--roofline", "--weights", "int8");
        Assert.Equal(2, badCode);
        Assert.Contains("--roofline models fp32 weights", badErr, StringComparison.Ordinal);
    }
}
