using System.CommandLine;
using LstmSimd.Cli.Tool;
using LstmSimd.IO;
using LstmSimd.IO.Onnx;
using LstmSimd.Keras;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// <c>lstmsimd export --model M --onnx OUT.onnx</c>: writes an LstmSimd model file or a PyTorch state_dict (its LSTM and
/// optional nn.Linear head) as a standard ONNX model (<see cref="OnnxExport"/>); from a Keras or TensorFlow.js model, the
/// LSTM layer named by <c>--layer</c>.
/// </summary>
internal static class ExportCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "Model: an LstmSimd .safetensors file, a PyTorch state_dict (.pt/.pth or .safetensors), or a Keras .keras / .h5 / TensorFlow.js model.json (with --layer).", Required = true };
        var onnx = new Option<FileInfo>("--onnx") { Description = "The .onnx file to write.", Required = true };
        var prefix = new Option<string?>("--prefix") { Description = "PyTorch parameter prefix, e.g. 'lstm.' (default: found automatically)." };
        var head = new Option<string?>("--head") { Description = "Prefix of an nn.Linear head to export after the LSTM as MatMul + Add, e.g. 'fc.'; written as 'head_output'." };
        var layer = new Option<string?>("--layer") { Description = "For a Keras or TensorFlow.js model: the name of the LSTM or Bidirectional(LSTM) layer to export (its full output sequence, both directions side by side)." };
        var lengths = new Option<bool>("--sequence-lengths") { Description = "Give the graph a 'sequence_lens' input (int32 [batch]): steps past a sequence's length give zeros and leave its state." };
        var command = new Command("export", "Write a model's LSTM (and linear head) as a standard ONNX model, for ONNX Runtime and anything else that reads ONNX.") { model, onnx, prefix, head, layer, lengths };
        command.SetAction(result => ToolExit.Run("export", () =>
        {
            Console.WriteLine(Export(result.GetValue(model)!.FullName, result.GetValue(onnx)!.FullName, result.GetValue(prefix), result.GetValue(head),
                result.GetValue(layer), result.GetValue(lengths)));
            return ToolExit.Ok;
        }));
        return command;
    }

    internal static string Export(string modelPath, string onnxPath, string? prefix, string? headPrefix, string? layerName, bool sequenceLengths)
    {
        OutputPaths.RefuseClashes([("--model", modelPath)], [("--onnx", onnxPath)]);
        if (modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase)) throw new ArgumentException("--model is already an ONNX file.");
        if (!KerasFiles.IsKerasFile(modelPath))
        {
            if (layerName is not null) throw new ArgumentException("--layer applies to Keras and TensorFlow.js models.");
            ImportedLstm imported = RunCommand.LoadModel(modelPath, prefix, headPrefix);
            OnnxExport.Save(onnxPath, imported, sequenceLengths);
            return Summary(imported.Description, imported.Weights.Spec, imported.Head is not null, onnxPath, sequenceLengths);
        }

        if (prefix is not null || headPrefix is not null) throw new ArgumentException("--prefix and --head apply to PyTorch state_dicts; name a Keras model's LSTM layer with --layer.");
        KerasModel keras = KerasModel.Load(modelPath);
        KerasLstmLayer[] lstms = [.. keras.Layers.OfType<KerasLstmLayer>()];
        if (layerName is null)
            throw new ArgumentException($"A Keras model exports one LSTM layer at a time: name it with --layer ({string.Join(", ", lstms.Select(l => l.Name))}).");
        KerasLstmLayer lstm = lstms.FirstOrDefault(l => l.Name == layerName)
            ?? throw new ArgumentException($"The model has no LSTM layer '{layerName}'; its LSTM layers: {string.Join(", ", lstms.Select(l => l.Name))}.");
        if (lstm.GoBackwards) throw new NotSupportedException($"Layer '{lstm.Name}' sets go_backwards (it returns its outputs in reverse order), which a forward ONNX LSTM node does not reproduce.");
        OnnxExport.Save(onnxPath, lstm.Weights, head: null, sequenceLengths);
        return Summary($"{lstm.Description} of {Path.GetFileName(modelPath)}", lstm.Weights.Spec, hasHead: false, onnxPath, sequenceLengths);
    }

    private static string Summary(string description, LstmSpec spec, bool hasHead, string onnxPath, bool sequenceLengths) =>
        $"{description}\nwrote ONNX (opset {OnnxExport.Opset}, {spec.NumLayers} LSTM node{(spec.NumLayers == 1 ? "" : "s")}{(hasHead ? ", linear head" : "")}) to {onnxPath}\n"
        + $"inputs: input [seq, batch, {spec.InputSize}]{(sequenceLengths ? ", sequence_lens [batch]" : "")}; outputs: output, h_n, c_n{(hasHead ? ", head_output" : "")}";
}
