using LstmSimd.IO;
using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO;

public sealed class ImportExportTests
{
    private static LstmWeights Random(LstmSpec spec, int seed = 5) => LstmWeights.CreateRandom(spec, seed);

    private static void AssertSameWeights(LstmWeights expected, LstmWeights actual)
    {
        Assert.Equal(expected.Spec, actual.Spec);
        for (int l = 0; l < expected.Spec.NumLayers; l++)
        {
            for (int d = 0; d < expected.Spec.Directions; d++)
            {
                LstmLayerWeights e = expected[l, d], a = actual[l, d];
                Assert.Equal(e.WeightIh, a.WeightIh);
                Assert.Equal(e.WeightHh, a.WeightHh);
                Assert.Equal(e.BiasIh, a.BiasIh);
                Assert.Equal(e.BiasHh, a.BiasHh);
                Assert.Equal(e.WeightHr, a.WeightHr);
                Assert.Equal(e.Peephole, a.Peephole);
            }
        }
    }

    public static TheoryData<string> GoldenStateDicts => new() { "single_layer", "two_layer", "bidirectional_two_layer", "projection", "batch_first_no_bias", "cell" };

    [Theory]
    [MemberData(nameof(GoldenStateDicts))]
    public void Exporting_an_imported_PyTorch_model_writes_exactly_the_names_shapes_and_bytes_PyTorch_wrote(string name)
    {
        using SafetensorsFile golden = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", name + ".safetensors"));
        ImportedLstm model = PyTorchStateDict.Import(golden);
        using SafetensorsFile exported = SafetensorsFile.Parse(PyTorchStateDict.Export(model.Weights, asCell: model.IsCell).ToArray());
        string[] data = ["input", "h0", "c0", "output", "h_n", "c_n", "lengths"];
        var parameters = golden.Tensors.Where(t => !data.Contains(t.Name)).ToList();
        Assert.Equal(parameters.Select(t => t.Name).Order(StringComparer.Ordinal), exported.Tensors.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (SafetensorsTensorInfo g in parameters)
        {
            SafetensorsTensorInfo e = exported.GetTensor(g.Name);
            Assert.Equal(g.Shape, e.Shape);
            Assert.Equal(g.Dtype, e.Dtype);
            byte[] gb = new byte[g.ByteLength], eb = new byte[e.ByteLength];
            golden.ReadBytes(g, gb);
            exported.ReadBytes(e, eb);
            Assert.Equal(gb, eb);
        }
    }

    [Fact]
    public void A_prefixed_LSTM_with_a_linear_head_imports_from_a_file_with_other_tensors_and_reports_them_ignored()
    {
        var spec = new LstmSpec(4, 6, numLayers: 2, bidirectional: true, projectionSize: 3);
        LstmWeights weights = Random(spec);
        var head = new LinearHead(spec.OutputSize, 2, Enumerable.Range(0, 12).Select(i => i * 0.1f).ToArray(), [0.5f, -0.5f]);
        SafetensorsWriter writer = PyTorchStateDict.Export(weights, "encoder.lstm", head, "fc")
            .Add("encoder.embedding.weight", new float[10], 5, 2)
            .Add("encoder.lstm.unrelated", new float[1], 1)
            .Add("step", new[] { 3L }, 1);
        using SafetensorsFile file = SafetensorsFile.Parse(writer.ToArray());

        ImportedLstm byPrefix = PyTorchStateDict.Import(file, "encoder.lstm.", "fc.");
        ImportedLstm found = PyTorchStateDict.Import(file, headPrefix: "fc");
        foreach (ImportedLstm model in new[] { byPrefix, found })
        {
            AssertSameWeights(weights, model.Weights);
            Assert.NotNull(model.Head);
            Assert.Equal(head.Weight, model.Head.Weight);
            Assert.Equal(head.Bias, model.Head.Bias);
            Assert.Equal(new[] { "encoder.embedding.weight", "encoder.lstm.unrelated", "step" }, model.IgnoredTensors.Order(StringComparer.Ordinal));
        }
    }

    [Fact]
    public void The_linear_head_computes_W_x_plus_b_on_every_row()
    {
        var head = new LinearHead(2, 3, [1, 2, 3, 4, 5, 6], [10, 20, 30]);
        var y = new float[6];
        head.Apply([1, 1, 2, 0], 2, y);
        Assert.Equal(new float[] { 13, 27, 41, 12, 26, 40 }, y);
    }

    public static TheoryData<string, string[], string> BrokenStateDicts => new()
    {
        { "missing a second-layer tensor", ["weight_hh_l1"], "Missing 'weight_hh_l1'" },
        { "missing one bias of a biased model", ["bias_hh_l1"], "Missing 'bias_hh_l1'" },
    };

    [Theory]
    [MemberData(nameof(BrokenStateDicts))]
    public void A_state_dict_with_a_parameter_missing_is_refused_naming_it(string what, string[] drop, string expected)
    {
        _ = what;
        LstmWeights weights = Random(new LstmSpec(3, 4, numLayers: 2));
        using SafetensorsFile full = SafetensorsFile.Parse(PyTorchStateDict.Export(weights).ToArray());
        var writer = new SafetensorsWriter();
        foreach (SafetensorsTensorInfo t in full.Tensors.Where(t => !drop.Contains(t.Name)))
            writer.Add(t.Name, full.ReadSingles(t), [.. t.Shape]);
        using SafetensorsFile file = SafetensorsFile.Parse(writer.ToArray());
        var e = Assert.Throws<WeightMappingException>(() => PyTorchStateDict.Import(file));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Mis_shaped_inconsistent_or_integer_parameters_are_refused()
    {
        byte[] MisShaped() => new SafetensorsWriter().Add("weight_ih_l0", new float[16 * 3], 16, 3).Add("weight_hh_l0", new float[16 * 5], 16, 5).ToArray();
        byte[] StrayProjection() => PyTorchStateDict.Export(Random(new LstmSpec(3, 4, numLayers: 2))).Add("weight_hr_l1", new float[8], 2, 4).ToArray();
        byte[] Integers() => new SafetensorsWriter().Add("weight_ih_l0", new long[16 * 3], 16, 3).Add("weight_hh_l0", new float[16 * 4], 16, 4).ToArray();
        byte[] NotFourGates() => new SafetensorsWriter().Add("weight_ih_l0", new float[15 * 3], 15, 3).Add("weight_hh_l0", new float[15 * 3], 15, 3).ToArray();
        byte[] Nothing() => new SafetensorsWriter().Add("x", new float[1], 1).ToArray();
        byte[] Two() => PyTorchStateDict.Export(Random(new LstmSpec(3, 4)), "a").Add("b.weight_ih_l0", new float[1], 1).ToArray();
        foreach ((Func<byte[]> make, string expected) in new (Func<byte[]>, string)[]
        {
            (MisShaped, "expected [16, 4]"), (StrayProjection, "'weight_hr_l1' does not fit"), (Integers, "dtype I64"),
            (NotFourGates, "4·hidden_size"), (Nothing, "No nn.LSTM"), (Two, "Several LSTM modules"),
        })
        {
            using SafetensorsFile file = SafetensorsFile.Parse(make());
            var e = Assert.Throws<WeightMappingException>(() => PyTorchStateDict.Import(file));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Tensor_names_in_messages_are_cut_to_sixty_characters()
    {
        string huge = new('p', 100_000);
        byte[] two = PyTorchStateDict.Export(Random(new LstmSpec(3, 4)), huge + "a.").Add(huge + "b.weight_ih_l0", new float[1], 1).ToArray();
        byte[] notFourGates = new SafetensorsWriter().Add(huge + ".weight_ih_l0", new float[15 * 3], 15, 3).Add(huge + ".weight_hh_l0", new float[15 * 3], 15, 3).ToArray();
        foreach (byte[] bytes in new[] { two, notFourGates })
        {
            using SafetensorsFile file = SafetensorsFile.Parse(bytes);
            string message = Assert.Throws<WeightMappingException>(() => PyTorchStateDict.Import(file)).Message;
            Assert.Contains($"'{new string('p', 60)}…'", message, StringComparison.Ordinal);
            Assert.InRange(message.Length, 1, 300);
        }

        using SafetensorsFile plain = SafetensorsFile.Parse(new SafetensorsWriter().Add("x", new float[1], 1).ToArray());
        Assert.InRange(Assert.Throws<KeyNotFoundException>(() => plain.GetTensor(huge)).Message.Length, 1, 200);
    }

    [Fact]
    public void Half_and_double_precision_state_dicts_import_as_the_nearest_floats()
    {
        var writer = new SafetensorsWriter()
            .Add("weight_ih", Enumerable.Repeat((Half)0.25f, 8).ToArray(), 8, 1)
            .Add("weight_hh", Enumerable.Repeat(0.1, 16).ToArray(), 8, 2);
        using SafetensorsFile file = SafetensorsFile.Parse(writer.ToArray());
        ImportedLstm cell = PyTorchStateDict.Import(file);
        Assert.True(cell.IsCell);
        Assert.False(cell.Weights.Spec.Bias);
        Assert.All(cell.Weights[0, 0].WeightIh, v => Assert.Equal(0.25f, v));
        Assert.All(cell.Weights[0, 0].WeightHh, v => Assert.Equal(0.1f, v));
    }

    public static TheoryData<int> ModelFileSpecs => new() { 0, 1, 2, 3 };

    [Theory]
    [MemberData(nameof(ModelFileSpecs))]
    public void An_LstmSimd_model_file_round_trips_every_bit_of_weights_spec_and_head(int which)
    {
        LstmSpec spec = which switch
        {
            0 => new LstmSpec(5, 7),
            1 => new LstmSpec(3, 9, numLayers: 3, bidirectional: true, projectionSize: 4, bias: false),
            2 => new LstmSpec(4, 6, bidirectional: true)
            {
                Cell = new CellVariant(true, 0.1f + 1e-8f, true, new Activation(ActivationKind.HardSigmoid, 1f / 3f, 0.7f), new Activation(ActivationKind.Relu), Activation.Tanh),
            },
            _ => new LstmSpec(2, 3) { Cell = CellVariant.Standard with { Clip = float.Epsilon } },
        };
        LstmWeights weights = Random(spec, which);
        weights[0, 0].WeightIh[0] = -0f;
        weights[0, 0].WeightIh[1] = float.NaN;
        LinearHead? head = which == 1 ? new LinearHead(spec.OutputSize, 2, new float[2 * spec.OutputSize].Select((_, i) => i / 7f).ToArray()) : null;
        string path = Path.Combine(Path.GetTempPath(), $"lstmsimd-{Guid.NewGuid():N}.safetensors");
        try
        {
            LstmModelFile.Save(path, weights, head);
            ImportedLstm loaded = LstmModelFile.Load(path);
            AssertSameWeights(weights, loaded.Weights);
            Assert.Equal(BitConverter.SingleToInt32Bits(spec.Cell.Clip), BitConverter.SingleToInt32Bits(loaded.Weights.Spec.Cell.Clip));
            Assert.True(float.IsNegative(loaded.Weights[0, 0].WeightIh[0]));
            Assert.Equal(head?.Weight, loaded.Head?.Weight);
            Assert.Empty(loaded.IgnoredTensors);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_model_file_whose_spec_disagrees_with_its_tensors_or_is_malformed_is_refused()
    {
        byte[] Build(string spec) => PyTorchStateDict.Export(Random(new LstmSpec(3, 4))).AddMetadata("format", "lstmsimd").AddMetadata("format_version", "1").AddMetadata("spec", spec).ToArray();
        string good = LstmModelFile.SpecToJson(new LstmSpec(3, 4));
        foreach ((string spec, string expected) in new[]
        {
            (good.Replace("\"hidden_size\":4", "\"hidden_size\":5", StringComparison.Ordinal), "has shape [16, 3]; expected [20, 3]"),
            (good.Replace("\"bias\":true", "\"bias\":true,\"bias\":true", StringComparison.Ordinal), "not a valid LstmSimd spec"),
            (good.Replace("\"bias\":true", "\"bias\":true,\"extra\":1", StringComparison.Ordinal), "Unknown key 'extra'"),
            (good.Replace("\"num_layers\":1", "\"num_layers\":0", StringComparison.Ordinal), "NumLayers"),
            (good.Replace("Sigmoid", "Elu", StringComparison.Ordinal), "Unknown activation 'Elu'"),
            ("{", "not a valid LstmSimd spec"),
        })
        {
            using SafetensorsFile file = SafetensorsFile.Parse(Build(spec));
            var e = Assert.Throws<WeightMappingException>(() => LstmModelFile.Load(file));
            Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        }

        using SafetensorsFile plain = SafetensorsFile.Parse(PyTorchStateDict.Export(Random(new LstmSpec(3, 4))).ToArray());
        Assert.Throws<WeightMappingException>(() => LstmModelFile.Load(plain));
    }

    [Fact]
    public void Keras_weights_transposed_from_a_PyTorch_golden_case_reproduce_PyTorchs_output()
    {
        using SafetensorsFile golden = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", "single_layer.safetensors"));
        int hidden = 7, input = 5, gates = 28;
        float[] wih = golden.ReadSingles("weight_ih_l0"), whh = golden.ReadSingles("weight_hh_l0");
        float[] bias = golden.ReadSingles("bias_ih_l0").Zip(golden.ReadSingles("bias_hh_l0"), (a, b) => a + b).ToArray();
        // Keras stores kernel [I, 4H] and recurrent_kernel [H, 4H], gates i, f, c, o: PyTorch's rows as columns.
        float[] kernel = new float[input * gates], recurrent = new float[hidden * gates];
        for (int g = 0; g < gates; g++)
        {
            for (int k = 0; k < input; k++) kernel[k * gates + g] = wih[g * input + k];
            for (int k = 0; k < hidden; k++) recurrent[k * gates + g] = whh[g * hidden + k];
        }

        var writer = new SafetensorsWriter()
            .Add("model/lstm/lstm_cell/kernel:0", kernel, input, gates)
            .Add("model/lstm/lstm_cell/recurrent_kernel:0", recurrent, hidden, gates)
            .Add("model/lstm/lstm_cell/bias:0", bias, gates);
        using SafetensorsFile file = SafetensorsFile.Parse(writer.ToArray());
        ImportedLstm keras = KerasLstm.Import(file, "model/lstm/lstm_cell/");
        ReferenceResult r = ReferenceLstm.Forward(keras.Weights, golden.ReadSingles("input"), 6, 3, golden.ReadSingles("h0"), golden.ReadSingles("c0"));
        Tolerance.AssertClose(golden.ReadDoubles("output"), r.Output.Select(v => (float)v).ToArray(), "Keras-named single_layer output");

        using SafetensorsFile exported = SafetensorsFile.Parse(KerasLstm.Export(keras.Weights, [new KerasLayerNames("k/")]).ToArray());
        Assert.Equal(kernel, exported.ReadSingles("k/kernel"));
        Assert.Equal(recurrent, exported.ReadSingles("k/recurrent_kernel"));
        Assert.Equal(bias, exported.ReadSingles("k/bias"));
    }

    [Fact]
    public void A_stacked_bidirectional_Keras_model_round_trips_through_export_and_import()
    {
        LstmWeights weights = Random(new LstmSpec(3, 4, numLayers: 2, bidirectional: true), 11);
        foreach (LstmLayerWeights w in Enumerable.Range(0, 4).Select(i => weights[i / 2, i % 2])) Array.Clear(w.BiasHh);
        KerasLayerNames[] names = [new("fwd1/", "bwd1/"), new("fwd2/", "bwd2/")];
        using SafetensorsFile file = SafetensorsFile.Parse(KerasLstm.Export(weights, names).ToArray());
        AssertSameWeights(weights, KerasLstm.Import(file, names).Weights);
    }

    [Fact]
    public void Sequence_reversal_reverses_each_sequence_within_its_own_length_in_both_layouts()
    {
        // T=3, B=2, one feature; sequence 0 has length 3, sequence 1 length 2.
        float[] timeMajor = [10, 20, 11, 21, 12, 22];
        SequenceReversal.ReverseInPlace(timeMajor, 3, 2, 1, [3, 2], SequenceLayout.TimeMajor);
        Assert.Equal(new float[] { 12, 21, 11, 20, 10, 22 }, timeMajor);
        float[] batchFirst = [10, 11, 12, 20, 21, 22];
        SequenceReversal.ReverseInPlace(batchFirst, 3, 2, 1, [3, 2], SequenceLayout.BatchFirst);
        Assert.Equal(new float[] { 12, 11, 10, 21, 20, 22 }, batchFirst);
    }
}
