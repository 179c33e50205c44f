using System.Text.Json;
using System.Text.RegularExpressions;
using LstmSimd.IO;
using LstmSimd.Tests.Support;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary><c>lstmsimd serve</c> as users run it: a child process on a free loopback port, driven over HTTP.</summary>
public sealed class ServeCommandTests : IDisposable
{
    private static readonly LstmSpec Spec = new(inputSize: 3, hiddenSize: 20, numLayers: 2);
    private readonly string _dir = Directory.CreateTempSubdirectory("lstmsimd-serve-").FullName;
    private readonly LstmWeights _weights = LstmWeights.CreateRandom(Spec, seed: 17);
    private readonly LinearHead _head = new(Spec.OutputSize, 2, LstmCase.Uniform(2 * Spec.OutputSize, 5, 0.5), [0.25f, -0.5f]);
    private readonly string _model;

    public ServeCommandTests()
    {
        _model = Path.Combine(_dir, "model.safetensors");
        LstmModelFile.Save(_model, _weights, _head);
    }

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    [Theory]
    [InlineData("fp32")]
    [InlineData("int8")]
    public async Task Each_stream_gets_what_a_pool_stepped_the_same_way_and_its_own_batch_1_session_give_bit_for_bit(string weights)
    {
        var format = weights == "int8" ? WeightFormat.Int8 : WeightFormat.Float32;
        LstmModel model = LstmModel.Create(_weights, new LstmModelOptions { Weights = format });
        using var pool = new LstmStreamPool<string>(model, capacity: 64);
        var sessions = new Dictionary<string, LstmSession>();
        var batchOne = new float[Spec.OutputHiddenSize];
        var random = new Random(3);
        using ServeProcess serve = await ServeProcess.StartAsync(_dir, "--model", _model, "--weights", weights, "--batch-window", "20");
        int requests = 0;
        try
        {
            async Task StepAndCheck(string[] keys, int seed, bool asList)
            {
                float[] inputs = LstmCase.Uniform(keys.Length * Spec.InputSize, seed, 1.5);
                (float[] Output, float[]? Head)[] answers = await serve.StepAsync(keys, inputs, asList);
                requests++;
                var expected = new float[keys.Length * Spec.OutputHiddenSize];
                foreach (string key in keys.Where(k => !pool.Contains(k))) pool.Add(key);
                pool.Step(keys, inputs, expected);
                for (int row = 0; row < keys.Length; row++)
                {
                    string what = $"stream {keys[row]}, request seed {seed}";
                    AssertBitwise(expected.AsSpan(row * Spec.OutputHiddenSize, Spec.OutputHiddenSize), answers[row].Output, $"{what} against a pool stepped the same way");
                    if (!sessions.TryGetValue(keys[row], out LstmSession? session)) sessions[keys[row]] = session = model.CreateSession();
                    session.Step(inputs.AsSpan(row * Spec.InputSize, Spec.InputSize), 1, batchOne);
                    AssertBitwise(batchOne, answers[row].Output, $"{what} against its batch-1 session");
                    Tolerance.AssertClose(HeadOf(answers[row].Output), answers[row].Head ?? [], $"{what}: the head");
                }
            }

            // One request at a time: each is a batch of its own, with its streams in its order, so a pool stepped with the
            // same keys in the same order gives the same bits.
            string[] names = ["pump-7", "fan-2", "valve-1", "motor-3", "sensor-9"];
            for (int r = 0; r < 30; r++)
            {
                int k = random.Next(1, 5);
                string[] keys = [.. names.OrderBy(_ => random.Next()).Take(k)];
                await StepAndCheck(keys, 100 + r, asList: k > 1 || random.Next(2) == 0);
            }

            // Many at once, one stream each: batched together by the service, each stream as its own session computes it.
            string[] crowd = [.. Enumerable.Range(0, 16).Select(i => $"crowd-{i}")];
            for (int round = 0; round < 3; round++)
            {
                float[][] inputs = [.. crowd.Select((_, i) => LstmCase.Uniform(Spec.InputSize, 1000 * round + i, 1.5))];
                (float[] Output, float[]? Head)[][] answers = await Task.WhenAll(crowd.Select((key, i) => serve.StepAsync([key], inputs[i], asList: false)));
                requests += crowd.Length;
                for (int i = 0; i < crowd.Length; i++)
                {
                    if (!sessions.TryGetValue(crowd[i], out LstmSession? session)) sessions[crowd[i]] = session = model.CreateSession();
                    session.Step(inputs[i], 1, batchOne);
                    string what = $"stream {crowd[i]} in round {round}";
                    AssertBitwise(batchOne, answers[i][0].Output, what);
                }
            }

            JsonElement metrics = (await serve.SendAsync(HttpMethod.Get, "metrics")).Json;
            Assert.Equal(requests, metrics.GetProperty("requests").GetInt64());
            Assert.Equal(names.Length + crowd.Length, metrics.GetProperty("streams").GetInt32());
            Assert.True(metrics.GetProperty("batches").GetInt64() < requests, $"no two requests were batched together: {metrics}");
            Assert.Equal(0, metrics.GetProperty("rejected").EnumerateObject().Sum(p => p.Value.GetInt64()));
            JsonElement latency = metrics.GetProperty("latencyMicroseconds");
            Assert.Equal(requests, latency.GetProperty("window").GetInt32());
            Assert.InRange(latency.GetProperty("p50").GetDouble(), 1, latency.GetProperty("p999").GetDouble());
            Assert.Equal(0, await serve.StopAsync("TERM"));
        }
        finally
        {
            foreach (LstmSession session in sessions.Values) session.Dispose();
        }
    }

    [Fact]
    public async Task Concurrent_requests_for_one_stream_each_advance_it_once_none_lost_none_twice()
    {
        // Every request has the same input, so whatever order they run in, the answers must be the stream's first 24
        // outputs, each once; Int8 makes each bit-exact against a batch-1 session.
        using ServeProcess serve = await ServeProcess.StartAsync(_dir, "--model", _model, "--weights", "int8");
        float[] x = [0.3f, -0.7f, 1.1f];
        const int Requests = 24;
        (float[] Output, float[]? Head)[][] answers = await Task.WhenAll(Enumerable.Range(0, Requests).Select(_ => serve.StepAsync(["shared"], x, asList: false)));
        using LstmSession session = LstmModel.Create(_weights, new LstmModelOptions { Weights = WeightFormat.Int8 }).CreateSession();
        var unmatched = answers.Select(a => a[0].Output).ToList();
        var expected = new float[Spec.OutputHiddenSize];
        for (int t = 0; t <= Requests; t++)
        {
            session.Step(x, 1, expected);
            if (t == Requests) break;
            int match = unmatched.FindIndex(o => o.Select(BitConverter.SingleToInt32Bits).SequenceEqual(expected.Select(BitConverter.SingleToInt32Bits)));
            Assert.True(match >= 0, $"no answer is the stream's output of step {t}");
            unmatched.RemoveAt(match);
        }

        float[] next = (await serve.StepAsync(["shared"], x, asList: false))[0].Output;
        AssertBitwise(expected, next, "the step after the concurrent ones");
    }

    [Fact]
    public async Task A_full_queue_is_answered_429_with_a_reason_and_the_requests_it_took_are_answered()
    {
        // The step waits three seconds for its batch: meanwhile the queue of 2 fills and the rest are refused.
        using ServeProcess serve = await ServeProcess.StartAsync(_dir, "--model", _model, "--queue", "2", "--batch-window", "3000");
        ServeProcess.Answer[] answers = await Task.WhenAll(Enumerable.Range(0, 12).Select(i =>
            serve.PostAsync(ServeProcess.StepJson([$"s{i}"], LstmCase.Uniform(Spec.InputSize, i, 1), asList: false))));
        ServeProcess.Answer[] refused = [.. answers.Where(a => a.Status == 429)];
        Assert.All(answers, a => Assert.Contains(a.Status, new[] { 200, 429 }));
        Assert.NotEmpty(refused);
        Assert.InRange(answers.Count(a => a.Status == 200), 1, 12 - refused.Length);
        Assert.All(refused, a => Assert.Equal("the queue is full (2 requests wait for a step); retry later.", a.Error));
        Assert.All(refused, a => Assert.Equal("1", a.RetryAfter));
        JsonElement metrics = (await serve.SendAsync(HttpMethod.Get, "metrics")).Json;
        Assert.Equal(refused.Length, metrics.GetProperty("rejected").GetProperty("queueFull").GetInt64());
        Assert.Equal(12 - refused.Length, metrics.GetProperty("requests").GetInt64());
    }

    [Fact]
    public async Task Bad_requests_get_a_4xx_with_a_one_line_reason_and_change_no_stream()
    {
        using ServeProcess serve = await ServeProcess.StartAsync(_dir, "--model", _model, "--capacity", "2", "--max-body", "2000");
        LstmModel model = LstmModel.Create(_weights);
        using LstmSession session = model.CreateSession();
        var expected = new float[Spec.OutputHiddenSize];
        float[] x = [0.5f, -0.25f, 1f];
        session.Step(x, 1, expected);
        float[] answered = (await serve.StepAsync(["a"], x, asList: false))[0].Output;
        AssertBitwise(expected, answered, "a's first step");

        (string Body, int Status, string Reason)[] cases =
        [
            ("""{"key":"a","input":[1,2]}""", 400, "the request: 'input' has 2 values; the model takes 3."),
            ("""{"key":"a","input":[NaN,0,0]}""", 400, "malformed JSON: "),
            ("""{"key":"a","input":[1e39,0,0]}""", 400, "the request: input[0] = 1e39 is beyond the range of float32."),
            ("""{"key":"a","input":["1",0,0]}""", 400, "the request: input[0] must be a number, not a string."),
            ("""{"key":"a","input":[1,0,0]""", 400, "malformed JSON: "),
            ("", 400, "malformed JSON: "),
            ("""[{"key":"a","input":[1,0,0]}]""", 400, "the body must be a JSON object, not an array."),
            ("""{"key":7,"input":[1,0,0]}""", 400, "the request: 'key' must be a string, not a number."),
            ("""{"key":"","input":[1,0,0]}""", 400, "the request: 'key' is empty."),
            ("""{"key":"a","inputs":[1,0,0]}""", 400, "the request has an unknown property 'inputs'; expected 'key' and 'input'."),
            ("""{"steps":[{"key":"a","input":[1,0,0]},{"key":"a","input":[0,0,0]}]}""", 400, "steps[1]: stream 'a' is named twice; a stream advances once per step."),
            ("""{"steps":[]}""", 400, "'steps' is empty."),
            ($$"""{"key":"a","input":[{{string.Join(",", Enumerable.Repeat("0.125", 500))}}]}""", 413, "the body is larger than the 2000 bytes allowed (--max-body)."),
            ("""{"steps":[{"key":"b","input":[1,0,0]},{"key":"c","input":[0,0,0]}]}""", 503, "the pool has no room: it holds 1 of its 2 streams and this request adds 2;"),
            ("""{"key":"a","input":[3e38,3e38,3e38]}""", 422, "the model refused the input: "),
        ];
        foreach ((string body, int status, string reason) in cases)
        {
            ServeProcess.Answer answer = await serve.PostAsync(body);
            Assert.True(answer.Status == status, $"{body[..Math.Min(body.Length, 80)]}: status {answer.Status}, expected {status}: {answer.Body}");
            Assert.StartsWith(reason, answer.Error, StringComparison.Ordinal);
            Assert.DoesNotContain('\n', answer.Body);
        }

        ServeProcess.Answer missing = await serve.SendAsync(HttpMethod.Delete, "streams/nobody");
        Assert.Equal((404, "no stream has key 'nobody'."), (missing.Status, missing.Error));

        // Nothing refused changed a stream or added one: a's second step is its session's, and b and c fit once a goes.
        session.Step(x, 1, expected);
        answered = (await serve.StepAsync(["a"], x, asList: false))[0].Output;
        AssertBitwise(expected, answered, "a's second step");
        Assert.Equal(1, (await serve.SendAsync(HttpMethod.Get, "health")).Json.GetProperty("streams").GetInt32());
        Assert.Equal(204, (await serve.SendAsync(HttpMethod.Delete, "streams/a")).Status);
        Assert.Equal(2, (await serve.StepAsync(["b", "c"], new float[6], asList: true)).Length);
        JsonElement rejected = (await serve.SendAsync(HttpMethod.Get, "metrics")).Json.GetProperty("rejected");
        Assert.Equal((12 + 1, 1, 1, 1), (rejected.GetProperty("badRequest").GetInt32(), rejected.GetProperty("tooLarge").GetInt32(),
            rejected.GetProperty("poolFull").GetInt32(), rejected.GetProperty("refusedByModel").GetInt32()));
    }

    [Fact]
    public async Task Shutdown_saves_the_streams_and_a_restart_continues_them_bit_for_bit_a_state_of_another_model_is_refused()
    {
        string state = Path.Combine(_dir, "streams.state");
        using var reference = new LstmStreamPool<string>(LstmModel.Create(_weights), capacity: 16);
        string[][] schedule = [["x", "y", "z"], ["y"], ["z", "x"], ["x", "y", "z"], ["y", "x"], ["z"]];
        var expected = new float[3 * Spec.OutputHiddenSize];

        async Task RunSteps(ServeProcess serve, int from, int to)
        {
            for (int t = from; t < to; t++)
            {
                string[] keys = schedule[t];
                float[] inputs = LstmCase.Uniform(keys.Length * Spec.InputSize, 50 + t, 1.5);
                (float[] Output, float[]? Head)[] answers = await serve.StepAsync(keys, inputs, asList: true);
                foreach (string key in keys.Where(k => !reference.Contains(k))) reference.Add(key);
                reference.Step(keys, inputs, expected.AsSpan(0, keys.Length * Spec.OutputHiddenSize));
                for (int row = 0; row < keys.Length; row++)
                    AssertBitwise(expected.AsSpan(row * Spec.OutputHiddenSize, Spec.OutputHiddenSize), answers[row].Output, $"step {t}, stream {keys[row]}");
            }
        }

        using (ServeProcess first = await ServeProcess.StartAsync(_dir, "--model", _model, "--state", state))
        {
            Assert.Contains($"no state at {state} yet", first.Output, StringComparison.Ordinal);
            await RunSteps(first, 0, 3);
            Assert.Equal(0, await first.StopAsync("INT"));
            Assert.Contains($"saved 3 streams to {state}", first.Output, StringComparison.Ordinal);
        }

        using (var saved = new LstmStreamPool<string>(LstmModel.Create(_weights), capacity: 16))
        {
            saved.RestoreState(state); // the file is the engine's saved state, readable without the service
            Assert.Equal(3, saved.Count);
        }

        using (ServeProcess second = await ServeProcess.StartAsync(_dir, "--model", _model, "--state", state))
        {
            Assert.Contains($"restored 3 streams from {state}", second.Output, StringComparison.Ordinal);
            await RunSteps(second, 3, schedule.Length);
            Assert.Equal(0, await second.StopAsync("TERM"));
        }

        string other = Path.Combine(_dir, "other.safetensors");
        LstmModelFile.Save(other, LstmWeights.CreateRandom(Spec, seed: 18));
        byte[] before = File.ReadAllBytes(state);
        var (code, _, err) = ServeProcess.Refused(_dir, "--model", other, "--state", state);
        ToolCommandTests.AssertOneLineOfBadInput((code, "", err), $"lstmsimd serve: --state {state}: The state was saved for another model");
        Assert.Equal(before, File.ReadAllBytes(state));
    }

    [Fact]
    public async Task The_requests_the_streaming_guide_shows_are_answered_as_it_says()
    {
        string guide = File.ReadAllText(Path.Combine(Docs.ReadmeExampleTests.RepositoryRoot(), "docs", "streaming.md"));
        string[] bodies = [.. Regex.Matches(guide, @"/step -d '([^']*)'").Select(m => m.Groups[1].Value)];
        Assert.Equal(2, bodies.Length);
        string pumps = Path.Combine(_dir, "pumps.safetensors");
        var spec = new LstmSpec(inputSize: 2, hiddenSize: 4);
        LstmModelFile.Save(pumps, LstmWeights.CreateRandom(spec, seed: 2), new LinearHead(4, 1, [0.5f, -0.5f, 0.25f, 1f]));
        using ServeProcess serve = await ServeProcess.StartAsync(_dir, "--model", pumps);
        string[][] keys = [["pump-7"], ["pump-9", "fan-2"]];
        for (int i = 0; i < bodies.Length; i++)
        {
            ServeProcess.Answer answer = await serve.PostAsync(bodies[i]);
            Assert.True(answer.Status == 200, $"{bodies[i]}: {answer.Status} {answer.Body}");
            JsonElement[] results = i == 0 ? [answer.Json] : [.. answer.Json.GetProperty("results").EnumerateArray()];
            Assert.Equal(keys[i], results.Select(r => r.GetProperty("key").GetString()));
            Assert.All(results, r => Assert.Equal((4, 1), (r.GetProperty("output").GetArrayLength(), r.GetProperty("head").GetArrayLength())));
        }

        Assert.Equal(204, (await serve.SendAsync(HttpMethod.Delete, "streams/fan-2")).Status);
        Assert.Equal(2, (await serve.SendAsync(HttpMethod.Get, "health")).Json.GetProperty("streams").GetInt32());
    }

    [Fact]
    public void Bad_options_and_models_that_cannot_stream_are_refused_in_one_line()
    {
        string garbage = Path.Combine(_dir, "garbage.safetensors");
        File.WriteAllText(garbage, "not a model");
        string bidirectional = Path.Combine(_dir, "bidirectional.safetensors");
        LstmModelFile.Save(bidirectional, LstmWeights.CreateRandom(new LstmSpec(inputSize: 2, hiddenSize: 4, bidirectional: true), seed: 1));
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", garbage), "garbage.safetensors");
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", bidirectional), "a bidirectional LSTM needs whole sequences and cannot stream.");
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", _model, "--address", "localhost"), "--address localhost: not an IP address");
        byte[] model = File.ReadAllBytes(_model);
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", _model, "--state", "model.safetensors"), "is the --model file; refusing to overwrite an input.");
        Assert.Equal(model, File.ReadAllBytes(_model));
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", _model, "--capacity", "0"), "--capacity 0: must be between 1 and");
        ToolCommandTests.AssertOneLineOfBadInput(ServeProcess.Refused(_dir, "--model", _model, "--weights", "int4"), "--weights int4: must be fp32, fp16, bf16 or int8.");
    }

    /// <summary>The head y = W·h + b from the service's own h, in double: what its 'head' must be within the contract.</summary>
    private double[] HeadOf(float[] h)
    {
        var y = new double[_head.OutputSize];
        for (int o = 0; o < y.Length; o++)
        {
            double sum = _head.Bias[o];
            for (int j = 0; j < _head.InputSize; j++) sum += (double)_head.Weight[o * _head.InputSize + j] * h[j];
            y[o] = sum;
        }

        return y;
    }

    private static void AssertBitwise(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]))
                Assert.Fail($"{what}: element {i} is {actual[i]:R}, expected {expected[i]:R}");
    }
}
