using System.Text.Json;
using LstmSimd.Forecasting;
using Xunit;
using Xunit.Abstractions;

namespace LstmSimd.Tests.Forecasting;

/// <summary>AutoEts against R's <c>forecast::ets(y, model = "AZZ")</c> (Golden/make_autoets_golden.R) and hand-made cases.</summary>
public sealed class AutoEtsTests(ITestOutputHelper output)
{
    private static readonly JsonElement[] Cases = LoadCases();

    private static JsonElement[] LoadCases()
    {
        using var document = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "Golden", "ets", "autoets-golden.json")));
        return [.. document.RootElement.GetProperty("cases").EnumerateArray().Select(c => c.Clone())];
    }

    public static TheoryData<string> CaseNames() => [.. Cases.Select(c => c.GetProperty("name").GetString()!)];

    private static double[] Numbers(JsonElement c, string property) => [.. c.GetProperty(property).EnumerateArray().Select(e => e.GetDouble())];

    [Theory]
    [MemberData(nameof(CaseNames))]
    public void The_model_chosen_by_AICc_its_AICc_and_its_forecasts_match_Rs_ets(string name)
    {
        JsonElement c = Cases.Single(k => k.GetProperty("name").GetString() == name);
        double[] y = Numbers(c, "y"), expected = Numbers(c, "forecasts"), rCandidateAicc = Numbers(c, "candidate_aicc");
        string[] rCandidates = [.. c.GetProperty("candidates").EnumerateArray().Select(e => e.GetString()!)];
        double constant = c.GetProperty("likelihood_constant").GetDouble(); // R's AICc leaves out the Gaussian constant
        AutoEts auto = AutoEts.Fit(y, c.GetProperty("season").GetInt32());
        output.WriteLine($"{name}: {auto.Describe()}; R chose {c.GetProperty("chosen").GetString()}, AICc {c.GetProperty("aicc").GetDouble() + constant:F2}; R's candidates {string.Join(", ", rCandidates.Zip(rCandidateAicc, (n, a) => $"{n} {a + constant:F2}"))}");

        Assert.Equal(rCandidates, auto.Candidates.Select(m => m.Name));
        Assert.Empty(auto.LeftOut);
        // The filter golden tests show our errors are R's for the same parameters and initial state, and our AICc is R's
        // plus the Gaussian constant. Our fits solve the initial state exactly where R's Nelder–Mead searches it, so
        // each candidate's AICc is at most R's: never a worse fit.
        for (int i = 0; i < rCandidates.Length; i++)
            Assert.True(auto.Candidates[i].Aicc <= rCandidateAicc[i] + constant + 1e-3, $"{rCandidates[i]}: AICc {auto.Candidates[i].Aicc} above R's {rCandidateAicc[i] + constant}");
        Assert.Equal(auto.Candidates.Min(m => m.Aicc), auto.Model.Aicc);
        string rChoice = c.GetProperty("chosen").GetString()!;
        int ours = Array.IndexOf(rCandidates, auto.Model.Name), theirs = Array.IndexOf(rCandidates, rChoice);
        if (auto.Model.Name != rChoice)
        {
            // Only where R's own fit of our choice stopped short: with its optimum reached, that model beats R's choice.
            double rStoppedShortBy = rCandidateAicc[ours] + constant - auto.Model.Aicc;
            output.WriteLine($"R's fit of {auto.Model.Name} stops {rStoppedShortBy:F1} AICc short of ours, which is {auto.Candidates[theirs].Aicc - auto.Model.Aicc:F1} below our {rChoice}");
            Assert.True(rStoppedShortBy > 1, $"we chose {auto.Model.Name}, R {rChoice}, yet R reached our fit of {auto.Model.Name}");
            Assert.True(auto.Model.Aicc < rCandidateAicc[theirs] + constant, "our choice must beat R's choice on AICc");
            return;
        }

        // The same optimum (AICc within 1 of R's): forecasts within 0.1 one-step σ of R's; a better optimum than R's: within 1 σ.
        double rAicc = c.GetProperty("aicc").GetDouble() + constant;
        bool sameOptimum = auto.Model.Aicc >= rAicc - 1;
        var forecasts = new double[expected.Length];
        auto.Model.Forecast(y, forecasts);
        double sigma = Math.Sqrt(c.GetProperty("mse").GetDouble()), worst = forecasts.Zip(expected, (a, b) => Math.Abs(a - b)).Max();
        output.WriteLine($"AICc {auto.Model.Aicc:F2} against R's {rAicc:F2}; largest forecast difference {worst:G3} = {worst / sigma:G3} one-step σ");
        Assert.True(worst <= (sameOptimum ? 0.1 : 1) * sigma, $"forecasts differ from R's by up to {worst}, {worst / sigma:G3} one-step σ");
    }

    [Fact]
    public void A_trendless_seasonal_series_chooses_a_seasonal_model_without_trend_and_a_straight_line_chooses_a_trend()
    {
        var noise = new Random(7);
        double[] wave = [3, -1, 0.5, -2.5];
        double[] seasonal = [.. Enumerable.Range(0, 80).Select(t => 50 + wave[t % 4] + 0.3 * (noise.NextDouble() - 0.5))];
        AutoEts seasonalFit = AutoEts.Fit(seasonal, 4);
        Assert.Equal("ETS(A,N,A)", seasonalFit.Model.Name);
        Assert.Equal(6, seasonalFit.Candidates.Count);
        Assert.Equal(seasonalFit.Candidates.Min(m => m.Aicc), seasonalFit.Model.Aicc);

        double[] line = [.. Enumerable.Range(0, 60).Select(t => 5 + 2.0 * t + 0.3 * (noise.NextDouble() - 0.5))];
        AutoEts lineFit = AutoEts.Fit(line, 1);
        Assert.Equal(EtsTrend.Additive, lineFit.Model.Trend);
        Assert.Equal(3, lineFit.Candidates.Count);
    }

    [Fact]
    public void Seasons_longer_than_24_and_models_with_too_many_parameters_are_left_out_with_the_reason()
    {
        double[] weekly = [.. Enumerable.Range(0, 120).Select(t => 10 + Math.Sin(2 * Math.PI * t / 52) + 0.01 * t)];
        AutoEts fit = AutoEts.Fit(weekly, 52);
        Assert.All(fit.Candidates, m => Assert.Equal(1, m.SeasonLength));
        Assert.Equal(["seasonal models left out: a season of 52 steps is longer than the 24 that AutoETS fits (as R's ets)"], fit.LeftOut);

        // 16 rows: ETS(A,N,A) with season 12 has 15 parameters, so it and the trended seasonal models cannot be fitted.
        double[] shortSeries = [.. Enumerable.Range(0, 16).Select(t => (double)(t % 5))];
        AutoEts small = AutoEts.Fit(shortSeries, 12);
        Assert.Equal(3, small.Candidates.Count);
        Assert.Equal(3, small.LeftOut.Count);
        Assert.All(small.LeftOut, line => Assert.Contains("needs more than", line, StringComparison.Ordinal));

        Assert.Contains("finite", Assert.Throws<ArgumentException>(() => AutoEts.Fit([1, 2, double.NaN, 4, 5, 6, 7], 1)).Message, StringComparison.Ordinal);
        Assert.Contains("No exponential smoothing model can be fitted", Assert.Throws<ArgumentException>(() => AutoEts.Fit([1, 2, 3], 1)).Message, StringComparison.Ordinal);
    }
}
