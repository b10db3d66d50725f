using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Runtime.TestHost;
using Cd4ml.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cd4ml.Runtime.Tests;

/// <summary>An informer restricted to several namespaces (the operator's --watch-namespaces).</summary>
public sealed class NamespacedInformerTests
{
    [Test]
    public async Task InformerOverTwoNamespaces_CachesBothAndFollowsTheirChanges_AndNeverSeesAThird()
    {
        var plane = await ControlPlane.SharedAsync();
        using var client = plane.CreateClient();
        await WidgetCrd.InstallAsync(client);
        var widgets = new ResourceClient<Widget>(client);
        var first = await plane.CreateNamespaceAsync("ns-first");
        var second = await plane.CreateNamespaceAsync("ns-second");
        var other = await plane.CreateNamespaceAsync("ns-other");
        foreach (var ns in new[] { first, second, other })
        {
            await widgets.CreateAsync(Widget.New(ns, "listed"));
        }

        var informer = new ResourceInformer<Widget>(client, null, new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry()),
            NullLogger.Instance, new InformerOptions { Namespaces = [first, second] });
        using var stop = new CancellationTokenSource();
        var running = informer.RunAsync(stop.Token);
        try
        {
            await informer.WaitForSyncAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(60));
            Assert.That(informer.Keys, Is.EquivalentTo(new[] { new NamespacedName(first, "listed"), new NamespacedName(second, "listed") }),
                "each namespace's list keeps the other's objects");

            await widgets.DeleteAsync(first, "listed");
            await widgets.CreateAsync(Widget.New(second, "watched"));
            await widgets.CreateAsync(Widget.New(other, "watched"));
            await ControlPlane.WaitUntilAsync(() => Task.FromResult(informer.Keys.ToHashSet().SetEquals(
                    [new NamespacedName(second, "listed"), new NamespacedName(second, "watched")])),
                TimeSpan.FromSeconds(30), "the watches applied the delete and the create, and nothing from the third namespace");
        }
        finally
        {
            await stop.CancelAsync();
            await running;
        }
    }
}
