using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Kernels;
using Xunit;
using Xunit.Sdk;

namespace LstmSimd.Tests.Kernels;

/// <summary>
/// The GEMM behind the backward pass (C (+)= A·B, A row-major or stored transposed) on every path: against a float64
/// product within fp32's rounding bound for a sum of k products, and, bitwise, the same elements whichever whole 4-row
/// tiles and whole vectors of columns a call covers (what a team's split of rows or columns relies on).
/// </summary>
public class GemmTests
{
    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    // Rows across the size where B's column strips are copied contiguous, columns across whole strips and their tails,
    // depths across several K chunks.
    private static Gen<Shape> Shapes() =>
        from m in Gen.Choose(1, 150)
        from n in Gen.Choose(1, 200)
        from k in Gen.Choose(1, 300)
        from transposedA in Gen.Elements(false, true)
        from accumulate in Gen.Elements(false, true)
        from seed in Gen.Choose(0, 1_000_000)
        select new Shape(m, n, k, transposedA, accumulate, seed);

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_element_is_the_float64_product_within_the_rounding_of_k_products(KernelPath path)
    {
        TrainingKernelSet kernels = KernelSelector.Create(path).Training;
        Prop.ForAll(Shapes().ToArbitrary(), shape =>
        {
            Operands o = Operands.Create(shape);
            float[] c = [.. o.C];
            Multiply(kernels, o, c, rowStart: 0, rowEnd: shape.M, columnStart: 0, columnEnd: shape.N);
            // |fl(Σ) − Σ| ≤ γ·Σ|terms| with γ ≈ (k + 1)·2⁻²⁴ for any order of the k products and the added C; twice that as margin.
            double unit = Math.Pow(2, -24) * 2 * (shape.K + 2);
            for (int i = 0; i < shape.M; i++)
            {
                for (int j = 0; j < shape.N; j++)
                {
                    double exact = shape.Accumulate ? o.C[i * o.Ldc + j] : 0, magnitude = Math.Abs(exact);
                    for (int p = 0; p < shape.K; p++)
                    {
                        double term = (double)o.A(i, p) * o.B[p * o.Ldb + j];
                        exact += term;
                        magnitude += Math.Abs(term);
                    }

                    float actual = c[i * o.Ldc + j];
                    if (!(Math.Abs(actual - exact) <= unit * magnitude + 1e-30))
                        throw new XunitException($"{shape}: C[{i}, {j}] = {actual:R}, float64 {exact:R}, bound {unit * magnitude:E3}");
                }
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(KernelSelector.IsAccelerated(path) ? 60 : 15));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_call_over_whole_row_tiles_or_whole_vectors_of_columns_gives_those_elements_bitwise(KernelPath path)
    {
        KernelSet set = KernelSelector.Create(path);
        TrainingKernelSet kernels = set.Training;
        int width = set.Width;
        Prop.ForAll(Shapes().ToArbitrary(), Gen.Choose(0, 1_000_000).ToArbitrary(), (shape, cut) =>
        {
            Operands o = Operands.Create(shape);
            float[] whole = [.. o.C];
            Multiply(kernels, o, whole, 0, shape.M, 0, shape.N);

            // The rows from a multiple of 4 on, and apart from them the columns from a multiple of the width on.
            int rowStart = cut % (shape.M / 4 + 1) * 4, columnStart = cut % (shape.N / width + 1) * width;
            float[] rows = [.. o.C], columns = [.. o.C];
            Multiply(kernels, o, rows, rowStart, shape.M, 0, shape.N);
            Multiply(kernels, o, columns, 0, shape.M, columnStart, shape.N);
            for (int i = 0; i < shape.M; i++)
            {
                for (int j = 0; j < shape.N; j++)
                {
                    int at = i * o.Ldc + j;
                    if (i >= rowStart && BitConverter.SingleToInt32Bits(rows[at]) != BitConverter.SingleToInt32Bits(whole[at]))
                        throw new XunitException($"{shape}: rows from {rowStart}: C[{i}, {j}] = {rows[at]:R}, the whole call's {whole[at]:R}");
                    if (j >= columnStart && BitConverter.SingleToInt32Bits(columns[at]) != BitConverter.SingleToInt32Bits(whole[at]))
                        throw new XunitException($"{shape}: columns from {columnStart}: C[{i}, {j}] = {columns[at]:R}, the whole call's {whole[at]:R}");
                }
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(KernelSelector.IsAccelerated(path) ? 60 : 15));
    }

    /// <summary>C[rowStart..rowEnd, columnStart..columnEnd] (+)= A·B through the kernel set, on views of the operands.</summary>
    private static void Multiply(TrainingKernelSet kernels, Operands o, float[] c, int rowStart, int rowEnd, int columnStart, int columnEnd)
    {
        if (rowStart >= rowEnd || columnStart >= columnEnd) return;
        Shape s = o.Shape;
        int aStart = s.TransposedA ? rowStart : rowStart * o.Lda;
        kernels.Multiply(ref o.AStorage[aStart], o.ARowStride, o.AColumnStride, ref o.B[columnStart], o.Ldb,
            ref c[rowStart * o.Ldc + columnStart], o.Ldc, rowEnd - rowStart, columnEnd - columnStart, s.K, s.Accumulate);
    }

    public sealed record Shape(int M, int N, int K, bool TransposedA, bool Accumulate, int Seed);

    /// <summary>A (row-major [M, lda] or stored transposed [K, lda]), B [K, ldb] and C [M, ldc], rows padded past their lengths.</summary>
    private sealed record Operands(Shape Shape, float[] AStorage, int Lda, float[] B, int Ldb, float[] C, int Ldc)
    {
        public nint ARowStride => Shape.TransposedA ? 1 : Lda;
        public nint AColumnStride => Shape.TransposedA ? Lda : 1;
        public float A(int i, int p) => AStorage[i * ARowStride + p * AColumnStride];

        public static Operands Create(Shape s)
        {
            var random = new Random(s.Seed);
            int lda = (s.TransposedA ? s.M : s.K) + random.Next(3), ldb = s.N + random.Next(3), ldc = s.N + random.Next(3);
            float[] a = Values(random, (s.TransposedA ? s.K : s.M) * lda), b = Values(random, s.K * ldb), c = Values(random, s.M * ldc);
            return new Operands(s, a, lda, b, ldb, c, ldc);
        }

        private static float[] Values(Random random, int count) => [.. Enumerable.Range(0, count).Select(_ => (float)(random.NextDouble() * 2 - 1))];
    }
}
