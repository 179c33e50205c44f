namespace LstmSimd.IO.Onnx.Graph;

/// <summary>
/// Operators that only rename or reshape: their output is a view of the input's elements, so they cost nothing per run.
/// </summary>
internal abstract class ViewOp : OnnxOp
{
    public sealed override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.Required(0, "data");
        c.View(0, x, Shape(c, x.Dims));
        return null;
    }

    protected abstract int[] Shape(OnnxPlanContext c, int[] dims);

    /// <summary>Axes from the attribute (before opset 13) or from input 1 (from 13 on), null when neither is given.</summary>
    protected static long[]? Axes(OnnxPlanContext c) => c.Node.Ints("axes") ?? (c.Input(1) is null ? null : c.Ints(1, "axes"));
}

/// <summary><c>Reshape</c>: 0 copies the input's dim (unless <c>allowzero</c>), -1 takes what is left.</summary>
internal sealed class ReshapeOp : ViewOp
{
    public override IReadOnlyList<string> Attributes => ["allowzero"];

    public override int MinInputs => 2;

    public override IReadOnlyList<int> PlanTimeInputs => [1];

    protected override int[] Shape(OnnxPlanContext c, int[] dims)
    {
        long[] target = c.Ints(1, "shape");
        bool allowZero = c.Node.Int("allowzero", 0) != 0;
        var shape = new int[target.Length];
        int inferred = -1;
        long known = 1;
        for (int i = 0; i < target.Length; i++)
        {
            long d = target[i];
            if (d == 0 && !allowZero)
            {
                if (i >= dims.Length) throw c.Node.Fail($"shape {Text(target)} copies dim {i} of a rank-{dims.Length} input");
                d = dims[i];
            }

            if (d == -1)
            {
                if (inferred >= 0) throw c.Node.Fail($"shape {Text(target)} has two -1");
                inferred = i;
                continue;
            }

            shape[i] = c.Checked(d, "dimension");
            known *= shape[i];
        }

        long count = OnnxTensor.ElementCount(dims);
        if (inferred >= 0)
        {
            if (known == 0 || count % known != 0) throw c.Node.Fail($"shape {Text(target)} does not divide {OnnxTensor.Describe(dims)}");
            shape[inferred] = (int)(count / known);
        }

        return shape;
    }

    private static string Text(long[] values) => "[" + string.Join(", ", values) + "]";
}

/// <summary><c>Flatten</c>: [d0…d(axis-1), d(axis)…] to two dims.</summary>
internal sealed class FlattenOp : ViewOp
{
    public override IReadOnlyList<string> Attributes => ["axis"];

    protected override int[] Shape(OnnxPlanContext c, int[] dims)
    {
        long axis = c.Node.Int("axis", 1);
        int a = axis == dims.Length ? dims.Length : c.Axis(axis, dims.Length);
        long outer = OnnxTensor.ElementCount(dims.AsSpan(0, a)), inner = OnnxTensor.ElementCount(dims.AsSpan(a));
        return [(int)outer, (int)inner];
    }
}

/// <summary><c>Squeeze</c>: drops the given size-1 axes, or every size-1 axis when none is given.</summary>
internal sealed class SqueezeOp : ViewOp
{
    public override IReadOnlyList<string> Attributes => ["axes"];

    public override int MaxInputs => 2;

    public override IReadOnlyList<int> PlanTimeInputs => [1];

    protected override int[] Shape(OnnxPlanContext c, int[] dims)
    {
        long[]? axes = Axes(c);
        var drop = new bool[dims.Length];
        if (axes is null)
        {
            for (int d = 0; d < dims.Length; d++) drop[d] = dims[d] == 1;
        }
        else
        {
            foreach (long axis in axes)
            {
                int a = c.Axis(axis, dims.Length);
                if (dims[a] != 1) throw c.Node.Fail($"axis {axis} of {OnnxTensor.Describe(dims)} is not 1");
                drop[a] = true;
            }
        }

        return [.. dims.Where((_, d) => !drop[d])];
    }
}

/// <summary><c>Unsqueeze</c>: inserts size-1 axes at the given positions of the output.</summary>
internal sealed class UnsqueezeOp : ViewOp
{
    public override IReadOnlyList<string> Attributes => ["axes"];

    public override int MaxInputs => 2;

    public override IReadOnlyList<int> PlanTimeInputs => [1];

    protected override int[] Shape(OnnxPlanContext c, int[] dims)
    {
        long[] axes = Axes(c) ?? throw c.Node.Fail("axes are missing");
        int rank = dims.Length + axes.Length;
        var inserted = new bool[rank];
        foreach (long axis in axes)
        {
            int a = c.Axis(axis, rank);
            if (inserted[a]) throw c.Node.Fail($"axis {axis} appears twice");
            inserted[a] = true;
        }

        var shape = new int[rank];
        for (int d = 0, k = 0; d < rank; d++) shape[d] = inserted[d] ? 1 : dims[k++];
        return shape;
    }
}

/// <summary><c>Identity</c>.</summary>
internal sealed class IdentityOp : ViewOp
{
    protected override int[] Shape(OnnxPlanContext c, int[] dims) => dims;
}

/// <summary>
/// <c>Dropout</c> at inference: the identity (ratio ignored), its optional mask all true. A <c>training_mode</c> that is not a
/// constant false is refused, since dropping at random is not inference.
/// </summary>
internal sealed class DropoutOp : OnnxOp
{
    public override IReadOnlyList<string> Attributes => ["seed", "ratio", "is_test"];

    public override int MaxInputs => 3;

    public override int MaxOutputs => 2;

    public override IReadOnlyList<int> PlanTimeInputs => [2];

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.Required(0, "data");
        if (c.Input(2) is not null && c.Ints(2, "training_mode").Any(v => v != 0)) throw c.Node.Fail("training_mode is true; only inference is run");
        c.View(0, x, x.Dims);
        if (c.OutputUsed(1)) Array.Fill(c.Output(1, OnnxElementKind.Bool, x.Dims).Int64s, 1);
        return null;
    }
}
