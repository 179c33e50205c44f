using Spectre.Console;

namespace LstmSimd.Cli.Tool;

/// <summary>
/// Training progress: a live bar with the status (loss) and time left on a terminal; on a pipe or file, one line
/// per tenth of the run with elapsed time and time left (no cursor tricks in logs).
/// </summary>
internal static class TrainingDisplay
{
    /// <summary>
    /// Runs <paramref name="body"/>, which reports (fraction done in [0, 1], a short status such as the loss).
    /// <paramref name="mayStopEarly"/> marks the time left as an upper bound.
    /// </summary>
    public static T Run<T>(string label, bool mayStopEarly, Func<Action<double, string>, T> body)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        if (AnsiConsole.Profile.Capabilities.Interactive && !Console.IsOutputRedirected)
        {
            T result = default!;
            AnsiConsole.Progress()
                .AutoClear(false)
                .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn { Width = 20 }, new PercentageColumn(), new RemainingTimeColumn())
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
            TimeSpan elapsed = clock.Elapsed, left = fraction > 0 ? elapsed * ((1 - Math.Min(fraction, 1)) / fraction) : TimeSpan.Zero;
            last = $"{status} elapsed {Clock(elapsed)} left {(mayStopEarly ? "≤" : "")}{Clock(left)}";
            status = last;
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
