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
        // Column j, when not negligible, takes the next pivot row: pivotRow[j] (−1 for a skipped column).
        var diagonal = new double[p];
        var pivotRow = new int[p];
        int row = 0;
        double largest = 0;
        for (int j = 0; j < p; j++) largest = Math.Max(largest, Norm(a[j], 0));
        for (int j = 0; j < p; j++)
        {
            double[] column = a[j];
            double norm = row < n ? Norm(column, row) : 0;
            if (norm <= 1e-12 * largest)
            {
                pivotRow[j] = -1;
                continue;
            }

            // Householder reflection v = x − α·e, α = −sign(x₀)‖x‖, turns column j below the pivot row into zeros.
            double alpha = column[row] > 0 ? -norm : norm;
            column[row] -= alpha;
            double vv = 0;
            for (int i = row; i < n; i++) vv += column[i] * column[i];
            for (int k = j + 1; k < p; k++) Reflect(column, a[k], row, vv);
            Reflect(column, b, row, vv);
            diagonal[j] = alpha;
            pivotRow[j] = row++;
        }

        var z = new double[p];
        for (int j = p - 1; j >= 0; j--)
        {
            if (pivotRow[j] < 0) continue;
            double sum = b[pivotRow[j]];
            for (int k = j + 1; k < p; k++) sum -= a[k][pivotRow[j]] * z[k];
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

    private static double Norm(double[] x, int from)
    {
        double sum = 0;
        for (int i = from; i < x.Length; i++) sum += x[i] * x[i];
        return Math.Sqrt(sum);
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
