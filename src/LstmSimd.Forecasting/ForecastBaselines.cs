namespace LstmSimd.Forecasting;

/// <summary>A way to forecast the target's next values from its rows up to an origin.</summary>
/// <param name="target">The whole target column (a forecast reads only rows ≤ <paramref name="origin"/>).</param>
/// <param name="origin">The last row the forecast sees.</param>
/// <param name="destination">Receives the forecasts of rows origin + 1 … origin + destination.Length.</param>
public delegate void ForecastMethod(double[] target, int origin, Span<double> destination);

/// <summary>The naive forecasts an LSTM has to beat to be worth running.</summary>
public static class ForecastBaselines
{
    /// <summary>Every step ahead equals the mean of all values up to the origin (the "mean method").</summary>
    public static ForecastMethod Mean() => (target, origin, destination) =>
    {
        double sum = 0;
        for (int t = 0; t <= origin; t++) sum += target[t];
        destination.Fill(sum / (origin + 1));
    };

    /// <summary>
    /// The drift method: a line through the first value and the one at the origin, extrapolated
    /// (y[origin] + h·(y[origin] − y[0]) / origin); the naive forecast plus the average change so far.
    /// </summary>
    public static ForecastMethod Drift() => (target, origin, destination) =>
    {
        double slope = origin > 0 ? (target[origin] - target[0]) / origin : 0;
        for (int h = 1; h <= destination.Length; h++) destination[h - 1] = target[origin] + h * slope;
    };

    /// <summary>
    /// An exponential smoothing model whose parameters and initial state were fitted once (<see cref="EtsModel.Fit"/>,
    /// on rows before the test period); at each origin it runs over the rows up to the origin and forecasts from the
    /// state reached, as the LSTM reads its window without being retrained.
    /// </summary>
    public static ForecastMethod Ets(EtsModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (target, origin, destination) => model.Forecast(target.AsSpan(0, origin + 1), destination);
    }

    /// <summary>
    /// The Theta method fitted once (<see cref="ThetaModel.Fit"/>); at each origin it smooths the rows up to the origin
    /// with the fitted parameters and forecasts from there.
    /// </summary>
    public static ForecastMethod Theta(ThetaModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        return (target, origin, destination) => model.Forecast(target.AsSpan(0, origin + 1), destination);
    }

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

