using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Status;
using Cd4ml.Runtime.TestHost;
using Cd4ml.Testing;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cd4ml.Runtime.Tests;

public sealed class StatusAndEventTests : WidgetTests
{
    protected override string NamespacePrefix => "status";

    [Test]
    public async Task ConflictingStatusWriters_BothChangesSurvive()
    {
        var created = await widgets.CreateAsync(Widget.New(ns, "contended"));
        var writer = new StatusWriter<Widget>(client);

        // Every writer starts from the same, soon stale, object: each must re-read and re-apply on 409.
        await Task.WhenAll(Enumerable.Range(0, 8).Select(i => Task.Run(() =>
            writer.UpdateAsync(created, w => w.EnsureStatus().Set($"Writer{i}", true, "Done", $"writer {i}",
                w.Metadata.Generation)))));

        var stored = (await widgets.GetAsync(ns, "contended"))!;
        Assert.That(stored.Status!.Conditions.Select(c => c.Type),
            Is.EquivalentTo(Enumerable.Range(0, 8).Select(i => $"Writer{i}")));
        Assert.That(stored.Status.ObservedGeneration, Is.EqualTo(stored.Metadata.Generation));
    }

    [Test]
    public async Task StatusWriter_WithNothingToChange_DoesNotWrite_AndNeverTouchesSpec()
    {
        var created = await widgets.CreateAsync(Widget.New(ns, "idle", size: 5));
        var writer = new StatusWriter<Widget>(client);
        var first = await writer.UpdateAsync(created, w => w.EnsureStatus().Phase = "Ready");

        var second = await writer.UpdateAsync(first, w => w.EnsureStatus().Phase = "Ready");
        Assert.That(second.Metadata.ResourceVersion, Is.EqualTo(first.Metadata.ResourceVersion));

        await writer.UpdateAsync(second, w =>
        {
            w.Spec.Size = 99;
            w.EnsureStatus().Phase = "Changed";
        });
        var stored = (await widgets.GetAsync(ns, "idle"))!;
        Assert.That(stored.Spec.Size, Is.EqualTo(5), "the status subresource ignores spec");
        Assert.That(stored.Status!.Phase, Is.EqualTo("Changed"));
    }

    [Test]
    public async Task Finalizers_AreAddedAndRemovedWithoutTouchingOthers()
    {
        var created = Widget.New(ns, "guarded");
        created.Metadata.Finalizers = ["other.io/keep"];
        var widget = await widgets.CreateAsync(created);

        widget = await widgets.AddFinalizerAsync(widget, "cd4ml.io/cleanup");
        widget = await widgets.AddFinalizerAsync(widget, "cd4ml.io/cleanup");
        Assert.That(widget.Metadata.Finalizers, Is.EqualTo(new[] { "other.io/keep", "cd4ml.io/cleanup" }));

        var cleaned = 0;
        await widgets.DeleteAsync(ns, "guarded");
        var deleting = (await widgets.GetAsync(ns, "guarded"))!;
        Assert.That(deleting.Metadata.DeletionTimestamp, Is.Not.Null);
        await widgets.FinalizeAsync(deleting, "cd4ml.io/cleanup", (_, _) =>
        {
            cleaned++;
            return Task.CompletedTask;
        });

        var after = (await widgets.GetAsync(ns, "guarded"))!;
        Assert.That(cleaned, Is.EqualTo(1));
        Assert.That(after.Metadata.Finalizers, Is.EqualTo(new[] { "other.io/keep" }));
        await widgets.RemoveFinalizerAsync(after, "other.io/keep");
        await Wait.UntilAsync(async () => await widgets.GetAsync(ns, "guarded") is null, "object gone");
    }

    [Test]
    public async Task RepeatedEvent_IncrementsCountInsteadOfCreatingAnother()
    {
        var widget = await widgets.CreateAsync(Widget.New(ns, "noisy"));
        var recorder = new EventRecorder(client, "test-operator", "pod-1", NullLogger<EventRecorder>.Instance);

        for (var i = 0; i < 3; i++)
        {
            await recorder.RecordAsync(widget, EventType.Warning, "BackOff", "training failed: password=hunter2");
        }

        await recorder.RecordAsync(widget, EventType.Normal, "Started", "training started");

        var events = (await client.CoreV1.ListNamespacedEventAsync(ns,
            fieldSelector: $"involvedObject.name=noisy")).Items;
        var backOff = events.Single(e => e.Reason == "BackOff");
        Assert.That(backOff.Count, Is.EqualTo(3));
        Assert.That(backOff.Type, Is.EqualTo("Warning"));
        Assert.That(backOff.Message, Does.Not.Contain("hunter2"));
        Assert.That(backOff.InvolvedObject.Kind, Is.EqualTo("Widget"));
        Assert.That(backOff.InvolvedObject.Uid, Is.EqualTo(widget.Metadata.Uid));
        Assert.That(backOff.ReportingComponent, Is.EqualTo("test-operator"));
        Assert.That(events.Count(e => e.Reason == "Started"), Is.EqualTo(1));
    }

    [Test]
    public async Task EventTimes_ComeFromTheRecordersClock()
    {
        var widget = await widgets.CreateAsync(Widget.New(ns, "clocked"));
        var first = new DateTimeOffset(2030, 1, 2, 3, 4, 5, TimeSpan.Zero);
        var clock = new SettableClock(first);
        var recorder = new EventRecorder(client, "test-operator", "pod-1", NullLogger<EventRecorder>.Instance, clock);

        await recorder.RecordAsync(widget, EventType.Normal, "Started", "training started");
        clock.Now = first.AddMinutes(7);
        await recorder.RecordAsync(widget, EventType.Normal, "Started", "training started");

        var started = (await client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: "involvedObject.name=clocked")).Items.Single();
        Assert.That(started.FirstTimestamp, Is.EqualTo(first.UtcDateTime));
        Assert.That(started.LastTimestamp, Is.EqualTo(first.AddMinutes(7).UtcDateTime));
        Assert.That(started.Count, Is.EqualTo(2));
    }

    private sealed class SettableClock(DateTimeOffset now) : TimeProvider
    {
        public DateTimeOffset Now { get; set; } = now;

        public override DateTimeOffset GetUtcNow() => Now;
    }

    [Test]
    public async Task EventAnnotations_SurviveRepeats_AndDifferentAnnotationsMakeADistinctEvent()
    {
        var widget = await widgets.CreateAsync(Widget.New(ns, "annotated"));
        var recorder = new EventRecorder(client, "test-operator", "pod-1", NullLogger<EventRecorder>.Instance);
        var ten = new Dictionary<string, string> { ["example.io/weight"] = "10", ["example.io/step"] = "0" };

        await recorder.RecordAsync(widget, EventType.Normal, "StepCompleted", "step done", ten);
        await recorder.RecordAsync(widget, EventType.Normal, "StepCompleted", "step done",
            new Dictionary<string, string> { ["example.io/step"] = "0", ["example.io/weight"] = "10" });
        await recorder.RecordAsync(widget, EventType.Normal, "StepCompleted", "step done",
            new Dictionary<string, string> { ["example.io/weight"] = "40", ["example.io/step"] = "2" });

        var events = (await client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: "involvedObject.name=annotated")).Items;
        Assert.That(events.Select(e => (e.Metadata.Annotations["example.io/weight"], e.Count)),
            Is.EquivalentTo(new[] { ("10", (int?)2), ("40", (int?)1) }),
            "the same annotations in another order are a repeat; other values are another Event");
        Assert.That(events.Single(e => e.Count == 2).Metadata.Annotations, Is.EquivalentTo(ten), "the bump keeps them");
    }

    [Test]
    public async Task ObjectWithTheLongestValidName_GetsEveryDistinctEvent()
    {
        // 253 characters, the most a name may have; the cut for the event name's suffix falls on the "--".
        var name = new string('l', 234) + "--" + new string('x', 17);
        var widget = await widgets.CreateAsync(Widget.New(ns, name));
        var recorder = new EventRecorder(client, "test-operator", "pod-1", NullLogger<EventRecorder>.Instance);

        foreach (var reason in new[] { "Started", "Progressing", "Succeeded", "Registered" })
        {
            await recorder.RecordAsync(widget, EventType.Normal, reason, $"{reason} for the long-named widget");
        }

        var events = (await client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: $"involvedObject.name={name}")).Items;
        Assert.That(events.Select(e => e.Reason),
            Is.EquivalentTo(new[] { "Started", "Progressing", "Succeeded", "Registered" }));
        Assert.That(events.Select(e => e.Metadata.Name), Is.Unique);
    }
}
