using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace LstmSimd.Kernels;

/// <summary>
/// C[m, n] = (C[m, n] +) Σ_k A(m, k)·B[k, n] for one vector width: the GEMM behind the backward pass.
/// A is addressed through two strides, A(m, k) = a[m·aRowStride + k·aColumnStride], so the same kernel
/// computes A·B (A row-major: strides lda, 1) and Aᵀ·B (A stored [K, M]: strides 1, lda), which is how the
/// weight gradients Σ_t dG_tᵀ·x_t are taken over all steps at once. B and C are row-major with any row stride.
/// </summary>
/// <remarks>
/// Register blocking: four rows of C × two vectors of columns (8 accumulators, 8 FMA chains in flight; each
/// B load feeds four FMAs), then one-row and one-vector edges, and the columns left over after whole vectors
/// run through the scalar instantiation of the same code. K is split into chunks so that the chunk of B a
/// column strip reads stays in L1 while every row block of A passes over it; where enough row blocks reuse them,
/// the chunk's strips are first copied contiguous (see <see cref="StripColumns"/>). For Aᵀ·B, where the four values a
/// row block needs at each k sit in a different row of the stored A (a page apart for wide matrices), each chunk
/// of A is first packed so that a row block reads it front to back ([block][k][4 rows]). Copies move values, never
/// the order of an element's sums: an element's bits do not depend on which rows or columns a call covers with it.
/// </remarks>
internal static class Gemm<TVec> where TVec : struct, ISimdVector<TVec>
{
    private const int KChunk = 128, RowBlock = 4; // a chunk of a 64-column strip: 32 KiB

    // A column strip is what one register tile spans. Read in place, a strip's rows sit a whole row of B apart (for
    // real models a multiple of 1 KiB), so they fall into a quarter of L1's sets or fewer and evict each other: every
    // tile would read B from L2. Copied contiguous, a strip's chunk stays in L1 for every row block. The copy pays for
    // itself only where many row blocks reuse the strip.
    private static int StripColumns => (WideTiles ? 4 : 2) * TVec.Count;
    private const int MinRowsToPackB = 64;

    [ThreadStatic]
    private static float[]? t_packed, t_packedB; // grown once per thread, so warm calls allocate nothing

    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Multiply(ref float a, nint aRowStride, nint aColumnStride, ref float b, nint bRowStride,
        ref float c, nint cRowStride, int m, int n, int k, bool accumulate)
    {
        if (m <= 0 || n <= 0) return;
        if (k <= 0)
        {
            if (!accumulate) ClearRows(ref c, cRowStride, m, n);
            return;
        }

        bool pack = aRowStride == 1 && aColumnStride > RowBlock && m >= RowBlock && n > TVec.Count;
        float[] packed = pack ? PackBuffer(ref t_packed, (m + RowBlock - 1) / RowBlock * RowBlock * KChunk) : []; // a whole chunk, so a longer K later needs no larger buffer
        int strip = StripColumns, strips = m >= MinRowsToPackB ? n / strip : 0;
        float[] packedB = strips > 0 ? PackBuffer(ref t_packedB, strips * strip * KChunk) : [];
        for (int k0 = 0; k0 < k; k0 += KChunk)
        {
            int kc = Math.Min(KChunk, k - k0);
            ref float chunk = ref Unsafe.Add(ref a, k0 * aColumnStride);
            ref float bChunk = ref Unsafe.Add(ref b, k0 * bRowStride);
            bool chunkAccumulates = accumulate || k0 > 0;
            nint rs = aRowStride, cs = aColumnStride, blockStride = RowBlock * aRowStride;
            if (pack)
            {
                Pack(ref chunk, aColumnStride, m, kc, packed);
                chunk = ref packed[0];
                (rs, cs, blockStride) = (1, RowBlock, RowBlock * kc);
            }

            // Whole strips of columns from a contiguous copy (see StripColumns), the rest from B as it lies.
            if (strips > 0) PackStrips(ref bChunk, bRowStride, kc, strips, packedB);
            for (int s = 0; s < strips; s++)
                Chunk(ref chunk, rs, cs, blockStride, ref packedB[s * strip * kc], strip, ref Unsafe.Add(ref c, s * strip), cRowStride, m, strip, kc, chunkAccumulates);
            int done = strips * strip;
            Chunk(ref chunk, rs, cs, blockStride, ref Unsafe.Add(ref bChunk, done), bRowStride, ref Unsafe.Add(ref c, done), cRowStride, m, n - done, kc, chunkAccumulates);
        }
    }

    private static float[] PackBuffer(ref float[]? buffer, int length)
    {
        if (buffer is null || buffer.Length < length) buffer = new float[length];
        return buffer;
    }

    /// <summary>B(k, s·strip + j) for k &lt; kc into [s][kc][strip], strip after strip.</summary>
    private static void PackStrips(ref float b, nint ldb, int kc, int strips, float[] packed)
    {
        int strip = StripColumns;
        for (int s = 0; s < strips; s++)
        {
            ref float source = ref Unsafe.Add(ref b, s * strip);
            ref float destination = ref packed[s * strip * kc];
            for (int k = 0; k < kc; k++)
                Unsafe.CopyBlockUnaligned(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref destination, k * strip)),
                    ref Unsafe.As<float, byte>(ref Unsafe.Add(ref source, k * ldb)), (uint)(strip * sizeof(float)));
        }
    }

    /// <summary>A(m, k) = a[m + k·stride] for k &lt; kc into [m / 4][kc][4] (the last block padded).</summary>
    private static void Pack(ref float a, nint stride, int m, int kc, float[] packed)
    {
        // Sixteen blocks (64 values of each stored row) at a time: reads stay within a few cache lines per row and
        // writes within sixteen pages.
        const int Group = 16;
        int blocks = m / RowBlock;
        for (int first = 0; first < blocks; first += Group)
        {
            int last = Math.Min(blocks, first + Group);
            for (int k = 0; k < kc; k++)
            {
                ref float row = ref Unsafe.Add(ref a, k * stride);
                for (int block = first; block < last; block++)
                    Vector128.LoadUnsafe(ref Unsafe.Add(ref row, block * RowBlock)).StoreUnsafe(ref packed[(block * kc + k) * RowBlock]);
            }
        }

        for (int k = 0; k < kc; k++)
        {
            ref float row = ref Unsafe.Add(ref a, k * stride);
            for (int r = blocks * RowBlock; r < m; r++)
                packed[(blocks * kc + k) * RowBlock + r - blocks * RowBlock] = Unsafe.Add(ref row, r);
        }
    }

    private static void ClearRows(ref float c, nint cRowStride, int m, int n)
    {
        for (int row = 0; row < m; row++)
            System.Runtime.InteropServices.MemoryMarshal.CreateSpan(ref Unsafe.Add(ref c, row * cRowStride), n).Clear();
    }

    /// <summary>One K chunk; row r of A starts at a + (r / 4)·blockStride + (r % 4)·rs (blockStride = 4·rs unless packed).</summary>
    [SkipLocalsInit]
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Chunk(ref float a, nint rs, nint cs, nint blockStride, ref float b, nint ldb, ref float c, nint ldc, int m, int n, int k, bool accumulate)
    {
        int width = TVec.Count, col = 0;
        if (WideTiles)
        {
            for (; col + 4 * width <= n; col += 4 * width)
            {
                int row = 0;
                for (; row + RowBlock <= m; row += RowBlock)
                    FourByFour(ref Unsafe.Add(ref a, row / RowBlock * blockStride), rs, cs, ref Unsafe.Add(ref b, col), ldb, ref Unsafe.Add(ref c, row * ldc + col), ldc, k, accumulate);
                for (; row < m; row++)
                {
                    OneByTwo(ref Row(ref a, row, rs, blockStride), cs, ref Unsafe.Add(ref b, col), ldb, ref Unsafe.Add(ref c, row * ldc + col), k, accumulate);
                    OneByTwo(ref Row(ref a, row, rs, blockStride), cs, ref Unsafe.Add(ref b, col + 2 * width), ldb, ref Unsafe.Add(ref c, row * ldc + col + 2 * width), k, accumulate);
                }
            }
        }

        for (; col + 2 * width <= n; col += 2 * width)
        {
            int row = 0;
            for (; row + RowBlock <= m; row += RowBlock)
                FourByTwo(ref Unsafe.Add(ref a, row / RowBlock * blockStride), rs, cs, ref Unsafe.Add(ref b, col), ldb, ref Unsafe.Add(ref c, row * ldc + col), ldc, k, accumulate);
            for (; row < m; row++)
                OneByTwo(ref Row(ref a, row, rs, blockStride), cs, ref Unsafe.Add(ref b, col), ldb, ref Unsafe.Add(ref c, row * ldc + col), k, accumulate);
        }

        for (; col + width <= n; col += width)
        {
            int row = 0;
            for (; row + RowBlock <= m; row += RowBlock)
                FourByOne(ref Unsafe.Add(ref a, row / RowBlock * blockStride), rs, cs, ref Unsafe.Add(ref b, col), ldb, ref Unsafe.Add(ref c, row * ldc + col), ldc, k, accumulate);
            for (; row < m; row++)
                OneByOne(ref Row(ref a, row, rs, blockStride), cs, ref Unsafe.Add(ref b, col), ldb, ref Unsafe.Add(ref c, row * ldc + col), k, accumulate);
        }

        if (col < n && width > 1)
            Gemm<VecScalar>.Chunk(ref a, rs, cs, blockStride, ref Unsafe.Add(ref b, col), ldb, ref Unsafe.Add(ref c, col), ldc, m, n - col, k, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static ref float Row(ref float a, int row, nint rs, nint blockStride) =>
        ref Unsafe.Add(ref a, row / RowBlock * blockStride + row % RowBlock * rs);

    /// <summary>
    /// Four vectors of columns per tile where there are 32 vector registers (AVX-512 at every width, Arm64):
    /// 16 accumulators + 4 B vectors + a broadcast; x64 without AVX-512 has 16 and keeps the 4 × 2 tile.
    /// </summary>
    private static bool WideTiles => Avx512F.IsSupported || AdvSimd.Arm64.IsSupported;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourByFour(ref float a, nint rs, nint cs, ref float b, nint ldb, ref float c, nint ldc, int k, bool accumulate)
    {
        int width = TVec.Count;
        nint rs2 = 2 * rs, rs3 = 3 * rs;
        TVec c00 = TVec.Zero, c01 = TVec.Zero, c02 = TVec.Zero, c03 = TVec.Zero, c10 = TVec.Zero, c11 = TVec.Zero, c12 = TVec.Zero, c13 = TVec.Zero;
        TVec c20 = TVec.Zero, c21 = TVec.Zero, c22 = TVec.Zero, c23 = TVec.Zero, c30 = TVec.Zero, c31 = TVec.Zero, c32 = TVec.Zero, c33 = TVec.Zero;
        ref float ap = ref a;
        ref float bp = ref b;
        for (int p = 0; p < k; p++)
        {
            TVec b0 = TVec.Load(in bp), b1 = TVec.Load(in Unsafe.Add(ref bp, width));
            TVec b2 = TVec.Load(in Unsafe.Add(ref bp, 2 * width)), b3 = TVec.Load(in Unsafe.Add(ref bp, 3 * width));
            TVec s = TVec.Create(ap);
            c00 = TVec.MultiplyAdd(b0, s, c00);
            c01 = TVec.MultiplyAdd(b1, s, c01);
            c02 = TVec.MultiplyAdd(b2, s, c02);
            c03 = TVec.MultiplyAdd(b3, s, c03);
            s = TVec.Create(Unsafe.Add(ref ap, rs));
            c10 = TVec.MultiplyAdd(b0, s, c10);
            c11 = TVec.MultiplyAdd(b1, s, c11);
            c12 = TVec.MultiplyAdd(b2, s, c12);
            c13 = TVec.MultiplyAdd(b3, s, c13);
            s = TVec.Create(Unsafe.Add(ref ap, rs2));
            c20 = TVec.MultiplyAdd(b0, s, c20);
            c21 = TVec.MultiplyAdd(b1, s, c21);
            c22 = TVec.MultiplyAdd(b2, s, c22);
            c23 = TVec.MultiplyAdd(b3, s, c23);
            s = TVec.Create(Unsafe.Add(ref ap, rs3));
            c30 = TVec.MultiplyAdd(b0, s, c30);
            c31 = TVec.MultiplyAdd(b1, s, c31);
            c32 = TVec.MultiplyAdd(b2, s, c32);
            c33 = TVec.MultiplyAdd(b3, s, c33);
            ap = ref Unsafe.Add(ref ap, cs);
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        ref float c1 = ref Unsafe.Add(ref c, ldc);
        ref float c2 = ref Unsafe.Add(ref c, 2 * ldc);
        ref float c3 = ref Unsafe.Add(ref c, 3 * ldc);
        StorePair(c00, c01, ref c, accumulate);
        StorePair(c02, c03, ref Unsafe.Add(ref c, 2 * width), accumulate);
        StorePair(c10, c11, ref c1, accumulate);
        StorePair(c12, c13, ref Unsafe.Add(ref c1, 2 * width), accumulate);
        StorePair(c20, c21, ref c2, accumulate);
        StorePair(c22, c23, ref Unsafe.Add(ref c2, 2 * width), accumulate);
        StorePair(c30, c31, ref c3, accumulate);
        StorePair(c32, c33, ref Unsafe.Add(ref c3, 2 * width), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourByTwo(ref float a, nint rs, nint cs, ref float b, nint ldb, ref float c, nint ldc, int k, bool accumulate)
    {
        int width = TVec.Count;
        nint rs2 = 2 * rs, rs3 = 3 * rs;
        TVec c00 = TVec.Zero, c01 = TVec.Zero, c10 = TVec.Zero, c11 = TVec.Zero;
        TVec c20 = TVec.Zero, c21 = TVec.Zero, c30 = TVec.Zero, c31 = TVec.Zero;
        ref float ap = ref a;
        ref float bp = ref b;
        for (int p = 0; p < k; p++)
        {
            TVec b0 = TVec.Load(in bp), b1 = TVec.Load(in Unsafe.Add(ref bp, width));
            TVec s = TVec.Create(ap);
            c00 = TVec.MultiplyAdd(b0, s, c00);
            c01 = TVec.MultiplyAdd(b1, s, c01);
            s = TVec.Create(Unsafe.Add(ref ap, rs));
            c10 = TVec.MultiplyAdd(b0, s, c10);
            c11 = TVec.MultiplyAdd(b1, s, c11);
            s = TVec.Create(Unsafe.Add(ref ap, rs2));
            c20 = TVec.MultiplyAdd(b0, s, c20);
            c21 = TVec.MultiplyAdd(b1, s, c21);
            s = TVec.Create(Unsafe.Add(ref ap, rs3));
            c30 = TVec.MultiplyAdd(b0, s, c30);
            c31 = TVec.MultiplyAdd(b1, s, c31);
            ap = ref Unsafe.Add(ref ap, cs);
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        StorePair(c00, c01, ref c, accumulate);
        StorePair(c10, c11, ref Unsafe.Add(ref c, ldc), accumulate);
        StorePair(c20, c21, ref Unsafe.Add(ref c, 2 * ldc), accumulate);
        StorePair(c30, c31, ref Unsafe.Add(ref c, 3 * ldc), accumulate);
    }

    /// <summary>One row: even and odd k go to separate accumulators, so four FMA chains are in flight (batch 1 lives here).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OneByTwo(ref float a, nint cs, ref float b, nint ldb, ref float c, int k, bool accumulate)
    {
        int width = TVec.Count;
        TVec e0 = TVec.Zero, e1 = TVec.Zero, o0 = TVec.Zero, o1 = TVec.Zero;
        ref float ap = ref a;
        ref float bp = ref b;
        int p = 0;
        for (; p + 2 <= k; p += 2)
        {
            TVec s = TVec.Create(ap), t = TVec.Create(Unsafe.Add(ref ap, cs));
            ref float bq = ref Unsafe.Add(ref bp, ldb);
            e0 = TVec.MultiplyAdd(TVec.Load(in bp), s, e0);
            e1 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref bp, width)), s, e1);
            o0 = TVec.MultiplyAdd(TVec.Load(in bq), t, o0);
            o1 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref bq, width)), t, o1);
            ap = ref Unsafe.Add(ref ap, 2 * cs);
            bp = ref Unsafe.Add(ref bp, 2 * ldb);
        }

        if (p < k)
        {
            TVec s = TVec.Create(ap);
            e0 = TVec.MultiplyAdd(TVec.Load(in bp), s, e0);
            e1 = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref bp, width)), s, e1);
        }

        StorePair(e0 + o0, e1 + o1, ref c, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void FourByOne(ref float a, nint rs, nint cs, ref float b, nint ldb, ref float c, nint ldc, int k, bool accumulate)
    {
        nint rs2 = 2 * rs, rs3 = 3 * rs;
        TVec c0 = TVec.Zero, c1 = TVec.Zero, c2 = TVec.Zero, c3 = TVec.Zero;
        ref float ap = ref a;
        ref float bp = ref b;
        for (int p = 0; p < k; p++)
        {
            TVec b0 = TVec.Load(in bp);
            c0 = TVec.MultiplyAdd(b0, TVec.Create(ap), c0);
            c1 = TVec.MultiplyAdd(b0, TVec.Create(Unsafe.Add(ref ap, rs)), c1);
            c2 = TVec.MultiplyAdd(b0, TVec.Create(Unsafe.Add(ref ap, rs2)), c2);
            c3 = TVec.MultiplyAdd(b0, TVec.Create(Unsafe.Add(ref ap, rs3)), c3);
            ap = ref Unsafe.Add(ref ap, cs);
            bp = ref Unsafe.Add(ref bp, ldb);
        }

        StoreOne(c0, ref c, accumulate);
        StoreOne(c1, ref Unsafe.Add(ref c, ldc), accumulate);
        StoreOne(c2, ref Unsafe.Add(ref c, 2 * ldc), accumulate);
        StoreOne(c3, ref Unsafe.Add(ref c, 3 * ldc), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void OneByOne(ref float a, nint cs, ref float b, nint ldb, ref float c, int k, bool accumulate)
    {
        TVec even = TVec.Zero, odd = TVec.Zero;
        ref float ap = ref a;
        ref float bp = ref b;
        int p = 0;
        for (; p + 2 <= k; p += 2)
        {
            even = TVec.MultiplyAdd(TVec.Load(in bp), TVec.Create(ap), even);
            odd = TVec.MultiplyAdd(TVec.Load(in Unsafe.Add(ref bp, ldb)), TVec.Create(Unsafe.Add(ref ap, cs)), odd);
            ap = ref Unsafe.Add(ref ap, 2 * cs);
            bp = ref Unsafe.Add(ref bp, 2 * ldb);
        }

        if (p < k) even = TVec.MultiplyAdd(TVec.Load(in bp), TVec.Create(ap), even);
        StoreOne(even + odd, ref c, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StorePair(TVec v0, TVec v1, ref float c, bool accumulate)
    {
        StoreOne(v0, ref c, accumulate);
        StoreOne(v1, ref Unsafe.Add(ref c, TVec.Count), accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreOne(TVec v, ref float c, bool accumulate) =>
        TVec.Store(accumulate ? TVec.Load(in c) + v : v, ref c);
}
