namespace LstmSimd.Forecasting;

/// <summary>Prediction intervals for every series of a <see cref="GlobalForecaster"/>.</summary>
public static class GlobalForecastIntervals
{
    /// <summary>
    /// Each series' split-conformal intervals per step ahead (<see cref="ForecastIntervals.Calibrate"/>) at
    /// <paramref name="level"/>, from <paramref name="forecaster"/>'s forecasts at that series' validation origins. Give
    /// the forecaster trained on the training rows only (<see cref="GlobalForecastTrainingResult.EarlyStopped"/>): a
    /// forecaster refitted on the validation rows has seen the values its errors would be measured on.
    /// </summary>
    /// <exception cref="ArgumentException">The level is not between 0 and 1, or a series has too few validation origins for it (the message names the series and how many are needed).</exception>
    public static IReadOnlyList<ForecastIntervals> Calibrate(GlobalForecaster forecaster, double level)
    {
        ArgumentNullException.ThrowIfNull(forecaster);
        ForecastIntervals.CheckLevel(level);
        var intervals = new ForecastIntervals[forecaster.Series.Count];
        for (int k = 0; k < intervals.Length; k++)
        {
            ForecastSeries series = forecaster.Series[k];
            try
            {
                intervals[k] = ForecastIntervals.Calibrate(forecaster.AsMethod(k), series.Target, series.Split.Validation, forecaster.Settings.Horizon, level);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"Series {k}: {e.Message}", e);
            }
        }

        return intervals;
    }
}
