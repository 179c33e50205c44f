namespace LstmSimd.Text;

/// <summary>
/// Luong's dot attention for one query: scores s_j = q·k_j over the keys (the encoder's outputs), weights
/// α = softmax(s), context c = Σ_j α_j·k_j. Sums run in double; nothing is allocated.
/// </summary>
public static class LuongAttention
{
    /// <summary>Writes the weights α [n] and the context [H] of <paramref name="query"/> [H] over <paramref name="keys"/> [n, H].</summary>
    public static void Forward(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, Span<float> weights, Span<float> context)
    {
        int h = query.Length, n = weights.Length;
        Check(h, n, keys.Length, context.Length);
        double max = double.NegativeInfinity;
        for (int j = 0; j < n; j++)
        {
            double s = Dot(query, keys.Slice(j * h, h));
            weights[j] = (float)s;
            max = Math.Max(max, s);
        }

        double sum = 0;
        for (int j = 0; j < n; j++) sum += Math.Exp(weights[j] - max);
        for (int j = 0; j < n; j++) weights[j] = (float)(Math.Exp(weights[j] - max) / sum);
        for (int i = 0; i < h; i++)
        {
            double c = 0;
            for (int j = 0; j < n; j++) c += weights[j] * (double)keys[j * h + i];
            context[i] = (float)c;
        }
    }

    /// <summary>
    /// Backpropagates ∂loss/∂context through the last <see cref="Forward"/> (given its weights): adds ∂loss/∂query to
    /// <paramref name="queryGradient"/> [H] and ∂loss/∂keys to <paramref name="keysGradient"/> [n, H].
    /// ∂α_j = dc·k_j; ∂s_j = α_j(∂α_j − Σ_i α_i·∂α_i); ∂q = Σ_j ∂s_j·k_j; ∂k_j = α_j·dc + ∂s_j·q.
    /// </summary>
    public static void Backward(ReadOnlySpan<float> query, ReadOnlySpan<float> keys, ReadOnlySpan<float> weights, ReadOnlySpan<float> contextGradient,
        Span<float> queryGradient, Span<float> keysGradient)
    {
        int h = query.Length, n = weights.Length;
        Check(h, n, keys.Length, contextGradient.Length);
        if (queryGradient.Length != h || keysGradient.Length != keys.Length)
            throw new ArgumentException($"The gradients take [H={h}] and [n={n}, H={h}] values; got {queryGradient.Length} and {keysGradient.Length}.");
        double mean = 0;
        for (int j = 0; j < n; j++) mean += weights[j] * Dot(contextGradient, keys.Slice(j * h, h));
        for (int j = 0; j < n; j++)
        {
            ReadOnlySpan<float> k = keys.Slice(j * h, h);
            Span<float> dk = keysGradient.Slice(j * h, h);
            float a = weights[j], ds = (float)(a * (Dot(contextGradient, k) - mean));
            for (int i = 0; i < h; i++)
            {
                queryGradient[i] += ds * k[i];
                dk[i] += a * contextGradient[i] + ds * query[i];
            }
        }
    }

    private static double Dot(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        double s = 0;
        for (int i = 0; i < a.Length; i++) s += (double)a[i] * b[i];
        return s;
    }

    private static void Check(int h, int n, int keys, int context)
    {
        if (h == 0 || n == 0) throw new ArgumentException("Attention needs a non-empty query and at least one key.");
        if (keys != (long)n * h || context != h)
            throw new ArgumentException($"The query has H={h} values and there are n={n} weights: keys must be [n, H] ({(long)n * h} values, got {keys}) and the context [H] (got {context}).");
    }
}
