using System.Globalization;
using System.Text;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>train, forecast and backtest with --calendar and --covariates, as users run them.</summary>
public sealed class KnownFutureCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-covariates-cli-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => ToolCli.Run(_dir, args);

    /// <summary>Two daily stores with a shared promotion flag; <paramref name="withPromo"/> false leaves the promo column out.</summary>
    private string DailyCsv(string name, bool withPromo = true)
    {
        var random = new Random(5);
        var text = new StringBuilder(withPromo ? "date,north,south,promo\n" : "date,north,south\n");
        for (int d = 0; d < 300; d++)
        {
            int promo = random.Next(2);
            string date = new DateTime(2013, 1, 1).AddDays(d).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture);
            text.Append(CultureInfo.InvariantCulture, $"{date},{20 + 4 * promo + (d % 7 == 0 ? 3 : 0)},{200 + 30 * promo}");
            text.Append(withPromo ? $",{promo}\n" : "\n");
        }

        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text.ToString());
        return path;
    }

    [Fact]
    public void A_forecaster_trained_with_a_covariate_and_the_calendar_forecasts_the_test_and_refuses_data_without_the_covariate()
    {
        string data = DailyCsv("stores.csv");
        var (code, stdout, stderr) = Cli("train", "--data", data, "--target", "north", "--covariates", "promo", "--calendar", "--window", "14", "--horizon", "3",
            "--hidden", "4", "--epochs", "2", "-o", "model.lstm");
        Assert.True(code == 0, stderr);
        Assert.Contains("covariates 'promo' (standardised on the training rows); calendar: day of week (one-hot), day of year (sin, cos), US federal holidays observed", stdout, StringComparison.Ordinal);
        (code, stdout, stderr) = Cli("forecast", "-m", "model.lstm");
        Assert.True(code == 0, stderr);
        Assert.Contains("no forecast past 2013-10-27: the LSTM reads the known-future covariates 'promo'", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "forecast.csv")));

        (code, _, stderr) = Cli("forecast", "-m", "model.lstm", "--data", DailyCsv("without-promo.csv", withPromo: false));
        Assert.Equal(2, code);
        Assert.Contains("no column 'promo', a known-future covariate the forecaster reads", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void Backtest_feeds_the_calendar_and_covariates_to_every_kind_of_lstm()
    {
        var (code, stdout, stderr) = Cli("backtest", "--data", DailyCsv("stores.csv"), "--targets", "north,south", "--covariates", "promo", "--calendar",
            "--window", "14", "--horizon", "3", "--hidden", "4", "--epochs", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("model: LSTM 13→4 over the window and the horizon", stdout, StringComparison.Ordinal);
        foreach (string method in new[] { "LSTM:", "global LSTM:", "ES-RNN hybrid:", "ES-RNN hybrid, multiplicative:", "ETS + LSTM correction:" })
            Assert.Equal(2, stdout.Split('\n').Count(line => line.StartsWith(method, StringComparison.Ordinal)));
    }

    [Fact]
    public void Calendar_inputs_on_yearly_rows_and_a_covariate_that_is_the_target_are_refused()
    {
        string years = Path.Combine(_dir, "years.csv");
        File.WriteAllText(years, "year,value\n" + string.Join('\n', Enumerable.Range(1900, 80).Select(y => $"{y},{y % 7}")));
        var (code, _, stderr) = Cli("backtest", "--data", years, "--calendar", "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("--calendar: the rows are yearly", stderr, StringComparison.Ordinal);
        (code, _, stderr) = Cli("backtest", "--data", DailyCsv("stores.csv"), "--targets", "north", "--covariates", "north", "--epochs", "1");
        Assert.Equal(2, code);
        Assert.Contains("The covariate 'north' is the target column", stderr, StringComparison.Ordinal);
    }
}
