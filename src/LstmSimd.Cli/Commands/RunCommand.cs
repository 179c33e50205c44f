using System.CommandLine;
using LstmSimd.Cli.Tool;
using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Training;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// <c>lstmsimd run</c>: runs a model file (LstmSimd, PyTorch nn.LSTM or nn.GRU state_dict, ONNX or Keras) over the tensors of a
/// safetensors input file and writes output, h_n and c_n in PyTorch's shapes, on the fast path (any cell, any weight
/// format: <c>--weights</c>; a file stored in F16/BF16 runs in that format unless told otherwise). When the input file
/// also holds upstream gradients (grad_output, grad_h_n, grad_c_n), the output file also receives the gradients of
/// loss = Σ output·grad_output + Σ h_n·grad_h_n + Σ c_n·grad_c_n under PyTorch's names (grad.weight_ih_l0, …,
/// grad.input, grad.h0, grad.c0), from the SIMD backward. An ONNX file runs as a whole graph (see <see cref="OnnxRun"/>), a Keras
/// file as a whole model (see <see cref="KerasFiles"/>).
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var model = new Option<FileInfo>("--model") { Description = "Model: an LstmSimd .safetensors file, a PyTorch nn.LSTM or nn.GRU state_dict (.pt/.pth from torch.save, or .safetensors), an .onnx graph (its LSTM and GRU nodes and the operators around them; see lstmsimd inspect), or a Keras .keras / .h5 or TensorFlow.js model.json model (input batch first, as in Keras).", Required = true };
        var prefix = new Option<string?>("--prefix") { Description = "PyTorch parameter prefix, e.g. 'lstm.' (default: found automatically)." };
        var head = new Option<string?>("--head") { Description = "Prefix of an nn.Linear head to apply after the LSTM, e.g. 'fc.'; its result is written as 'head_output'." };
        var input = new Option<FileInfo>("--input") { Description = "Input .safetensors: 'input' [T,B,I] (or [B,T,I] with --batch-first; [B,I] for an LSTMCell), optional 'h0', 'c0', 'lengths' (I64 or I32), and optional upstream gradients 'grad_output', 'grad_h_n', 'grad_c_n' (shaped as output, h_n, c_n) to get grad.* tensors back.", Required = true };
        var batchFirst = new Option<bool>("--batch-first") { Description = "'input' is [B,T,I] and 'output' will be [B,T,D·H_out] (safetensors models; an ONNX graph carries its own layout)." };
        var output = new Option<FileInfo>("--output") { Description = "Output .safetensors to write: 'output', 'h_n', 'c_n' (F32), and with upstream gradients 'grad.<parameter>' (PyTorch names), 'grad.input', 'grad.h0', 'grad.c0'.", Required = true };
        var weights = new Option<string?>("--weights")
        {
            Description = $"How the fast path stores the weight matrices: {WeightsOption.Names} (LstmModelOptions.Weights); default: the file's own precision (F16/BF16 files stay 16-bit, others fp32). Gradients always run in fp32.",
        };
        var command = new Command("run", "Run a model file over the sequences in a safetensors file.") { model, prefix, head, input, batchFirst, output, weights };
        command.SetAction(result => ToolExit.Run("run", () =>
        {
            string? weightsName = result.GetValue(weights);
            string message = Run(result.GetValue(model)!.FullName, result.GetValue(prefix), result.GetValue(head), result.GetValue(input)!.FullName,
                result.GetValue(batchFirst), result.GetValue(output)!.FullName, weightsName is null ? null : WeightsOption.Parse(weightsName));
            Console.WriteLine(message);
            return ToolExit.Ok;
        }));
        return command;
    }

    internal static ImportedLstm LoadModel(string path, string? prefix, string? head)
    {
        using SafetensorsFile file = PyTorchStateDict.Open(path);
        if (LstmModelFile.IsModelFile(file))
        {
            if (prefix is not null || head is not null) throw new ArgumentException("--prefix and --head apply to PyTorch state_dicts; this is an LstmSimd model file.");
            return LstmModelFile.Load(file);
        }

        return PyTorchStateDict.Import(file, prefix, head);
    }

    private static string Run(string modelPath, string? prefix, string? headPrefix, string inputPath, bool batchFirst, string outputPath, WeightFormat? weights)
    {
        OutputPaths.RefuseClashes([("--model", modelPath), ("--input", inputPath)], [("--output", outputPath)]);
        if (modelPath.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase))
        {
            if (prefix is not null || headPrefix is not null) throw new ArgumentException("--prefix and --head apply to safetensors models, not ONNX.");
            return OnnxRun.Run(modelPath, inputPath, batchFirst, outputPath, weights);
        }

        if (KerasFiles.IsKerasFile(modelPath)) return KerasFiles.Run(modelPath, prefix, headPrefix, inputPath, outputPath, weights);
        if (GruStateDict(modelPath, prefix) is GruWeights gru)
        {
            if (headPrefix is not null) throw new NotSupportedException("--head applies to an nn.LSTM's state_dict; an nn.GRU runs without a head here.");
            return RunGru(gru, modelPath, inputPath, batchFirst, outputPath, weights);
        }

        ImportedLstm model = LoadModel(modelPath, prefix, headPrefix);
        LstmSpec spec = model.Weights.Spec;
        SequenceLayout layout = batchFirst || model.Layout == SequenceLayout.BatchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor;
        using SafetensorsFile data = SafetensorsFile.Open(inputPath);
        (SafetensorsTensorInfo x, int steps, int batch) = Sequence(data, inputPath, layout, spec.InputSize, model.IsCell);
        long[] hShape = model.IsCell ? [batch, spec.OutputHiddenSize] : [spec.LayerDirections, batch, spec.OutputHiddenSize];
        long[] cShape = model.IsCell ? [batch, spec.HiddenSize] : [spec.LayerDirections, batch, spec.HiddenSize];
        float[] h0 = Optional(data, "h0", hShape) ?? [];
        float[] c0 = Optional(data, "c0", cShape) ?? [];
        int[] lengths = Lengths(data, batch);

        float[] input = data.ReadSingles(x);
        long[] outputShape = layout == SequenceLayout.TimeMajor ? [steps, batch, spec.OutputSize] : [batch, steps, spec.OutputSize];
        var writer = new SafetensorsWriter().AddMetadata("model", model.Description);
        string engine;
        float[]? headOutput = null;
        if (data.Contains("grad_output") || data.Contains("grad_h_n") || data.Contains("grad_c_n"))
        {
            LstmGradients gradients = model.Gradients(input, steps, batch, model.IsCell ? [] : Optional(data, "grad_output", outputShape) ?? [],
                Optional(data, "grad_h_n", hShape) ?? [], Optional(data, "grad_c_n", cShape) ?? [], h0, c0, lengths, layout);
            engine = $"SIMD backward ({KernelSelector.Resolve(KernelPath.Auto)})";
            if (!model.IsCell) writer.Add("output", gradients.Output, outputShape);
            writer.Add("h_n", gradients.HiddenState, hShape).Add("c_n", gradients.CellState, cShape);
            PyTorchStateDict.AddTo(writer, gradients.Parameters, "grad.", model.IsCell);
            writer.Add("grad.input", gradients.Input, [.. x.Shape]).Add("grad.h0", gradients.H0, hShape).Add("grad.c0", gradients.C0, cShape);
            headOutput = model.ApplyHead(model.IsCell ? gradients.HiddenState : gradients.Output, steps, batch);
        }
        else
        {
            ImportedRun run = model.Run(input, steps, batch, h0, c0, lengths, layout,
                weights is null ? null : new LstmModelOptions { Weights = weights.Value });
            engine = $"fast path ({run.KernelPath}, {WeightsOption.NameOf(run.WeightFormat)} weights)";
            if (!model.IsCell) writer.Add("output", run.Output, outputShape);
            writer.Add("h_n", run.HiddenState, hShape).Add("c_n", run.CellState, cShape);
            headOutput = run.HeadOutput;
        }

        if (headOutput is not null)
        {
            int outputs = model.Head!.OutputSize;
            writer.Add("head_output", headOutput, model.IsCell ? [batch, outputs] : layout == SequenceLayout.TimeMajor ? [steps, batch, outputs] : [batch, steps, outputs]);
        }

        writer.AddMetadata("engine", engine);

        writer.Save(outputPath);
        return $"{model.Description}\nran T={steps} B={batch} on the {engine}\nwrote {string.Join(", ", writer.Names)} to {outputPath}";
    }

    /// <summary>The state_dict's nn.GRU, or null when the file is not a PyTorch state_dict of one (an LstmSimd file, an nn.LSTM).</summary>
    private static GruWeights? GruStateDict(string path, string? prefix)
    {
        using SafetensorsFile file = PyTorchStateDict.Open(path);
        return !LstmModelFile.IsModelFile(file) && PyTorchStateDict.IsGru(file, prefix) ? PyTorchStateDict.ImportGru(file, prefix) : null;
    }

    /// <summary>An nn.GRU over the input file's 'input' (optional 'h0', 'lengths'): writes 'output' and 'h_n' in PyTorch's shapes.</summary>
    private static string RunGru(GruWeights weights, string modelPath, string inputPath, bool batchFirst, string outputPath, WeightFormat? format)
    {
        GruSpec spec = weights.Spec;
        SequenceLayout layout = batchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor;
        using SafetensorsFile data = SafetensorsFile.Open(inputPath);
        foreach (string name in new[] { "c0", "grad_output", "grad_h_n", "grad_c_n" })
        {
            if (data.Contains(name))
                throw new NotSupportedException($"'{inputPath}' holds '{name}': a GRU has no cell state, and the tool runs GRUs forward only; remove it.");
        }

        (SafetensorsTensorInfo x, int steps, int batch) = Sequence(data, inputPath, layout, spec.InputSize, cell: false);
        long[] hShape = [spec.LayerDirections, batch, spec.HiddenSize];
        float[] h0 = Optional(data, "h0", hShape) ?? [];
        int[] lengths = Lengths(data, batch);
        GruModel model = GruModel.Create(weights, format is WeightFormat f ? new LstmModelOptions { Weights = f } : null);
        float[] output = new float[checked(steps * batch * spec.OutputSize)], hN = new float[checked(spec.LayerDirections * batch * spec.HiddenSize)];
        using (GruSession session = model.CreateSession(batch, steps))
            session.Forward(data.ReadSingles(x), steps, batch, output, hN, h0, lengths, layout);

        string description = $"PyTorch nn.GRU in {Path.GetFileName(modelPath)}: {spec.NumLayers}-layer {(spec.Bidirectional ? "bidirectional " : "")}GRU, input {spec.InputSize}, hidden {spec.HiddenSize}{(spec.Bias ? "" : ", no bias")}";
        string engine = $"fast path ({model.KernelPath}, {WeightsOption.NameOf(model.WeightFormat)} weights)";
        var writer = new SafetensorsWriter().AddMetadata("model", description).AddMetadata("engine", engine)
            .Add("output", output, layout == SequenceLayout.TimeMajor ? [steps, batch, spec.OutputSize] : [batch, steps, spec.OutputSize])
            .Add("h_n", hN, hShape);
        writer.Save(outputPath);
        return $"{description}\nran T={steps} B={batch} on the {engine}\nwrote {string.Join(", ", writer.Names)} to {outputPath}";
    }

    /// <summary>'input' checked against the model: [T, B, I] or [B, T, I] (a cell: [B, I]), at least one step and one sequence.</summary>
    private static (SafetensorsTensorInfo X, int Steps, int Batch) Sequence(SafetensorsFile data, string inputPath, SequenceLayout layout, int inputSize, bool cell)
    {
        SafetensorsTensorInfo x = data.TryGetTensor("input", out SafetensorsTensorInfo? xi) ? xi : throw new ArgumentException($"'{inputPath}' holds no tensor named 'input'.");
        int steps, batch;
        if (cell)
        {
            if (x.Shape.Count != 2) throw new ArgumentException($"An LSTMCell takes 'input' [B, I]; got {x.ShapeText}.");
            (steps, batch) = (1, Dim(x, 0));
        }
        else
        {
            if (x.Shape.Count != 3) throw new ArgumentException($"'input' must be [T, B, I] (or [B, T, I] batch-first); got {x.ShapeText}.");
            (steps, batch) = layout == SequenceLayout.TimeMajor ? (Dim(x, 0), Dim(x, 1)) : (Dim(x, 1), Dim(x, 0));
        }

        if (x.Shape[^1] != inputSize) throw new ArgumentException($"'input' has {x.Shape[^1]} features; the model takes {inputSize}.");
        if (batch == 0) throw new ArgumentException("'input' holds an empty batch.");

        // With a time step or more, the batch is bounded by the input's own data, which the file must hold; a zero-step
        // input holds none, so its batch could ask for outputs and states of any size.
        if (steps == 0) throw new ArgumentException($"'input' has shape {x.ShapeText}: no time steps to run.");
        return (x, steps, batch);
    }

    private static int[] Lengths(SafetensorsFile data, int batch)
    {
        if (!data.TryGetTensor("lengths", out SafetensorsTensorInfo? li)) return [];
        if (!li.HasShape(batch)) throw new ArgumentException($"'lengths' has shape {li.ShapeText}; expected [{batch}].");
        return [.. data.ReadInt64s("lengths").Select(v => v is >= 0 and <= int.MaxValue ? (int)v : throw new ArgumentException($"A length {v} is out of range."))];
    }

    private static float[]? Optional(SafetensorsFile data, string name, long[] shape)
    {
        if (!data.TryGetTensor(name, out SafetensorsTensorInfo? t)) return null;
        if (!t.HasShape(shape)) throw new ArgumentException($"'{name}' has shape {t.ShapeText}; expected [{string.Join(", ", shape)}].");
        return data.ReadSingles(t);
    }

    private static int Dim(SafetensorsTensorInfo t, int axis) =>
        t.Shape[axis] <= int.MaxValue ? (int)t.Shape[axis] : throw new ArgumentException($"'{t.Name}' dimension {axis} is too large.");
}
