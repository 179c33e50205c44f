namespace LstmSimd.IO.Onnx.Graph;

/// <summary>Operators that move elements: each plans the strides through which <see cref="StridedLoops.Copy"/> reads its input.</summary>
internal abstract class MovementOp : OnnxOp
{
    /// <summary>The per-run copy of <paramref name="source"/> (read from <paramref name="start"/> through <paramref name="strides"/>) into <paramref name="destination"/>.</summary>
    protected static Action Copy(OnnxTensor source, int start, int[] strides, OnnxTensor destination)
    {
        int[] shape = destination.Dims;
        return source.Kind == OnnxElementKind.Float
            ? () => StridedLoops.Copy(source.Floats, start, strides, destination.Floats, shape)
            : () => StridedLoops.Copy(source.Int64s, start, strides, destination.Int64s, shape);
    }
}

/// <summary><c>Transpose</c>: output dim i is input dim perm[i] (reversed by default).</summary>
internal sealed class TransposeOp : MovementOp
{
    public override IReadOnlyList<string> Attributes => ["perm"];

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.Required(0, "data");
        int rank = x.Dims.Length;
        long[] perm = c.Node.Ints("perm") ?? [.. Enumerable.Range(0, rank).Reverse().Select(d => (long)d)];
        if (perm.Length != rank || perm.Distinct().Count() != rank || perm.Any(p => p < 0 || p >= rank))
            throw c.Node.Fail($"perm [{string.Join(", ", perm)}] is not a permutation of the {rank} axes of {x.ShapeText}");
        int[] own = StridedLoops.Contiguous(x.Dims);
        int[] shape = [.. perm.Select(p => x.Dims[p])], strides = [.. perm.Select(p => own[p])];
        return Copy(x, 0, strides, c.Output(0, x.Kind, shape));
    }
}

/// <summary><c>Slice</c>: starts, ends, axes, steps as inputs (opset 10 on) or attributes (before), clamped as ONNX says.</summary>
internal sealed class SliceOp : MovementOp
{
    public override IReadOnlyList<string> Attributes => ["starts", "ends", "axes"];

    public override int MaxInputs => 5;

    public override IReadOnlyList<int> PlanTimeInputs => [1, 2, 3, 4];

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.Required(0, "data");
        int rank = x.Dims.Length;
        bool fromAttributes = c.Node.Has("starts");
        long[] starts = fromAttributes ? c.Node.Ints("starts")! : c.Ints(1, "starts");
        long[] ends = fromAttributes ? c.Node.Ints("ends") ?? throw c.Node.Fail("ends are missing") : c.Ints(2, "ends");
        long[] axes = (fromAttributes ? c.Node.Ints("axes") : c.Input(3) is null ? null : c.Ints(3, "axes")) ?? [.. Enumerable.Range(0, starts.Length).Select(a => (long)a)];
        long[] steps = !fromAttributes && c.Input(4) is not null ? c.Ints(4, "steps") : [.. starts.Select(_ => 1L)];
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw c.Node.Fail("starts, ends, axes and steps differ in length");

        int[] shape = [.. x.Dims], strides = StridedLoops.Contiguous(x.Dims);
        int start = 0;
        var seen = new bool[rank];
        for (int k = 0; k < starts.Length; k++)
        {
            int axis = c.Axis(axes[k], rank);
            if (seen[axis]) throw c.Node.Fail($"axis {axes[k]} appears twice");
            seen[axis] = true;
            long dim = x.Dims[axis], step = steps[k];
            if (step == 0) throw c.Node.Fail("a step is 0");
            long first = starts[k] < 0 ? starts[k] + dim : starts[k], last = ends[k] < 0 ? ends[k] + dim : ends[k];
            long count;
            if (step > 0)
            {
                first = Math.Clamp(first, 0, dim);
                last = Math.Clamp(last, 0, dim);
                count = last > first ? (last - first + step - 1) / step : 0;
            }
            else
            {
                first = Math.Clamp(first, 0, dim - 1);
                last = Math.Clamp(last, -1, dim - 1);
                count = first > last ? (first - last - step - 1) / -step : 0;
            }

            shape[axis] = (int)count;
            if (count > 0) start += (int)first * strides[axis];
            strides[axis] = (int)(strides[axis] * step);
        }

        return Copy(x, start, strides, c.Output(0, x.Kind, shape));
    }
}

/// <summary><c>Expand</c>: broadcasts the input to the given shape (numpy rules).</summary>
internal sealed class ExpandOp : MovementOp
{
    public override int MinInputs => 2;

    public override IReadOnlyList<int> PlanTimeInputs => [1];

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.Required(0, "input");
        int[] target = [.. c.Ints(1, "shape").Select(d => c.Checked(d, "dimension"))];
        int[] shape = StridedLoops.Broadcast(x.Dims, target) ?? throw c.Node.Fail($"{x.ShapeText} does not broadcast to {OnnxTensor.Describe(target)}");
        return Copy(x, 0, StridedLoops.BroadcastStrides(x.Dims, shape), c.Output(0, x.Kind, shape));
    }
}

/// <summary><c>Concat</c> along an axis.</summary>
internal sealed class ConcatOp : MovementOp
{
    public override IReadOnlyList<string> Attributes => ["axis"];

    public override int MaxInputs => int.MaxValue;

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor[] parts = [.. Enumerable.Range(0, c.InputCount).Select(i => c.Required(i, $"{i}"))];
        int[] first = parts[0].Dims;
        int axis = c.Axis(c.Node.Int("axis", 0), first.Length);
        int[] shape = [.. first];
        shape[axis] = 0;
        foreach (OnnxTensor p in parts)
        {
            if (p.Kind != parts[0].Kind || p.Dims.Length != first.Length || Enumerable.Range(0, first.Length).Any(d => d != axis && p.Dims[d] != first[d]))
                throw c.Node.Fail($"inputs {string.Join(", ", parts.Select(q => q.ShapeText))} do not join along axis {axis}");
            shape[axis] += p.Dims[axis];
        }

        OnnxTensor y = c.Output(0, parts[0].Kind, shape);
        int outer = (int)OnnxTensor.ElementCount(first.AsSpan(0, axis)), inner = (int)OnnxTensor.ElementCount(first.AsSpan(axis + 1));
        int[] chunks = [.. parts.Select(p => p.Dims[axis] * inner)];
        int row = shape[axis] * inner;
        return y.Kind == OnnxElementKind.Float
            ? () => Join(parts, chunks, outer, row, y.Floats, static p => p.Floats)
            : () => Join(parts, chunks, outer, row, y.Int64s, static p => p.Int64s);
    }

    private static void Join<T>(OnnxTensor[] parts, int[] chunks, int outer, int row, T[] destination, Func<OnnxTensor, T[]> data)
    {
        for (int o = 0; o < outer; o++)
        {
            int at = o * row;
            for (int p = 0; p < parts.Length; p++)
            {
                data(parts[p]).AsSpan(o * chunks[p], chunks[p]).CopyTo(destination.AsSpan(at));
                at += chunks[p];
            }
        }
    }
}

/// <summary><c>Split</c> along an axis: sizes from input 1 (opset 13 on) or the <c>split</c> attribute, else equal parts.</summary>
internal sealed class SplitOp : MovementOp
{
    public override IReadOnlyList<string> Attributes => ["axis", "split", "num_outputs"];

    public override int MaxInputs => 2;

    public override int MaxOutputs => int.MaxValue;

    public override IReadOnlyList<int> PlanTimeInputs => [1];

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.Required(0, "input");
        int axis = c.Axis(c.Node.Int("axis", 0), x.Dims.Length);
        int dim = x.Dims[axis], parts = c.Outputs.Count;
        long[] sizes = c.Node.Ints("split") ?? (c.Input(1) is null ? EqualParts(dim, parts) : c.Ints(1, "split"));
        if (sizes.Length != parts || sizes.Any(s => s < 0) || sizes.Sum() != dim)
            throw c.Node.Fail($"split [{string.Join(", ", sizes)}] does not cut axis {axis} of {x.ShapeText} into {parts} parts");
        int[] strides = StridedLoops.Contiguous(x.Dims);
        var copies = new List<Action>();
        int offset = 0;
        for (int i = 0; i < parts; i++)
        {
            int[] shape = [.. x.Dims];
            shape[axis] = (int)sizes[i];
            copies.Add(Copy(x, offset * strides[axis], strides, c.Output(i, x.Kind, shape)));
            offset += (int)sizes[i];
        }

        Action[] all = [.. copies];
        return () =>
        {
            foreach (Action copy in all) copy();
        };
    }

    private static long[] EqualParts(int dim, int parts)
    {
        long size = (dim + parts - 1) / parts;
        return [.. Enumerable.Range(0, parts).Select(i => Math.Max(0, Math.Min(size, dim - (i * size))))];
    }
}

/// <summary>
/// <c>Gather</c> along an axis: with constant indices a slice or a reordering; with indices given at run time an embedding
/// lookup, each index checked against the axis when the run reads it.
/// </summary>
internal sealed class GatherOp : MovementOp
{
    public override IReadOnlyList<string> Attributes => ["axis"];

    public override int MinInputs => 2;

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor data = c.Required(0, "data"), indices = c.Required(1, "indices");
        if (indices.Kind == OnnxElementKind.Float) throw c.Node.Fail("indices are floats");
        int[] dims = data.Dims;
        int axis = c.Axis(c.Node.Int("axis", 0), dims.Length);
        int[] shape = [.. dims[..axis], .. indices.Dims, .. dims[(axis + 1)..]];
        OnnxTensor y = c.Output(0, data.Kind, shape);
        int outer = (int)OnnxTensor.ElementCount(dims.AsSpan(0, axis)), inner = (int)OnnxTensor.ElementCount(dims.AsSpan(axis + 1)), size = dims[axis];
        string label = c.Node.Label;
        return data.Kind == OnnxElementKind.Float
            ? () => Take(data.Floats, indices.Int64s, y.Floats, outer, size, inner, label)
            : () => Take(data.Int64s, indices.Int64s, y.Int64s, outer, size, inner, label);
    }

    private static void Take<T>(T[] data, long[] indices, T[] destination, int outer, int size, int inner, string label)
    {
        int at = 0;
        for (int o = 0; o < outer; o++)
        {
            foreach (long raw in indices)
            {
                long index = raw < 0 ? raw + size : raw;
                if ((ulong)index >= (ulong)size) throw new ArgumentException($"{label}: index {raw} is outside [-{size}, {size}).");
                data.AsSpan((int)((o * (long)size + index) * inner), inner).CopyTo(destination.AsSpan(at));
                at += inner;
            }
        }
    }
}
