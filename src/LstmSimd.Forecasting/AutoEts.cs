using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>
/// Automatic exponential smoothing (Hyndman, Koehler, Snyder and Grose, 2002; Hyndman and Athanasopoulos, FPP3 §8.6):
/// every ETS model with additive errors (trend none, additive or damped; season none or additive) is fitted by
/// maximum likelihood (<see cref="EtsModel.Fit"/>) and the one with the lowest AICc is kept. This is the family R's
/// <c>forecast::ets(y, model = "AZZ")</c> and statsforecast's <c>AutoETS(model="AZZ")</c> search.
/// </summary>
/// <remarks>
/// Multiplicative seasons with additive errors, ETS(A,·,M), are not searched: like R's <c>ets</c> (whose default
/// <c>restrict = TRUE</c> forbids them), this class leaves them out because their forecast variance can be infinite.
/// Multiplicative errors are not implemented. Seasons longer than <see cref="LargestSeason"/> steps are not fitted
/// (as in R's <c>ets</c>, which ignores such seasons): their many initial values make the likelihood flat and the fit slow;
/// the non-seasonal models are still compared, and <see cref="LeftOut"/> says why.
/// </remarks>
public sealed class AutoEts
{
    /// <summary>The longest season the seasonal models are fitted with (24, as in R's <c>forecast::ets</c>).</summary>
    public const int LargestSeason = 24;

    private AutoEts(EtsModel model, EtsModel[] candidates, string[] leftOut)
    {
        Model = model;
        Candidates = candidates;
        LeftOut = leftOut;
    }

    /// <summary>The model with the lowest AICc.</summary>
    public EtsModel Model { get; }

    /// <summary>Every model fitted, in search order (trend none, additive, damped; without, then with, the season).</summary>
    public IReadOnlyList<EtsModel> Candidates { get; }

    /// <summary>"ETS(A,A,A) left out: …", one line per model of the family that was not fitted, with the reason.</summary>
    public IReadOnlyList<string> LeftOut { get; }

    /// <summary>
    /// Fits every additive-error ETS model to <paramref name="values"/> and keeps the one with the lowest AICc (the
    /// first in search order on a tie). A model with more parameters than the rows allow is left out with the reason.
    /// </summary>
    /// <exception cref="ArgumentException">A value is not finite, or no model of the family can be fitted (too few rows).</exception>
    public static AutoEts Fit(ReadOnlySpan<double> values, int seasonLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seasonLength, 1);
        foreach (double v in values)
            if (!double.IsFinite(v)) throw new ArgumentException("Every value must be finite to fit an exponential smoothing model.", nameof(values));
        var seasons = new List<int> { 1 };
        var leftOut = new List<string>();
        if (seasonLength > LargestSeason)
            leftOut.Add($"seasonal models left out: a season of {seasonLength} steps is longer than the {LargestSeason} that AutoETS fits (as R's ets)");
        else if (seasonLength > 1)
            seasons.Add(seasonLength);

        var candidates = new List<EtsModel>();
        foreach (int season in seasons)
        {
            foreach (EtsTrend trend in (EtsTrend[])[EtsTrend.None, EtsTrend.Additive, EtsTrend.DampedAdditive])
            {
                try
                {
                    candidates.Add(EtsModel.Fit(values, trend, season));
                }
                catch (ArgumentException e)
                {
                    leftOut.Add($"{EtsModel.Describe(trend, season)} left out: {e.Message}");
                }
            }
        }

        if (candidates.Count == 0)
            throw new ArgumentException($"No exponential smoothing model can be fitted: {string.Join("; ", leftOut)}.", nameof(values));
        EtsModel best = candidates[0];
        foreach (EtsModel candidate in candidates)
            if (candidate.Aicc < best.Aicc) best = candidate;
        return new AutoEts(best, [.. candidates], [.. leftOut]);
    }

    /// <summary>"ETS(A,N,A) by AICc (ETS(A,N,N) 1234.5, ETS(A,A,N) 1230.1, …)": the choice and what it was chosen from, for messages.</summary>
    public string Describe() =>
        $"{Model.Name} by AICc ({string.Join(", ", Candidates.Select(c => $"{c.Name} {c.Aicc.ToString("F1", CultureInfo.InvariantCulture)}"))})";
}
