namespace LstmSimd.Forecasting;

/// <summary>
/// The level and season exponential smoothing finds in a series, run over it row by row: the part of Smyl's M4 winner
/// (ES-RNN, "A hybrid method of exponential smoothing and recurrent neural networks for time series forecasting",
/// International Journal of Forecasting 36, 2020) that removes them before the LSTM sees the series, here in the additive
/// form of Hyndman and Athanasopoulos (FPP3 §8.3): ℓₜ = ℓₜ₋₁ + α(yₜ − ℓₜ₋₁ − sₜ₋ₘ), sₜ = sₜ₋ₘ + γ(yₜ − ℓₜ₋₁ − sₜ₋ₘ),
/// i.e. ETS(A,N,A) (ETS(A,N,N) with a season of 1), with no trend: the trend is left to the LSTM, as in ES-RNN.
/// Every value for an origin t depends on rows 0 … t only.
/// </summary>
public sealed class LevelSeasonDecomposition
{
    private readonly double[] _levels, _seasons;

    private LevelSeasonDecomposition(EtsModel model, double[] levels, double[] seasons)
    {
        Model = model;
        _levels = levels;
        _seasons = seasons;
    }

    /// <summary>The smoothing model: its α, γ and initial state.</summary>
    public EtsModel Model { get; }

    /// <summary>The rows run over.</summary>
    public int Length => _levels.Length;

    /// <summary>The season length m (1: no season).</summary>
    public int SeasonLength => Model.SeasonLength;

    /// <summary>
    /// Fits ETS(A,N,A) (ETS(A,N,N) when <paramref name="seasonLength"/> is 1) by maximum likelihood on
    /// <paramref name="fitRows"/> (a series' training rows, <see cref="EtsModel.Fit"/>) and runs it over <paramref name="values"/>.
    /// </summary>
    /// <exception cref="ArgumentException">Too few rows to fit, or a value is not finite.</exception>
    public static LevelSeasonDecomposition Fit(ReadOnlySpan<double> fitRows, int seasonLength, ReadOnlySpan<double> values) =>
        Run(EtsModel.Fit(fitRows, EtsTrend.None, seasonLength), values);

    /// <summary>Runs <paramref name="model"/> (no trend) over <paramref name="values"/> from its initial state.</summary>
    /// <exception cref="ArgumentException">The model has a trend, or a value is not finite.</exception>
    public static LevelSeasonDecomposition Run(EtsModel model, ReadOnlySpan<double> values)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (model.Trend != EtsTrend.None) throw new ArgumentException($"The decomposition leaves the trend to the LSTM; {model.Name} has one.", nameof(model));
        for (int t = 0; t < values.Length; t++)
            if (!double.IsFinite(values[t])) throw new ArgumentException($"Row {t} is {values[t]}; the decomposition needs finite values.", nameof(values));
        int m = model.SeasonLength > 1 ? model.SeasonLength : 0;
        var levels = new double[values.Length];
        var seasons = new double[values.Length + m];
        model.States(values, levels, seasons);
        return new LevelSeasonDecomposition(model, levels, seasons);
    }

    /// <summary>ℓₜ: the level after row <paramref name="row"/> is read.</summary>
    public double Level(int row) => _levels[row];

    /// <summary>
    /// The seasonal component of row <paramref name="row"/> as known after row <paramref name="origin"/>: for a row up to
    /// the origin the one its one-step forecast used (estimated a season earlier), for a later row the latest estimate of its season's phase.
    /// 0 without a season.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The origin is not a row run over, or the row is before the first.</exception>
    public double Season(int origin, int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        if ((uint)origin >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(origin), origin, $"The decomposition ran over {Length} rows.");
        int m = SeasonLength;
        if (m == 1) return 0;
        // A later row's phase was last updated m rows before the first row after the origin that shares it.
        return _seasons[row <= origin ? row : origin + 1 + (row - origin - 1) % m];
    }
}
