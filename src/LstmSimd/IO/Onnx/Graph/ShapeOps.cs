namespace LstmSimd.IO.Onnx.Graph;

/// <summary><c>Shape</c>: the input's dims as int64 (opset 15's start and end select a range). Known when planning, whatever the input.</summary>
internal sealed class ShapeOp : OnnxOp
{
    public override IReadOnlyList<string> Attributes => ["start", "end"];

    public override bool ShapeOnly => true;

    public override Action? Plan(OnnxPlanContext c)
    {
        int[] dims = c.Required(0, "data").Dims;
        int rank = dims.Length;
        int start = Clamp(c.Node.Int("start", 0), rank), end = Clamp(c.Node.Int("end", rank), rank);
        OnnxTensor shape = c.Output(0, OnnxElementKind.Int64, [Math.Max(0, end - start)]);
        for (int i = start; i < end; i++) shape.Int64s[i - start] = dims[i];
        return null;
    }

    private static int Clamp(long axis, int rank) => (int)Math.Clamp(axis < 0 ? axis + rank : axis, 0, rank);
}

/// <summary><c>Constant</c>: <c>value</c> (a tensor) or <c>value_float(s)</c>, <c>value_int(s)</c>.</summary>
internal sealed class ConstantOp : OnnxOp
{
    public override IReadOnlyList<string> Attributes => ["value", "value_float", "value_floats", "value_int", "value_ints"];

    public override int MinInputs => 0;

    public override void Check(OnnxOpNode node)
    {
        if (node.AttributesByName.Count != 1) throw node.Fail("a Constant needs exactly one of value, value_float(s), value_int(s)");
        node.Tensor("value"); // a value that could not be decoded is refused now, not when planning
    }

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxOpNode n = c.Node;
        if (n.Tensor("value") is OnnxTensor value)
        {
            OnnxTensor t = c.Output(0, value.Kind, value.Dims);
            if (value.Kind == OnnxElementKind.Float) value.Floats.CopyTo(t.Floats, 0);
            else value.Int64s.CopyTo(t.Int64s, 0);
        }
        else if (n.Has("value_float")) c.Output(0, OnnxElementKind.Float, []).Floats[0] = n.Float("value_float", 0);
        else if (n.Has("value_int")) c.Output(0, OnnxElementKind.Int64, []).Int64s[0] = n.Int("value_int", 0);
        else if (n.Has("value_floats"))
        {
            List<float> values = n.AttributesByName["value_floats"].Floats;
            values.CopyTo(c.Output(0, OnnxElementKind.Float, [values.Count]).Floats);
        }
        else
        {
            long[] values = n.Ints("value_ints")!;
            values.CopyTo(c.Output(0, OnnxElementKind.Int64, [values.Length]).Int64s, 0);
        }

        return null;
    }
}

/// <summary><c>ConstantOfShape</c>: a tensor of the given shape filled with <c>value</c>'s one element (float 0 by default).</summary>
internal sealed class ConstantOfShapeOp : OnnxOp
{
    public override IReadOnlyList<string> Attributes => ["value"];

    public override IReadOnlyList<int> PlanTimeInputs => [0];

    public override Action? Plan(OnnxPlanContext c)
    {
        long[] dims = c.Ints(0, "shape");
        int[] shape = [.. dims.Select(d => c.Checked(d, "dimension"))];
        OnnxTensor? value = c.Node.Tensor("value");
        if (value is not null && value.Length != 1) throw c.Node.Fail($"value has {value.Length} elements; expected one");
        OnnxTensor t = c.Output(0, value?.Kind ?? OnnxElementKind.Float, shape);
        if (value?.Kind == OnnxElementKind.Float) Array.Fill(t.Floats, value.Floats[0]);
        else if (value is not null) Array.Fill(t.Int64s, value.Int64s[0]);
        return null;
    }
}

/// <summary><c>Range</c>: start, start + delta, … up to (not including) limit.</summary>
internal sealed class RangeOp : OnnxOp
{
    public override int MinInputs => 3;

    public override IReadOnlyList<int> PlanTimeInputs => [0, 1, 2];

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor start = c.Required(0, "start"), limit = c.Required(1, "limit"), delta = c.Required(2, "delta");
        if (start.Length != 1 || limit.Length != 1 || delta.Length != 1) throw c.Node.Fail("start, limit and delta must be scalars");
        if (start.Kind == OnnxElementKind.Float)
        {
            float s = start.Floats[0], d = FloatOf(c, delta), l = FloatOf(c, limit);
            if (d == 0) throw c.Node.Fail("delta is 0");
            float[] values = c.Output(0, OnnxElementKind.Float, [Count(c, Math.Ceiling(((double)l - s) / d))]).Floats;
            for (int i = 0; i < values.Length; i++) values[i] = s + i * d;
        }
        else
        {
            long s = start.Int64s[0], d = IntOf(c, delta), l = IntOf(c, limit);
            if (d == 0) throw c.Node.Fail("delta is 0");
            long[] values = c.Output(0, OnnxElementKind.Int64, [Count(c, Math.Ceiling(((double)l - s) / d))]).Int64s;
            for (int i = 0; i < values.Length; i++) values[i] = s + i * d;
        }

        return null;
    }

    private static float FloatOf(OnnxPlanContext c, OnnxTensor t) => t.Kind == OnnxElementKind.Float ? t.Floats[0] : throw c.Node.Fail("start, limit and delta differ in type");

    private static long IntOf(OnnxPlanContext c, OnnxTensor t) => t.Kind != OnnxElementKind.Float ? t.Int64s[0] : throw c.Node.Fail("start, limit and delta differ in type");

    private static int Count(OnnxPlanContext c, double count) => count <= 0 ? 0 : count <= 1 << 24 ? (int)count : throw c.Node.Fail($"the range holds {count} values");
}

/// <summary><c>Cast</c> between the runner's kinds: to a float type (computed in fp32), an integer type (truncated toward zero) or BOOL.</summary>
internal sealed class CastOp : OnnxOp
{
    public override IReadOnlyList<string> Attributes => ["to", "saturate"];

    public override void Check(OnnxOpNode node) => Target(node);

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.Required(0, "input");
        OnnxElementKind to = Target(c.Node);
        OnnxTensor y = c.Output(0, to, x.Dims);
        return (x.Kind, to) switch
        {
            (OnnxElementKind.Float, OnnxElementKind.Float) => () => x.Floats.CopyTo(y.Floats, 0),
            (OnnxElementKind.Float, OnnxElementKind.Int64) => () => FloatsToInts(x.Floats, y.Int64s, truthValues: false),
            (OnnxElementKind.Float, OnnxElementKind.Bool) => () => FloatsToInts(x.Floats, y.Int64s, truthValues: true),
            (_, OnnxElementKind.Float) => () => IntsToFloats(x.Int64s, y.Floats),
            (_, OnnxElementKind.Bool) => () => IntsToBools(x.Int64s, y.Int64s),
            _ => () => x.Int64s.CopyTo(y.Int64s, 0),
        };
    }

    private static OnnxElementKind Target(OnnxOpNode node)
    {
        long to = node.Int("to", 0);
        return OnnxTensor.KindOf(to) ?? throw node.Fail($"casting to {OnnxTensorProto.TypeName((int)to)} is not supported");
    }

    private static void FloatsToInts(float[] x, long[] y, bool truthValues)
    {
        for (int i = 0; i < x.Length; i++) y[i] = truthValues ? (x[i] != 0 ? 1 : 0) : (long)x[i];
    }

    private static void IntsToFloats(long[] x, float[] y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i];
    }

    private static void IntsToBools(long[] x, long[] y)
    {
        for (int i = 0; i < x.Length; i++) y[i] = x[i] != 0 ? 1 : 0;
    }
}
