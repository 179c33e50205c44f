namespace LstmSimd.IO.Onnx.Graph;

/// <summary>
/// <c>Softmax</c> and <c>LogSoftmax</c>: from opset 13 over one axis (default -1); before, over the input flattened to 2-D at
/// the axis (default 1), as those opsets define it.
/// </summary>
internal sealed class SoftmaxOp(bool logarithm) : OnnxOp
{
    public override IReadOnlyList<string> Attributes => ["axis"];

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxTensor x = c.FloatInput(0, "input");
        int[] dims = x.Dims;
        bool singleAxis = c.Opset >= 13;
        int axis = c.Axis(c.Node.Int("axis", singleAxis ? -1 : 1), dims.Length);
        int outer = (int)OnnxTensor.ElementCount(dims.AsSpan(0, Math.Min(axis, dims.Length)));
        int n = dims.Length == 0 ? 1 : singleAxis ? dims[axis] : (int)OnnxTensor.ElementCount(dims.AsSpan(axis));
        int inner = singleAxis && dims.Length > 0 ? (int)OnnxTensor.ElementCount(dims.AsSpan(axis + 1)) : 1;
        float[] source = x.Floats, destination = c.Output(0, OnnxElementKind.Float, dims).Floats;
        return () => Run(source, destination, outer, n, inner, logarithm);
    }

    private static void Run(float[] x, float[] y, int outer, int n, int inner, bool logarithm)
    {
        for (int o = 0; o < outer; o++)
        {
            for (int i = 0; i < inner; i++)
            {
                int start = o * n * inner + i;
                float max = float.NegativeInfinity;
                for (int j = 0; j < n; j++) max = Math.Max(max, x[start + j * inner]);
                double sum = 0;
                for (int j = 0; j < n; j++) sum += Math.Exp(x[start + j * inner] - max);
                double logSum = Math.Log(sum);
                for (int j = 0; j < n; j++)
                {
                    double shifted = x[start + j * inner] - max;
                    y[start + j * inner] = (float)(logarithm ? shifted - logSum : Math.Exp(shifted) / sum);
                }
            }
        }
    }
}
