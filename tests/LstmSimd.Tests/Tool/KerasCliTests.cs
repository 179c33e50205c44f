using LstmSimd.IO;
using LstmSimd.Tests.IO;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary><c>lstmsimd run</c> and <c>inspect</c> on Keras .keras and .h5 models, as users run the tool.</summary>
public sealed class KerasCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-keras-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => ToolCli.Run(_dir, args);

    [Theory]
    [InlineData("k3_functional_embedding_state", ".keras")]
    [InlineData("k2_functional_bidirectional_ave_state", ".h5")]
    public void Run_on_a_Keras_model_writes_every_output_under_its_Keras_name_matching_Keras(string name, string extension)
    {
        string model = GoldenRunner.GoldenPath("keras", name + extension), golden = GoldenRunner.GoldenPath("keras", name + ".expected.safetensors");
        string y = Path.Combine(_dir, "y.safetensors");
        var (code, stdout, stderr) = Cli("run", "--model", model, "--input", golden, "--output", y);
        Assert.True(code == 0, stderr);
        Assert.Contains("fast path", stdout, StringComparison.Ordinal);
        using SafetensorsFile expected = SafetensorsFile.Open(golden), actual = SafetensorsFile.Open(y);
        string[] outputs = [.. GoldenRunner.Config(expected).GetProperty("outputs").EnumerateArray().Select(o => o.GetString()!)];
        Assert.Equal(expected.GetTensor(outputs[0]).Shape, actual.GetTensor("output").Shape);
        Tolerance.AssertClose(expected.ReadDoubles(outputs[0]), actual.ReadSingles("output"), $"cli {name} output");
        foreach (string output in outputs)
        {
            Assert.Equal(expected.GetTensor(output).Shape, actual.GetTensor(output).Shape);
            Tolerance.AssertClose(expected.ReadDoubles(output), actual.ReadSingles(output), $"cli {name} {output}");
        }
    }

    [Fact]
    public void Inspect_lists_a_Keras_models_layers_and_says_why_one_cannot_run()
    {
        var (code, stdout, _) = Cli("inspect", GoldenRunner.GoldenPath("keras", "k2_hard_sigmoid_bidirectional.h5"));
        Assert.Equal(0, code);
        Assert.Contains("Keras 2.15.0 legacy .h5 model: input 'lstm_input' [B, T, 3]", stdout, StringComparison.Ordinal);
        Assert.Contains("recurrent_activation hard_sigmoid (clip(0.2·x + 0.5, 0, 1))", stdout, StringComparison.Ordinal);
        Assert.Contains("Bidirectional 'bidirectional' ← lstm: units 3, input 4", stdout, StringComparison.Ordinal);

        (code, stdout, _) = Cli("inspect", GoldenRunner.GoldenPath("keras", "refuse_gru_reset_before.keras"));
        Assert.Equal(0, code);
        Assert.Contains("GRU 'gru' ← input_layer: units 3, input 3, activation tanh, recurrent_activation sigmoid, reset_after False", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_refuses_a_Keras_model_it_cannot_run_and_inputs_it_does_not_use_in_one_line()
    {
        string golden = GoldenRunner.GoldenPath("keras", "k2_bidirectional_mul.expected.safetensors"), y = Path.Combine(_dir, "y.safetensors");
        var (code, _, stderr) = Cli("run", "--model", GoldenRunner.GoldenPath("keras", "refuse_stateful.h5"), "--input", golden, "--output", y);
        Assert.Equal(2, code);
        Assert.Contains("layer 'lstm' sets stateful=True", stderr, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", stderr, StringComparison.Ordinal);

        (code, _, stderr) = Cli("run", "--model", GoldenRunner.GoldenPath("keras", "k2_bidirectional_mul.h5"), "--prefix", "lstm.", "--input", golden, "--output", y);
        Assert.Equal(2, code);
        Assert.Contains("--prefix and --head apply to PyTorch state_dicts", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(y));
    }
}
