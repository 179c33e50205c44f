using System.Globalization;
using System.Text;
using System.Text.Json;
using LstmSimd.Forecasting;
using LstmSimd.Tests.Forecasting;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary>
/// <c>lstmsimd serve</c> with a forecaster checkpoint, as users run it: each answer is checked against the library's own
/// <see cref="LstmForecaster.Predict"/> on the stream's values read as a series, and the anomaly score against the
/// residuals' median and robust spread computed here from their definition.
/// </summary>
public sealed class ServeForecasterTests : IDisposable
{
    private const int Window = 4, Horizon = 3;
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-serve-forecaster-").FullName;
    private readonly LstmForecaster _forecaster;
    private readonly string _checkpoint, _data;

    public ServeForecasterTests()
    {
        // Inputs a and y, target y: a step takes [a, y].
        _forecaster = ForecastStreamsTests.MakeForecaster(ForecastStreamsTests.ColumnShape.TargetAmongInputs, SeriesNormalization.Relative, Window, Horizon, hidden: 12, layers: 1, seed: 21);
        _checkpoint = Path.Combine(_dir, "forecaster.lstm");
        _forecaster.Save(_checkpoint);
        _data = Path.Combine(_dir, "history.csv");
        var csv = new StringBuilder("t,a,y\n");
        for (int r = 0; r < 160; r++)
            csv.Append(CultureInfo.InvariantCulture, $"{r},{Math.Sin(r * 0.3):R},{50 + 5 * Math.Sin(r * 0.2) + Math.Cos(r * 1.7):R}\n");
        File.WriteAllText(_data, csv.ToString());
    }

    public void Dispose()
    {
        _forecaster.Dispose();
        Directory.Delete(_dir, recursive: true);
    }

    [Fact]
    public async Task Each_stream_is_answered_with_the_library_forecast_of_its_values_and_its_anomaly_score_and_a_restart_restores_the_windows()
    {
        string state = Path.Combine(_dir, "windows.state");
        string[] columns = ["a", "y"];
        (double median, double sigma) = TrainingResiduals();
        const double Threshold = 2.5;
        var history = new Dictionary<string, List<double[]>>();
        var random = new Random(5);
        string[][] schedule = [["n", "s"], ["n"], ["s", "n", "e"], ["n", "e"], ["e", "s", "n"], ["n"], ["s", "n"], ["e", "n", "s"], ["n", "s"], ["s"], ["n", "e", "s"]];

        async Task RunSteps(ServeProcess serve, int from, int to)
        {
            for (int t = from; t < to; t++)
            {
                string[] keys = schedule[t];
                double[][] rows = [.. keys.Select(_ => new[] { random.NextDouble() * 2 - 1, 45 + random.NextDouble() * 10 })];
                if (t == 7) rows[1][1] = 500; // far from anything stream 'n' has seen: an anomaly
                string body = keys.Length == 1 ? StepJson(keys[0], rows[0]) : $"{{\"steps\":[{string.Join(",", keys.Select((k, i) => StepJson(k, rows[i])))}]}}";
                ServeProcess.Answer answer = await serve.PostAsync(body);
                Assert.True(answer.Status == 200, $"step {t}: {answer.Status} {answer.Body}");
                JsonElement[] results = keys.Length == 1 ? [answer.Json] : [.. answer.Json.GetProperty("results").EnumerateArray()];
                for (int i = 0; i < keys.Length; i++)
                {
                    List<double[]> series = history.TryGetValue(keys[i], out List<double[]>? h) ? h : history[keys[i]] = [];
                    series.Add(rows[i]);
                    JsonElement result = results[i];
                    string what = $"step {t}, stream {keys[i]} ({series.Count} values): {result}";
                    Assert.Equal(keys[i], result.GetProperty("key").GetString());
                    Assert.Equal(Math.Min(series.Count, Window), result.GetProperty("held").GetInt32());
                    if (series.Count < Window)
                    {
                        Assert.Equal(JsonValueKind.Null, result.GetProperty("forecast").ValueKind);
                        Assert.Equal(Window - series.Count, result.GetProperty("needs").GetInt32());
                        Assert.StartsWith($"needs {Window - series.Count} more value", result.GetProperty("note").GetString(), StringComparison.Ordinal);
                    }
                    else
                    {
                        double[] expected = ForecastStreamsTests.Definition(_forecaster, columns, series, series.Count - 1);
                        double[] forecast = [.. result.GetProperty("forecast").EnumerateArray().Select(v => v.GetDouble())];
                        Assert.True(expected.Select(BitConverter.DoubleToInt64Bits).SequenceEqual(forecast.Select(BitConverter.DoubleToInt64Bits)),
                            $"{what}: expected [{string.Join(", ", expected.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]");
                    }

                    if (series.Count <= Window)
                    {
                        Assert.Equal(JsonValueKind.Null, result.GetProperty("score").ValueKind);
                        Assert.Equal(JsonValueKind.Null, result.GetProperty("anomaly").ValueKind);
                        continue;
                    }

                    double oneStep = ForecastStreamsTests.Definition(_forecaster, columns, series, series.Count - 2)[0];
                    double score = (rows[i][1] - oneStep - median) / sigma;
                    Assert.Equal(oneStep, result.GetProperty("expected").GetDouble());
                    Assert.True(Math.Abs(score - result.GetProperty("score").GetDouble()) <= 1e-9 * Math.Max(1, Math.Abs(score)), $"{what}: score {score:R} expected");
                    Assert.Equal(Math.Abs(score) > Threshold, result.GetProperty("anomaly").GetBoolean());
                    if (t == 7 && keys[i] == "n") Assert.True(result.GetProperty("anomaly").GetBoolean(), what);
                }
            }
        }

        string[] options = ["--model", _checkpoint, "--state", state, "--threshold", "2.5", "--data", _data];
        using (ServeProcess first = await ServeProcess.StartAsync(_dir, options))
        {
            Assert.Contains("forecaster: window 4, horizon 3, predicts 'y' from [a, y]; each step takes [a, y]", first.Output, StringComparison.Ordinal);
            await RunSteps(first, 0, 6);
            JsonElement metrics = (await first.SendAsync(HttpMethod.Get, "metrics")).Json;
            Assert.Equal((6, 12), (metrics.GetProperty("requests").GetInt32(), metrics.GetProperty("streamSteps").GetInt32()));
            Assert.Equal(0, await first.StopAsync("TERM"));
            Assert.Contains($"saved 3 streams to {state}", first.Output, StringComparison.Ordinal);
        }

        using (ServeProcess second = await ServeProcess.StartAsync(_dir, options))
        {
            Assert.Contains($"restored 3 streams from {state}", second.Output, StringComparison.Ordinal);
            await RunSteps(second, 6, schedule.Length);
            Assert.Equal(0, await second.StopAsync("INT"));
        }

        string other = Path.Combine(_dir, "other.lstm");
        using (LstmForecaster otherForecaster = ForecastStreamsTests.MakeForecaster(ForecastStreamsTests.ColumnShape.TargetAmongInputs, SeriesNormalization.Relative, Window, Horizon, hidden: 12, layers: 1, seed: 22))
            otherForecaster.Save(other);
        byte[] before = File.ReadAllBytes(state);
        var (code, _, err) = ServeProcess.Refused(_dir, "--model", other, "--state", state);
        ToolCommandTests.AssertOneLineOfBadInput((code, "", err), $"lstmsimd serve: --state {state}: The state was saved for another forecaster");
        Assert.Equal(before, File.ReadAllBytes(state));
    }

    [Fact]
    public async Task Bad_requests_get_a_4xx_with_a_one_line_reason_and_change_no_stream()
    {
        using ServeProcess serve = await ServeProcess.StartAsync(_dir, "--model", _checkpoint, "--capacity", "2");
        for (int i = 0; i < Window - 1; i++) Assert.Equal(200, (await serve.PostAsync(StepJson("b", [i, 50 + i]))).Status);
        (string Body, int Status, string Reason)[] cases =
        [
            ("""{"key":"a","input":[1]}""", 400, "the request: 'input' has 1 value; the forecaster takes 2 per step: 'a', 'y'."),
            ("""{"key":"a","input":[1,2,3]}""", 400, "the request: 'input' has 3 values; the forecaster takes 2 per step: 'a', 'y'."),
            ("""{"key":"a","input":[NaN,1]}""", 400, "malformed JSON: "),
            ("""{"key":"a","input":["NaN",1]}""", 400, "the request: input[0] must be a number, not a string."),
            ("""{"key":"a","input":[1,1e39]}""", 400, "the request: input[1] = 1e39 is beyond the range of float32."),
            ("""{"key":["a"],"input":[1,2]}""", 400, "the request: 'key' must be a string, not an array."),
            ("""{"key":"a","values":[1,2]}""", 400, "the request has an unknown property 'values'; expected 'key' and 'input'."),
            ("""{"steps":[{"key":"a","input":[1,2]},{"key":"a","input":[1,2]}]}""", 400, "steps[1]: stream 'a' is named twice"),
            ("""{"steps":[{"key":"b","input":[1,2]},{"key":"c","input":[1,2]},{"key":"d","input":[1,2]}]}""", 400, "'steps' names 3 streams; the pool holds at most 2."),
            ("""{"steps":[{"key":"c","input":[1,2]},{"key":"d","input":[1,2]}]}""", 503, "the pool has no room: it holds 1 of its 2 streams and this request adds 2;"),
        ];
        foreach ((string body, int status, string reason) in cases)
        {
            ServeProcess.Answer answer = await serve.PostAsync(body);
            Assert.True(answer.Status == status, $"{body}: status {answer.Status}, expected {status}: {answer.Body}");
            Assert.StartsWith(reason, answer.Error, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', answer.Body);
        }

        // Nothing refused added a stream or a value: 'b' still needs one value, and 'a' starts from its first.
        Assert.Equal(1, (await serve.SendAsync(HttpMethod.Get, "health")).Json.GetProperty("streams").GetInt32());
        ServeProcess.Answer b = await serve.PostAsync(StepJson("b", [3, 53]));
        Assert.Equal((200, Window, Horizon), (b.Status, b.Json.GetProperty("held").GetInt32(), b.Json.GetProperty("forecast").GetArrayLength()));
        ServeProcess.Answer first = await serve.PostAsync(StepJson("a", [0.5, 50]));
        Assert.Equal((200, 1, 3), (first.Status, first.Json.GetProperty("held").GetInt32(), first.Json.GetProperty("needs").GetInt32()));
        Assert.False(first.Json.TryGetProperty("score", out _)); // no --threshold: no anomaly score
    }

    [Fact]
    public void Options_that_do_not_fit_the_model_are_refused_in_one_line()
    {
        string plain = Path.Combine(_dir, "plain.safetensors");
        LstmSimd.IO.LstmModelFile.Save(plain, LstmWeights.CreateRandom(new LstmSpec(2, 4), seed: 1));
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", plain, "--threshold", "3"), "--threshold and --data apply to a forecaster checkpoint;");
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", _checkpoint, "--head", "fc."), "--prefix and --head apply to PyTorch state_dicts;");
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", _checkpoint, "--data", _data), "--data gives the residuals that --threshold judges against; give --threshold too.");
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", _checkpoint, "--threshold", "0", "--data", _data), "--threshold must be positive; got 0.");
    }

    private static string StepJson(string key, double[] values) =>
        $"{{\"key\":{JsonSerializer.Serialize(key)},\"input\":[{string.Join(",", values.Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}";

    /// <summary>
    /// From their definition (the detect command's help): the one-step residuals of the training rows of the data file
    /// (target minus the forecast made one row before), their median, and 1.4826 times their median absolute deviation.
    /// </summary>
    private (double Median, double Sigma) TrainingResiduals()
    {
        ForecastSeries series = ForecastSeries.From(TimeSeriesTable.Load(_data, "t"), _forecaster.Settings);
        var forecast = new double[Horizon];
        var residuals = new List<double>();
        for (int r = Window; r < series.Split.ValidationStart; r++)
        {
            _forecaster.Predict(series, r - 1, forecast);
            residuals.Add(series.Target[r] - forecast[0]);
        }

        static double Median(IEnumerable<double> values)
        {
            double[] sorted = [.. values.Order()];
            return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[sorted.Length / 2 - 1] + sorted[sorted.Length / 2]) / 2;
        }

        double median = Median(residuals);
        return (median, 1.4826 * Median(residuals.Select(v => Math.Abs(v - median))));
    }
}
