using System.Diagnostics;
using System.Text.Json;

namespace LstmSimd.Cli.Serving;

/// <summary>
/// What <c>GET /metrics</c> reports: requests answered and refused (by reason), batches and their sizes in rows, and the
/// latency of answered step requests (from the request's arrival to its answer) over the most recent
/// <see cref="LatencyWindow"/> of them. Fixed memory; safe to update from any thread.
/// </summary>
internal sealed class ServiceMetrics
{
    /// <summary>How many of the latest step requests the latency percentiles cover.</summary>
    public const int LatencyWindow = 1 << 16;

    private readonly long[] _latencyTicks = new long[LatencyWindow];
    private long _latencyCount;
    private long _answered, _rows, _batches, _queueFull, _poolFull, _badRequest, _tooLarge, _refusedByModel, _shuttingDown, _failed;
    private readonly long[] _batchRows; // bucket b counts batches of [2^b, 2^(b+1)) rows

    public ServiceMetrics(int capacity) => _batchRows = new long[BucketOf(capacity) + 1];

    public void Answered(long startTimestamp)
    {
        Interlocked.Increment(ref _answered);
        long slot = Interlocked.Increment(ref _latencyCount) - 1;
        Volatile.Write(ref _latencyTicks[slot & (LatencyWindow - 1)], Stopwatch.GetTimestamp() - startTimestamp);
    }

    public void Batch(int rows)
    {
        Interlocked.Increment(ref _batches);
        Interlocked.Add(ref _rows, rows);
        Interlocked.Increment(ref _batchRows[BucketOf(rows)]);
    }

    /// <summary>Counts a refusal by its status: 429 queue full, 503 pool full or shutting down, 413, 422, other 4xx, 5xx (a failure of the service).</summary>
    public void Refused(int status, bool shuttingDown = false) => Interlocked.Increment(ref CounterOf(status, shuttingDown));

    private ref long CounterOf(int status, bool shuttingDown)
    {
        switch (status)
        {
            case 429: return ref _queueFull;
            case 503 when shuttingDown: return ref _shuttingDown;
            case 503: return ref _poolFull;
            case 413: return ref _tooLarge;
            case 422: return ref _refusedByModel;
            case >= 500: return ref _failed;
            default: return ref _badRequest;
        }
    }

    public void Write(Utf8JsonWriter json, int streams, int capacity, int queued, int queueCapacity)
    {
        long batches = Interlocked.Read(ref _batches), rows = Interlocked.Read(ref _rows);
        json.WriteStartObject();
        json.WriteNumber("requests", Interlocked.Read(ref _answered));
        json.WriteNumber("streamSteps", rows);
        json.WriteStartObject("rejected");
        json.WriteNumber("queueFull", Interlocked.Read(ref _queueFull));
        json.WriteNumber("poolFull", Interlocked.Read(ref _poolFull));
        json.WriteNumber("badRequest", Interlocked.Read(ref _badRequest));
        json.WriteNumber("tooLarge", Interlocked.Read(ref _tooLarge));
        json.WriteNumber("refusedByModel", Interlocked.Read(ref _refusedByModel));
        json.WriteNumber("shuttingDown", Interlocked.Read(ref _shuttingDown));
        json.WriteNumber("failed", Interlocked.Read(ref _failed));
        json.WriteEndObject();
        json.WriteNumber("batches", batches);
        json.WriteNumber("meanBatchRows", batches == 0 ? 0 : Math.Round((double)rows / batches, 2));
        json.WriteStartObject("batchRows");
        for (int b = 0; b < _batchRows.Length; b++)
        {
            long low = 1L << b, high = (1L << (b + 1)) - 1;
            json.WriteNumber(low == high ? $"{low}" : $"{low}-{high}", Interlocked.Read(ref _batchRows[b]));
        }

        json.WriteEndObject();
        WriteLatency(json);
        json.WriteNumber("streams", streams);
        json.WriteNumber("capacity", capacity);
        json.WriteNumber("queued", queued);
        json.WriteNumber("queueCapacity", queueCapacity);
        json.WriteEndObject();
    }

    private void WriteLatency(Utf8JsonWriter json)
    {
        int count = (int)Math.Min(Interlocked.Read(ref _latencyCount), LatencyWindow);
        var sorted = new long[count];
        for (int i = 0; i < count; i++) sorted[i] = Volatile.Read(ref _latencyTicks[i]);
        Array.Sort(sorted);
        json.WriteStartObject("latencyMicroseconds");
        json.WriteNumber("window", count);
        foreach ((string name, double quantile) in (ReadOnlySpan<(string, double)>)[("p50", 0.5), ("p99", 0.99), ("p999", 0.999)])
            json.WriteNumber(name, count == 0 ? 0 : Math.Round(sorted[Math.Min(count - 1, (int)(quantile * count))] * 1e6 / Stopwatch.Frequency, 1));
        json.WriteEndObject();
    }

    private static int BucketOf(int rows) => 31 - int.LeadingZeroCount(Math.Max(rows, 1));
}
