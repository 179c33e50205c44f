namespace LstmSimd.IO.Onnx.Graph;

/// <summary>A per-row body for <see cref="StridedLoops.ForEachRow"/>: the row's first output element and first element of each input.</summary>
internal interface IRowBody
{
    void Row(int output, int a, int b, int c, int length);
}

/// <summary>An elementwise function of two values.</summary>
internal interface IBinaryFunction<TIn, TOut>
{
    static abstract TOut Apply(TIn a, TIn b);
}

/// <summary>
/// The one loop behind every movement and elementwise operator: the output is walked row by row (its last dimension), each
/// input through its own strides, which are 0 along broadcast dimensions, permuted for a transpose, scaled for a slice.
/// </summary>
internal static class StridedLoops
{
    /// <summary>Row-major strides of <paramref name="shape"/>.</summary>
    public static int[] Contiguous(ReadOnlySpan<int> shape)
    {
        var strides = new int[shape.Length];
        int stride = 1;
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            strides[d] = stride;
            stride *= shape[d];
        }

        return strides;
    }

    /// <summary>The numpy broadcast of two shapes, or null when they do not broadcast.</summary>
    public static int[]? Broadcast(int[] a, int[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new int[rank];
        for (int d = 0; d < rank; d++)
        {
            int x = d - (rank - a.Length) >= 0 ? a[d - (rank - a.Length)] : 1;
            int y = d - (rank - b.Length) >= 0 ? b[d - (rank - b.Length)] : 1;
            if (x != y && x != 1 && y != 1) return null;
            shape[d] = x == 1 ? y : x;
        }

        return shape;
    }

    /// <summary>The strides that read a tensor of <paramref name="shape"/> broadcast to <paramref name="output"/>: 0 along its size-1 and missing dims.</summary>
    public static int[] BroadcastStrides(int[] shape, int[] output)
    {
        int[] own = Contiguous(shape);
        var strides = new int[output.Length];
        for (int d = 0; d < output.Length; d++)
        {
            int k = d - (output.Length - shape.Length);
            strides[d] = k >= 0 && shape[k] != 1 ? own[k] : 0;
        }

        return strides;
    }

    /// <summary>Calls <paramref name="body"/> once per row of <paramref name="shape"/> with each input's offset advanced by its strides.</summary>
    public static void ForEachRow<TBody>(ref TBody body, ReadOnlySpan<int> shape, ReadOnlySpan<int> a, ReadOnlySpan<int> b, ReadOnlySpan<int> c,
        int startA = 0)
        where TBody : struct, IRowBody
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            body.Row(0, startA, 0, 0, 1);
            return;
        }

        foreach (int d in shape)
            if (d == 0) return;
        int inner = shape[rank - 1];
        Span<int> index = stackalloc int[rank];
        index.Clear();
        int offsetA = startA, offsetB = 0, offsetC = 0;
        for (int output = 0; ; output += inner)
        {
            body.Row(output, offsetA, offsetB, offsetC, inner);
            int d = rank - 2;
            for (; d >= 0; d--)
            {
                offsetA += a.IsEmpty ? 0 : a[d];
                offsetB += b.IsEmpty ? 0 : b[d];
                offsetC += c.IsEmpty ? 0 : c[d];
                if (++index[d] < shape[d]) break;
                offsetA -= a.IsEmpty ? 0 : a[d] * shape[d];
                offsetB -= b.IsEmpty ? 0 : b[d] * shape[d];
                offsetC -= c.IsEmpty ? 0 : c[d] * shape[d];
                index[d] = 0;
            }

            if (d < 0) return;
        }
    }

    /// <summary>Copies <paramref name="source"/>, read from <paramref name="start"/> through <paramref name="strides"/>, into the contiguous <paramref name="destination"/> of <paramref name="shape"/>.</summary>
    public static void Copy<T>(T[] source, int start, int[] strides, T[] destination, int[] shape)
    {
        var body = new CopyRows<T>(source, destination, strides.Length == 0 ? 1 : strides[^1]);
        ForEachRow(ref body, shape, strides, default, default, start);
    }

    /// <summary>destination = f(a, b) elementwise, with broadcasting through the strides.</summary>
    public static void Binary<TIn, TOut, TFunction>(TIn[] a, int[] stridesA, TIn[] b, int[] stridesB, TOut[] destination, int[] shape)
        where TFunction : IBinaryFunction<TIn, TOut>
    {
        var body = new BinaryRows<TIn, TOut, TFunction>(a, b, destination, stridesA.Length == 0 ? 1 : stridesA[^1], stridesB.Length == 0 ? 1 : stridesB[^1]);
        ForEachRow(ref body, shape, stridesA, stridesB, default);
    }

    /// <summary>destination = condition ? x : y elementwise, with broadcasting (ONNX <c>Where</c>).</summary>
    public static void Select<T>(long[] condition, int[] stridesCondition, T[] x, int[] stridesX, T[] y, int[] stridesY, T[] destination, int[] shape)
    {
        var body = new SelectRows<T>(condition, x, y, destination, Last(stridesCondition), Last(stridesX), Last(stridesY));
        ForEachRow(ref body, shape, stridesCondition, stridesX, stridesY);
    }

    private static int Last(int[] strides) => strides.Length == 0 ? 1 : strides[^1];

    private readonly struct CopyRows<T>(T[] source, T[] destination, int step) : IRowBody
    {
        public void Row(int output, int a, int b, int c, int length)
        {
            if (step == 1)
            {
                source.AsSpan(a, length).CopyTo(destination.AsSpan(output, length));
                return;
            }

            for (int k = 0; k < length; k++) destination[output + k] = source[a + k * step];
        }
    }

    private readonly struct BinaryRows<TIn, TOut, TFunction>(TIn[] x, TIn[] y, TOut[] destination, int stepX, int stepY) : IRowBody
        where TFunction : IBinaryFunction<TIn, TOut>
    {
        public void Row(int output, int a, int b, int c, int length)
        {
            for (int k = 0; k < length; k++) destination[output + k] = TFunction.Apply(x[a + k * stepX], y[b + k * stepY]);
        }
    }

    private readonly struct SelectRows<T>(long[] condition, T[] x, T[] y, T[] destination, int stepCondition, int stepX, int stepY) : IRowBody
    {
        public void Row(int output, int a, int b, int c, int length)
        {
            for (int k = 0; k < length; k++) destination[output + k] = condition[a + k * stepCondition] != 0 ? x[b + k * stepX] : y[c + k * stepY];
        }
    }
}
