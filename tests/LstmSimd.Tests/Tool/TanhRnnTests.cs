using LstmSimd.Cli.Experiments;
using LstmSimd.Training;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Tool;

public sealed class TanhRnnTests
{
    private const int Inputs = 3, Hidden = 5, Steps = 6, Batch = 2;

    /// <summary>The RNN's equation in double, written here independently: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t−1} + b_hh).</summary>
    private static (double[] Output, double[] Final) Forward(double[] wih, double[] whh, double[] bih, double[] bhh, double[] x)
    {
        var output = new double[Steps * Batch * Hidden];
        for (int b = 0; b < Batch; b++)
        {
            var h = new double[Hidden];
            for (int t = 0; t < Steps; t++)
            {
                var next = new double[Hidden];
                for (int u = 0; u < Hidden; u++)
                {
                    double a = bih[u] + bhh[u];
                    for (int k = 0; k < Inputs; k++) a += wih[u * Inputs + k] * x[(t * Batch + b) * Inputs + k];
                    for (int k = 0; k < Hidden; k++) a += whh[u * Hidden + k] * h[k];
                    next[u] = Math.Tanh(a);
                }

                h = next;
                h.CopyTo(output, (t * Batch + b) * Hidden);
            }
        }

        return (output, output[((Steps - 1) * Batch * Hidden)..]);
    }

    private static (TanhRnn Rnn, float[] Input, float[] GradOutput, float[] GradFinal) Case()
    {
        var random = new SeededRandom(11);
        var rnn = new TanhRnn(Inputs, Hidden, Steps, Batch, random);
        float[] input = new float[Steps * Batch * Inputs], gradOutput = new float[Steps * Batch * Hidden], gradFinal = new float[Batch * Hidden];
        random.Fill(input, -1, 1);
        random.Fill(gradOutput, -1, 1);
        random.Fill(gradFinal, -1, 1);
        return (rnn, input, gradOutput, gradFinal);
    }

    private static double[] D(float[] a) => a.Select(v => (double)v).ToArray();

    [Fact]
    public void The_rnn_forward_matches_its_equation_in_double()
    {
        var (rnn, input, _, _) = Case();
        float[] output = rnn.Forward(input, Steps, Batch).ToArray();
        var (expected, final) = Forward(D(rnn.WeightIh), D(rnn.WeightHh), D(rnn.BiasIh), D(rnn.BiasHh), D(input));
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], output[i], 5);
        Assert.Equal(final.Select(v => (float)v).ToArray(), rnn.FinalState.ToArray(), (a, b) => Math.Abs(a - b) < 1e-5);
    }

    [Fact]
    public void The_rnn_gradients_match_central_finite_differences_of_its_equation_in_double()
    {
        var (rnn, input, gradOutput, gradFinal) = Case();
        float[] gradInput = new float[input.Length];
        rnn.Forward(input, Steps, Batch);
        rnn.Backward(gradOutput, gradFinal, gradInput);

        double[][] parameters = [D(rnn.WeightIh), D(rnn.WeightHh), D(rnn.BiasIh), D(rnn.BiasHh), D(input)];
        float[][] analytic = [rnn.WeightIhGradient, rnn.WeightHhGradient, rnn.BiasIhGradient, rnn.BiasHhGradient, gradInput];
        double Loss()
        {
            var (output, final) = Forward(parameters[0], parameters[1], parameters[2], parameters[3], parameters[4]);
            double sum = 0;
            for (int i = 0; i < output.Length; i++) sum += output[i] * gradOutput[i];
            for (int i = 0; i < final.Length; i++) sum += final[i] * gradFinal[i];
            return sum;
        }

        for (int p = 0; p < parameters.Length; p++)
            for (int k = 0; k < parameters[p].Length; k++)
            {
                double original = parameters[p][k];
                parameters[p][k] = original + 1e-6;
                double up = Loss();
                parameters[p][k] = original - 1e-6;
                double down = Loss();
                parameters[p][k] = original;
                double numeric = (up - down) / 2e-6;
                // The backward runs in float: a float tolerance on top of the finite-difference one.
                Assert.True(Math.Abs(analytic[p][k] - numeric) <= 1e-4 + 1e-3 * Math.Abs(numeric), $"tensor {p}[{k}]: backward {analytic[p][k]}, finite differences {numeric}");
            }
    }

    [Fact]
    public void The_rnn_forward_and_backward_allocate_nothing_after_construction()
    {
        var (rnn, input, gradOutput, gradFinal) = Case();
        float[] gradInput = new float[input.Length];
        rnn.Forward(input, Steps, Batch);
        rnn.Backward(gradOutput, gradFinal, gradInput);
        Assert.Equal(0, Allocations.LeastOver(() =>
        {
            rnn.Forward(input, Steps, Batch);
            rnn.Backward(gradOutput, gradFinal, gradInput);
            rnn.Forward(input.AsSpan(0, 3 * Batch * Inputs), 3, Batch);
            rnn.Backward(default, default, default);
        }, 1));
    }
}
