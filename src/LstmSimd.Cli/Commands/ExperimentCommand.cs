using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using LstmSimd.Cli.Experiments;
using LstmSimd.Cli.Tool;
using LstmSimd.Training;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary>
/// `experiment adding`: the adding problem of Hochreiter and Schmidhuber (1997), in the form used since Le et al.
/// (2015) and Arjovsky et al. (2016). Each step of a length-T sequence carries a value uniform in [0, 1) and a marker;
/// exactly two steps are marked, one in each half, and the target is the sum of their two values. Answering 1.0
/// always scores an MSE of Var(U + U) = 1/6 ≈ 0.167; solving it means carrying a value across up to T steps.
/// An LSTM and a plain tanh RNN train on the same budget (steps, batch, hidden size, optimiser, clipping).
/// </summary>
internal static class ExperimentCommand
{
    private const double SolvedMse = 0.01, BaselineMse = 1.0 / 6;

    private sealed record Settings(int Length, int Hidden, int Steps, int Batch, double LearningRate, double Clip, int TestSize, int Seed, int Checkpoints);

    public static Command Create()
    {
        var length = new Option<int>("--length") { Description = "Sequence length T.", DefaultValueFactory = _ => 100 };
        var hidden = new Option<int>("--hidden") { Description = "Hidden units of both networks.", DefaultValueFactory = _ => 64 };
        var steps = new Option<int>("--steps") { Description = "Training steps (minibatches) for each network.", DefaultValueFactory = _ => 3000 };
        var batch = new Option<int>("--batch") { Description = "Sequences per step.", DefaultValueFactory = _ => 32 };
        var learningRate = new Option<double>("--lr") { Description = "Adam's learning rate.", DefaultValueFactory = _ => 0.01 };
        var clip = new Option<double>("--clip") { Description = "Gradient clipping by global norm (0: off).", DefaultValueFactory = _ => 1.0 };
        var test = new Option<int>("--test-size") { Description = "Held-out sequences for the test MSE.", DefaultValueFactory = _ => 1000 };
        var seed = new Option<int>("--seed") { Description = "Seed for data and initialisation.", DefaultValueFactory = _ => 1 };
        var quick = new Option<bool>("--quick") { Description = "A smoke test for CI: T = 20, 1000 steps, 256 test sequences (seconds, not minutes)." };
        var adding = new Command("adding", "Train an LSTM and a tanh RNN on the adding problem and print their MSE; exit code 0 only when the LSTM's test MSE is below 0.01.")
        {
            length, hidden, steps, batch, learningRate, clip, test, seed, quick,
        };
        adding.SetAction(parse => ToolExit.Run("experiment adding", () =>
        {
            var settings = new Settings(parse.GetValue(length), parse.GetValue(hidden), parse.GetValue(steps), parse.GetValue(batch),
                parse.GetValue(learningRate), parse.GetValue(clip), parse.GetValue(test), parse.GetValue(seed), Checkpoints: 10);
            if (parse.GetValue(quick)) settings = settings with { Length = 20, Steps = 1000, TestSize = 256, Checkpoints = 5 };
            if (settings.Length < 2 || settings.Hidden < 1 || settings.Steps < 1 || settings.Batch < 1 || settings.TestSize < 1 || !(settings.LearningRate > 0) || !(settings.Clip >= 0))
            {
                Console.Error.WriteLine("experiment adding: --length must be at least 2, --hidden, --steps, --batch, --test-size and --lr positive, --clip non-negative.");
                return 2;
            }

            return RunAdding(settings);
        }));
        return new Command("experiment", "Training experiments.") { adding };
    }

    private static int RunAdding(Settings s)
    {
        Console.WriteLine($"adding problem: T={s.Length}, hidden {s.Hidden}, {s.Steps} steps of batch {s.Batch}, Adam lr {s.LearningRate.ToString(CultureInfo.InvariantCulture)}, " +
            $"clip {s.Clip.ToString(CultureInfo.InvariantCulture)}, {s.TestSize} test sequences, seed {s.Seed}; always answering 1.0 scores {BaselineMse:F3}");
        var test = new AddingData(s.Length, s.TestSize, (ulong)s.Seed + 1000);
        var lstm = new LstmRun(s);
        var rnn = new RnnRun(s);
        var rows = new List<string[]>();
        int checkpoint = Math.Max(1, s.Steps / s.Checkpoints);
        (double Train, double Test) lstmLast = default, rnnLast = default;
        foreach (ITrainingRun run in new ITrainingRun[] { lstm, rnn })
        {
            var data = new AddingData(s.Length, s.Batch, (ulong)s.Seed);
            var clock = Stopwatch.StartNew();
            double trainSum = 0;
            int trainCount = 0;
            for (int step = 1; step <= s.Steps; step++)
            {
                data.Next();
                trainSum += run.Step(data);
                trainCount++;
                if (step % checkpoint != 0 && step != s.Steps) continue;
                clock.Stop();
                double testMse = run.Evaluate(test, s.Batch);
                (double, double) result = (trainSum / trainCount, testMse);
                if (run == lstm) lstmLast = result; else rnnLast = result;
                rows.Add([run.Name, step.ToString(CultureInfo.InvariantCulture), $"{clock.Elapsed.TotalSeconds:F1}", $"{trainSum / trainCount:F4}", $"{testMse:F4}"]);
                trainSum = 0;
                trainCount = 0;
                clock.Start();
            }
        }

        var table = new Table().Border(TableBorder.Rounded)
            .AddColumn("model").AddColumn(new TableColumn("steps").RightAligned()).AddColumn(new TableColumn("train time (s)").RightAligned())
            .AddColumn(new TableColumn("train MSE (since last row)").RightAligned()).AddColumn(new TableColumn("test MSE").RightAligned());
        foreach (string[] row in rows) table.AddRow(row);
        AnsiConsole.Write(table);
        Console.WriteLine($"baseline (always 1.0): test MSE {test.BaselineMse():F4}; solved means test MSE < {SolvedMse}");
        bool solved = lstmLast.Test < SolvedMse;
        Console.WriteLine($"LSTM: test MSE {lstmLast.Test:F4} ({(solved ? "solved" : "NOT solved")}); tanh RNN: test MSE {rnnLast.Test:F4} ({(rnnLast.Test < SolvedMse ? "solved" : "not solved")}); LSTM kernel path {lstm.KernelPath}");
        return solved ? 0 : 1;
    }

    private interface ITrainingRun
    {
        string Name { get; }

        double Step(AddingData data);

        double Evaluate(AddingData data, int batch);
    }

    /// <summary>The LSTM (forget-gate bias 1) with a linear head on its last output, trained by <see cref="LstmTrainer"/>.</summary>
    private sealed class LstmRun : ITrainingRun
    {
        private readonly LstmTrainer _trainer;
        private readonly int _length;

        public LstmRun(Settings s)
        {
            var spec = new LstmSpec(AddingData.Features, s.Hidden);
            _length = s.Length;
            _trainer = new LstmTrainer(LstmWeights.CreateRandom(spec, s.Seed, forgetBias: 1), new TrainableLinearHead(s.Hidden, 1, new SeededRandom((ulong)s.Seed)),
                p => new AdamOptimizer(p, s.LearningRate), new LstmTrainerOptions { MaxBatch = s.Batch, MaxSteps = s.Length, ClipNorm = s.Clip });
        }

        public string Name => "LSTM";

        public KernelPath KernelPath => _trainer.Session.KernelPath;

        public double Step(AddingData data) => _trainer.Step(data.Input, _length, data.Batch, data.Targets);

        public double Evaluate(AddingData data, int batch) =>
            data.MeanOverBatches(batch, (input, targets, rows) => _trainer.Evaluate(input, _length, rows, targets));
    }

    /// <summary>The tanh RNN with a linear head on its final state, trained with the same optimiser and clipping.</summary>
    private sealed class RnnRun : ITrainingRun
    {
        private readonly TanhRnn _rnn;
        private readonly TrainableLinearHead _head;
        private readonly ParameterSet _parameters = new();
        private readonly AdamOptimizer _optimizer;
        private readonly float[] _prediction, _gradPrediction, _gradState;
        private readonly int _length;
        private readonly double _clip;

        public RnnRun(Settings s)
        {
            var random = new SeededRandom((ulong)s.Seed);
            _length = s.Length;
            _clip = s.Clip;
            _rnn = new TanhRnn(AddingData.Features, s.Hidden, s.Length, s.Batch, random);
            _head = new TrainableLinearHead(s.Hidden, 1, random);
            _rnn.AddTo(_parameters);
            _head.AddTo(_parameters);
            _optimizer = new AdamOptimizer(_parameters, s.LearningRate);
            _prediction = new float[s.Batch];
            _gradPrediction = new float[s.Batch];
            _gradState = new float[Sizes.Elements("state gradient batch × hidden", s.Batch, s.Hidden)];
        }

        public string Name => "tanh RNN";

        public double Step(AddingData data)
        {
            double loss = Forward(data.Input, data.Targets, data.Batch);
            int batch = data.Batch;
            _parameters.ZeroGradients();
            Span<float> gradState = _gradState.AsSpan(0, batch * _rnn.HiddenSize);
            _head.Backward(_rnn.FinalState, _gradPrediction.AsSpan(0, batch), batch, gradState);
            _rnn.Backward(default, gradState, default);
            double norm = _clip > 0 ? _parameters.ClipGradientNorm(_clip) : _parameters.GradientNorm();
            if (double.IsFinite(norm)) _optimizer.Step();
            return loss;
        }

        public double Evaluate(AddingData data, int batch) => data.MeanOverBatches(batch, Forward);

        private double Forward(ReadOnlySpan<float> input, ReadOnlySpan<float> targets, int batch)
        {
            _rnn.Forward(input, _length, batch);
            _head.Forward(_rnn.FinalState, batch, _prediction.AsSpan(0, batch));
            return Losses.MeanSquaredError(_prediction.AsSpan(0, batch), targets, _gradPrediction.AsSpan(0, batch));
        }
    }

    /// <summary>The mean loss of <paramref name="rows"/> sequences: input [T, rows, 2], targets [rows].</summary>
    private delegate double BatchLoss(ReadOnlySpan<float> input, ReadOnlySpan<float> targets, int rows);

    /// <summary>A batch of adding-problem sequences, time-major [T, B, 2] (value, marker), with targets [B].</summary>
    private sealed class AddingData
    {
        public const int Features = 2;
        private readonly SeededRandom _random;
        private readonly int _length;

        public AddingData(int length, int batch, ulong seed)
        {
            _length = length;
            Batch = batch;
            _random = new SeededRandom(seed);
            Input = new float[Sizes.Elements("inputs length × batch × features", length, batch, Features)];
            Targets = new float[batch];
            Next();
        }

        public int Batch { get; }

        public float[] Input { get; }

        public float[] Targets { get; }

        /// <summary>Draws fresh sequences: values uniform in [0, 1), one marker uniform in each half.</summary>
        public void Next()
        {
            int half = _length / 2;
            for (int b = 0; b < Batch; b++)
            {
                int first = _random.NextInt32(half), second = half + _random.NextInt32(_length - half);
                float target = 0;
                for (int t = 0; t < _length; t++)
                {
                    int at = (t * Batch + b) * Features;
                    float value = _random.NextSingle();
                    bool marked = t == first || t == second;
                    Input[at] = value;
                    Input[at + 1] = marked ? 1f : 0f;
                    if (marked) target += value;
                }

                Targets[b] = target;
            }
        }

        /// <summary>The MSE of always answering 1.0 on these sequences.</summary>
        public double BaselineMse()
        {
            double sum = 0;
            foreach (float target in Targets) sum += (target - 1.0) * (target - 1.0);
            return sum / Targets.Length;
        }

        /// <summary>Runs <paramref name="loss"/> over slices of at most <paramref name="batch"/> sequences (repacked time-major) and averages per sequence.</summary>
        public double MeanOverBatches(int batch, BatchLoss loss)
        {
            var input = new float[Sizes.Elements("inputs length × batch × features", _length, batch, Features)];
            var targets = new float[batch];
            double total = 0;
            for (int start = 0; start < Batch; start += batch)
            {
                int rows = Math.Min(batch, Batch - start);
                for (int t = 0; t < _length; t++)
                    Input.AsSpan((t * Batch + start) * Features, rows * Features).CopyTo(input.AsSpan(t * rows * Features));
                Targets.AsSpan(start, rows).CopyTo(targets);
                total += loss(input.AsSpan(0, _length * rows * Features), targets.AsSpan(0, rows), rows) * rows;
            }

            return total / Batch;
        }
    }
}
