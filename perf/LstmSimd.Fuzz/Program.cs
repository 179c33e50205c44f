using LstmSimd.IO;
using LstmSimd.Tests.IO;
using SharpFuzz;

// One AFL++ target per file format: `dotnet LstmSimd.Fuzz.dll safetensors|modelfile|onnx|torchpickle|keras|tfjs` reads each input AFL++ gives it,
// loads and runs it as `lstmsimd run` would, and lets every exception that is not a typed refusal crash the process,
// which AFL++ records as a finding. `seed-modelfile IN OUT` turns a PyTorch state_dict into an LstmSimd model file for
// the model-file corpus; `seed-tfjs FOLDER OUT` packs a TensorFlow.js model of one shard into a tfjs input.
if (args is ["seed-tfjs", string folder, string packed])
{
    string shard = Path.Combine(folder, FuzzPipeline.TensorFlowJsShard);
    if (!File.Exists(shard) || Directory.GetFiles(folder, "*.bin").Length != 1) return 1;
    File.WriteAllBytes(packed, FuzzPipeline.PackTensorFlowJs(File.ReadAllBytes(Path.Combine(folder, "model.json")), File.ReadAllBytes(shard)));
    return 0;
}

if (args is ["seed-modelfile", string from, string to])
{
    try
    {
        using SafetensorsFile state = SafetensorsFile.Open(from);
        ImportedLstm imported = PyTorchStateDict.Import(state);
        LstmModelFile.Save(to, imported.Weights, imported.Head, imported.StoredWeightFormat);
        return 0;
    }
    catch (ModelFormatException e)
    {
        Console.Error.WriteLine($"{from}: not a state_dict ({e.Message})");
        return 1;
    }
}

Action<byte[]>? target = args is [string name] ? name switch
{
    "safetensors" => FuzzPipeline.RunSafetensors,
    "modelfile" => FuzzPipeline.RunModelFile,
    "onnx" => FuzzPipeline.RunOnnx,
    "torchpickle" => FuzzPipeline.RunTorchPickle,
    "keras" => FuzzPipeline.RunKeras,
    "tfjs" => FuzzPipeline.RunTensorFlowJs,
    // Planted faults prove the harness: AFL++ must report a crash (or a hang) within a minute, or a clean campaign
    // of the real targets would mean nothing.
    // Short inputs take their own path through the instrumented parser, so coverage leads AFL++ there.
    "planted-crash" => data => { if (data.Length < 16) throw new InvalidOperationException("planted crash"); FuzzPipeline.RunSafetensors(data); },
    "planted-hang" => data => { if (data.Length < 16) Thread.Sleep(Timeout.Infinite); FuzzPipeline.RunSafetensors(data); },
    _ => null,
} : null;
if (target is null)
{
    Console.Error.WriteLine("usage: LstmSimd.Fuzz safetensors|modelfile|onnx|torchpickle|keras|tfjs|planted-crash|planted-hang   (under afl-fuzz)\n       LstmSimd.Fuzz seed-modelfile IN.safetensors OUT.safetensors\n       LstmSimd.Fuzz seed-tfjs FOLDER OUT");
    return 2;
}

Fuzzer.OutOfProcess.Run(stream =>
{
    using var copy = new MemoryStream();
    stream.CopyTo(copy);
    try
    {
        target(copy.ToArray());
    }
    catch (Exception e) when (e is ModelFormatException || FuzzPipeline.IsRefusal(e))
    {
        // A typed refusal: the outcome a malformed file should have.
    }
});
return 0;
