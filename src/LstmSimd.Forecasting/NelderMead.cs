namespace LstmSimd.Forecasting;

/// <summary>
/// The Nelder–Mead simplex search (Nelder and Mead, 1965, with the usual coefficients: reflection 1, expansion 2,
/// contraction ½, shrink ½) for a few unconstrained parameters.
/// </summary>
internal static class NelderMead
{
    /// <summary>
    /// A point where <paramref name="f"/> is (locally) least, starting from a simplex of <paramref name="start"/> and one
    /// step along each axis; stops when the simplex's values differ by at most 10⁻¹³ relative plus
    /// <paramref name="absoluteTolerance"/>, or its points by at most 10⁻¹⁰.
    /// </summary>
    public static double[] Minimize(Func<double[], double> f, double[] start, double step, double absoluteTolerance, int maxEvaluations = 4000)
    {
        int n = start.Length;
        var points = new double[n + 1][];
        var values = new double[n + 1];
        for (int i = 0; i <= n; i++)
        {
            points[i] = (double[])start.Clone();
            if (i > 0) points[i][i - 1] += step;
            values[i] = f(points[i]);
        }

        int evaluations = n + 1;
        var centroid = new double[n];
        while (evaluations < maxEvaluations)
        {
            Array.Sort(values, points);
            double spread = values[n] - values[0];
            if (spread <= 1e-13 * Math.Abs(values[0]) + absoluteTolerance || Diameter(points) < 1e-10) break;
            Array.Clear(centroid);
            for (int i = 0; i < n; i++)
                for (int d = 0; d < n; d++) centroid[d] += points[i][d] / n;

            double[] reflected = Along(centroid, points[n], -1);
            double fr = f(reflected);
            evaluations++;
            if (fr < values[0])
            {
                double[] expanded = Along(centroid, points[n], -2);
                double fe = f(expanded);
                evaluations++;
                (points[n], values[n]) = fe < fr ? (expanded, fe) : (reflected, fr);
            }
            else if (fr < values[n - 1])
            {
                (points[n], values[n]) = (reflected, fr);
            }
            else
            {
                bool outside = fr < values[n];
                double[] contracted = Along(centroid, outside ? reflected : points[n], 0.5);
                double fc = f(contracted);
                evaluations++;
                if (fc < (outside ? fr : values[n]))
                {
                    (points[n], values[n]) = (contracted, fc);
                }
                else
                {
                    for (int i = 1; i <= n; i++)
                    {
                        points[i] = Along(points[0], points[i], 0.5);
                        values[i] = f(points[i]);
                    }

                    evaluations += n;
                }
            }
        }

        int best = Array.IndexOf(values, values.Min());
        return points[best];
    }

    /// <summary>from + t·(to − from).</summary>
    private static double[] Along(double[] from, double[] to, double t)
    {
        var point = new double[from.Length];
        for (int d = 0; d < point.Length; d++) point[d] = from[d] + t * (to[d] - from[d]);
        return point;
    }

    private static double Diameter(double[][] points)
    {
        double largest = 0;
        for (int i = 1; i < points.Length; i++)
            for (int d = 0; d < points[0].Length; d++) largest = Math.Max(largest, Math.Abs(points[i][d] - points[0][d]));
        return largest;
    }
}
