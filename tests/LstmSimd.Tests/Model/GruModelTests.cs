using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Tests.Support;
using Xunit;
using Xunit.Abstractions;

namespace LstmSimd.Tests.Model;

/// <summary>
/// The GRU on the fast path (its gates in the LSTM kernels' four slots, its own epilogue) against <see cref="ReferenceGru"/>
/// and PyTorch's nn.GRU, on every kernel path and weight format: random shapes, lengths, initial states and layouts.
/// </summary>
public class GruModelTests(ITestOutputHelper log)
{
    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    public static TheoryData<KernelPath, WeightFormat> PathsAndFormats()
    {
        var data = new TheoryData<KernelPath, WeightFormat>();
        foreach (KernelPath path in KernelSelector.All)
            foreach (WeightFormat format in Enum.GetValues<WeightFormat>()) data.Add(path, format);
        return data;
    }

    /// <summary>The 16-bit formats round only the weights (Int8 quantises activations too: its own bound below).</summary>
    public static TheoryData<KernelPath, WeightFormat> PathsAndSixteenBitFormats()
    {
        var data = new TheoryData<KernelPath, WeightFormat>();
        foreach (KernelPath path in KernelSelector.All)
            foreach (WeightFormat format in (WeightFormat[])[WeightFormat.Float16, WeightFormat.BFloat16]) data.Add(path, format);
        return data;
    }

    private static readonly string[] GoldenNames = ["single_layer", "two_layer_bidirectional", "batch_first_no_bias", "variable_lengths", "grad_two_layer_bidirectional", "grad_variable_lengths",
        "original_single_layer", "original_bidirectional", "grad_original_two_layer", "grad_original_lengths"];

    public static TheoryData<string> GoldenCases => [.. GoldenNames];

    /// <summary>A random GRU problem; hidden sizes straddle every vector width.</summary>
    public sealed record GruCase(GruSpec Spec, int Steps, int Batch, bool WithLengths, bool WithInitialState, SequenceLayout Layout, int Seed, float H0Scale = 2.5f)
    {
        public GruWeights Weights { get; } = GruWeights.CreateRandom(Spec, Seed);

        public float[] Input { get; } = Draw(new Random(Seed + 1), Steps * Batch * Spec.InputSize, 1);

        // Initial states as PyTorch users draw them (randn): by default some beyond ±1.
        public float[] H0 { get; } = WithInitialState ? Draw(new Random(Seed + 2), Spec.LayerDirections * Batch * Spec.HiddenSize, H0Scale) : [];

        public int[] Lengths { get; } = WithLengths ? [.. Enumerable.Range(0, Batch).Select(b => new Random(Seed + 3 + b).Next(0, Steps + 1))] : [];

        public (float[] Output, float[] H) RunFast(GruModel model)
        {
            using GruSession session = model.CreateSession(Batch, Steps);
            float[] output = new float[Steps * Batch * Spec.OutputSize], h = new float[Spec.LayerDirections * Batch * Spec.HiddenSize];
            session.Forward(Input, Steps, Batch, output, h, H0, Lengths, Layout);
            return (output, h);
        }

        public override string ToString() =>
            $"I={Spec.InputSize} H={Spec.HiddenSize} L={Spec.NumLayers} bidir={Spec.Bidirectional} bias={Spec.Bias} lbr={Spec.LinearBeforeReset} gate={Spec.GateActivation} T={Steps} B={Batch} lengths={WithLengths} h0={WithInitialState} {Layout} seed={Seed}";
    }

    private static Gen<GruCase> Cases(bool software) =>
        from input in Gen.Choose(1, 20)
        from hidden in software ? Gen.Elements(1, 5, 17, 33) : Gen.Elements(1, 3, 8, 15, 16, 17, 31, 33, 64, 70)
        from layers in Gen.Choose(1, 3)
        from bidirectional in Gen.Elements(false, true)
        from bias in Gen.Elements(true, true, false)
        from steps in Gen.Choose(1, 8)
        from batch in Gen.Choose(1, 9)
        from lengths in Gen.Elements(false, true)
        from h0 in Gen.Elements(false, true)
        from layout in Gen.Elements(SequenceLayout.TimeMajor, SequenceLayout.BatchFirst)
        from linearBeforeReset in Gen.Elements(true, false)
        from gate in Gen.Elements(GateActivations)
        from seed in Gen.Choose(0, 100_000)
        select new GruCase(new GruSpec(input, hidden, layers, bidirectional, bias, linearBeforeReset) { GateActivation = gate }, steps, batch, lengths, h0, layout, seed);

    /// <summary>
    /// Sigmoid (twice as likely), Keras 2's and TensorFlow.js's hard sigmoid, Keras 3's, and a steep one (α = 2), whose gates
    /// these small weights push past both clipped ends often.
    /// </summary>
    private static readonly Activation[] GateActivations =
    [
        Activation.Sigmoid, Activation.Sigmoid, new(ActivationKind.HardSigmoid, 0.2f, 0.5f), new(ActivationKind.HardSigmoid, 1f / 6f, 0.5f),
        new(ActivationKind.HardSigmoid, 2f, 0.5f),
    ];

    /// <summary>
    /// The numerics contract per element, except for the steep gate (α = 2): with it, and initial states beyond ±1, some
    /// random models amplify rounding from step to step (one three-layer case grew its error 4–7× a step, to 1.4× the
    /// per-element bound after five steps without FMA), a run the contract judges by relative L2 instead.
    /// </summary>
    private static void AssertMatchesReference(GruCase testCase, ReferenceGruResult expected, float[] output, float[] h, string what = "")
    {
        if (testCase.Spec.GateActivation.Alpha > 1)
        {
            Tolerance.AssertRelativeL2(expected.Output, output, $"{what}output ({testCase})");
            Tolerance.AssertRelativeL2(expected.HiddenState, h, $"{what}h_n ({testCase})");
            return;
        }

        Tolerance.AssertClose(expected.Output, output, $"{what}output ({testCase})");
        Tolerance.AssertClose(expected.HiddenState, h, $"{what}h_n ({testCase})");
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Forward_matches_the_reference(KernelPath path)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(Cases(software).ToArbitrary(), testCase =>
        {
            ReferenceGruResult expected = ReferenceGru.Forward(testCase.Weights, testCase.Input, testCase.Steps, testCase.Batch, testCase.H0, testCase.Lengths, testCase.Layout);
            (float[] output, float[] h) = testCase.RunFast(GruModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path }));
            AssertMatchesReference(testCase, expected, output, h);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 15 : 50));
    }

    [Theory]
    [MemberData(nameof(PathsAndSixteenBitFormats))]
    public void Sixteen_bit_weights_match_the_reference_run_on_the_weights_as_stored(KernelPath path, WeightFormat format)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(Cases(software).ToArbitrary(), testCase =>
        {
            GruWeights stored = testCase.Weights.StoredAs(format);
            ReferenceGruResult expected = ReferenceGru.Forward(stored, testCase.Input, testCase.Steps, testCase.Batch, testCase.H0, testCase.Lengths, testCase.Layout);
            (float[] output, float[] h) = testCase.RunFast(GruModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path, Weights = format }));
            AssertMatchesReference(testCase, expected, output, h, $"{format} ");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 5 : 15));
    }

    [Theory]
    [MemberData(nameof(PathsAndFormats))]
    public void Each_row_of_a_batch_gets_the_bits_it_gets_alone_in_every_weight_format(KernelPath path, WeightFormat format)
    {
        // A batch's rows run in register tiles, a row alone in the row kernels: both sum each gate in one chain (Int8: exact
        // integer sums), so they agree bit for bit, and a tile that put a gate's products in another slot would not.
        bool software = !KernelSelector.IsAccelerated(path);
        Gen<GruCase> batches =
            from c in Cases(software)
            from batch in Gen.Choose(4, 9)
            select new GruCase(c.Spec, c.Steps, batch, c.WithLengths, c.WithInitialState, SequenceLayout.TimeMajor, c.Seed);
        Prop.ForAll(batches.ToArbitrary(), testCase =>
        {
            GruModel model = GruModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path, Weights = format });
            (float[] output, float[] h) = testCase.RunFast(model);
            GruSpec spec = testCase.Spec;
            int steps = testCase.Steps, batch = testCase.Batch, input = spec.InputSize, hidden = spec.HiddenSize, outputSize = spec.OutputSize;
            using GruSession alone = model.CreateSession(1, steps);
            float[] rowInput = new float[steps * input], rowOutput = new float[steps * outputSize], rowH = new float[spec.LayerDirections * hidden];
            float[] rowH0 = testCase.WithInitialState ? new float[spec.LayerDirections * hidden] : [];
            for (int b = 0; b < batch; b++)
            {
                for (int t = 0; t < steps; t++) testCase.Input.AsSpan((t * batch + b) * input, input).CopyTo(rowInput.AsSpan(t * input));
                for (int ld = 0; ld < rowH0.Length / hidden; ld++) testCase.H0.AsSpan((ld * batch + b) * hidden, hidden).CopyTo(rowH0.AsSpan(ld * hidden));
                alone.Forward(rowInput, steps, 1, rowOutput, rowH, rowH0, testCase.WithLengths ? [testCase.Lengths[b]] : [], SequenceLayout.TimeMajor);
                for (int t = 0; t < steps; t++)
                    StreamPoolTests.AssertBitwise(rowOutput.AsSpan(t * outputSize, outputSize), output.AsSpan((t * batch + b) * outputSize, outputSize), $"{format} row {b} step {t} ({testCase})");
                for (int ld = 0; ld < spec.LayerDirections; ld++)
                    StreamPoolTests.AssertBitwise(rowH.AsSpan(ld * hidden, hidden), h.AsSpan((ld * batch + b) * hidden, hidden), $"{format} h_n of row {b} ({testCase})");
            }
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 3 : 10));
    }

    [Fact]
    public void Int8_weights_stay_within_the_documented_bound_of_fp32_on_random_models_and_the_golden_cases()
    {
        // As the LSTM's bound is measured: PyTorch-initialised models, H = I from 8 to 256, 2 layers, 50 steps, states of order 1.
        double bound = WeightFormatAccuracy.MaxAbsoluteChange(WeightFormat.Int8), worst = 0;
        foreach (int hidden in new[] { 8, 33, 64, 128, 256 })
        {
            for (int seed = 0; seed < 3; seed++)
            {
                var testCase = new GruCase(new GruSpec(hidden, hidden, 2), Steps: 50, Batch: 2, WithLengths: false, WithInitialState: true, SequenceLayout.TimeMajor, seed, H0Scale: 1f);
                (float[] fp32, float[] h) = testCase.RunFast(GruModel.Create(testCase.Weights));
                (float[] int8, float[] h8) = testCase.RunFast(GruModel.Create(testCase.Weights, new LstmModelOptions { Weights = WeightFormat.Int8 }));
                worst = Math.Max(worst, Math.Max(Tolerance.MaxError([.. fp32.Select(v => (double)v)], int8), Tolerance.MaxError([.. h.Select(v => (double)v)], h8)));
            }
        }

        foreach (string name in GoldenNames)
        {
            using var golden = new GoldenGru(name);
            GruSpec spec = golden.Weights.Spec;
            using GruSession session = GruModel.Create(golden.Weights, new LstmModelOptions { Weights = WeightFormat.Int8 }).CreateSession(golden.Batch, golden.Steps);
            float[] output = new float[golden.Steps * golden.Batch * spec.OutputSize];
            session.Forward(golden.Input, golden.Steps, golden.Batch, output, default, golden.H0, golden.Lengths, golden.Layout);
            worst = Math.Max(worst, Tolerance.MaxError(golden.File.ReadDoubles("output"), output));
        }

        log.WriteLine($"Int8 GRU: max |Δ| vs fp32 (random models) and PyTorch float64 (golden cases): {worst:E2}");
        Assert.InRange(worst, 0, bound);
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Streaming_steps_match_the_reference_sequence(KernelPath path)
    {
        Prop.ForAll(Cases(software: true).Where(c => !c.Spec.Bidirectional).ToArbitrary(), testCase =>
        {
            ReferenceGruResult expected = ReferenceGru.Forward(testCase.Weights, testCase.Input, testCase.Steps, testCase.Batch, testCase.H0);
            using GruSession session = GruModel.Create(testCase.Weights, new LstmModelOptions { Kernel = path }).CreateSession(testCase.Batch);
            if (testCase.WithInitialState) session.SetState(testCase.H0, testCase.Batch);
            int stepLength = testCase.Batch * testCase.Spec.InputSize, outputLength = testCase.Batch * testCase.Spec.HiddenSize;
            float[] output = new float[testCase.Steps * outputLength];
            for (int t = 0; t < testCase.Steps; t++)
                session.Step(testCase.Input.AsSpan(t * stepLength, stepLength), testCase.Batch, output.AsSpan(t * outputLength, outputLength));
            float[] h = new float[testCase.Spec.NumLayers * outputLength];
            session.GetState(h, testCase.Batch);
            AssertMatchesReference(testCase, expected, output, h, "streamed ");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(15));
    }

    [Theory]
    [MemberData(nameof(GoldenCases))]
    public void PyTorch_nn_GRU_golden_cases_run_on_every_kernel_path(string name)
    {
        using var golden = new GoldenGru(name);
        foreach (KernelPath path in KernelSelector.All)
        {
            using GruSession session = GruModel.Create(golden.Weights, new LstmModelOptions { Kernel = path }).CreateSession(golden.Batch, golden.Steps);
            GruSpec spec = golden.Weights.Spec;
            float[] output = new float[golden.Steps * golden.Batch * spec.OutputSize], h = new float[spec.LayerDirections * golden.Batch * spec.HiddenSize];
            session.Forward(golden.Input, golden.Steps, golden.Batch, output, h, golden.H0, golden.Lengths, golden.Layout);
            Tolerance.AssertClose(golden.File.ReadDoubles("output"), output, $"{name} output ({path})");
            Tolerance.AssertClose(golden.File.ReadDoubles("h_n"), h, $"{name} h_n ({path})");
        }
    }

    [Fact]
    public void Two_threads_give_the_one_thread_answer_bitwise_and_a_warm_forward_and_step_allocate_nothing()
    {
        var testCase = new GruCase(new GruSpec(9, 70, 2, bidirectional: true), Steps: 7, Batch: 5, WithLengths: true, WithInitialState: true, SequenceLayout.TimeMajor, Seed: 12);
        float[] one = testCase.RunFast(GruModel.Create(testCase.Weights)).Output;
        float[] two = testCase.RunFast(GruModel.Create(testCase.Weights, new LstmModelOptions { Threads = 2 })).Output;
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), two.Select(BitConverter.SingleToInt32Bits));

        using GruSession session = GruModel.Create(testCase.Weights, new LstmModelOptions { Threads = 2 }).CreateSession(testCase.Batch, testCase.Steps);
        float[] output = new float[testCase.Steps * testCase.Batch * testCase.Spec.OutputSize];
        void Run() => session.Forward(testCase.Input, testCase.Steps, testCase.Batch, output, lengths: testCase.Lengths);
        Run();
        Assert.Equal(0, Allocations.LeastOver(Run, 5));

        using GruSession streaming = GruModel.Create(GruWeights.CreateRandom(new GruSpec(4, 33, 2), 3)).CreateSession(3);
        float[] x = new float[3 * 4], y = new float[3 * 33];
        void Step() => streaming.Step(x, 3, y);
        Step();
        Assert.Equal(0, Allocations.LeastOver(Step, 5));
    }

    [Fact]
    public void The_original_cell_on_two_threads_gives_the_one_thread_answer_bitwise_and_allocates_nothing_warm()
    {
        // Its second product phase (W_hn on r ⊙ h) is shared among the threads by blocks, as an LSTM's projection is.
        var testCase = new GruCase(new GruSpec(9, 70, 2, bidirectional: true, linearBeforeReset: false), Steps: 7, Batch: 5, WithLengths: true, WithInitialState: true,
            SequenceLayout.TimeMajor, Seed: 13);
        float[] one = testCase.RunFast(GruModel.Create(testCase.Weights)).Output;
        GruModel shared = GruModel.Create(testCase.Weights, new LstmModelOptions { Threads = 2 });
        float[] two = testCase.RunFast(shared).Output;
        Assert.Equal(one.Select(BitConverter.SingleToInt32Bits), two.Select(BitConverter.SingleToInt32Bits));
        ReferenceGruResult expected = ReferenceGru.Forward(testCase.Weights, testCase.Input, testCase.Steps, testCase.Batch, testCase.H0, testCase.Lengths);
        Tolerance.AssertClose(expected.Output, one, "output");

        using GruSession session = shared.CreateSession(testCase.Batch, testCase.Steps);
        float[] output = new float[testCase.Steps * testCase.Batch * testCase.Spec.OutputSize];
        void Run() => session.Forward(testCase.Input, testCase.Steps, testCase.Batch, output, lengths: testCase.Lengths);
        Run();
        Assert.Equal(0, Allocations.LeastOver(Run, 5));

        using GruSession streaming = GruModel.Create(GruWeights.CreateRandom(new GruSpec(4, 33, 2, linearBeforeReset: false), 3)).CreateSession(3);
        float[] x = new float[3 * 4], y = new float[3 * 33];
        void Step() => streaming.Step(x, 3, y);
        Step();
        Assert.Equal(0, Allocations.LeastOver(Step, 5));
    }

    [Fact]
    public void An_initial_state_that_could_overflow_the_sums_of_the_layer_above_is_refused()
    {
        // Layer 0 cannot overflow on its own (W_hh is zero), but its h stays within its h0, which layer 1 reads through a
        // W_ih with row sums of 30: 1e37 there could overflow layer 1's sums, so the call is refused; 2.5 runs.
        var spec = new GruSpec(2, 3, 2);
        GruWeights random = GruWeights.CreateRandom(spec, 5);
        var layers = new[]
        {
            new GruLayerWeights { WeightIh = random[0, 0].WeightIh, WeightHh = new float[9 * 3], BiasIh = random[0, 0].BiasIh, BiasHh = random[0, 0].BiasHh },
            new GruLayerWeights { WeightIh = [.. Enumerable.Repeat(10f, 9 * 3)], WeightHh = random[1, 0].WeightHh, BiasIh = random[1, 0].BiasIh, BiasHh = random[1, 0].BiasHh },
        };
        using GruSession session = GruModel.Create(new GruWeights(spec, layers)).CreateSession(1, 2);
        float[] input = new float[2 * spec.InputSize], output = new float[2 * spec.OutputSize], h0 = new float[spec.LayerDirections * spec.HiddenSize];
        h0[0] = 2.5f;
        session.Forward(input, 2, 1, output, h0: h0);
        h0[0] = 1e37f;
        var refused = Assert.Throws<ArgumentOutOfRangeException>(() => session.Forward(input, 2, 1, output, h0: h0));
        Assert.Contains("overflow", refused.Message);
    }

    private static float[] Draw(Random random, int length, float scale) =>
        [.. Enumerable.Range(0, length).Select(_ => (float)(random.NextDouble() * 2 - 1) * scale)];
}
