using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>NAB's windowed score (Lavin &amp; Ahmad 2015, standard profile) on small cases worked out by hand.</summary>
public sealed class NabScoreTests
{
    private static bool[] Rows(int count, params int[] set)
    {
        var rows = new bool[count];
        foreach (int r in set) rows[r] = true;
        return rows;
    }

    private static bool[] Run(int count, int start, int end) => Rows(count, [.. Enumerable.Range(start, end - start + 1)]);

    private static double S(double y) => 2 / (1 + Math.Exp(5 * y)) - 1;

    [Fact]
    public void An_event_gets_a_tenth_of_the_rows_centred_on_it_and_windows_that_meet_are_merged()
    {
        // 100 rows, one event of 5 rows at 50…54: a window of 10, the 5 extra split 2 before and 3 after.
        Assert.Equal([(48, 57)], NabScore.Windows(Run(100, 50, 54)));
        // Two events: 5 rows each; events of 2 rows at 10…11 and 14…15 widen to 9…13 and 13…17, which overlap.
        bool[] two = Run(100, 10, 11);
        two[14] = two[15] = true;
        Assert.Equal([(9, 17)], NabScore.Windows(two));
        // An event longer than its share keeps its own length; clipped at the ends.
        Assert.Equal([(0, 19)], NabScore.Windows(Run(100, 0, 19)));
        Assert.Equal([(94, 99)], NabScore.Windows(Run(100, 97, 99))); // 7 extra rows: 3 before, 4 after (clipped)
    }

    [Fact]
    public void The_earliest_flag_of_a_window_scores_the_full_reward_and_the_normalised_score_is_100()
    {
        NabResult result = NabScore.Score("d", Rows(100, 48, 50, 52), Run(100, 50, 54));
        Assert.Equal(1, result.Raw, 1e-12);
        Assert.Equal((-1.0, 1.0, 1, 0), (result.Null, result.Perfect, result.Detected, result.FalsePositives));
        Assert.Equal(100, result.Normalized, 1e-10);
        NabResult none = NabScore.Score("d", new bool[100], Run(100, 50, 54));
        Assert.Equal((-1.0, 0.0), (none.Raw, none.Normalized));
    }

    [Fact]
    public void A_late_detection_earns_less_and_false_positives_cost_less_just_after_a_window()
    {
        // Window 48…57 (width 10). A flag at 53: y = −(57 − 53 + 1)/10 = −0.5, reward σ(−0.5)/σ(−1) ≈ 0.8598.
        // A flag at 10, before any window: −0.11. A flag at 60: (60 − 57)/(57 − 48) = 1/3 past the window: −0.11·(−σ(1/3)) ≈ −0.0750.
        NabResult result = NabScore.Score("d", Rows(100, 10, 53, 60), Run(100, 50, 54));
        double expected = S(-0.5) / S(-1) - 0.11 + 0.11 * S(1 / 3.0);
        Assert.Equal(expected, result.Raw, 1e-12);
        Assert.Equal(0.674743769983585, result.Raw, 1e-9); // the same numbers worked out separately
        Assert.Equal(100 * (expected + 1) / 2, result.Normalized, 1e-10);
        Assert.Equal(2, result.FalsePositives);
        // Every false positive counts; a missed window costs A_FN = −1, so flags only outside score below the null detector.
        NabResult missed = NabScore.Score("d", Rows(100, 5, 6, 7), Run(100, 50, 54));
        Assert.Equal(-1 - 3 * 0.11, missed.Raw, 1e-12);
        Assert.True(missed.Normalized < 0);
    }

    [Fact]
    public void Scoring_refuses_unequal_lengths_and_profiles_with_the_wrong_signs()
    {
        Assert.Contains("same rows", Assert.Throws<ArgumentException>(() => NabScore.Score("d", new bool[3], new bool[4])).Message, StringComparison.Ordinal);
        Assert.Contains("A_TP > 0", Assert.Throws<ArgumentException>(() => NabScore.Score("d", new bool[3], new bool[3], new NabProfile(1, 0.11, -1))).Message, StringComparison.Ordinal);
        Assert.Equal(0, NabScore.Score("d", Rows(10, 3), new bool[10]).Normalized);
    }
}
