using System.Globalization;
using PureHDF;

namespace LstmSimd.Keras;

/// <summary>One saved weight array of a layer: its name in the file and its shape.</summary>
internal record StoredArray(string Name, long[] Shape);

/// <summary>A weight array in an HDF5 file.</summary>
internal sealed record Hdf5Array(string Name, IH5Dataset Dataset, long[] Shape) : StoredArray(Name, Shape);

/// <summary>
/// The weight arrays of each layer, in the order Keras saves them. No array is read before its shape is checked against
/// what the layer needs; each store checks its size against what the file can hold before reading it.
/// </summary>
internal abstract class KerasWeightStore : IDisposable
{
    /// <summary>
    /// The layer's arrays in Keras's order (an LSTM: kernel, recurrent_kernel, bias; a Bidirectional: the forward
    /// layer's, then the backward layer's; Dense: kernel, bias; Embedding: embeddings).
    /// </summary>
    public abstract IReadOnlyList<StoredArray> Arrays(KerasLayerConfig layer);

    /// <summary>Reads an array whose shape must be <paramref name="expected"/> (−1: any size), as float32.</summary>
    public float[] Read(KerasLayerConfig layer, StoredArray array, params long[] expected)
    {
        string what = $"layer '{KerasConfig.Printable(layer.Name)}' weight '{KerasConfig.Printable(array.Name)}'";
        bool fits = array.Shape.Length == expected.Length;
        for (int i = 0; fits && i < expected.Length; i++) fits = expected[i] < 0 || expected[i] == array.Shape[i];
        if (!fits)
            throw new KerasFormatException($"{what} has shape [{string.Join(", ", array.Shape)}]; the layer's config needs [{string.Join(", ", expected.Select(e => e < 0 ? "?" : e.ToString(CultureInfo.InvariantCulture)))}].");
        long elements = 1;
        foreach (long d in array.Shape) elements = d == 0 ? 0 : elements <= Array.MaxLength / d ? elements * d : long.MaxValue;
        if (elements > Array.MaxLength) throw new KerasFormatException($"{what} claims {elements} elements, more than the file can hold.");
        float[] values = ReadValues(what, array, elements);
        if (values.Length != elements) throw new KerasFormatException($"{what} holds {values.Length} values for shape [{string.Join(", ", array.Shape)}].");
        return values;
    }

    /// <summary>The array's <paramref name="elements"/> values as float32, its size checked against what the file holds first.</summary>
    protected abstract float[] ReadValues(string what, StoredArray array, long elements);

    public abstract void Dispose();
}

/// <summary>
/// A weight store in an HDF5 file opened with PureHDF. Every PureHDF failure becomes a <see cref="KerasFormatException"/>.
/// </summary>
internal abstract class Hdf5WeightStore(IDisposable file, long fileLength) : KerasWeightStore
{
    /// <summary>Deflate expands at most about 1032 to 1: no array can be larger than this many times the file.</summary>
    private const long MaxExpansion = 1100;

    protected override float[] ReadValues(string what, StoredArray array, long elements) => Guard(what, () =>
    {
        IH5Dataset dataset = ((Hdf5Array)array).Dataset;
        IH5DataType type = dataset.Type;
        if (type.Class != H5DataTypeClass.FloatingPoint || type.Size is not (2 or 4 or 8))
            throw new KerasFormatException($"{what} is stored as {type.Class} of {type.Size} bytes; LstmSimd reads float16, float32 and float64 weights.");
        if (elements * type.Size > Math.Max(fileLength, 1 << 20) * MaxExpansion)
            throw new KerasFormatException($"{what} claims {elements} elements, more than the file can hold.");
        return type.Size switch
        {
            4 => dataset.Read<float[]>(),
            2 => [.. dataset.Read<Half[]>().Select(h => (float)h)],
            _ => [.. dataset.Read<double[]>().Select(d => (float)d)],
        };
    });

    public override void Dispose() => file.Dispose();

    protected static T Guard<T>(string what, Func<T> read) => NativeFileHandle.Guard(what, read);

    protected static StoredArray Describe(string name, IH5Dataset dataset) =>
        new Hdf5Array(name, dataset, Guard($"'{KerasConfig.Printable(name)}'", () =>
        {
            if (dataset.Space.Type == H5DataspaceType.Scalar) return [];
            return dataset.Space.Dimensions.Select(d => d <= long.MaxValue ? (long)d : throw new KerasFormatException($"'{KerasConfig.Printable(name)}' has a dimension of {d}.")).ToArray();
        }));

    /// <summary>Keras 3's <c>model.weights.h5</c>: <c>&lt;layer path&gt;/vars/0, 1, …</c> (an LSTM's or GRU's under its <c>cell</c>).</summary>
    internal sealed class Keras3(NativeFileHandle file, long fileLength) : Hdf5WeightStore(file, fileLength)
    {
        public override IReadOnlyList<StoredArray> Arrays(KerasLayerConfig layer) => layer.ClassName switch
        {
            "LSTM" or "GRU" => Vars(layer.WeightPath + "/cell/vars"),
            "Bidirectional" => [.. Vars(layer.WeightPath + "/forward_layer/cell/vars"), .. Vars(layer.WeightPath + "/backward_layer/cell/vars")],
            _ => Vars(layer.WeightPath + "/vars"),
        };

        private List<StoredArray> Vars(string path) => Guard($"'{path}'", () =>
        {
            if (!file.Root.LinkExists(path)) return [];
            var vars = (IH5Group)file.Root.Get(path);
            var arrays = new List<StoredArray>();
            for (int i = 0; vars.LinkExists(i.ToString(CultureInfo.InvariantCulture)); i++)
            {
                if (i >= 64) throw new KerasFormatException($"'{path}' holds more variables than a layer has.");
                string name = $"{path}/{i}";
                arrays.Add(Describe(name, vars.Get(i.ToString(CultureInfo.InvariantCulture)) as IH5Dataset ?? throw new KerasFormatException($"'{name}' is not a dataset.")));
            }

            return arrays;
        });
    }

    /// <summary>Legacy .h5: <c>model_weights/&lt;layer name&gt;</c> with attribute <c>weight_names</c> listing its datasets in order.</summary>
    internal sealed class Legacy(NativeFileHandle file, long fileLength) : Hdf5WeightStore(file, fileLength)
    {
        public override IReadOnlyList<StoredArray> Arrays(KerasLayerConfig layer) => Guard($"layer '{KerasConfig.Printable(layer.Name)}'", () =>
        {
            var weights = (IH5Group)file.Root.Get("model_weights");
            if (!weights.LinkExists(layer.Name)) return [];
            var group = (IH5Group)weights.Get(layer.Name);
            List<string> names = file.StringList(group, "weight_names");
            return (IReadOnlyList<StoredArray>)[.. names.Select(n => Describe(n, group.Get(n) as IH5Dataset ?? throw new KerasFormatException($"'{KerasConfig.Printable(n)}' of layer '{KerasConfig.Printable(layer.Name)}' is not a dataset.")))];
        });
    }
}

/// <summary>An open HDF5 file and its root group, with the attribute reads Keras's files need.</summary>
internal sealed class NativeFileHandle : IDisposable
{
    private readonly IDisposable _file;

    private NativeFileHandle(IDisposable file, IH5Group root)
    {
        _file = file;
        Root = root;
    }

    public IH5Group Root { get; }

    public static NativeFileHandle Open(Stream stream, string where)
    {
        try
        {
            return Guard(where, () =>
            {
                var file = H5File.Open(stream, leaveOpen: false);
                return new NativeFileHandle(file, file);
            });
        }
        catch (KerasFormatException)
        {
            stream.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs PureHDF calls, turning their failures on a damaged file into <see cref="KerasFormatException"/>: PureHDF throws
    /// plain exceptions (and index, cast and overflow errors), and allocates some buffers at sizes read from the file before
    /// checking them, so a corrupt size surfaces as an <see cref="OutOfMemoryException"/>; the file is tiny next to such a
    /// claim, so that too is reported as a damaged file.
    /// </summary>
    public static T Guard<T>(string what, Func<T> read)
    {
        try
        {
            return read();
        }
        catch (KerasFormatException)
        {
            throw;
        }
        catch (OutOfMemoryException e)
        {
            throw new KerasFormatException($"HDF5: {what}: a size in the file is larger than memory allows ({KerasConfig.Printable(e.Message)}); the file is damaged.", e);
        }
        catch (Exception e) when (e is not InsufficientExecutionStackException)
        {
            throw new KerasFormatException($"HDF5: cannot read {what}: {KerasConfig.Printable(e.Message)}", e);
        }
    }

    /// <summary>A string attribute, or null when absent.</summary>
    public static string? StringAttribute(IH5Object owner, string name)
    {
        if (!owner.AttributeExists(name)) return null;
        IH5Attribute attribute = owner.Attribute(name);
        if (!IsString(attribute)) throw new KerasFormatException($"attribute '{name}' is not a string.");
        return attribute.Read<string>();
    }

    /// <summary>
    /// A list of strings saved as Keras's save_attributes_to_hdf5_group saves it: one attribute, or chunks
    /// <c>name0</c>, <c>name1</c>… when it outgrew an object header; an empty list is saved as an empty float array.
    /// </summary>
    public List<string> StringList(IH5Object owner, string name)
    {
        var values = new List<string>();
        if (owner.AttributeExists(name)) return Strings(owner.Attribute(name), name);
        for (int chunk = 0; owner.AttributeExists(name + chunk.ToString(CultureInfo.InvariantCulture)); chunk++)
            values.AddRange(Strings(owner.Attribute(name + chunk.ToString(CultureInfo.InvariantCulture)), name));
        return values;
    }

    private static List<string> Strings(IH5Attribute attribute, string name)
    {
        if (attribute.Space.Type != H5DataspaceType.Scalar && attribute.Space.Dimensions.Length == 1 && attribute.Space.Dimensions[0] == 0) return [];
        if (!IsString(attribute)) throw new KerasFormatException($"attribute '{name}' is not a list of strings.");
        if (attribute.Space.Dimensions.Length != 1 || attribute.Space.Dimensions[0] > 1_000_000) throw new KerasFormatException($"attribute '{name}' is not a list of strings.");
        return [.. attribute.Read<string[]>()];
    }

    /// <summary>Fixed-length strings are HDF5 class String; variable-length ones (h5py's str) class VariableLength.</summary>
    private static bool IsString(IH5Attribute attribute) => attribute.Type.Class is H5DataTypeClass.String or H5DataTypeClass.VariableLength;

    public void Dispose() => _file.Dispose();
}
