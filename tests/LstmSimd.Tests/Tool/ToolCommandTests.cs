using System.Diagnostics;
using System.Text;
using LstmSimd.Forecasting;
using LstmSimd.Tests.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>train, forecast, detect, generate and demo as users run them: exit codes, messages, files.</summary>
public sealed class ToolCommandTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-tool-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (int Code, string Out, string Err) Cli(params string[] args) => ToolCli.Run(_dir, args);

    private string Write(string name, string text)
    {
        string path = Path.Combine(_dir, name);
        File.WriteAllText(path, text);
        return path;
    }

    /// <summary>Exit code 2 and one line on stderr holding <paramref name="expected"/>, no stack trace.</summary>
    internal static void AssertOneLineOfBadInput((int Code, string Out, string Err) result, string expected)
    {
        Assert.Equal(2, result.Code);
        Assert.Contains(expected, result.Err, StringComparison.Ordinal);
        Assert.Single(result.Err.TrimEnd().Split('\n'));
        Assert.DoesNotContain("   at ", result.Err, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("demo")]
    [InlineData("train")]
    [InlineData("forecast")]
    [InlineData("backtest")]
    [InlineData("detect")]
    [InlineData("generate")]
    [InlineData("translate")]
    [InlineData("bench")]
    [InlineData("serve")]
    public void Every_command_has_help_under_the_tool_name(string command)
    {
        var (code, stdout, _) = Cli(command, "--help");
        Assert.Equal(0, code);
        Assert.Contains("Usage:", stdout, StringComparison.Ordinal);
        Assert.Contains($"lstmsimd {command}", stdout, StringComparison.Ordinal);
        Assert.Contains("Options:", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void The_top_level_help_names_the_tool_and_lists_the_commands_and_version_works()
    {
        var (code, stdout, _) = Cli("--help");
        Assert.Equal(0, code);
        Assert.Contains("lstmsimd [command] [options]", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("LstmSimd.Cli", stdout, StringComparison.Ordinal);
        Assert.Contains("bench", stdout, StringComparison.Ordinal);
        var (versionCode, version, _) = Cli("--version");
        Assert.Equal(0, versionCode);
        Assert.Matches(@"^\d+\.\d+\.\d+", version.Trim());
    }

    [Fact]
    public void Bad_input_gives_one_clear_line_exit_code_2_and_no_stack_trace()
    {
        string bad = Write("bad.csv", "Date,Value\n2000-01-01,1\n2000-02-01,x1\n");
        string shortSeries = Write("short.csv", ForecastingTests.SeasonalCsv(40));
        string garbage = Write("garbage.lstm", "not a model at all, just text");
        AssertOneLineOfBadInput(Cli("train", "--target", "co2"), "no column 'co2'; the columns are 'Date', 'CO2', 'adjusted CO2'");
        AssertOneLineOfBadInput(Cli("train", "--data", bad), "bad.csv, line 3, column 'Value': 'x1' is not a number.");
        AssertOneLineOfBadInput(Cli("train", "--data", shortSeries), "the series is too short");
        AssertOneLineOfBadInput(Cli("forecast", "--model", garbage), "garbage.lstm");
        AssertOneLineOfBadInput(Cli("forecast", "--weights", "int4"), "--weights int4: must be fp32, fp16, bf16 or int8.");
        AssertOneLineOfBadInput(Cli("detect", "--model", Path.Combine(_dir, "missing.lstm")), "missing.lstm");
        AssertOneLineOfBadInput(Cli("train", "--data", Path.Combine(_dir, "nowhere.csv")), "nowhere.csv");
        AssertOneLineOfBadInput(Cli("generate", "--model", garbage), "garbage.lstm");
        AssertOneLineOfBadInput(Cli("train", "--window", "0"), "window");
        Assert.Equal(2, Cli("train", "--window", "many").Code);
    }

    [Fact]
    public void An_output_that_is_an_input_or_another_output_is_refused_by_every_command()
    {
        string data = Write("d.csv", ForecastingTests.SeasonalCsv(240)), model = Write("m.lstm", "a model, supposedly");
        string text = Write("t.txt", string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 60)));
        File.CreateSymbolicLink(Path.Combine(_dir, "d-link.csv"), "d.csv");
        const string Refused = "refusing to overwrite an input.";
        AssertOneLineOfBadInput(Cli("train", "--data", data, "--output", data, "--epochs", "1"), $"--output {data} is the --data file; {Refused}");
        AssertOneLineOfBadInput(Cli("train", "--data", data, "--output", "d-link.csv", "--epochs", "1"), Refused);
        AssertOneLineOfBadInput(Cli("forecast", "--model", model, "--output", "m.lstm"), $"is the --model file; {Refused}");
        AssertOneLineOfBadInput(Cli("forecast", "--model", model, "--data", data, "--plot", "./d.csv"), $"is the --data file; {Refused}");
        AssertOneLineOfBadInput(Cli("forecast", "--model", model, "--output", "same", "--plot", "same"), "--output and --plot both name");
        AssertOneLineOfBadInput(Cli("detect", "--model", model, "--data", data, "--output", "d-link.csv"), Refused);
        AssertOneLineOfBadInput(Cli("generate", "--text", text, "--output", "t.txt", "--minutes", "0.02"), $"is the --text file; {Refused}");
        Assert.Equal(ForecastingTests.SeasonalCsv(240), File.ReadAllText(data));
        Assert.Equal("a model, supposedly", File.ReadAllText(model));
        Assert.StartsWith("to be or not", File.ReadAllText(text), StringComparison.Ordinal);
    }

    [Fact]
    public void Inputs_in_the_wrong_time_order_or_not_UTF_8_are_refused_with_their_line()
    {
        string[] rows = ForecastingTests.SeasonalCsv(240).Split('\n');
        string reversed = Write("reversed.csv", string.Join('\n', [rows[0], .. rows[1..].Reverse()]));
        AssertOneLineOfBadInput(Cli("train", "--data", reversed, "--epochs", "1"), "reversed.csv: line 3 (2019-11-01) is not after line 2 (2019-12-01)");
        string text = Path.Combine(_dir, "latin1.txt");
        File.WriteAllBytes(text, [.. Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 60))), .. "caf"u8, 0xE9, .. "\n"u8]);
        AssertOneLineOfBadInput(Cli("generate", "--text", text, "--minutes", "0.02"), "latin1.txt, line 61: byte 0xE9 is not valid UTF-8");
    }

    [Fact]
    public void Train_takes_season_horizon_and_window_from_daily_dates_and_predicts_the_first_numeric_column()
    {
        var lines = new List<string> { "date,weather,temp" };
        for (int d = 0; d < 400; d++)
            lines.Add($"{new DateTime(2001, 1, 1).AddDays(d):yyyy-MM-dd},{(d % 3 == 0 ? "rain" : "sun")},{(10 + d % 7).ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        string daily = Write("daily.csv", string.Join('\n', lines));
        var (code, stdout, stderr) = Cli("train", "--data", daily, "--epochs", "1", "--hidden", "4");
        Assert.True(code == 0, stderr);
        Assert.Contains("frequency: daily: season 7, horizon 14, window 56", stdout, StringComparison.Ordinal);
        Assert.Contains("predict 'temp' from [temp]", stdout, StringComparison.Ordinal);
        Assert.Contains("seasonal naive (7)", stdout, StringComparison.Ordinal);

        lines.Insert(2, "2001-01-01T10:00Z,sun,11");
        AssertOneLineOfBadInput(Cli("train", "--data", Write("uneven.csv", string.Join('\n', lines)), "--epochs", "1"),
            "uneven.csv: line 3 (2001-01-01T10:00Z) to line 4 (2001-01-02) is 14 hours apart, not a whole number of the step (10 hours)");
    }

    [Fact]
    public void Quarters_and_ISO_weeks_set_the_defaults_and_the_forecast_past_the_end_is_written_as_periods()
    {
        var quarters = new List<string> { "quarter,sales" };
        for (int q = 0; q < 120; q++) quarters.Add($"{1990 + q / 4}-Q{q % 4 + 1},{(100 + q + 10 * (q % 4)).ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        var (code, stdout, stderr) = Cli("train", "--data", Write("quarterly.csv", string.Join('\n', quarters)), "--epochs", "1", "--hidden", "4");
        Assert.True(code == 0, stderr);
        Assert.Contains("frequency: quarterly: season 4, horizon 8, window 16", stdout, StringComparison.Ordinal);
        Assert.Contains("seasonal naive (4)", stdout, StringComparison.Ordinal);
        (code, stdout, stderr) = Cli("forecast");
        Assert.True(code is 0 or 1, stderr);
        string[] csv = File.ReadAllLines(Path.Combine(_dir, "forecast.csv"));
        Assert.StartsWith("2019-Q4,8,2021-Q4,,", csv[^1], StringComparison.Ordinal); // 8 quarters after the last, 2019-Q4

        var weeks = new List<string> { "week,visits" };
        for (int w = 0; w < 300; w++)
        {
            DateTime monday = new DateTime(2015, 1, 5).AddDays(7 * w); // 2015-W02
            weeks.Add($"{System.Globalization.ISOWeek.GetYear(monday)}-W{System.Globalization.ISOWeek.GetWeekOfYear(monday):D2},{(50 + w % 52).ToString(System.Globalization.CultureInfo.InvariantCulture)}");
        }

        (code, stdout, stderr) = Cli("train", "--data", Write("weekly.csv", string.Join('\n', weeks)), "--epochs", "1", "--hidden", "4");
        Assert.True(code == 0, stderr);
        Assert.Contains("frequency: weekly: season 52, horizon 13, window 104", stdout, StringComparison.Ordinal);
        Assert.Contains("AutoETS: seasonal models left out: a season of 52 steps is longer than the 24 that AutoETS fits (as R's ets)", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Forecast_and_detect_reread_the_file_the_checkpoint_remembers_noting_a_change_and_refusing_a_missing_file_or_another_frequency()
    {
        string folder = Path.Combine(_dir, "project");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "sales.csv"), ForecastingTests.SeasonalCsv(240));
        var (code, stdout, stderr) = Cli("train", "--data", "project/sales.csv", "--output", "project/model.lstm", "--epochs", "1", "--hidden", "4");
        Assert.True(code == 0, stderr);

        // The folder moves: the file is found beside the checkpoint, by the path relative to it.
        Directory.Move(folder, Path.Combine(_dir, "moved"));
        string data = Path.Combine(_dir, "moved", "sales.csv");
        (code, stdout, stderr) = Cli("forecast", "--model", "moved/model.lstm");
        Assert.True(code == 0, stderr);
        Assert.Contains($"data: {data} (as in training)", stdout, StringComparison.Ordinal);
        (code, stdout, stderr) = Cli("detect", "--model", "moved/model.lstm");
        Assert.True(code == 0, stderr);
        Assert.Contains($"data: {data} (as in training)", stdout, StringComparison.Ordinal);

        // New rows appended: read again, and said so.
        File.WriteAllText(data, ForecastingTests.SeasonalCsv(252));
        (code, stdout, stderr) = Cli("forecast", "--model", "moved/model.lstm");
        Assert.True(code == 0, stderr);
        Assert.Contains($"note: {data} changed since training (240 rows then, 252 now; its SHA-256 differs); forecasting on what it holds now", stdout, StringComparison.Ordinal);

        var daily = new List<string> { "Date,Value" };
        for (int d = 0; d < 400; d++) daily.Add($"{new DateTime(2001, 1, 1).AddDays(d):yyyy-MM-dd},{d % 7}");
        Write("daily.csv", string.Join('\n', daily));
        AssertOneLineOfBadInput(Cli("forecast", "--model", "moved/model.lstm", "--data", "daily.csv"), "daily.csv: its rows are daily; the forecaster was trained on monthly rows");
        File.Delete(data);
        AssertOneLineOfBadInput(Cli("detect", "--model", "moved/model.lstm"), "is not there (moved or deleted); pass --data with the file to use.");
    }

    [Fact]
    public void Train_then_forecast_on_the_bundled_CO2_beats_the_baselines_then_detect_marks_an_injected_spike()
    {
        var (code, stdout, stderr) = Cli("train", "--test-from", "2011", "--epochs", "60", "--patience", "60");
        Assert.True(code == 0, stderr);
        Assert.Contains("test 2011-01-01", stdout, StringComparison.Ordinal);
        Assert.Contains("frequency: monthly: season 12, horizon 12, window 24", stdout, StringComparison.Ordinal);
        Assert.Contains("missing: 5 missing times inserted (1 missing before line 5 (1958-07-01); 1 missing before line 8 (1958-11-01); 3 missing before line 71 (1964-05-01))\nmissing: 'CO2': 5 missing values filled by linear interpolation (runs of at most 3)", stdout, StringComparison.Ordinal);
        // Every baseline is in the table, and the verdict is one of the three the rule allows.
        foreach (string method in (string[])["│ mean ", "│ naive (last value) ", "│ seasonal naive (12) ", "│ seasonal naive + drift (12) ", "│ AutoETS: ETS(A,A,A) ", "│ Theta "])
            Assert.Contains(method, stdout, StringComparison.Ordinal);
        Assert.Contains("MASE │ sMAPE % │", stdout, StringComparison.Ordinal);
        // R's forecast::ets(model = "AZZ") chooses ETS(A,A,A) on these 634 rows too (docs/tool.md).
        Assert.Contains("AutoETS fitted on the 634 rows before the test chose ETS(A,A,A) by AICc (ETS(A,N,N) ", stdout, StringComparison.Ordinal);
        string verdict = stdout.Split('\n').Single(l => l.StartsWith("the LSTM ", StringComparison.Ordinal) || l.StartsWith("a tie", StringComparison.Ordinal));
        Assert.Matches(@"^(the LSTM beats every baseline: MASE [0-9.]+ against [0-9.]+ for the best, .+ \([0-9.]+ % lower; Diebold–Mariano p [<=] [0-9.]+ over 101 origins, below 0.05 against every baseline\)|the LSTM does NOT beat the best baseline: .+ has MASE [0-9.]+, the LSTM [0-9.]+ \([0-9.]+ % higher; Diebold–Mariano p [<=] [0-9.]+ over 101 origins\)|a tie: the LSTM's MASE [0-9.]+ against [0-9.]+ for the best baseline, .+; no difference holds across the 101 origins \(.+\); neither wins)$", verdict);
        Assert.Contains("test: rolling-origin backtest, 101 forecasts of 12 steps of 'CO2'", stdout, StringComparison.Ordinal);
        Assert.Contains("AutoETS (choosing again) and Theta refitted every 12 origins (9 fits); the LSTM trained once, on the rows before the test", stdout, StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(_dir, "forecaster.lstm")));

        (code, stdout, stderr) = Cli("forecast", "--check");
        Assert.True(code == (stdout.Contains("the LSTM beats every baseline", StringComparison.Ordinal) ? 0 : 1), stdout + stderr);
        Assert.Contains(verdict, stdout, StringComparison.Ordinal);
        Assert.Contains("kernels, fp32 weights)", stdout, StringComparison.Ordinal);
        string[] csv = File.ReadAllLines(Path.Combine(_dir, "forecast.csv"));
        Assert.Equal("origin,step,Date,actual,LSTM,mean,naive (last value),seasonal naive (12),seasonal naive + drift (12),linear trend (last 24),\"AutoETS: ETS(A,A,A)\",Theta,LSTM lower 80%,LSTM upper 80%", csv[0]);
        Assert.Matches(@"^80 % prediction intervals \(split conformal per step ahead, from the errors of the latest 84 forecasts whose values were known at each origin, level adapted to misses at rate 0.05\): on the 101 test origins they hold [0-9.]+ % of the values \(nominal 80 %\)", stdout.Split('\n').Single(l => l.StartsWith("80 % prediction", StringComparison.Ordinal)));
        Assert.StartsWith("2010-12-01,1,2011-01-01,391.3,", csv[1], StringComparison.Ordinal);
        Assert.StartsWith("2020-04-01,12,2021-04-01,,", csv[^1], StringComparison.Ordinal);
        string svg = File.ReadAllText(Path.Combine(_dir, "forecast.svg"));
        Assert.StartsWith("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("LSTM forecast", svg, StringComparison.Ordinal);
        Assert.Contains("80 % interval, lower", svg, StringComparison.Ordinal);
        Assert.Contains("Date (year)", svg, StringComparison.Ordinal);

        // The CSV is replaced by a new file, not truncated and rewritten: a reader of the old one (or a full disk) keeps it whole.
        File.WriteAllText(Path.Combine(_dir, "bf16.csv"), "previous");
        using var oldCsv = new FileStream(Path.Combine(_dir, "bf16.csv"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        // So is a PNG plot (ScottPlot on SkiaSharp, headless): the old file stays whole for its reader.
        File.WriteAllText(Path.Combine(_dir, "bf16.png"), "previous");
        using var oldPng = new FileStream(Path.Combine(_dir, "bf16.png"), FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        (code, stdout, stderr) = Cli("forecast", "--weights", "bf16", "--output", "bf16.csv", "--plot", "bf16.png");
        Assert.True(code == 0, stderr);
        Assert.Equal("previous", new StreamReader(oldCsv).ReadToEnd());
        Assert.Equal("previous", new StreamReader(oldPng).ReadToEnd());
        AssertPngDraws(Path.Combine(_dir, "bf16.png"), ("actual", 0x22, 0x22, 0x22), ("LSTM forecast", 0x1f, 0x77, 0xb4), ("forecast past the data", 0xd6, 0x27, 0x28));
        Assert.StartsWith("origin,step,", File.ReadAllText(Path.Combine(_dir, "bf16.csv")), StringComparison.Ordinal);
        Assert.Contains("kernels, bf16 weights)", stdout, StringComparison.Ordinal);
        Assert.Contains("│ LSTM ", stdout, StringComparison.Ordinal);

        // A copy of the series with one month 6 ppm too high.
        string[] lines = File.ReadAllLines(Path.Combine(Path.GetDirectoryName(ToolCli.Dll)!, "data", "co2-concentration.csv"));
        int row = Array.FindIndex(lines, l => l.StartsWith("1995-06-01,", StringComparison.Ordinal));
        string[] cells = lines[row].Split(',');
        lines[row] = $"{cells[0]},{double.Parse(cells[1], System.Globalization.CultureInfo.InvariantCulture) + 6},{cells[2]}";
        File.WriteAllLines(Path.Combine(_dir, "spiked.csv"), lines);
        (code, stdout, stderr) = Cli("detect", "--data", "spiked.csv");
        Assert.True(code == 0, stderr);
        Assert.Contains("│ 1995-06-01 │", stdout, StringComparison.Ordinal);
        Assert.Contains("1995-06-01,", File.ReadAllLines(Path.Combine(_dir, "anomalies.csv")).Single(l => l.EndsWith(",1", StringComparison.Ordinal) && l.StartsWith("1995-06", StringComparison.Ordinal)), StringComparison.Ordinal);
        Assert.Contains("anomaly (", File.ReadAllText(Path.Combine(_dir, "anomalies.svg")), StringComparison.Ordinal);
        (code, _, stderr) = Cli("detect", "--data", "spiked.csv", "--plot", "anomalies.PNG", "--output", "anomalies-png.csv");
        Assert.True(code == 0, stderr);
        AssertPngDraws(Path.Combine(_dir, "anomalies.PNG"), ("actual", 0x22, 0x22, 0x22), ("anomaly marker", 0xd6, 0x27, 0x28));
    }

    /// <summary>
    /// The file is a 1200×600 PNG that SkiaSharp decodes, with at least 20 pixels of each named colour (within 6 per
    /// channel) left of x = 840: in the data area, not only in the legend, which is drawn right of it.
    /// </summary>
    private static void AssertPngDraws(string path, params (string What, byte R, byte G, byte B)[] colours)
    {
        byte[] bytes = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0d, 0x0a, 0x1a, 0x0a], bytes[..8]);
        using SkiaSharp.SKBitmap image = SkiaSharp.SKBitmap.Decode(bytes);
        Assert.Equal((1200, 600), (image.Width, image.Height));
        foreach ((string what, byte r, byte g, byte b) in colours)
        {
            int count = 0;
            for (int y = 0; y < image.Height; y++)
                for (int x = 0; x < 840; x++)
                {
                    SkiaSharp.SKColor pixel = image.GetPixel(x, y);
                    if (Math.Abs(pixel.Red - r) <= 6 && Math.Abs(pixel.Green - g) <= 6 && Math.Abs(pixel.Blue - b) <= 6) count++;
                }

            Assert.True(count >= 20, $"{what}: {count} pixels of its colour in {path}");
        }
    }

    [Fact]
    public void Detect_scores_every_detector_against_the_labelled_sensor_event_beside_a_rolling_z_score_with_thresholds_from_the_validation_rows()
    {
        // Mote 1 of the single-hop sensor network: one labelled event (readings 2344 … 2460), after the training rows.
        string data = Path.Combine(Path.GetDirectoryName(ToolCli.Dll)!, "data", "sensor-single-hop-mote1.csv");
        var (code, stdout, stderr) = Cli("train", "--data", data, "--target", "humidity", "--test-from", "2000", "--epochs", "60", "--output", "mote1.lstm");
        Assert.True(code == 0, stderr);
        (code, stdout, stderr) = Cli("detect", "--model", "mote1.lstm", "--labels", "label", "--method", "reconstruction", "--threshold-rule", "dynamic", "--save-reconstructor", "mote1-ae.lstm");
        Assert.True(code == 0, stderr);
        Assert.Contains("labelled anomalies: 117 of the 2418 test rows (2000 …) in 1 event; each σ threshold is the lowest from 4 σ up, in steps of 0.5, that flags no unlabelled validation row (1700 … 1999)", stdout, StringComparison.Ordinal);
        string[] Row(string detector) =>
            [.. stdout.Split('\n').Single(l => l.StartsWith($"│ {detector} ", StringComparison.Ordinal)).Split('│', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Skip(1)];
        double Number(string cell) => double.Parse(cell.TrimEnd('σ', ' '), System.Globalization.CultureInfo.InvariantCulture);
        string[] residual = Row("residual σ"), rolling = Row("rolling z (20)"), reconstruction = Row("reconstr. σ"), dynamic = Row("reconstr. dyn."); // limit, flags, P, R, F1, PA F1, NAB
        // A σ limit is raised from 4 until no validation row is flagged: the validation rows' largest score sets it.
        Assert.True(Number(residual[0]) >= 4 && Number(rolling[0]) >= 4, $"limits {residual[0]}, {rolling[0]}");
        Assert.Equal("dyn.", dynamic[0]);
        // The z-score flags the event's onset and little of the rest (its window soon holds the event); the LSTM's residuals
        // and reconstruction errors stay large through it.
        Assert.True(Number(rolling[3]) < 0.1, $"rolling z-score recall {rolling[3]}");
        Assert.True(Number(residual[4]) > Number(rolling[4]) + 0.3, $"row-by-row F1: residual {residual[4]}, rolling z-score {rolling[4]}");
        Assert.True(Number(reconstruction[4]) > Number(rolling[4]) + 0.3, $"row-by-row F1: reconstruction {reconstruction[4]}, rolling z-score {rolling[4]}");
        Assert.True(Number(residual[6]) > Number(rolling[6]), $"NAB: residual {residual[6]}, rolling z-score {rolling[6]}");
        Assert.Matches(@"^the chosen detector \(reconstr\. dyn\.: --method reconstruction --threshold-rule dynamic\) (beats|does NOT beat) the rolling z-score on row-by-row F1 \([0-9.]+ against [0-9.]+\); point-adjusted, it (beats it|does NOT) \([0-9.]+ against [0-9.]+\); on the NAB score, it (beats it|does NOT) \(-?[0-9.]+ against -?[0-9.]+\)$",
            stdout.Split('\n').Single(l => l.StartsWith("the chosen detector", StringComparison.Ordinal)));
        Assert.Contains("unlabelled validation rows flagged by the dynamic threshold: residual dyn. 0, reconstr. dyn. 0", stdout, StringComparison.Ordinal);

        // The saved encoder–decoder scores the same reconstruction errors when read back instead of trained again.
        string first = File.ReadAllText(Path.Combine(_dir, "anomalies.csv"));
        (code, stdout, stderr) = Cli("detect", "--model", "mote1.lstm", "--method", "reconstruction", "--threshold-rule", "dynamic", "--reconstructor", "mote1-ae.lstm");
        Assert.True(code == 0, stderr);
        Assert.Contains("reconstructor: ", stdout, StringComparison.Ordinal);
        Assert.Equal(first, File.ReadAllText(Path.Combine(_dir, "anomalies.csv")));

        AssertOneLineOfBadInput(Cli("detect", "--model", "mote1.lstm", "--labels", "humidity"), "the label column 'humidity' must hold 0 or 1; the row at 1 holds 45.93.");
        AssertOneLineOfBadInput(Cli("detect", "--model", "mote1.lstm", "--reconstructor", "mote1-ae.lstm"), "--reconstructor is read by --method reconstruction only.");
        AssertOneLineOfBadInput(Cli("detect", "--model", "mote1.lstm", "--method", "reconstruction", "--reconstructor", "mote1.lstm"), "is not an autoencoder checkpoint");
    }

    [Fact]
    public async Task Ctrl_C_stops_training_with_exit_code_130_and_keeps_a_loadable_checkpoint()
    {
        // A process started in the background by a shell without job control ignores SIGINT, and so do its children.
        Assert.False(SigIntIgnored(), "SIGINT is ignored in the test process (it was started in the background without job control), so the tool cannot receive Ctrl+C");
        using Process p = ToolCli.Start(_dir, "train", "--epochs", "100000", "--patience", "100000");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync(), stderr = p.StandardError.ReadToEndAsync(); // both drained: a full pipe would block the tool
        string checkpoint = Path.Combine(_dir, "forecaster.lstm");
        var wait = Stopwatch.StartNew();
        while (!File.Exists(checkpoint) && wait.Elapsed < TimeSpan.FromSeconds(60)) Thread.Sleep(100);
        Assert.True(File.Exists(checkpoint), "no checkpoint within a minute");
        Thread.Sleep(500);
        using (Process kill = Process.Start("kill", ["-INT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!) kill.WaitForExit();
        Assert.True(p.WaitForExit(30_000), "training did not stop after SIGINT");
        _ = await stderr;
        Assert.Equal(130, p.ExitCode);
        Assert.Contains("stopped by Ctrl+C", await stdout, StringComparison.Ordinal);
        using LstmForecaster forecaster = LstmForecaster.Load(checkpoint);
        Assert.Equal(24, forecaster.Settings.Window);
    }

    private static bool SigIntIgnored()
    {
        if (!File.Exists("/proc/self/status")) return false;
        string? mask = File.ReadLines("/proc/self/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal))?["SigIgn:".Length..].Trim();
        return mask is not null && (ulong.Parse(mask, System.Globalization.NumberStyles.HexNumber, System.Globalization.CultureInfo.InvariantCulture) & (1UL << 1)) != 0; // bit n-1 is signal n; SIGINT is 2
    }

    [Fact]
    public void Generate_trains_briefly_samples_and_reports_the_baselines()
    {
        string text = Write("t.txt", string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 120)));
        var (code, stdout, stderr) = Cli("generate", "--text", text, "--minutes", "0.15", "--hidden", "32", "--batch", "8", "--steps", "16", "--lr", "0.01", "--length", "60", "--prime", "to ");
        Assert.True(code == 0, stderr);
        Assert.Contains("bigram (add-k, best k)", stdout, StringComparison.Ordinal);
        Assert.Contains("--- sample (temperature 0.7, seed 1) ---\nto ", stdout, StringComparison.Ordinal);
        (code, stdout, stderr) = Cli("generate", "--model", "chars.lstm", "--text", text, "--length", "30", "--seed", "4");
        Assert.True(code == 0, stderr);
        Assert.Contains("seed 4", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Generate_samples_from_a_model_trained_on_another_text_without_that_text()
    {
        // '§' and '¤' are not in the bundled quotations: a model of this text cannot be scored on them, and needs no text to sample.
        string text = Write("other.txt", string.Concat(Enumerable.Repeat("§1 ¤ the rule applies. ", 100)));
        var (code, stdout, stderr) = Cli("generate", "--text", text, "--minutes", "0.05", "--hidden", "16", "--batch", "4", "--steps", "16", "--lr", "0.01", "--length", "10", "--output", "other.lstm");
        Assert.True(code == 0, stderr);
        Assert.Contains("kept the best", stdout, StringComparison.Ordinal);
        (code, stdout, stderr) = Cli("generate", "-m", "other.lstm", "--length", "30", "--prime", "§");
        Assert.True(code == 0, stderr);
        Assert.Contains("trained on other.txt (2,300 characters", stdout, StringComparison.Ordinal);
        Assert.Contains("---\n§", stdout, StringComparison.Ordinal);
        Assert.DoesNotContain("bigram", stdout, StringComparison.Ordinal);
        AssertOneLineOfBadInput(Cli("generate", "-m", "other.lstm", "--prime", "xyz"), "--prime holds characters the model " + Path.Combine(_dir, "other.lstm") + " never saw in training: 'x' (U+0078), 'y' (U+0079), 'z' (U+007A)");
        string quotes = Write("q.txt", string.Concat(Enumerable.Repeat("Quotes with a Q. ", 150)));
        AssertOneLineOfBadInput(Cli("generate", "-m", "other.lstm", "--text", quotes), "q.txt holds characters the model");
    }

    [Fact]
    public void Generate_refuses_dropout_on_one_layer_and_a_negative_patience()
    {
        string text = Write("t.txt", string.Concat(Enumerable.Repeat("to be or not to be, that is the question.\n", 60)));
        AssertOneLineOfBadInput(Cli("generate", "--text", text, "--dropout", "0.2"), "--dropout acts between stacked LSTM layers");
        AssertOneLineOfBadInput(Cli("generate", "--text", text, "--patience", "-1"), "--patience must be 0 (off) or positive");
    }
}
