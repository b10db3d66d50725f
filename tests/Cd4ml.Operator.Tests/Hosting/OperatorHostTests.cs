using System.Net;
using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.LocalCluster;
using Cd4ml.Testing;
using Microsoft.AspNetCore.Builder;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Hosting;

/// <summary>The operator process as a platform team runs it: health, readiness, metrics, leader election.</summary>
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
        });
        await app.StartAsync();
        return (app, url);
    }

    [Test]
    public async Task Endpoints_ReportHealthReadinessByLeadershipAndCd4mlMetrics()
    {
        var plane = await ControlPlane.SharedAsync();
        using (var client = plane.CreateClient())
        {
            await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
        }

        var leaseNamespace = await plane.CreateNamespaceAsync("lease");
        var (leader, leaderUrl) = await StartOperatorAsync(plane, leaseNamespace, "first");
        using var http = new HttpClient();
        try
        {
            await ControlPlane.WaitUntilAsync(async () => (await http.GetAsync($"{leaderUrl}/readyz")).IsSuccessStatusCode,
                TimeSpan.FromSeconds(60), "the first operator ready (synced and leading)");
            var (standby, standbyUrl) = await StartOperatorAsync(plane, leaseNamespace, "second");
            try
            {
                Assert.That((await http.GetAsync($"{standbyUrl}/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
                await Task.Delay(TimeSpan.FromSeconds(3));
                var readiness = await http.GetAsync($"{standbyUrl}/readyz");
                Assert.That(readiness.StatusCode, Is.EqualTo(HttpStatusCode.ServiceUnavailable));
                Assert.That(await readiness.Content.ReadAsStringAsync(), Does.Contain("not leader"));

                var metrics = await http.GetStringAsync($"{leaderUrl}/metrics");
                Assert.That(metrics, Does.Contain("cd4ml_workqueue_depth").And.Contain("cd4ml_leader"));
                Assert.That(metrics, Does.Match(@"cd4ml_leader\{[^}]*\} 1"), "the leader reports itself");
            }
            finally
            {
                await standby.StopAsync();
                await standby.DisposeAsync();
            }
        }
        finally
        {
            await leader.StopAsync();
            await leader.DisposeAsync();
        }
    }
}
