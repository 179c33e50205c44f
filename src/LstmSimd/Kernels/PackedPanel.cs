using System.Runtime.InteropServices;

namespace LstmSimd.Kernels;

/// <summary>
/// A weight matrix repacked once so that a kernel streams it front to back: PyTorch's
/// <c>[gates·units, depth]</c> (gate-major rows, as <c>weight_ih</c> and <c>weight_hh</c> are) becomes blocks of
/// <c>Width</c> units; inside a block, for each k, the <c>Width</c> weights of gate 0, then of gate 1, and so on.
/// One pass over a block leaves every gate of those units in registers, which is what lets the cell
/// epilogue run without a round trip through memory. Units past the end of the last block are zero.
/// The elements are stored in a <see cref="WeightFormat"/> (fp32, or 16-bit to halve the bytes a step streams).
/// </summary>
internal sealed class PackedPanel
{
    private PackedPanel(byte[] data, WeightFormat format, int gates, int units, int depth, int width)
    {
        Data = data;
        Format = format;
        Gates = gates;
        Units = units;
        Depth = depth;
        Width = width;
    }

    /// <summary>The packed weights, <see cref="Blocks"/> × <see cref="Depth"/> × <see cref="Gates"/> × <see cref="Width"/> elements of <see cref="Format"/>.</summary>
    public byte[] Data { get; }

    public WeightFormat Format { get; }

    /// <summary>The first element, for kernels that address the panel in elements of their format.</summary>
    public ref byte Start => ref MemoryMarshal.GetArrayDataReference(Data);

    public int Gates { get; }

    public int Units { get; }

    public int Depth { get; }

    public int Width { get; }

    public int Blocks => (Units + Width - 1) / Width;

    /// <summary>Units rounded up to whole blocks: the row length of the buffers this panel's kernels write.</summary>
    public int PaddedUnits => Blocks * Width;

    public int BlockStride => Depth * Gates * Width;

    /// <summary>Bytes per element of <paramref name="format"/>.</summary>
    public static int ElementSize(WeightFormat format) => format == WeightFormat.Float32 ? sizeof(float) : sizeof(ushort);

    public static PackedPanel Pack(ReadOnlySpan<float> weight, int gates, int units, int depth, int width, WeightFormat format = WeightFormat.Float32)
    {
        int blocks = (units + width - 1) / width;
        var panel = new PackedPanel(new byte[(long)blocks * depth * gates * width * ElementSize(format)], format, gates, units, depth, width);
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
        Span<float> data = format == WeightFormat.Float32 ? MemoryMarshal.Cast<byte, float>(Data.AsSpan()) : default;
        Span<ushort> halves = format == WeightFormat.Float32 ? default : MemoryMarshal.Cast<byte, ushort>(Data.AsSpan());
        int gates = Gates, units = Units, depth = Depth, width = Width;
        for (int block = 0; block < Blocks; block++)
        {
            for (int k = 0; k < depth; k++)
            {
                for (int gate = 0; gate < gates; gate++)
                {
                    int packed = ((block * depth + k) * gates + gate) * width;
                    for (int lane = 0; lane < width; lane++)
                    {
                        int unit = block * width + lane;
                        float value = unit < units ? weight[(gate * units + unit) * depth + k] : 0f;
                        switch (format)
                        {
                            case WeightFormat.Float32: data[packed + lane] = value; break;
                            case WeightFormat.BFloat16: halves[packed + lane] = WeightConversion.ToBFloat16(value); break;
                            default: halves[packed + lane] = ToFiniteFloat16(value); break;
                        }
                    }
                }
            }
        }
    }

    private static ushort ToFiniteFloat16(float value)
    {
        ushort bits = WeightConversion.ToFloat16(value);
        if ((bits & 0x7C00) == 0x7C00)
            throw new ArgumentException($"Weight {value:R} has no finite fp16 value (|w| must be at most 65504 and finite); use BFloat16 or Float32 for this model.");
        return bits;
    }

    /// <summary>Packs per-gate vectors (<c>[gates·units]</c>, gate-major, e.g. b_ih + b_hh) into the panel's row order: block, gate, lane.</summary>
    public static float[] PackRow(ReadOnlySpan<float> values, int gates, int units, int width)
    {
        var row = new float[(units + width - 1) / width * gates * width];
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
