using System.Diagnostics;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.TestHost;
using Cd4ml.Testing;
using k8s;

namespace Cd4ml.Runtime.Tests;

/// <summary>Two and three operator processes competing for one Lease (15 s lease, 10 s renew deadline, 2 s retry).</summary>
public sealed class LeaderElectionTests : WidgetTests
{
    protected override string NamespacePrefix => "leader";

    [Test]
    public async Task OnlyTheLeaderReconciles_AndAfterSigkillTheOtherTakesOverWithinTheLeaseDuration()
    {
        using var first = OperatorProcess.Start(plane.KubeconfigPath, ns, "first");
        await Wait.UntilAsync(async () => await LeaseHolderAsync() == "first", "first instance leads", 60);
        using var second = OperatorProcess.Start(plane.KubeconfigPath, ns, "second");
        await Wait.UntilAsync(() => second.Output.Any(l => l.Contains("Caches of Widget synced")), "second instance synced", 60);

        for (var i = 0; i < 5; i++)
        {
            await widgets.CreateAsync(Widget.New(ns, $"w{i}"));
        }

        await WaitHandledByAsync("w", 5, "first");
        Assert.That(second.Reconciles, Is.Zero, "the standby must not reconcile");

        first.Kill();
        var killed = Stopwatch.StartNew();
        await widgets.CreateAsync(Widget.New(ns, "after-kill"));
        await WaitHandledByAsync("after-kill", 1, "second", 30);
        TestContext.Out.WriteLine($"takeover after SIGKILL: {killed.Elapsed.TotalSeconds:F1}s");
        Assert.That(killed.Elapsed, Is.LessThan(TimeSpan.FromSeconds(15 + 2 + 3)), "lease duration + one retry + margin");
    }

    [Test]
    public async Task AfterSigtermTheLeaderReleasesTheLease_AndExitsZero_AndTheStandbyTakesOverInSeconds()
    {
        using var first = OperatorProcess.Start(plane.KubeconfigPath, ns, "first");
        await Wait.UntilAsync(async () => await LeaseHolderAsync() == "first", "first instance leads", 60);
        using var second = OperatorProcess.Start(plane.KubeconfigPath, ns, "second");
        await Wait.UntilAsync(() => second.Output.Any(l => l.Contains("Caches of Widget synced")), "second instance synced", 60);

        first.Terminate();
        var terminated = Stopwatch.StartNew();
        await first.WaitForExitAsync(TimeSpan.FromSeconds(20));
        Assert.That(first.ExitCode, Is.Zero);

        await widgets.CreateAsync(Widget.New(ns, "after-term"));
        try
        {
            await WaitHandledByAsync("after-term", 1, "second", 30);
        }
        catch (TimeoutException)
        {
            TestContext.Out.WriteLine("first:\n" + string.Join("\n", first.Output));
            TestContext.Out.WriteLine("second:\n" + string.Join("\n", second.Output));
            throw;
        }

        TestContext.Out.WriteLine($"takeover after SIGTERM: {terminated.Elapsed.TotalSeconds:F1}s");
        Assert.That(terminated.Elapsed, Is.LessThan(TimeSpan.FromSeconds(6)));
    }

    private async Task<string?> LeaseHolderAsync()
    {
        try
        {
            var lease = await client.CoordinationV1.ReadNamespacedLeaseAsync("widget-operator", ns);
            return lease.Spec?.HolderIdentity;
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return null;
        }
    }

    private Task WaitHandledByAsync(string prefix, int count, string identity, double seconds = 30) =>
        Wait.UntilAsync(async () =>
        {
            var list = await widgets.ListAsync(ns, 100, null, CancellationToken.None);
            return list.Items.Count(w => w.Metadata.Name.StartsWith(prefix) && w.Status?.HandledBy == identity) == count;
        }, $"{count} {prefix}* widgets handled by {identity}", seconds);
}
