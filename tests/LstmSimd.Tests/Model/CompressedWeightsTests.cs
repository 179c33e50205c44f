using FsCheck;
using FsCheck.Fluent;
using LstmSimd.IO;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Tests.IO;
using LstmSimd.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace LstmSimd.Tests.Model;

/// <summary>
/// Models stored in 16-bit weight formats. Two claims: the kernels compute exactly the fp32 math on the rounded
/// weights (so they meet the usual contract against the reference run on those weights), and the rounding itself
/// moves h by at most the bound the README documents per format.
/// </summary>
public class CompressedWeightsTests(ITestOutputHelper log)
{
    /// <summary>Documented max |Δh| (and Δoutput) against the fp32 model, for PyTorch-initialised weights (the README's table).</summary>
    public static double Bound(WeightFormat format) => WeightFormatAccuracy.MaxAbsoluteChange(format);

    /// <summary>The formats that round each weight on its own (16-bit), on every path: the kernels then do exact fp32 math on them.</summary>
    public static TheoryData<KernelPath, WeightFormat> PathsAndRoundingFormats() => PathsAnd(WeightFormat.Float16, WeightFormat.BFloat16);

    public static TheoryData<KernelPath, WeightFormat> PathsAndFormats() => PathsAnd(WeightFormat.Float16, WeightFormat.BFloat16, WeightFormat.Int8);

    public static TheoryData<WeightFormat> Formats() => [WeightFormat.Float16, WeightFormat.BFloat16, WeightFormat.Int8];

    private static TheoryData<KernelPath, WeightFormat> PathsAnd(params WeightFormat[] formats)
    {
        var data = new TheoryData<KernelPath, WeightFormat>();
        foreach (KernelPath path in KernelSelector.All)
            foreach (WeightFormat format in formats) data.Add(path, format);
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndRoundingFormats))]
    public void Forward_matches_the_reference_run_on_the_rounded_weights(KernelPath path, WeightFormat format)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(FastMatchesReferenceTests.Cases(software).ToArbitrary(), testCase =>
        {
            ReferenceResult expected = ReferenceLstm.Forward(testCase.Weights.StoredAs(format), testCase.Input, testCase.Steps, testCase.Batch,
                testCase.H0, testCase.C0, testCase.Lengths, testCase.Layout);
            Tolerance.AssertMatches(expected, testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path, Weights = format })), testCase.ToString());
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 15 : 40));
    }

    public static TheoryData<KernelPath, bool> PathsAndLargeWeight()
    {
        var data = new TheoryData<KernelPath, bool>();
        foreach (KernelPath path in KernelSelector.All) { data.Add(path, false); data.Add(path, true); }
        return data;
    }

    [Theory]
    [MemberData(nameof(PathsAndLargeWeight))]
    public void Float16_models_with_fp16_subnormal_weights_match_the_reference_in_normalised_codes_and_with_a_weight_past_128_in_IEEE_ones(KernelPath path, bool largeWeight)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(FastMatchesReferenceTests.Cases(software).ToArbitrary(), testCase =>
        {
            LstmWeights weights = testCase.Weights.Clone();
            var random = new Random(testCase.Weights[0, 0].WeightHh.Length);
            for (int layer = 0; layer < weights.Spec.NumLayers; layer++)
            {
                for (int d = 0; d < weights.Spec.Directions; d++)
                {
                    foreach (float[] matrix in new[] { weights[layer, d].WeightIh, weights[layer, d].WeightHh, weights[layer, d].WeightHr })
                        for (int i = 0; i < matrix.Length; i += 3) matrix[i] = (float)((random.NextDouble() - 0.5) * 1e-4); // fp16 subnormals below 6.1e-5
                }
            }

            if (largeWeight) weights[0, 0].WeightIh[random.Next(weights[0, 0].WeightIh.Length)] = -128 - 872 * (float)random.NextDouble();
            LstmModel model = LstmModel.Create(weights, new LstmModelOptions { Kernel = path, Weights = WeightFormat.Float16 });
            Assert.Equal(largeWeight ? Float16Codes.Ieee : Float16Codes.Normalised, model.Kernels.Float16Codes);
            ReferenceResult expected = ReferenceLstm.Forward(weights.StoredAs(WeightFormat.Float16), testCase.Input, testCase.Steps, testCase.Batch,
                testCase.H0, testCase.C0, testCase.Lengths, testCase.Layout);
            Tolerance.AssertMatches(expected, testCase.RunFast(model), testCase.ToString());
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 10 : 25));
    }

    [Theory]
    [MemberData(nameof(PathsAndRoundingFormats))]
    public void Streaming_steps_match_the_reference_run_on_the_rounded_weights(KernelPath path, WeightFormat format)
    {
        Prop.ForAll(FastMatchesReferenceTests.Cases(software: true).Where(c => !c.Spec.Bidirectional).ToArbitrary(), testCase =>
        {
            testCase = testCase with { WithLengths = false, Layout = SequenceLayout.TimeMajor, WithInitialState = false };
            ReferenceResult expected = ReferenceLstm.Forward(testCase.Weights.StoredAs(format), testCase.Input, testCase.Steps, testCase.Batch);
            Tolerance.AssertMatches(expected, testCase.RunStreaming(LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path, Weights = format })), "streaming " + testCase);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(15));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Random_models_stay_within_the_documented_bound_of_the_fp32_model(WeightFormat format)
    {
        double worst = 0;
        foreach (int hidden in new[] { 8, 33, 64, 128, 256 })
        {
            for (int seed = 0; seed < 3; seed++)
            {
                var testCase = new LstmCase(new LstmSpec(hidden, hidden, 2), Steps: 50, Batch: 2, WithInitialState: true, WithLengths: false, SequenceLayout.TimeMajor, Seed: seed);
                (float[] expected, float[] h, float[] c) = testCase.RunFast(LstmModel.Create(testCase.Weights));
                (float[] actual, float[] h2, float[] c2) = testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Weights = format }));
                worst = Math.Max(worst, Math.Max(MaxDelta(expected, actual), MaxDelta(h, h2)));
            }
        }

        log.WriteLine($"{format}: max |Δh| vs fp32 over random models (H 8…256, 2 layers, 50 steps): {worst:E2}");
        Assert.InRange(worst, 0, Bound(format));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void The_PyTorch_golden_cases_stay_within_the_documented_bound_of_their_float64_results(WeightFormat format)
    {
        double worst = 0;
        foreach (string name in new[] { "single_layer", "two_layer", "bidirectional_two_layer", "projection", "batch_first_no_bias", "variable_lengths", "long_sequence" })
        {
            using SafetensorsFile file = SafetensorsFile.Open(GoldenRunner.GoldenPath("pytorch", name + ".safetensors"));
            ImportedLstm model = PyTorchStateDict.Import(file);
            var config = GoldenRunner.Config(file);
            bool batchFirst = config.GetProperty("batch_first").GetBoolean();
            int batch = config.GetProperty("batch").GetInt32(), steps = config.GetProperty("seq_len").GetInt32();
            int[] lengths = file.Contains("lengths") ? GoldenRunner.ToInt32(file.ReadInt64s("lengths")) : [];
            var (output, h, _) = GoldenRunner.Run(EnginePath.Fast, model, file.ReadSingles("input"), steps, batch, file.ReadSingles("h0"), file.ReadSingles("c0"),
                lengths, batchFirst ? SequenceLayout.BatchFirst : SequenceLayout.TimeMajor, format);
            double delta = Math.Max(MaxDelta(file.ReadDoubles("output"), output), MaxDelta(file.ReadDoubles("h_n"), h));
            log.WriteLine($"{format} {name}: max |Δh| vs PyTorch float64 {delta:E2}");
            worst = Math.Max(worst, delta);
        }

        Assert.InRange(worst, 0, Bound(format));
    }

    public static TheoryData<KernelPath, WeightFormat> PathsAndEveryFormat() => PathsAnd(Enum.GetValues<WeightFormat>());

    [Theory]
    [MemberData(nameof(PathsAndEveryFormat))]
    public void Each_row_of_a_batched_sequence_gets_the_bits_it_gets_alone_in_every_weight_format(KernelPath path, WeightFormat format)
    {
        // A batch's steps run register tiles (over 16-bit W_hh widened once for the call, from eight rows at 512 bits), a
        // sequence alone the row or register kernels: each sums a gate in one chain (Int8: exact integer sums), so they agree
        // bit for bit whatever the batch, lengths and layers.
        bool software = !KernelSelector.IsAccelerated(path);
        Gen<LstmCase> batches =
            from c in FastMatchesReferenceTests.Cases(software)
            from batch in Gen.Choose(6, 13)
            from steps in Gen.Choose(2, 6)
            select new LstmCase(c.Spec, steps, batch, c.WithInitialState, c.WithLengths, SequenceLayout.TimeMajor, c.Seed);
        Prop.ForAll(batches.ToArbitrary(), testCase =>
        {
            LstmModel model = LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path, Weights = format });
            (float[] output, float[] h, float[] c) = testCase.RunFast(model);
            LstmSpec spec = testCase.Spec;
            int steps = testCase.Steps, batch = testCase.Batch, input = spec.InputSize, outputSize = spec.OutputSize;
            int hOut = spec.OutputHiddenSize, hidden = spec.HiddenSize, slots = spec.NumLayers * spec.Directions;
            using LstmSession alone = model.CreateSession(1, steps);
            float[] rowInput = new float[steps * input], rowOutput = new float[steps * outputSize], rowH = new float[slots * hOut], rowC = new float[slots * hidden];
            float[] rowH0 = testCase.WithInitialState ? new float[slots * hOut] : [], rowC0 = testCase.WithInitialState ? new float[slots * hidden] : [];
            for (int b = 0; b < batch; b++)
            {
                for (int t = 0; t < steps; t++) testCase.Input.AsSpan((t * batch + b) * input, input).CopyTo(rowInput.AsSpan(t * input));
                for (int slot = 0; slot < rowH0.Length / hOut; slot++)
                {
                    testCase.H0.AsSpan((slot * batch + b) * hOut, hOut).CopyTo(rowH0.AsSpan(slot * hOut));
                    testCase.C0.AsSpan((slot * batch + b) * hidden, hidden).CopyTo(rowC0.AsSpan(slot * hidden));
                }

                alone.Forward(rowInput, steps, 1, rowOutput, rowH, rowC, rowH0, rowC0, testCase.WithLengths ? [testCase.Lengths[b]] : [], SequenceLayout.TimeMajor);
                for (int t = 0; t < steps; t++)
                    StreamPoolTests.AssertBitwise(rowOutput.AsSpan(t * outputSize, outputSize), output.AsSpan((t * batch + b) * outputSize, outputSize), $"{format} row {b} step {t} ({testCase})");
                for (int slot = 0; slot < slots; slot++)
                {
                    StreamPoolTests.AssertBitwise(rowH.AsSpan(slot * hOut, hOut), h.AsSpan((slot * batch + b) * hOut, hOut), $"{format} h_n of row {b} ({testCase})");
                    StreamPoolTests.AssertBitwise(rowC.AsSpan(slot * hidden, hidden), c.AsSpan((slot * batch + b) * hidden, hidden), $"{format} c_n of row {b} ({testCase})");
                }
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 3 : 10));
    }

    [Theory]
    [MemberData(nameof(Formats))]
    public void Threads_split_compressed_panels_and_give_the_single_thread_answer_bitwise(WeightFormat format)
    {
        var testCase = new LstmCase(new LstmSpec(40, 130, 2, bidirectional: true, projectionSize: 30), Steps: 9, Batch: 9,
            WithInitialState: true, WithLengths: true, SequenceLayout.TimeMajor, Seed: 8);
        float[] single = testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Weights = format })).Output;
        float[] threaded = testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Weights = format, Threads = 2 })).Output;
        Assert.Equal(single.Select(BitConverter.SingleToInt32Bits), threaded.Select(BitConverter.SingleToInt32Bits));
    }

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Warm_compressed_forward_and_step_allocate_zero_bytes(KernelPath path, WeightFormat format)
    {
        var testCase = new LstmCase(new LstmSpec(17, 33, 2, projectionSize: 9), Steps: 6, Batch: 9, WithInitialState: true, WithLengths: true, SequenceLayout.TimeMajor, Seed: 3);
        LstmModel model = LstmModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path, Weights = format });
        Assert.Equal(format, model.WeightFormat);
        using LstmSession session = model.CreateSession(testCase.Batch, testCase.Steps);
        float[] output = new float[testCase.OutputLength], y = new float[testCase.Batch * 9];
        float[] input = testCase.Input;
        int[] lengths = testCase.Lengths;
        void Run()
        {
            session.Forward(input, testCase.Steps, testCase.Batch, output, lengths: lengths);
            session.Step(input.AsSpan(0, testCase.Batch * 17), testCase.Batch, y);
        }

        Run();
        Assert.Equal(0, Allocations.LeastOver(() => Run(), 5));
    }

    [Fact]
    public void Float16_refuses_weights_it_cannot_hold_and_bfloat16_keeps_them()
    {
        LstmWeights weights = LstmWeights.CreateRandom(new LstmSpec(3, 4), 1);
        weights[0, 0].WeightHh[5] = 70000f;
        Assert.Throws<ArgumentException>(() => LstmModel.Create(weights, new LstmModelOptions { Weights = WeightFormat.Float16 }));
        Assert.Equal(WeightFormat.BFloat16, LstmModel.Create(weights, new LstmModelOptions { Weights = WeightFormat.BFloat16 }).WeightFormat);
        Assert.ThrowsAny<ArgumentException>(() => LstmModel.Create(weights, new LstmModelOptions { Weights = (WeightFormat)99 }));
    }

    private static double MaxDelta(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }

    private static double MaxDelta(ReadOnlySpan<double> expected, ReadOnlySpan<double> actual)
    {
        double max = 0;
        for (int i = 0; i < expected.Length; i++) max = Math.Max(max, Math.Abs(actual[i] - expected[i]));
        return max;
    }
}

/// <summary>Model files whose weight matrices are stored as F16 or BF16: written rounded, read back exactly, built without a second rounding.</summary>
public class CompressedModelFileTests
{
    [Theory]
    [InlineData(WeightFormat.Float16)]
    [InlineData(WeightFormat.BFloat16)]
    public void A_16_bit_model_file_loads_its_exact_values_and_builds_the_same_model_as_converting_fp32_on_load(WeightFormat format)
    {
        var testCase = new LstmCase(new LstmSpec(7, 20, 2, projectionSize: 5), Steps: 6, Batch: 2, WithInitialState: false, WithLengths: false, SequenceLayout.TimeMajor, Seed: 4);
        byte[] fp32File = LstmModelFile.CreateWriter(testCase.Weights).ToArray();
        byte[] file = LstmModelFile.CreateWriter(testCase.Weights, matrices: format).ToArray();
        Assert.True(file.Length < 0.65 * fp32File.Length, $"{file.Length} bytes vs {fp32File.Length} for fp32");

        using SafetensorsFile opened = SafetensorsFile.Parse(file);
        ImportedLstm loaded = LstmModelFile.Load(opened);
        Assert.Equal(format, loaded.StoredWeightFormat);
        LstmWeights rounded = testCase.Weights.StoredAs(format);
        Assert.Equal(rounded[1, 0].WeightHh, loaded.Weights[1, 0].WeightHh);
        Assert.Equal(rounded[0, 0].WeightHr, loaded.Weights[0, 0].WeightHr);
        Assert.Equal(testCase.Weights[0, 0].BiasIh, loaded.Weights[0, 0].BiasIh); // biases stay fp32

        float[] fromFile = testCase.RunFast(LstmModel.Create(loaded.Weights, new LstmModelOptions { Weights = loaded.StoredWeightFormat })).Output;
        float[] converted = testCase.RunFast(LstmModel.Create(testCase.Weights, new LstmModelOptions { Weights = format })).Output;
        Assert.Equal(converted, fromFile);

        using SafetensorsFile plain = SafetensorsFile.Parse(fp32File);
        Assert.Equal(WeightFormat.Float32, LstmModelFile.Load(plain).StoredWeightFormat);
    }
}
