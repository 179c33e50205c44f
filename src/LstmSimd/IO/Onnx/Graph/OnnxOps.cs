namespace LstmSimd.IO.Onnx.Graph;

/// <summary>The operators the graph runner runs (default ONNX domain), by op_type.</summary>
internal static class OnnxOps
{
    private static readonly Dictionary<string, OnnxOp> ByType = new(StringComparer.Ordinal)
    {
        // Shapes and constants: folded when planning.
        ["Shape"] = new ShapeOp(),
        ["Constant"] = new ConstantOp(),
        ["ConstantOfShape"] = new ConstantOfShapeOp(),
        ["Range"] = new RangeOp(),
        ["Cast"] = new CastOp(),

        // Views: no work per run.
        ["Reshape"] = new ReshapeOp(),
        ["Flatten"] = new FlattenOp(),
        ["Squeeze"] = new SqueezeOp(),
        ["Unsqueeze"] = new UnsqueezeOp(),
        ["Identity"] = new IdentityOp(),
        ["Dropout"] = new DropoutOp(),

        // Movement.
        ["Transpose"] = new TransposeOp(),
        ["Slice"] = new SliceOp(),
        ["Expand"] = new ExpandOp(),
        ["Concat"] = new ConcatOp(),
        ["Split"] = new SplitOp(),
        ["Gather"] = new GatherOp(),

        // Elementwise.
        ["Add"] = new ArithmeticOp<Elementwise.Add, Elementwise.Add>(),
        ["Sub"] = new ArithmeticOp<Elementwise.Sub, Elementwise.Sub>(),
        ["Mul"] = new ArithmeticOp<Elementwise.Mul, Elementwise.Mul>(),
        ["Div"] = new ArithmeticOp<Elementwise.Div, Elementwise.Div>(),
        ["Equal"] = new EqualOp(),
        ["Where"] = new WhereOp(),
        ["Relu"] = new ActivationOp(static (x, _) => Math.Max(x, 0)),
        ["Sigmoid"] = new ActivationOp(static (x, _) => 1 / (1 + MathF.Exp(-x))),
        ["Tanh"] = new ActivationOp(static (x, _) => MathF.Tanh(x)),
        ["LeakyRelu"] = new ActivationOp(static (x, alpha) => x >= 0 ? x : alpha * x, "alpha", 0.01f),

        // Products and normalisation.
        ["MatMul"] = new MatMulOp(),
        ["Gemm"] = new GemmOp(),
        ["Softmax"] = new SoftmaxOp(logarithm: false),
        ["LogSoftmax"] = new SoftmaxOp(logarithm: true),

        ["LSTM"] = new LstmOp(),
        ["GRU"] = new GruOp(),
    };

    /// <summary>The operator types, sorted, for messages.</summary>
    public static string Names => string.Join(", ", ByType.Keys.Order(StringComparer.Ordinal));

    public static OnnxOp? Find(string opType) => ByType.GetValueOrDefault(opType);
}
