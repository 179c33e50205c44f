using System.Buffers.Binary;
using System.IO.Compression;
using LstmSimd.IO;
using LstmSimd.IO.Onnx;
using LstmSimd.IO.Onnx.Graph;
using LstmSimd.IO.TorchSave;
using LstmSimd.Keras;

namespace LstmSimd.Tests.IO;

/// <summary>
/// What a user's <c>lstmsimd run</c> does with a model file, from bytes: parse, read every tensor, import, build the fast
/// model and run one small forward pass. Shared by the mutation fuzz test and the coverage-guided fuzz targets
/// (perf/LstmSimd.Fuzz), which treat any exception other than a <see cref="ModelFormatException"/> or an
/// <see cref="IsRefusal"/> one as a bug.
/// </summary>
public static class FuzzPipeline
{
    /// <summary>
    /// Refusals other than <see cref="ModelFormatException"/> that the pipeline may give for a well-formed file: the fast
    /// path cannot build or run what it holds (<see cref="ArgumentException"/>), a model uses what is not supported
    /// (<see cref="NotSupportedException"/>), or a ReLU cell's state outgrows fp32 (<see cref="OverflowException"/>).
    /// </summary>
    public static bool IsRefusal(Exception e) => e is ArgumentException or NotSupportedException or OverflowException;

    /// <summary>A safetensors file: an LstmSimd model file, a Keras export or a PyTorch state_dict, whichever it looks like.</summary>
    public static void RunSafetensors(byte[] file)
    {
        using SafetensorsFile st = SafetensorsFile.Parse(file);
        foreach (SafetensorsTensorInfo t in st.Tensors)
        {
            if (t.Dtype.IsFloatingPoint() || t.Dtype.IsInteger()) st.ReadSingles(t);
        }

        ImportedLstm model;
        if (LstmModelFile.IsModelFile(st)) model = LstmModelFile.Load(st);
        else if (st.Tensors.Any(t => t.Name.EndsWith("kernel", StringComparison.Ordinal) && !t.Name.Contains("recurrent", StringComparison.Ordinal)))
            model = KerasLstm.Import(st, "lstm/");
        else model = PyTorchStateDict.Import(st);
        RunOnce(model);
    }

    /// <summary>
    /// The pickle of a <c>torch.save</c> file, zipped as torch.save zips it with sixteen zero-filled storages named 0 to 15
    /// (4 KiB each), then read and run as a PyTorch state_dict: a mutated pickle reaches the unpickler instead of failing
    /// the zip's checksum.
    /// </summary>
    public static void RunTorchPickle(byte[] pickle)
    {
        var storages = new Dictionary<string, byte[]>();
        for (int key = 0; key < 16; key++) storages[key.ToString(System.Globalization.CultureInfo.InvariantCulture)] = new byte[4096];
        using SafetensorsFile st = PyTorchFile.Read(new MemoryStream(TorchZip(pickle, storages)));
        RunOnce(PyTorchStateDict.Import(st));
    }

    /// <summary>A zip laid out as torch.save lays it out: archive/data.pkl, archive/data/KEY, archive/version.</summary>
    public static byte[] TorchZip(byte[] pickle, Dictionary<string, byte[]> storages)
    {
        var memory = new MemoryStream();
        using (var zip = new ZipArchive(memory, ZipArchiveMode.Create, leaveOpen: true))
        {
            void Add(string name, byte[] bytes)
            {
                using Stream s = zip.CreateEntry("archive/" + name, CompressionLevel.NoCompression).Open();
                s.Write(bytes);
            }

            Add("data.pkl", pickle);
            foreach ((string key, byte[] bytes) in storages) Add("data/" + key, bytes);
            Add("version", "3\n"u8.ToArray());
        }

        return memory.ToArray();
    }

    /// <summary>The data.pkl of a torch.save file.</summary>
    public static byte[] TorchPickleOf(string path)
    {
        using ZipArchive zip = ZipFile.OpenRead(path);
        using Stream s = zip.Entries.Single(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)).Open();
        var copy = new MemoryStream();
        s.CopyTo(copy);
        return copy.ToArray();
    }

    /// <summary>A file read as an LstmSimd model file, whatever it holds.</summary>
    public static void RunModelFile(byte[] file)
    {
        using SafetensorsFile st = SafetensorsFile.Parse(file);
        RunOnce(LstmModelFile.Load(st));
    }

    /// <summary>
    /// An ONNX model through the graph runner, as <c>lstmsimd run</c> takes it: loaded (every node that reaches an output
    /// checked), then planned and run on zeros at two small shapes; a dimension the graph leaves open is 1, then 3.
    /// </summary>
    public static void RunOnnx(byte[] file)
    {
        using OnnxGraph graph = OnnxGraph.Create(OnnxModel.Parse(file), new OnnxGraphOptions { MaxValueElements = 1 << 16 });
        if (graph.Inputs.Any(input => input.Shape is null || input.Shape.Any(d => d.Value is < 0 or > 64))) return;
        foreach (int open in (int[])[1, 3])
            graph.Run([.. graph.Inputs.Select(input => Zeros(input, open))]);
    }

    private static OnnxTensor Zeros(OnnxValueInfo input, int open)
    {
        int[] shape = [.. input.Shape!.Select(d => (int)(d.Value ?? open))];
        int count = shape.Aggregate(1, (a, b) => a * b);
        return input.ElementType is 6 or 7 ? OnnxTensor.FromInt64s(input.Name, new long[count], shape) : OnnxTensor.FromFloats(input.Name, new float[count], shape);
    }

    /// <summary>A Keras .keras or .h5 file as <c>lstmsimd run</c> takes it: loaded, then run on zeros (token id 0) at B = 2, T = 3.</summary>
    public static void RunKeras(byte[] file)
    {
        KerasModel model = KerasModel.Load(new MemoryStream(file, writable: false));
        model.Run(new float[2 * 3 * Math.Max(model.InputFeatures, 1)], batch: 2, steps: 3);
    }

    /// <summary>
    /// A TensorFlow.js layers model packed into one input (see <see cref="PackTensorFlowJs"/>): its <c>model.json</c> and
    /// one weight shard are written to a folder of this process's own and loaded by path, as a user loads them.
    /// </summary>
    public static void RunTensorFlowJs(byte[] packed)
    {
        int jsonLength = packed.Length < 4 ? 0 : (int)Math.Min(BinaryPrimitives.ReadUInt32LittleEndian(packed), (uint)(packed.Length - 4));
        string folder = _tensorFlowJsFolder ??= Directory.CreateTempSubdirectory("lstmsimd-fuzz-tfjs-").FullName;
        File.WriteAllBytes(Path.Combine(folder, "model.json"), packed.AsSpan(Math.Min(4, packed.Length), jsonLength).ToArray());
        File.WriteAllBytes(Path.Combine(folder, TensorFlowJsShard), packed.AsSpan(Math.Min(4 + jsonLength, packed.Length)).ToArray());
        KerasModel model = KerasModel.Load(Path.Combine(folder, "model.json"));
        model.Run(new float[2 * 3 * Math.Max(model.InputFeatures, 1)], batch: 2, steps: 3);
    }

    /// <summary>The input of <see cref="RunTensorFlowJs"/>: the length of <c>model.json</c> (4 bytes, little-endian), its bytes, then the shard's.</summary>
    public static byte[] PackTensorFlowJs(byte[] modelJson, byte[] shard)
    {
        byte[] packed = new byte[4 + modelJson.Length + shard.Length];
        BinaryPrimitives.WriteUInt32LittleEndian(packed, (uint)modelJson.Length);
        modelJson.CopyTo(packed, 4);
        shard.CopyTo(packed, 4 + modelJson.Length);
        return packed;
    }

    /// <summary>The one shard a packed TensorFlow.js input holds (the name tensorflowjs gives a model's only shard).</summary>
    public const string TensorFlowJsShard = "group1-shard1of1.bin";

    private static string? _tensorFlowJsFolder;

    /// <summary>Builds the fast model and runs it once at a small shape as <c>lstmsimd run</c> does (zero input; state, lengths and layout from the file).</summary>
    public static void RunOnce(ImportedLstm model)
    {
        LstmSpec spec = model.Weights.Spec;
        int ld = spec.NumLayers * spec.Directions;
        // Constant initial states or lengths in the file fix the batch; tensors that disagree must be refused by Forward.
        int batch = model.SequenceLengths.Length > 0 ? model.SequenceLengths.Length
            : model.InitialHidden.Length > 0 ? Math.Max(1, model.InitialHidden.Length / Math.Max(1, ld * spec.OutputHiddenSize))
            : 2;
        int steps = model.IsCell ? 1 : Math.Clamp(model.SequenceLengths.DefaultIfEmpty(3).Max(), 1, 8);
        model.Run(new float[(long)steps * batch * spec.InputSize], steps, batch);
    }
}
