using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>
/// The Theta method of Assimakopoulos and Nikolopoulos (2000) in the form of Hyndman and Billah (2003), as R's
/// <c>forecast::thetaf</c> computes it: simple exponential smoothing (ETS(A,N,N)) of the series plus half the slope b
/// of a least-squares line through it, the forecast h steps ahead being ℓₙ + (b/2)·(h − 1 + (1 − (1 − α)ⁿ)/α). With a
/// season m &gt; 1 whose lag-m autocorrelation passes the 90 % test |rₘ| / √((1 + 2 Σₖ₌₁ᵐ⁻¹ rₖ²)/n) &gt; 1.645, the
/// series is first divided by the seasonal indices of a classical multiplicative decomposition, and the forecasts
/// multiplied by them. It did well in the M3 competition for so simple a method.
/// </summary>
public sealed class ThetaModel
{
    private readonly double[] _seasonalIndices;

    private ThetaModel(EtsModel smoothing, double drift, double[] seasonalIndices)
    {
        Smoothing = smoothing;
        Drift = drift;
        _seasonalIndices = seasonalIndices;
    }

    /// <summary>The simple exponential smoothing of the (seasonally adjusted) series.</summary>
    public EtsModel Smoothing { get; }

    /// <summary>b/2: half the slope of the least-squares line through the (seasonally adjusted) series, per step.</summary>
    public double Drift { get; }

    /// <summary>Whether the series was seasonally adjusted.</summary>
    public bool Seasonal => _seasonalIndices.Length > 0;

    /// <summary>The multiplicative seasonal index of each position in the season, counted from the first row (empty when not seasonal).</summary>
    public IReadOnlyList<double> SeasonalIndices => _seasonalIndices;

    /// <summary>"α 0.552, drift −5.85 per step, seasonally adjusted" for messages.</summary>
    public string DescribeParameters() => string.Create(CultureInfo.InvariantCulture,
        $"α {Smoothing.Alpha:G3}, drift {Drift:G3} per step{(Seasonal ? ", seasonally adjusted (multiplicative)" : "")}");

    /// <summary>Fits the method to <paramref name="values"/> (see the class summary).</summary>
    /// <exception cref="ArgumentException">A value is not finite, or there are 4 rows or fewer.</exception>
    public static ThetaModel Fit(ReadOnlySpan<double> values, int seasonLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seasonLength, 1);
        foreach (double v in values)
            if (!double.IsFinite(v)) throw new ArgumentException("Every value must be finite to fit the Theta method.", nameof(values));
        if (values.Length <= 4) throw new ArgumentException($"The Theta method needs more than 4 rows; got {values.Length}.", nameof(values));
        int n = values.Length, m = seasonLength;
        double[] indices = m > 1 && n > 2 * m && !IsConstant(values) && SeasonalityTest(values, m) ? MultiplicativeIndices(values, m) : [];
        if (indices.Any(i => Math.Abs(i) < 1e-4)) indices = []; // an index near zero cannot divide the series
        double[] adjusted = Adjust(values, indices);
        EtsModel smoothing = EtsModel.Fit(adjusted, EtsTrend.None, 1);
        double meanT = (n - 1) / 2.0, meanY = adjusted.Average(), sxy = 0, sxx = 0;
        for (int t = 0; t < n; t++)
        {
            sxy += (t - meanT) * (adjusted[t] - meanY);
            sxx += (t - meanT) * (t - meanT);
        }

        return new ThetaModel(smoothing, sxy / sxx / 2, indices);
    }

    /// <summary>
    /// Runs the smoothing over <paramref name="history"/> (rows from the first fitted one on) and forecasts the next
    /// destination.Length steps; a history longer than the fitted rows is read with the fitted parameters.
    /// </summary>
    public void Forecast(ReadOnlySpan<double> history, Span<double> destination)
    {
        Smoothing.Forecast(Adjust(history, _seasonalIndices), destination);
        int n = history.Length, m = _seasonalIndices.Length;
        double alpha = Math.Max(1e-10, Smoothing.Alpha), start = (1 - Math.Pow(1 - alpha, n)) / alpha;
        for (int h = 0; h < destination.Length; h++)
        {
            destination[h] += Drift * (h + start);
            if (m > 0) destination[h] *= _seasonalIndices[(n + h) % m];
        }
    }

    private static double[] Adjust(ReadOnlySpan<double> values, double[] indices)
    {
        var adjusted = values.ToArray();
        if (indices.Length > 0)
            for (int t = 0; t < adjusted.Length; t++) adjusted[t] /= indices[t % indices.Length];
        return adjusted;
    }

    private static bool IsConstant(ReadOnlySpan<double> values)
    {
        foreach (double v in values)
            if (v != values[0]) return false;
        return true;
    }

    /// <summary>R's <c>thetaf</c> test: the lag-m autocorrelation against its standard error under a moving average of order m − 1, at 90 % (one side of 1.645).</summary>
    private static bool SeasonalityTest(ReadOnlySpan<double> values, int m)
    {
        int n = values.Length;
        double mean = 0;
        foreach (double v in values) mean += v;
        mean /= n;
        double Autocovariance(int lag, ReadOnlySpan<double> x)
        {
            double sum = 0;
            for (int t = 0; t + lag < n; t++) sum += (x[t] - mean) * (x[t + lag] - mean);
            return sum / n;
        }

        double c0 = Autocovariance(0, values), squares = 0;
        for (int k = 1; k < m; k++) squares += Math.Pow(Autocovariance(k, values) / c0, 2);
        double rm = Autocovariance(m, values) / c0;
        return Math.Abs(rm) / Math.Sqrt((1 + 2 * squares) / n) > 1.6448536269514722;
    }

    /// <summary>
    /// R's <c>decompose(type = "multiplicative")</c>: a centred moving average of m (2×m for even m) as the trend, the
    /// mean ratio of value to trend at each position of the season (counted from the first row), scaled to mean 1.
    /// </summary>
    private static double[] MultiplicativeIndices(ReadOnlySpan<double> values, int m)
    {
        int n = values.Length, half = m / 2;
        var sums = new double[m];
        var counts = new int[m];
        for (int t = half; t < n - half; t++)
        {
            double trend = 0;
            if (m % 2 == 0)
            {
                trend = 0.5 * (values[t - half] + values[t + half]);
                for (int k = -half + 1; k < half; k++) trend += values[t + k];
            }
            else
            {
                for (int k = -half; k <= half; k++) trend += values[t + k];
            }

            sums[t % m] += values[t] / (trend / m);
            counts[t % m]++;
        }

        var indices = new double[m];
        for (int i = 0; i < m; i++) indices[i] = sums[i] / counts[i];
        double meanIndex = indices.Average();
        for (int i = 0; i < m; i++) indices[i] /= meanIndex;
        return indices;
    }
}
