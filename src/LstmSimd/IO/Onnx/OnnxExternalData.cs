using System.Globalization;

namespace LstmSimd.IO.Onnx;

/// <summary>
/// ONNX external data: a tensor's bytes in another file named by a <c>location</c> relative to the
/// model's folder. Locations that are absolute, climb with <c>..</c>, or resolve (through symbolic
/// links too) outside the folder are refused, and so are locations that are not regular files (a FIFO
/// would block the loader forever) or lead into a loop of links.
/// </summary>
internal static class OnnxExternalData
{
    public static byte[] Read(OnnxTensorProto tensor, string? directory, long expected)
    {
        string name = SafetensorsFile.Printable(tensor.Name);
        if (directory is null)
            throw new OnnxFormatException($"tensor '{name}' keeps its data in an external file, but the model was not loaded from a folder.");
        if (!tensor.External.TryGetValue("location", out string? location) || location.Length == 0)
            throw new OnnxFormatException($"tensor '{name}' is external but has no location.");
        string full = ResolveInside(directory, location, name);
        long offset = Number(tensor, "offset", 0), length = Number(tensor, "length", -1);
        if (expected > Array.MaxLength) throw new OnnxFormatException($"tensor '{name}' is too large for one array.");
        using FileStream file = RegularFile.OpenRead(full, problem => new OnnxFormatException($"tensor '{name}': external data file '{SafetensorsFile.Printable(location)}' {problem}; it must be a regular file."));
        if (length < 0) length = file.Length - offset;
        if (offset > file.Length || length > file.Length - offset)
            throw new OnnxFormatException($"tensor '{name}': external range [{offset}, {offset}+{length}) runs past the end of '{SafetensorsFile.Printable(location)}' ({file.Length} bytes).");
        if (length != expected)
            throw new OnnxFormatException($"tensor '{name}' {tensor.Shape} needs {expected} bytes; its external data has {length}.");
        var bytes = new byte[length];
        file.Position = offset;
        if (file.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != bytes.Length)
            throw new OnnxFormatException($"tensor '{name}': external data file '{SafetensorsFile.Printable(location)}' shrank while it was read.");
        return bytes;
    }

    internal static string ResolveInside(string directory, string location, string tensorName)
    {
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        string refused = $"tensor '{tensorName}': external data location '{SafetensorsFile.Printable(location)}' leaves the model's folder; refused.";
        if (Path.IsPathRooted(location) || location.Contains('\0', StringComparison.Ordinal))
            throw new OnnxFormatException(refused);
        foreach (string part in location.Split('/', '\\'))
            if (part == "..") throw new OnnxFormatException(refused);
        string full = Path.GetFullPath(Path.Combine(root, location));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw new OnnxFormatException(refused);
        if (RegularFile.Problem(full) is string problem)
            throw new OnnxFormatException($"tensor '{tensorName}': external data file '{SafetensorsFile.Printable(location)}' {problem}; it must be a regular file.");

        // A link inside the folder may point outside it: compare the final targets.
        string realRoot, real;
        try
        {
            realRoot = Resolve(root);
            real = Resolve(full);
        }
        catch (IOException e)
        {
            throw new OnnxFormatException($"tensor '{tensorName}': the symbolic links of external data location '{SafetensorsFile.Printable(location)}' cannot be followed: {e.Message}", e);
        }

        if (!real.StartsWith(realRoot + Path.DirectorySeparatorChar, StringComparison.Ordinal)) throw new OnnxFormatException(refused);
        return real;
    }

    /// <summary>The path with every symbolic link along it followed.</summary>
    private static string Resolve(string path)
    {
        string full = Path.GetFullPath(path);
        string? parent = Path.GetDirectoryName(full);
        string resolvedParent = parent is null ? "" : Resolve(parent);
        string joined = parent is null ? full : Path.Combine(resolvedParent, Path.GetFileName(full));
        FileSystemInfo info = Directory.Exists(joined) ? new DirectoryInfo(joined) : new FileInfo(joined);
        FileSystemInfo? target = info.LinkTarget is null ? null : info.ResolveLinkTarget(returnFinalTarget: true);
        return target is null ? joined : Resolve(target.FullName);
    }

    private static long Number(OnnxTensorProto tensor, string key, long fallback)
    {
        if (!tensor.External.TryGetValue(key, out string? text)) return fallback;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(tensor.Name)}': external data {key} '{SafetensorsFile.Printable(text)}' is not a non-negative integer.");
        return value;
    }
}
