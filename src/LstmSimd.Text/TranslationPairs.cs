using System.Text;

namespace LstmSimd.Text;

/// <summary>A source sentence and its reference translation.</summary>
public sealed record TranslationPair(string Source, string Target);

/// <summary>Which part of a corpus a pair belongs to.</summary>
public enum TranslationSplit
{
    /// <summary>Trained on.</summary>
    Train,

    /// <summary>Watched during training (the best checkpoint is chosen on it).</summary>
    Validation,

    /// <summary>Held out: reported once, never tuned on.</summary>
    Test,
}

/// <summary>
/// Translation pairs drawn from gettext catalogs, split into train, validation and test parts.
/// </summary>
/// <remarks>
/// Which messages become pairs: the header entry (empty msgid) is skipped; so are messages with plural forms (their
/// msgstr[n] follow the target language's plural rule, not one sentence each) and messages with a context (msgctxt:
/// the same English words mean different things, so they are ambiguous without it); so are untranslated or fuzzy-empty
/// entries, and messages whose source or translation is longer than the length limit or holds a control character (line
/// breaks, tabs: multi-line help texts). Everything else is kept as it stands, keyboard accelerators (<c>_File</c>) and
/// format directives (<c>%s</c>) included. An English message met more than once (in several catalogs) becomes one pair,
/// with its most frequent translation (ties: the ordinally first). The split hashes the source (FNV-1a over its UTF-8
/// bytes), so a message always lands in the same part whatever else the catalogs hold.
/// </remarks>
public sealed class TranslationCorpus
{
    private TranslationCorpus(IReadOnlyList<TranslationPair> train, IReadOnlyList<TranslationPair> validation, IReadOnlyList<TranslationPair> test, int entries,
        IReadOnlyList<string> skipped)
    {
        Skipped = skipped;
        Train = train;
        Validation = validation;
        Test = test;
        Entries = entries;
    }

    /// <summary>The training pairs.</summary>
    public IReadOnlyList<TranslationPair> Train { get; }

    /// <summary>The validation pairs.</summary>
    public IReadOnlyList<TranslationPair> Validation { get; }

    /// <summary>The held-out test pairs.</summary>
    public IReadOnlyList<TranslationPair> Test { get; }

    /// <summary>Catalog entries read, before any was skipped.</summary>
    public int Entries { get; }

    /// <summary>The catalogs that were refused, each with the reason (see <see cref="FromFolder"/>).</summary>
    public IReadOnlyList<string> Skipped { get; }

    /// <summary>The part a source sentence belongs to: 80 % train, 10 % validation, 10 % test, by a hash of the sentence.</summary>
    public static TranslationSplit SplitOf(string source)
    {
        ArgumentNullException.ThrowIfNull(source);
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(source)) hash = (hash ^ b) * 1099511628211UL;
        return (hash % 10) switch { < 8 => TranslationSplit.Train, 8 => TranslationSplit.Validation, _ => TranslationSplit.Test };
    }

    /// <summary>Whether an entry becomes a pair (see the remarks), with messages of at most <paramref name="maxLength"/> characters.</summary>
    public static bool Usable(MoEntry entry, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(entry);
        if (entry.Id.Length == 0 || entry.Context is not null || entry.PluralId is not null || entry.Translations.Count != 1) return false;
        string target = entry.Translations[0];
        return target.Length > 0 && entry.Id.Length <= maxLength && target.Length <= maxLength && !entry.Id.Any(char.IsControl) && !target.Any(char.IsControl);
    }

    /// <summary>Builds the corpus from the entries of every catalog, in the order given (the order does not change the result).</summary>
    public static TranslationCorpus FromCatalogs(IEnumerable<IReadOnlyList<MoEntry>> catalogs, int maxLength = 40) => FromCatalogs(catalogs, maxLength, []);

    private static TranslationCorpus FromCatalogs(IEnumerable<IReadOnlyList<MoEntry>> catalogs, int maxLength, IReadOnlyList<string> skipped)
    {
        ArgumentNullException.ThrowIfNull(catalogs);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxLength);
        var translations = new Dictionary<string, Dictionary<string, int>>(StringComparer.Ordinal);
        int entries = 0;
        foreach (IReadOnlyList<MoEntry> catalog in catalogs)
        {
            foreach (MoEntry entry in catalog)
            {
                entries++;
                if (!Usable(entry, maxLength)) continue;
                if (!translations.TryGetValue(entry.Id, out Dictionary<string, int>? counts)) translations[entry.Id] = counts = new(StringComparer.Ordinal);
                counts[entry.Translations[0]] = counts.GetValueOrDefault(entry.Translations[0]) + 1;
            }
        }

        var parts = new[] { new List<TranslationPair>(), new List<TranslationPair>(), new List<TranslationPair>() };
        foreach (string source in translations.Keys.Order(StringComparer.Ordinal))
        {
            string target = translations[source].OrderByDescending(t => t.Value).ThenBy(t => t.Key, StringComparer.Ordinal).First().Key;
            parts[(int)SplitOf(source)].Add(new TranslationPair(source, target));
        }

        return new TranslationCorpus(parts[0], parts[1], parts[2], entries, skipped);
    }

    /// <summary>
    /// Reads every <c>*.mo</c> file of <paramref name="folder"/> (sorted by name) and builds the corpus. A catalog that
    /// <see cref="MoCatalog"/> refuses (malformed, or strings that are not valid UTF-8) is left out whole and listed in
    /// <see cref="Skipped"/> with the reason: one package's broken catalog does not stop the others from being used.
    /// </summary>
    /// <exception cref="FormatException">The folder holds no readable catalog.</exception>
    public static TranslationCorpus FromFolder(string folder, int maxLength = 40)
    {
        ArgumentNullException.ThrowIfNull(folder);
        if (!Directory.Exists(folder)) throw new DirectoryNotFoundException($"{folder}: no such folder.");
        string[] files = [.. Directory.GetFiles(folder, "*.mo").Order(StringComparer.Ordinal)];
        var catalogs = new List<IReadOnlyList<MoEntry>>();
        var skipped = new List<string>();
        foreach (string file in files)
        {
            try
            {
                catalogs.Add(MoCatalog.Read(file));
            }
            catch (FormatException e)
            {
                skipped.Add(e.Message);
            }
        }

        if (catalogs.Count == 0)
            throw new FormatException(files.Length == 0 ? $"{folder} holds no .mo catalogs." : $"{folder} holds no readable .mo catalog: {skipped[0]}");
        return FromCatalogs(catalogs, maxLength, skipped);
    }
}
