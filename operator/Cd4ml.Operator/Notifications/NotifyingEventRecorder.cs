using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Events;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Notifications;

/// <summary>
/// Records every event through the runtime's recorder and also queues the notifiable ones
/// (<see cref="NotificationTarget.NotifiableReasons"/>) for webhooks. Queueing never waits, so a webhook can never
/// slow a reconcile down.
/// </summary>
public sealed class NotifyingEventRecorder(IEventRecorder inner, NotificationQueue queue, TimeProvider clock) : IEventRecorder
{
    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> involved, EventType type, string reason, string message,
        IReadOnlyDictionary<string, string>? annotations, CancellationToken ct = default)
    {
        await inner.RecordAsync(involved, type, reason, message, annotations, ct).ConfigureAwait(false);
        if (NotificationTarget.NotifiableReasons.Contains(reason))
        {
            queue.TryEnqueue(new Notification(involved.Metadata.NamespaceProperty ?? "default",
                string.IsNullOrEmpty(involved.Kind) ? ResourceType.Of(involved.GetType()).Kind : involved.Kind, involved.Metadata.Name,
                reason, EventMessageSanitizer.Sanitize(message), clock.GetUtcNow()));
        }
    }
}
