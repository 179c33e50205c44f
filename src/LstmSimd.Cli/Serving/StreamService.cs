using System.Diagnostics;
using System.Net;
using System.Text.Json;
using LstmSimd.Cli.Tool;
using LstmSimd.IO;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace LstmSimd.Cli.Serving;

/// <summary>How <c>lstmsimd serve</c> listens, queues and persists.</summary>
internal sealed record ServeSettings(IPAddress Address, int Port, string? StatePath, int QueueCapacity, long MaxBodyBytes, TimeSpan SaveEvery, TimeSpan BatchWindow)
{
    /// <summary>The most connections Kestrel holds open at once; more wait in the listen backlog.</summary>
    public const int MaxConnections = 1024;
}

/// <summary>
/// The HTTP service of <c>lstmsimd serve</c>, on Kestrel: <c>POST /step</c>, <c>DELETE /streams/{key}</c>,
/// <c>GET /health</c>, <c>GET /metrics</c>. Every step goes through one <see cref="StepBatcher"/>; on shutdown (Ctrl+C,
/// SIGTERM) the server finishes the requests it holds, the batcher answers what is queued, and the streams' state is saved.
/// </summary>
internal static class StreamService
{
    /// <summary>Serves until the process is asked to stop; returns the exit code.</summary>
    public static async Task<int> RunAsync(ServedStreams streams, ServeSettings settings, TextWriter log)
    {
        var metrics = new ServiceMetrics(streams.Capacity);
        var batcher = new StepBatcher(streams, metrics, settings.QueueCapacity, settings.BatchWindow);
        WebApplication app = Build(settings);
        app.MapPost("/step", context => StepAsync(context, batcher, metrics, streams, settings.MaxBodyBytes));
        app.MapDelete("/streams/{key}", (HttpContext context, string key) => RemoveAsync(context, batcher, metrics, key));
        app.MapGet("/health", context => WriteJsonAsync(context, 200, json =>
        {
            json.WriteStartObject();
            json.WriteString("status", batcher.IsCompleting ? "stopping" : "ok");
            json.WriteNumber("streams", streams.Count);
            json.WriteNumber("capacity", streams.Capacity);
            json.WriteNumber("queued", batcher.Queued);
            json.WriteEndObject();
        }));
        app.MapGet("/metrics", context => WriteJsonAsync(context, 200, json => metrics.Write(json, streams.Count, streams.Capacity, batcher.Queued, batcher.QueueCapacity)));

        await app.StartAsync().ConfigureAwait(false);
        string address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        log.WriteLine($"listening on {address} (POST /step, DELETE /streams/{{key}}, GET /health, GET /metrics); Ctrl+C or SIGTERM stops{(settings.StatePath is null ? "" : " and saves the state")}");

        using var stopSaving = new CancellationTokenSource();
        Task saving = settings.StatePath is null || settings.SaveEvery <= TimeSpan.Zero
            ? Task.CompletedTask
            : SaveEveryAsync(streams, settings.StatePath, settings.SaveEvery, stopSaving.Token);
        await app.WaitForShutdownAsync().ConfigureAwait(false); // the server has stopped and answered what it held
        await batcher.CompleteAsync().ConfigureAwait(false);
        await stopSaving.CancelAsync().ConfigureAwait(false);
        await saving.ConfigureAwait(false);
        await app.DisposeAsync().ConfigureAwait(false);
        if (settings.StatePath is not null)
        {
            streams.SaveState(settings.StatePath);
            log.WriteLine($"saved {streams.Count} streams to {settings.StatePath}");
        }

        return ToolExit.Ok;
    }

    private static WebApplication Build(ServeSettings settings)
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { Args = [] });
        builder.Logging.ClearProviders(); // the tool prints its own lines; refusals are counted in /metrics
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(10));
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(settings.Address, settings.Port);
            kestrel.AddServerHeader = false;
            kestrel.Limits.MaxRequestBodySize = settings.MaxBodyBytes;
            kestrel.Limits.MaxConcurrentConnections = ServeSettings.MaxConnections;
        });
        return builder.Build();
    }

    private static async Task StepAsync(HttpContext context, StepBatcher batcher, ServiceMetrics metrics, ServedStreams streams, long maxBodyBytes)
    {
        long start = Stopwatch.GetTimestamp();
        if (batcher.Queued >= batcher.QueueCapacity)
        {
            // Refused before its body is read: under overload, refusals must cost as little as possible.
            await RefuseFullAsync(context, batcher, metrics).ConfigureAwait(false);
            return;
        }

        PoolWork work;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(context.Request.Body, new JsonDocumentOptions { MaxDepth = 8 }, context.RequestAborted).ConfigureAwait(false);
            work = PoolWork.ParseStep(body.RootElement, streams.InputSize, streams.Capacity, streams.Takes);
        }
        catch (Exception e) when (RefusalOf(e, maxBodyBytes) is (int status, string reason))
        {
            await RefuseAsync(context, metrics, status, reason).ConfigureAwait(false);
            return;
        }

        if (!await EnqueueAsync(context, batcher, metrics, work).ConfigureAwait(false)) return;
        WorkOutcome outcome = await work.Done.Task.ConfigureAwait(false);
        if (outcome.Status != 200)
        {
            await RefuseAsync(context, metrics, outcome.Status, outcome.Reason!).ConfigureAwait(false);
            return;
        }

        metrics.Answered(start);
        await WriteJsonAsync(context, 200, json =>
        {
            if (work.IsList)
            {
                json.WriteStartObject();
                json.WriteStartArray("results");
            }

            for (int i = 0; i < work.Keys.Length; i++)
            {
                json.WriteStartObject();
                json.WriteString("key", work.Keys[i]);
                outcome.Answer!.Write(json, i);
                json.WriteEndObject();
            }

            if (work.IsList)
            {
                json.WriteEndArray();
                json.WriteEndObject();
            }
        }).ConfigureAwait(false);
    }

    private static async Task RemoveAsync(HttpContext context, StepBatcher batcher, ServiceMetrics metrics, string key)
    {
        PoolWork work;
        try
        {
            work = PoolWork.Removal(PoolWork.CheckKey(key, "the URL"));
        }
        catch (BadRequestException e)
        {
            await RefuseAsync(context, metrics, 400, e.Message).ConfigureAwait(false);
            return;
        }

        if (!await EnqueueAsync(context, batcher, metrics, work).ConfigureAwait(false)) return;
        WorkOutcome outcome = await work.Done.Task.ConfigureAwait(false);
        if (outcome.Status == 204) context.Response.StatusCode = 204;
        else await RefuseAsync(context, metrics, outcome.Status, outcome.Reason!).ConfigureAwait(false);
    }

    /// <summary>Queues <paramref name="work"/>, or answers 429 (queue full) or 503 (shutting down) and returns false.</summary>
    private static async Task<bool> EnqueueAsync(HttpContext context, StepBatcher batcher, ServiceMetrics metrics, PoolWork work)
    {
        if (batcher.TryEnqueue(work)) return true;
        if (batcher.IsCompleting)
        {
            await RefuseAsync(context, metrics, 503, "the service is shutting down.", shuttingDown: true).ConfigureAwait(false);
        }
        else
        {
            await RefuseFullAsync(context, batcher, metrics).ConfigureAwait(false);
        }

        return false;
    }

    private static Task RefuseFullAsync(HttpContext context, StepBatcher batcher, ServiceMetrics metrics)
    {
        context.Response.Headers.RetryAfter = "1";
        return RefuseAsync(context, metrics, 429, $"the queue is full ({batcher.QueueCapacity} requests wait for a step); retry later.");
    }

    /// <summary>The status and one-line reason for a request that could not be read, or null for an exception that is a bug.</summary>
    private static (int Status, string Reason)? RefusalOf(Exception e, long maxBodyBytes) => e switch
    {
        BadRequestException => (400, e.Message),
        JsonException => (400, $"malformed JSON: {e.Message}"),
        BadHttpRequestException bad when bad.StatusCode == 413 => (413, $"the body is larger than the {maxBodyBytes} bytes allowed (--max-body)."),
        BadHttpRequestException bad => (bad.StatusCode, bad.Message),
        _ => null,
    };

    private static Task RefuseAsync(HttpContext context, ServiceMetrics metrics, int status, string reason, bool shuttingDown = false)
    {
        metrics.Refused(status, shuttingDown);
        return WriteJsonAsync(context, status, json =>
        {
            json.WriteStartObject();
            json.WriteString("error", reason.ReplaceLineEndings(" "));
            json.WriteEndObject();
        });
    }

    // Keys and reasons as written (quotes, non-ASCII); the answers are JSON for programs, never embedded in HTML.
    private static readonly JsonWriterOptions WriterOptions = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    private static async Task WriteJsonAsync(HttpContext context, int status, Action<Utf8JsonWriter> write)
    {
        context.Response.StatusCode = status;
        context.Response.ContentType = "application/json";
        using (var json = new Utf8JsonWriter(context.Response.BodyWriter, WriterOptions)) write(json);
        await context.Response.BodyWriter.FlushAsync(context.RequestAborted).ConfigureAwait(false);
    }

    private static async Task SaveEveryAsync(ServedStreams streams, string path, TimeSpan interval, CancellationToken stop)
    {
        using var timer = new PeriodicTimer(interval);
        try
        {
            while (await timer.WaitForNextTickAsync(stop).ConfigureAwait(false))
            {
                try
                {
                    streams.SaveState(path);
                }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException)
                {
                    await Console.Error.WriteLineAsync($"lstmsimd serve: saving the state to {path} failed (the previous save stands): {e.Message}").ConfigureAwait(false);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // shutdown: the final save follows
        }
    }
}
