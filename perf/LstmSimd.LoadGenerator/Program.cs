using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Text;
using System.Threading.Channels;

// Open-loop load for `lstmsimd serve`: requests are due at a fixed rate whether or not earlier ones were answered, and each
// latency is measured from when its request was due, not from when a free connection sent it. A closed-loop client (wrk)
// sends the next request only after an answer, so a stall delays the requests that would have measured it and the stall
// hides from its percentiles ("coordinated omission"); here a stall shows in every request due during it.
//
//   LstmSimd.LoadGenerator URL RATE SECONDS [STREAMS=100] [INPUTS=8] [CONNECTIONS=64] [SAMPLE_RSS_PID]
//
// Each request POSTs one step ({"key": "s<k>", "input": [...]}) to URL/step for a stream chosen at random among STREAMS.
// Prints one line: RESULT rate=… due=… sent=… ok=… refused429=… other=… errors=… p50_us=… p90_us=… p99_us=… p999_us=…
// max_us=… late_p99_us=… (how late the scheduler released requests: the generator's own lag, which the latencies include),
// and with SAMPLE_RSS_PID, the process's resident memory every 10 s (rss_kib=…).
if (args.Length < 3 || !double.TryParse(args[1], CultureInfo.InvariantCulture, out double rate) || rate <= 0
    || !double.TryParse(args[2], CultureInfo.InvariantCulture, out double seconds) || seconds <= 0)
{
    Console.Error.WriteLine("usage: LstmSimd.LoadGenerator URL RATE SECONDS [STREAMS=100] [INPUTS=8] [CONNECTIONS=64] [SAMPLE_RSS_PID]");
    return 2;
}

var target = new Uri(args[0].TrimEnd('/') + "/step");
int streams = args.Length > 3 ? int.Parse(args[3], CultureInfo.InvariantCulture) : 100;
int inputs = args.Length > 4 ? int.Parse(args[4], CultureInfo.InvariantCulture) : 8;
int connections = args.Length > 5 ? int.Parse(args[5], CultureInfo.InvariantCulture) : 64;
int? rssPid = args.Length > 6 ? int.Parse(args[6], CultureInfo.InvariantCulture) : null;

long due = (long)Math.Round(rate * seconds);
string input = "[" + string.Join(",", Enumerable.Range(1, inputs).Select(i => ((i % 7) * 0.1 - 0.3).ToString("0.000", CultureInfo.InvariantCulture))) + "]";
var latencies = new long[due]; // ticks from due to answered, per request; -1 when it got no answer
var lateness = new long[due];
int ok = 0, refused = 0, other = 0, errors = 0, sent = 0;

using var client = new HttpClient(new SocketsHttpHandler { MaxConnectionsPerServer = connections, PooledConnectionLifetime = Timeout.InfiniteTimeSpan })
{
    Timeout = TimeSpan.FromSeconds(30),
    DefaultRequestVersion = HttpVersion.Version11,
};
var queue = Channel.CreateBounded<long>(new BoundedChannelOptions((int)Math.Min(due, 1 << 20)) { SingleWriter = true });
var clock = Stopwatch.StartNew();
double ticksPerRequest = Stopwatch.Frequency / rate;

async Task Send()
{
    var random = new Random(Environment.CurrentManagedThreadId * 7919);
    await foreach (long i in queue.Reader.ReadAllAsync())
    {
        long dueAt = (long)(i * ticksPerRequest);
        using var content = new StringContent($"{{\"key\":\"s{random.Next(streams) + 1}\",\"input\":{input}}}", Encoding.UTF8, "application/json");
        Interlocked.Increment(ref sent);
        try
        {
            using HttpResponseMessage response = await client.PostAsync(target, content).ConfigureAwait(false);
            await response.Content.ReadAsByteArrayAsync().ConfigureAwait(false);
            latencies[i] = clock.ElapsedTicks - dueAt;
            switch ((int)response.StatusCode)
            {
                case 200: Interlocked.Increment(ref ok); break;
                case 429: Interlocked.Increment(ref refused); break;
                default: Interlocked.Increment(ref other); break;
            }
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            latencies[i] = -1;
            Interlocked.Increment(ref errors);
        }
    }
}

Task[] senders = [.. Enumerable.Range(0, connections).Select(_ => Task.Run(Send))];
var rss = new List<long>();
long nextSample = 0;
// The scheduler releases every request whose time has come, then sleeps until the next is due (the OS timer's
// granularity is the generator's lag, reported as late_p99_us).
for (long i = 0; i < due;)
{
    long now = clock.ElapsedTicks;
    for (; i < due && (long)(i * ticksPerRequest) <= now; i++)
    {
        lateness[i] = now - (long)(i * ticksPerRequest);
        queue.Writer.TryWrite(i);
    }

    if (rssPid is { } pid && now >= nextSample)
    {
        rss.Add(ResidentKib(pid));
        nextSample = now + 10 * Stopwatch.Frequency;
    }

    if (i < due)
    {
        double wait = ((long)(i * ticksPerRequest) - clock.ElapsedTicks) * 1000.0 / Stopwatch.Frequency;
        if (wait >= 1) Thread.Sleep((int)wait);
        else Thread.Yield();
    }
}

queue.Writer.Complete();
await Task.WhenAll(senders);
double elapsed = clock.Elapsed.TotalSeconds;

long[] answered = [.. latencies.Where(l => l >= 0).Order()];
long[] late = [.. lateness.Order()];
string Us(long[] sorted, double q) => sorted.Length == 0 ? "nan"
    : (sorted[Math.Min(sorted.Length - 1, (int)Math.Ceiling(q * sorted.Length) - 1)] * 1e6 / Stopwatch.Frequency).ToString("0", CultureInfo.InvariantCulture);
var line = new StringBuilder().Append(CultureInfo.InvariantCulture, $"RESULT rate={rate} seconds={elapsed:0.0} due={due} sent={sent} ok={ok} refused429={refused} other={other} errors={errors} ");
line.Append(CultureInfo.InvariantCulture, $"ok_per_s={ok / elapsed:0} p50_us={Us(answered, 0.5)} p90_us={Us(answered, 0.9)} p99_us={Us(answered, 0.99)} p999_us={Us(answered, 0.999)} max_us={Us(answered, 1)} late_p99_us={Us(late, 0.99)}");
if (rss.Count > 0) line.Append(" rss_kib=").Append(string.Join(',', rss));
Console.WriteLine(line);
return errors == 0 && other == 0 ? 0 : 1;

static long ResidentKib(int pid)
{
    foreach (string l in File.ReadLines($"/proc/{pid}/status"))
        if (l.StartsWith("VmRSS:", StringComparison.Ordinal)) return long.Parse(l.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    return -1;
}
