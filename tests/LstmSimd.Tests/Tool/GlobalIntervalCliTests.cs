using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using LstmSimd.Forecasting;
using LstmSimd.IO;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>Prediction intervals and plots of models over many series, as backtest and forecast -m give them.</summary>
public sealed class GlobalIntervalCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-global-intervals-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => ToolCli.Run(_dir, args);

    /// <summary>Two monthly series side by side, north and south.</summary>
    private string WideCsv()
    {
        var text = new StringBuilder("month,north,south\n");
        for (int m = 0; m < 120; m++)
            text.Append(CultureInfo.InvariantCulture, $"{2000 + m / 12:D4}-{m % 12 + 1:D2}-01,{50 + 0.1 * m + 4 * Math.Sin(2 * Math.PI * m / 12) + Math.Sin(m * 1.7):R},{900 - m + 30 * Math.Cos(2 * Math.PI * m / 12) + 5 * Math.Sin(m * 0.9):R}\n");
        string path = Path.Combine(_dir, "wide.csv");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    private string[] Backtest(params string[] more) =>
        ["backtest", "--data", WideCsv(), "--targets", "north,south", "--test-from", "2008", "--window", "12", "--horizon", "6", "--hidden", "4", "--epochs", "2", .. more];

    [Fact]
    public void Backtest_measures_each_methods_intervals_on_each_series_and_says_whether_they_meet_the_target()
    {
        var (code, stdout, stderr) = Cli(Backtest("--methods", "global,ets-lstm"));
        Assert.True(code == 0, stderr);
        Assert.Equal(2, stdout.Split('\n').Count(l => l.StartsWith("80 % prediction intervals, split conformal per step ahead, on the 19 test origins", StringComparison.Ordinal)));
        foreach (string method in new[] { "global LSTM", "ETS + LSTM correction" })
        {
            string[] verdicts = [.. stdout.Split('\n').Where(l => l.StartsWith($"intervals of {method}: calibrated once ", StringComparison.Ordinal))];
            Assert.Equal(2, verdicts.Length);
            Assert.All(verdicts, v => Assert.True(v.Contains("(meets the target)", StringComparison.Ordinal) || v.Contains("(misses the target: ", StringComparison.Ordinal), v));
        }

        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--level", "1.2"), "--level must be between 0 and 1; got 1.2.");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--adapt", "-0.1"), "--adapt must be between 0 and 1; got -0.1.");
    }

    [Fact]
    public void A_saved_model_forecasts_each_series_with_its_saved_intervals_and_plots_the_chosen_one()
    {
        var (code, stdout, stderr) = Cli(Backtest("--methods", "hybrid", "--save", "stations.lstm"));
        Assert.True(code == 0, stderr);
        Assert.Contains("stations.lstm, with each series' 80 % prediction intervals", stdout, StringComparison.Ordinal);
        string backtestVerdict = stdout.Split('\n').First(l => l.StartsWith("intervals of ES-RNN hybrid: calibrated once", StringComparison.Ordinal));

        (code, stdout, stderr) = Cli("forecast", "-m", "stations.lstm", "--series", "south", "-o", "stations.csv", "--plot", "south.png");
        Assert.True(code == 0, stderr);
        // Without --refit-all the saved forecaster is the one calibrated, so its saved intervals cover the test values as in the backtest.
        string once = backtestVerdict[..backtestVerdict.IndexOf(';', StringComparison.Ordinal)];
        Assert.Contains(once, stdout.Split('\n').First(l => l.StartsWith("intervals of ES-RNN hybrid:", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("next 6 of 'south' after 2009-12-01 (80 % intervals, rolling): ", stdout, StringComparison.Ordinal);
        Assert.Contains("(series 'south')", stdout, StringComparison.Ordinal);
        string[] csv = File.ReadAllLines(Path.Combine(_dir, "stations.csv"));
        Assert.Equal("series,origin,step,forecast,lower 80%,upper 80%", csv[0]);
        Assert.Equal(12, csv.Length - 1);
        foreach (string line in csv[1..])
        {
            double[] cells = [.. line.Split(',')[3..].Select(c => double.Parse(c, CultureInfo.InvariantCulture))];
            Assert.True(cells[1] <= cells[2], line);
        }

        byte[] png = File.ReadAllBytes(Path.Combine(_dir, "south.png"));
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G'], png[..4]);

        (code, _, stderr) = Cli("forecast", "-m", "stations.lstm", "-o", "north.csv", "--plot", "north.svg");
        Assert.True(code == 0, stderr);
        string svg = File.ReadAllText(Path.Combine(_dir, "north.svg"));
        Assert.Contains("north: ES-RNN hybrid forecasts 6 steps ahead", svg, StringComparison.Ordinal);
        Assert.Contains("80 % interval past the data", svg, StringComparison.Ordinal);
        // One band per forecast drawn: from test origins 0, 6, 12 and 18 of the 19 (a gap between blocks), and past the data.
        Assert.Equal(5, Regex.Matches(svg, "<path d=\"M[^\"]*Z\" fill=\"#[0-9a-f]{6}\" fill-opacity=\"0.3\"").Count);

        (code, stdout, _) = Cli("forecast", "-m", "stations.lstm", "--level", "0.9", "-o", "ninety.csv", "--plot", "ninety.svg");
        Assert.Equal(0, code);
        Assert.Contains("note: stations.lstm keeps 80 % intervals; the 90 % ones asked for are calibrated on the saved forecaster's validation forecasts", stdout, StringComparison.Ordinal);
        Assert.StartsWith("series,origin,step,forecast,lower 90%,upper 90%", File.ReadAllText(Path.Combine(_dir, "ninety.csv")), StringComparison.Ordinal);
        ToolCommandTests.AssertOneLineOfBadInput(Cli("forecast", "-m", "stations.lstm", "--series", "east"), "--series: no series 'east'; the model forecasts 'north', 'south'.");
    }

    [Fact]
    public void A_model_saved_before_intervals_were_kept_still_forecasts_with_intervals_calibrated_on_reading()
    {
        var (code, _, stderr) = Cli(Backtest("--methods", "ets-lstm", "--save", "old.lstm"));
        Assert.True(code == 0, stderr);
        string path = Path.Combine(_dir, "old.lstm");
        (ImportedLstm model, string json) = LstmModelFile.Load(path, GlobalForecasterCheckpoint.MetadataKey, "global forecaster");
        string old = json.Replace("\"version\":2,", "", StringComparison.Ordinal);
        while (old.IndexOf(",\"intervals\":", StringComparison.Ordinal) is int start and >= 0) old = old.Remove(start, old.IndexOf('}', start) + 1 - start);
        LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, old);

        (code, string stdout, stderr) = Cli("forecast", "-m", "old.lstm", "-o", "old.csv", "--plot", "old.svg");
        Assert.True(code == 0, stderr);
        Assert.Contains("note: old.lstm keeps no prediction intervals (saved before they were kept, format version 1)", stdout, StringComparison.Ordinal);
        Assert.Contains("intervals of ETS + LSTM correction: calibrated once ", stdout, StringComparison.Ordinal);

        LstmModelFile.Save(path, model.Weights, model.Head!, GlobalForecasterCheckpoint.MetadataKey, json.Replace("\"version\":2", "\"version\":7", StringComparison.Ordinal));
        ToolCommandTests.AssertOneLineOfBadInput(Cli("forecast", "-m", "old.lstm"), "it is format version 7; this build reads versions 1 to 2");
    }
}
