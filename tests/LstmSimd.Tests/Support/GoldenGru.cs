using System.Text.Json;
using LstmSimd.IO;

namespace LstmSimd.Tests.Support;

/// <summary>A golden GRU file: weights under nn.GRU's names, inputs, and the shape in its metadata.</summary>
public sealed class GoldenGru : IDisposable
{
    public GoldenGru(string name)
    {
        File = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Golden", "pytorch-gru", name + ".safetensors"));
        using JsonDocument document = JsonDocument.Parse(File.Metadata["config"]);
        JsonElement config = document.RootElement;
        var spec = new GruSpec(config.GetProperty("input_size").GetInt32(), config.GetProperty("hidden_size").GetInt32(), config.GetProperty("num_layers").GetInt32(),
            config.GetProperty("bidirectional").GetBoolean(), config.GetProperty("bias").GetBoolean(), config.GetProperty("linear_before_reset").GetBoolean());
        Steps = config.GetProperty("steps").GetInt32();
        Batch = config.GetProperty("batch").GetInt32();
        Layout = config.GetProperty("batch_first").GetBoolean() ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor;
        var layers = new List<GruLayerWeights>();
        for (int l = 0; l < spec.NumLayers; l++)
        {
            foreach (string suffix in spec.Bidirectional ? new[] { "", "_reverse" } : [""])
            {
                layers.Add(new GruLayerWeights
                {
                    WeightIh = File.ReadSingles($"weight_ih_l{l}{suffix}"),
                    WeightHh = File.ReadSingles($"weight_hh_l{l}{suffix}"),
                    BiasIh = spec.Bias ? File.ReadSingles($"bias_ih_l{l}{suffix}") : [],
                    BiasHh = spec.Bias ? File.ReadSingles($"bias_hh_l{l}{suffix}") : [],
                });
            }
        }

        Weights = new GruWeights(spec, layers);
        Input = File.ReadSingles("input");
        H0 = File.ReadSingles("h0");
        Lengths = File.Contains("lengths") ? [.. File.ReadInt64s("lengths").Select(l => (int)l)] : [];
    }

    public SafetensorsFile File { get; }
    public GruWeights Weights { get; }
    public int Steps { get; }
    public int Batch { get; }
    public SequenceLayout Layout { get; }
    public float[] Input { get; }
    public float[] H0 { get; }
    public int[] Lengths { get; }

    public void Dispose() => File.Dispose();
}
