using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using LstmSimd.Kernels;

namespace LstmSimd;

/// <summary>
/// Keeps a model's fp32 sums finite. A gate pre-activation b + W_ih·x + W_hh·h that overflows becomes ±∞, and two
/// overflows of opposite sign make NaN, where the float64 reference stays finite. Every partial sum of a row is at most
/// |b| + Σ|W_ih|·max|x| + Σ|W_hh|·max|h|, so the model keeps, per layer and direction, the largest |b| and the largest
/// row sums of |w| (of the weights as stored: rounded or quantised), and |h|'s bound (1 for bounded activations, times
/// the largest row sum of |W_hr| with a projection). Building refuses weights whose sums could overflow for any input;
/// each call then takes max |x| and max |h0| once (vectorised) and refuses, naming the element, values that could make
/// them overflow. <see cref="Limit"/> leaves half of fp32's range for the rounding of long sums and for Int8's
/// quantised activations, which may exceed max |x| by a 127th.
/// </summary>
internal sealed class SumBounds
{
    /// <summary>What every bound must stay below: half of fp32's largest value.</summary>
    public const double Limit = float.MaxValue / 2.0;

    /// <summary>Float16 kernels scale activations by up to 2^56 (see <c>IWeightFormat.ActivationScale</c>): inputs must stay below 2^72.</summary>
    private const float Float16ActivationLimit = 4.722366482869645e21f; // 2^72

    private readonly LstmSpec _spec;
    private readonly double[] _bias, _input, _recurrent, _hidden; // per layer-direction: max |b|, max row Σ|W_ih|, max row Σ|W_hh|, |h|'s bound (∞: none)
    private readonly WeightFormat _format;
    private readonly KernelSet _kernels; // the width that scans every call's inputs
    private readonly double _inputScale; // what the layers above the first take times h's bound: training's inverted dropout scales them up

    private SumBounds(LstmSpec spec, WeightFormat format, KernelSet kernels, double inputScale)
    {
        _kernels = kernels;
        int slots = spec.NumLayers * spec.Directions;
        _spec = spec;
        _format = format;
        _inputScale = inputScale;
        _bias = new double[slots];
        _input = new double[slots];
        _recurrent = new double[slots];
        _hidden = new double[slots];
    }

    /// <summary>Whether |h| has a bound (1, or W_hr's row sums): it has unless the gate or output activation is ReLU.</summary>
    private bool BoundedCell => Bounded(_spec.Cell.Gate) && Bounded(_spec.Cell.Output);

    /// <summary>
    /// True for cells with an unbounded (ReLU) activation: their c can grow past fp32's range over the steps however the
    /// inputs are bounded, so their runs check the cell states they end with instead (<see cref="FirstNonFinite"/>).
    /// </summary>
    public bool StateMayOverflow => UnboundedCell && !_weightsHaveNaN;

    private bool UnboundedCell => !BoundedCell || !Bounded(_spec.Cell.Candidate);

    private bool _weightsHaveNaN; // then NaN states are the weights' doing, not an overflow

    /// <summary>
    /// The bounds of <paramref name="weights"/> as a <paramref name="format"/> model computes with them; a training session
    /// passes its dropout's <paramref name="inputScale"/> 1 / (1 − p).
    /// </summary>
    /// <exception cref="ArgumentException">Some sum could overflow fp32 whatever the input.</exception>
    public static SumBounds Create(LstmWeights weights, WeightFormat format, KernelSet kernels, double inputScale = 1)
    {
        var bounds = new SumBounds(weights.Spec, format, kernels, inputScale);
        bounds.Measure(format == WeightFormat.Float32 ? weights : weights.StoredAs(format));
        return bounds;
    }

    /// <summary>
    /// Measures <paramref name="stored"/> (the weights as the kernels hold them) again, as a training step that changed them
    /// must; allocates nothing.
    /// </summary>
    /// <exception cref="ArgumentException">Some sum could overflow fp32 whatever the input.</exception>
    public void Measure(LstmWeights stored)
    {
        LstmSpec spec = _spec;
        int rows = 4 * spec.HiddenSize;

        // |h| = |o ⊙ act(c)| ≤ 1 when the gate and output activations are bounded (ReLU is not): then with a projection
        // |W_hr·h| is at most W_hr's largest row sum of |w|.
        _weightsHaveNaN = false;
        for (int layer = 0; layer < spec.NumLayers; layer++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                int slot = layer * spec.Directions + d;
                LstmLayerWeights w = stored[layer, d];
                if (UnboundedCell) // only StateMayOverflow asks, so bounded cells (every training session's) skip the scan
                    _weightsHaveNaN |= HasNaN(w.BiasIh) || HasNaN(w.BiasHh) || HasNaN(w.WeightIh) || HasNaN(w.WeightHh) || HasNaN(w.WeightHr) || HasNaN(w.Peephole);
                double bias = 0;
                for (int r = 0; spec.Bias && r < rows; r++) bias = Math.Max(bias, Math.Abs(w.BiasIh[r] + w.BiasHh[r])); // the packed bias is summed in fp32
                _bias[slot] = bias;
                _input[slot] = LargestRowSum(w.WeightIh, rows);
                _recurrent[slot] = LargestRowSum(w.WeightHh, rows);
                _hidden[slot] = !BoundedCell ? double.PositiveInfinity : spec.ProjectionSize > 0 ? LargestRowSum(w.WeightHr, spec.ProjectionSize) : 1;
            }
        }

        for (int slot = 0; slot < _bias.Length; slot++)
        {
            double least = FixedPart(slot) + _recurrent[slot] * Known(_hidden[slot]);
            if (least > Limit || Known(_hidden[slot]) > Limit)
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"Layer {slot / spec.Directions}{(spec.Bidirectional ? $" direction {slot % spec.Directions}" : "")}: its fp32 sums could overflow whatever the input " +
                    $"(largest |b| {_bias[slot]:G3}, row sums of |w|: W_ih {_input[slot]:G3}, W_hh {_recurrent[slot]:G3}, |h| up to {_hidden[slot]:G3}; " +
                    $"the limit is {Limit:G3}). Scale the weights down."), "weights");
            }
        }
    }

    /// <summary>
    /// The index of the first non-finite value of <paramref name="values"/> (a cell state after a run), or -1. A cell with an
    /// unbounded activation whose inputs and states were finite can only reach ±∞ or NaN there by overflowing fp32, and a
    /// non-finite c stays non-finite (f ⊙ c + i ⊙ g), so one look at the final c finds every overflow of the run.
    /// </summary>
    public static int FirstNonFinite(ReadOnlySpan<float> values)
    {
        for (int i = 0; i < values.Length; i++)
        {
            if (!float.IsFinite(values[i])) return i;
        }

        return -1;
    }

    /// <summary>True when <paramref name="values"/> hold a NaN (which a run may pass on: NaN in gives NaN out).</summary>
    public static bool HasNaN(ReadOnlySpan<float> values)
    {
        foreach (float v in values)
        {
            if (float.IsNaN(v)) return true;
        }

        return false;
    }

    /// <summary>The exception for a run of an unbounded cell that overflowed fp32 although its inputs were finite.</summary>
    public OverflowException CellOverflow(int slot, int index, float value) => new(string.Create(CultureInfo.InvariantCulture,
        $"Layer {slot / _spec.Directions}{(_spec.Bidirectional ? $" direction {slot % _spec.Directions}" : "")}: with a ReLU activation the cell state left fp32's range " +
        $"(c[{index}] = {value:R}) although every input was finite, so the outputs would be wrong (the float64 reference does not overflow there). " +
        $"Scale the inputs or the weights down."));

    /// <summary>A Forward's check: <paramref name="input"/> [T, B, I] and <paramref name="h0"/> [L·D, B, H_out] (empty: zeros).</summary>
    /// <exception cref="ArgumentOutOfRangeException">An element could make a sum overflow; nothing has been written yet.</exception>
    public void CheckSequence(ReadOnlySpan<float> input, ReadOnlySpan<float> h0, int batch)
    {
        float largestInput = CheckedMagnitude(input, nameof(input), 0);
        int slotLength = batch * _spec.OutputHiddenSize, directions = _spec.Directions;
        float below = 0; // the largest |h0| of the layer below (a GRU's outputs stay within it)
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            float largestOfLayer = 0;
            for (int d = 0; d < directions; d++)
            {
                int slot = layer * directions + d;
                ReadOnlySpan<float> state = h0.IsEmpty ? default : h0.Slice(slot * slotLength, slotLength);
                float largestState = CheckedMagnitude(state, nameof(h0), slot * slotLength);
                CheckSlot(slot, input, largestInput, state, largestState, nameof(h0), slot * slotLength, below);
                largestOfLayer = Math.Max(largestOfLayer, largestState);
            }

            below = largestOfLayer;
        }
    }

    /// <summary>
    /// A streaming step's check of <paramref name="input"/> [B, I], with <paramref name="stateMagnitudes"/> per layer the
    /// largest |h| the state may hold beyond the cell's own bound (what <see cref="CheckState"/> let in; empty: none).
    /// </summary>
    public void CheckStep(ReadOnlySpan<float> input, ReadOnlySpan<float> stateMagnitudes)
    {
        float largestInput = CheckedMagnitude(input, nameof(input), 0);
        CheckSlot(0, input, largestInput, default, stateMagnitudes.IsEmpty ? 0 : stateMagnitudes[0], "h", 0, 0);
    }

    /// <summary>A state's check (h [L, B, H_out] of a streaming session); writes each layer's largest |h| to <paramref name="magnitudes"/>.</summary>
    public void CheckState(ReadOnlySpan<float> h, int batch, Span<float> magnitudes)
    {
        int layerLength = batch * _spec.OutputHiddenSize;
        for (int layer = 0; layer < _spec.NumLayers; layer++)
        {
            ReadOnlySpan<float> state = h.Slice(layer * layerLength, layerLength);
            magnitudes[layer] = CheckedMagnitude(state, nameof(h), layer * layerLength);
            CheckSlot(layer, default, 0, state, magnitudes[layer], nameof(h), layer * layerLength, layer > 0 ? magnitudes[layer - 1] : 0);
        }
    }

    private static bool Bounded(Activation activation) => activation.Kind != ActivationKind.Relu;

    private static double Known(double bound) => double.IsPositiveInfinity(bound) ? 0 : bound;

    private static double LargestRowSum(ReadOnlySpan<float> matrix, int rows)
    {
        if (matrix.IsEmpty) return 0;
        int depth = matrix.Length / rows;
        double largest = 0;
        for (int r = 0; r < rows; r++) largest = Math.Max(largest, AbsoluteSum(matrix.Slice(r * depth, depth))); // NaN weights give NaN sums: NaN stays NaN
        return largest;
    }

    /// <summary>
    /// Σ|w| in double, over eight partial sums where vectors are at hand: one chain of dependent additions would take a
    /// training step's refresh most of a millisecond at H = 256, and a bound does not depend on the order of double additions.
    /// </summary>
    private static double AbsoluteSum(ReadOnlySpan<float> values)
    {
        int i = 0;
        double sum = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            ref float start = ref MemoryMarshal.GetReference(values);
            Vector256<double> low = Vector256<double>.Zero, high = Vector256<double>.Zero;
            for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
            {
                (Vector256<double> lower, Vector256<double> upper) = Vector256.Widen(Vector256.Abs(Vector256.LoadUnsafe(ref start, (nuint)i)));
                low += lower;
                high += upper;
            }

            sum = Vector256.Sum(low + high);
        }

        for (; i < values.Length; i++) sum += Math.Abs(values[i]);
        return sum;
    }

    /// <summary>
    /// |b| plus, above layer 0, W_ih times the bound of the layer below's h. An LSTM's h is bounded whatever its initial state
    /// (o ⊙ tanh(c)); a GRU's mixes its last h with a tanh, so it stays within max(1, |h0|): <paramref name="belowState"/>
    /// is the largest |h| the caller gave the layer below.
    /// </summary>
    private double FixedPart(int slot, double belowState = 0)
    {
        int layer = slot / _spec.Directions;
        if (layer == 0) return _bias[slot];
        double below = _spec.Cell.IsGru ? belowState : 0;
        for (int d = 0; d < _spec.Directions; d++) below = Math.Max(below, Known(_hidden[(layer - 1) * _spec.Directions + d]));
        return _bias[slot] + _input[slot] * below * _inputScale;
    }

    /// <summary>
    /// Refuses a layer-direction's sums that could overflow with the caller's state (largest |h| <paramref name="largestState"/>)
    /// and, at layer 0, input (largest |x| <paramref name="largestInput"/>): the state is blamed when it overflows on its own.
    /// </summary>
    private void CheckSlot(int slot, ReadOnlySpan<float> input, float largestInput, ReadOnlySpan<float> state, float largestState, string stateName, int stateOffset, double belowState)
    {
        double fixedPart = FixedPart(slot, belowState), recurrent = _recurrent[slot] * Math.Max(Known(_hidden[slot]), largestState);
        if (fixedPart + recurrent > Limit)
            Refuse(state, (Limit - fixedPart) / _recurrent[slot], stateName, stateOffset, slot, "W_hh", _recurrent[slot]);
        if (slot / _spec.Directions == 0 && fixedPart + recurrent + _input[slot] * largestInput > Limit)
            Refuse(input, (Limit - fixedPart - recurrent) / _input[slot], "input", 0, slot, "W_ih", _input[slot]);
    }

    /// <summary>The largest |v| of <paramref name="values"/>, refusing values a Float16 model cannot scale.</summary>
    private float CheckedMagnitude(ReadOnlySpan<float> values, string name, int offset)
    {
        float largest = _kernels.LargestMagnitude(values);
        if (_format == WeightFormat.Float16 && largest >= Float16ActivationLimit)
        {
            int index = FirstAbove(values, Float16ActivationLimit, inclusive: true);
            ThrowOutOfRange(name, offset + index, values[index],
                "a Float16 model takes inputs and states below 2^72 (4.7E+21) in magnitude, because its kernels scale activations by up to 2^56; use BFloat16 or Float32 for larger ones.");
        }

        return largest;
    }

    private void Refuse(ReadOnlySpan<float> values, double allowed, string name, int offset, int slot, string matrix, double rowSum)
    {
        int index = FirstAbove(values, allowed, inclusive: false);
        if (index < 0) throw new InvalidOperationException($"A state let in earlier makes layer {slot / _spec.Directions}'s sums overflow."); // CheckState refuses such states
        ThrowOutOfRange(name, offset + index, values[index], string.Create(CultureInfo.InvariantCulture,
            $"|value| above {allowed:G3} could overflow the fp32 sums b + W_ih·x + W_hh·h of layer {slot / _spec.Directions} to ±∞ (and ∞ − ∞ is NaN): {matrix}'s largest row sum of |w| is {rowSum:G3} ({_format} weights as stored). Scale it down."));
    }

    private static int FirstAbove(ReadOnlySpan<float> values, double allowed, bool inclusive)
    {
        for (int i = 0; i < values.Length; i++)
        {
            double v = Math.Abs(values[i]);
            if (v > allowed || (inclusive && v == allowed)) return i;
        }

        return -1;
    }

    private static void ThrowOutOfRange(string name, int index, float value, string why) =>
        throw new ArgumentOutOfRangeException(name, value, string.Create(CultureInfo.InvariantCulture, $"{name}[{index}] = {value:R}: {why}"));
}
