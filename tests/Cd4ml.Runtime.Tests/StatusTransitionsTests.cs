using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Status;
using Cd4ml.Runtime.TestHost;
using k8s;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cd4ml.Runtime.Tests;

public sealed class StatusTransitionsTests : WidgetTests
{
    protected override string NamespacePrefix => "transition";

    [Test]
    public async Task Transition_SetsPhaseAndReady_AndRecordsAnEventOnlyWhenReadysReasonOrMessageChanges()
    {
        var widget = await widgets.CreateAsync(Widget.New(ns, "moving"));
        var recorder = new EventRecorder(client, "test-operator", "pod-1", NullLogger<EventRecorder>.Instance);
        var transitions = new StatusTransitions<Widget>(client, recorder, w => w.EnsureStatus());

        widget = await transitions.TransitionAsync(widget, "Pending", false, "Waiting", "waiting for input", EventType.Warning,
            w => w.EnsureStatus().HandledBy = "pod-1");
        var stored = (await widgets.GetAsync(ns, "moving"))!;
        Assert.That(stored.Status!.Phase, Is.EqualTo("Pending"));
        Assert.That(stored.Status.HandledBy, Is.EqualTo("pod-1"), "the caller's mutation is written with the transition");
        Assert.That(stored.Status.ObservedGeneration, Is.EqualTo(stored.Metadata.Generation));
        var ready = stored.Status.Find(Conditions.Ready)!;
        Assert.That((ready.Status, ready.Reason, ready.Message), Is.EqualTo((Condition.False, "Waiting", "waiting for input")));
        Assert.That(widget.Metadata.ResourceVersion, Is.EqualTo(stored.Metadata.ResourceVersion), "returns the object as stored");

        // The same state again (a repeated reconcile): nothing new to say. The recorder would bump the count to 2.
        widget = await transitions.TransitionAsync(widget, "Pending", false, "Waiting", "waiting for input", EventType.Warning);
        Assert.That(widget.Metadata.ResourceVersion, Is.EqualTo(stored.Metadata.ResourceVersion), "no status write either");

        // Same reason, new message: an event. A transition without an event type stays quiet.
        widget = await transitions.TransitionAsync(widget, "Pending", false, "Waiting", "waiting for more input", EventType.Warning);
        widget = await transitions.TransitionAsync(widget, "Ready", true, "Done", "all done", null);

        stored = (await widgets.GetAsync(ns, "moving"))!;
        Assert.That(stored.Status!.Phase, Is.EqualTo("Ready"));
        Assert.That(stored.Status.IsTrue(Conditions.Ready), Is.True);
        var events = (await client.CoreV1.ListNamespacedEventAsync(ns, fieldSelector: "involvedObject.name=moving")).Items;
        Assert.That(events.Select(e => (e.Type, e.Reason, e.Message, e.Count)), Is.EquivalentTo(new[]
        {
            ("Warning", "Waiting", "waiting for input", (int?)1),
            ("Warning", "Waiting", "waiting for more input", (int?)1),
        }));
    }
}
