using System.Globalization;
using System.Text;
using LstmSimd.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>lstmsimd backtest and --refit-lstm as users run them, and long-format CSV files.</summary>
public sealed class BacktestCliTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-backtest-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => ToolCli.Run(_dir, args);

    /// <summary>Two monthly series, a and b, their rows interleaved: store, month, sales.</summary>
    private string LongCsv(int months = 120, string? extraLine = null)
    {
        var text = new StringBuilder("store,month,sales\n");
        for (int m = 0; m < months; m++)
        {
            string month = $"{2000 + m / 12:D4}-{m % 12 + 1:D2}-01";
            text.Append(CultureInfo.InvariantCulture, $"a,{month},{100 + 0.2 * m + 3 * Math.Sin(2 * Math.PI * m / 12):R}\n");
            text.Append(CultureInfo.InvariantCulture, $"b,{month},{5000 - 4 * m + 80 * Math.Cos(2 * Math.PI * m / 12):R}\n");
        }

        if (extraLine is not null) text.Append(extraLine).Append('\n');
        string path = Path.Combine(_dir, "long.csv");
        File.WriteAllText(path, text.ToString());
        return path;
    }

    [Fact]
    public void A_long_format_file_becomes_one_table_per_series_in_the_order_they_first_appear()
    {
        IReadOnlyList<KeyValuePair<string, TimeSeriesTable>> tables = TimeSeriesTable.LoadLong(LongCsv(24), "store");
        Assert.Equal(["a", "b"], tables.Select(t => t.Key));
        Assert.Equal("month", tables[1].Value.TimeColumn);
        Assert.Equal("2000-01-01", tables[1].Value.Times[0]);
        Assert.Equal(24, tables[1].Value.RowCount);
        Assert.Equal(5000 + 80, tables[1].Value.GetColumn("sales")[0], 1e-12);
    }

    [Fact]
    public void A_repeated_time_within_one_series_of_a_long_file_is_refused_with_the_files_line()
    {
        string path = LongCsv(24, "a,2001-12-01,7");
        var e = Assert.Throws<TimeSeriesFormatException>(() => TimeSeriesTable.LoadLong(path, "store"));
        Assert.Contains("store 'a'", e.Message, StringComparison.Ordinal);
        Assert.Contains("line 50", e.Message, StringComparison.Ordinal);
        Assert.Contains("no column 'shop'", Assert.Throws<TimeSeriesFormatException>(() => TimeSeriesTable.LoadLong(path, "shop")).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Backtest_trains_every_kind_of_lstm_on_a_long_file_and_judges_each_on_each_series()
    {
        var (code, stdout, stderr) = Cli("backtest", "--data", LongCsv(), "--long", "store", "--test-from", "2008", "--window", "12", "--horizon", "6",
            "--hidden", "4", "--epochs", "2", "--refit-lstm", "1");
        Assert.True(code == 0, stderr);
        Assert.Contains("2 series ('a', 'b')", stdout, StringComparison.Ordinal);
        foreach (string series in new[] { "== 'a'", "== 'b'" }) Assert.Contains(series, stdout, StringComparison.Ordinal);
        foreach (string method in new[] { "LSTM:", "LSTM, refitted:", "global LSTM:", "ES-RNN hybrid:", "ES-RNN hybrid, multiplicative:", "ETS + LSTM correction:" })
            Assert.Equal(2, stdout.Split('\n').Count(line => line.StartsWith(method, StringComparison.Ordinal)));
        Assert.Equal(2, stdout.Split('\n').Count(line => line.StartsWith("lowest validation MAE of the LSTM-based methods (chosen before the test", StringComparison.Ordinal)));
        Assert.Contains("lowest test MASE of the LSTM-based methods (picked on the test split)", stdout, StringComparison.Ordinal);
        Assert.Contains("alone (no correction, never refitted) it scores test MASE", stdout, StringComparison.Ordinal);
        Assert.Contains("the LSTM warm-started for 1 epoch each time", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void A_saved_model_over_many_series_forecasts_and_detects_and_serve_refuses_it_naming_why()
    {
        string data = LongCsv();
        var (code, stdout, stderr) = Cli("backtest", "--data", data, "--long", "store", "--test-from", "2008", "--window", "12", "--horizon", "6",
            "--hidden", "4", "--epochs", "2", "--methods", "ets-lstm", "--seeds", "2");
        Assert.True(code == 0, stderr);
        Assert.Contains("seed 1 … 2, each method the median of its 2 seeds' forecasts", stdout, StringComparison.Ordinal);
        (code, _, stderr) = Cli("backtest", "--data", data, "--long", "store", "--test-from", "2008", "--window", "12", "--horizon", "6",
            "--hidden", "4", "--epochs", "2", "--methods", "hybrid", "--refit-all", "--save", "stores.lstm");
        Assert.True(code == 0, stderr);
        (code, stdout, stderr) = Cli("forecast", "-m", "stores.lstm", "-o", "stores.csv");
        Assert.True(code == 0, stderr);
        Assert.Contains("stores.lstm: ES-RNN hybrid over 2 series ('a', 'b')", stdout, StringComparison.Ordinal);
        foreach (string series in new[] { "== 'a'", "== 'b'", "next 6 of 'a' after 2009-12-01", "next 6 of 'b' after 2009-12-01" }) Assert.Contains(series, stdout, StringComparison.Ordinal);
        string[] csv = File.ReadAllLines(Path.Combine(_dir, "stores.csv"));
        Assert.Equal(["series,origin,step,forecast,lower 80%,upper 80%", .. Enumerable.Range(1, 6).Select(h => $"a,2009-12-01,{h},"), .. Enumerable.Range(1, 6).Select(h => $"b,2009-12-01,{h},")],
            csv.Select(l => l.StartsWith("series", StringComparison.Ordinal) ? l : l[..(l.IndexOf(',', l.IndexOf(',', l.IndexOf(',') + 1) + 1) + 1)]));
        (code, stdout, stderr) = Cli("detect", "-m", "stores.lstm", "--series", "b");
        Assert.True(code == 0, stderr);
        Assert.Contains("scoring 'b'", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "anomalies.csv")));
        ToolCommandTests.AssertOneLineOfBadInput(Cli("detect", "-m", "stores.lstm", "--series", "c"), "--series: no series 'c'");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("forecast", "-m", "stores.lstm", "--refit-lstm", "2"), "--refit-lstm refits a single-series LSTM");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("serve", "--model", "stores.lstm"), "serve streams single-series forecasters only");
        File.WriteAllBytes(Path.Combine(_dir, "cut.lstm"), File.ReadAllBytes(Path.Combine(_dir, "stores.lstm"))[..^9]);
        ToolCommandTests.AssertOneLineOfBadInput(Cli("forecast", "-m", "cut.lstm"), "cut.lstm");
    }

    [Fact]
    public void Backtest_and_refit_options_that_cannot_work_are_refused_in_one_line()
    {
        string path = LongCsv(60);
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--methods", "arima"), "--methods: unknown method 'arima'");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--methods", "global"), "--methods global needs two series or more");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--methods", "hybrid", "--refit-lstm", "2"), "add lstm to --methods");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--data", path, "--long", "shop"), "no column 'shop'");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--data", path, "--long", "store", "--targets", "a,b"), "the one value column; got 2");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--seeds", "2", "--refit-lstm", "2"), "give --seeds 1 with it");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--methods", "hybrid,ets-lstm", "--save", "x.lstm"), "--save saves one model");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("backtest", "--data", LongCsv(120, "a,2010-01-01,0"), "--long", "store", "--test-from", "2008", "--window", "12", "--horizon", "6", "--methods", "hybrid-mult"), "'a' is 0 at 2010-01-01; the multiplicative hybrid");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("train", "--refit-lstm", "0"), "--refit-lstm must be at least 1 epoch; got 0");
        ToolCommandTests.AssertOneLineOfBadInput(Cli("forecast", "--refit-lstm", "0"), "--refit-lstm must be at least 1 epoch; got 0");
    }
}
