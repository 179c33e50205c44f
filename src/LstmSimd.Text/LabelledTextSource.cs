using System.Text;
using nietras.SeparatedValues;

namespace LstmSimd.Text;

/// <summary>Reads labelled texts from a CSV file or from a folder with one subfolder per class.</summary>
public static class LabelledTextSource
{
    /// <summary>
    /// Reads <paramref name="path"/>: a directory is read by <see cref="FromFolders"/>, a file by <see cref="FromCsv"/>.
    /// </summary>
    public static List<LabelledText> Load(string path, string textColumn = "text", string? labelColumn = "label") =>
        Directory.Exists(path) ? FromFolders(path) : FromCsv(path, textColumn, labelColumn);

    /// <summary>
    /// Reads a UTF-8 CSV file (RFC 4180: a header row, commas, quoted cells that may hold commas, quotes as "" and line
    /// breaks) and takes each row's <paramref name="textColumn"/> and <paramref name="labelColumn"/>; blank lines are skipped.
    /// </summary>
    /// <param name="path">The file.</param>
    /// <param name="textColumn">The column of the texts.</param>
    /// <param name="labelColumn">The column of the labels, or null to read texts without labels (each labelled "").</param>
    /// <exception cref="FormatException">The file is not UTF-8, a column is missing, a row is ragged or its label empty, or there are no rows; the message names the line.</exception>
    public static List<LabelledText> FromCsv(string path, string textColumn = "text", string? labelColumn = "label")
    {
        ArgumentNullException.ThrowIfNull(path);
        ArgumentNullException.ThrowIfNull(textColumn);
        string content = UserText.ReadUtf8File(path, problem => new FormatException($"{path}, {problem}"));
        using SepReader csv = Sep.New(',').Reader(o => o with { HasHeader = false, Unescape = true, DisableColCountCheck = true }).FromText(content);
        string[]? header = null;
        int text = -1, label = -1;
        var rows = new List<LabelledText>();
        foreach (SepReader.Row row in csv)
        {
            if (row.ColCount == 1 && row.Span.IsWhiteSpace()) continue;
            if (header is null)
            {
                header = new string[row.ColCount];
                for (int c = 0; c < header.Length; c++) header[c] = row[c].ToString().Trim();
                text = Column(path, header, textColumn);
                label = labelColumn is null ? -1 : Column(path, header, labelColumn);
                continue;
            }

            if (row.ColCount != header.Length)
                throw new FormatException($"{path}, line {row.LineNumberFrom}: {row.ColCount} cells; the header names {header.Length} columns.");
            string name = label < 0 ? "" : row[label].ToString().Trim();
            if (name.Length == 0 && label >= 0) throw new FormatException($"{path}, line {row.LineNumberFrom}: the label ({UserText.Quote(header[label])}) is empty.");
            rows.Add(new LabelledText(row[text].ToString(), name));
        }

        if (header is null) throw new FormatException($"{path}: the file is empty; expected a header row naming the text and label columns.");
        if (rows.Count == 0) throw new FormatException($"{path}: no rows after the header.");
        return rows;
    }

    /// <summary>
    /// Reads a folder holding one subfolder per class (named as the class), each file of a subfolder one text; files and
    /// folders whose names start with a dot are skipped. Files are read as UTF-8 with bytes that are not valid UTF-8 read as
    /// U+FFFD: real mail and web text often mixes encodings, and one stray byte should not drop a text.
    /// </summary>
    /// <exception cref="FormatException">Fewer than two classes, or a class without files.</exception>
    public static List<LabelledText> FromFolders(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        if (!Directory.Exists(path)) throw new DirectoryNotFoundException($"{path} is not a directory.");
        string[] classes = [.. Directory.GetDirectories(path).Where(d => !Path.GetFileName(d).StartsWith('.')).Order(StringComparer.Ordinal)];
        if (classes.Length < 2)
            throw new FormatException($"{path} holds {classes.Length} class folder{(classes.Length == 1 ? "" : "s")}; a folder of labelled texts holds one subfolder per class, two or more.");
        var texts = new List<LabelledText>();
        foreach (string folder in classes)
        {
            string name = Path.GetFileName(folder);
            string[] files = [.. Directory.GetFiles(folder).Where(f => !Path.GetFileName(f).StartsWith('.')).Order(StringComparer.Ordinal)];
            if (files.Length == 0) throw new FormatException($"{folder}: the class folder {UserText.Quote(name)} holds no files.");
            foreach (string file in files) texts.Add(new LabelledText(Encoding.UTF8.GetString(File.ReadAllBytes(file)), name));
        }

        return texts;
    }

    /// <summary>
    /// Splits labelled texts into two parts, stratified: about <paramref name="share"/> of each class's texts (at least one
    /// when the class has two or more), drawn at random by <paramref name="seed"/>, go to the held-out part.
    /// </summary>
    public static (List<LabelledText> Kept, List<LabelledText> HeldOut) Split(IReadOnlyList<LabelledText> texts, double share, int seed)
    {
        ArgumentNullException.ThrowIfNull(texts);
        if (!(share is > 0 and < 1)) throw new ArgumentOutOfRangeException(nameof(share), share, "The held-out share must be between 0 and 1.");
        var random = new LstmSimd.Training.SeededRandom((ulong)seed);
        var heldOut = new bool[texts.Count];
        foreach (IGrouping<string, int> group in Enumerable.Range(0, texts.Count).GroupBy(i => texts[i].Label, StringComparer.Ordinal).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            int[] members = [.. group];
            for (int i = members.Length - 1; i > 0; i--)
            {
                int j = random.NextInt32(i + 1);
                (members[i], members[j]) = (members[j], members[i]);
            }

            int count = members.Length < 2 ? 0 : Math.Max(1, (int)Math.Round(members.Length * share));
            foreach (int i in members.AsSpan(0, count)) heldOut[i] = true;
        }

        return ([.. texts.Where((_, i) => !heldOut[i])], [.. texts.Where((_, i) => heldOut[i])]);
    }

    private static int Column(string path, string[] header, string name)
    {
        int index = Array.IndexOf(header, name);
        return index >= 0 ? index : throw new FormatException($"{path}: no column {UserText.Quote(name)}; the header names {UserText.QuoteList(header)}.");
    }
}
