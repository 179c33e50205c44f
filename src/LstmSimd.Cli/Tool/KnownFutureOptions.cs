using System.CommandLine;
using LstmSimd.Forecasting;
using LstmSimd.IO;

namespace LstmSimd.Cli.Tool;

/// <summary>The <c>--calendar</c> and <c>--covariates</c> options of train and backtest: what the LSTM reads besides the series' past.</summary>
internal sealed class KnownFutureOptions
{
    private KnownFutureOptions(Option<bool> calendar, Option<string[]> covariates)
    {
        Calendar = calendar;
        Covariates = covariates;
    }

    public Option<bool> Calendar { get; }

    public Option<string[]> Covariates { get; }

    public static KnownFutureOptions Create() => new(
        new Option<bool>("--calendar") { Description = "Feed the LSTM calendar inputs at every step, the horizon's included: for daily rows the day of the week (one-hot), the day of the year (sin, cos) and US federal holidays (observed days); hourly rows add the hour, weekly rows have the position in the year and the holidays in the week, monthly and quarterly rows the month." },
        new Option<string[]>("--covariates") { Description = "Known-future covariates, comma-separated: columns whose values at every step, the forecast's horizon included, are known when forecasting (schedules, planned prices, weather forecasts); fed to the LSTM at each step, standardised on the training rows, missing values filled as --max-gap says.", AllowMultipleArgumentsPerToken = true });

    /// <summary>The settings with the options' covariates and calendar inputs (those that suit <paramref name="frequency"/>); prints what the LSTM will read.</summary>
    /// <exception cref="ArgumentException">--calendar on rows that are not dates of a calendar frequency.</exception>
    public ForecastSettings Apply(ParseResult parse, ForecastSettings settings, TimeFrequency frequency)
    {
        string[] covariates = [.. (parse.GetValue(Covariates) ?? []).SelectMany(c => c.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))];
        CalendarFeatures calendar = CalendarFeatures.None;
        if (parse.GetValue(Calendar))
        {
            calendar = CalendarEncoding.For(frequency);
            if (calendar == CalendarFeatures.None)
                throw new ArgumentException($"--calendar: the rows are {frequency.Name}; calendar inputs are derived for hourly, daily, weekly, monthly and quarterly dates.");
        }

        if (covariates.Length > 0 || calendar != CalendarFeatures.None)
            Console.WriteLine($"known-future inputs at every step of the window and the horizon: {(covariates.Length == 0 ? "no covariates" : $"covariates {string.Join(", ", covariates.Select(c => UserText.Quote(c)))} (standardised on the training rows)")}; calendar: {CalendarEncoding.Describe(calendar)}");
        return settings with { Covariates = covariates, Calendar = calendar };
    }
}
