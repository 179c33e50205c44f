using System.Runtime.InteropServices;

namespace LstmSimd.IO.Onnx.Graph;

/// <summary>
/// <c>LSTM</c> on the library's fast path (see <see cref="RecurrentOp"/> for the shapes). Weights from initializers or Constant
/// nodes are packed once, when the file is loaded; weights computed at run time (graph inputs, as ONNX's conformance tests give
/// them) have their shapes checked when planning and are packed on the first run and again whenever a run's values differ from
/// the last packed ones; that repacking allocates, a run with unchanged weights does not.
/// </summary>
internal sealed class LstmOp : RecurrentOp
{
    public override IReadOnlyList<string> Attributes =>
        ["hidden_size", "direction", "layout", "clip", "input_forget", "activations", "activation_alpha", "activation_beta"];

    public override int MinInputs => 3;

    public override int MaxInputs => 8;

    public override int MinOutputs => 0;

    public override int MaxOutputs => 3;

    public override Action? Plan(OnnxPlanContext c)
    {
        OnnxOpNode node = c.Node;
        OnnxLstmNode lstm = node.Lstm!;
        OnnxTensor x = c.FloatInput(0, "X");
        RunTimeWeights? runTime = lstm.RunTimeWeights is OnnxLstmRunTimeWeights settings ? new RunTimeWeights(c, settings, x) : null;
        LstmSpec spec = runTime?.Spec ?? c.Plan.FastModel(node).Spec;
        bool reverse = (lstm.Model?.Direction ?? lstm.RunTimeWeights!.Direction) == ImportedDirection.Reverse;
        return PlanRun(c, spec, lstm.Layout, reverse, (batch, steps) =>
        {
            if (runTime is null)
            {
                LstmSession packedAtLoad = c.Plan.Own(c.Plan.FastModel(node).CreateSession(batch, steps));
                return () => packedAtLoad;
            }

            c.Plan.Own(runTime).Size(batch, steps);
            return runTime.Session;
        });
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
}
