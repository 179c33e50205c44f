using System.Globalization;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Model;

/// <summary>
/// NaN in gives NaN out; finite values the fp32 sums can hold give finite outputs matching the float64 reference, however
/// large; values that could overflow them (±∞ included), and Float16 inputs beyond 2^72, are refused with the element
/// named, before anything is written. On every kernel path and weight format.
/// </summary>
public class SpecialValueTests
{
    private static readonly WeightFormat[] AllFormats = [WeightFormat.Float32, WeightFormat.Float16, WeightFormat.BFloat16, WeightFormat.Int8];

    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    public static TheoryData<KernelPath, WeightFormat> PathsAndFormats()
    {
        var data = new TheoryData<KernelPath, WeightFormat>();
        foreach (KernelPath path in KernelSelector.All)
            foreach (WeightFormat format in AllFormats) data.Add(path, format);
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void A_NaN_input_makes_that_step_and_every_later_step_NaN(KernelPath path, WeightFormat format)
    {
        var spec = new LstmSpec(9, 17);
        LstmModel model = RandomModel(spec, path, format);
        float[] input = LstmCase.Uniform(6 * 9, 1, 1);
        input[2 * 9 + 4] = float.NaN;
        float[] output = new float[6 * 17];
        using LstmSession session = model.CreateSession(1, 6);
        session.Forward(input, 6, 1, output);
        for (int t = 0; t < 6; t++)
            for (int u = 0; u < 17; u++)
                Assert.Equal(t >= 2, float.IsNaN(output[t * 17 + u]));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Huge_finite_inputs_saturate_the_gates_without_producing_NaN(KernelPath path)
    {
        var spec = new LstmSpec(9, 17, 2);
        LstmModel model = LstmModel.Create(LstmWeights.CreateRandom(spec, 4), new LstmModelOptions { Kernel = path });
        float[] input = [.. LstmCase.Uniform(6 * 9, 1, 1).Select(v => v * 1e30f)];
        float[] output = new float[6 * 17];
        using LstmSession session = model.CreateSession(1, 6);
        session.Forward(input, 6, 1, output);
        Assert.All(output, v => Assert.InRange(v, -1f, 1f));
    }

    /// <summary>
    /// Inputs at ±3e38 (Float16: ±4e21, just inside its range) against small weights, and weights at ±3e38 (Float16: 5e4, near
    /// its largest) against small inputs, with I = 64 and signs of opposite rows and inputs mixed: sums that overflow
    /// in naive fp32 partial products, or in the Int8 activation range (max − min). Each weight's sign follows its input's
    /// times a sign per row, so that every pre-activation is far from 0 and the outcome is decided whatever the format rounds.
    /// </summary>
    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Extreme_inputs_or_weights_the_sums_can_hold_give_finite_outputs_matching_the_reference(KernelPath path, WeightFormat format)
    {
        var spec = new LstmSpec(64, 17, 2);
        const int steps = 4, batch = 5;
        float largeInput = format == WeightFormat.Float16 ? 4e21f : 3e38f, largeWeight = format == WeightFormat.Float16 ? 5e4f : 3e38f;
        foreach ((float inputScale, float weightScale) in new[] { (largeInput, 1e-3f), (1e-3f, largeWeight) })
        {
            LstmWeights weights = LstmWeights.CreateRandom(spec, 8);
            float[] signs = [.. Enumerable.Range(0, spec.InputSize).Select(k => k % 3 == 0 ? -1f : 1f)];
            float[] input = new float[steps * batch * spec.InputSize];
            float[] magnitudes = LstmCase.Uniform(input.Length, 9, 1);
            for (int i = 0; i < input.Length; i++) input[i] = signs[i % spec.InputSize] * inputScale * (0.5f + 0.5f * Math.Abs(magnitudes[i]));
            float[] wih = weights[0, 0].WeightIh;
            float[] rowSigns = LstmCase.Uniform(4 * spec.HiddenSize, 10, 1);
            for (int r = 0; r < 4 * spec.HiddenSize; r++)
                for (int k = 0; k < spec.InputSize; k++)
                    wih[r * spec.InputSize + k] = Math.Sign(rowSigns[r]) * signs[k] * weightScale * (0.5f + Math.Abs(wih[r * spec.InputSize + k]));

            string where = $"{format} x ~ {inputScale:G3}, W_ih ~ {weightScale:G3}";
            ReferenceResult expected = ReferenceLstm.Forward(weights.StoredAs(format), input, steps, batch);
            LstmModel model = LstmModel.Create(weights, new LstmModelOptions { Kernel = path, Weights = format });
            using LstmSession session = model.CreateSession(batch, steps);
            float[] output = new float[steps * batch * spec.OutputSize], h = new float[2 * batch * 17], c = new float[2 * batch * 17];
            session.Forward(input, steps, batch, output, h, c);
            AssertMatches(expected.Output, output, format, where);
            AssertMatches(expected.HiddenState, h, format, "h_n " + where);
            AssertMatches(expected.CellState, c, format, "c_n " + where);

            // Streaming: the same steps one at a time.
            float[] streamed = new float[batch * 17];
            for (int t = 0; t < steps; t++)
            {
                session.Step(input.AsSpan(t * batch * spec.InputSize, batch * spec.InputSize), batch, streamed);
                AssertMatches(expected.Output.AsSpan(t * batch * 17, batch * 17), streamed, format, $"step {t} ({where})");
            }
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Inputs_that_could_overflow_the_sums_are_refused_naming_the_element_before_anything_is_written(KernelPath path, WeightFormat format)
    {
        var spec = new LstmSpec(64, 17, 2);
        LstmModel model = RandomModel(spec, path, format);
        using LstmSession session = model.CreateSession(3, 4);
        foreach (float bad in new[] { 3e38f, -3e38f, float.PositiveInfinity, float.NegativeInfinity })
        {
            float[] input = LstmCase.Uniform(4 * 3 * 64, 1, 1);
            input[133] = bad;
            float[] output = new float[4 * 3 * 17];
            Array.Fill(output, 7f);
            var refused = Assert.Throws<ArgumentOutOfRangeException>(() => session.Forward(input, 4, 3, output));
            Assert.Equal("input", refused.ParamName);
            Assert.StartsWith($"input[133] = {Text(bad)}: ", refused.Message, StringComparison.Ordinal);
            Assert.Contains(format == WeightFormat.Float16 ? "below 2^72" : "could overflow the fp32 sums", refused.Message, StringComparison.Ordinal);
            Assert.All(output, v => Assert.Equal(7f, v));

            // Streaming: refused too, and the state does not move.
            float[] y = new float[3 * 17];
            refused = Assert.Throws<ArgumentOutOfRangeException>(() => session.Step(input.AsSpan(0, 3 * 64), 3, y));
            Assert.StartsWith($"input[133] = {Text(bad)}: ", refused.Message, StringComparison.Ordinal);
            float[] h = new float[2 * 3 * 17], c = new float[2 * 3 * 17];
            session.GetState(h, c, 3);
            Assert.All(h, v => Assert.Equal(0f, v));
            Assert.All(c, v => Assert.Equal(0f, v));
        }
    }

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Initial_or_set_states_that_could_overflow_the_sums_are_refused_naming_the_element(KernelPath path, WeightFormat format)
    {
        var spec = new LstmSpec(8, 17, 2);
        LstmModel model = RandomModel(spec, path, format);
        using LstmSession session = model.CreateSession(3, 4);
        float[] h0 = LstmCase.Uniform(2 * 3 * 17, 2, 1), c0 = new float[2 * 3 * 17];
        h0[60] = float.PositiveInfinity;
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => session.Forward(new float[4 * 3 * 8], 4, 3, new float[4 * 3 * 17], h0: h0));
        Assert.Equal("h0", refused.ParamName);
        Assert.StartsWith("h0[60] = Infinity: ", refused.Message, StringComparison.Ordinal);
        Assert.Contains(format == WeightFormat.Float16 ? "below 2^72" : "could overflow the fp32 sums", refused.Message, StringComparison.Ordinal);

        h0[60] = -3e38f;
        refused = Assert.Throws<ArgumentOutOfRangeException>(() => session.SetState(h0, c0, 3));
        Assert.Equal("h", refused.ParamName);
        Assert.StartsWith($"h[60] = {Text(-3e38f)}: ", refused.Message, StringComparison.Ordinal);

        // A large state the sums hold is taken, and the steps after it stay finite.
        h0[60] = format == WeightFormat.Float16 ? 1e21f : 1e37f;
        session.SetState(h0, c0, 3);
        float[] y = new float[3 * 17];
        session.Step(new float[3 * 8], 3, y);
        Assert.All(y, v => Assert.InRange(v, -1f, 1f));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Float16_refuses_inputs_from_2_to_the_72_on_which_BFloat16_runs(KernelPath path)
    {
        var spec = new LstmSpec(9, 17);
        LstmWeights weights = LstmWeights.CreateRandom(spec, 4);
        float[] input = LstmCase.Uniform(3 * 9, 1, 1);
        input[5] = 4.8e21f; // just above 2^72 = 4.72e21
        float[] output = new float[3 * 17];
        using (LstmSession bf16 = LstmModel.Create(weights, new LstmModelOptions { Kernel = path, Weights = WeightFormat.BFloat16 }).CreateSession(1, 3))
        {
            bf16.Forward(input, 3, 1, output);
            Tolerance.AssertClose(ReferenceLstm.Forward(weights.StoredAs(WeightFormat.BFloat16), input, 3, 1).Output, output, "bf16");
        }

        using LstmSession fp16 = LstmModel.Create(weights, new LstmModelOptions { Kernel = path, Weights = WeightFormat.Float16 }).CreateSession(1, 3);
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => fp16.Forward(input, 3, 1, output));
        Assert.StartsWith($"input[5] = {Text(4.8e21f)}: a Float16 model takes inputs and states below 2^72", refused.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(WeightFormat.Float32)]
    [InlineData(WeightFormat.BFloat16)]
    [InlineData(WeightFormat.Int8)]
    public void Weights_whose_sums_could_overflow_whatever_the_input_are_refused_when_the_model_is_built(WeightFormat format)
    {
        var spec = new LstmSpec(4, 6);
        LstmWeights weights = LstmWeights.CreateRandom(spec, 1);
        for (int i = 0; i < weights[0, 0].WeightHh.Length; i++) weights[0, 0].WeightHh[i] = i % 2 == 0 ? 3e38f : -3e38f;
        var refused = Assert.Throws<ArgumentException>(() => LstmModel.Create(weights, new LstmModelOptions { Weights = format }));
        Assert.Contains("could overflow whatever the input", refused.Message, StringComparison.Ordinal);
    }

    /// <summary>
    /// The usual contract, against the reference on the stored weights; Int8 also quantises activations every step, which
    /// the reference cannot show, so it is held to its documented bound instead.
    /// </summary>
    private static void AssertMatches(ReadOnlySpan<double> expected, float[] actual, WeightFormat format, string where)
    {
        Assert.All(actual, v => Assert.True(float.IsFinite(v), $"{where}: {v}"));
        if (format != WeightFormat.Int8) Tolerance.AssertClose(expected, actual, where);
        else Assert.InRange(Tolerance.MaxError(expected, actual), 0, WeightFormatAccuracy.MaxAbsoluteChange(WeightFormat.Int8));
    }

    private static LstmModel RandomModel(LstmSpec spec, KernelPath path, WeightFormat format) =>
        LstmModel.Create(LstmWeights.CreateRandom(spec, 4), new LstmModelOptions { Kernel = path, Weights = format });

    private static string Text(float value) => value.ToString("R", CultureInfo.InvariantCulture);
}
