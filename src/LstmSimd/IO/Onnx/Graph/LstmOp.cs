using System.Runtime.InteropServices;

namespace LstmSimd.IO.Onnx.Graph;

/// <summary>
/// <c>LSTM</c> on the library's fast path: the node's weights run in an <see cref="LstmSession"/> sized for the planned batch
/// and steps. Weights from initializers or Constant nodes are packed once, when the file is loaded; weights computed at run
/// time (graph inputs, as ONNX's conformance tests give them) have their shapes checked when planning and are packed on the
/// first run and again whenever a run's values differ from the last packed ones; that repacking allocates, a run with
/// unchanged weights does not. ONNX's shapes are met around the session's PyTorch ones:
/// Y [T, D, B, H] (layout 0) or [B, T, D, H] (layout 1), Y_h and Y_c [D, B, H] or [B, D, H]; sequence_lens, initial_h and
/// initial_c are read per run, whatever computes them; direction <c>reverse</c> runs forward over each sequence reversed.
/// </summary>
internal sealed class LstmOp : OnnxOp
{
    public override IReadOnlyList<string> Attributes =>
        ["hidden_size", "direction", "layout", "clip", "input_forget", "activations", "activation_alpha", "activation_beta"];

    public override int MinInputs => 3;

    public override int MaxInputs => 8;

    public override int MinOutputs => 0;

    public override int MaxOutputs => 3;

    public override bool Foldable => false;

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxOpNode node = c.Node;
        OnnxLstmNode lstm = node.Lstm!;
        OnnxTensor x = c.FloatInput(0, "X");
        RunTimeWeights? runTime = lstm.RunTimeWeights is OnnxLstmRunTimeWeights settings ? new RunTimeWeights(c, settings, x) : null;
        LstmSpec spec = runTime?.Spec ?? c.Plan.FastModel(node).Spec;
        bool batchFirst = lstm.Layout == SequenceLayout.BatchFirst;
        bool reverse = (lstm.Model?.Direction ?? lstm.RunTimeWeights!.Direction) == ImportedDirection.Reverse;
        int dirs = spec.Directions, hidden = spec.HiddenSize;
        if (x.Dims.Length != 3 || x.Dims[2] != spec.InputSize)
            throw node.Fail($"X has shape {x.ShapeText}; expected [{(batchFirst ? "batch, steps" : "steps, batch")}, {spec.InputSize}]");
        (int steps, int batch) = batchFirst ? (x.Dims[1], x.Dims[0]) : (x.Dims[0], x.Dims[1]);
        if (steps == 0 || batch == 0) throw node.Fail($"X has shape {x.ShapeText}; an LSTM needs at least one step and one sequence");
        int[] stateShape = batchFirst ? [batch, dirs, hidden] : [dirs, batch, hidden];
        OnnxTensor? lengths = c.Input(4), h0 = State(c, 5, "initial_h", stateShape), c0 = State(c, 6, "initial_c", stateShape);
        if (lengths is not null && (lengths.Kind == OnnxElementKind.Float || lengths.Dims is not [int count] || count != batch))
            throw node.Fail($"sequence_lens has shape {lengths.ShapeText}; expected [{batch}] integers");

        LstmSession? packedAtLoad = runTime is null ? c.Plan.Own(c.Plan.FastModel(node).CreateSession(batch, steps)) : null;
        if (runTime is not null) c.Plan.Own(runTime).Size(batch, steps);
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

            LstmSession session = packedAtLoad ?? runTime!.Session();
            session.Forward(input, steps, batch, sessionOutput, hN, cN, hStart, cStart, lengthValues, layout);
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

    /// <summary>
    /// W, R, B and P of a node whose weights are computed at run time: their shapes checked against the node when planning, and
    /// a fast model and session built from their values on the first run and whenever they change (compared with the last
    /// packed copy, which allocates nothing when they have not).
    /// </summary>
    private sealed class RunTimeWeights : IDisposable
    {
        private readonly OnnxTensor _w, _r;
        private readonly OnnxTensor? _b, _p;
        private readonly float[] _packedW, _packedR, _packedB, _packedP;
        private readonly LstmModelOptions _options;
        private readonly string _label;
        private bool _packed;
        private int _batch, _steps;
        private LstmSession? _session;

        public RunTimeWeights(OnnxPlanContext c, OnnxLstmRunTimeWeights settings, OnnxTensor x)
        {
            int dirs = settings.Directions, hidden = settings.HiddenSize;
            long gates = 4L * hidden;
            _w = Weight(c, 1, "W", dirs, gates, x.Dims.Length == 3 ? x.Dims[2] : -1);
            int inputSize = _w.Dims.Length == 3 ? _w.Dims[2] : 0;
            _r = Weight(c, 2, "R", dirs, gates, hidden);
            _b = settings.HasBias ? Weight(c, 3, "B", dirs, 2 * gates) : null;
            _p = settings.Cell.Peepholes ? Weight(c, 7, "P", dirs, 3L * hidden) : null;
            Spec = new LstmSpec(inputSize, hidden, 1, dirs == 2, 0, settings.HasBias) { Cell = settings.Cell };
            _packedW = new float[_w.Length];
            _packedR = new float[_r.Length];
            _packedB = new float[_b?.Length ?? 0];
            _packedP = new float[_p?.Length ?? 0];
            _options = c.Plan.FastModelOptions(WeightFormat.Float32);
            _label = c.Node.Label;
        }

        public LstmSpec Spec { get; }

        public void Size(int batch, int steps) => (_batch, _steps) = (batch, steps);

        /// <summary>The session for this run's weights, packing them first when they differ from the last packed ones.</summary>
        public LstmSession Session()
        {
            if (_session is not null && _packed && Same(_w, _packedW) && Same(_r, _packedR) && Same(_b, _packedB) && Same(_p, _packedP)) return _session;
            LstmSession session = Pack();
            _session?.Dispose();
            _session = session;
            _w.Floats.CopyTo(_packedW, 0);
            _r.Floats.CopyTo(_packedR, 0);
            _b?.Floats.CopyTo(_packedB, 0);
            _p?.Floats.CopyTo(_packedP, 0);
            _packed = true;
            return session;
        }

        public void Dispose()
        {
            _session?.Dispose();
            _session = null;
        }

        /// <summary>The weights in ONNX's gate order (i, o, f, c) reordered as on import; a refused value names the node.</summary>
        private LstmSession Pack()
        {
            int hidden = Spec.HiddenSize, inputSize = Spec.InputSize;
            int wLength = Spec.InputWeightLength(0), rLength = Spec.RecurrentWeightLength, bLength = Spec.GateRows, pLength = 3 * hidden;
            var layers = new List<LstmLayerWeights>();
            for (int d = 0; d < Spec.Directions; d++)
            {
                layers.Add(new LstmLayerWeights
                {
                    WeightIh = OnnxLstmImport.Reorder(_w.Floats.AsSpan(d * wLength, wLength), hidden, inputSize),
                    WeightHh = OnnxLstmImport.Reorder(_r.Floats.AsSpan(d * rLength, rLength), hidden, hidden),
                    BiasIh = _b is null ? [] : OnnxLstmImport.Reorder(_b.Floats.AsSpan(2 * d * bLength, bLength), hidden, 1),
                    BiasHh = _b is null ? [] : OnnxLstmImport.Reorder(_b.Floats.AsSpan((2 * d + 1) * bLength, bLength), hidden, 1),
                    Peephole = _p is null ? [] : OnnxLstmImport.ReorderPeephole(_p.Floats.AsSpan(d * pLength, pLength), hidden),
                });
            }

            try
            {
                return LstmModel.Create(new LstmWeights(Spec, layers), _options).CreateSession(_batch, _steps);
            }
            catch (ArgumentException e)
            {
                throw new ArgumentException($"{_label}: the weights given at run time are refused: {e.Message}", e);
            }
        }

        /// <summary>Bit-for-bit equality, so that a changed NaN payload or the sign of a zero counts as a change too.</summary>
        private static bool Same(OnnxTensor? value, float[] packed) =>
            value is null || MemoryMarshal.AsBytes(value.Floats.AsSpan()).SequenceEqual(MemoryMarshal.AsBytes(packed.AsSpan()));

        /// <summary>A weight input of shape <paramref name="dims"/> (a negative dim: the one X contradicts, reported as such).</summary>
        private static OnnxTensor Weight(OnnxPlanContext c, int input, string what, params long[] dims)
        {
            OnnxTensor t = c.FloatInput(input, what);
            bool free = dims[^1] < 0;
            bool matches = t.Dims.Length == dims.Length && Enumerable.Range(0, dims.Length).All(i => (free && i == dims.Length - 1 && t.Dims[i] > 0) || t.Dims[i] == dims[i]);
            if (matches) return t;
            string expected = "[" + string.Join(", ", dims.Select((d, i) => d < 0 ? "input_size" : d.ToString(System.Globalization.CultureInfo.InvariantCulture))) + "]";
            throw c.Node.Fail($"input {what} ('{SafetensorsFile.Printable(c.Node.Input(input))}') has shape {t.ShapeText}; expected {expected} (num_directions, {(what == "B" ? "8·hidden_size" : what == "P" ? "3·hidden_size" : "4·hidden_size")}{(what == "W" ? ", input_size" : what == "R" ? ", hidden_size" : "")})");
        }
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
