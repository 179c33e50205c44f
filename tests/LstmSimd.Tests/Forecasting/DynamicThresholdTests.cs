using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>Telemanom's dynamic thresholds (Hundman et al. 2018) on error series whose answers are worked out by hand.</summary>
public sealed class DynamicThresholdTests
{
    private static readonly DynamicThresholdOptions ZOneToThree = new() { MinZ = 1, MaxZ = 3, ZStep = 0.5 };

    [Fact]
    public void Smoothing_is_an_exponentially_weighted_average_of_the_absolute_errors_started_at_the_first()
    {
        // span 3: α = 2 / 4 = 0.5; s = 2, 0.5·4 + 0.5·2 = 3, 0.5·0 + 0.5·3 = 1.5.
        Assert.Equal([2, 3, 1.5], DynamicThreshold.Smooth([2, -4, 0], 3));
        Assert.Equal([2, 4, 0], DynamicThreshold.Smooth([2, -4, 0], 1));
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => DynamicThreshold.Smooth([1, double.NaN], 3)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Two_adjacent_high_errors_flagged_together_beat_the_higher_alone()
    {
        // Eight 1s, then 6 and 10: μ = 2.4, σ = √(144/10 − 2.4²) = √8.64.
        double[] errors = [1, 1, 1, 1, 1, 1, 1, 1, 6, 10];
        double sd = Math.Sqrt(8.64);
        ThresholdChoice choice = DynamicThreshold.Choose(errors, ZOneToThree);
        // z = 1: ε = 2.4 + σ ≈ 5.34 leaves out 6 and 10 (one run); the rest are eight 1s (μ 1, σ 0):
        // (1.4/2.4 + 1) / (2 + 1²) = 19/36. z = 1.5 … 2.5 leave out 10 alone: (0.3519 + 0.4654) / 2 ≈ 0.409. z = 3 leaves out nothing.
        Assert.Equal(1, choice.Z);
        Assert.Equal(2.4 + sd, choice.Epsilon, 1e-12);
        Assert.Equal(19 / 36.0, choice.Score, 1e-12);
    }

    [Fact]
    public void The_same_two_errors_apart_cost_a_second_run_and_the_higher_one_alone_wins_at_the_largest_tied_z()
    {
        double[] errors = [1, 1, 1, 6, 1, 1, 1, 1, 1, 10];
        ThresholdChoice choice = DynamicThreshold.Choose(errors, ZOneToThree);
        // z = 1: two runs: (1.4/2.4 + 1) / (2 + 2²) = 19/72 ≈ 0.264. z = 1.5, 2, 2.5 tie at ≈ 0.409 (10 alone; the kept
        // errors are eight 1s and 6: μ 14/9, σ √(44/9 − (14/9)²)); the largest wins.
        double keptMean = 14 / 9.0, keptSd = Math.Sqrt(44 / 9.0 - keptMean * keptMean), sd = Math.Sqrt(8.64);
        Assert.Equal(2.5, choice.Z);
        Assert.Equal(2.4 + 2.5 * sd, choice.Epsilon, 1e-12);
        Assert.Equal(((2.4 - keptMean) / 2.4 + (sd - keptSd) / sd) / 2, choice.Score, 1e-12);
    }

    [Fact]
    public void Constant_errors_or_errors_no_z_reaches_flag_nothing()
    {
        Assert.Equal(double.PositiveInfinity, DynamicThreshold.Choose([2, 2, 2, 2], ZOneToThree).Epsilon);
        // Two values: each is 1σ from the mean; no z from 1.5 on leaves anything out.
        Assert.Equal(double.PositiveInfinity, DynamicThreshold.Choose([1, 3], ZOneToThree with { MinZ = 1.5 }).Epsilon);
    }

    [Fact]
    public void Pruning_keeps_the_runs_down_to_the_last_peak_that_drops_by_p_to_the_next()
    {
        var flags = new bool[8];
        // Peaks above ε = 4: 10, 4.5, 4.2; the largest nominal error is 3.9. Drops: (10 − 4.5)/10 = 0.55 ≥ 0.13,
        // (4.5 − 4.2)/4.5 ≈ 0.067 and (4.2 − 3.9)/4.2 ≈ 0.071 both below: only the run of 10 stays.
        DynamicThreshold.FlagAndPrune([1, 10, 1, 4.5, 1, 4.2, 3.9, 1], 4, 0.13, flags);
        Assert.Equal([false, true, false, false, false, false, false, false], flags);
        // With the largest nominal error 1 instead, the last drop is (4.2 − 1)/4.2 ≈ 0.76: every run above it stays too.
        DynamicThreshold.FlagAndPrune([1, 10, 1, 4.5, 1, 4.2, 1, 1], 4, 0.13, flags);
        Assert.Equal([false, true, false, true, false, true, false, false], flags);
        // A run of several errors is kept or dropped whole, by its peak.
        DynamicThreshold.FlagAndPrune([1, 5, 9, 6, 1, 4.1, 1, 1], 4, 0.13, flags);
        Assert.Equal([false, true, true, true, false, true, false, false], flags);
    }

    [Fact]
    public void Detection_slides_the_window_and_flags_a_spike_against_the_errors_before_it()
    {
        // Ones with a spike of 9 at 30. The windows of 20 before it hold constant errors: nothing stands out. The window
        // 15…34 takes it in: μ = 1.4, σ = √3.04, and every z from 1 to 3 leaves out 9 alone (ε ≤ 1.4 + 3σ ≈ 6.63), so z = 3.
        double[] errors = [.. Enumerable.Repeat(1.0, 40)];
        errors[30] = 9;
        DynamicThresholdResult result = DynamicThreshold.Detect(errors, new DynamicThresholdOptions { SmoothingSpan = 1, Window = 20, Step = 5, MinZ = 1, MaxZ = 3, ZStep = 0.5 });
        Assert.Equal([30], Enumerable.Range(0, 40).Where(i => result.Flags[i]));
        Assert.Equal(double.PositiveInfinity, result.Epsilons[10]);
        Assert.Equal(1.4 + 3 * Math.Sqrt(3.04), result.Epsilons[30], 1e-12);
    }

    [Fact]
    public void The_stream_flags_as_detection_with_a_step_of_one_once_its_window_is_full_and_allocates_nothing()
    {
        var random = new Random(5);
        double[] errors = [.. Enumerable.Range(0, 300).Select(i => random.NextDouble() + (i is >= 150 and < 160 ? 6 : 0) + (i == 240 ? 4 : 0))];
        var options = new DynamicThresholdOptions { SmoothingSpan = 3, Window = 50, Step = 1 };
        DynamicThresholdResult batch = DynamicThreshold.Detect(errors, options);
        var stream = new DynamicThresholdStream(options);
        var steps = new ThresholdStep[errors.Length];
        for (int i = 0; i < 60; i++) steps[i] = stream.Add(errors[i]);
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 60; i < errors.Length; i++) steps[i] = stream.Add(errors[i]);
        Assert.Equal(0, GC.GetAllocatedBytesForCurrentThread() - before);
        for (int i = options.Window - 1; i < errors.Length; i++)
        {
            Assert.Equal(batch.Smoothed[i], steps[i].Smoothed, 1e-12);
            Assert.True(batch.Flags[i] == steps[i].IsAnomaly, $"error {i}: detection {batch.Flags[i]}, stream {steps[i].IsAnomaly}");
        }

        Assert.Contains(true, batch.Flags[150..165]);
        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => stream.Add(double.PositiveInfinity)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Options_out_of_range_are_refused_naming_the_setting()
    {
        Assert.Contains("smoothing span", Assert.Throws<ArgumentException>(() => DynamicThreshold.Detect([1, 2, 3], new() { SmoothingSpan = 0 })).Message, StringComparison.Ordinal);
        Assert.Contains("step", Assert.Throws<ArgumentException>(() => DynamicThreshold.Detect([1, 2, 3], new() { Window = 10, Step = 11 })).Message, StringComparison.Ordinal);
        Assert.Contains("z range", Assert.Throws<ArgumentException>(() => new DynamicThresholdStream(new() { MinZ = 3, MaxZ = 2 })).Message, StringComparison.Ordinal);
        Assert.Contains("percent decrease", Assert.Throws<ArgumentException>(() => new DynamicThresholdStream(new() { MinPercentDecrease = 1 })).Message, StringComparison.Ordinal);
    }
}
