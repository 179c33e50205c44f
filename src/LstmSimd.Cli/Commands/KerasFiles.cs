using LstmSimd.Cli.Tool;
using LstmSimd.IO;
using LstmSimd.Keras;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// <c>lstmsimd run</c> and <c>inspect</c> on a Keras <c>.keras</c>, legacy <c>.h5</c> or TensorFlow.js <c>model.json</c> model: the whole model (Embedding,
/// LSTM, GRU, Bidirectional, Dense, Dropout) with Keras's semantics, batch first as Keras is. The input file holds <c>input</c>
/// [B, T, I] (token ids [B, T] for a model that starts with an Embedding); the output file gets every model output under
/// its Keras name (<c>dense</c>, <c>lstm:1</c> for an LSTM's h…) and the first one also as <c>output</c>.
/// </summary>
internal static class KerasFiles
{
    public static bool IsKerasFile(string path) => File.Exists(path) && KerasModel.IsKerasFile(path);

    public static string Run(string modelPath, string? prefix, string? head, string inputPath, string outputPath, WeightFormat? weights)
    {
        if (prefix is not null || head is not null)
            throw new ArgumentException("--prefix and --head apply to PyTorch state_dicts; a Keras model carries its own layers.");
        KerasModel model = KerasModel.Load(modelPath, weights is WeightFormat w ? new LstmModelOptions { Weights = w } : null);
        using SafetensorsFile data = SafetensorsFile.Open(inputPath);
        foreach (string name in new[] { "h0", "c0", "lengths", "grad_output", "grad_h_n", "grad_c_n" })
        {
            if (data.Contains(name))
                throw new NotSupportedException($"'{inputPath}' holds '{name}': a Keras model runs from zero state over whole sequences, forward only; remove it.");
        }

        SafetensorsTensorInfo x = data.TryGetTensor("input", out SafetensorsTensorInfo? xi) ? xi : throw new ArgumentException($"'{inputPath}' holds no tensor named 'input'.");
        int rank = model.TakesTokenIds ? 2 : 3;
        if (x.Shape.Count != rank || (!model.TakesTokenIds && x.Shape[2] != model.InputFeatures))
            throw new ArgumentException($"'input' has shape {x.ShapeText}; the model takes {(model.TakesTokenIds ? "token ids [B, T]" : $"[B, T, {model.InputFeatures}]")}, batch first as in Keras.");
        if (x.Shape[0] is 0 or > int.MaxValue || x.Shape[1] is 0 or > int.MaxValue) throw new ArgumentException($"'input' has shape {x.ShapeText}: an empty batch or no time steps.");
        int batch = (int)x.Shape[0], steps = (int)x.Shape[1];
        KerasRun run = model.Run(data.ReadSingles(x), batch, steps);

        string source = model.Format == KerasFileFormat.TensorFlowJs ? $"TensorFlow.js layers model ({model.KerasVersion})" : $"Keras {model.KerasVersion} model";
        var writer = new SafetensorsWriter().AddMetadata("model", $"{source} {Path.GetFileName(modelPath)}");
        writer.AddMetadata("engine", $"fast path ({run.KernelPath}, {(weights is WeightFormat f ? WeightsOption.NameOf(f) : "fp32")} weights)");
        writer.Add("output", run.Outputs[0].Values, [.. run.Outputs[0].Shape.Select(d => (long)d)]);
        foreach (KerasTensor output in run.Outputs)
        {
            if (output.Name != "output") writer.Add(output.Name, output.Values, [.. output.Shape.Select(d => (long)d)]);
        }

        writer.Save(outputPath);
        bool lstm = model.Layers.OfType<KerasLstmLayer>().Any(), gru = model.Layers.OfType<KerasGruLayer>().Any();
        string recurrent = lstm && gru ? "LSTM and GRU" : gru ? "GRU" : "LSTM";
        return $"{model.Description}\nran B={batch} T={steps} with {recurrent} layers on the fast path ({run.KernelPath})\nwrote {string.Join(", ", writer.Names)} to {outputPath}";
    }

    public static string Describe(string path)
    {
        try
        {
            return KerasModel.Load(path).Description + "\nlstmsimd run takes 'input' batch first and writes each output under its name (the first also as 'output')\n";
        }
        catch (KerasFormatException e)
        {
            return $"Keras or TensorFlow.js file: not runnable: {e.Message}\n";
        }
    }
}
