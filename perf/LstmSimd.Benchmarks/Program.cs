using BenchmarkDotNet.Reports;
using BenchmarkDotNet.Running;
using LstmSimd.Benchmarks.Infrastructure;

// usage: dotnet run -c Release --project perf/LstmSimd.Benchmarks -- [--smoke | --isa] [BenchmarkDotNet arguments, e.g. --filter '*Workload*']
//   --smoke  every benchmark once, in-process, in seconds (CI); --isa  one job per ISA setting; default: native ISA only.
var mode = BenchMode.Default;
var rest = new List<string>();
foreach (string arg in args)
{
    if (arg == "--smoke") mode = BenchMode.Smoke;
    else if (arg == "--isa") mode = BenchMode.Isa;
    else rest.Add(arg);
}

if (mode == BenchMode.Smoke && !rest.Contains("--filter")) rest.AddRange(["--filter", "*"]);
BenchConfigs.Mode = mode;
IEnumerable<Summary> summaries = BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run([.. rest], BenchConfigs.Create(mode));
bool failed = summaries.Any(s => s.HasCriticalValidationErrors || s.Reports.Any(r => !r.Success) || s.Reports.Length < s.BenchmarksCases.Length);
return failed ? 1 : 0;
