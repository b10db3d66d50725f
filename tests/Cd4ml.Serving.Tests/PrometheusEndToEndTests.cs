using System.Net;
using System.Text.Json;
using Cd4ml.Testing;

namespace Cd4ml.Serving.Tests;

/// <summary>
/// A real Prometheus scrapes two real servers, stable and canary, each on its own loopback address and the same port,
/// as two pods would be; the canary analysis queries must see the fault injected into the canary.
/// </summary>
public sealed class PrometheusEndToEndTests
{
    internal const string ErrorRateQuery =
        "sum(rate(cd4ml_predictions_total{outcome=\"server_error\",track=\"{0}\"}[10s])) / sum(rate(cd4ml_predictions_total{track=\"{0}\"}[10s]))";

    internal const string P99Query =
        "histogram_quantile(0.99, sum by (le) (rate(cd4ml_prediction_duration_seconds_bucket{track=\"{0}\"}[10s])))";

    [Test]
    public async Task Prometheus_SeesTheCanaryErrorRateAndLatency_InjectedMidRun_WhileStableStaysClean()
    {
        var model = await ServingHarness.ModelAsync();
        var prometheus = await PrometheusServer.SharedAsync();
        var (stable, canary) = await StartPairAsync(model);
        await using var stableServer = stable;
        await using var canaryServer = canary;
        Assert.That((await ServingHarness.SettledAsync(stable)).IsReady && (await ServingHarness.SettledAsync(canary)).IsReady, Is.True);
        await prometheus.SetTargetsAsync(
        [
            (Target(stable), new Dictionary<string, string> { ["track"] = "stable", ["pod"] = "sales-stable-0" }),
            (Target(canary), new Dictionary<string, string> { ["track"] = "canary", ["pod"] = "sales-canary-0" }),
        ]);
        await prometheus.WaitForTargetsUpAsync([Target(stable), Target(canary)]);

        using var traffic = new CancellationTokenSource();
        var body = JsonSerializer.Serialize(ServingHarness.Requests(model.Holdout, 1)[0]);
        // Enough canary loops that several hundred canary requests fall in a 10 s window even with the injected 200 ms latency.
        var sender = SendTrafficAsync([(stable.Address, 2, TimeSpan.FromMilliseconds(10)), (canary.Address, 16, TimeSpan.Zero)], body, traffic.Token);
        try
        {
            await Task.Delay(TimeSpan.FromSeconds(3));
            var healthy = await WaitForValueAsync(prometheus, Query(ErrorRateQuery, "canary"), v => v is not null);
            Assert.That(healthy, Is.EqualTo(0), "no faults yet");

            var (code, _) = await ServingHarness.PostAsync(canary.Address, "/admin/fault", "{\"errorRate\": 0.3, \"latency\": \"200ms\"}");
            Assert.That(code, Is.EqualTo(HttpStatusCode.OK));
            // Once the 10 s window holds only faulty traffic, the ratio settles near the injected rate.
            await Task.Delay(TimeSpan.FromSeconds(11));

            var canaryErrors = await prometheus.QueryValueAsync(Query(ErrorRateQuery, "canary"));
            var stableErrors = await prometheus.QueryValueAsync(Query(ErrorRateQuery, "stable"));
            var canaryP99 = await prometheus.QueryValueAsync(Query(P99Query, "canary"));
            var stableP99 = await prometheus.QueryValueAsync(Query(P99Query, "stable"));
            var canaryRequests = await prometheus.QueryValueAsync("sum(increase(cd4ml_predictions_total{track=\"canary\"}[10s]))");
            var stableMedian = await prometheus.QueryValueAsync(Query(P99Query, "stable").Replace("0.99", "0.5", StringComparison.Ordinal));
            TestContext.Progress.WriteLine($"canary: {canaryRequests:F0} requests in 10 s, errors {canaryErrors:F3}, p99 {canaryP99:F4}s; stable: errors {stableErrors:F3}, p99 {stableP99:F4}s, p50 {stableMedian:F4}s");

            Assert.That(canaryErrors, Is.EqualTo(0.3).Within(0.1));
            Assert.That(stableErrors, Is.EqualTo(0));
            Assert.That(canaryP99, Is.GreaterThanOrEqualTo(0.2));
            // Stable's p99 catches any stall of a busy 2-core machine; its median shows it never got the injected latency.
            Assert.That(stableMedian, Is.LessThan(0.2));
            var ready = await prometheus.QueryAsync("cd4ml_model_ready");
            Assert.That(ready.Select(s => (s.Labels["track"], s.Labels["instance"], s.Value)),
                Is.EquivalentTo(new[] { ("stable", Target(stable), 1.0), ("canary", Target(canary), 1.0) }));
        }
        finally
        {
            await traffic.CancelAsync();
            await sender;
            await prometheus.SetTargetsAsync([]);
        }
    }

    private static string Query(string template, string track) => template.Replace("{0}", track, StringComparison.Ordinal);

    private static string Target(ModelServer server) => $"{server.Address.Host}:{server.Address.Port}";

    /// <summary>Starts stable on 127.0.1.1 and canary on 127.0.1.2, both on one port (retrying when the port is taken).</summary>
    private static async Task<(ModelServer Stable, ModelServer Canary)> StartPairAsync(TrainedModel model)
    {
        for (var attempt = 0; ; attempt++)
        {
            var port = ServingHarness.FreePort("127.0.1.1");
            var stable = await ServingHarness.StartAsync(ServingHarness.Settings(model, track: "stable", host: "127.0.1.1", port: port));
            try
            {
                return (stable, await ServingHarness.StartAsync(ServingHarness.Settings(model, track: "canary", host: "127.0.1.2", port: port)));
            }
            catch (IOException) when (attempt < 3)
            {
                await stable.DisposeAsync();
            }
        }
    }

    /// <summary>Independent request loops per server, so a slow canary does not slow the stable traffic.</summary>
    private static async Task SendTrafficAsync(IReadOnlyList<(Uri Server, int Loops, TimeSpan Pause)> servers, string body, CancellationToken cancellationToken)
    {
        using var http = new HttpClient();
        await Task.WhenAll(servers.SelectMany(target => Enumerable.Range(0, target.Loops).Select(async _ =>
        {
            while (!cancellationToken.IsCancellationRequested)
            {
                try
                {
                    using var content = new StringContent(body, System.Text.Encoding.UTF8, "application/json");
                    using var response = await http.PostAsync(new Uri(target.Server, "/predict"), content, cancellationToken);
                    if (target.Pause > TimeSpan.Zero)
                    {
                        await Task.Delay(target.Pause, cancellationToken);
                    }
                }
                catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
                {
                }
            }
        })));
    }

    private static async Task<double?> WaitForValueAsync(PrometheusServer prometheus, string query, Func<double?, bool> done)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            var value = await prometheus.QueryValueAsync(query);
            if (done(value) || DateTime.UtcNow > deadline)
            {
                return value;
            }

            await Task.Delay(250);
        }
    }
}
