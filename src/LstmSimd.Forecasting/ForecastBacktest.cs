namespace LstmSimd.Forecasting;

/// <summary>
/// A rolling-origin backtest (Tashman, 2000; Hyndman and Athanasopoulos, FPP3 §5.10, "time series cross-validation"):
/// every method forecasts the whole horizon from each origin in turn, seeing only the rows up to it (an expanding
/// window), and methods that estimate parameters are fitted again on those rows every <see cref="RefitEvery"/> origins.
/// The forecasts are kept, so the methods can be scored and compared origin by origin.
/// </summary>
public sealed class ForecastBacktest
{
    private readonly double[] _actual;
    private readonly double[][] _forecasts;
    private readonly int[] _origins;

    private ForecastBacktest(string[] names, int[] origins, int horizon, int refitEvery, double maseScale, double[] actual, double[][] forecasts, int refits)
    {
        Names = names;
        _origins = origins;
        Horizon = horizon;
        RefitEvery = refitEvery;
        MaseScale = maseScale;
        _actual = actual;
        _forecasts = forecasts;
        Refits = refits;
        Scores = [.. names.Select((name, m) => ForecastScore.FromForecasts(name, actual, forecasts[m], maseScale))];
    }

    /// <summary>The methods' names, in the order they were given.</summary>
    public IReadOnlyList<string> Names { get; }

    /// <summary>The origins (the last row each forecast sees), in time order.</summary>
    public IReadOnlyList<int> Origins => _origins;

    /// <summary>Steps forecast from each origin.</summary>
    public int Horizon { get; }

    /// <summary>Methods with a <see cref="NamedForecastMethod.Refit"/> were fitted again at the first origin and every this many origins after.</summary>
    public int RefitEvery { get; }

    /// <summary>How many times each refittable method was fitted again.</summary>
    public int Refits { get; }

    /// <summary>The in-sample error that divides the MAE into the MASE (0: MASE undefined).</summary>
    public double MaseScale { get; }

    /// <summary>Each method's errors over every origin and step, in <see cref="Names"/> order.</summary>
    public IReadOnlyList<ForecastScore> Scores { get; }

    /// <summary>
    /// Runs <paramref name="methods"/> from each of <paramref name="origins"/> (increasing, each with <paramref name="horizon"/>
    /// known rows after it). A method with <see cref="NamedForecastMethod.Refit"/> is fitted on the rows up to the first
    /// origin and again every <paramref name="refitEvery"/> origins; the others use <see cref="NamedForecastMethod.Method"/> as it is.
    /// </summary>
    /// <exception cref="ArgumentException">No methods or origins, origins not increasing, or an origin without a whole horizon of rows after it.</exception>
    public static ForecastBacktest Run(IReadOnlyList<NamedForecastMethod> methods, double[] target, IReadOnlyList<int> origins, int horizon, int refitEvery, double maseScale)
    {
        ArgumentNullException.ThrowIfNull(methods);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(origins);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(refitEvery, 1);
        if (!(maseScale >= 0) || !double.IsFinite(maseScale)) throw new ArgumentOutOfRangeException(nameof(maseScale), maseScale, "The MASE scale must be 0 or positive, and finite.");
        if (methods.Count == 0) throw new ArgumentException("A backtest needs at least one method.", nameof(methods));
        if (origins.Count == 0) throw new ArgumentException("A backtest needs at least one origin.", nameof(origins));
        for (int i = 0; i < origins.Count; i++)
        {
            if (origins[i] < 0 || origins[i] + horizon >= target.Length)
                throw new ArgumentException($"Origin {origins[i]} has no {horizon} rows after it in a series of {target.Length}.", nameof(origins));
            if (i > 0 && origins[i] <= origins[i - 1]) throw new ArgumentException("The origins must increase.", nameof(origins));
        }

        int n = origins.Count;
        var actual = new double[n * horizon];
        for (int i = 0; i < n; i++) target.AsSpan(origins[i] + 1, horizon).CopyTo(actual.AsSpan(i * horizon));
        var forecasts = new double[methods.Count][];
        int refits = 0;
        for (int m = 0; m < methods.Count; m++)
        {
            forecasts[m] = new double[n * horizon];
            NamedForecastMethod named = methods[m];
            ForecastMethod method = named.Method;
            int fitted = 0;
            for (int i = 0; i < n; i++)
            {
                if (named.Refit is not null && i % refitEvery == 0)
                {
                    method = named.Refit(target, origins[i]);
                    fitted++;
                }

                method(target, origins[i], forecasts[m].AsSpan(i * horizon, horizon));
            }

            refits = Math.Max(refits, fitted);
        }

        return new ForecastBacktest([.. methods.Select(m => m.Name)], [.. origins], horizon, refitEvery, maseScale, actual, forecasts, refits);
    }

    /// <summary>The method's forecast from origin <see cref="Origins"/>[<paramref name="origin"/>], <paramref name="step"/> (1-based) steps ahead.</summary>
    public double Forecast(int method, int origin, int step) => _forecasts[method][origin * Horizon + step - 1];

    /// <summary>The actual value <paramref name="step"/> (1-based) steps after origin <see cref="Origins"/>[<paramref name="origin"/>].</summary>
    public double Actual(int origin, int step) => _actual[origin * Horizon + step - 1];

    /// <summary>The method's mean absolute error over the horizon, origin by origin: the losses a Diebold–Mariano test compares.</summary>
    public double[] OriginLosses(int method)
    {
        var losses = new double[_origins.Length];
        for (int i = 0; i < losses.Length; i++)
        {
            double sum = 0;
            for (int k = 0; k < Horizon; k++) sum += Math.Abs(_forecasts[method][i * Horizon + k] - _actual[i * Horizon + k]);
            losses[i] = sum / Horizon;
        }

        return losses;
    }

    /// <summary>
    /// How many neighbouring origins share forecast rows: ⌈horizon / the smallest spacing of the origins⌉, the horizon the
    /// Diebold–Mariano test accounts for (the horizon itself when the origins are one step apart).
    /// </summary>
    public int OverlappingOrigins
    {
        get
        {
            int spacing = int.MaxValue;
            for (int i = 1; i < _origins.Length; i++) spacing = Math.Min(spacing, _origins[i] - _origins[i - 1]);
            return spacing == int.MaxValue ? 1 : (Horizon + spacing - 1) / spacing;
        }
    }

    /// <summary>Whether there are enough origins for <see cref="Compare"/> (more than 2h − 1 for the overlap h).</summary>
    public bool CanCompare => _origins.Length > Math.Max(1, 2 * OverlappingOrigins - 1);

    /// <summary>
    /// A Diebold–Mariano test (Bartlett variance, Harvey–Leybourne–Newbold correction) of <paramref name="candidate"/>'s
    /// per-origin mean absolute error against <paramref name="rival"/>'s, with the overlap of neighbouring origins as its horizon.
    /// </summary>
    /// <exception cref="ArgumentException">Too few origins (<see cref="CanCompare"/> is false).</exception>
    public DieboldMarianoResult Compare(int candidate, int rival) =>
        DieboldMariano.Test(OriginLosses(candidate), OriginLosses(rival), OverlappingOrigins);
}
