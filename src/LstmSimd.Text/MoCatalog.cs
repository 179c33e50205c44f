using System.Buffers.Binary;
using System.Text;

namespace LstmSimd.Text;

/// <summary>One message of a gettext catalog.</summary>
/// <param name="Context">The message context (<c>msgctxt</c>), or null.</param>
/// <param name="Id">The original message (<c>msgid</c>); empty for the catalog's header entry.</param>
/// <param name="PluralId">The original plural form (<c>msgid_plural</c>), or null for a message without plural forms.</param>
/// <param name="Translations">The translations (<c>msgstr</c>, or <c>msgstr[n]</c> for each plural form).</param>
public sealed record MoEntry(string? Context, string Id, string? PluralId, IReadOnlyList<string> Translations);

/// <summary>
/// Reads GNU gettext binary catalogs (<c>.mo</c>): the magic number 0x950412de in either byte order, a revision of 0 or 1
/// (major 0 or 1), and the tables of original and translated strings, all UTF-8 (the encoding every current catalog uses;
/// a catalog whose header names another charset is refused). A file that does not hold together (a string past the
/// end of the file, a table that does not fit, bytes that are not UTF-8) is refused with the reason, never half-read.
/// </summary>
public static class MoCatalog
{
    private const uint Magic = 0x950412de;

    /// <summary>The most a catalog may hold; larger files are refused before they are read.</summary>
    public const long MaxFileBytes = 256L << 20;

    /// <summary>Reads the catalog at <paramref name="path"/>.</summary>
    /// <exception cref="FormatException">The file is not a well-formed UTF-8 .mo catalog; the message says why.</exception>
    public static IReadOnlyList<MoEntry> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        long length = new FileInfo(path).Length;
        if (length > MaxFileBytes) throw new FormatException($"{path}: {length:N0} bytes, more than the {MaxFileBytes:N0} a catalog may hold.");
        return Parse(File.ReadAllBytes(path), path);
    }

    /// <summary>Parses a catalog's bytes; <paramref name="name"/> labels the errors.</summary>
    /// <exception cref="FormatException">The bytes are not a well-formed UTF-8 .mo catalog; the message says why.</exception>
    public static IReadOnlyList<MoEntry> Parse(ReadOnlySpan<byte> bytes, string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        if (bytes.Length < 20) throw new FormatException($"{name}: {bytes.Length} bytes is too short for a .mo header (20 bytes).");
        bool little = BinaryPrimitives.ReadUInt32LittleEndian(bytes) == Magic;
        if (!little && BinaryPrimitives.ReadUInt32BigEndian(bytes) != Magic)
            throw new FormatException($"{name}: not a gettext .mo catalog (magic 0x{BinaryPrimitives.ReadUInt32LittleEndian(bytes):x8}, expected 0x950412de in either byte order).");
        uint U32(ReadOnlySpan<byte> b, long at) => little ? BinaryPrimitives.ReadUInt32LittleEndian(b[(int)at..]) : BinaryPrimitives.ReadUInt32BigEndian(b[(int)at..]);
        uint revision = U32(bytes, 4);
        if (revision >> 16 > 1) throw new FormatException($"{name}: .mo format revision {revision >> 16}.{revision & 0xffff} is not supported (0 and 1 are).");
        long count = U32(bytes, 8), originals = U32(bytes, 12), translations = U32(bytes, 16);
        foreach ((string table, long offset) in new[] { ("original", originals), ("translation", translations) })
            if (offset + count * 8 > bytes.Length)
                throw new FormatException($"{name}: the {table} table ({count:N0} entries at byte {offset:N0}) runs past the end of the file ({bytes.Length:N0} bytes).");

        var utf8 = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
        string String(ReadOnlySpan<byte> b, long table, long index, string what)
        {
            long length = U32(b, table + index * 8), offset = U32(b, table + index * 8 + 4);
            if (offset + length > b.Length)
                throw new FormatException($"{name}: {what} string {index} ({length:N0} bytes at byte {offset:N0}) runs past the end of the file ({b.Length:N0} bytes).");
            try
            {
                return utf8.GetString(b.Slice((int)offset, (int)length));
            }
            catch (DecoderFallbackException)
            {
                throw new FormatException($"{name}: {what} string {index} is not valid UTF-8 (only UTF-8 catalogs are read).");
            }
        }

        var entries = new List<MoEntry>((int)Math.Min(count, 1 << 20));
        for (long i = 0; i < count; i++)
        {
            string original = String(bytes, originals, i, "original"), translated = String(bytes, translations, i, "translation");
            if (i == 0 && original.Length == 0) CheckCharset(translated, name);
            string? context = null;
            int separator = original.IndexOf('\u0004', StringComparison.Ordinal);
            if (separator >= 0)
            {
                context = original[..separator];
                original = original[(separator + 1)..];
            }

            string? plural = null;
            int nul = original.IndexOf('\0', StringComparison.Ordinal);
            if (nul >= 0)
            {
                plural = original[(nul + 1)..];
                original = original[..nul];
            }

            entries.Add(new MoEntry(context, original, plural, translated.Split('\0')));
        }

        return entries;
    }

    private static void CheckCharset(string header, string name)
    {
        foreach (string line in header.Split('\n'))
        {
            if (!line.StartsWith("Content-Type:", StringComparison.OrdinalIgnoreCase)) continue;
            int at = line.IndexOf("charset=", StringComparison.OrdinalIgnoreCase);
            if (at < 0) return;
            string charset = line[(at + "charset=".Length)..].Trim().TrimEnd(';');
            if (!charset.Equals("UTF-8", StringComparison.OrdinalIgnoreCase) && !charset.Equals("CHARSET", StringComparison.Ordinal) && !charset.Equals("ASCII", StringComparison.OrdinalIgnoreCase))
                throw new FormatException($"{name}: the catalog is in {charset}; only UTF-8 catalogs are read.");
        }
    }
}
