using System.CommandLine;
using System.CommandLine.Help;
using LstmSimd.Cli.Commands;

// Each command lives in Commands/ and builds its own System.CommandLine definition;
// exit codes: 0 success, 1 a check failed (verify, experiment), 2 bad input or usage.
// A plain command named as the installed tool, not a RootCommand: that one takes its name (shown in help) from the
// assembly, LstmSimd.Cli, whatever the user typed.
var root = new Command("lstmsimd", "Fast, allocation-free LSTM inference and training on SIMD kernels, checked against a double-precision reference.")
{
    new HelpOption(),
    new VersionOption(),
    InfoCommand.Create(),
    VerifyCommand.Create(),
    RunCommand.Create(),
    ExportCommand.Create(),
    InspectCommand.Create(),
    ExperimentCommand.Create(),
    BenchCommand.Create(),
    DemoCommand.Create(),
    TrainCommand.Create(),
    ForecastCommand.Create(),
    BacktestCommand.Create(),
    DetectCommand.Create(),
    GenerateCommand.Create(),
    TranslateCommand.Create(),
    ClassifyCommand.Create(),
    ServeCommand.Create(),
};
ParseResult parsed = root.Parse(args);
int exitCode = parsed.Invoke();
return parsed.Errors.Count > 0 ? 2 : exitCode;
