using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Reference;
using Xunit;

namespace LstmSimd.Tests.Training;

/// <summary>The reference backward against PyTorch's float64 autograd on the golden gradient cases.</summary>
public sealed class GoldenGradientTests
{
    /// <summary>The issue's bar is a relative error of 1e-4; both sides compute in double from the same float32 values.</summary>
    private const double RelativeTolerance = 1e-4, AbsoluteFloor = 1e-9;

    [Theory]
    [InlineData("grad_single_layer")]
    [InlineData("grad_two_layer_bidirectional")]
    public void The_reference_backward_matches_pytorch_autograd_on_the_golden_case(string name)
    {
        using SafetensorsFile file = SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Golden", "pytorch", name + ".safetensors"));
        using JsonDocument config = JsonDocument.Parse(file.Metadata["config"]);
        int steps = config.RootElement.GetProperty("seq_len").GetInt32(), batch = config.RootElement.GetProperty("batch").GetInt32();
        SequenceLayout layout = config.RootElement.GetProperty("batch_first").GetBoolean() ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor;
        LstmWeights weights = PyTorchStateDict.Import(file, prefix: "").Weights; // "grad.weight_ih_l0" would also match a search
        int[] lengths = file.Contains("lengths") ? file.ReadInt64s("lengths").Select(l => (int)l).ToArray() : [];

        ReferenceGradients g = ReferenceLstmBackward.Backward(weights, file.ReadSingles("input"), steps, batch,
            file.ReadDoubles("grad_output"), file.ReadDoubles("grad_h_n"), file.ReadDoubles("grad_c_n"),
            file.ReadSingles("h0"), file.ReadSingles("c0"), lengths, layout);

        int compared = 0;
        void Compare(string tensor, double[] actual)
        {
            double[] expected = file.ReadDoubles(tensor);
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= AbsoluteFloor + RelativeTolerance * Math.Abs(expected[i]),
                    $"{name} {tensor}[{i}]: reference backward {actual[i]:R}, PyTorch {expected[i]:R}");
            compared++;
        }

        Compare("output", g.Forward.Output);
        Compare("h_n", g.Forward.HiddenState);
        Compare("c_n", g.Forward.CellState);
        LstmSpec spec = weights.Spec;
        for (int l = 0; l < spec.NumLayers; l++)
            for (int d = 0; d < spec.Directions; d++)
            {
                string suffix = $"_l{l}{(d == 1 ? "_reverse" : "")}";
                Compare("grad.weight_ih" + suffix, g[l, d].WeightIh);
                Compare("grad.weight_hh" + suffix, g[l, d].WeightHh);
                if (spec.Bias)
                {
                    Compare("grad.bias_ih" + suffix, g[l, d].BiasIh);
                    Compare("grad.bias_hh" + suffix, g[l, d].BiasHh);
                }

                if (spec.ProjectionSize > 0) Compare("grad.weight_hr" + suffix, g[l, d].WeightHr);
            }

        Compare("grad.input", g.Input);
        Compare("grad.h0", g.H0);
        Compare("grad.c0", g.C0);
        Assert.Equal(file.Tensors.Count(t => t.Name.StartsWith("grad.", StringComparison.Ordinal)) + 3, compared);
    }
}
