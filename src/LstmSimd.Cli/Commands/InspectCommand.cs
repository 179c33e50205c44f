using System.CommandLine;
using System.Text;
using LstmSimd.Cli.Tool;
using LstmSimd.IO;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd inspect FILE</c>: what a safetensors or ONNX file holds, which LSTM or GRU it describes, what an import would ignore, for ONNX the graph runner's plan, and for a Keras file its layers or why it cannot run.</summary>
internal static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<FileInfo>("file") { Description = "A .safetensors, .pt/.pth (torch.save), .onnx, Keras .keras / .h5, or TensorFlow.js model.json file." };
        var command = new Command("inspect", "List a model file's tensors, the LSTM or GRU architecture found, and anything ignored.") { file };
        command.SetAction(result => ToolExit.Run("inspect", () =>
        {
            string path = result.GetValue(file)!.FullName;
            Console.Write(path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase) ? DescribeOnnx(path)
                : KerasFiles.IsKerasFile(path) ? KerasFiles.Describe(path)
                : DescribeSafetensors(path));
            return ToolExit.Ok;
        }));
        return command;
    }

    private static string DescribeSafetensors(string path)
    {
        using SafetensorsFile file = PyTorchStateDict.Open(path);
        var s = new StringBuilder();
        s.AppendLine(file.ReadFromTorchSave ? $"PyTorch torch.save file: {file.Tensors.Count} tensors" : $"safetensors: {file.Tensors.Count} tensors, data at byte {file.DataStart}");
        foreach ((string key, string value) in file.Metadata)
            s.AppendLine($"  metadata {key} = {Shorten(value)}");
        s.AppendLine("tensors:");
        foreach (SafetensorsTensorInfo t in file.Tensors)
            s.AppendLine($"  {t.Name,-40} {t.Dtype,-5} {t.ShapeText,-18} {t.ByteLength} bytes");

        var found = new List<ImportedLstm>();
        var grus = new List<string>();
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
            foreach ((string prefix, bool isCell) in PyTorchStateDict.FindModules(file))
            {
                if (!isCell && PyTorchStateDict.IsGru(file, prefix)) TryGru(file, prefix, grus, problems);
                else Try($"PyTorch at prefix '{prefix}'", () => WithHead(file, PyTorchStateDict.Import(file, prefix), prefix));
            }

            foreach (SafetensorsTensorInfo t in file.Tensors)
            {
                string name = t.Name.EndsWith(":0", StringComparison.Ordinal) ? t.Name[..^2] : t.Name;
                if (!name.EndsWith("kernel", StringComparison.Ordinal) || name.EndsWith("recurrent_kernel", StringComparison.Ordinal)) continue;
                string prefix = name[..^"kernel".Length];
                if (file.Contains(prefix + "recurrent_kernel") || file.Contains(prefix + "recurrent_kernel:0"))
                    Try($"Keras at prefix '{prefix}'", () => KerasLstm.Import(file, prefix));
            }
        }

        foreach (string gru in grus) s.AppendLine(gru);
        AppendFindings(s, found, problems, anyGru: grus.Count > 0);
        return s.ToString();
    }

    /// <summary>An nn.GRU's finding (or why it cannot be imported), for <c>lstmsimd run</c>, which runs it on the fast GRU.</summary>
    private static void TryGru(SafetensorsFile file, string prefix, List<string> found, List<string> problems)
    {
        try
        {
            GruSpec spec = PyTorchStateDict.ImportGru(file, prefix).Spec;
            found.Add($"found: PyTorch nn.GRU at prefix '{prefix}': {spec.NumLayers}-layer {(spec.Bidirectional ? "bidirectional " : "")}GRU, input {spec.InputSize}, hidden {spec.HiddenSize}{(spec.Bias ? "" : ", no bias")}");
            found.Add("  lstmsimd run runs it (input, optional h0 and lengths; writes output and h_n)");
        }
        catch (ModelFormatException e)
        {
            problems.Add($"PyTorch nn.GRU at prefix '{prefix}': {e.Message}");
        }
    }

    private static string DescribeOnnx(string path)
    {
        OnnxModel model = OnnxModel.Load(path);
        var s = new StringBuilder();
        s.AppendLine($"onnx: ir_version {model.IrVersion}, opsets {string.Join(", ", model.Opsets.Select(o => $"'{o.Key}' {o.Value}"))}");
        s.AppendLine($"nodes ({model.Nodes.Count}):");
        foreach (OnnxNodeInfo n in model.Nodes) s.AppendLine($"  {Node(n)}");
        s.AppendLine("initializers:");
        foreach (OnnxInitializerInfo t in model.Initializers)
            s.AppendLine($"  {t.Name,-40} {t.DataType,-8} [{string.Join(", ", t.Dims)}]{(t.External ? " (external)" : "")}");
        foreach (OnnxLstmNode node in model.LstmNodes)
        {
            s.AppendLine($"found: {node.Description}");
            s.AppendLine($"  run-time inputs: X '{node.Input}'{Named(", sequence_lens", node.SequenceLengthsInput)}{Named(", initial_h", node.InitialHiddenInput)}{Named(", initial_c", node.InitialCellInput)}");
            if (node.Model?.SequenceLengths.Length > 0) s.AppendLine($"  constant sequence_lens [{string.Join(", ", node.Model.SequenceLengths)}]");
            if (node.Model?.InitialHidden.Length > 0 || node.Model?.InitialCell.Length > 0) s.AppendLine("  constant initial state in the model");
        }

        foreach (OnnxGruNode node in model.GruNodes)
        {
            s.AppendLine($"found: {node.Description}");
            s.AppendLine($"  run-time inputs: X '{node.Input}'{Named(", sequence_lens", node.SequenceLengthsInput)}{Named(", initial_h", node.InitialHiddenInput)}");
        }

        if (model.LstmNodes.Count == 0 && model.GruNodes.Count == 0) s.AppendLine("found: no LSTM or GRU node");
        AppendPlan(s, model);
        return s.ToString();
    }

    /// <summary>What <c>lstmsimd run</c> would do with the graph: inputs, folded and running nodes, outputs, or why it refuses.</summary>
    private static void AppendPlan(StringBuilder s, OnnxModel model)
    {
        OnnxGraph graph;
        try
        {
            graph = OnnxGraph.Create(model);
        }
        catch (ModelFormatException e)
        {
            s.AppendLine($"not runnable: {e.Message}");
            return;
        }

        using (graph)
        {
            s.AppendLine($"plan (opset {graph.Opset}):");
            s.AppendLine("  inputs:");
            foreach (OnnxValueInfo i in graph.Inputs) s.AppendLine($"    {i.Name,-24} {i.ElementTypeName,-8} {i.ShapeText}");
            s.AppendLine($"  folded when planning ({graph.FoldedNodes.Count} nodes: initializers, constants and shapes only): {Ops(graph.FoldedNodes)}");
            s.AppendLine($"  runs ({graph.RunNodes.Count} nodes):");
            foreach (OnnxNodeInfo n in graph.RunNodes) s.AppendLine($"    {Node(n)}");
            s.AppendLine("  outputs:");
            foreach (OnnxValueInfo o in graph.Outputs) s.AppendLine($"    {o.Name,-24} {o.ElementTypeName,-8} {o.ShapeText}");
            s.AppendLine($"  dead nodes (reach no output, not run): {(graph.DeadNodes.Count == 0 ? "none" : string.Join(", ", graph.DeadNodes.Select(Node)))}");
            if (graph.UnusedInputs.Count > 0) s.AppendLine($"  unused inputs: {string.Join(", ", graph.UnusedInputs)}");
            if (graph.InitializerInputs.Count > 0) s.AppendLine($"  inputs with initializers (their values are used, never overridden): {string.Join(", ", graph.InitializerInputs)}");
        }
    }

    private static string Ops(IReadOnlyList<OnnxNodeInfo> nodes) =>
        nodes.Count == 0 ? "none" : string.Join(", ", nodes.GroupBy(n => n.OpType).Select(g => g.Count() == 1 ? g.Key : $"{g.Key} ×{g.Count()}"));

    private static string Node(OnnxNodeInfo n) => $"{n.OpType} '{n.Name}' ({string.Join(", ", n.Inputs.Select(i => i.Length == 0 ? "-" : i))}) -> ({string.Join(", ", n.Outputs)})";

    /// <summary>
    /// The import again with its <c>nn.Linear</c> head when exactly one ignored <c>PREFIX.weight</c> [outputs, LSTM outputs]
    /// fits it (with its <c>PREFIX.bias</c>, if any), so the head's tensors show as used; otherwise the import as it was.
    /// </summary>
    private static ImportedLstm WithHead(SafetensorsFile file, ImportedLstm model, string lstmPrefix)
    {
        string[] heads = [.. model.IgnoredTensors
            .Where(name => name.EndsWith(".weight", StringComparison.Ordinal) || name == "weight")
            .Where(name => file.GetTensor(name) is { Shape: [> 0, long inputs] } && inputs == model.Weights.Spec.OutputSize)
            .Select(name => name[..^"weight".Length])];
        if (heads is not [string head]) return model;
        try
        {
            return PyTorchStateDict.Import(file, lstmPrefix, head);
        }
        catch (ModelFormatException)
        {
            return model; // not a linear head after all: its tensors stay listed as ignored
        }
    }

    private static void AppendFindings(StringBuilder s, List<ImportedLstm> found, List<string> problems, bool anyGru)
    {
        foreach (ImportedLstm m in found)
        {
            s.AppendLine($"found: {m.Description}");
            if (m.Head is not null) s.AppendLine("  lstmsimd run applies the head when given --head with its prefix");
            s.AppendLine($"  uses {m.UsedTensors.Count} tensors; ignored: {(m.IgnoredTensors.Count == 0 ? "none" : string.Join(", ", m.IgnoredTensors))}");
        }

        foreach (string p in problems) s.AppendLine($"not importable: {p}");
        if (found.Count == 0 && problems.Count == 0 && !anyGru) s.AppendLine("found: no LSTM or GRU parameters (no PyTorch '*weight_ih_l0'/'*weight_ih', Keras '*kernel', or LstmSimd metadata)");
    }

    private static string Named(string label, string? name) => name is null ? "" : $"{label} '{name}'";

    private static string Shorten(string value) => value.Length <= 200 ? value : value[..200] + "…";
}
