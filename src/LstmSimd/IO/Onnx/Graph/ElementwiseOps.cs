namespace LstmSimd.IO.Onnx.Graph;

/// <summary><c>Add</c>, <c>Sub</c>, <c>Mul</c>, <c>Div</c>: numpy broadcasting, on floats or (for shape arithmetic) integers.</summary>
internal sealed class ArithmeticOp<TFloat, TInt> : OnnxOp
    where TFloat : IBinaryFunction<float, float>
    where TInt : IBinaryFunction<long, long>
{
    public override int MinInputs => 2;

    public override Action? Plan(OnnxPlanContext c)
    {
        (OnnxTensor a, OnnxTensor b, int[] shape) = Elementwise.Operands(c);
        int[] sa = StridedLoops.BroadcastStrides(a.Dims, shape), sb = StridedLoops.BroadcastStrides(b.Dims, shape);
        OnnxTensor y = c.Output(0, a.Kind == OnnxElementKind.Float ? OnnxElementKind.Float : OnnxElementKind.Int64, shape);
        return a.Kind == OnnxElementKind.Float
            ? () => StridedLoops.Binary<float, float, TFloat>(a.Floats, sa, b.Floats, sb, y.Floats, shape)
            : () => StridedLoops.Binary<long, long, TInt>(a.Int64s, sa, b.Int64s, sb, y.Int64s, shape);
    }
}

/// <summary><c>Equal</c>: BOOL, with broadcasting.</summary>
internal sealed class EqualOp : OnnxOp
{
    public override int MinInputs => 2;

    public override Action? Plan(OnnxPlanContext c)
    {
        (OnnxTensor a, OnnxTensor b, int[] shape) = Elementwise.Operands(c);
        int[] sa = StridedLoops.BroadcastStrides(a.Dims, shape), sb = StridedLoops.BroadcastStrides(b.Dims, shape);
        OnnxTensor y = c.Output(0, OnnxElementKind.Bool, shape);
        return a.Kind == OnnxElementKind.Float
            ? () => StridedLoops.Binary<float, long, Elementwise.Equal>(a.Floats, sa, b.Floats, sb, y.Int64s, shape)
            : () => StridedLoops.Binary<long, long, Elementwise.Equal>(a.Int64s, sa, b.Int64s, sb, y.Int64s, shape);
    }
}

/// <summary><c>Where</c>: condition ? x : y, with broadcasting.</summary>
internal sealed class WhereOp : OnnxOp
{
    public override int MinInputs => 3;

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor condition = c.Required(0, "condition"), x = c.Required(1, "X"), y = c.Required(2, "Y");
        if (condition.Kind == OnnxElementKind.Float) throw c.Node.Fail("the condition holds floats");
        if ((x.Kind == OnnxElementKind.Float) != (y.Kind == OnnxElementKind.Float)) throw c.Node.Fail("X and Y differ in type");
        int[] shape = StridedLoops.Broadcast(condition.Dims, x.Dims) is int[] s1 ? StridedLoops.Broadcast(s1, y.Dims) ?? Elementwise.NoBroadcast(c) : Elementwise.NoBroadcast(c);
        int[] sc = StridedLoops.BroadcastStrides(condition.Dims, shape), sx = StridedLoops.BroadcastStrides(x.Dims, shape), sy = StridedLoops.BroadcastStrides(y.Dims, shape);
        OnnxTensor result = c.Output(0, x.Kind, shape);
        return x.Kind == OnnxElementKind.Float
            ? () => StridedLoops.Select(condition.Int64s, sc, x.Floats, sx, y.Floats, sy, result.Floats, shape)
            : () => StridedLoops.Select(condition.Int64s, sc, x.Int64s, sx, y.Int64s, sy, result.Int64s, shape);
    }
}

/// <summary>An activation applied to every element of a float tensor (<c>Relu</c>, <c>Sigmoid</c>, <c>Tanh</c>, <c>LeakyRelu</c>).</summary>
internal sealed class ActivationOp(Func<float, float, float> function, string? parameter = null, float fallback = 0) : OnnxOp
{
    public override IReadOnlyList<string> Attributes => parameter is null ? [] : [parameter];

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.FloatInput(0, "X");
        float alpha = parameter is null ? 0 : c.Node.Float(parameter, fallback);
        float[] source = x.Floats, destination = c.Output(0, OnnxElementKind.Float, x.Dims).Floats;
        return () =>
        {
            for (int i = 0; i < source.Length; i++) destination[i] = function(source[i], alpha);
        };
    }
}

/// <summary>The functions and shape rules the elementwise operators share.</summary>
internal static class Elementwise
{
    public static (OnnxTensor A, OnnxTensor B, int[] Shape) Operands(OnnxPlanContext c)
    {
        OnnxTensor a = c.Required(0, "A"), b = c.Required(1, "B");
        if ((a.Kind == OnnxElementKind.Float) != (b.Kind == OnnxElementKind.Float)) throw c.Node.Fail($"A is {a.Kind} and B is {b.Kind}");
        return (a, b, StridedLoops.Broadcast(a.Dims, b.Dims) ?? NoBroadcast(c));
    }

    public static int[] NoBroadcast(OnnxPlanContext c) =>
        throw c.Node.Fail($"the input shapes {string.Join(", ", Enumerable.Range(0, c.InputCount).Select(i => c.Input(i)?.ShapeText))} do not broadcast");

    public readonly struct Add : IBinaryFunction<float, float>, IBinaryFunction<long, long>
    {
        public static float Apply(float a, float b) => a + b;

        public static long Apply(long a, long b) => a + b;
    }

    public readonly struct Sub : IBinaryFunction<float, float>, IBinaryFunction<long, long>
    {
        public static float Apply(float a, float b) => a - b;

        public static long Apply(long a, long b) => a - b;
    }

    public readonly struct Mul : IBinaryFunction<float, float>, IBinaryFunction<long, long>
    {
        public static float Apply(float a, float b) => a * b;

        public static long Apply(long a, long b) => a * b;
    }

    /// <summary>Integer division truncates toward zero, as ONNX Runtime's does; a zero divisor gives 0 rather than a crash.</summary>
    public readonly struct Div : IBinaryFunction<float, float>, IBinaryFunction<long, long>
    {
        public static float Apply(float a, float b) => a / b;

        public static long Apply(long a, long b) => b == 0 || (b == -1 && a == long.MinValue) ? 0 : a / b;
    }

    public readonly struct Equal : IBinaryFunction<float, long>, IBinaryFunction<long, long>
    {
        public static long Apply(float a, float b) => a == b ? 1 : 0;

        public static long Apply(long a, long b) => a == b ? 1 : 0;
    }
}
