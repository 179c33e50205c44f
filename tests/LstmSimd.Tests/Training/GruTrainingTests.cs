using System.Globalization;
using FsCheck;
using FsCheck.Fluent;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Tests.Model;
using LstmSimd.Tests.Support;
using LstmSimd.Training;
using Xunit;
using Xunit.Abstractions;

namespace LstmSimd.Tests.Training;

/// <summary>
/// The GRU's fast backward (its gates in the LSTM kernels' four slots) against <see cref="ReferenceGru.Backward"/>
/// (float64, written from the equations and itself checked by finite differences and PyTorch's autograd) and against
/// autograd goldens (nn.GRU's, and the original cell's from its equations), on every kernel path, for both cells; and
/// the GRU trainer on the adding problem.
/// </summary>
public sealed class GruTrainingTests(ITestOutputHelper log)
{
    public static TheoryData<KernelPath> Paths() => [.. KernelSelector.All];

    public static TheoryData<KernelPath, bool> PathsAndCells()
    {
        var data = new TheoryData<KernelPath, bool>();
        foreach (KernelPath path in KernelSelector.All)
        {
            data.Add(path, true);
            data.Add(path, false);
        }

        return data;
    }

    /// <summary>nn.GRU's gradient cases and the original cell's (from its equations under autograd).</summary>
    private static readonly string[] GoldenGradientCases = ["grad_two_layer_bidirectional", "grad_variable_lengths", "grad_original_two_layer", "grad_original_lengths"];

    /// <summary>A random GRU problem with random upstream gradients on the output and on h_n.</summary>
    private static Gen<(GruModelTests.GruCase Case, float[] GradOutput, float[] GradHN)> Cases(bool software) =>
        from input in Gen.Choose(1, 17)
        from hidden in software ? Gen.Elements(1, 5, 17) : Gen.Elements(1, 3, 4, 7, 8, 9, 16, 17, 33)
        from layers in Gen.Choose(1, software ? 2 : 3)
        from bidirectional in Gen.Elements(false, true)
        from bias in Gen.Elements(true, true, false)
        from linearBeforeReset in Gen.Elements(true, false)
        from steps in Gen.Choose(0, software ? 5 : 9)
        from batch in Gen.Choose(1, software ? 5 : 9)
        from lengths in Gen.Elements(false, true)
        from h0 in Gen.Elements(false, true)
        from layout in Gen.Elements(SequenceLayout.TimeMajor, SequenceLayout.BatchFirst)
        from seed in Gen.Choose(0, int.MaxValue - 10 - batch)
        let c = new GruModelTests.GruCase(new GruSpec(input, hidden, layers, bidirectional, bias, linearBeforeReset), steps, batch, lengths, h0, layout, seed, H0Scale: 1)
        select (c, LstmCase.Uniform(steps * batch * c.Spec.OutputSize, seed + 5, 1), LstmCase.Uniform(c.Spec.LayerDirections * batch * hidden, seed + 6, 1));

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_gradient_matches_the_reference_backward_on_random_models(KernelPath path)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        Prop.ForAll(Cases(software).ToArbitrary(), c =>
        {
            ReferenceGruGradients expected = ReferenceGru.Backward(c.Case.Weights, c.Case.Input, c.Case.Steps, c.Case.Batch,
                FastBackwardTests.ToDouble(c.GradOutput), FastBackwardTests.ToDouble(c.GradHN), c.Case.H0, c.Case.Lengths, c.Case.Layout);
            GruGradients actual = GruTrainingSession.ComputeGradients(c.Case.Weights, c.Case.Input, c.Case.Steps, c.Case.Batch,
                c.GradOutput, c.GradHN, c.Case.H0, c.Case.Lengths, c.Case.Layout, path);
            AssertMatches(expected, actual, $"{path}: {c.Case}");
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 25 : 100));
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void Every_gradient_matches_pytorch_autograd_on_the_golden_cases(KernelPath path)
    {
        foreach (string name in GoldenGradientCases)
        {
            using var golden = new GoldenGru(name);
            GruGradients actual = GruTrainingSession.ComputeGradients(golden.Weights, golden.Input, golden.Steps, golden.Batch,
                FastBackwardTests.ToFloat(golden.File.ReadDoubles("grad_output")), FastBackwardTests.ToFloat(golden.File.ReadDoubles("grad_h_n")),
                golden.H0, golden.Lengths, golden.Layout, path);
            string where = $"{name} on {path}";
            FastBackwardTests.AssertClose(golden.File.ReadDoubles("output"), actual.Output, $"output ({where})");
            FastBackwardTests.AssertClose(golden.File.ReadDoubles("grad.input"), actual.Input, $"grad.input ({where})");
            FastBackwardTests.AssertClose(golden.File.ReadDoubles("grad.h0"), actual.H0, $"grad.h0 ({where})");
            int compared = 0;
            foreach (string tensor in golden.File.Tensors.Select(t => t.Name).Where(n => n.StartsWith("grad.weight", StringComparison.Ordinal) || n.StartsWith("grad.bias", StringComparison.Ordinal)))
            {
                // grad.weight_ih_l1_reverse → weight_ih of layer 1, direction 1.
                string[] parts = tensor["grad.".Length..].Split('_');
                GruLayerWeights layer = actual.Parameters[int.Parse(parts[2][1..], CultureInfo.InvariantCulture), parts.Length > 3 ? 1 : 0];
                float[] values = (parts[0] + "_" + parts[1]) switch
                {
                    "weight_ih" => layer.WeightIh, "weight_hh" => layer.WeightHh, "bias_ih" => layer.BiasIh, "bias_hh" => layer.BiasHh,
                    _ => throw new InvalidDataException(tensor),
                };
                FastBackwardTests.AssertClose(golden.File.ReadDoubles(tensor), values, $"{tensor} ({where})");
                compared++;
            }

            Assert.Equal(golden.Weights.Spec.LayerDirections * (golden.Weights.Spec.Bias ? 4 : 2), compared);
        }
    }

    [Theory]
    [InlineData("train_step_two_layer_bidirectional")]
    [InlineData("train_step_single_layer")]
    [InlineData("train_step_original_bidirectional")]
    public void One_trainer_step_matches_a_pytorch_training_step(string name)
    {
        // nn.GRU + nn.Linear, MSE on each sequence's last valid output, clip_grad_norm_, SGD: the loss, the norm before
        // clipping, and every parameter's update (compared as (before − after) / lr, the clipped gradient).
        using var golden = new GoldenGru(name);
        using var document = System.Text.Json.JsonDocument.Parse(golden.File.Metadata["config"]);
        System.Text.Json.JsonElement config = document.RootElement;
        int outputs = config.GetProperty("outputs").GetInt32();
        double maxNorm = config.GetProperty("max_norm").GetDouble(), rate = config.GetProperty("learning_rate").GetDouble();
        GruSpec spec = golden.Weights.Spec;
        var head = new TrainableLinearHead(spec.OutputSize, outputs, golden.File.ReadSingles("head.weight"), golden.File.ReadSingles("head.bias"));
        var before = new Dictionary<string, float[]>();
        using var trainer = new GruTrainer(golden.Weights, head, p => new SgdOptimizer(p, rate),
            new LstmTrainerOptions { MaxBatch = golden.Batch, MaxSteps = golden.Steps, Readout = Readout.LastStep, ClipNorm = maxNorm });
        foreach (Parameter p in trainer.Parameters.Parameters) before[p.Name] = (float[])p.Values.Clone();

        double loss = trainer.Step(golden.Input, golden.Steps, golden.Batch, golden.File.ReadSingles("target"), golden.Lengths);

        FastBackwardTests.AssertClose(golden.File.ReadDoubles("loss"), [(float)loss], "loss");
        FastBackwardTests.AssertClose(golden.File.ReadDoubles("grad_norm"), [(float)trainer.LastGradientNorm], "gradient norm");
        Assert.Equal(spec.LayerDirections * 4 + 2, trainer.Parameters.Parameters.Count);
        foreach (Parameter p in trainer.Parameters.Parameters)
        {
            double[] after = golden.File.ReadDoubles("after." + p.Name);
            float[] start = before[p.Name];
            double[] expected = [.. after.Select((a, i) => (start[i] - a) / rate)];
            float[] actual = [.. p.Values.Select((a, i) => (float)((start[i] - (double)a) / rate))];
            FastBackwardTests.AssertClose(expected, actual, $"{name}: the update of {p.Name}");
        }
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void The_training_forward_gives_bitwise_the_inference_forward(KernelPath path)
    {
        bool software = !KernelSelector.IsAccelerated(path);
        // Time-major only, as for the LSTM: batch-first inference projects rows in another order, which rounds differently.
        Prop.ForAll(Cases(software).Select(c => c.Case).Where(c => c.Layout == SequenceLayout.TimeMajor && c.Steps > 0).ToArbitrary(), c =>
        {
            (float[] expected, float[] expectedH) = c.RunFast(GruModel.Create(c.Weights, new LstmModelOptions { Kernel = path }));
            float[] actual = new float[expected.Length], actualH = new float[expectedH.Length];
            using var session = new GruTrainingSession(c.Weights, c.Batch, c.Steps, path);
            session.Forward(c.Input, c.Steps, c.Batch, actual, actualH, c.H0, c.Lengths, c.Layout);
            Assert.Equal(expected, actual);
            Assert.Equal(expectedH, actualH);
        }).Check(Config.QuickThrowOnFailure.WithMaxTest(software ? 10 : 40));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Gradients_on_four_threads_are_bitwise_those_of_one(bool linearBeforeReset)
    {
        var c = new GruModelTests.GruCase(new GruSpec(9, 40, 2, bidirectional: true, linearBeforeReset: linearBeforeReset), 6, 7, WithLengths: true, WithInitialState: true, SequenceLayout.TimeMajor, 11, H0Scale: 1);
        float[] gradOutput = LstmCase.Uniform(6 * 7 * 80, 3, 1);
        GruGradients one = GruTrainingSession.ComputeGradients(c.Weights, c.Input, 6, 7, gradOutput, default, c.H0, c.Lengths);
        using var session = new GruTrainingSession(c.Weights, 7, 6, threads: 4);
        session.ShareEveryCall();
        float[] output = new float[one.Output.Length], gradInput = new float[one.Input.Length], gradH0 = new float[one.H0.Length];
        session.Forward(c.Input, 6, 7, output, default, c.H0, c.Lengths);
        session.Backward(gradOutput, default, gradInput, gradH0);
        Assert.Equal(one.Output, output);
        Assert.Equal(one.Input, gradInput);
        Assert.Equal(one.H0, gradH0);
        for (int l = 0; l < 2; l++)
            for (int d = 0; d < 2; d++)
            {
                Assert.Equal(one.Parameters[l, d].WeightIh, session.Gradients[l, d].WeightIh);
                Assert.Equal(one.Parameters[l, d].WeightHh, session.Gradients[l, d].WeightHh);
                Assert.Equal(one.Parameters[l, d].BiasIh, session.Gradients[l, d].BiasIh);
                Assert.Equal(one.Parameters[l, d].BiasHh, session.Gradients[l, d].BiasHh);
            }
    }

    [Fact]
    public void Two_passes_add_their_gradients_and_zeroing_clears_them()
    {
        var c = new GruModelTests.GruCase(new GruSpec(3, 5), 4, 2, WithLengths: false, WithInitialState: false, SequenceLayout.TimeMajor, 5);
        float[] gradOutput = LstmCase.Uniform(4 * 2 * 5, 9, 1);
        using var session = new GruTrainingSession(c.Weights, 2, 4);
        session.Forward(c.Input, 4, 2, new float[40]);
        session.Backward(gradOutput);
        float[] once = (float[])session.Gradients[0, 0].WeightHh.Clone();
        session.Forward(c.Input, 4, 2, new float[40]);
        session.Backward(gradOutput);
        Assert.Equal(once.Select(v => 2 * v), session.Gradients[0, 0].WeightHh);
        session.ZeroGradients();
        Assert.All(session.Gradients[0, 0].WeightHh, v => Assert.Equal(0f, v));
    }

    [Fact]
    public void A_gru_with_hard_sigmoid_gates_is_refused_for_training_with_the_reason()
    {
        GruWeights weights = GruWeights.CreateRandom(new GruSpec(2, 3) { GateActivation = new Activation(ActivationKind.HardSigmoid, 0.2f, 0.5f) }, 1);
        Assert.Contains("hard sigmoid", Assert.Throws<NotSupportedException>(() => new GruTrainingSession(weights, 1, 1)).Message, StringComparison.Ordinal);
        Assert.Throws<NotSupportedException>(() => new GruTrainer(weights, new TrainableLinearHead(3, 1, new SeededRandom(1)), p => new SgdOptimizer(p, 0.1),
            new LstmTrainerOptions { MaxBatch = 1, MaxSteps = 1 }));
    }

    [Fact]
    public void A_head_of_the_wrong_width_is_refused_naming_both_widths()
    {
        GruWeights weights = GruWeights.CreateRandom(new GruSpec(2, 3, bidirectional: true), 1);
        string message = Assert.Throws<ArgumentException>(() => new GruTrainer(weights, new TrainableLinearHead(3, 1, new SeededRandom(1)), p => new SgdOptimizer(p, 0.1),
            new LstmTrainerOptions { MaxBatch = 1, MaxSteps = 1 })).Message;
        Assert.Contains("3 inputs", message, StringComparison.Ordinal);
        Assert.Contains("= 6", message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_trainer_registers_the_gru_under_pytorch_names_before_the_head()
    {
        using var trainer = new GruTrainer(GruWeights.CreateRandom(new GruSpec(2, 3, 2), 1), new TrainableLinearHead(3, 1, new SeededRandom(1)),
            p => new SgdOptimizer(p, 0.1), new LstmTrainerOptions { MaxBatch = 1, MaxSteps = 1 });
        Assert.Equal(["weight_ih_l0", "weight_hh_l0", "bias_ih_l0", "bias_hh_l0", "weight_ih_l1", "weight_hh_l1", "bias_ih_l1", "bias_hh_l1", "head.weight", "head.bias"],
            trainer.Parameters.Parameters.Select(p => p.Name));
    }

    [Theory]
    [MemberData(nameof(PathsAndCells))]
    public void A_warm_training_step_allocates_zero_bytes(KernelPath path, bool linearBeforeReset)
    {
        // Two bidirectional layers, dropout, clipping, lengths, cross-entropy at every step, batch-first.
        using var trainer = new GruTrainer(GruWeights.CreateRandom(new GruSpec(5, 11, 2, bidirectional: true, linearBeforeReset: linearBeforeReset), 1), new TrainableLinearHead(22, 3, new SeededRandom(1)),
            p => AdamOptimizer.AdamW(p, 1e-2), new LstmTrainerOptions
            {
                MaxBatch = 4, MaxSteps = 7, Readout = Readout.EveryStep, Loss = LossKind.CrossEntropy, ClipNorm = 1, Dropout = 0.2,
                Kernel = path, Layout = SequenceLayout.BatchFirst,
            });
        float[] input = LstmCase.Uniform(4 * 7 * 5, 3, 1);
        int[] lengths = [7, 3, 5, 1];
        int[] labels = new int[16];
        for (int i = 0; i < labels.Length; i++) labels[i] = i % 3;

        trainer.Step(input, 7, 4, labels, lengths);
        trainer.Step(input, 7, 4, labels, lengths);
        Assert.Equal(0, Allocations.LeastOver(() => trainer.Step(input, 7, 4, labels, lengths), 3));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void An_sgd_step_moves_every_weight_against_the_reference_gradient(bool linearBeforeReset)
    {
        // One SGD step of the trainer, MSE on the last step through the head, checked against ReferenceGru's gradient
        // of the same loss: Δw = −lr · ∂loss/∂w.
        var spec = new GruSpec(3, 6, linearBeforeReset: linearBeforeReset);
        GruWeights weights = GruWeights.CreateRandom(spec, 4), before = GruWeights.CreateRandom(spec, 4);
        var head = new TrainableLinearHead(6, 1, new SeededRandom(2));
        float[] headWeight = (float[])head.Weight.Clone();
        float headBias = head.Bias[0];
        const double rate = 0.5;
        using var trainer = new GruTrainer(weights, head, p => new SgdOptimizer(p, rate), new LstmTrainerOptions { MaxBatch = 2, MaxSteps = 4 });
        float[] input = LstmCase.Uniform(4 * 2 * 3, 8, 1), targets = [0.3f, -0.2f];
        trainer.Step(input, 4, 2, targets);

        // MSE over the two predictions y_b = w·h_T(b) + bias: ∂loss/∂h_T(b) = (2/2)(y_b − target_b)·w.
        ReferenceGruResult forward = ReferenceGru.Forward(before, input, 4, 2);
        double[] gradOutput = new double[4 * 2 * 6];
        for (int b = 0; b < 2; b++)
        {
            double y = headBias;
            for (int k = 0; k < 6; k++) y += headWeight[k] * forward.Output[(3 * 2 + b) * 6 + k];
            for (int k = 0; k < 6; k++) gradOutput[(3 * 2 + b) * 6 + k] = (y - targets[b]) * headWeight[k];
        }

        ReferenceGruGradients expected = ReferenceGru.Backward(before, input, 4, 2, gradOutput);
        GruLayerWeights was = before[0, 0], now = weights[0, 0];
        double[] step(float[] a, float[] b) => [.. a.Zip(b, (x, y) => ((double)x - y) / rate)];
        FastBackwardTests.AssertClose(expected[0, 0].WeightIh, [.. step(was.WeightIh, now.WeightIh).Select(v => (float)v)], "weight_ih_l0");
        FastBackwardTests.AssertClose(expected[0, 0].WeightHh, [.. step(was.WeightHh, now.WeightHh).Select(v => (float)v)], "weight_hh_l0");
        FastBackwardTests.AssertClose(expected[0, 0].BiasIh, [.. step(was.BiasIh, now.BiasIh).Select(v => (float)v)], "bias_ih_l0");
        FastBackwardTests.AssertClose(expected[0, 0].BiasHh, [.. step(was.BiasHh, now.BiasHh).Select(v => (float)v)], "bias_hh_l0");
    }

    [Fact]
    public void A_trained_gru_solves_the_adding_problem_far_below_the_mean_predictor()
    {
        // The adding problem (Hochreiter & Schmidhuber 1997), T = 20: two of the steps are marked and the target is the sum
        // of their values. Always answering the mean, 1, scores Var(u1 + u2) = 1/6; a model that solved it scores near 0.
        const int Steps = 20, Batch = 32;
        using var trainer = new GruTrainer(GruWeights.CreateRandom(new GruSpec(2, 24), 1), new TrainableLinearHead(24, 1, new SeededRandom(1)),
            p => new AdamOptimizer(p, 1e-2), new LstmTrainerOptions { MaxBatch = Batch, MaxSteps = Steps, ClipNorm = 1 });
        var random = new Random(5);
        float[] input = new float[Steps * Batch * 2], targets = new float[Batch];
        void Draw()
        {
            Array.Clear(input);
            for (int b = 0; b < Batch; b++)
            {
                int first = random.Next(Steps / 2), second = Steps / 2 + random.Next(Steps / 2);
                targets[b] = 0;
                for (int t = 0; t < Steps; t++)
                {
                    float value = (float)random.NextDouble();
                    input[(t * Batch + b) * 2] = value;
                    if (t != first && t != second) continue;
                    input[(t * Batch + b) * 2 + 1] = 1;
                    targets[b] += value;
                }
            }
        }

        for (int step = 0; step < 1200; step++)
        {
            Draw();
            trainer.Step(input, Steps, Batch, targets);
        }

        double test = 0, baseline = 0;
        for (int round = 0; round < 8; round++)
        {
            Draw();
            test += trainer.Evaluate(input, Steps, Batch, targets) / 8;
            baseline += targets.Average(t => (t - 1.0) * (t - 1.0)) / 8;
        }

        log.WriteLine($"adding problem T = {Steps}: test MSE {test:G4}, always answering 1: {baseline:G4}");
        Assert.True(baseline > 0.1, $"the mean predictor scores {baseline}");
        Assert.True(test < 0.01, $"test MSE {test}, against {baseline} for always answering 1");
    }

    private static void AssertMatches(ReferenceGruGradients expected, GruGradients actual, string where)
    {
        Tolerance.AssertClose(expected.Forward.Output, actual.Output, $"output ({where})");
        Tolerance.AssertClose(expected.Forward.HiddenState, actual.HiddenState, $"h_n ({where})");
        GruSpec spec = expected.Spec;
        for (int l = 0; l < spec.NumLayers; l++)
            for (int d = 0; d < spec.Directions; d++)
            {
                string suffix = $"_l{l}{(d == 1 ? "_reverse" : "")} ({where})";
                FastBackwardTests.AssertClose(expected[l, d].WeightIh, actual.Parameters[l, d].WeightIh, "weight_ih" + suffix);
                FastBackwardTests.AssertClose(expected[l, d].WeightHh, actual.Parameters[l, d].WeightHh, "weight_hh" + suffix);
                FastBackwardTests.AssertClose(expected[l, d].BiasIh, actual.Parameters[l, d].BiasIh, "bias_ih" + suffix);
                FastBackwardTests.AssertClose(expected[l, d].BiasHh, actual.Parameters[l, d].BiasHh, "bias_hh" + suffix);
            }

        FastBackwardTests.AssertClose(expected.Input, actual.Input, $"input ({where})");
        FastBackwardTests.AssertClose(expected.H0, actual.H0, $"h0 ({where})");
    }
}
