namespace LstmSimd.Forecasting;

/// <summary>A forecast method's errors over forecast origins and every step of the horizon.</summary>
/// <param name="Name">The method's name.</param>
/// <param name="Mae">Mean absolute error, in the target's units.</param>
/// <param name="Rmse">√(mean squared error), in the target's units.</param>
/// <param name="Mase">
/// Mean absolute scaled error (Hyndman and Koehler, 2006): the MAE divided by the mean absolute error of the one-season-ago
/// forecast on the in-sample rows; below 1 is better than that naive forecast was in-sample. Comparable across series.
/// NaN when the in-sample rows repeat exactly every season (the scale is 0).
/// </param>
/// <param name="Smape">Symmetric mean absolute percentage error, as in the M4 competition: the mean of 200·|y − ŷ| / (|y| + |ŷ|), in percent (0 to 200; a term with y = ŷ = 0 counts 0).</param>
/// <param name="Count">The number of errors (origins × horizon).</param>
public sealed record ForecastScore(string Name, double Mae, double Rmse, double Mase, double Smape, long Count)
{
    /// <summary>
    /// Scores <paramref name="method"/> on <paramref name="origins"/> with a horizon of <paramref name="horizon"/> steps;
    /// <paramref name="maseScale"/> is the in-sample error that divides the MAE (<see cref="SeasonalNaiveScale"/>; 0 leaves MASE undefined, NaN).
    /// </summary>
    public static ForecastScore Evaluate(string name, ForecastMethod method, double[] target, IReadOnlyList<int> origins, int horizon, double maseScale)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(origins);
        ArgumentOutOfRangeException.ThrowIfLessThan(horizon, 1);
        if (!(maseScale >= 0) || !double.IsFinite(maseScale)) throw new ArgumentOutOfRangeException(nameof(maseScale), maseScale, "The MASE scale must be 0 or positive, and finite.");
        var actual = new double[origins.Count * horizon];
        var forecasts = new double[origins.Count * horizon];
        for (int i = 0; i < origins.Count; i++)
        {
            method(target, origins[i], forecasts.AsSpan(i * horizon, horizon));
            target.AsSpan(origins[i] + 1, horizon).CopyTo(actual.AsSpan(i * horizon));
        }

        return FromForecasts(name, actual, forecasts, maseScale);
    }

    /// <summary>Scores forecasts against the actual values they forecast, pair by pair; <paramref name="maseScale"/> as in <see cref="Evaluate"/>.</summary>
    internal static ForecastScore FromForecasts(string name, ReadOnlySpan<double> actual, ReadOnlySpan<double> forecast, double maseScale)
    {
        double squared = 0, absolute = 0, percentage = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            double error = forecast[i] - actual[i];
            squared += error * error;
            absolute += Math.Abs(error);
            double size = Math.Abs(actual[i]) + Math.Abs(forecast[i]);
            percentage += size == 0 ? 0 : 200 * Math.Abs(error) / size;
        }

        long count = actual.Length;
        return count == 0
            ? new ForecastScore(name, double.NaN, double.NaN, double.NaN, double.NaN, 0)
            : new ForecastScore(name, absolute / count, Math.Sqrt(squared / count), maseScale > 0 ? absolute / count / maseScale : double.NaN, percentage / count, count);
    }

    /// <summary>
    /// The MASE scale: the mean of |y[t] − y[t − season]| over the rows before <paramref name="end"/> (the in-sample
    /// seasonal naive error; with season 1, the naive one). 0 when every in-sample value equals the one a season earlier.
    /// </summary>
    /// <exception cref="ArgumentException">Fewer than season + 1 in-sample rows.</exception>
    public static double SeasonalNaiveScale(ReadOnlySpan<double> target, int end, int season)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(season, 1);
        if (end > target.Length || end <= season)
            throw new ArgumentException($"The MASE scale needs more than a season ({season} rows) of in-sample rows; got {end}.");
        double sum = 0;
        for (int t = season; t < end; t++) sum += Math.Abs(target[t] - target[t - season]);
        return sum / (end - season);
    }
}
