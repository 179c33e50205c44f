using LstmSimd.IO;
using LstmSimd.Tests.IO;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

/// <summary>
/// A model trained here leaves under PyTorch's names: the state_dict PyTorch itself wrote for the golden case
/// is the template (same keys, shapes and dtype), and the trained values come back bit-exactly.
/// (Golden/load_in_pytorch.py runs the same file through torch's load_state_dict(strict=True) where torch is installed.)
/// </summary>
public sealed class PyTorchRoundTripTests
{
    [Fact]
    public void Weights_trained_from_a_golden_case_export_under_the_state_dict_pytorch_wrote_and_reload_exactly()
    {
        using SafetensorsFile golden = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", "bidirectional_two_layer.safetensors"));
        LstmWeights weights = PyTorchStateDict.Import(golden, prefix: "").Weights.Clone();
        LstmSpec spec = weights.Spec;
        var config = GoldenRunner.Config(golden);
        int steps = config.GetProperty("seq_len").GetInt32(), batch = config.GetProperty("batch").GetInt32();
        float[] input = golden.ReadSingles("input");
        float[] targets = new float[batch];
        var trainer = new LstmTrainer(weights, new TrainableLinearHead(spec.OutputSize, 1, new SeededRandom(3)),
            p => new AdamOptimizer(p, 1e-2), new LstmTrainerOptions { MaxBatch = batch, MaxSteps = steps });
        LstmWeights before = weights.Clone();
        for (int i = 0; i < 3; i++) trainer.Step(input, steps, batch, targets);
        Assert.NotEqual(before[0, 0].WeightHh, weights[0, 0].WeightHh); // it did train

        string path = Path.Combine(Path.GetTempPath(), $"lstmsimd-trained-{Guid.NewGuid():N}.safetensors");
        try
        {
            PyTorchStateDict.Export(weights).Save(path);
            using SafetensorsFile exported = SafetensorsFile.Open(path);
            var pytorchKeys = golden.Tensors.Where(t => t.Name.StartsWith("weight_", StringComparison.Ordinal) || t.Name.StartsWith("bias_", StringComparison.Ordinal))
                .ToDictionary(t => t.Name, t => (t.Dtype, t.ShapeText));
            Assert.Equal(pytorchKeys, exported.Tensors.ToDictionary(t => t.Name, t => (t.Dtype, t.ShapeText)));

            LstmWeights reloaded = PyTorchStateDict.Import(exported).Weights;
            for (int layer = 0; layer < spec.NumLayers; layer++)
            {
                for (int d = 0; d < spec.Directions; d++)
                {
                    Assert.Equal(weights[layer, d].WeightIh, reloaded[layer, d].WeightIh);
                    Assert.Equal(weights[layer, d].WeightHh, reloaded[layer, d].WeightHh);
                    Assert.Equal(weights[layer, d].BiasIh, reloaded[layer, d].BiasIh);
                    Assert.Equal(weights[layer, d].BiasHh, reloaded[layer, d].BiasHh);
                }
            }
        }
        finally
        {
            File.Delete(path);
        }
    }
}
