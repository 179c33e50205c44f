using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using Xunit;

namespace LstmSimd.Tests.Tool;

/// <summary><c>lstmsimd serve</c> as a child process on a free loopback port, with an HTTP client for it.</summary>
internal sealed partial class ServeProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _out = new(), _err = new();
    private readonly TaskCompletionSource<Uri> _listening = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private ServeProcess(string directory, string[] args)
    {
        _process = ToolCli.Start(directory, ["serve", "--port", "0", .. args]);
        _process.OutputDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_out) _out.AppendLine(e.Data);
            if (Listening().Match(e.Data) is { Success: true } match) _listening.TrySetResult(new Uri(match.Groups[1].Value));
        };
        _process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (_err) _err.AppendLine(e.Data);
        };
        _process.BeginOutputReadLine();
        _process.BeginErrorReadLine();
    }

    // Long enough for a request that waits behind every other test's work on a loaded two-core CI machine (the scalar suite
    // once took a crowd of requests past a minute): the limit is there to catch a hang, not to time the service.
    public HttpClient Http { get; } = new() { Timeout = TimeSpan.FromMinutes(5) };

    public string Output
    {
        get
        {
            lock (_out) return _out.ToString();
        }
    }

    public string Error
    {
        get
        {
            lock (_err) return _err.ToString();
        }
    }

    /// <summary>Starts the service and waits until it listens (at most a minute: start-up JIT-compiles on a loaded machine).</summary>
    public static async Task<ServeProcess> StartAsync(string directory, params string[] args)
    {
        var serve = new ServeProcess(directory, args);
        Task exited = serve._process.WaitForExitAsync();
        Task first = await Task.WhenAny(serve._listening.Task, exited, Task.Delay(TimeSpan.FromSeconds(60)));
        if (first != serve._listening.Task)
        {
            serve.Dispose();
            Assert.Fail($"serve did not start listening (exited: {exited.IsCompleted}); stdout: {serve.Output} stderr: {serve.Error}");
        }

        serve.Http.BaseAddress = await serve._listening.Task;
        return serve;
    }

    /// <summary>
    /// Runs <c>serve</c> with arguments that must be refused before it listens: exit code, stdout, stderr. Synchronous on
    /// purpose: an exit seen through the thread pool can wait behind the other tests' work on a loaded machine.
    /// </summary>
    public static (int Code, string Out, string Err) Refused(string directory, params string[] args) =>
        ToolCli.Run(directory, ["serve", "--port", "0", .. args]);

    /// <summary>Sends a signal (INT as Ctrl+C does, or TERM) and waits for the process to exit; returns its exit code.</summary>
    public async Task<int> StopAsync(string signal)
    {
        using (Process kill = Process.Start("kill", [$"-{signal}", _process.Id.ToString(CultureInfo.InvariantCulture)])!) await kill.WaitForExitAsync();
        Assert.True(_process.WaitForExit(120_000), $"serve did not exit within two minutes of SIG{signal}; stdout: {Output} stderr: {Error}");
        _process.WaitForExit(); // the output is read to its end
        return _process.ExitCode;
    }

    /// <summary>POSTs <paramref name="json"/> to /step: the status, the parsed body and the Retry-After header.</summary>
    public async Task<Answer> PostAsync(string json)
    {
        using var content = new StringContent(json, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));
        using HttpResponseMessage response = await Http.PostAsync(new Uri("step", UriKind.Relative), content);
        return await Answer.ReadAsync(response);
    }

    public async Task<Answer> SendAsync(HttpMethod method, string path)
    {
        using var request = new HttpRequestMessage(method, new Uri(path, UriKind.Relative));
        using HttpResponseMessage response = await Http.SendAsync(request);
        return await Answer.ReadAsync(response);
    }

    /// <summary>
    /// Steps the streams named in <paramref name="keys"/> with <paramref name="inputs"/> [k, I] in one request (a list
    /// when <paramref name="asList"/>); returns each stream's output and head output in the order of the keys.
    /// </summary>
    public async Task<(float[] Output, float[]? Head)[]> StepAsync(string[] keys, float[] inputs, bool asList)
    {
        Answer answer = await PostAsync(StepJson(keys, inputs, asList));
        Assert.True(answer.Status == 200, $"status {answer.Status}: {answer.Body}");
        JsonElement[] results = asList ? [.. answer.Json.GetProperty("results").EnumerateArray()] : [answer.Json];
        Assert.Equal(keys.Length, results.Length);
        var outputs = new (float[], float[]?)[keys.Length];
        for (int i = 0; i < keys.Length; i++)
        {
            Assert.Equal(keys[i], results[i].GetProperty("key").GetString());
            outputs[i] = (Floats(results[i].GetProperty("output")), results[i].TryGetProperty("head", out JsonElement head) ? Floats(head) : null);
        }

        return outputs;
    }

    /// <summary>The body of a step request; floats as round-trip text, so the service reads exactly these values.</summary>
    public static string StepJson(string[] keys, float[] inputs, bool asList)
    {
        int inputSize = inputs.Length / keys.Length;
        IEnumerable<string> steps = keys.Select((key, i) =>
            $"{{\"key\":{JsonSerializer.Serialize(key)},\"input\":[{string.Join(",", inputs.Skip(i * inputSize).Take(inputSize).Select(v => v.ToString("R", CultureInfo.InvariantCulture)))}]}}");
        return asList ? $"{{\"steps\":[{string.Join(",", steps)}]}}" : steps.Single();
    }

    public void Dispose()
    {
        Http.Dispose();
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.WaitForExit();
        _process.Dispose();
    }

    private static float[] Floats(JsonElement array) => [.. array.EnumerateArray().Select(v => v.GetSingle())];

    [GeneratedRegex(@"^listening on (http://\S+)")]
    private static partial Regex Listening();

    /// <summary>An HTTP answer: status, body text, the body as JSON, and Retry-After when given.</summary>
    internal sealed record Answer(int Status, string Body, JsonElement Json, string? RetryAfter)
    {
        public string Error => Json.GetProperty("error").GetString()!;

        public static async Task<Answer> ReadAsync(HttpResponseMessage response)
        {
            string body = await response.Content.ReadAsStringAsync();
            JsonElement json = default;
            if (body.Length > 0)
            {
                using var document = JsonDocument.Parse(body);
                json = document.RootElement.Clone();
            }

            return new Answer((int)response.StatusCode, body, json, response.Headers.RetryAfter?.ToString());
        }
    }
}
