namespace LstmSimd.Forecasting;

/// <summary>
/// The states an exponential smoothing model (<see cref="EtsModel"/>) reaches as it runs over a series row by row: each
/// row's one-step error, level, trend and season. The ES-RNN hybrid removes level and season before the LSTM sees the
/// series (Smyl's M4 winner, "A hybrid method of exponential smoothing and recurrent neural networks for time series
/// forecasting", International Journal of Forecasting 36, 2020, here in the additive form of Hyndman and
/// Athanasopoulos, FPP3 §8.3: ℓₜ = ℓₜ₋₁ + α(yₜ − ℓₜ₋₁ − sₜ₋ₘ), sₜ = sₜ₋ₘ + γ(yₜ − ℓₜ₋₁ − sₜ₋ₘ), i.e. ETS(A,N,A), the
/// trend left to the LSTM); the ETS + LSTM correction forecasts with the whole model, trend included (<see cref="Forecast"/>),
/// and leaves the LSTM its errors. Every value for an origin t depends on rows 0 … t only.
/// </summary>
public sealed class SmoothingStates
{
    private readonly double[] _errors, _levels, _trends, _seasons;

    private SmoothingStates(EtsModel model, double[] errors, double[] levels, double[] trends, double[] seasons)
    {
        Model = model;
        _errors = errors;
        _levels = levels;
        _trends = trends;
        _seasons = seasons;
    }

    /// <summary>The smoothing model: its parameters and initial state.</summary>
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
    public static SmoothingStates FitLevelAndSeason(ReadOnlySpan<double> fitRows, int seasonLength, ReadOnlySpan<double> values) =>
        Run(EtsModel.Fit(fitRows, EtsTrend.None, seasonLength), values);

    /// <summary>Runs <paramref name="model"/> over <paramref name="values"/> from its initial state.</summary>
    /// <exception cref="ArgumentException">A value is not finite.</exception>
    public static SmoothingStates Run(EtsModel model, ReadOnlySpan<double> values)
    {
        ArgumentNullException.ThrowIfNull(model);
        for (int t = 0; t < values.Length; t++)
            if (!double.IsFinite(values[t])) throw new ArgumentException($"Row {t} is {values[t]}; exponential smoothing needs finite values.", nameof(values));
        int m = model.SeasonLength > 1 ? model.SeasonLength : 0;
        var errors = new double[values.Length];
        var levels = new double[values.Length];
        var trends = new double[values.Length];
        var seasons = new double[values.Length + m];
        model.States(values, errors, levels, trends, seasons);
        return new SmoothingStates(model, errors, levels, trends, seasons);
    }

    /// <summary>ℓₜ: the level after row <paramref name="row"/> is read.</summary>
    public double Level(int row) => _levels[row];

    /// <summary>bₜ: the trend after row <paramref name="row"/> is read (0 without a trend).</summary>
    public double Trend(int row) => _trends[row];

    /// <summary>Row <paramref name="row"/>'s one-step error: its value less the forecast made from the row before.</summary>
    public double OneStepError(int row) => _errors[row];

    /// <summary>
    /// The seasonal component of row <paramref name="row"/> as known after row <paramref name="origin"/>: for a row up to
    /// the origin the one its one-step forecast used (estimated a season earlier), for a later row the latest estimate of its season's phase.
    /// 0 without a season.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The origin is not a row run over, or the row is before the first.</exception>
    public double Season(int origin, int row)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(row);
        if ((uint)origin >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(origin), origin, $"The smoothing ran over {Length} rows.");
        int m = SeasonLength;
        if (m == 1) return 0;
        // A later row's phase was last updated m rows before the first row after the origin that shares it.
        return _seasons[row <= origin ? row : origin + 1 + (row - origin - 1) % m];
    }

    /// <summary>
    /// The model's forecast of row <paramref name="row"/> (after <paramref name="origin"/>) from the state at
    /// <paramref name="origin"/>: ℓₜ + (φ + … + φʰ)bₜ + the row's season as known at t, with h = row − origin.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException">The origin is not a row run over, or the row is not after it.</exception>
    public double Forecast(int origin, int row)
    {
        if ((uint)origin >= (uint)Length) throw new ArgumentOutOfRangeException(nameof(origin), origin, $"The smoothing ran over {Length} rows.");
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(row, origin);
        double dampedSum = 0, phiPower = 1;
        for (int h = origin + 1; h <= row; h++)
        {
            phiPower *= Model.Phi;
            dampedSum += phiPower;
        }

        return _levels[origin] + dampedSum * _trends[origin] + Season(origin, row);
    }
}
