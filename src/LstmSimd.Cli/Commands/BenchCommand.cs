using System.CommandLine;
using System.Globalization;
using LstmSimd.Benchmarking;
using LstmSimd.Cli.Tool;
using LstmSimd.Kernels;
using LstmSimd.IO;

namespace LstmSimd.Cli.Commands;

internal static class BenchCommand
{
    public static Command Create()
    {
        var workloads = new Option<string[]>("--workload", "-w")
        {
            Description = $"A standard workload to run (repeatable; default: all). One of: {string.Join(", ", StandardWorkload.All.Select(w => w.Name))}.",
            AllowMultipleArgumentsPerToken = false,
        };
        var threads = new Option<int>("--threads", "-t")
        {
            Description = "Threads each session computes with (LstmModelOptions.Threads, 1 to 64).",
            DefaultValueFactory = _ => 1,
        };
        var seconds = new Option<double>("--seconds")
        {
            Description = "Wall time per workload, warm-up included.",
            DefaultValueFactory = _ => 2.0,
        };
        var kernel = new Option<KernelPath>("--kernel")
        {
            Description = "Kernel width (default: auto, the widest the CPU accelerates, or LSTMSIMD_KERNEL).",
            DefaultValueFactory = _ => KernelPath.Auto,
        };
        Option<string> weights = WeightsOption.Create("How the inference models store their weight matrices (training workloads always train in fp32)");
        var json = new Option<bool>("--json") { Description = "Print a JSON array instead of the table." };
        var clock = new Option<string>("--clock")
        {
            Description = "What the times count: wall (elapsed time, the default) or cpu (this thread's CPU time, Linux, one thread: "
                + "on a machine shared with other work it stays near the quiet machine's time, where wall time grows with every time slice given away).",
            DefaultValueFactory = _ => "wall",
        };
        var roofline = new Option<bool>("--roofline")
        {
            Description = "Also measure this core's read bandwidth by buffer size (a few seconds) and show each workload's floor: "
                + "the time at the FMA peak and the bandwidth its weights stream at (fp32 weights only).",
        };

        var command = new Command("bench", "Time the standard workloads on the fast path: µs per call and per step, GFLOP/s, bytes allocated per call. Training workloads (train-*) time one whole training step: forward, backward and update.")
        {
            workloads, threads, seconds, kernel, weights, json, roofline, clock,
        };
        command.SetAction(parse => ToolExit.Run("bench", () =>
        {
            string[] names = parse.GetValue(workloads) ?? [];
            var selected = new List<StandardWorkload>();
            foreach (string name in names)
            {
                if (!StandardWorkload.TryGet(name, out StandardWorkload? workload))
                    throw new ArgumentException($"unknown workload {UserText.Quote(name)}; the standard workloads are {string.Join(", ", StandardWorkload.All.Select(w => w.Name))}.");
                selected.Add(workload);
            }

            if (selected.Count == 0) selected.AddRange(StandardWorkload.All);
            int threadCount = parse.GetValue(threads);
            if (threadCount is < 1 or > 64) throw new ArgumentException($"--threads {threadCount}: must be in [1, 64].");
            double budget = parse.GetValue(seconds);
            if (!(budget > 0) || double.IsInfinity(budget)) throw new ArgumentException("--seconds must be a positive number.");

            WeightFormat format = WeightsOption.Parse(parse.GetValue(weights));
            CallClock timeBy = parse.GetValue(clock) switch
            {
                "wall" => CallClock.Wall,
                "cpu" when !OperatingSystem.IsLinux() => throw new ArgumentException("--clock cpu reads the thread's CPU time on Linux only."),
                "cpu" when threadCount > 1 => throw new ArgumentException($"--clock cpu counts the calling thread only; with --threads {threadCount} the workers' time would be missed."),
                "cpu" => CallClock.ThreadCpu,
                var other => throw new ArgumentException($"--clock {UserText.Quote(other ?? "")}: wall or cpu."),
            };

            var options = new LstmModelOptions { Kernel = parse.GetValue(kernel), Threads = threadCount, Weights = format };
            bool asJson = parse.GetValue(json), withFloors = parse.GetValue(roofline);
            if (withFloors && format != WeightFormat.Float32)
                throw new ArgumentException($"--roofline models fp32 weights; drop it or --weights {WeightsOption.NameOf(format)}.");

            KernelPath path = KernelSelector.Resolve(options.Kernel);
            if (!asJson)
            {
                Console.WriteLine($"LstmSimd bench · {System.Runtime.InteropServices.RuntimeInformation.FrameworkDescription} · {Environment.ProcessorCount} logical cores · "
                    + $"{path.ToString().ToLowerInvariant()} FMA peak {FmaPeak.For(path).ToString("F0", CultureInfo.InvariantCulture)} GFLOP/s per core (measured; {FmaPeak.EnvironmentVariable} sets it) · weights {WeightsOption.NameOf(format)}"
                    + (timeBy == CallClock.ThreadCpu ? " · times are this thread's CPU time" : ""));
            }

            Roofline? limits = withFloors ? Roofline.Measure(path) : null;
            if (limits is not null && !asJson)
            {
                Console.WriteLine("read bandwidth, one core: " + string.Join(" · ", limits.Bandwidth.Select(b =>
                    $"{BenchmarkReport.Size(b.Bytes)} {b.GBs.ToString("F0", CultureInfo.InvariantCulture)} GB/s")));
            }

            var results = new List<WorkloadResult>(selected.Count);
            foreach (StandardWorkload workload in selected)
            {
                WorkloadResult result = WorkloadBench.Run(workload, options, TimeSpan.FromSeconds(budget), timeBy);
                results.Add(limits is null ? result : result with { Floor = limits.Floor(workload, result.Threads) });
            }

            if (asJson)
            {
                using Stream stdout = Console.OpenStandardOutput();
                BenchmarkReport.WriteJson(stdout, results);
                stdout.Write("\n"u8);
            }
            else
            {
                BenchmarkReport.WriteTable(Console.Out, results);
            }

            return 0;
        }));
        return command;
    }
}
