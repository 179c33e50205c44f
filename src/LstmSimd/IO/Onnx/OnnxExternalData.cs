using System.Globalization;

namespace LstmSimd.IO.Onnx;

/// <summary>
/// ONNX external data: a tensor's bytes in another file named by a <c>location</c> relative to the
/// model's folder, opened through <see cref="ModelFolder"/> (which keeps it inside that folder).
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
        long offset = Number(tensor, "offset", 0), length = Number(tensor, "length", -1);
        if (expected > Array.MaxLength) throw new OnnxFormatException($"tensor '{name}' is too large for one array.");
        using FileStream file = ModelFolder.OpenRead(directory, location, problem => new OnnxFormatException($"tensor '{name}': external data file '{SafetensorsFile.Printable(location)}' {problem}."));
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

    private static long Number(OnnxTensorProto tensor, string key, long fallback)
    {
        if (!tensor.External.TryGetValue(key, out string? text)) return fallback;
        if (!long.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out long value))
            throw new OnnxFormatException($"tensor '{SafetensorsFile.Printable(tensor.Name)}': external data {key} '{SafetensorsFile.Printable(text)}' is not a non-negative integer.");
        return value;
    }
}
