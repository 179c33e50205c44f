namespace LstmSimd.Forecasting;

/// <summary>Linear least squares by Householder QR, for the small dense problems of model fitting.</summary>
internal static class LeastSquares
{
    /// <summary>
    /// The z that minimises ‖e + A z‖² for the columns of A, and that minimum. A column that is (numerically) a
    /// combination of earlier ones gets 0: the data cannot tell it apart, and any value fits equally well.
    /// </summary>
    public static double[] Solve(double[][] columns, ReadOnlySpan<double> e, out double residualSumOfSquares)
    {
        int p = columns.Length, n = e.Length;
        double[][] a = [.. columns.Select(c => (double[])c.Clone())];
        double[] b = [.. e];
        for (int i = 0; i < n; i++) b[i] = -b[i];
        var diagonal = new double[p];
        double largest = 0;
        for (int j = 0; j < p; j++)
        {
            double[] column = a[j];
            double norm = 0;
            for (int i = j; i < n; i++) norm += column[i] * column[i];
            norm = Math.Sqrt(norm);
            largest = Math.Max(largest, norm);
            if (norm <= 1e-12 * largest || norm == 0)
            {
                diagonal[j] = 0;
                continue;
            }

            // Householder reflection v = x + sign(x₀)‖x‖e₀ turns column j below row j into zeros.
            double alpha = column[j] > 0 ? -norm : norm;
            column[j] -= alpha;
            double vv = 0;
            for (int i = j; i < n; i++) vv += column[i] * column[i];
            for (int k = j + 1; k < p; k++) Reflect(column, a[k], j, vv);
            Reflect(column, b, j, vv);
            diagonal[j] = alpha;
        }

        var z = new double[p];
        for (int j = p - 1; j >= 0; j--)
        {
            if (diagonal[j] == 0) continue;
            double sum = b[j];
            for (int k = j + 1; k < p; k++) sum -= a[k][j] * z[k];
            z[j] = sum / diagonal[j];
        }

        residualSumOfSquares = 0;
        for (int i = 0; i < n; i++)
        {
            double r = e[i];
            for (int j = 0; j < p; j++) r += columns[j][i] * z[j];
            residualSumOfSquares += r * r;
        }

        return z;
    }

    /// <summary>y ← (I − 2vvᵀ/vᵀv) y on rows from <paramref name="from"/> on.</summary>
    private static void Reflect(double[] v, double[] y, int from, double vv)
    {
        double dot = 0;
        for (int i = from; i < v.Length; i++) dot += v[i] * y[i];
        double scale = 2 * dot / vv;
        for (int i = from; i < v.Length; i++) y[i] -= scale * v[i];
    }
}
