using System.Globalization;

namespace LstmSimd.Forecasting;

/// <summary>The trend of an exponential smoothing model.</summary>
public enum EtsTrend
{
    /// <summary>No trend: the forecast is level (+ season).</summary>
    None,

    /// <summary>An additive trend continued without end (Holt's linear method).</summary>
    Additive,

    /// <summary>An additive trend damped by φ each step, so long forecasts flatten (Gardner and McKenzie).</summary>
    DampedAdditive,
}

/// <summary>
/// An exponential smoothing state space model with additive errors, ETS(A,·,·) in Hyndman and Athanasopoulos,
/// <i>Forecasting: Principles and Practice</i> (3rd ed., §8.5, Table 8.7): with μ = ℓ + φb + s₍ₜ₋ₘ₎ the one-step
/// forecast and e = y − μ its error,
/// ℓₜ = ℓₜ₋₁ + φbₜ₋₁ + αe, bₜ = φbₜ₋₁ + βe, sₜ = sₜ₋ₘ + γe; the h-step forecast is
/// ℓ + (φ + … + φʰ)b + the latest season's value for that step. φ = 1 without damping; b = 0 without a trend;
/// s = 0 without a season (<see cref="SeasonLength"/> 1).
/// </summary>
/// <remarks>
/// <see cref="Fit"/> estimates the parameters by maximum likelihood (with additive Gaussian errors, the least sum of
/// squared one-step errors) within the bounds R's <c>forecast::ets</c> uses by default: α in [10⁻⁴, 0.9999],
/// β in [10⁻⁴, α], γ in [10⁻⁴, 1 − α], φ in [0.8, 0.98]. The errors are linear in the initial state, so for given
/// smoothing parameters the best initial state is solved exactly by least squares (the initial seasonal values
/// summing to zero); the smoothing parameters are searched by Nelder–Mead from several starts.
/// </remarks>
public sealed class EtsModel
{
    /// <summary>The bounds of α, β, γ (as in R's forecast::ets).</summary>
    public const double SmoothingLowerBound = 1e-4, SmoothingUpperBound = 0.9999;

    /// <summary>The bounds of φ (as in R's forecast::ets).</summary>
    public const double PhiLowerBound = 0.8, PhiUpperBound = 0.98;

    private readonly double[] _initialSeason;

    /// <summary>Creates a model from given parameters and initial state.</summary>
    /// <param name="trend">The trend.</param>
    /// <param name="seasonLength">Steps per season; 1 for none.</param>
    /// <param name="alpha">Level smoothing.</param>
    /// <param name="beta">Trend smoothing (ignored without a trend).</param>
    /// <param name="gamma">Season smoothing (ignored without a season).</param>
    /// <param name="phi">Damping (1 unless the trend is damped).</param>
    /// <param name="initialLevel">ℓ₀.</param>
    /// <param name="initialTrend">b₀ (0 without a trend).</param>
    /// <param name="initialSeason">s₁₋ₘ … s₀ in time order (empty without a season).</param>
    /// <exception cref="ArgumentException">A value is not finite, or the season's length does not match.</exception>
    public EtsModel(EtsTrend trend, int seasonLength, double alpha, double beta, double gamma, double phi,
        double initialLevel, double initialTrend, IReadOnlyList<double> initialSeason)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seasonLength, 1);
        ArgumentNullException.ThrowIfNull(initialSeason);
        if (!Enum.IsDefined(trend)) throw new ArgumentOutOfRangeException(nameof(trend));
        if (initialSeason.Count != (seasonLength > 1 ? seasonLength : 0))
            throw new ArgumentException($"The initial season holds {initialSeason.Count} values; a season of {seasonLength} needs {(seasonLength > 1 ? seasonLength : 0)}.", nameof(initialSeason));
        if (!new[] { alpha, beta, gamma, phi, initialLevel, initialTrend }.Concat(initialSeason).All(double.IsFinite))
            throw new ArgumentException("Every parameter and initial state must be finite.");
        Trend = trend;
        SeasonLength = seasonLength;
        Alpha = alpha;
        Beta = trend == EtsTrend.None ? 0 : beta;
        Gamma = seasonLength > 1 ? gamma : 0;
        Phi = trend == EtsTrend.DampedAdditive ? phi : 1;
        InitialLevel = initialLevel;
        InitialTrend = trend == EtsTrend.None ? 0 : initialTrend;
        _initialSeason = [.. initialSeason];
    }

    /// <summary>The trend.</summary>
    public EtsTrend Trend { get; }

    /// <summary>Steps per season; 1 when the model has none.</summary>
    public int SeasonLength { get; }

    /// <summary>Level smoothing α.</summary>
    public double Alpha { get; }

    /// <summary>Trend smoothing β (0 without a trend).</summary>
    public double Beta { get; }

    /// <summary>Season smoothing γ (0 without a season).</summary>
    public double Gamma { get; }

    /// <summary>Damping φ (1 unless the trend is damped).</summary>
    public double Phi { get; }

    /// <summary>ℓ₀.</summary>
    public double InitialLevel { get; }

    /// <summary>b₀.</summary>
    public double InitialTrend { get; }

    /// <summary>s₁₋ₘ … s₀, in time order.</summary>
    public IReadOnlyList<double> InitialSeason => _initialSeason;

    /// <summary>The sum of squared one-step errors on the rows it was fitted on (NaN for a model built from given parameters).</summary>
    public double SumOfSquaredErrors { get; private init; } = double.NaN;

    /// <summary>The number of rows it was fitted on (0 for a model built from given parameters).</summary>
    public int FittedLength { get; private init; }

    /// <summary>"ETS(A,Ad,A)": error, trend, season in Hyndman's notation.</summary>
    public string Name => Describe(Trend, SeasonLength);

    /// <summary>The parameters counted by AICc: the smoothing parameters, φ, the free initial states, and the error variance.</summary>
    public int ParameterCount => CountParameters(Trend, SeasonLength);

    /// <summary>
    /// The bias-corrected Akaike information criterion of the fit: −2 log L + 2k + 2k(k + 1)/(n − k − 1), with the
    /// Gaussian log-likelihood at σ² = SSE/n; +∞ when n ≤ k + 1. Lower is better among models fitted on the same rows.
    /// </summary>
    public double Aicc
    {
        get
        {
            int n = FittedLength, k = ParameterCount;
            if (n <= k + 1 || !double.IsFinite(SumOfSquaredErrors)) return double.PositiveInfinity;
            double logLikelihood = -0.5 * n * (Math.Log(2 * Math.PI * SumOfSquaredErrors / n) + 1);
            return -2 * logLikelihood + 2.0 * k + 2.0 * k * (k + 1) / (n - k - 1);
        }
    }

    /// <summary>"ETS(A,Ad,A)" for a trend and a season length.</summary>
    public static string Describe(EtsTrend trend, int seasonLength) =>
        $"ETS(A,{trend switch { EtsTrend.None => "N", EtsTrend.Additive => "A", _ => "Ad" }},{(seasonLength > 1 ? "A" : "N")})";

    /// <summary>Fits a model to <paramref name="values"/> by maximum likelihood (see the remarks on <see cref="EtsModel"/>).</summary>
    /// <exception cref="ArgumentException">A value is not finite, or there are not more rows than parameters plus one.</exception>
    public static EtsModel Fit(ReadOnlySpan<double> values, EtsTrend trend, int seasonLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(seasonLength, 1);
        if (!Enum.IsDefined(trend)) throw new ArgumentOutOfRangeException(nameof(trend));
        foreach (double v in values)
            if (!double.IsFinite(v)) throw new ArgumentException("Every value must be finite to fit an exponential smoothing model.", nameof(values));
        int parameters = CountParameters(trend, seasonLength);
        if (values.Length <= parameters + 1)
            throw new ArgumentException($"{Describe(trend, seasonLength)} has {parameters} parameters; fitting it needs more than {parameters + 1} rows, got {values.Length}.", nameof(values));

        var problem = new InitialStateProblem(values.ToArray(), trend, seasonLength);
        int dimensions = 1 + (trend == EtsTrend.None ? 0 : 1) + (seasonLength > 1 ? 1 : 0) + (trend == EtsTrend.DampedAdditive ? 1 : 0);
        double mean = 0, spread = 0;
        foreach (double v in values) mean += v / values.Length;
        foreach (double v in values) spread += (v - mean) * (v - mean);
        double tolerance = 1e-16 * spread + double.Epsilon; // a sum of squares this small against the data's own is a perfect fit
        double best = double.PositiveInfinity;
        double[] bestPoint = new double[dimensions];
        // Several starts, low to high α: the sum of squares can have more than one valley. The last starts near the
        // corner α → 1, β → α (a seasonal series fitted without a season), which the logistic map flattens.
        foreach ((double alphaShare, double otherShare) in ((double, double)[])[(0.1, 0.1), (0.4, 0.1), (0.8, 0.1), (0.95, 0.9)])
        {
            double[] start = new double[dimensions];
            start[0] = Logit(alphaShare);
            for (int d = 1; d < dimensions; d++) start[d] = Logit(otherShare);
            if (trend == EtsTrend.DampedAdditive) start[^1] = 0;
            double[] point = NelderMead.Minimize(problem.SumOfSquares, start, step: 1.0, tolerance);
            point = NelderMead.Minimize(problem.SumOfSquares, point, step: 0.25, tolerance); // a restart from the end settles a collapsed simplex
            double value = problem.SumOfSquares(point);
            if (value < best)
            {
                best = value;
                bestPoint = point;
            }
        }

        (double alpha, double beta, double gamma, double phi) = problem.Smoothing(bestPoint);
        double[] state = problem.BestInitialState(alpha, beta, gamma, phi, out double sse);
        return new EtsModel(trend, seasonLength, alpha, beta, gamma, phi, state[0], state[1], state[2..])
        {
            SumOfSquaredErrors = sse,
            FittedLength = values.Length,
        };
    }

    /// <summary>Runs the model over <paramref name="values"/> from its initial state; returns the one-step errors.</summary>
    public double[] OneStepErrors(ReadOnlySpan<double> values)
    {
        var errors = new double[values.Length];
        var season = (double[])_initialSeason.Clone();
        double level = InitialLevel, trend = InitialTrend;
        Filter(values, Alpha, Beta, Gamma, Phi, ref level, ref trend, season, errors);
        return errors;
    }

    /// <summary>
    /// Runs the model over <paramref name="values"/> from its initial state, writing each row's one-step error to
    /// <paramref name="errors"/>, its level ℓₜ and trend bₜ after the row is read to <paramref name="levels"/> and
    /// <paramref name="trends"/> (values.Length each), and the seasonal component of each row as known the step before
    /// to <paramref name="seasons"/> (values.Length + m: the last m are those of the m rows after the end, as known at it;
    /// values.Length without a season, all 0).
    /// </summary>
    internal void States(ReadOnlySpan<double> values, Span<double> errors, Span<double> levels, Span<double> trends, Span<double> seasons)
    {
        var season = (double[])_initialSeason.Clone();
        double level = InitialLevel, trend = InitialTrend;
        seasons.Clear();
        Filter(values, Alpha, Beta, Gamma, Phi, ref level, ref trend, season, errors, levels, season.Length > 0 ? seasons[..values.Length] : default, trends);
        for (int j = values.Length; j < values.Length + season.Length; j++) seasons[j] = season[j % season.Length];
    }

    /// <summary>Runs the model over <paramref name="history"/> from its initial state, then forecasts the next destination.Length steps.</summary>
    public void Forecast(ReadOnlySpan<double> history, Span<double> destination)
    {
        var season = (double[])_initialSeason.Clone();
        double level = InitialLevel, trend = InitialTrend;
        Filter(history, Alpha, Beta, Gamma, Phi, ref level, ref trend, season, errors: default);
        double dampedSum = 0, phiPower = 1;
        for (int h = 1; h <= destination.Length; h++)
        {
            phiPower *= Phi;
            dampedSum += phiPower;
            double seasonal = season.Length > 0 ? season[(history.Length + h - 1) % season.Length] : 0;
            destination[h - 1] = level + dampedSum * trend + seasonal;
        }
    }

    /// <summary>"α 0.512, β 0.0012, γ 0.21, φ 0.98" for messages.</summary>
    public string DescribeParameters()
    {
        var parts = new List<string> { string.Create(CultureInfo.InvariantCulture, $"α {Alpha:G3}") };
        if (Trend != EtsTrend.None) parts.Add(string.Create(CultureInfo.InvariantCulture, $"β {Beta:G3}"));
        if (SeasonLength > 1) parts.Add(string.Create(CultureInfo.InvariantCulture, $"γ {Gamma:G3}"));
        if (Trend == EtsTrend.DampedAdditive) parts.Add(string.Create(CultureInfo.InvariantCulture, $"φ {Phi:G3}"));
        return string.Join(", ", parts);
    }

    private static int CountParameters(EtsTrend trend, int seasonLength)
    {
        int smoothing = 1 + (trend == EtsTrend.None ? 0 : 1) + (seasonLength > 1 ? 1 : 0) + (trend == EtsTrend.DampedAdditive ? 1 : 0);
        int initial = 1 + (trend == EtsTrend.None ? 0 : 1) + (seasonLength > 1 ? seasonLength - 1 : 0);
        return smoothing + initial + 1;
    }

    /// <summary>
    /// The state recursion of the class summary. The season buffer holds sₜ₋ₘ at index t mod m when row t (from 0) is
    /// read, and is updated in place; <paramref name="errors"/> (when not empty) receives each one-step error,
    /// <paramref name="levels"/> and <paramref name="trends"/> each row's level ℓₜ and trend bₜ after it is read,
    /// <paramref name="seasonsUsed"/> each row's sₜ₋ₘ.
    /// </summary>
    internal static void Filter(ReadOnlySpan<double> values, double alpha, double beta, double gamma, double phi,
        ref double level, ref double trend, double[] season, Span<double> errors, Span<double> levels = default, Span<double> seasonsUsed = default,
        Span<double> trends = default)
    {
        int m = season.Length;
        for (int t = 0; t < values.Length; t++)
        {
            double seasonal = m > 0 ? season[t % m] : 0;
            double damped = phi * trend;
            double error = values[t] - (level + damped + seasonal);
            level += damped + alpha * error;
            trend = damped + beta * error;
            if (m > 0) season[t % m] = seasonal + gamma * error;
            if (!errors.IsEmpty) errors[t] = error;
            if (!levels.IsEmpty) levels[t] = level;
            if (!trends.IsEmpty) trends[t] = trend;
            if (!seasonsUsed.IsEmpty) seasonsUsed[t] = seasonal;
        }
    }

    private static double Logit(double share) => Math.Log(share / (1 - share));

    private static double Logistic(double u) => 1 / (1 + Math.Exp(-u));

    /// <summary>
    /// For given smoothing parameters the one-step errors are e = e⁰ + E z, affine in the free initial state z
    /// (ℓ₀, b₀, s₁₋ₘ … s₋₁; s₀ = −their sum): e⁰ from a run with a zero initial state, column j of E from a run over
    /// zeros from the unit state j. The least-squares z is the maximum-likelihood initial state.
    /// </summary>
    private sealed class InitialStateProblem(double[] values, EtsTrend trend, int seasonLength)
    {
        private readonly int _free = 1 + (trend == EtsTrend.None ? 0 : 1) + (seasonLength > 1 ? seasonLength - 1 : 0);
        private readonly double[] _zeros = new double[values.Length];

        /// <summary>α, β, γ, φ from the unconstrained search point, each mapped inside its bounds.</summary>
        public (double Alpha, double Beta, double Gamma, double Phi) Smoothing(double[] point)
        {
            int d = 0;
            double alpha = SmoothingLowerBound + (SmoothingUpperBound - SmoothingLowerBound) * Logistic(point[d++]);
            double beta = trend == EtsTrend.None ? 0 : SmoothingLowerBound + (alpha - SmoothingLowerBound) * Logistic(point[d++]);
            double gamma = seasonLength > 1 ? SmoothingLowerBound + (1 - alpha - SmoothingLowerBound) * Logistic(point[d++]) : 0;
            double phi = trend == EtsTrend.DampedAdditive ? PhiLowerBound + (PhiUpperBound - PhiLowerBound) * Logistic(point[d]) : 1;
            return (alpha, beta, gamma, phi);
        }

        public double SumOfSquares(double[] point)
        {
            (double alpha, double beta, double gamma, double phi) = Smoothing(point);
            BestInitialState(alpha, beta, gamma, phi, out double sse);
            return double.IsFinite(sse) ? sse : double.MaxValue;
        }

        /// <summary>The full initial state [ℓ₀, b₀, s₁₋ₘ … s₀] that minimises the sum of squared errors, and that sum.</summary>
        public double[] BestInitialState(double alpha, double beta, double gamma, double phi, out double sse)
        {
            int n = values.Length, m = seasonLength > 1 ? seasonLength : 0;
            var baseErrors = new double[n];
            var columns = new double[_free][];
            var season = new double[m];
            double level = 0, slope = 0;
            Filter(values, alpha, beta, gamma, phi, ref level, ref slope, season, baseErrors);
            for (int j = 0; j < _free; j++)
            {
                double[] unit = UnitState(j);
                Array.Copy(unit, 2, season, 0, m);
                level = unit[0];
                slope = unit[1];
                columns[j] = new double[n];
                Filter(_zeros, alpha, beta, gamma, phi, ref level, ref slope, season, columns[j]);
            }

            double[] z = LeastSquares.Solve(columns, baseErrors, out sse); // minimises ‖e⁰ + E z‖² (solve E z ≈ −e⁰)
            var state = new double[2 + m];
            for (int j = 0; j < _free; j++)
            {
                double[] unit = UnitState(j);
                for (int k = 0; k < state.Length; k++) state[k] += z[j] * unit[k];
            }

            return state;
        }

        /// <summary>The full initial state [ℓ₀, b₀, s…] of free coordinate j set to 1.</summary>
        private double[] UnitState(int j)
        {
            int m = seasonLength > 1 ? seasonLength : 0;
            var state = new double[2 + m];
            if (j == 0) state[0] = 1;
            else if (trend != EtsTrend.None && j == 1) state[1] = 1;
            else
            {
                int k = j - (trend == EtsTrend.None ? 1 : 2);
                state[2 + k] = 1;
                state[2 + m - 1] = -1; // s₀ = −(s₁₋ₘ + … + s₋₁)
            }

            return state;
        }
    }
}
