using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>Precision, recall and F1 of anomaly flags, row by row and point-adjusted, and rolling z-scores, by hand.</summary>
public sealed class AnomalyEvaluationTests
{
    private static bool[] Bits(string text) => [.. text.Select(c => c == '1')];

    [Fact]
    public void Row_by_row_scores_count_each_row_and_point_adjusted_scores_credit_a_whole_event_for_one_flag()
    {
        bool[] labels = Bits("0011110000111000");
        bool[] flags = Bits("0100100000000011");
        DetectionScore rows = AnomalyEvaluation.Pointwise("d", flags, labels);
        Assert.Equal((1, 3, 6), (rows.TruePositives, rows.FalsePositives, rows.FalseNegatives));
        Assert.Equal(0.25, rows.Precision, 1e-15);
        Assert.Equal(1 / 7.0, rows.Recall, 1e-15);
        Assert.Equal(2 * 0.25 / 7 / (0.25 + 1 / 7.0), rows.F1, 1e-15);
        // The first event (4 rows) was flagged once, so all 4 count; the second (3 rows) was missed.
        DetectionScore adjusted = AnomalyEvaluation.PointAdjusted("d", flags, labels);
        Assert.Equal((4, 3, 3), (adjusted.TruePositives, adjusted.FalsePositives, adjusted.FalseNegatives));
        Assert.Equal(4 / 7.0, adjusted.Precision, 1e-15);
        Assert.Equal(4 / 7.0, adjusted.Recall, 1e-15);
    }

    [Fact]
    public void Nothing_flagged_or_nothing_labelled_scores_zero_and_unequal_lengths_are_refused()
    {
        DetectionScore none = AnomalyEvaluation.Pointwise("d", Bits("0000"), Bits("0110"));
        Assert.Equal((0.0, 0.0, 0.0), (none.Precision, none.Recall, none.F1));
        DetectionScore quiet = AnomalyEvaluation.PointAdjusted("d", Bits("0100"), Bits("0000"));
        Assert.Equal((0, 1, 0), (quiet.TruePositives, quiet.FalsePositives, quiet.FalseNegatives));
        Assert.Equal(0, quiet.F1);
        Assert.Contains("same rows; got 3 and 4", Assert.Throws<ArgumentException>(() => AnomalyEvaluation.Pointwise("d", Bits("010"), Bits("0100"))).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_rolling_z_score_compares_each_value_with_the_mean_and_sample_deviation_of_the_window_before_it()
    {
        double[] values = [1, 2, 3, 4, 10, 5, 5, 5, 5];
        double[] z = AnomalyEvaluation.RollingZScores(values, 3);
        Assert.True(z.Take(3).All(double.IsNaN));
        Assert.Equal(2.0, z[3], 1e-12);              // window 1, 2, 3: mean 2, sd 1
        Assert.Equal((10 - 3) / 1.0, z[4], 1e-12);   // window 2, 3, 4: mean 3, sd 1
        // Rows 4, 5, 6 hold 10, 5, 5: mean 20/3, sample variance ((10/3)² + 2·(5/3)²) / 2 = 25/3.
        Assert.Equal((5 - 20 / 3.0) / Math.Sqrt(25 / 3.0), z[7], 1e-12);
        Assert.Equal(0, z[8]);                       // window 5, 5, 5 and the value 5
        Assert.Equal(double.PositiveInfinity, AnomalyEvaluation.RollingZScores([5, 5, 5, 6], 3)[3]);
    }
}
