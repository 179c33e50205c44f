namespace LstmSimd.Forecasting;

/// <summary>A way to forecast the target's next values from its rows up to an origin.</summary>
/// <param name="target">The whole target column (a forecast reads only rows ≤ <paramref name="origin"/>).</param>
/// <param name="origin">The last row the forecast sees.</param>
/// <param name="destination">Receives the forecasts of rows origin + 1 … origin + destination.Length.</param>
public delegate void ForecastMethod(double[] target, int origin, Span<double> destination);

/// <summary>The naive forecasts an LSTM has to beat to be worth running.</summary>
public static class ForecastBaselines
{
    /// <summary>Every step ahead equals the last value seen.</summary>
    public static ForecastMethod Naive() => (target, origin, destination) => destination.Fill(target[origin]);

    /// <summary>Each step ahead equals the value one season earlier (for steps beyond a season, the latest observed season repeats).</summary>
    public static ForecastMethod SeasonalNaive(int season)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(season, 1);
        return (target, origin, destination) =>
        {
            for (int h = 1; h <= destination.Length; h++)
                destination[h - 1] = target[origin - season + 1 + (h - 1) % season];
        };
    }

    /// <summary>
    /// Seasonal naive plus the last season's growth: step h is the value one season earlier plus
    /// y[origin] − y[origin − season] for each season ahead. Strong on a seasonal series with a trend.
    /// </summary>
    public static ForecastMethod SeasonalNaiveWithDrift(int season)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(season, 1);
        return (target, origin, destination) =>
        {
            double growth = target[origin] - target[origin - season];
            for (int h = 1; h <= destination.Length; h++)
                destination[h - 1] = target[origin - season + 1 + (h - 1) % season] + ((h - 1) / season + 1) * growth;
        };
    }

    /// <summary>A least-squares line through the last <paramref name="window"/> values, extrapolated.</summary>
    public static ForecastMethod LinearTrend(int window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(window, 2);
        return (target, origin, destination) =>
        {
            int n = Math.Min(window, origin + 1);
            double meanT = (n - 1) / 2.0, meanY = 0, sxy = 0, sxx = 0;
            for (int k = 0; k < n; k++) meanY += target[origin - n + 1 + k];
            meanY /= n;
            for (int k = 0; k < n; k++)
            {
                sxy += (k - meanT) * (target[origin - n + 1 + k] - meanY);
                sxx += (k - meanT) * (k - meanT);
            }

            double slope = sxx > 0 ? sxy / sxx : 0;
            for (int h = 1; h <= destination.Length; h++) destination[h - 1] = meanY + slope * (n - 1 + h - meanT);
        };
    }
}

/// <summary>Root mean square and mean absolute error of a forecast method over origins and every step of the horizon.</summary>
/// <param name="Name">The method's name.</param>
/// <param name="Rmse">√(mean squared error).</param>
/// <param name="Mae">Mean absolute error.</param>
public sealed record ForecastScore(string Name, double Rmse, double Mae)
{
    /// <summary>Scores <paramref name="method"/> on <paramref name="origins"/> with a horizon of <paramref name="horizon"/> steps.</summary>
    public static ForecastScore Evaluate(string name, ForecastMethod method, double[] target, IReadOnlyList<int> origins, int horizon)
    {
        ArgumentNullException.ThrowIfNull(method);
        ArgumentNullException.ThrowIfNull(target);
        ArgumentNullException.ThrowIfNull(origins);
        Span<double> forecast = horizon <= 256 ? stackalloc double[horizon] : new double[horizon];
        double squared = 0, absolute = 0;
        long count = 0;
        foreach (int origin in origins)
        {
            method(target, origin, forecast);
            for (int h = 0; h < horizon; h++)
            {
                double error = forecast[h] - target[origin + 1 + h];
                squared += error * error;
                absolute += Math.Abs(error);
                count++;
            }
        }

        return count == 0 ? new ForecastScore(name, double.NaN, double.NaN) : new ForecastScore(name, Math.Sqrt(squared / count), absolute / count);
    }
}
