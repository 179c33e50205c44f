using System.CommandLine;
using LstmSimd.Cli.Commands;

// Each command lives in Commands/ and builds its own System.CommandLine definition;
// exit codes: 0 success, 1 a check failed (verify, experiment), 2 bad input or usage.
var root = new RootCommand("lstmsimd: fast, allocation-free LSTM inference and training on SIMD kernels, checked against a double-precision reference.")
{
    InfoCommand.Create(),
    VerifyCommand.Create(),
    RunCommand.Create(),
    InspectCommand.Create(),
    ExperimentCommand.Create(),
    BenchCommand.Create(),
    DemoCommand.Create(),
    TrainCommand.Create(),
    ForecastCommand.Create(),
    DetectCommand.Create(),
    GenerateCommand.Create(),
};
ParseResult parsed = root.Parse(args);
int exitCode = parsed.Invoke();
return parsed.Errors.Count > 0 ? 2 : exitCode;
