using System.Net;
using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.LocalCluster;
using Cd4ml.Operator;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Testing;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Cd4ml.Dashboard.Tests;

/// <summary>The operator process serves the dashboard only when told to (--dashboard, CD4ML_DASHBOARD).</summary>
public sealed class DashboardHostingTests
{
    [TestCase(false, HttpStatusCode.NotFound)]
    [TestCase(true, HttpStatusCode.OK)]
    public async Task Operator_ServesTheDashboardOnItsListener_OnlyWhenEnabled(bool enabled, HttpStatusCode expected)
    {
        var plane = await ControlPlane.SharedAsync();
        using var client = plane.CreateClient();
        await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
        var ns = await plane.CreateNamespaceAsync("dashboard-host");
        await new ResourceClient<ModelDeployment>(client).CreateAsync(new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "fraud", NamespaceProperty = ns },
            Spec = new ModelDeploymentSpec { ModelName = "fraud" },
        });

        var url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        await using var app = OperatorHost.Build(new OperatorOptions
        {
            Kubeconfig = plane.KubeconfigPath,
            ListenUrl = url,
            Namespace = ns,
            LeaderElection = false,
            Dashboard = enabled,
        }, services => services.AddSingleton(new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry())));
        await app.StartAsync();
        try
        {
            using var http = new HttpClient();
            Assert.That((await http.GetAsync($"{url}/healthz")).StatusCode, Is.EqualTo(HttpStatusCode.OK));
            var response = await http.GetAsync($"{url}/dashboard");
            Assert.That(response.StatusCode, Is.EqualTo(expected));
            if (enabled)
            {
                // Read from the operator's own informer cache once it has synced.
                await ControlPlane.WaitUntilAsync(async () => (await http.GetStringAsync($"{url}/dashboard?refresh=0")).Contains("data-deployment=\"fraud\""),
                    TimeSpan.FromSeconds(30), "the overview lists the Deployment");
            }
        }
        finally
        {
            await app.StopAsync();
        }
    }
}
