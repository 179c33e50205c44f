using System.Buffers.Binary;
using System.Text;
using LstmSimd.Text;
using Xunit;

namespace LstmSimd.Tests.Text;

public sealed class MoCatalogTests
{
    private static readonly (string, string)[] Entries =
    [
        ("", MoBytes.Header),
        ("Open File", "Datei öffnen"),
        ("menu\u0004Quit", "Beenden"),
        ("%d file\0%d files", "%d Datei\0%d Dateien"),
        ("Save", "Speichern"),
    ];

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_catalog_reads_in_either_byte_order_with_contexts_and_plurals_apart(bool bigEndian)
    {
        IReadOnlyList<MoEntry> entries = MoCatalog.Parse(MoBytes.Build(Entries, bigEndian), "t.mo");
        Assert.Equal(5, entries.Count);
        Assert.Equal((null, "Open File", null), (entries[1].Context, entries[1].Id, entries[1].PluralId));
        Assert.Equal(["Datei öffnen"], entries[1].Translations);
        Assert.Equal(("menu", "Quit"), (entries[2].Context, entries[2].Id));
        Assert.Equal(("%d file", "%d files"), (entries[3].Id, entries[3].PluralId));
        Assert.Equal(["%d Datei", "%d Dateien"], entries[3].Translations);
    }

    [Fact]
    public void Only_plain_short_translated_messages_become_pairs()
    {
        IReadOnlyList<MoEntry> entries = MoCatalog.Parse(MoBytes.Build(Entries), "t.mo");
        Assert.Equal([false, true, false, false, true], entries.Select(e => TranslationCorpus.Usable(e, 40)));
        Assert.False(TranslationCorpus.Usable(new MoEntry(null, "Open File", null, ["Datei öffnen"]), 10)); // the translation is 12 characters
        Assert.False(TranslationCorpus.Usable(new MoEntry(null, "Line one\nline two", null, ["Zeile"]), 40));
        Assert.False(TranslationCorpus.Usable(new MoEntry(null, "Untranslated", null, [""]), 40));
    }

    [Fact]
    public void Repeated_messages_keep_their_most_frequent_translation_and_the_split_follows_the_source()
    {
        MoEntry Pair(string id, string translation) => new(null, id, null, [translation]);
        TranslationCorpus corpus = TranslationCorpus.FromCatalogs(
        [
            [Pair("Close", "Schließen"), Pair("Cancel", "Abbrechen")],
            [Pair("Close", "Zumachen"), Pair("Cancel", "Abbrechen")],
            [Pair("Close", "Schließen")],
        ]);
        TranslationPair[] all = [.. corpus.Train, .. corpus.Validation, .. corpus.Test];
        Assert.Equal(5, corpus.Entries);
        Assert.Equal([new("Cancel", "Abbrechen"), new("Close", "Schließen")], all.OrderBy(p => p.Source, StringComparer.Ordinal));
        foreach (TranslationPair p in corpus.Test) Assert.Equal(TranslationSplit.Test, TranslationCorpus.SplitOf(p.Source));
        foreach (TranslationPair p in corpus.Train) Assert.Equal(TranslationSplit.Train, TranslationCorpus.SplitOf(p.Source));
    }

    [Fact]
    public void The_split_is_about_eighty_ten_ten_by_a_hash_of_the_source()
    {
        int[] counts = new int[3];
        for (int i = 0; i < 10_000; i++) counts[(int)TranslationCorpus.SplitOf($"message {i}")]++;
        Assert.InRange(counts[0], 7700, 8300);
        Assert.InRange(counts[1], 850, 1150);
        Assert.InRange(counts[2], 850, 1150);
        // FNV-1a 64 of "a" is 0xaf63dc4c8601ec8c (the published test vector): 12638187200555641996 mod 10 = 6, a training message.
        Assert.Equal(TranslationSplit.Train, TranslationCorpus.SplitOf("a"));
    }

    [Fact]
    public void Malformed_catalogs_are_refused_with_the_reason()
    {
        byte[] good = MoBytes.Build(Entries);
        Assert.Contains("not a gettext .mo catalog", Assert.Throws<FormatException>(() => MoCatalog.Parse(Encoding.ASCII.GetBytes("msgid \"x\"\nmsgstr \"y\"\n"), "x.mo")).Message, StringComparison.Ordinal);
        Assert.Contains("too short", Assert.Throws<FormatException>(() => MoCatalog.Parse(good.AsSpan(0, 12), "x.mo")).Message, StringComparison.Ordinal);
        Assert.Contains("runs past the end of the file", Assert.Throws<FormatException>(() => MoCatalog.Parse(good.AsSpan(0, 40), "x.mo")).Message, StringComparison.Ordinal);

        byte[] pastEnd = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(pastEnd.AsSpan(28 + 8), 100_000); // the second original's length
        Assert.Contains("original string 1 (100,000 bytes", Assert.Throws<FormatException>(() => MoCatalog.Parse(pastEnd, "x.mo")).Message, StringComparison.Ordinal);

        byte[] revision = (byte[])good.Clone();
        BinaryPrimitives.WriteUInt32LittleEndian(revision.AsSpan(4), 2 << 16);
        Assert.Contains("revision 2.0 is not supported", Assert.Throws<FormatException>(() => MoCatalog.Parse(revision, "x.mo")).Message, StringComparison.Ordinal);

        byte[] latin1 = MoBytes.BuildRaw([([], Encoding.UTF8.GetBytes(MoBytes.Header)), ("Open"u8.ToArray(), [0xD6, 0x66, 0x66, 0x6E, 0x65, 0x6E])]);
        Assert.Contains("translation string 1 is not valid UTF-8", Assert.Throws<FormatException>(() => MoCatalog.Parse(latin1, "x.mo")).Message, StringComparison.Ordinal);
        byte[] declared = MoBytes.Build([("", "Content-Type: text/plain; charset=ISO-8859-1\n")]);
        Assert.Contains("the catalog is in ISO-8859-1", Assert.Throws<FormatException>(() => MoCatalog.Parse(declared, "x.mo")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_folder_with_one_broken_catalog_uses_the_others_and_names_the_broken_one()
    {
        string dir = Directory.CreateTempSubdirectory("lstmsimd-mo-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "good.mo"), MoBytes.Build(Entries));
            File.WriteAllBytes(Path.Combine(dir, "broken.mo"), [1, 2, 3]);
            TranslationCorpus corpus = TranslationCorpus.FromFolder(dir);
            Assert.Equal(2, corpus.Train.Count + corpus.Validation.Count + corpus.Test.Count);
            Assert.Contains("broken.mo: 3 bytes is too short", Assert.Single(corpus.Skipped), StringComparison.Ordinal);
            File.Delete(Path.Combine(dir, "good.mo"));
            Assert.Contains("no readable .mo catalog", Assert.Throws<FormatException>(() => TranslationCorpus.FromFolder(dir)).Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
