using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace LstmSimd.Kernels;

/// <summary>
/// A weight matrix repacked once so that a kernel streams it front to back: PyTorch's
/// <c>[gates·units, depth]</c> (gate-major rows, as <c>weight_ih</c> and <c>weight_hh</c> are) becomes blocks of
/// <c>Width</c> units; inside a block, for each k, the <c>Width</c> weights of gate 0, then of gate 1, and so on.
/// One pass over a block leaves every gate of those units in registers, which is what lets the cell
/// epilogue run without a round trip through memory. Units past the end of the last block are zero.
/// The elements are stored in a <see cref="WeightFormat"/> (fp32, or 16-bit to halve the bytes a step streams); 16-bit
/// blocks interleave k and k + 1 in one word per row (see <see cref="IWeightFormat.PairBytes"/>), and Int8 blocks group
/// four k per lane and end with per-row scales (see <see cref="Int8Weights"/>).
/// </summary>
internal sealed class PackedPanel
{
    private PackedPanel(WeightFormat format, Float16Codes codes, GateLayout layout, int units, int depth, int width)
    {
        Format = format;
        Float16Codes = codes;
        Layout = layout;
        Gates = GateLayouts.Count(layout);
        Units = units;
        Depth = depth;
        Width = width;
        Blocks = BlocksOf(units, width);
        Data = new AlignedBuffer<byte>(Sizes.Elements("packed panel bytes (blocks × bytes per block)", Blocks, BlockBytes));
        _sourceGates = new int[Gates];
        for (int gate = 0; gate < Gates; gate++) _sourceGates[gate] = GateLayouts.SourceGate(layout, gate);
    }

    /// <summary>The packed weights: <see cref="Blocks"/> blocks of <see cref="BlockBytes"/> (<see cref="Depth"/> × <see cref="Gates"/> × <see cref="Width"/> elements of <see cref="Format"/>).</summary>
    private AlignedBuffer<byte> Data { get; }

    public WeightFormat Format { get; }

    /// <summary>How a Float16 panel codes its halves (see <see cref="Float16Bits"/>).</summary>
    public Float16Codes Float16Codes { get; }

    /// <summary>The first element, for kernels that address the panel in elements of their format.</summary>
    public ref byte Start => ref Data.Start;

    /// <summary>
    /// A small 16-bit panel's weights as fp32 (each rounded to the format, so the same values), packed as an fp32 panel: the
    /// kernels that read a panel for a whole call (a batch-1 sequence's steps, the input projection) run the fp32 kernel over
    /// it (see <see cref="KeepsWidenedCopy"/>). Null for fp32 and Int8 panels, for larger ones and for the panels those kernels do not
    /// read (W_hr, the original GRU's second products).
    /// </summary>
    public PackedPanel? WidenedCopy { get; private set; }

    /// <summary>
    /// Whether a 16-bit panel also keeps its weights as fp32 (<see cref="WidenedCopy"/>): where that fp32 panel is read from L1
    /// or L2 at every step of a batch-1 sequence (up to 128 KiB, beside a 16-bit panel of 64 KiB), the 16-bit format saves no
    /// bandwidth and widening it would only add work to every step or every call. For bfloat16, whose widening is one operation
    /// a vector, only where the fp32 panel stays in L1 (32 KiB): beyond, the half-size panel that stays in a nearer cache is
    /// worth more.
    /// </summary>
    public static bool KeepsWidenedCopy(WeightFormat format, nint float32Bytes) =>
        format switch
        {
            WeightFormat.Float16 => float32Bytes <= 128 << 10,
            WeightFormat.BFloat16 => float32Bytes <= 32 << 10,
            _ => false,
        };

    /// <summary>Which gates the panel holds and where their products land.</summary>
    public GateLayout Layout { get; }

    /// <summary>Gate rows per hidden unit (see <see cref="Layout"/>).</summary>
    public int Gates { get; }

    /// <summary>Per panel gate, its gate-major row block in the weights packed (a GRU's panels skip the four-slot layout's zero rows).</summary>
    private readonly int[] _sourceGates;

    public int Units { get; }

    public int Depth { get; }

    public int Width { get; }

    public int Blocks { get; }

    /// <summary>Units rounded up to whole blocks: the row length of the buffers this panel's kernels write.</summary>
    public int PaddedUnits => Blocks * Width;

    /// <summary>The row length of the pre-activations a gate panel's products land in: every slot of every padded unit.</summary>
    public int SlotRowLength => GateLayouts.Slots * PaddedUnits;

    /// <summary>Blocks of <paramref name="width"/> units that hold <paramref name="units"/> units.</summary>
    public static int BlocksOf(int units, int width) => (int)(((long)units + width - 1) / width);

    /// <summary>Bytes from one block to the next.</summary>
    public nint BlockBytes => BlockBytesOf(Format, Depth, Gates * Width);

    /// <summary>The kernels' block size (each format's <see cref="IWeightFormat.BlockBytes"/>), for a format known only at run time.</summary>
    public static nint BlockBytesOf(WeightFormat format, int depth, int rows) => format switch
    {
        WeightFormat.Float32 => Float32Weights.BlockBytes(depth, rows),
        WeightFormat.Float16 => Float16Weights.BlockBytes(depth, rows),
        WeightFormat.BFloat16 => BFloat16Weights.BlockBytes(depth, rows),
        WeightFormat.Int8 => Int8Weights.BlockBytes(depth, rows),
        _ => throw new ArgumentOutOfRangeException(nameof(format), format, "Unknown weight format."),
    };

    /// <summary>
    /// Packs the gates of <paramref name="layout"/> from <paramref name="weight"/>, gate-major rows of <paramref name="depth"/>
    /// (the four slots' rows for the multi-gate layouts, one gate's for <see cref="GateLayout.Single"/>).
    /// </summary>
    public static PackedPanel Pack(ReadOnlySpan<float> weight, GateLayout layout, int units, int depth, int width,
        WeightFormat format = WeightFormat.Float32, Float16Codes codes = Float16Codes.Normalised)
    {
        var panel = new PackedPanel(format, codes, layout, units, depth, width);
        panel.Repack(weight);
        return panel;
    }

    /// <summary>
    /// Overwrites the panel with <paramref name="weight"/> (same shape as packed), rounded to the panel's <see cref="Format"/>:
    /// training updates its (fp32) weights in place, without allocating.
    /// </summary>
    public void Repack(ReadOnlySpan<float> weight)
    {
        WeightFormat format = Format;
        if (format == WeightFormat.Int8)
        {
            RepackInt8(weight);
            return;
        }

        if (format == WeightFormat.Float32)
        {
            RepackFloat32(weight);
            return;
        }

        bool wholeCallPanel = Layout is GateLayout.Lstm or GateLayout.GruInput or GateLayout.GruRecurrent; // what the copy's readers read
        if (wholeCallPanel && KeepsWidenedCopy(format, Blocks * BlockBytesOf(WeightFormat.Float32, Depth, Gates * Width)))
        {
            WidenedCopy ??= new PackedPanel(WeightFormat.Float32, Float16Codes, Layout, Units, Depth, Width);
            WidenedCopy.RepackFloat32(weight);
            Span<float> values = MemoryMarshal.Cast<byte, float>(WidenedCopy.Data.Span);
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = format == WeightFormat.BFloat16
                    ? WeightConversion.FromBFloat16(WeightConversion.ToBFloat16(values[i]))
                    : WeightConversion.FromFloat16(WeightConversion.ToFiniteFloat16(values[i]));
            }
        }

        Span<ushort> halves = MemoryMarshal.Cast<byte, ushort>(Data.Span);
        int gates = Gates, units = Units, depth = Depth, width = Width, rows = gates * width;
        nint blockHalves = BlockBytes / sizeof(ushort);
        halves.Clear(); // an odd depth leaves the last pair's upper halves as padding
        for (int block = 0; block < Blocks; block++)
        {
            for (int k = 0; k < depth; k++)
            {
                for (int gate = 0; gate < gates; gate++)
                {
                    for (int lane = 0; lane < width; lane++)
                    {
                        int unit = block * width + lane;
                        float value = unit < units ? weight[(_sourceGates[gate] * units + unit) * depth + k] : 0f;
                        // One word per row holding k (low half) and k + 1 (high), see IWeightFormat.PairBytes.
                        halves[PairedIndex(block, k, gate * width + lane)] = format == WeightFormat.BFloat16
                            ? WeightConversion.ToBFloat16(value)
                            : Float16Bits.Code(WeightConversion.ToFiniteFloat16(value), Float16Codes);
                    }
                }
            }
        }

        int PairedIndex(int block, int k, int row) => (int)(block * blockHalves) + ((k >> 1) * rows + row) * 2 + (k & 1);
    }

    /// <summary>
    /// fp32: for each k, the block's rows side by side, that is each gate's [width units, depth] slice of the weights
    /// transposed. Training repacks after every update, so with AVX the slices go through 8×8 register transposes (eight
    /// source rows in, eight panel lines out); the remaining lanes and k one element at a time.
    /// </summary>
    private void RepackFloat32(ReadOnlySpan<float> weight)
    {
        int gates = Gates, units = Units, depth = Depth, width = Width, rows = gates * width;
        if (weight.Length < gates * units * depth) throw new ArgumentException($"The weights hold {weight.Length} values, not {gates * units * depth}.", nameof(weight));
        ref float panel = ref Unsafe.As<byte, float>(ref Start);
        ref float source = ref MemoryMarshal.GetReference(weight);
        for (int block = 0; block < Blocks; block++)
        {
            int lanes = Math.Min(width, units - block * width); // the rest of the block is padding
            for (int gate = 0; gate < gates; gate++)
            {
                ref float from = ref Unsafe.Add(ref source, ((nint)_sourceGates[gate] * units + block * width) * depth);
                ref float to = ref Unsafe.Add(ref panel, (nint)block * depth * rows + gate * width);
                int lane = 0, k = 0;
                if (Avx.IsSupported)
                {
                    for (; lane + 8 <= lanes; lane += 8)
                    {
                        for (k = 0; k + 8 <= depth; k += 8)
                            Transpose8x8(ref Unsafe.Add(ref from, (nint)lane * depth + k), depth, ref Unsafe.Add(ref to, (nint)k * rows + lane), rows);
                        CopyColumns(ref from, ref to, depth, rows, lane, lane + 8, k);
                    }
                }

                CopyColumns(ref from, ref to, depth, rows, lane, lanes, 0);
                for (k = 0; k < depth; k++) Unsafe.InitBlock(ref Unsafe.As<float, byte>(ref Unsafe.Add(ref to, (nint)k * rows + lanes)), 0, (uint)((width - lanes) * sizeof(float)));
            }
        }
    }

    /// <summary>Panel lanes [<paramref name="laneStart"/>, <paramref name="laneEnd"/>) of k from <paramref name="kStart"/> on, one element at a time.</summary>
    private static void CopyColumns(ref float from, ref float to, int depth, int rows, int laneStart, int laneEnd, int kStart)
    {
        for (int lane = laneStart; lane < laneEnd; lane++)
            for (int k = kStart; k < depth; k++)
                Unsafe.Add(ref to, (nint)k * rows + lane) = Unsafe.Add(ref from, (nint)lane * depth + k);
    }

    /// <summary>to[j·toStride + i] = from[i·fromStride + j] for i, j &lt; 8.</summary>
    private static void Transpose8x8(ref float from, int fromStride, ref float to, int toStride)
    {
        Vector256<float> r0 = Vector256.LoadUnsafe(ref from), r1 = Vector256.LoadUnsafe(ref from, (nuint)fromStride);
        Vector256<float> r2 = Vector256.LoadUnsafe(ref from, (nuint)(2 * fromStride)), r3 = Vector256.LoadUnsafe(ref from, (nuint)(3 * fromStride));
        Vector256<float> r4 = Vector256.LoadUnsafe(ref from, (nuint)(4 * fromStride)), r5 = Vector256.LoadUnsafe(ref from, (nuint)(5 * fromStride));
        Vector256<float> r6 = Vector256.LoadUnsafe(ref from, (nuint)(6 * fromStride)), r7 = Vector256.LoadUnsafe(ref from, (nuint)(7 * fromStride));
        // Pairs of rows interleaved, then pairs of pairs: each 128-bit half holds four rows' values of one k.
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1), t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3);
        Vector256<float> t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5), t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> u0 = Avx.Shuffle(t0, t2, 0x44), u1 = Avx.Shuffle(t0, t2, 0xEE), u2 = Avx.Shuffle(t1, t3, 0x44), u3 = Avx.Shuffle(t1, t3, 0xEE);
        Vector256<float> u4 = Avx.Shuffle(t4, t6, 0x44), u5 = Avx.Shuffle(t4, t6, 0xEE), u6 = Avx.Shuffle(t5, t7, 0x44), u7 = Avx.Shuffle(t5, t7, 0xEE);
        // Rows 0–3 from the low halves' k, rows 4–7 from the same k in the second group.
        Avx.Permute2x128(u0, u4, 0x20).StoreUnsafe(ref to);
        Avx.Permute2x128(u1, u5, 0x20).StoreUnsafe(ref to, (nuint)toStride);
        Avx.Permute2x128(u2, u6, 0x20).StoreUnsafe(ref to, (nuint)(2 * toStride));
        Avx.Permute2x128(u3, u7, 0x20).StoreUnsafe(ref to, (nuint)(3 * toStride));
        Avx.Permute2x128(u0, u4, 0x31).StoreUnsafe(ref to, (nuint)(4 * toStride));
        Avx.Permute2x128(u1, u5, 0x31).StoreUnsafe(ref to, (nuint)(5 * toStride));
        Avx.Permute2x128(u2, u6, 0x31).StoreUnsafe(ref to, (nuint)(6 * toStride));
        Avx.Permute2x128(u3, u7, 0x31).StoreUnsafe(ref to, (nuint)(7 * toStride));
    }

    /// <summary>
    /// Int8: each output row (gate, unit) gets the scale max|w|/127 and its weights round(w/scale), so every row uses the
    /// full ±127; the block ends with the rows' scales and integer sums (see <see cref="Int8Weights"/>).
    /// </summary>
    private void RepackInt8(ReadOnlySpan<float> weight)
    {
        int gates = Gates, units = Units, depth = Depth, width = Width, rows = gates * width, groups = Int8Weights.Groups(depth);
        nint blockBytes = BlockBytes;
        Span<sbyte> quantized = MemoryMarshal.Cast<byte, sbyte>(Data.Span);
        Data.Span.Clear();
        for (int block = 0; block < Blocks; block++)
        {
            int blockStart = (int)(block * blockBytes);
            Span<float> scales = MemoryMarshal.Cast<byte, float>(Data.Span.Slice(blockStart + groups * 4 * rows, 2 * rows * sizeof(float)));
            for (int gate = 0; gate < gates; gate++)
            {
                for (int lane = 0; lane < width; lane++)
                {
                    int unit = block * width + lane;
                    if (unit >= units) continue; // padding rows stay zero
                    ReadOnlySpan<float> row = weight.Slice((_sourceGates[gate] * units + unit) * depth, depth);
                    float scale = WeightConversion.Int8RowScale(row, out float inverse);
                    int sum = 0;
                    for (int k = 0; k < depth; k++)
                    {
                        sbyte q = WeightConversion.ToInt8(row[k], inverse);
                        quantized[blockStart + ((k / 4 * gates + gate) * width + lane) * 4 + k % 4] = q;
                        sum += q;
                    }

                    scales[gate * width + lane] = scale;
                    scales[rows + gate * width + lane] = sum;
                }
            }
        }
    }


    /// <summary>Packs per-gate vectors (<c>[gates·units]</c>, gate-major, e.g. b_ih + b_hh) into the panel's row order: block, gate, lane.</summary>
    public static float[] PackRow(ReadOnlySpan<float> values, int gates, int units, int width)
    {
        var row = new float[Sizes.Elements("packed row values (blocks × gates × width)", BlocksOf(units, width), gates, width)];
        PackRow(values, gates, units, width, row);
        return row;
    }

    /// <summary><see cref="PackRow(ReadOnlySpan{float}, int, int, int)"/> into an existing row (padding lanes become 0); empty values give zeros.</summary>
    public static void PackRow(ReadOnlySpan<float> values, int gates, int units, int width, Span<float> row)
    {
        row.Clear();
        for (int gate = 0; gate < gates; gate++)
        {
            for (int unit = 0; unit < units && !values.IsEmpty; unit++)
                row[((unit / width) * gates + gate) * width + unit % width] = values[gate * units + unit];
        }
    }
}
