using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Http.Headers;
using System.Text;
using System.Text.Json;

namespace Cd4ml.Serving.Load;

/// <summary>How much traffic to send: <see cref="Rate"/> requests per second in all (0: as fast as the workers go).</summary>
public sealed record LoadSettings(double Rate, int Concurrency, bool Feedback)
{
    /// <summary>A worker's connection is replaced this often, so a Service spreads the workers over new Pods as they come.</summary>
    public TimeSpan ConnectionLifetime { get; init; } = TimeSpan.FromSeconds(5);

    public TimeSpan Timeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>What the load generator saw in one interval (or in all, for the totals).</summary>
public sealed record LoadReport(TimeSpan Elapsed, long Requests, long Ok, long ServerErrors, long ClientErrors, long Failed,
    long FeedbackSent, long FeedbackFailed, double MeanMilliseconds, double MaxMilliseconds,
    IReadOnlyDictionary<string, long> ByVersion)
{
    /// <summary>One line: rate, answers by kind, latency and the share each model version answered.</summary>
    public string Describe()
    {
        var seconds = Math.Max(Elapsed.TotalSeconds, 0.001);
        var line = new StringBuilder(FormattableString.Invariant(
            $"{Requests / seconds:F1} req/s  ok {Ok}  5xx {ServerErrors}  4xx {ClientErrors}  failed {Failed}  "));
        line.Append(FormattableString.Invariant($"latency mean {MeanMilliseconds:F1} ms max {MaxMilliseconds:F0} ms"));
        if (FeedbackSent + FeedbackFailed > 0)
        {
            line.Append(FormattableString.Invariant($"  feedback {FeedbackSent}"));
            if (FeedbackFailed > 0)
            {
                line.Append(FormattableString.Invariant($" ({FeedbackFailed} failed)"));
            }
        }

        var answered = ByVersion.Values.Sum();
        if (answered > 0)
        {
            line.Append("  answered by ").AppendJoin(", ", ByVersion.Where(v => v.Value > 0).OrderBy(v => v.Key, StringComparer.Ordinal)
                .Select(v => FormattableString.Invariant($"{v.Key} {100.0 * v.Value / answered:F0}%")));
        }

        return line.ToString();
    }
}

/// <summary>
/// Steady traffic to a model server's /predict with rows of a dataset, optionally followed by /feedback with each row's
/// true label. Each worker keeps one connection (replaced every few seconds) so its feedback reaches the Pod that made
/// the prediction when the target is a Service. A plain loop: runs until cancelled.
/// </summary>
public sealed class LoadGenerator(Func<Uri> target, IReadOnlyList<LoadRow> rows, LoadSettings settings, TimeProvider time)
{
    private readonly ConcurrentDictionary<string, long> byVersion = new(StringComparer.Ordinal);
    private readonly ConcurrentDictionary<string, long> intervalByVersion = new(StringComparer.Ordinal);
    private long started;
    private long requests, ok, serverErrors, clientErrors, failed, feedbackSent, feedbackFailed, latencyTicks, maxLatencyTicks;
    private long scheduled, paceStart, maxLatencyAllTicks;
    private Snapshot last = new(0, 0, 0, 0, 0, 0, 0, 0);

    /// <summary>Everything since the start.</summary>
    public LoadReport Totals => Report(new Snapshot(0, 0, 0, 0, 0, 0, 0, 0), started, byVersion, Interlocked.Read(ref maxLatencyAllTicks));

    /// <summary>Answers of one status class; 0 for connection failures and timeouts.</summary>
    public long Count(int statusClass) => statusClass switch
    {
        2 => Interlocked.Read(ref ok),
        4 => Interlocked.Read(ref clientErrors),
        5 => Interlocked.Read(ref serverErrors),
        _ => Interlocked.Read(ref failed),
    };

    /// <summary>Successful answers by the model version that gave them (the response's <c>version</c>).</summary>
    public IReadOnlyDictionary<string, long> AnsweredBy => byVersion;

    /// <summary>Sends until <paramref name="ct"/> is cancelled, calling <paramref name="report"/> once per <paramref name="interval"/>.</summary>
    public async Task RunAsync(TimeSpan interval, Action<LoadReport> report, CancellationToken ct)
    {
        started = paceStart = time.GetTimestamp();
        var workers = Enumerable.Range(0, Math.Max(1, settings.Concurrency)).Select(i => Task.Run(() => WorkAsync(i, ct), CancellationToken.None)).ToList();
        var intervalStart = started;
        try
        {
            while (!ct.IsCancellationRequested)
            {
                await Task.Delay(interval, time, ct);
                var now = time.GetTimestamp();
                var max = Interlocked.Exchange(ref maxLatencyTicks, 0);
                var counts = intervalByVersion.ToDictionary(v => v.Key, v => v.Value, StringComparer.Ordinal);
                foreach (var (version, n) in counts)
                {
                    intervalByVersion.AddOrUpdate(version, 0, (_, current) => current - n);
                }

                var current = Take();
                report(Report(last, intervalStart, counts, max, current));
                last = current;
                intervalStart = now;
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
            // Stopping is the normal end.
        }

        await Task.WhenAll(workers);
    }

    private async Task WorkAsync(int worker, CancellationToken ct)
    {
        using var handler = new SocketsHttpHandler { MaxConnectionsPerServer = 1, PooledConnectionLifetime = settings.ConnectionLifetime };
        using var http = new HttpClient(handler) { Timeout = settings.Timeout };
        var random = new Random(worker * 7919 + Environment.ProcessId);
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await WaitForSlotAsync(ct);
                var row = rows[random.Next(rows.Count)];
                // Prediction and feedback go to the same server.
                var server = target();
                var predictId = await PredictAsync(http, server, row, ct);
                if (predictId is not null && settings.Feedback && row.Label is not null)
                {
                    await FeedbackAsync(http, server, row, predictId, ct);
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>Paces all workers together to <see cref="LoadSettings.Rate"/>: request n is due at start + n / rate.</summary>
    private async Task WaitForSlotAsync(CancellationToken ct)
    {
        if (settings.Rate <= 0)
        {
            return;
        }

        var n = Interlocked.Increment(ref scheduled) - 1;
        var due = TimeSpan.FromSeconds(n / settings.Rate);
        var wait = due - time.GetElapsedTime(Interlocked.Read(ref paceStart));
        if (wait < -TimeSpan.FromSeconds(1))
        {
            // Far behind (a slow server): start counting again rather than send a burst to catch up.
            Interlocked.Exchange(ref paceStart, time.GetTimestamp() - (long)(time.TimestampFrequency * (n / settings.Rate)));
        }
        else if (wait > TimeSpan.Zero)
        {
            await Task.Delay(wait, time, ct);
        }
    }

    /// <summary>Sends one row; the prediction id when it was answered with 200.</summary>
    private async Task<string?> PredictAsync(HttpClient http, Uri server, LoadRow row, CancellationToken ct)
    {
        var begin = Stopwatch.GetTimestamp();
        Interlocked.Increment(ref requests);
        try
        {
            using var response = await http.PostAsync(new Uri(server, "predict"), Json(row.Body), ct);
            var body = await response.Content.ReadAsByteArrayAsync(ct);
            RecordLatency(Stopwatch.GetElapsedTime(begin));
            var status = (int)response.StatusCode;
            if (status >= 500)
            {
                Interlocked.Increment(ref serverErrors);
                return null;
            }

            if (status >= 400)
            {
                Interlocked.Increment(ref clientErrors);
                return null;
            }

            Interlocked.Increment(ref ok);
            using var answer = JsonDocument.Parse(body);
            if (answer.RootElement.TryGetProperty("version", out var version) && version.GetString() is { } name)
            {
                byVersion.AddOrUpdate(name, 1, (_, n) => n + 1);
                intervalByVersion.AddOrUpdate(name, 1, (_, n) => n + 1);
            }

            return answer.RootElement.TryGetProperty("predictions", out var predictions) && predictions.GetArrayLength() > 0
                   && predictions[0].TryGetProperty("predictionId", out var id)
                ? id.GetString()
                : null;
        }
        catch (Exception e) when (e is HttpRequestException or JsonException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            Interlocked.Increment(ref failed);
            return null;
        }
    }

    private async Task FeedbackAsync(HttpClient http, Uri server, LoadRow row, string predictionId, CancellationToken ct)
    {
        try
        {
            using var response = await http.PostAsync(new Uri(server, "feedback"), Json(row.FeedbackBody(predictionId)), ct);
            Interlocked.Increment(ref response.IsSuccessStatusCode ? ref feedbackSent : ref feedbackFailed);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException && !ct.IsCancellationRequested)
        {
            Interlocked.Increment(ref feedbackFailed);
        }
    }

    private void RecordLatency(TimeSpan latency)
    {
        Interlocked.Add(ref latencyTicks, latency.Ticks);
        RaiseTo(ref maxLatencyTicks, latency.Ticks);
        RaiseTo(ref maxLatencyAllTicks, latency.Ticks);
    }

    private static void RaiseTo(ref long max, long value)
    {
        var current = Interlocked.Read(ref max);
        while (value > current && Interlocked.CompareExchange(ref max, value, current) != current)
        {
            current = Interlocked.Read(ref max);
        }
    }

    private static StringContent Json(string body) =>
        new(body, Encoding.UTF8, new MediaTypeHeaderValue("application/json"));

    private Snapshot Take() => new(Interlocked.Read(ref requests), Interlocked.Read(ref ok), Interlocked.Read(ref serverErrors),
        Interlocked.Read(ref clientErrors), Interlocked.Read(ref failed), Interlocked.Read(ref feedbackSent),
        Interlocked.Read(ref feedbackFailed), Interlocked.Read(ref latencyTicks));

    private LoadReport Report(Snapshot from, long since, IReadOnlyDictionary<string, long> versions, long maxTicks, Snapshot? to = null)
    {
        var now = to ?? Take();
        var answered = now.Ok + now.ServerErrors + now.ClientErrors - from.Ok - from.ServerErrors - from.ClientErrors;
        var mean = answered == 0 ? 0 : TimeSpan.FromTicks((now.LatencyTicks - from.LatencyTicks) / answered).TotalMilliseconds;
        return new LoadReport(time.GetElapsedTime(since), now.Requests - from.Requests, now.Ok - from.Ok,
            now.ServerErrors - from.ServerErrors, now.ClientErrors - from.ClientErrors, now.Failed - from.Failed,
            now.FeedbackSent - from.FeedbackSent, now.FeedbackFailed - from.FeedbackFailed, mean,
            TimeSpan.FromTicks(maxTicks).TotalMilliseconds, versions);
    }

    private sealed record Snapshot(long Requests, long Ok, long ServerErrors, long ClientErrors, long Failed, long FeedbackSent,
        long FeedbackFailed, long LatencyTicks);
}
