using System.Globalization;
using System.Net;
using System.Text.RegularExpressions;
using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.LocalCluster;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Testing;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Hosting;

/// <summary>The operator process as a platform team runs it: health, readiness of leader and standby, metrics, leader election.</summary>
public sealed class OperatorHostTests
{
    private static async Task<(WebApplication App, string Url)> StartOperatorAsync(ControlPlane plane, string leaseNamespace,
        string identity)
    {
        var url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        var app = OperatorHost.Build(new OperatorOptions
        {
            Kubeconfig = plane.KubeconfigPath,
            ListenUrl = url,
            LeaderElection = true,
            LeaseNamespace = leaseNamespace,
            Identity = identity,
        }, services => services.AddSingleton(new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry()))); // as its own process
        await app.StartAsync();
        return (app, url);
    }

    [Test]
    public async Task BothReplicasAreReady_ExactlyOneLeads_AndWhenTheLeaderStopsTheStandbyTakesOver()
    {
        var plane = await ControlPlane.SharedAsync();
        using (var client = plane.CreateClient())
        {
            await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
        }

        var leaseNamespace = await plane.CreateNamespaceAsync("lease");
        var (first, firstUrl) = await StartOperatorAsync(plane, leaseNamespace, "first");
        var (second, secondUrl) = await StartOperatorAsync(plane, leaseNamespace, "second");
        using var http = new HttpClient();
        WebApplication? stopped = null;
        try
        {
            Assert.That((await http.GetAsync($"{secondUrl}/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
            await ControlPlane.WaitUntilAsync(async () => await ReadinessAsync(http, firstUrl) is (HttpStatusCode.OK, _)
                    && await ReadinessAsync(http, secondUrl) is (HttpStatusCode.OK, _),
                TimeSpan.FromSeconds(60), "both replicas ready");
            await ControlPlane.WaitUntilAsync(async () => await LeaderGaugesAsync(http, (firstUrl, "first"), (secondUrl, "second")) is [1, 0] or [0, 1],
                TimeSpan.FromSeconds(30), "one replica leads");

            // Leadership is settled and stays so over a few retry periods: still exactly one leader, both ready.
            await Task.Delay(TimeSpan.FromSeconds(5));
            var gauges = await LeaderGaugesAsync(http, (firstUrl, "first"), (secondUrl, "second"));
            Assert.That(gauges.Sum(), Is.EqualTo(1), "exactly one leader");
            var (leaderUrl, standbyUrl) = gauges[0] == 1 ? (firstUrl, secondUrl) : (secondUrl, firstUrl);
            Assert.That(await ReadinessAsync(http, leaderUrl), Is.EqualTo((HttpStatusCode.OK, "ok: leader")));
            Assert.That(await ReadinessAsync(http, standbyUrl), Is.EqualTo((HttpStatusCode.OK, "ok: standby")));
            Assert.That(await http.GetStringAsync($"{leaderUrl}/metrics"), Does.Contain("cd4ml_workqueue_depth"));

            stopped = leaderUrl == firstUrl ? first : second;
            await stopped.StopAsync();
            await ControlPlane.WaitUntilAsync(async () => await ReadinessAsync(http, standbyUrl) == (HttpStatusCode.OK, "ok: leader"),
                TimeSpan.FromSeconds(20), "the standby leads after the leader stopped");
            Assert.That(await LeaderGaugesAsync(http, (standbyUrl, standbyUrl == firstUrl ? "first" : "second")), Is.EqualTo(new[] { 1 }));
        }
        finally
        {
            foreach (var app in new[] { first, second })
            {
                if (app != stopped)
                {
                    await app.StopAsync();
                }

                await app.DisposeAsync();
            }
        }
    }

    private static async Task<(HttpStatusCode Code, string Body)> ReadinessAsync(HttpClient http, string url)
    {
        using var response = await http.GetAsync($"{url}/readyz");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary>Each replica's own <c>cd4ml_leader</c> value (-1 while it reports none).</summary>
    private static async Task<int[]> LeaderGaugesAsync(HttpClient http, params (string Url, string Identity)[] replicas)
    {
        var gauges = new List<int>();
        foreach (var (url, identity) in replicas)
        {
            var match = Regex.Match(await http.GetStringAsync($"{url}/metrics"), $"^cd4ml_leader\\{{identity=\"{identity}\"\\}} (\\d+)",
                RegexOptions.Multiline);
            gauges.Add(match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : -1);
        }

        return [.. gauges];
    }
}
