namespace LstmSimd.Kernels;

/// <summary>
/// Each thread's buffer for 16-bit weight blocks widened to fp32 (<see cref="WidenedWeights{TSource}"/>): grown to the
/// largest block the thread has widened, then reused, so steady-state calls allocate nothing.
/// </summary>
internal static class WideningScratch
{
    [ThreadStatic]
    private static AlignedBuffer<float>? t_buffer;

    /// <summary>The start of at least <paramref name="floats"/> floats, 64-byte aligned and pinned, valid until this thread's next call.</summary>
    public static ref float Rent(int floats)
    {
        AlignedBuffer<float>? buffer = t_buffer;
        if (buffer is null || buffer.Length < floats) t_buffer = buffer = new AlignedBuffer<float>(floats);
        return ref buffer.Start;
    }
}
