using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.TestHost;
using Cd4ml.Testing;
using k8s;

namespace Cd4ml.Runtime.Tests;

/// <summary>A private control plane, since these tests restart its apiserver and compact its etcd.</summary>
public sealed class WatchResilienceTests
{
    private ControlPlane plane = null!;
    private IKubernetes client = null!;
    private ResourceClient<Widget> widgets = null!;

    [OneTimeSetUp]
    public async Task StartPrivateControlPlane()
    {
        plane = await ControlPlane.StartAsync(new ControlPlaneOptions { Scheduler = false });
        client = plane.CreateClient();
        await WidgetCrd.InstallAsync(client);
        widgets = new ResourceClient<Widget>(client);
    }

    [OneTimeTearDown]
    public async Task StopPrivateControlPlane()
    {
        client.Dispose();
        await plane.DisposeAsync();
    }

    [Test]
    public async Task WatchSurvivesApiServerRestart_AndMissesNoChangeMadeMeanwhile()
    {
        var ns = await plane.CreateNamespaceAsync("restart");
        var reconciler = new RecordingReconciler(client);
        await using var op = await TestOperator.Create(client, ns).Add(reconciler).StartAsync();
        await widgets.CreateAsync(Widget.New(ns, "before", size: 1));
        await Wait.UntilAsync(() => reconciler.CountFor("before") >= 1, "reconcile before the restart");

        await plane.RestartApiServerAsync();
        for (var i = 0; i < 5; i++)
        {
            await widgets.CreateAsync(Widget.New(ns, $"after-{i}", size: 2));
        }

        await AssertAllReconciledAsync(ns, 5, "after-", 2);
        Assert.That(op.Metrics.WatchRestarts.WithLabels("Widget", "error").Value
                    + op.Metrics.WatchRestarts.WithLabels("Widget", "timeout").Value, Is.GreaterThanOrEqualTo(1));
    }

    [Test]
    public async Task AfterPartitionAndCompaction_InformerRelists_ReconcilesNewObjects_AndSynthesizesMissedDeletes()
    {
        var ns = await plane.CreateNamespaceAsync("compact");
        using var proxy = new PartitionProxy(new Uri(plane.ServerUrl));
        var configuration = plane.ClientConfiguration();
        configuration.Host = proxy.Url;
        using var operatorClient = new Kubernetes(configuration);
        var reconciler = new RecordingReconciler(operatorClient);
        await using var op = await TestOperator.Create(operatorClient, ns).Add(reconciler).StartAsync();

        await widgets.CreateAsync(Widget.New(ns, "doomed"));
        await widgets.CreateAsync(Widget.New(ns, "survivor"));
        await Wait.UntilAsync(() => reconciler.CountFor("doomed") >= 1 && reconciler.CountFor("survivor") >= 1,
            "reconciles before the partition");

        proxy.Cut();
        await widgets.DeleteAsync(ns, "doomed");
        for (var i = 0; i < 5; i++)
        {
            await widgets.CreateAsync(Widget.New(ns, $"missed-{i}", size: 3));
        }

        // Compaction removes the history the informer would resume from; the restart empties the watch cache,
        // so the informer's old resourceVersion now answers 410 Gone.
        await plane.CompactEtcdAsync();
        await plane.RestartApiServerAsync();
        proxy.Heal();

        await AssertAllReconciledAsync(ns, 5, "missed-", 3);
        await Wait.UntilAsync(() => reconciler.SawDeleteOf("doomed"), "synthetic delete of the widget removed meanwhile");
        Assert.That(op.Metrics.WatchRestarts.WithLabels("Widget", "expired").Value, Is.GreaterThanOrEqualTo(1));
        Assert.That(op.Manager.Informers.Get<Widget>().Get(new NamespacedName(ns, "doomed")), Is.Null);
    }

    private async Task AssertAllReconciledAsync(string ns, int count, string prefix, int size)
    {
        await Wait.UntilAsync(async () =>
        {
            var list = await widgets.ListAsync(ns, 100, null, CancellationToken.None);
            return list.Items.Count(w => w.Metadata.Name.StartsWith(prefix) && w.Status?.ObservedSize == size) == count;
        }, $"all {prefix}* widgets reconciled", 60);
    }
}
