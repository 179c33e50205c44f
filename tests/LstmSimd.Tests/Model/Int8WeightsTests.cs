using FsCheck;
using FsCheck.Fluent;
using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// Int8 models against a naive Int8 reference: the same documented rounding of weights (per row, max|w|/127) and of
/// activations (per row and step, 7 bits, see QuantizedRows), then plain float64 loops. One step from given x, h and c
/// leaves no room for the two to see different inputs, so they must agree to the numerics contract on every path; over
/// many steps, layers and projections each side re-quantises its own h, so there the tests hold Int8 to its accuracy bound
/// against fp32 instead (CompressedWeightsTests).
/// </summary>
public class Int8WeightsTests
{
    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    private static Gen<(int Input, int Hidden, int Batch, int Seed)> Shapes(bool software) =>
        from input in Gen.Choose(1, software ? 40 : 70)
        from hidden in Gen.Choose(1, software ? 40 : 70)
        from batch in Gen.Choose(1, 9)
        from seed in Gen.Choose(0, 100_000)
        select (input, hidden, batch, seed);

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_streaming_step_matches_the_naive_int8_reference(KernelPath path)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(Shapes(software).ToArbitrary(), shape =>
        {
            (LstmWeights weights, float[] x, float[] h0, float[] c0) = Inputs(shape.Input, shape.Hidden, shape.Batch, shape.Seed);
            (double[] expectedH, double[] expectedC) = ReferenceStep(weights, x, h0, c0, shape.Batch);
            using LstmSession session = LstmModel.Create(weights, new LstmModelOptions { Kernel = path, Weights = WeightFormat.Int8 }).CreateSession(shape.Batch);
            session.SetState(h0, c0, shape.Batch);
            float[] y = new float[shape.Batch * shape.Hidden], h = new float[y.Length], c = new float[y.Length];
            session.Step(x, shape.Batch, y);
            session.GetState(h, c, shape.Batch);
            Tolerance.AssertClose(expectedH, y, $"h ({shape})");
            Tolerance.AssertClose(expectedC, c, $"c ({shape})");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 20 : 60));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void A_one_step_forward_through_the_hoisted_input_projection_matches_the_naive_int8_reference(KernelPath path)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(Shapes(software).ToArbitrary(), shape =>
        {
            (LstmWeights weights, float[] x, float[] h0, float[] c0) = Inputs(shape.Input, shape.Hidden, shape.Batch, shape.Seed);
            (double[] expectedH, double[] expectedC) = ReferenceStep(weights, x, h0, c0, shape.Batch);
            using LstmSession session = LstmModel.Create(weights, new LstmModelOptions { Kernel = path, Weights = WeightFormat.Int8 }).CreateSession(shape.Batch, 1);
            float[] output = new float[shape.Batch * shape.Hidden], hN = new float[output.Length], cN = new float[output.Length];
            session.Forward(x, 1, shape.Batch, output, hN, cN, h0, c0);
            Tolerance.AssertClose(expectedH, output, $"output ({shape})");
            Tolerance.AssertClose(expectedH, hN, $"h_n ({shape})");
            Tolerance.AssertClose(expectedC, cN, $"c_n ({shape})");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 20 : 60));
    }

    [Fact]
    public void Non_finite_weights_are_refused_and_a_non_finite_input_gives_NaN_rather_than_a_clamped_number()
    {
        LstmWeights weights = LstmWeights.CreateRandom(new LstmSpec(5, 6), 2);
        weights[0, 0].WeightIh[3] = float.PositiveInfinity;
        var refused = Assert.Throws<ArgumentException>(() => LstmModel.Create(weights, new LstmModelOptions { Weights = WeightFormat.Int8 }));
        Assert.Contains("not finite", refused.Message);

        weights = LstmWeights.CreateRandom(new LstmSpec(5, 6), 2);
        using LstmSession session = LstmModel.Create(weights, new LstmModelOptions { Weights = WeightFormat.Int8 }).CreateSession();
        float[] y = new float[6];
        session.Step([0.1f, float.NaN, 0.3f, 0.2f, 0.5f], 1, y);
        Assert.All(y, v => Assert.True(float.IsNaN(v), $"h = {v}"));
    }

    [Fact]
    public void Model_files_keep_16_or_32_bit_matrices_so_saving_as_int8_is_refused_with_a_reason()
    {
        LstmWeights weights = LstmWeights.CreateRandom(new LstmSpec(3, 4), 1);
        var refused = Assert.Throws<ArgumentException>(() => LstmModelFile.CreateWriter(weights, matrices: WeightFormat.Int8));
        Assert.Contains("LstmModelOptions.Weights", refused.Message);
    }

    [Fact]
    public void StoredAs_Int8_gives_each_rows_quantised_and_rescaled_weights_and_keeps_the_biases()
    {
        LstmWeights weights = LstmWeights.CreateRandom(new LstmSpec(7, 9, 2, bidirectional: true, projectionSize: 5), 4);
        LstmWeights stored = weights.StoredAs(WeightFormat.Int8);
        LstmSpec spec = weights.Spec;
        for (int l = 0; l < spec.NumLayers; l++)
        {
            for (int d = 0; d < spec.Directions; d++)
            {
                LstmLayerWeights original = weights[l, d], rounded = stored[l, d];
                foreach ((float[] from, float[] to, int rows) in new[] { (original.WeightIh, rounded.WeightIh, 36), (original.WeightHh, rounded.WeightHh, 36), (original.WeightHr, rounded.WeightHr, 5) })
                {
                    double[,] expected = Dequantize(from, rows, from.Length / rows);
                    for (int r = 0; r < rows; r++)
                        for (int k = 0; k < from.Length / rows; k++)
                            Assert.InRange(Math.Abs(to[r * (from.Length / rows) + k] - expected[r, k]), 0, 1e-7); // the product's float rounding
                }

                Assert.Equal(original.BiasIh, rounded.BiasIh);
                Assert.Equal(original.BiasHh, rounded.BiasHh);
            }
        }

        Assert.NotSame(weights[0, 0].WeightIh, stored[0, 0].WeightIh);
    }

    private static (LstmWeights Weights, float[] X, float[] H0, float[] C0) Inputs(int input, int hidden, int batch, int seed)
    {
        var random = new Random(seed);
        LstmWeights weights = LstmWeights.CreateRandom(new LstmSpec(input, hidden), seed);
        float[] Values(int count, float scale) => [.. Enumerable.Range(0, count).Select(_ => (random.NextSingle() * 2 - 1) * scale)];
        // Rows of mixed sign and of one sign (zero point at an end) both occur.
        float[] x = Values(batch * input, 2f);
        if (seed % 2 == 0) x = [.. x.Select(MathF.Abs)];
        return (weights, x, Values(batch * hidden, 1f), Values(batch * hidden, 1.5f));
    }

    /// <summary>One step of a one-layer LSTM with Int8 weights and quantised activations, written plainly.</summary>
    private static (double[] H, double[] C) ReferenceStep(LstmWeights weights, float[] x, float[] h0, float[] c0, int batch)
    {
        LstmSpec spec = weights.Spec;
        int input = spec.InputSize, hidden = spec.HiddenSize;
        LstmLayerWeights w = weights[0, 0];
        double[,] wIh = Dequantize(w.WeightIh, 4 * hidden, input), wHh = Dequantize(w.WeightHh, 4 * hidden, hidden);
        double[] h = new double[batch * hidden], c = new double[batch * hidden];
        for (int b = 0; b < batch; b++)
        {
            double[] xq = QuantizeActivations(x.AsSpan(b * input, input)), hq = QuantizeActivations(h0.AsSpan(b * hidden, hidden));
            double[] gates = new double[4 * hidden];
            for (int row = 0; row < 4 * hidden; row++)
            {
                double sum = w.BiasIh[row] + w.BiasHh[row];
                for (int k = 0; k < input; k++) sum += wIh[row, k] * xq[k];
                for (int k = 0; k < hidden; k++) sum += wHh[row, k] * hq[k];
                gates[row] = sum;
            }

            for (int j = 0; j < hidden; j++)
            {
                double i = Sigmoid(gates[j]), f = Sigmoid(gates[hidden + j]), g = Math.Tanh(gates[2 * hidden + j]), o = Sigmoid(gates[3 * hidden + j]);
                c[b * hidden + j] = f * c0[b * hidden + j] + i * g;
                h[b * hidden + j] = o * Math.Tanh(c[b * hidden + j]);
            }
        }

        return (h, c);
    }

    /// <summary>Each row to max|w|/127 times whole numbers in [−127, 127].</summary>
    private static double[,] Dequantize(float[] matrix, int rows, int columns)
    {
        var result = new double[rows, columns];
        for (int r = 0; r < rows; r++)
        {
            float largest = 0f;
            for (int k = 0; k < columns; k++) largest = Math.Max(largest, Math.Abs(matrix[r * columns + k]));
            float scale = largest / 127f, inverse = largest == 0f ? 0f : 127f / largest;
            for (int k = 0; k < columns; k++) result[r, k] = (double)scale * Math.Clamp(MathF.Round(matrix[r * columns + k] * inverse), -127f, 127f);
        }

        return result;
    }

    /// <summary>The documented activation rounding: 127 levels over [min(v, 0), max(v, 0)] with a whole zero point.</summary>
    private static double[] QuantizeActivations(ReadOnlySpan<float> values)
    {
        float low = 0f, high = 0f;
        foreach (float v in values)
        {
            low = Math.Min(low, v);
            high = Math.Max(high, v);
        }

        float range = high - low, inverse = range > 0f ? 127f / range : 0f, zero = MathF.Round(-low * inverse), scale = range / 127f;
        double[] result = new double[values.Length];
        for (int k = 0; k < values.Length; k++) result[k] = (double)scale * (Math.Clamp(MathF.Round(values[k] * inverse) + zero, 0f, 127f) - zero);
        return result;
    }

    private static double Sigmoid(double v) => 1 / (1 + Math.Exp(-v));
}
