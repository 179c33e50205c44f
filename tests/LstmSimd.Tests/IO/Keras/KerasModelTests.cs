using System.IO.Compression;
using System.Text;
using System.Text.Json;
using LstmSimd.IO;
using LstmSimd.Keras;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.IO.Keras;

/// <summary>
/// Keras model files laid out as Keras 3 (.keras) and Keras 2 / Keras 3 (legacy .h5) save them (Golden/keras, written
/// with h5py by make_keras_golden.py) load in one call and reproduce the float64 outputs computed from Keras's
/// equations (checked there against TensorFlow.js's layers API where it can express the model) on every kernel path.
/// What LstmSimd cannot run is refused naming the layer and the setting; damaged files are refused as
/// <see cref="ModelFormatException"/>s.
/// </summary>
public sealed class KerasModelTests : IDisposable
{
    private static readonly string[] GoldenCases =
    [
        "k3_stacked_softmax.keras", "k3_bidirectional_sum_hard_sigmoid.keras", "k3_functional_embedding_state.keras",
        "k2_hard_sigmoid_bidirectional.h5", "k2_functional_bidirectional_ave_state.h5", "k2_bidirectional_mul.h5", "k3_legacy_h5_go_backwards.h5",

        // GRUs (reset_after=True), whose float64 outputs the generator checks against PyTorch's nn.GRU; those with
        // hard_sigmoid gates (Keras 2's 0.2·x + 0.5, Keras 3's x/6 + 0.5) come from Keras's equations alone.
        "k3_gru_stacked_softmax.keras", "k3_gru_functional_backwards_state.keras", "k2_gru_bidirectional_state.h5", "k2_gru_embedding_bidirectional_ave.h5",
        "k2_gru_hard_sigmoid.h5", "k3_gru_hard_sigmoid_bidirectional.keras",
    ];

    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-keras-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private static string Golden(string file) => GoldenRunner.GoldenPath("keras", file);

    public static TheoryData<string, KernelPath> Cases() => GoldenRunner.OnEveryKernelPath(GoldenCases);

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_saved_Keras_model_reproduces_the_float64_Keras_outputs(string file, KernelPath path)
    {
        KerasModel model = KerasModel.Load(Golden(file), new LstmModelOptions { Kernel = path });
        using SafetensorsFile expected = SafetensorsFile.Open(Golden(Path.GetFileNameWithoutExtension(file) + ".expected.safetensors"));
        string[] outputs = [.. GoldenRunner.Config(expected).GetProperty("outputs").EnumerateArray().Select(o => o.GetString()!)];
        Assert.Equal(outputs, model.OutputNames);
        SafetensorsTensorInfo input = expected.GetTensor("input");
        KerasRun run = model.Run(expected.ReadSingles("input"), (int)input.Shape[0], (int)input.Shape[1]);
        Assert.Equal(path, run.KernelPath);
        for (int k = 0; k < outputs.Length; k++)
        {
            Assert.Equal(outputs[k], run.Outputs[k].Name);
            Assert.Equal(expected.GetTensor(outputs[k]).Shape, run.Outputs[k].Shape.Select(d => (long)d));
            Tolerance.AssertClose(expected.ReadDoubles(outputs[k]), run.Outputs[k].Values, $"{file} {outputs[k]} ({path})");
        }
    }

    [Fact]
    public void Hard_sigmoid_means_what_the_saving_Keras_version_defines()
    {
        Activation keras2 = Lstm(KerasModel.Load(Golden("k2_hard_sigmoid_bidirectional.h5")), "lstm").Weights.Spec.Cell.Gate;
        Activation keras3 = Lstm(KerasModel.Load(Golden("k3_legacy_h5_go_backwards.h5")), "lstm").Weights.Spec.Cell.Gate;
        Assert.Equal(new Activation(ActivationKind.HardSigmoid, 0.2f, 0.5f), keras2);
        Assert.Equal(new Activation(ActivationKind.HardSigmoid, 1f / 6f, 0.5f), keras3);
    }

    [Fact]
    public void A_Keras_GRU_lands_in_PyTorchs_layout_gate_blocks_z_r_h_reordered_to_r_z_n_and_its_bias_rows_split()
    {
        KerasModel model = KerasModel.Load(Golden("k3_gru_stacked_softmax.keras"));
        KerasGruLayer gru = model.Layers.OfType<KerasGruLayer>().Single(l => l.Name == "gru_1");
        Assert.Equal(new GruSpec(4, 5), gru.Weights.Spec);

        // The archive's own arrays, read with h5py's layout in mind by the test: kernel [4, 15] (z, r, h), bias [2, 15].
        using ZipArchive zip = ZipFile.OpenRead(Golden("k3_gru_stacked_softmax.keras"));
        string h5 = Path.Combine(_dir, "weights.h5");
        zip.GetEntry("model.weights.h5")!.ExtractToFile(h5);
        using var file = PureHDF.H5File.OpenRead(h5);
        float[] kernel = ((PureHDF.IH5Dataset)file.Get("layers/gru_1/cell/vars/0")).Read<float[]>();
        float[] bias = ((PureHDF.IH5Dataset)file.Get("layers/gru_1/cell/vars/2")).Read<float[]>();
        const int units = 5, gates = 15;
        // weight_ih[r-block row u, column i] = kernel[i, r-column u] (Keras's r is its second block); z is Keras's first; n its third.
        for (int i = 0; i < 4; i++)
        {
            for (int u = 0; u < units; u++)
            {
                Assert.Equal(kernel[i * gates + units + u], gru.Weights[0, 0].WeightIh[u * 4 + i]);
                Assert.Equal(kernel[i * gates + u], gru.Weights[0, 0].WeightIh[(units + u) * 4 + i]);
                Assert.Equal(kernel[i * gates + 2 * units + u], gru.Weights[0, 0].WeightIh[(2 * units + u) * 4 + i]);
            }
        }

        Assert.Equal(bias[units..(2 * units)], gru.Weights[0, 0].BiasIh[..units]);
        Assert.Equal(bias[(gates + 2 * units)..], gru.Weights[0, 0].BiasHh[(2 * units)..]);
        Assert.Contains("GRU 'gru' ← input_layer: units 4, input 3, activation tanh, recurrent_activation sigmoid, reset_after True, use_bias False, return_sequences",
            model.Description, StringComparison.Ordinal);
    }

    [Fact]
    public void The_layers_carry_the_configs_settings_and_the_description_lists_them()
    {
        KerasModel model = KerasModel.Load(Golden("k3_functional_embedding_state.keras"));
        Assert.Equal(KerasFileFormat.KerasArchive, model.Format);
        Assert.Equal("3.6.0", model.KerasVersion);
        Assert.True(model.TakesTokenIds);
        Assert.Equal(["Embedding", "LSTM", "Dense"], model.Layers.Select(l => l.ClassName));
        KerasLstmLayer lstm = Lstm(model, "lstm");
        Assert.True(lstm.GoBackwards && lstm.ReturnSequences && lstm.ReturnState);
        Assert.False(lstm.Weights.Spec.Bias);
        Assert.Equal("embedding", lstm.Input);
        Assert.Contains("LSTM 'lstm' ← embedding: units 5, input 4", model.Description, StringComparison.Ordinal);

        KerasModel legacy = KerasModel.Load(Golden("k2_functional_bidirectional_ave_state.h5"));
        Assert.Equal(KerasFileFormat.LegacyHdf5, legacy.Format);
        Assert.Equal(KerasMergeMode.Ave, Lstm(legacy, "bidirectional").MergeMode);
        Assert.Equal(2, legacy.InputFeatures);
    }

    [Fact]
    public void Is_keras_file_tells_keras_files_from_safetensors_and_torch_save_zips()
    {
        Assert.True(KerasModel.IsKerasFile(Golden("k3_stacked_softmax.keras")));
        Assert.True(KerasModel.IsKerasFile(Golden("k2_bidirectional_mul.h5")));
        Assert.False(KerasModel.IsKerasFile(GoldenRunner.GoldenPath("pytorch-pt", "float16.pt")));
        Assert.False(KerasModel.IsKerasFile(GoldenRunner.GoldenPath("pytorch", "projection.safetensors")));
    }

    public static TheoryData<string, string> Refusals() => new()
    {
        { "refuse_stateful.h5", "layer 'lstm' sets stateful=True" },
        { "refuse_merge_none.h5", "layer 'bidirectional': merge_mode None" },
        { "refuse_linear_activation.keras", "layer 'lstm': activation 'linear' is not one LstmSimd's cell has" },
        { "refuse_keras2_zip.keras", "saved by Keras 2.15.0" },
    };

    /// <summary>The original cell's numbers are held by the TensorFlow.js goldens (TF.js runs only that cell); this file is Keras 3's layout of it.</summary>
    [Fact]
    public void A_Keras_GRU_with_reset_after_False_loads_as_the_original_cell_with_its_one_bias_on_the_input_side()
    {
        KerasModel model = KerasModel.Load(Golden("refuse_gru_reset_before.keras"));
        GruWeights weights = Assert.IsType<KerasGruLayer>(Assert.Single(model.Layers)).Weights;
        Assert.False(weights.Spec.LinearBeforeReset);
        Assert.All(weights[0, 0].BiasHh, b => Assert.Equal(0f, b));
        Assert.Contains(weights[0, 0].BiasIh, b => b != 0f);
    }

    [Theory]
    [MemberData(nameof(Refusals))]
    public void What_LstmSimd_cannot_run_is_refused_naming_the_layer_and_the_setting(string file, string reason)
    {
        var e = Assert.Throws<KerasFormatException>(() => KerasModel.Load(Golden(file)));
        Assert.Contains(reason, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_mask_zero_embedding_loads_with_its_mask_but_running_the_model_is_refused_naming_the_layer()
    {
        KerasModel model = KerasModel.Load(Golden("refuse_mask_zero.keras"));
        Assert.True(model.Layers.OfType<KerasEmbeddingLayer>().Single().MaskZero);
        var e = Assert.Throws<NotSupportedException>(() => model.Run(new float[2 * 5], 2, 5));
        Assert.Contains("Layer 'embedding' sets mask_zero=True", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_weight_that_does_not_fit_the_config_is_refused_naming_the_layer_the_weight_and_both_shapes()
    {
        string path = EditArchive("k3_stacked_softmax.keras", "config.json", json => json.Replace("\"units\": 2", "\"units\": 5", StringComparison.Ordinal));
        var e = Assert.Throws<KerasFormatException>(() => KerasModel.Load(path));
        Assert.Contains("layer 'dense' weight 'layers/dense/vars/0' has shape [3, 2]; the layer's config needs [3, 5]", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_legacy_file_saved_by_Keras_1_is_refused_with_the_advice_to_save_it_again()
    {
        byte[] bytes = File.ReadAllBytes(Golden("k2_bidirectional_mul.h5"));
        byte[] version = Encoding.ASCII.GetBytes("2.15.0"), older = Encoding.ASCII.GetBytes("1.2.2\0");
        int patched = 0;
        for (int at = bytes.AsSpan().IndexOf(version); at >= 0; at = bytes.AsSpan().IndexOf(version), patched++) older.CopyTo(bytes, at);
        Assert.True(patched > 0, "the golden file names its Keras version");
        string path = Path.Combine(_dir, "keras1.h5");
        File.WriteAllBytes(path, bytes);
        Assert.Contains("saved by Keras 1.2.2", Assert.Throws<KerasFormatException>(() => KerasModel.Load(path)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void An_archive_without_weights_or_with_broken_json_is_refused_with_the_entry_named()
    {
        string noWeights = EditArchive("k3_stacked_softmax.keras", "model.weights.h5", null);
        Assert.Contains("no 'model.weights.h5' in the archive", Assert.Throws<KerasFormatException>(() => KerasModel.Load(noWeights)).Message, StringComparison.Ordinal);
        string badJson = EditArchive("k3_stacked_softmax.keras", "config.json", json => json[..^3]);
        Assert.Contains("config.json is not valid JSON", Assert.Throws<KerasFormatException>(() => KerasModel.Load(badJson)).Message, StringComparison.Ordinal);
        string notAModel = Path.Combine(_dir, "x.keras");
        File.WriteAllText(notAModel, "hello");
        Assert.Contains("neither a .keras zip, an HDF5 file nor a TensorFlow.js model.json", Assert.Throws<KerasFormatException>(() => KerasModel.Load(notAModel)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Token_ids_outside_the_vocabulary_or_a_wrong_input_length_are_refused_before_running()
    {
        KerasModel model = KerasModel.Load(Golden("k3_functional_embedding_state.keras"));
        float[] ids = new float[10];
        ids[7] = 11; // the vocabulary is 0…10
        Assert.Contains("token id 11 at position 7", Assert.Throws<ArgumentException>(() => model.Run(ids, 2, 5)).Message, StringComparison.Ordinal);
        ids[7] = 2.5f;
        Assert.Contains("token id 2.5 at position 7", Assert.Throws<ArgumentException>(() => model.Run(ids, 2, 5)).Message, StringComparison.Ordinal);
        Assert.Throws<ArgumentException>(() => model.Run(new float[9], 2, 5));
    }

    [Fact]
    public void Truncated_and_bit_flipped_files_run_or_are_refused_as_typed_errors()
    {
        var random = new Random(20261206);
        foreach (string file in GoldenCases)
        {
            byte[] original = File.ReadAllBytes(Golden(file));
            for (int trial = 0; trial < 60; trial++)
            {
                byte[] bytes = trial < 20 ? original[..random.Next(original.Length)] : (byte[])original.Clone();
                if (trial >= 20)
                {
                    for (int flips = random.Next(1, 8); flips > 0; flips--) bytes[random.Next(bytes.Length)] ^= (byte)(1 << random.Next(8));
                }

                try
                {
                    FuzzPipeline.RunKeras(bytes);
                }
                catch (Exception e) when (e is ModelFormatException || FuzzPipeline.IsRefusal(e))
                {
                }
                catch (Exception e)
                {
                    Assert.Fail($"{file}, trial {trial}: {e}");
                }
            }
        }
    }

    private static KerasLstmLayer Lstm(KerasModel model, string name) => model.Layers.OfType<KerasLstmLayer>().Single(l => l.Name == name);

    /// <summary>A copy of a golden .keras with one entry rewritten (or removed, when <paramref name="edit"/> is null).</summary>
    private string EditArchive(string file, string entryName, Func<string, string>? edit)
    {
        string path = Path.Combine(_dir, Guid.NewGuid().ToString("N") + ".keras");
        using (ZipArchive source = ZipFile.OpenRead(Golden(file)))
        using (ZipArchive target = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            foreach (ZipArchiveEntry entry in source.Entries)
            {
                if (entry.FullName == entryName && edit is null) continue;
                using Stream from = entry.Open();
                using var buffer = new MemoryStream();
                from.CopyTo(buffer);
                byte[] data = buffer.ToArray();
                if (entry.FullName == entryName) data = Encoding.UTF8.GetBytes(edit!(Encoding.UTF8.GetString(data)));
                using Stream to = target.CreateEntry(entry.FullName).Open();
                to.Write(data);
            }
        }

        return path;
    }
}
