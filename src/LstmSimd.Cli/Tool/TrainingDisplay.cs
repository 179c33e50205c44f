using Spectre.Console;

namespace LstmSimd.Cli.Tool;

/// <summary>
/// Training progress: a live bar with loss, elapsed and time left on a terminal; on a pipe or file, one line
/// per tenth of the run (no cursor tricks in logs).
/// </summary>
internal static class TrainingDisplay
{
    /// <summary>Runs <paramref name="body"/>, which reports (fraction done in [0, 1], status text).</summary>
    public static T Run<T>(string label, Func<Action<double, string>, T> body)
    {
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            T result = default!;
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
                .Start(context =>
                {
                    ProgressTask task = context.AddTask(Markup.Escape(label), maxValue: 1000);
                    result = body((fraction, status) =>
                    {
                        task.Value = Math.Clamp(fraction, 0, 1) * 1000;
                        task.Description = Markup.Escape($"{label} {status}");
                    });
                    task.StopTask();
                });
            return result;
        }

        int printed = 0;
        string last = "";
        T value = body((fraction, status) =>
        {
            last = status;
            int tenth = (int)(Math.Clamp(fraction, 0, 1) * 10);
            if (tenth <= printed) return;
            printed = tenth;
            Console.WriteLine($"{label} {status}");
        });
        if (printed < 10 && last.Length > 0) Console.WriteLine($"{label} {last}");
        return value;
    }

    public static string Clock(TimeSpan t) => t.TotalHours >= 1 ? t.ToString(@"h\:mm\:ss", System.Globalization.CultureInfo.InvariantCulture) : t.ToString(@"m\:ss", System.Globalization.CultureInfo.InvariantCulture);
}
