using LstmSimd.IO;
using LstmSimd.Tests.Tool;
using Xunit;

namespace LstmSimd.Tests.IO;

/// <summary>
/// Files that ask for sizes they do not hold: a few hundred bytes whose shapes or spec would have the loader or the
/// tool allocate gigabytes, or wrap an int into a small or zero size. Each is refused at load with a message naming the
/// problem, and the tool exits 2 with one line on stderr.
/// </summary>
public sealed class SizeLimitFileTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-sizes-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    /// <summary>
    /// An LstmSimd model file whose spec says <paramref name="hiddenSize"/> and <paramref name="layers"/>, holding the
    /// tensors of layer 0 shaped [4H, I], [4H, H], [4H], [4H] as <c>int</c> arithmetic wraps 4H: 0 rows for H = 2^30.
    /// </summary>
    private static byte[] ModelFile(int hiddenSize, int layers = 1, bool realLayerZero = false)
    {
        string spec = LstmModelFile.SpecToJson(new LstmSpec(1, 1))
            .Replace("\"hidden_size\":1", $"\"hidden_size\":{hiddenSize}", StringComparison.Ordinal)
            .Replace("\"num_layers\":1", $"\"num_layers\":{layers}", StringComparison.Ordinal);
        int rows = realLayerZero ? 4 * hiddenSize : 0;
        return new SafetensorsWriter()
            .AddMetadata("format", LstmModelFile.FormatName)
            .AddMetadata("format_version", LstmModelFile.FormatVersion)
            .AddMetadata("spec", spec)
            .Add("weight_ih_l0", new float[rows], rows, 1)
            .Add("weight_hh_l0", new float[rows * hiddenSize], rows, hiddenSize)
            .Add("bias_ih_l0", new float[rows], rows)
            .Add("bias_hh_l0", new float[rows], rows)
            .ToArray();
    }

    [Fact]
    public void A_model_file_whose_hidden_size_wraps_its_gate_rows_to_zero_is_refused_at_load()
    {
        byte[] bytes = ModelFile(1 << 30);
        Assert.InRange(bytes.Length, 1, 1024);
        using SafetensorsFile file = SafetensorsFile.Parse(bytes);
        var error = Assert.ThrowsAny<ModelFormatException>(() => LstmModelFile.Load(file));
        Assert.Contains("4 × HiddenSize", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_model_file_whose_spec_asks_for_more_parameters_than_its_bytes_is_refused_before_reading_a_tensor()
    {
        using SafetensorsFile file = SafetensorsFile.Parse(ModelFile(2, layers: 1_000_000, realLayerZero: true));
        var error = Assert.ThrowsAny<ModelFormatException>(() => LstmModelFile.Load(file));
        Assert.Contains("1000000-layer LSTM", error.Message, StringComparison.Ordinal);
        Assert.Contains("parameters, but the file's tensors hold only", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Run_refuses_the_wrapping_model_file_with_exit_code_2_and_one_line()
    {
        string model = Path.Combine(_dir, "m.safetensors"), input = Path.Combine(_dir, "x.safetensors"), output = Path.Combine(_dir, "y.safetensors");
        File.WriteAllBytes(model, ModelFile(1 << 30));
        new SafetensorsWriter().Add("input", new float[1], 1, 1, 1).Save(input); // one step: output [1, 1, H] used to be 4 GB
        var (code, _, stderr) = ToolCli.Run(_dir, "run", "--model", model, "--input", input, "--output", output);
        Assert.Equal(2, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("4 × HiddenSize", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }

    [Theory]
    [InlineData(1 << 24)]       // the outputs and states fit, at gigabytes
    [InlineData(int.MaxValue)]  // they overflow an int
    public void Run_refuses_an_input_with_no_time_steps_whatever_batch_it_claims(int batch)
    {
        string model = Path.Combine(_dir, "m.safetensors"), input = Path.Combine(_dir, "x.safetensors"), output = Path.Combine(_dir, "y.safetensors");
        LstmModelFile.Save(model, LstmWeights.CreateZero(new LstmSpec(5, 7)));
        new SafetensorsWriter().Add("input", Array.Empty<float>(), 0, batch, 5).Save(input);
        Assert.InRange(new FileInfo(input).Length, 1, 128);
        var (code, _, stderr) = ToolCli.Run(_dir, "run", "--model", model, "--input", input, "--output", output);
        Assert.Equal(2, code);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.Contains("no time steps", stderr, StringComparison.Ordinal);
        Assert.False(File.Exists(output));
    }
}
