using LstmSimd.IO;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO;

/// <summary>PyTorch nn.GRU state_dicts imported by their own names, run on the fast path against PyTorch's outputs.</summary>
public class GruImportTests
{
    public static TheoryData<string> PyTorchCases => ["single_layer", "two_layer_bidirectional", "batch_first_no_bias", "variable_lengths"];

    [Theory]
    [MemberData(nameof(PyTorchCases))]
    public void An_nn_GRU_state_dict_imports_with_its_shape_and_runs_as_PyTorch_ran_it(string name)
    {
        using var golden = new GoldenGru(name);
        GruWeights imported = PyTorchStateDict.ImportGru(golden.File);
        GruSpec expected = golden.Weights.Spec;
        Assert.Equal(expected, imported.Spec);
        for (int l = 0; l < expected.NumLayers; l++)
        {
            for (int d = 0; d < expected.Directions; d++)
            {
                Assert.Equal(golden.Weights[l, d].WeightIh, imported[l, d].WeightIh);
                Assert.Equal(golden.Weights[l, d].WeightHh, imported[l, d].WeightHh);
                Assert.Equal(golden.Weights[l, d].BiasIh, imported[l, d].BiasIh);
                Assert.Equal(golden.Weights[l, d].BiasHh, imported[l, d].BiasHh);
            }
        }

        using GruSession session = GruModel.Create(imported).CreateSession(golden.Batch, golden.Steps);
        float[] output = new float[golden.Steps * golden.Batch * expected.OutputSize];
        session.Forward(golden.Input, golden.Steps, golden.Batch, output, default, golden.H0, golden.Lengths, golden.Layout);
        Tolerance.AssertClose(golden.File.ReadDoubles("output"), output, $"{name} output");
    }

    [Fact]
    public void A_prefixed_module_is_found_or_named_and_a_missing_tensor_is_named()
    {
        using var golden = new GoldenGru("two_layer_bidirectional");
        var writer = new SafetensorsWriter();
        foreach (SafetensorsTensorInfo t in golden.File.Tensors.Where(t => t.Name.Contains("_l", StringComparison.Ordinal)))
            writer.Add("encoder.gru." + t.Name, golden.File.ReadSingles(t.Name), [.. t.Shape]);
        using (SafetensorsFile file = SafetensorsFile.Open(new MemoryStream(writer.ToArray())))
        {
            Assert.Equal(golden.Weights.Spec, PyTorchStateDict.ImportGru(file).Spec);
            Assert.Equal(golden.Weights.Spec, PyTorchStateDict.ImportGru(file, "encoder.gru").Spec);
        }

        var partial = new SafetensorsWriter();
        foreach (SafetensorsTensorInfo t in golden.File.Tensors.Where(t => t.Name.Contains("_l", StringComparison.Ordinal) && t.Name != "bias_hh_l1_reverse"))
            partial.Add(t.Name, golden.File.ReadSingles(t.Name), [.. t.Shape]);
        using SafetensorsFile incomplete = SafetensorsFile.Open(new MemoryStream(partial.ToArray()));
        var missing = Assert.Throws<WeightMappingException>(() => PyTorchStateDict.ImportGru(incomplete));
        Assert.Contains("bias_hh_l1_reverse", missing.Message);
    }

    [Fact]
    public void A_GRU_given_to_the_LSTM_importer_and_an_LSTM_given_to_the_GRU_importer_are_refused_with_the_right_importer_named()
    {
        using var gru = new GoldenGru("single_layer");
        var asLstm = Assert.Throws<WeightMappingException>(() => PyTorchStateDict.Import(gru.File));
        Assert.Contains("ImportGru", asLstm.Message);

        using SafetensorsFile lstm = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors"));
        var asGru = Assert.Throws<WeightMappingException>(() => PyTorchStateDict.ImportGru(lstm));
        Assert.Contains("nn.LSTM", asGru.Message);
    }
}
