using LstmSimd.Text;
using Xunit;

namespace LstmSimd.Tests.Text;

/// <summary>chrF and BLEU against values published with sacreBLEU and values from Golden/make_translation_metrics_golden.py.</summary>
public sealed class TranslationMetricsTests
{
    [Fact]
    public void ChrF_matches_the_scores_sacrebleu_publishes_for_its_examples()
    {
        // The chrF metric card (Hugging Face datasets, computed by sacreBLEU 2 with its defaults).
        Assert.Equal(61.576379378113785, TranslationMetrics.ChrF(
            ["The relationship between Obama and Netanyahu is not exactly friendly."],
            ["The ties between Obama and Netanyahu are not particularly friendly."]), 9);
        Assert.Equal(84.64214891738334, TranslationMetrics.ChrF(
            ["The relationship between cats and dogs is not exactly friendly.", "a good bookshop is just a genteel black hole that knows how to read."],
            ["The relationship between dogs and cats is not exactly friendly.", "A good bookshop is just a genteel Black Hole that knows how to read."]), 9);
    }

    // Golden/translation/metrics.txt, made by Golden/make_translation_metrics_golden.py from the metrics' definitions.
    public static TheoryData<string[], string[], double, double> Golden => new()
    {
        { ["Datei öffnen"], ["Datei öffnen …"], 91.09666585944807, 0.0 },
        {
            ["Die Datei wurde nicht gefunden", "Speichern unter", "Hilfe", "Fenster schließen"],
            ["Datei nicht gefunden", "Speichern unter …", "Hilfe", "Das Fenster schließen"], 83.87711686373001, 0.0
        },
        { ["gefunden nicht Datei die"], ["die Datei nicht gefunden"], 59.57752837977296, 0.0 },
        {
            ["das ist ein kleiner Test der Datei", "bitte warten Sie hier kurz"],
            ["das ist ein kleiner Test der neuen Datei", "bitte warten Sie hier noch kurz bis fertig"], 67.20931942938341, 56.98363775444273
        },
        { ["a b c d e f g h", "x y z w"], ["a b c d e f", "x y z w"], 90.1702786377709, 75.98356856515926 },
    };

    [Theory]
    [MemberData(nameof(Golden))]
    public void ChrF_and_bleu_match_the_golden_script(string[] hypotheses, string[] references, double chrF, double bleu)
    {
        Assert.Equal(chrF, TranslationMetrics.ChrF(hypotheses, references), 9);
        Assert.Equal(bleu, TranslationMetrics.Bleu(hypotheses, references), 9);
    }

    [Fact]
    public void Bleu_by_hand_for_a_short_hypothesis()
    {
        // Hypothesis "a b c d" against reference "a b c d e": every n-gram matches (precisions 1), c = 4, r = 5,
        // brevity penalty exp(1 − 5/4) = e^−0.25.
        Assert.Equal(100 * Math.Exp(-0.25), TranslationMetrics.Bleu(["a b c d"], ["a b c d e"]), 9);
        Assert.Equal(100, TranslationMetrics.Bleu(["a b c d"], ["a b c d"]), 9);
        Assert.Equal(100, TranslationMetrics.ChrF(["Hallo Welt"], ["HalloWelt"]), 9); // whitespace does not count
        Assert.Equal(0, TranslationMetrics.ChrF(["xyz"], ["abc"]));
    }

    [Fact]
    public void Small_cases_give_the_scores_worked_out_by_hand()
    {
        // "a b" against "abc", whitespace removed, orders 1 and 2: P₁ = 2/2, R₁ = 2/3; P₂ = 1/1 ("ab"), R₂ = 1/2.
        // P = 1, R = 7/12; F₂ = 5·P·R / (4·P + R) = (35/12) / (55/12) = 7/11.
        Assert.Equal(100.0 * 7 / 11, TranslationMetrics.ChrF(["a b"], ["abc"], order: 2), 9);
        // BLEU-2 of "a b c d" against "a b c e": p₁ = 3/4, p₂ = 2/3, same length: √(1/2).
        Assert.Equal(100 * Math.Sqrt(0.5), TranslationMetrics.Bleu(["a b c d"], ["a b c e"], order: 2), 9);
        // BLEU-1 of "a b" against "a b c d": p₁ = 1, brevity penalty exp(1 − 4/2).
        Assert.Equal(100 * Math.Exp(-1), TranslationMetrics.Bleu(["a b"], ["a b c d"], order: 1), 9);
    }

    [Fact]
    public void Mismatched_or_empty_corpora_are_refused()
    {
        Assert.Contains("2 hypotheses for 1 references", Assert.Throws<ArgumentException>(() => TranslationMetrics.ChrF(["a", "b"], ["a"])).Message, StringComparison.Ordinal);
        Assert.Contains("No sentences", Assert.Throws<ArgumentException>(() => TranslationMetrics.Bleu([], [])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_word_lookup_learns_the_most_frequent_aligned_word_and_copies_unknown_ones()
    {
        WordLookupBaseline lookup = WordLookupBaseline.Learn(
        [
            new("Open File", "Öffnen Datei"), new("Save File", "Speichern Datei"), new("File", "Datei"), new("File", "Akte"),
            new("Open", "Öffnen"), new("Open the door", "Tür öffnen"), // different word counts: not aligned
        ]);
        Assert.Equal("Speichern Datei", lookup.Translate("Save File"));
        Assert.Equal("Öffnen Datei Printer", lookup.Translate("Open  File Printer"));
        Assert.Equal(3, lookup.Count);
    }
}
