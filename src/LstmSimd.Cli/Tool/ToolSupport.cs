using System.Text.Json;
using LstmSimd.Forecasting;
using LstmSimd.IO;

namespace LstmSimd.Cli.Tool;

/// <summary>The data files shipped beside the tool (data/README.md gives their provenance).</summary>
internal static class BundledData
{
    public static string Co2 => Path.Combine(AppContext.BaseDirectory, "data", "co2-concentration.csv");

    public static string Quotes => Path.Combine(AppContext.BaseDirectory, "data", "quotes.txt");
}

/// <summary>Exit codes and the one-line report of bad input.</summary>
internal static class ToolExit
{
    public const int Ok = 0, CheckFailed = 1, BadInput = 2, Interrupted = 130;

    /// <summary>Runs a command body; bad input becomes one line on stderr and exit code 2, never a stack trace.</summary>
    public static int Run(string command, Func<int> body)
    {
        // Plain text when piped or logged, as ls and git do; NO_COLOR is honoured by Spectre itself.
        if (Console.IsOutputRedirected) Spectre.Console.AnsiConsole.Profile.Capabilities.Ansi = false;
        try
        {
            return body();
        }
        catch (Exception e) when (IsBadInput(e))
        {
            Console.Error.WriteLine($"lstmsimd {command}: {e.Message}");
            return BadInput;
        }
    }

    /// <summary>
    /// Exceptions that mean "bad input", reported as one line and exit code 2; anything else is a bug and propagates.
    /// Overflow, running out of memory and of stack count too: a file or an option can ask for sizes or nesting that no
    /// machine holds, and the answer is a refusal, not a stack trace.
    /// </summary>
    public static bool IsBadInput(Exception e) =>
        e is ModelFormatException or IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException
            or TimeSeriesFormatException or JsonException or FormatException
            or OverflowException or OutOfMemoryException or InsufficientExecutionStackException;
}

/// <summary>Turns Ctrl+C (SIGINT) into a cancellation the training loop checks between steps, so it stops cleanly.</summary>
internal sealed class CtrlC : IDisposable
{
    private readonly CancellationTokenSource _source = new();

    public CtrlC() => Console.CancelKeyPress += OnCancel;

    public CancellationToken Token => _source.Token;

    public bool Pressed => _source.IsCancellationRequested;

    public void Dispose()
    {
        Console.CancelKeyPress -= OnCancel;
        _source.Dispose();
    }

    private void OnCancel(object? sender, ConsoleCancelEventArgs e)
    {
        e.Cancel = true;
        _source.Cancel();
    }
}
