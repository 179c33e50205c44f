namespace LstmSimd.Reference;

/// <summary>
/// The reference's own argument checks, written apart from the fast path's: a shape rule wrong in one place then shows
/// up as a disagreement between the two instead of passing both sides unseen.
/// </summary>
internal static class ReferenceArguments
{
    /// <summary>Checks an LSTM reference call's sizes; optional tensors (states, lengths, gradients) may be empty.</summary>
    public static void Check(LstmSpec spec, int steps, int batch, int input, int h0, int c0, ReadOnlySpan<int> lengths,
        int gradOutput = 0, int gradHN = 0, int gradCN = 0) =>
        Check(new Shape(spec.NumLayers, spec.Directions, spec.InputSize, spec.OutputHiddenSize, spec.HiddenSize), steps, batch, input, h0, c0, lengths, gradOutput, gradHN, gradCN);

    /// <summary>Checks a GRU reference call's sizes (a GRU has no cell state); optional tensors may be empty.</summary>
    public static void Check(GruSpec spec, int steps, int batch, int input, int h0, ReadOnlySpan<int> lengths, int gradOutput = 0, int gradHN = 0) =>
        Check(new Shape(spec.NumLayers, spec.Directions, spec.InputSize, spec.HiddenSize, HiddenSize: 0), steps, batch, input, h0, 0, lengths, gradOutput, gradHN, 0);

    /// <summary>The sizes a call is checked against; <paramref name="HiddenSize"/> 0 for a cell without a cell state.</summary>
    private readonly record struct Shape(int NumLayers, int Directions, int InputSize, int OutputHiddenSize, int HiddenSize)
    {
        public int OutputSize => Directions * OutputHiddenSize;
    }

    private static void Check(Shape spec, int steps, int batch, int input, int h0, int c0, ReadOnlySpan<int> lengths, int gradOutput, int gradHN, int gradCN)
    {
        if (steps < 0) throw new ArgumentOutOfRangeException(nameof(steps), steps, $"steps is {steps}; it must be at least 0.");
        if (batch < 1) throw new ArgumentOutOfRangeException(nameof(batch), batch, $"batch is {batch}; it must be at least 1.");

        // Int128: a product of four int sizes cannot overflow it, so a huge claimed shape is refused, never wrapped.
        Int128 rows = (Int128)steps * batch, slots = (Int128)spec.NumLayers * spec.Directions * batch;
        Require("input", input, rows * spec.InputSize, optional: false, $"T·B·I = {steps}·{batch}·{spec.InputSize}");
        Require("h0", h0, slots * spec.OutputHiddenSize, optional: true, $"L·D·B·H_out = {slots / batch}·{batch}·{spec.OutputHiddenSize}");
        Require("c0", c0, slots * spec.HiddenSize, optional: true, $"L·D·B·H = {slots / batch}·{batch}·{spec.HiddenSize}");
        Require("gradOutput", gradOutput, rows * spec.OutputSize, optional: true, $"T·B·D·H_out = {steps}·{batch}·{spec.OutputSize}");
        Require("gradHN", gradHN, slots * spec.OutputHiddenSize, optional: true, $"L·D·B·H_out = {slots / batch}·{batch}·{spec.OutputHiddenSize}");
        Require("gradCN", gradCN, slots * spec.HiddenSize, optional: true, $"L·D·B·H = {slots / batch}·{batch}·{spec.HiddenSize}");
        if (lengths.IsEmpty) return;

        Require("lengths", lengths.Length, batch, optional: false, $"B = {batch}");
        for (int b = 0; b < batch; b++)
        {
            if (lengths[b] < 0 || lengths[b] > steps)
                throw new ArgumentOutOfRangeException(nameof(lengths), lengths[b], $"lengths[{b}] is {lengths[b]}; a length must lie in [0, {steps}].");
        }
    }

    private static void Require(string name, int actual, Int128 expected, bool optional, string product)
    {
        if (actual == expected || (optional && actual == 0)) return;
        throw new ArgumentException($"{name} holds {actual} values; the reference expects {expected} ({product}){(optional ? " or none" : "")}.", name);
    }
}
