using System.Globalization;
using System.IO.Compression;

namespace LstmSimd.IO.TorchSave;

/// <summary>
/// Reads what <c>torch.save(model.state_dict(), "m.pt")</c> writes (the zip format of PyTorch 1.6 and later:
/// <c>data.pkl</c> and one file per storage under <c>data/</c>) as <c>torch.load(weights_only=True)</c> would, and
/// hands its tensors over as a <see cref="SafetensorsFile"/>, so everything that takes a PyTorch state_dict
/// (<see cref="PyTorchStateDict"/>, prefixes, heads) takes a <c>.pt</c> file too. Tensors are copied out of their
/// storages honouring sizes, strides and offsets (views and shared storages included), in their own dtype. A
/// checkpoint dictionary that keeps the state_dict under a key (<c>{"model": model.state_dict(), "epoch": 3}</c>) is
/// flattened: its tensors are named <c>model.lstm.weight_ih_l0</c>, and values that are not tensors are left out.
/// Refused with a <see cref="ModelFormatException"/> naming the problem: the legacy format of PyTorch before 1.6, a
/// pickled whole module (<c>torch.save(model)</c>), any global a state_dict does not hold, big-endian files, and views
/// that reach past their storage.
/// </summary>
/// <remarks>
/// The pickle is read by a purpose-built reader of the opcodes and the handful of globals a state_dict uses rather than
/// a general unpickler wrapped in an allow-list: it builds nothing it is not asked for, charges every object against a
/// budget proportional to the pickle's size, and its whole surface is one file to review.
/// </remarks>
internal static class PyTorchFile
{
    /// <summary>Nested dictionaries followed when flattening a checkpoint (model, state_dict, …).</summary>
    private const int MaxNesting = 8;

    /// <summary>The zip's uncompressed bytes may exceed the file's by this factor at most (deflate's best ratio is about 1,032).</summary>
    private const long MaxExpansion = 1032;

    /// <summary>
    /// Whether <paramref name="stream"/> starts, from its current position, as <c>torch.save</c> files do (the position is
    /// restored): a zip header, or the pickled magic number of the legacy format (which <see cref="Read"/> refuses with how
    /// to convert it). A safetensors file starts with its header's length, which neither can be.
    /// </summary>
    internal static bool StartsLikeTorchSave(Stream stream)
    {
        Span<byte> magic = stackalloc byte[LegacyMagic.Length];
        long start = stream.Position;
        int read = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        stream.Position = start;
        return IsZip(magic[..read]) || magic[..read].SequenceEqual(LegacyMagic);
    }

    /// <summary>The tensors of the state_dict in <paramref name="path"/>, as a safetensors file held in memory.</summary>
    /// <exception cref="ModelFormatException">The file is not a state_dict saved by <c>torch.save</c> in the zip format, or is malformed or hostile.</exception>
    public static SafetensorsFile Open(string path)
    {
        ArgumentException.ThrowIfNullOrEmpty(path);
        string source = UserText.Quote(path);
        using FileStream file = RegularFile.OpenRead(path, problem => new ModelFormatException($"{source} {problem}; a model is read from a regular file."));
        return Read(file, source);
    }

    /// <summary>The tensors of a state_dict saved by <c>torch.save</c>, read from <paramref name="stream"/> (readable and seekable).</summary>
    /// <exception cref="ModelFormatException">The stream does not hold a state_dict in the zip format, or it is malformed or hostile.</exception>
    public static SafetensorsFile Read(Stream stream, string source = "the PyTorch file")
    {
        ArgumentNullException.ThrowIfNull(stream);
        if (!stream.CanSeek || !stream.CanRead) throw new ArgumentException("The stream must be readable and seekable.", nameof(stream));
        Span<byte> magic = stackalloc byte[LegacyMagic.Length];
        long start = stream.Position;
        int read = stream.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        stream.Position = start;
        if (!IsZip(magic[..read]))
        {
            throw new ModelFormatException(magic[..read].SequenceEqual(LegacyMagic)
                ? $"{source} is in the legacy torch.save format of PyTorch before 1.6; load it with PyTorch and save it again (torch.save(torch.load(path), path)) to get the zip format."
                : $"{source} is not a PyTorch file saved by torch.save (no zip header).");
        }

        try
        {
            using var zip = new ZipArchive(stream, ZipArchiveMode.Read, leaveOpen: true);
            return ReadZip(zip, source, stream.Length - start);
        }
        catch (InvalidDataException e)
        {
            throw new ModelFormatException($"{source} is not a readable zip file: {e.Message}", e);
        }
    }

    private static SafetensorsFile ReadZip(ZipArchive zip, string source, long fileLength)
    {
        // Every entry sits under one folder named after the file when it was saved: <root>/data.pkl, <root>/data/<key>.
        ZipArchiveEntry[] pickles = [.. zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal) && e.FullName.Count(c => c == '/') == 1)];
        if (pickles is not [ZipArchiveEntry pickle])
            throw new ModelFormatException($"{source} is a zip file with {pickles.Length} <folder>/data.pkl entries, not one: not a file torch.save wrote.");
        string root = pickle.FullName[..^"data.pkl".Length];
        var entries = new Dictionary<string, ZipArchiveEntry>(StringComparer.Ordinal);
        foreach (ZipArchiveEntry e in zip.Entries.Where(e => e.FullName.StartsWith(root, StringComparison.Ordinal)))
        {
            if (!entries.TryAdd(e.FullName, e))
                throw new ModelFormatException($"{source}: the zip holds two entries named {UserText.Quote(e.FullName)}.");
        }
        if (entries.TryGetValue(root + "byteorder", out ZipArchiveEntry? order) && Text(order, source).Trim() != "little")
            throw new ModelFormatException($"{source} was saved on a big-endian machine; only little-endian files are read.");

        long budget = Math.Min(int.MaxValue, SafeMultiply(Math.Max(fileLength, 1), MaxExpansion));
        Dictionary<object, object> top = StateDictPickle.Load(ReadEntry(pickle, source, ref budget), source);
        var tensors = new List<(string Name, PickledTensor Tensor)>();
        Flatten(top, "", 0, tensors, new HashSet<object>(ReferenceEqualityComparer.Instance));
        if (tensors.Count == 0) throw new ModelFormatException($"{source} holds no tensors.");

        var storages = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        var names = new HashSet<string>(StringComparer.Ordinal);
        var writer = new SafetensorsWriter();
        foreach ((string name, PickledTensor tensor) in tensors)
        {
            if (!names.Add(name)) throw new ModelFormatException($"{source}: two tensors are named {UserText.Quote(name)} (a key with dots beside a nested dictionary).");
            PickledStorage storage = tensor.Storage;
            if (!storages.TryGetValue(storage.Key, out byte[]? bytes))
            {
                ZipArchiveEntry entry = entries.GetValueOrDefault(root + "data/" + storage.Key)
                    ?? throw new ModelFormatException($"{source}: tensor {UserText.Quote(name)} names storage {UserText.Quote(storage.Key)}, which the zip does not hold.");
                bytes = ReadEntry(entry, source, ref budget);
                storages[storage.Key] = bytes;
            }

            int size = storage.Dtype.Size();
            if (bytes.Length / size < storage.Elements)
                throw new ModelFormatException(string.Create(CultureInfo.InvariantCulture, $"{source}: storage {UserText.Quote(storage.Key)} holds {bytes.Length} bytes, fewer than its {storage.Elements} elements of {storage.Dtype}."));

            // A view may repeat its storage's elements (stride 0), so its copy is charged to the budget like an entry.
            long copied = SafeMultiply(tensor.Shape.Aggregate(1L, (a, d) => d == 0 ? 0 : SafeMultiply(a, d)), size);
            if (copied > budget)
            {
                throw new ModelFormatException(string.Create(CultureInfo.InvariantCulture,
                    $"{source}: tensor {UserText.Quote(name)} of shape [{string.Join(", ", tensor.Shape)}] needs {copied} bytes, more than the file's size allows ({budget} bytes left)."));
            }

            budget -= copied;
            writer.AddRaw(name, storage.Dtype, Gather(tensor, bytes, size), tensor.Shape);
        }

        SafetensorsFile file = SafetensorsFile.Parse(writer.ToArray());
        file.ReadFromTorchSave = true;
        return file;
    }

    /// <summary>Names every tensor of nested dictionaries by the keys leading to it, joined with dots (a state_dict's own names have no prefix).</summary>
    private static void Flatten(Dictionary<object, object> dictionary, string prefix, int depth, List<(string, PickledTensor)> tensors, HashSet<object> seen)
    {
        if (depth > MaxNesting || !seen.Add(dictionary)) return;
        foreach ((object key, object value) in dictionary)
        {
            string name = prefix + Convert.ToString(key, CultureInfo.InvariantCulture);
            if (value is PickledTensor tensor) tensors.Add((name, tensor));
            else if (value is Dictionary<object, object> inner) Flatten(inner, name + ".", depth + 1, tensors, seen);
        }
    }

    /// <summary>
    /// The tensor's elements in row-major order, copied out of its storage by its strides: a row at a time when the last
    /// dimension is contiguous (as in nearly every saved tensor), an element at a time otherwise.
    /// </summary>
    private static byte[] Gather(PickledTensor tensor, byte[] storage, int size)
    {
        long[] shape = tensor.Shape, strides = tensor.Strides;
        long count = shape.Aggregate(1L, (a, d) => a * d); // charged to the budget before this is called, so it fits
        var result = new byte[count * size];
        if (count == 0) return result;
        int rank = shape.Length;
        bool rows = rank > 0 && strides[rank - 1] == 1;
        int outerRank = rows ? rank - 1 : rank, chunk = (int)((rows ? shape[rank - 1] : 1) * size);
        long[] index = new long[outerRank];
        long source = tensor.Offset;
        for (int written = 0; written < result.Length; written += chunk)
        {
            Buffer.BlockCopy(storage, checked((int)(source * size)), result, written, chunk);
            for (int axis = outerRank - 1; axis >= 0; axis--)
            {
                source += strides[axis];
                if (++index[axis] < shape[axis]) break;
                source -= strides[axis] * shape[axis];
                index[axis] = 0;
            }
        }

        return result;
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, string source, ref long budget)
    {
        long length = entry.Length;
        if (length > budget)
        {
            throw new ModelFormatException(string.Create(CultureInfo.InvariantCulture,
                $"{source}: zip entry {UserText.Quote(entry.FullName)} declares {length} bytes, more than the file's size allows ({budget} bytes left)."));
        }

        budget -= length;
        var bytes = new byte[length];
        using Stream stream = entry.Open();
        int read = stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false);
        if (read != length || stream.ReadByte() >= 0)
            throw new ModelFormatException($"{source}: zip entry {UserText.Quote(entry.FullName)} does not hold the {length} bytes it declares.");
        return bytes;
    }

    private static string Text(ZipArchiveEntry entry, string source)
    {
        long budget = 64;
        return System.Text.Encoding.ASCII.GetString(ReadEntry(entry, source, ref budget));
    }

    private static bool IsZip(ReadOnlySpan<byte> magic) => magic is [(byte)'P', (byte)'K', 3, 4, ..];

    /// <summary>The legacy format opens with PROTO 2 and its magic number 0x1950a86a20f9469cfc6c as a LONG1.</summary>
    private static ReadOnlySpan<byte> LegacyMagic => [0x80, 0x02, 0x8a, 0x0a, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19];

    private static long SafeMultiply(long a, long b) => a > long.MaxValue / b ? long.MaxValue : a * b;
}
