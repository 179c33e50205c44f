using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Reference;
using LstmSimd.Training;
using Xunit;

namespace LstmSimd.Tests.Training;

/// <summary>The reference backward and the fast backward against PyTorch's float64 autograd on the golden gradient cases.</summary>
public sealed class GoldenGradientTests
{
    /// <summary>The bar is a relative error of 1e-4; both sides compute in double from the same float32 values.</summary>
    private const double RelativeTolerance = 1e-4, AbsoluteFloor = 1e-9;

    public static TheoryData<string, KernelPath> CasesOnEveryPath()
    {
        var data = new TheoryData<string, KernelPath>();
        foreach (string name in new[] { "grad_single_layer", "grad_two_layer_bidirectional" })
            foreach (KernelPath path in LstmSimd.Kernels.KernelSelector.All) data.Add(name, path);
        return data;
    }

    [Theory]
    [InlineData("grad_single_layer")]
    [InlineData("grad_two_layer_bidirectional")]
    public void The_reference_backward_matches_pytorch_autograd_on_the_golden_case(string name)
    {
        using GoldenCase golden = GoldenCase.Open(name);
        ReferenceGradients g = ReferenceLstmBackward.Backward(golden.Weights, golden.Input, golden.Steps, golden.Batch,
            golden.File.ReadDoubles("grad_output"), golden.File.ReadDoubles("grad_h_n"), golden.File.ReadDoubles("grad_c_n"),
            golden.H0, golden.C0, golden.Lengths, golden.Layout);
        golden.CompareAll((tensor, expected) =>
        {
            double[] actual = Select(tensor, g.Forward.Output, g.Forward.HiddenState, g.Forward.CellState, g.Input, g.H0, g.C0, (l, d) => g[l, d],
                static (ReferenceLayerGradients x, string p) => p switch { "weight_ih" => x.WeightIh, "weight_hh" => x.WeightHh, "bias_ih" => x.BiasIh, "bias_hh" => x.BiasHh, _ => x.WeightHr });
            Assert.Equal(expected.Length, actual.Length);
            for (int i = 0; i < expected.Length; i++)
                Assert.True(Math.Abs(actual[i] - expected[i]) <= AbsoluteFloor + RelativeTolerance * Math.Abs(expected[i]),
                    $"{name} {tensor}[{i}]: reference backward {actual[i]:R}, PyTorch {expected[i]:R}");
        });
    }

    /// <summary>The fast path computes in float32: the float bound of <see cref="FastBackwardTests"/> applies.</summary>
    [Theory]
    [MemberData(nameof(CasesOnEveryPath))]
    public void The_fast_backward_matches_pytorch_autograd_on_the_golden_case(string name, KernelPath path)
    {
        using GoldenCase golden = GoldenCase.Open(name);
        LstmGradients g = LstmTrainingSession.ComputeGradients(golden.Weights, golden.Input, golden.Steps, golden.Batch,
            golden.File.ReadSingles("grad_output"), golden.File.ReadSingles("grad_h_n"), golden.File.ReadSingles("grad_c_n"),
            golden.H0, golden.C0, golden.Lengths, golden.Layout, path);
        golden.CompareAll((tensor, expected) =>
        {
            float[] actual = Select(tensor, g.Output, g.HiddenState, g.CellState, g.Input, g.H0, g.C0, (l, d) => g.Parameters[l, d],
                static (LstmLayerWeights x, string p) => p switch { "weight_ih" => x.WeightIh, "weight_hh" => x.WeightHh, "bias_ih" => x.BiasIh, "bias_hh" => x.BiasHh, _ => x.WeightHr });
            FastBackwardTests.AssertClose(expected, actual, $"{name} {tensor} on {path}");
        });
    }

    private static T[] Select<T, TLayer>(string tensor, T[] output, T[] hN, T[] cN, T[] input, T[] h0, T[] c0, Func<int, int, TLayer> layer, Func<TLayer, string, T[]> parameter)
    {
        switch (tensor)
        {
            case "output": return output;
            case "h_n": return hN;
            case "c_n": return cN;
            case "grad.input": return input;
            case "grad.h0": return h0;
            case "grad.c0": return c0;
        }

        // grad.weight_ih_l1_reverse → weight_ih, layer 1, direction 1.
        string[] parts = tensor["grad.".Length..].Split('_');
        int l = int.Parse(parts[2][1..], System.Globalization.CultureInfo.InvariantCulture), d = parts.Length > 3 ? 1 : 0;
        return parameter(layer(l, d), parts[0] + "_" + parts[1]);
    }

    private sealed class GoldenCase : IDisposable
    {
        private GoldenCase(SafetensorsFile file)
        {
            File = file;
            using JsonDocument config = JsonDocument.Parse(file.Metadata["config"]);
            Steps = config.RootElement.GetProperty("seq_len").GetInt32();
            Batch = config.RootElement.GetProperty("batch").GetInt32();
            Layout = config.RootElement.GetProperty("batch_first").GetBoolean() ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor;
            Weights = PyTorchStateDict.Import(file, prefix: "").Weights; // "grad.weight_ih_l0" would also match a search
            Lengths = file.Contains("lengths") ? file.ReadInt64s("lengths").Select(l => (int)l).ToArray() : [];
            Input = file.ReadSingles("input");
            H0 = file.ReadSingles("h0");
            C0 = file.ReadSingles("c0");
        }

        public SafetensorsFile File { get; }
        public int Steps { get; }
        public int Batch { get; }
        public SequenceLayout Layout { get; }
        public LstmWeights Weights { get; }
        public int[] Lengths { get; }
        public float[] Input { get; }
        public float[] H0 { get; }
        public float[] C0 { get; }

        public static GoldenCase Open(string name) =>
            new(SafetensorsFile.Open(Path.Combine(AppContext.BaseDirectory, "Golden", "pytorch", name + ".safetensors")));

        /// <summary>Calls <paramref name="compare"/> for output, h_n, c_n and every grad.* tensor of the file, and checks none was left out.</summary>
        public void CompareAll(Action<string, double[]> compare)
        {
            var names = new List<string> { "output", "h_n", "c_n" };
            names.AddRange(File.Tensors.Select(t => t.Name).Where(n => n.StartsWith("grad.", StringComparison.Ordinal)));
            foreach (string tensor in names)
            {
                double[] expected = File.ReadDoubles(tensor);
                compare(tensor, expected);
            }

            Assert.Contains("grad.input", names);
            Assert.Contains("grad.weight_hh_l0", names);
        }

        public void Dispose() => File.Dispose();
    }
}
