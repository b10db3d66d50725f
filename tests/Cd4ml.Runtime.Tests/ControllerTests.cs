using System.Net.Sockets;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Status;
using Cd4ml.Runtime.TestHost;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Tests;

public sealed class ControllerTests : WidgetTests
{
    protected override string NamespacePrefix => "runtime";

    [Test]
    public async Task CreateUpdateDelete_AreEachReconciled()
    {
        var reconciler = new RecordingReconciler(client);
        await using var op = await TestOperator.Create(client, ns).Add(reconciler).StartAsync();

        await widgets.CreateAsync(Widget.New(ns, "w", size: 1));
        await Wait.UntilAsync(async () => (await widgets.GetAsync(ns, "w"))?.Status?.ObservedSize == 1, "status after create");

        var current = (await widgets.GetAsync(ns, "w"))!;
        current.Spec.Size = 2;
        await widgets.ReplaceAsync(current);
        await Wait.UntilAsync(async () => (await widgets.GetAsync(ns, "w"))?.Status?.ObservedSize == 2, "status after update");
        var stored = (await widgets.GetAsync(ns, "w"))!;
        Assert.That(stored.Status!.ObservedGeneration, Is.EqualTo(stored.Metadata.Generation));

        await widgets.DeleteAsync(ns, "w");
        await Wait.UntilAsync(() => reconciler.SawDeleteOf("w"), "reconcile of the deleted widget");
    }

    [Test]
    public async Task StatusOnlyUpdates_DoNotTriggerReconciles_ButAnnotationChangesDo()
    {
        var reconciler = new RecordingReconciler(client);
        await using var op = await TestOperator.Create(client, ns).Add(reconciler).StartAsync();

        await widgets.CreateAsync(Widget.New(ns, "quiet", size: 3));
        await Wait.UntilAsync(async () => (await widgets.GetAsync(ns, "quiet"))?.Status?.ObservedSize == 3, "first status");
        var statusWriter = new StatusWriter<Widget>(client);
        for (var i = 0; i < 5; i++)
        {
            var fresh = (await widgets.GetAsync(ns, "quiet"))!;
            await statusWriter.UpdateAsync(fresh, w => w.EnsureStatus().Notes.Add($"external {i}"));
        }

        // A marker object created after the status writes: once it is reconciled, the status events were seen too.
        await widgets.CreateAsync(Widget.New(ns, "marker"));
        await Wait.UntilAsync(() => reconciler.CountFor("marker") >= 1, "marker reconciled");
        await Task.Delay(300);
        Assert.That(reconciler.CountFor("quiet"), Is.EqualTo(1), "only the create was reconciled, not the status writes");

        var annotated = (await widgets.GetAsync(ns, "quiet"))!;
        annotated.Metadata.Annotations = new Dictionary<string, string> { ["cd4ml.io/poke"] = "1" };
        await widgets.ReplaceAsync(annotated);
        await Wait.UntilAsync(() => reconciler.CountFor("quiet") == 2, "reconcile after annotation change");
    }

    [Test]
    public async Task ChangesToOwnedChildren_ReconcileTheirOwner()
    {
        var reconciler = new RecordingReconciler(client);
        await using var op = await TestOperator.Create(client, ns).Add(reconciler, o => o.Owns<V1ConfigMap>()).StartAsync();

        var owner = await widgets.CreateAsync(Widget.New(ns, "parent"));
        await Wait.UntilAsync(() => reconciler.CountFor("parent") >= 1, "first reconcile");
        var before = reconciler.CountFor("parent");

        await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta
            {
                Name = "parent-child",
                OwnerReferences =
                [
                    new V1OwnerReference
                    {
                        ApiVersion = owner.ApiVersion, Kind = owner.Kind, Name = owner.Metadata.Name,
                        Uid = owner.Metadata.Uid, Controller = true,
                    },
                ],
            },
            Data = new Dictionary<string, string> { ["k"] = "v" },
        }, ns);

        await Wait.UntilAsync(() => reconciler.CountFor("parent") > before, "reconcile after the child appeared");
    }

    [Test]
    public async Task AWatchedObjectThatMovesToAnotherKey_ReconcilesBothTheOldAndTheNewKey()
    {
        var reconciler = new RecordingReconciler(client);
        await using var op = await TestOperator.Create(client, ns)
            .Add(reconciler, o => o.Watches<V1ConfigMap>(c => c.Data?.TryGetValue("widget", out var name) == true
                ? [new NamespacedName(c.Metadata.NamespaceProperty, name)]
                : []))
            .StartAsync();
        await widgets.CreateAsync(Widget.New(ns, "first"));
        await widgets.CreateAsync(Widget.New(ns, "second"));
        await Wait.UntilAsync(() => reconciler.CountFor("first") == 1 && reconciler.CountFor("second") == 1, "both created");

        var pointer = await client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = "pointer" },
            Data = new Dictionary<string, string> { ["widget"] = "first" },
        }, ns);
        await Wait.UntilAsync(() => reconciler.CountFor("first") == 2, "the widget it points at");
        Assert.That(reconciler.CountFor("second"), Is.EqualTo(1));

        pointer.Data["widget"] = "second";
        await client.CoreV1.ReplaceNamespacedConfigMapAsync(pointer, "pointer", ns);
        await Wait.UntilAsync(() => reconciler.CountFor("second") == 2, "the widget it points at now");
        await Wait.UntilAsync(() => reconciler.CountFor("first") == 3, "the widget it no longer points at");
    }

    [Test]
    public async Task ThrowingReconciler_IsRetriedWithGrowingDelays_AndCountsErrors()
    {
        var attempts = new List<DateTime>();
        var reconciler = new RecordingReconciler(client)
        {
            Before = request =>
            {
                if (request.Key.Name != "flaky")
                {
                    return Task.CompletedTask;
                }

                lock (attempts)
                {
                    attempts.Add(DateTime.UtcNow);
                    if (attempts.Count < 7)
                    {
                        throw new InvalidOperationException("boom");
                    }
                }

                return Task.CompletedTask;
            },
        };
        await using var op = await TestOperator.Create(client, ns).Add(reconciler).StartAsync();

        await widgets.CreateAsync(Widget.New(ns, "flaky", size: 4));
        await Wait.UntilAsync(async () => (await widgets.GetAsync(ns, "flaky"))?.Status?.ObservedSize == 4,
            "success after retries");

        var gaps = attempts.Zip(attempts.Skip(1), (a, b) => b - a).ToArray();
        Assert.That(gaps, Has.Length.EqualTo(6));
        Assert.That(gaps[^1], Is.GreaterThan(gaps[0]), "delays grow");
        Assert.That(gaps[^1], Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(150)), "5 ms · 2^5 = 160 ms");
        Assert.That(op.Metrics.ReconcileErrors.WithLabels("widget").Value, Is.EqualTo(6));
        Assert.That(op.Metrics.ReconcileTotal.WithLabels("widget", "error").Value, Is.EqualTo(6));
    }

    [Test]
    public async Task TransientFailures_LogOneLinePerAttempt_WithTheReasonAndBackoff_AndNoStackTrace()
    {
        var failures = 0;
        var reconciler = new RecordingReconciler(client)
        {
            Before = request => request.Key.Name == "offline" && Interlocked.Increment(ref failures) <= 5
                ? throw new HttpRequestException("Connection refused (s3.example:9000)",
                    new SocketException((int)SocketError.ConnectionRefused))
                : Task.CompletedTask,
        };
        using var logs = new CapturingLoggerFactory();
        await using var op = await TestOperator.Create(client, ns, logs).Add(reconciler).StartAsync();

        await widgets.CreateAsync(Widget.New(ns, "offline", size: 2));
        await Wait.UntilAsync(async () => (await widgets.GetAsync(ns, "offline"))?.Status?.ObservedSize == 2,
            "success after the outage");

        var lines = logs.Entries.Where(e => e.Message.Contains("offline")).ToList();
        Assert.That(lines, Has.Count.EqualTo(5), "one line per failed attempt");
        Assert.That(lines.Select(l => l.Level), Has.All.EqualTo(LogLevel.Warning));
        Assert.That(lines.Select(l => l.Exception), Has.All.Null, "no stack trace at the default level");
        Assert.That(lines.Select(l => l.Message), Has.None.Contains("\n"));
        Assert.That(lines[0].Message, Does.Contain("HttpRequestException: Connection refused (s3.example:9000)"));
        Assert.That(lines[0].Message, Does.Match(@"retry 1 in \d+\.\d+s"));
        Assert.That(lines[^1].Message, Does.Match(@"retry 5 in \d+\.\d+s"));
    }

    [Test]
    public async Task UnexpectedException_LogsItsStackTraceOnce_ThenOneLinePerAttempt()
    {
        var failures = 0;
        var reconciler = new RecordingReconciler(client)
        {
            Before = request => request.Key.Name == "buggy" && Interlocked.Increment(ref failures) <= 4
                ? throw new InvalidOperationException("a bug")
                : Task.CompletedTask,
        };
        using var logs = new CapturingLoggerFactory();
        await using var op = await TestOperator.Create(client, ns, logs).Add(reconciler).StartAsync();

        await widgets.CreateAsync(Widget.New(ns, "buggy", size: 3));
        await Wait.UntilAsync(async () => (await widgets.GetAsync(ns, "buggy"))?.Status?.ObservedSize == 3,
            "success after the failures");

        var lines = logs.Entries.Where(e => e.Message.Contains("buggy")).ToList();
        Assert.That(lines, Has.Count.EqualTo(4));
        Assert.That(lines[0].Level, Is.EqualTo(LogLevel.Error));
        Assert.That(lines[0].Exception, Is.TypeOf<InvalidOperationException>(), "the first failure shows where it happened");
        Assert.That(lines.Skip(1).Select(l => l.Exception), Has.All.Null);
        Assert.That(lines.Skip(1).Select(l => l.Message), Has.All.Contains("InvalidOperationException: a bug"));
    }

    [Test]
    public async Task TerminalResult_StopsRetrying()
    {
        var calls = 0;
        var reconciler = new DelegateReconciler(_ =>
        {
            Interlocked.Increment(ref calls);
            return ReconcileResult.Terminal("spec can never work");
        });
        await using var op = await TestOperator.Create(client, ns).Add(reconciler).StartAsync();

        await widgets.CreateAsync(Widget.New(ns, "doomed"));
        await Wait.UntilAsync(() => op.Metrics.ReconcileTotal.WithLabels("widget", "terminal").Value >= 1, "terminal result");
        await Task.Delay(500);
        Assert.That(calls, Is.EqualTo(1));
    }

    private sealed class DelegateReconciler(Func<ReconcileRequest<Widget>, ReconcileResult> reconcile) : IReconciler<Widget>
    {
        public Task<ReconcileResult> ReconcileAsync(ReconcileRequest<Widget> request, CancellationToken ct) =>
            Task.FromResult(reconcile(request));
    }
}
