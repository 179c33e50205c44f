namespace LstmSimd.IO.Onnx.Graph;

/// <summary>
/// What <c>LSTM</c> and <c>GRU</c> nodes share on the fast path: both run in an <see cref="LstmSession"/> (a GRU in the LSTM's
/// gate slots, see <see cref="GruModel"/>) sized for the planned batch and steps, and ONNX's shapes are met around the
/// session's PyTorch ones: Y [T, D, B, H] (layout 0) or [B, T, D, H] (layout 1), Y_h (and an LSTM's Y_c) [D, B, H] or
/// [B, D, H]; sequence_lens and the initial states are read per run, whatever computes them; direction <c>reverse</c> runs
/// forward over each sequence reversed. The inputs X, sequence_lens, initial_h (0, 4, 5) and outputs Y, Y_h (0, 1) sit at
/// the same positions in both operators; initial_c (input 6) and Y_c (output 2) are the LSTM's only.
/// </summary>
internal abstract class RecurrentOp : OnnxOp
{
    public override bool Foldable => false;

    /// <summary>
    /// Sizes the outputs and the session for X's planned shape and returns the per-run work. <paramref name="sessions"/> is
    /// called once with the planned batch and steps and returns what gives each run its session.
    /// </summary>
    protected static Action PlanRun(OnnxPlanContext c, LstmSpec spec, SequenceLayout nodeLayout, bool reverse, Func<int, int, Func<LstmSession>> sessions)
    {
        OnnxOpNode node = c.Node;
        OnnxTensor x = c.FloatInput(0, "X");
        bool batchFirst = nodeLayout == SequenceLayout.BatchFirst;
        int dirs = spec.Directions, hidden = spec.HiddenSize;
        if (x.Dims.Length != 3 || x.Dims[2] != spec.InputSize)
            throw node.Fail($"X has shape {x.ShapeText}; expected [{(batchFirst ? "batch, steps" : "steps, batch")}, {spec.InputSize}]");
        (int steps, int batch) = batchFirst ? (x.Dims[1], x.Dims[0]) : (x.Dims[0], x.Dims[1]);
        if (steps == 0 || batch == 0) throw node.Fail($"X has shape {x.ShapeText}; {node.Source.OpType} needs at least one step and one sequence");
        int[] stateShape = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden];
        OnnxTensor? lengths = c.Input(4), h0 = State(c, 5, "initial_h", stateShape), c0 = State(c, 6, "initial_c", stateShape);
        if (lengths is not null && (lengths.Kind == OnnxElementKind.Float || lengths.Dims is not [int count] || count != batch))
            throw node.Fail($"sequence_lens has shape {lengths.ShapeText}; expected [{batch}] integers");

        Func<LstmSession> session = sessions(batch, steps);
        SequenceLayout layout = batchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor;
        int outputSize = dirs * hidden, stateSize = dirs * batch * hidden;

        // The session writes [T, B, D·H] (or [B, T, D·H]) and [D, B, H]; ONNX's layouts differ only with two directions.
        bool transposeY = dirs == 2 && !batchFirst, transposeStates = dirs == 2 && batchFirst;
        OnnxTensor y = c.Output(0, OnnxElementKind.Float, batchFirst ? [batch, steps, dirs, hidden] : [steps, dirs, batch, hidden]);
        float[] sessionOutput = transposeY ? new float[y.Length] : y.Floats;
        float[] yH = c.OutputUsed(1) ? c.Output(1, OnnxElementKind.Float, stateShape).Floats : [];
        float[] yC = c.OutputUsed(2) ? c.Output(2, OnnxElementKind.Float, stateShape).Floats : [];
        float[] hN = transposeStates && yH.Length > 0 ? new float[stateSize] : yH, cN = transposeStates && yC.Length > 0 ? new float[stateSize] : yC;
        float[] hStart = h0 is null ? [] : transposeStates ? new float[stateSize] : h0.Floats, cStart = c0 is null ? [] : transposeStates ? new float[stateSize] : c0.Floats;
        float[] reversedInput = reverse ? new float[x.Length] : [];
        int[] lengthValues = lengths is null ? [] : new int[batch];
        string label = node.Label;
        return () =>
        {
            if (lengths is not null) ReadLengths(lengths.Int64s, lengthValues, steps, label);
            if (transposeStates)
            {
                if (h0 is not null) SwapLeadingAxes(h0.Floats, hStart, batch, dirs, hidden);
                if (c0 is not null) SwapLeadingAxes(c0.Floats, cStart, batch, dirs, hidden);
            }

            float[] input = x.Floats;
            if (reverse)
            {
                input.CopyTo(reversedInput, 0);
                SequenceReversal.ReverseInPlace(reversedInput, steps, batch, spec.InputSize, lengthValues, layout);
                input = reversedInput;
            }

            session().Forward(input, steps, batch, sessionOutput, hN, cN, hStart, cStart, lengthValues, layout);
            if (reverse) SequenceReversal.ReverseInPlace(sessionOutput, steps, batch, outputSize, lengthValues, layout);
            if (transposeY)
            {
                for (int t = 0; t < steps; t++)
                    SwapLeadingAxes(sessionOutput.AsSpan(t * batch * outputSize, batch * outputSize), y.Floats.AsSpan(t * batch * outputSize), batch, dirs, hidden);
            }

            if (transposeStates)
            {
                if (yH.Length > 0) SwapLeadingAxes(hN, yH, dirs, batch, hidden);
                if (yC.Length > 0) SwapLeadingAxes(cN, yC, dirs, batch, hidden);
            }
        };
    }

    private static OnnxTensor? State(OnnxPlanContext c, int input, string what, int[] shape)
    {
        if (c.Input(input) is null) return null;
        OnnxTensor t = c.FloatInput(input, what);
        return t.Dims.AsSpan().SequenceEqual(shape) ? t : throw c.Node.Fail($"{what} has shape {t.ShapeText}; expected {OnnxTensor.Describe(shape)}");
    }

    /// <summary>[a, b, h] → [b, a, h].</summary>
    private static void SwapLeadingAxes(ReadOnlySpan<float> source, Span<float> destination, int a, int b, int h)
    {
        for (int i = 0; i < a; i++)
            for (int j = 0; j < b; j++)
                source.Slice((i * b + j) * h, h).CopyTo(destination.Slice((j * a + i) * h, h));
    }

    private static void ReadLengths(long[] values, int[] lengths, int steps, string label)
    {
        for (int i = 0; i < values.Length; i++)
            lengths[i] = values[i] >= 0 && values[i] <= steps ? (int)values[i] : throw new ArgumentException($"{label}: sequence_lens[{i}] = {values[i]} is outside [0, {steps}].");
    }
}
