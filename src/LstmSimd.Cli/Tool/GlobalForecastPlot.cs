using System.Globalization;
using LstmSimd.Cli.Plotting;
using LstmSimd.Forecasting;

namespace LstmSimd.Cli.Tool;

/// <summary>One series of a model over many series, drawn: history, the test period shaded, forecasts across it and past the data's end, each with its interval band.</summary>
internal static class GlobalForecastPlot
{
    /// <summary>
    /// The bounds around the forecast from <paramref name="origin"/>: the rolling intervals known there when there are
    /// any, else those calibrated once.
    /// </summary>
    public static ForecastIntervals Intervals(IntervalBacktest intervals, int origin) => intervals.Rolling?.At(origin) ?? intervals.Calibrated;

    /// <summary>
    /// Writes the plot of series <paramref name="k"/> to <paramref name="path"/> (SVG, or PNG for a .png name): the
    /// actual values from twice the test period's length before it, the forecasts from every horizon-th test origin and
    /// the one past the data's end, and their intervals (<paramref name="intervals"/>; none when null).
    /// </summary>
    public static void Draw(string path, string name, string label, GlobalForecaster forecaster, int k, IntervalBacktest? intervals)
    {
        ForecastSeries series = forecaster.Series[k];
        ForecastSettings s = forecaster.Settings;
        int n = series.Length, testStart = series.Split.TestStart, h = s.Horizon;
        string[] future = TimeAxis.Extend(series.Times, h);
        (double[] x, string xLabel) = TimeAxis.From([.. series.Times, .. future], s.TimeColumn);
        int from = Math.Max(0, testStart - 2 * (n - testStart));
        var plot = new LinePlot($"{name}: {label} forecasts {h} steps ahead", xLabel, name);
        plot.Shade(x[testStart], x[n - 1], "test period", "#1f77b4");
        string band = intervals is null ? "" : $"{(100 * intervals.Calibrated.Level).ToString("0.#", CultureInfo.InvariantCulture)} % interval";

        // The test forecasts from every horizon-th origin, each block its own segment (NaN between blocks).
        var (bx, forecasts, lows, highs) = (new List<double>(), new List<double>(), new List<double>(), new List<double>());
        var (forecast, lower, upper) = (new double[h], new double[h], new double[h]);
        IReadOnlyList<int> test = series.Split.Test;
        for (int i = 0; i < test.Count; i += h)
        {
            Forecast(test[i]);
            for (int step = 0; step < h; step++)
            {
                bx.Add(x[test[i] + 1 + step]);
                forecasts.Add(forecast[step]);
                lows.Add(lower[step]);
                highs.Add(upper[step]);
            }

            bx.Add(x[test[i] + h]);
            forecasts.Add(double.NaN);
            lows.Add(double.NaN);
            highs.Add(double.NaN);
        }

        if (intervals is not null) plot.Fill($"{band} (test)", bx, lows, highs, "#1f77b4");
        plot.Line("actual", x[from..n], series.Target[from..], "#222222");
        plot.Line($"{label} ({h} ahead, every {h} steps)", bx, forecasts, "#1f77b4");
        Forecast(n - 1);
        if (intervals is not null) plot.Fill($"{band} past the data", x[n..], lower, upper, "#d62728");
        plot.Line($"forecast past the data ({future[0]} …)", x[(n - 1)..], [series.Target[^1], .. forecast], "#d62728", dashed: true);
        plot.Save(path);

        void Forecast(int origin)
        {
            forecaster.Predict(k, origin, forecast);
            if (intervals is null) return;
            Intervals(intervals, origin).Bounds(forecast, lower, upper);
        }
    }
}
