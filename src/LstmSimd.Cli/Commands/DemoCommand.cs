using System.CommandLine;
using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using LstmSimd.Cli.Tool;
using LstmSimd.Forecasting;
using LstmSimd.Kernels;
using LstmSimd.Reference;
using LstmSimd.Text;
using Spectre.Console;

namespace LstmSimd.Cli.Commands;

/// <summary><c>lstmsimd demo</c>: the whole library in about a minute: ISA path, verification, speed, a trained forecaster and its plot.</summary>
internal static class DemoCommand
{
    private sealed record Workload(string Name, int Steps, int Batch, int Input, int Hidden);

    private static readonly Workload[] Workloads =
    [
        new("step-h64", 1, 1, 64, 64),
        new("step-h256", 1, 1, 256, 256),
        new("seq-h64", 100, 1, 64, 64),
        new("seq-h256", 100, 1, 256, 256),
        new("seq-b16-h128", 50, 16, 128, 128),
    ];

    public static Command Create()
    {
        var output = new Option<DirectoryInfo>("--output", "-o") { Description = "Directory for the checkpoints and plots (demo-forecaster.lstm, demo-forecast.svg, demo-anomalies.svg, demo-chars.lstm).", DefaultValueFactory = _ => new DirectoryInfo(".") };
        var seed = new Option<int>("--seed") { Description = "Seed for the random models and the forecaster.", DefaultValueFactory = _ => 1 };
        var command = new Command("demo", "A one-minute tour: the kernel path this CPU gets, fast path checked against the double reference, speed against the reference, an LSTM forecaster trained on Mauna Loa CO2 beside naive baselines and plotted, anomalies in that series, and a character-level language model trained for 25 seconds. Exit code 1 if verification fails.")
        {
            output, seed,
        };
        command.SetAction(parse => ToolExit.Run("demo", () =>
        {
            string directory = parse.GetValue(output)!.FullName;
            if (!Directory.Exists(directory)) throw new DirectoryNotFoundException($"The output directory {directory} does not exist.");
            var clock = Stopwatch.StartNew();
            Heading("1. this machine");
            Console.WriteLine($"{InfoCommand.CpuName()}, {Environment.ProcessorCount} logical cores, {RuntimeInformation.FrameworkDescription}");
            Console.WriteLine($"vector features: {string.Join(' ', InfoCommand.IsaFeatures())}; LstmSimd runs the {KernelSelector.Resolve(KernelPath.Auto)} kernels");

            Heading("2. fast path against the double-precision reference (random models, every kernel path)");
            int violations = VerifyCommand.Check(parse.GetValue(seed), print: true);
            Console.WriteLine(violations == 0 ? "all paths within the bound" : $"{violations} violation(s)");

            Heading("3. speed: fast path against the reference (one thread, median of repeated calls)");
            Benchmark(parse.GetValue(seed));

            Heading("4. forecasting: monthly CO2 at Mauna Loa, train through 2010, test 2011–2020, 12 months ahead");
            TimeSeriesTable table = TimeSeriesTable.Load(BundledData.Co2);
            var settings = new ForecastSettings { TimeColumn = "Date", InputColumns = ["CO2"], TargetColumn = "CO2", Window = 24, Horizon = 12, TestFrom = "2011" };
            string checkpoint = Path.Combine(directory, "demo-forecaster.lstm"), plot = Path.Combine(directory, "demo-forecast.svg");
            int trained = TrainCommand.Train(table, settings, new ForecastTrainingOptions { HiddenSize = 32, MaxEpochs = 150, Patience = 30, Seed = parse.GetValue(seed) }, checkpoint, quietTable: true);
            if (trained != ToolExit.Ok) return trained;
            using LstmForecaster forecaster = LstmForecaster.Load(checkpoint);
            ForecastSeries series = ForecastSeries.From(table, settings);
            ForecastComparisonResult comparison = ForecastReport.Compare(forecaster, series);
            ForecastReport.PrintScores(forecaster, series, comparison);
            ForecastReport.Plot(forecaster, series, comparison, plot, "Mauna Loa CO2 (ppm): LSTM forecasts 12 months ahead");
            Console.WriteLine($"wrote {plot} (open it in a browser)");

            Heading("5. anomalies: months far from the forecaster's one-step prediction");
            DetectCommand.Report(forecaster, series, 4, csv: null, Path.Combine(directory, "demo-anomalies.svg"));

            Heading("6. text: a character-level language model on the bundled quotations, 25 seconds of training");
            string text = File.ReadAllText(BundledData.Quotes);
            int split = text.Length - text.Length / 20;
            using var ctrlC = new CtrlC();
            var textOptions = new CharTrainingOptions { TimeBudget = TimeSpan.FromSeconds(25), EvaluationInterval = TimeSpan.FromMinutes(10), Seed = parse.GetValue(seed) };
            CharLanguageModel lm = GenerateCommand.Train(BundledData.Quotes, text, split, textOptions, Path.Combine(directory, "demo-chars.lstm"), ctrlC);
            GenerateCommand.Report(lm, text, split);
            GenerateCommand.PrintSample(lm, "The ", 200, 0.7, parse.GetValue(seed));
            Console.WriteLine($"demo took {clock.Elapsed.TotalSeconds:F0} s; next: lstmsimd train --help, lstmsimd generate --help");
            return violations == 0 ? ToolExit.Ok : ToolExit.CheckFailed;
        }));
        return command;
    }

    private static void Heading(string text)
    {
        Console.WriteLine();
        AnsiConsole.Write(new Rule($"[bold]{Markup.Escape(text)}[/]").LeftJustified());
    }

    private static void Benchmark(int seed)
    {
        var table = new Table().Border(TableBorder.Rounded).AddColumn("workload (T×B)")
            .AddColumn(new TableColumn("fast").RightAligned()).AddColumn(new TableColumn("reference").RightAligned())
            .AddColumn(new TableColumn("speedup").RightAligned()).AddColumn(new TableColumn("GFLOP/s").RightAligned())
            .AddColumn(new TableColumn("int8 weights").RightAligned());
        foreach (Workload w in Workloads)
        {
            LstmWeights weights = LstmWeights.CreateRandom(new LstmSpec(w.Input, w.Hidden), seed);
            var random = new Random(seed);
            float[] input = [.. Enumerable.Range(0, Sizes.Elements("input T × B × I", w.Steps, w.Batch, w.Input)).Select(_ => (float)(random.NextDouble() * 2 - 1))];
            float[] output = new float[Sizes.Elements("output T × B × H", w.Steps, w.Batch, w.Hidden)];
            using LstmSession session = LstmModel.Create(weights).CreateSession(w.Batch, w.Steps);
            using LstmSession int8 = LstmModel.Create(weights, new LstmModelOptions { Weights = WeightFormat.Int8 }).CreateSession(w.Batch, w.Steps);

            // A single step is what streaming callers run, through Step; sequences go through Forward.
            double Time(LstmSession s) => w.Steps == 1
                ? MedianSeconds(() => s.Step(input, w.Batch, output), TimeSpan.FromMilliseconds(400))
                : MedianSeconds(() => s.Forward(input, w.Steps, w.Batch, output), TimeSpan.FromMilliseconds(400));
            double fast = Time(session), quantized = Time(int8);
            double reference = MedianSeconds(() => ReferenceLstm.Forward(weights, input, w.Steps, w.Batch), TimeSpan.FromMilliseconds(600));
            double flops = 2.0 * w.Batch * 4 * w.Hidden * (w.Input + w.Hidden) * w.Steps;
            table.AddRow($"{w.Name} ({w.Steps}×{w.Batch})", Format(fast), Format(reference),
                $"[bold]{reference / fast:F0}×[/]", (flops / fast / 1e9).ToString("F1", CultureInfo.InvariantCulture),
                $"{Format(quantized)} {(fast / quantized).ToString("F1", CultureInfo.InvariantCulture)}×");
        }

        AnsiConsole.Write(table);
        Console.WriteLine("Stopwatch medians on a shared machine; BenchmarkDotNet numbers: perf/LstmSimd.Benchmarks.");
        Console.WriteLine("inputs I = H; int8 weights: LstmModelOptions.Weights = Int8, time and speed-up over fp32 (accuracy: README).");
    }

    /// <summary>
    /// Median time of one call after a warm-up (a quarter of the budget, so tiered compilation has promoted the code);
    /// calls are grouped so each sample lasts at least 1 ms, and sampled until the budget is spent (at least 3 samples).
    /// </summary>
    private static double MedianSeconds(Action action, TimeSpan budget)
    {
        var watch = Stopwatch.StartNew();
        do action();
        while (watch.Elapsed < budget / 4);
        watch.Restart();
        action();
        int group = Math.Max(1, (int)(1e-3 / Math.Max(watch.Elapsed.TotalSeconds, 1e-9)));
        var samples = new List<double>();
        var total = Stopwatch.StartNew();
        while (samples.Count < 3 || (total.Elapsed < budget && samples.Count < 200))
        {
            watch.Restart();
            for (int i = 0; i < group; i++) action();
            samples.Add(watch.Elapsed.TotalSeconds / group);
        }

        samples.Sort();
        return samples[samples.Count / 2];
    }

    private static string Format(double seconds) => seconds switch
    {
        < 1e-3 => $"{seconds * 1e6:F1} µs",
        < 1 => $"{seconds * 1e3:F2} ms",
        _ => $"{seconds:F2} s",
    };
}
