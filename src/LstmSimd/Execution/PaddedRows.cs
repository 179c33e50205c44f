namespace LstmSimd.Execution;

/// <summary>
/// States between the callers' dense [B, size] tensors and the kernels' rows, padded to whole vectors: one copy rule for
/// initial and final states, saved states and state gradients.
/// </summary>
internal static class PaddedRows
{
    /// <summary>[B, size] (empty for zeros) into rows <paramref name="stride"/> apart, padding lanes zero.</summary>
    public static void Load(ReadOnlySpan<float> source, int size, int batch, Span<float> rows, int stride)
    {
        rows.Slice(0, batch * stride).Clear();
        if (source.IsEmpty) return;
        for (int b = 0; b < batch; b++) source.Slice(b * size, size).CopyTo(rows.Slice(b * stride));
    }

    /// <summary>Rows <paramref name="stride"/> apart into [B, size].</summary>
    public static void Store(ReadOnlySpan<float> rows, int stride, Span<float> destination, int size, int batch)
    {
        for (int b = 0; b < batch; b++) rows.Slice(b * stride, size).CopyTo(destination.Slice(b * size, size));
    }
}
