using System.Text.Json;
using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Forecasting;

/// <summary>ThetaModel against R's forecast::thetaf (Golden/make_theta_golden.R) and a hand-worked case.</summary>
public sealed class ThetaModelTests
{
    private static readonly JsonElement[] Cases = LoadCases();

    private static JsonElement[] LoadCases()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "theta", "theta-golden.json")));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone())];
    }

    public static TheoryData<string> CaseNames() => [.. Cases.Select(c => c.GetProperty("name").GetString()!)];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_season_test_the_drift_alpha_and_the_forecasts_match_Rs_thetaf(string name)
    {
        JsonElement c = Cases.Single(c => c.GetProperty("name").GetString() == name);
        double[] y = [.. c.GetProperty("y").EnumerateArray().Select(e => e.GetDouble())];
        double[] expected = [.. c.GetProperty("forecasts").EnumerateArray().Select(e => e.GetDouble())];
        ThetaModel model = ThetaModel.Fit(y, c.GetProperty("season").GetInt32());
        Assert.Equal(c.GetProperty("seasonal").GetBoolean(), model.Seasonal);
        // The decomposition and the line are closed forms: the drift agrees to rounding.
        double drift = c.GetProperty("drift").GetDouble();
        Assert.Equal(drift, model.Drift, 1e-9 * Math.Max(1, Math.Abs(drift)));
        // α comes from two optimisers of the same likelihood (ours solves the initial level exactly): close, not equal.
        Assert.Equal(c.GetProperty("alpha").GetDouble(), model.Smoothing.Alpha, 0.01);
        var forecasts = new double[expected.Length];
        model.Forecast(y, forecasts);
        double spread = Math.Sqrt(y.Select(v => (v - y.Average()) * (v - y.Average())).Average());
        for (int h = 0; h < expected.Length; h++) Assert.True(Math.Abs(forecasts[h] - expected[h]) < 0.01 * spread, $"step {h + 1}: {forecasts[h]} against R's {expected[h]} (1 % of the series' spread is {0.01 * spread})");
    }

    [Fact]
    public void On_a_straight_line_the_forecast_is_the_last_value_plus_half_the_slope_per_step()
    {
        // y = 3 + 2t: the smoothing follows the line with α at its upper bound, so its level is the last value, 61
        // (less a lag of 2(1 − α)/α); the method adds b/2 = 1 per step: 61 + (h − 1) + (1 − (1 − α)³⁰)/α.
        double[] y = [.. Enumerable.Range(0, 30).Select(t => 3 + 2.0 * t)];
        ThetaModel model = ThetaModel.Fit(y, 1);
        Assert.Equal(1.0, model.Drift, 1e-12);
        Assert.False(model.Seasonal);
        double alpha = model.Smoothing.Alpha;
        Assert.InRange(alpha, 0.999, EtsModel.SmoothingUpperBound);
        var forecast = new double[3];
        model.Forecast(y, forecast);
        for (int h = 1; h <= 3; h++) Assert.Equal(61 - 2 * (1 - alpha) / alpha + (h - 1) + (1 - Math.Pow(1 - alpha, 30)) / alpha, forecast[h - 1], 1e-3);
        Assert.Contains("more than 4 rows; got 4", Assert.Throws<ArgumentException>(() => ThetaModel.Fit([1, 2, 3, 4], 1)).Message, StringComparison.Ordinal);
    }
}
