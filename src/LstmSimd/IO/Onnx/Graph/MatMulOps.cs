using LstmSimd.Kernels;

namespace LstmSimd.IO.Onnx.Graph;

/// <summary><c>MatMul</c> with numpy semantics: 1-D operands promoted, batch dims broadcast; a 2-D right operand multiplies every row at once.</summary>
internal sealed class MatMulOp : OnnxOp
{
    public override int MinInputs => 2;

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor a = c.FloatInput(0, "A"), b = c.FloatInput(1, "B");
        if (a.Dims.Length == 0 || b.Dims.Length == 0) throw c.Node.Fail("MatMul takes no scalars");
        int[] da = a.Dims.Length == 1 ? [1, a.Dims[0]] : a.Dims, db = b.Dims.Length == 1 ? [b.Dims[0], 1] : b.Dims;
        int m = da[^2], k = da[^1], n = db[^1];
        if (db[^2] != k) throw c.Node.Fail($"{a.ShapeText} and {b.ShapeText} do not multiply");
        int[] batch = StridedLoops.Broadcast(da[..^2], db[..^2]) ?? throw c.Node.Fail($"the batch dims of {a.ShapeText} and {b.ShapeText} do not broadcast");
        List<int> shape = [.. batch];
        if (a.Dims.Length > 1) shape.Add(m);
        if (b.Dims.Length > 1) shape.Add(n);
        float[] x = a.Floats, w = b.Floats, y = c.Output(0, OnnxElementKind.Float, [.. shape]).Floats;
        float[] lanes = new float[DenseMath.Lanes * n];
        if (db.Length == 2)
        {
            int rows = (int)(OnnxTensor.ElementCount(da) / k);
            return () => Multiply(x, 0, w, 0, y, 0, rows, k, n, lanes);
        }

        // One product per batch index, each operand's matrix found through its broadcast strides (in matrices).
        int count = (int)OnnxTensor.ElementCount(batch);
        int[] offsetsA = MatrixOffsets(da[..^2], batch, m * k), offsetsB = MatrixOffsets(db[..^2], batch, k * n);
        return () =>
        {
            for (int i = 0; i < count; i++) Multiply(x, offsetsA[i], w, offsetsB[i], y, i * m * n, m, k, n, lanes);
        };
    }

    /// <summary>
    /// y[r, j] = Σ_k x[r, k] · w[k, j] in the linear heads' order (<see cref="DenseMath.Dot(ReadOnlySpan{float}, ReadOnlySpan{float})"/>:
    /// a head exported as MatMul and Add gives the same bits here as in <see cref="LinearHead"/>), row by row as sums of scaled rows of w: one partial row
    /// per lane in <paramref name="lanes"/> (8 × n floats), combined, then the tail's rows added in order.
    /// </summary>
    private static void Multiply(float[] x, int xStart, float[] w, int wStart, float[] y, int yStart, int rows, int k, int n, float[] lanes)
    {
        int whole = k / DenseMath.Lanes * DenseMath.Lanes;
        for (int r = 0; r < rows; r++)
        {
            Span<float> row = y.AsSpan(yStart + r * n, n);
            lanes.AsSpan().Clear();
            for (int p = 0; p < whole; p++) AddScaledRow(x[xStart + r * k + p], w.AsSpan(wStart + p * n, n), lanes.AsSpan(p % DenseMath.Lanes * n, n));
            for (int j = 0; j < n; j++)
                row[j] = DenseMath.Combine(lanes[j], lanes[n + j], lanes[2 * n + j], lanes[3 * n + j], lanes[4 * n + j], lanes[5 * n + j], lanes[6 * n + j], lanes[7 * n + j]);
            for (int p = whole; p < k; p++) AddScaledRow(x[xStart + r * k + p], w.AsSpan(wStart + p * n, n), row);
        }
    }

    private static void AddScaledRow(float scale, ReadOnlySpan<float> source, Span<float> destination)
    {
        for (int j = 0; j < destination.Length; j++) destination[j] += scale * source[j];
    }

    private static int[] MatrixOffsets(int[] own, int[] batch, int matrix)
    {
        int[] strides = StridedLoops.BroadcastStrides(own, batch);
        var offsets = new int[OnnxTensor.ElementCount(batch)];
        var index = new int[batch.Length];
        for (int i = 0; i < offsets.Length; i++)
        {
            int offset = 0;
            for (int d = 0; d < batch.Length; d++) offset += index[d] * strides[d];
            offsets[i] = offset * matrix;
            for (int d = batch.Length - 1; d >= 0 && ++index[d] == batch[d]; d--) index[d] = 0;
        }

        return offsets;
    }
}

/// <summary><c>Gemm</c>: Y = alpha·A'·B' + beta·C, A' and B' optionally transposed, C broadcast to [M, N].</summary>
internal sealed class GemmOp : OnnxOp
{
    public override IReadOnlyList<string> Attributes => ["alpha", "beta", "transA", "transB"];

    public override int MinInputs => 2;

    public override int MaxInputs => 3;

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor a = c.FloatInput(0, "A"), b = c.FloatInput(1, "B");
        OnnxTensor? bias = c.Input(2) is null ? null : c.FloatInput(2, "C");
        if (a.Dims.Length != 2 || b.Dims.Length != 2) throw c.Node.Fail($"A {a.ShapeText} and B {b.ShapeText} must be matrices");
        bool ta = c.Node.Int("transA", 0) != 0, tb = c.Node.Int("transB", 0) != 0;
        int m = ta ? a.Dims[1] : a.Dims[0], k = ta ? a.Dims[0] : a.Dims[1];
        int kb = tb ? b.Dims[1] : b.Dims[0], n = tb ? b.Dims[0] : b.Dims[1];
        if (k != kb) throw c.Node.Fail($"A {a.ShapeText} and B {b.ShapeText} do not multiply (transA {(ta ? 1 : 0)}, transB {(tb ? 1 : 0)})");
        float alpha = c.Node.Float("alpha", 1), beta = c.Node.Float("beta", 1);
        int[] shape = [m, n];
        if (bias is not null && (bias.Dims.Length > 2 || StridedLoops.Broadcast(bias.Dims, shape) is not [int bm, int bn] || bm != m || bn != n))
            throw c.Node.Fail($"C {bias.ShapeText} does not broadcast to [{m}, {n}]");
        int[] biasStrides = bias is null ? [0, 0] : StridedLoops.BroadcastStrides(bias.Dims, shape);
        float[] x = a.Floats, w = b.Floats, y = c.Output(0, OnnxElementKind.Float, shape).Floats, cb = bias?.Floats ?? [];
        // Element (i, p) of A' and (p, j) of B' through row and column steps, so the transposes cost nothing.
        int aRow = ta ? 1 : k, aCol = ta ? m : 1, bRow = tb ? 1 : n, bCol = tb ? k : 1;
        return () =>
        {
            for (int i = 0; i < m; i++)
            {
                for (int j = 0; j < n; j++)
                {
                    float sum = DenseMath.Dot(x, i * aRow, aCol, w, j * bCol, bRow, k);
                    y[i * n + j] = alpha * sum + (cb.Length == 0 ? 0 : beta * cb[i * biasStrides[0] + j * biasStrides[1]]);
                }
            }
        };
    }
}

