using System.CommandLine;
using System.Text;
using LstmSimd.Cli.Tool;
using LstmSimd.IO;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd inspect FILE</c>: what a safetensors or ONNX file holds, which LSTM it describes, and what an import would ignore.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "A .safetensors or .onnx file." };
        var command = new Command("inspect", "List a model file's tensors, the LSTM architecture found, and anything ignored.") { file };
        command.SetAction(result => ToolExit.Run("inspect", () =>
        {
            string path = result.GetValue(file)!.FullName;
            Console.Write(path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? DescribeOnnx(path) : DescribeSafetensors(path));
            return ToolExit.Ok;
        }));
        return command;
    }

    private static string DescribeSafetensors(string path)
    {
        using SafetensorsFile file = SafetensorsFile.Open(path);
        var s = new StringBuilder();
        s.AppendLine($"safetensors: {file.Tensors.Count} tensors, data at byte {file.DataStart}");
        foreach ((string key, string value) in file.Metadata)
            s.AppendLine($"  metadata {key} = {Shorten(value)}");
        s.AppendLine("tensors:");
        foreach (SafetensorsTensorInfo t in file.Tensors)
            s.AppendLine($"  {t.Name,-40} {t.Dtype,-5} {t.ShapeText,-18} {t.ByteLength} bytes");

        var found = new List<ImportedLstm>();
        var problems = new List<string>();
        void Try(string what, Func<ImportedLstm> import)
        {
            try
            {
                found.Add(import());
            }
            catch (ModelFormatException e)
            {
                problems.Add($"{what}: {e.Message}");
            }
        }

        if (LstmModelFile.IsModelFile(file)) Try("LstmSimd model file", () => LstmModelFile.Load(file));
        else
        {
            foreach ((string prefix, bool _) in PyTorchStateDict.FindModules(file))
                Try($"PyTorch at prefix '{prefix}'", () => PyTorchStateDict.Import(file, prefix));
            foreach (SafetensorsTensorInfo t in file.Tensors)
            {
                string name = t.Name.EndsWith(":0", StringComparison.Ordinal) ? t.Name[..^2] : t.Name;
                if (!name.EndsWith("kernel", StringComparison.Ordinal) || name.EndsWith("recurrent_kernel", StringComparison.Ordinal)) continue;
                string prefix = name[..^"kernel".Length];
                if (file.Contains(prefix + "recurrent_kernel") || file.Contains(prefix + "recurrent_kernel:0"))
                    Try($"Keras at prefix '{prefix}'", () => KerasLstm.Import(file, prefix));
            }
        }

        AppendFindings(s, found, problems);
        return s.ToString();
    }

    private static string DescribeOnnx(string path)
    {
        OnnxModel model = OnnxModel.Load(path);
        var s = new StringBuilder();
        s.AppendLine($"onnx: ir_version {model.IrVersion}, opsets {string.Join(", ", model.Opsets.Select(o => $"'{o.Key}' {o.Value}"))}");
        s.AppendLine($"  inputs:  {string.Join(", ", model.Inputs)}");
        s.AppendLine($"  outputs: {string.Join(", ", model.Outputs)}");
        s.AppendLine($"nodes ({model.Nodes.Count}):");
        foreach (OnnxNodeInfo n in model.Nodes)
            s.AppendLine($"  {n.OpType,-12} {n.Name} ({string.Join(", ", n.Inputs.Select(i => i.Length == 0 ? "-" : i))}) -> ({string.Join(", ", n.Outputs)})");
        s.AppendLine("initializers:");
        foreach (OnnxInitializerInfo t in model.Initializers)
            s.AppendLine($"  {t.Name,-40} {t.DataType,-8} [{string.Join(", ", t.Dims)}]{(t.External ? " (external)" : "")}");
        foreach (OnnxLstmNode node in model.LstmNodes)
        {
            s.AppendLine($"found: {node.Model.Description}");
            s.AppendLine($"  run-time inputs: X '{node.Input}'{Named(", sequence_lens", node.SequenceLengthsInput)}{Named(", initial_h", node.InitialHiddenInput)}{Named(", initial_c", node.InitialCellInput)}");
            if (node.Model.SequenceLengths.Length > 0) s.AppendLine($"  constant sequence_lens [{string.Join(", ", node.Model.SequenceLengths)}]");
            if (node.Model.InitialHidden.Length > 0 || node.Model.InitialCell.Length > 0) s.AppendLine("  constant initial state in the model");
        }

        if (model.LstmNodes.Count == 0) s.AppendLine("found: no LSTM node");
        s.AppendLine($"ignored initializers: {(model.IgnoredInitializers.Count == 0 ? "none" : string.Join(", ", model.IgnoredInitializers))}");
        string others = string.Join(", ", model.Nodes.Where(n => n.OpType != "LSTM").Select(n => n.OpType).Distinct());
        s.AppendLine($"ignored nodes: {(others.Length == 0 ? "none" : others)}");
        return s.ToString();
    }

    private static void AppendFindings(StringBuilder s, List<ImportedLstm> found, List<string> problems)
    {
        foreach (ImportedLstm m in found)
        {
            s.AppendLine($"found: {m.Description}");
            s.AppendLine($"  uses {m.UsedTensors.Count} tensors; ignored: {(m.IgnoredTensors.Count == 0 ? "none" : string.Join(", ", m.IgnoredTensors))}");
        }

        foreach (string p in problems) s.AppendLine($"not importable: {p}");
        if (found.Count == 0 && problems.Count == 0) s.AppendLine("found: no LSTM parameters (no PyTorch '*weight_ih_l0'/'*weight_ih', Keras '*kernel', or LstmSimd metadata)");
    }

    private static string Named(string label, string? name) => name is null ? "" : $"{label} '{name}'";

    private static string Shorten(string value) => value.Length <= 200 ? value : value[..200] + "…";
}
