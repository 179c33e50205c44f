using System.Buffers;
using System.Text;
using System.Text.Unicode;

namespace LstmSimd.Shared;

/// <summary>
/// Text from a user's file or command line as messages show it and as readers accept it: quoted at most
/// <see cref="QuoteLimit"/> characters long with control characters made visible, so one bad 10 MB cell cannot flood
/// a terminal or a log; and decoded as strict UTF-8 without NUL bytes, so a binary or mis-encoded file is refused
/// with its line instead of read as replacement characters.
/// </summary>
internal static class UserText
{
    /// <summary>The most characters of one piece of user input a message shows.</summary>
    public const int QuoteLimit = 60;

    /// <summary>The most items of a list (a header's columns) a message shows.</summary>
    public const int ListLimit = 20;

    /// <summary><paramref name="text"/> cut to <see cref="QuoteLimit"/> characters (then "…"), control characters shown as '?'.</summary>
    public static string Printable(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        int length = Math.Min(text.Length, QuoteLimit);
        if (length < text.Length && char.IsHighSurrogate(text[length - 1])) length--; // never split a character
        var shown = new StringBuilder(length + 1);
        foreach (char c in text.AsSpan(0, length)) shown.Append(char.IsControl(c) ? '?' : c);
        if (length < text.Length) shown.Append('…');
        return shown.ToString();
    }

    /// <summary><see cref="Printable"/> in single quotes: <c>'…'</c>.</summary>
    public static string Quote(string text) => $"'{Printable(text)}'";

    /// <summary>Each item quoted, comma-separated, the first <see cref="ListLimit"/> only (then how many there are).</summary>
    public static string QuoteList(IReadOnlyCollection<string> items)
    {
        ArgumentNullException.ThrowIfNull(items);
        string shown = string.Join(", ", items.Take(ListLimit).Select(Quote));
        return items.Count <= ListLimit ? shown : $"{shown}, … ({items.Count} in all)";
    }

    /// <summary>Reads a UTF-8 text file (a leading byte-order mark is dropped).</summary>
    /// <param name="path">The file.</param>
    /// <param name="refuse">Makes the exception for a file that is not UTF-8 text, from "line N: what is wrong".</param>
    public static string ReadUtf8File(string path, Func<string, Exception> refuse)
    {
        ArgumentNullException.ThrowIfNull(refuse);
        return DecodeUtf8(File.ReadAllBytes(path), refuse);
    }

    /// <summary>Decodes strict UTF-8: an invalid sequence or a NUL byte is refused with its line (lines end at \n, \r\n or \r, as <see cref="TextReader.ReadLine"/> counts them).</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes, Func<string, Exception> refuse)
    {
        ArgumentNullException.ThrowIfNull(refuse);
        if (bytes.StartsWith("\uFEFF"u8)) bytes = bytes[3..];
        int nul = bytes.IndexOf((byte)0);
        ReadOnlySpan<byte> beforeNul = nul < 0 ? bytes : bytes[..nul];
        if (!Utf8.IsValid(beforeNul))
        {
            int invalid = FirstInvalidByte(beforeNul);
            throw refuse($"line {LineOf(bytes, invalid)}: byte 0x{bytes[invalid]:X2} is not valid UTF-8 (save the file as UTF-8).");
        }

        if (nul >= 0) throw refuse($"line {LineOf(bytes, nul)}: a NUL byte; this is not a text file.");
        return Encoding.UTF8.GetString(bytes);
    }

    private static int FirstInvalidByte(ReadOnlySpan<byte> bytes)
    {
        Span<char> scratch = stackalloc char[512];
        int offset = 0;
        while (true)
        {
            OperationStatus status = Utf8.ToUtf16(bytes[offset..], scratch, out int read, out _, replaceInvalidSequences: false);
            offset += read;
            if (status != OperationStatus.DestinationTooSmall) return offset;
        }
    }

    private static int LineOf(ReadOnlySpan<byte> bytes, int offset)
    {
        int line = 1;
        for (int i = 0; i < offset; i++)
            if (bytes[i] == '\n' || (bytes[i] == '\r' && (i + 1 >= bytes.Length || bytes[i + 1] != '\n'))) line++;
        return line;
    }
}
