namespace LstmSimd.Training;

/// <summary>
/// The result of <see cref="LstmTrainingSession.ComputeGradients"/>: a forward pass and the gradients of a loss
/// with respect to every parameter, the input and the initial states, in PyTorch's shapes.
/// </summary>
/// <param name="Output">The forward output: [T, B, D·H_out] (or [B, T, D·H_out] batch-first).</param>
/// <param name="HiddenState">h_n: [L·D, B, H_out].</param>
/// <param name="CellState">c_n: [L·D, B, H].</param>
/// <param name="Parameters">∂loss/∂parameters, laid out as the weights (<c>grad.weight_ih_l0</c> is <c>Parameters[0, 0].WeightIh</c>).</param>
/// <param name="Input">∂loss/∂input, in the input's layout; zero past each sequence's length.</param>
/// <param name="H0">∂loss/∂h0: [L·D, B, H_out].</param>
/// <param name="C0">∂loss/∂c0: [L·D, B, H].</param>
public sealed record LstmGradients(float[] Output, float[] HiddenState, float[] CellState, LstmWeights Parameters, float[] Input, float[] H0, float[] C0);
