using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Status;

/// <summary>
/// Moves an object to a phase together with the Ready condition that explains it, through a
/// <see cref="StatusWriter{T}"/>, and records an event only when Ready's reason or message changed, so repeated
/// reconciles of the same state stay quiet.
/// </summary>
/// <param name="ensureStatus">The object's status, created empty when it has none yet (e.g. <c>r => r.EnsureStatus()</c>).</param>
public sealed class StatusTransitions<T>(StatusWriter<T> writer, IEventRecorder events, Func<T, ResourceStatus> ensureStatus)
    where T : class, IKubernetesObject<V1ObjectMeta>, IHasStatus
{
    public StatusTransitions(IKubernetes kubernetes, IEventRecorder events, Func<T, ResourceStatus> ensureStatus)
        : this(new StatusWriter<T>(kubernetes), events, ensureStatus)
    {
    }

    /// <summary>
    /// Sets phase and Ready (after whatever <paramref name="mutate"/> does) and, when <paramref name="eventType"/> is
    /// given and Ready's reason or message differs from <paramref name="entity"/>'s, records an event with them.
    /// </summary>
    /// <returns>The object as stored.</returns>
    public async Task<T> TransitionAsync(T entity, string phase, bool ready, string reason, string message,
        EventType? eventType, Action<T>? mutate = null, CancellationToken ct = default)
    {
        var before = entity.Status?.Find(Conditions.Ready);
        var changed = before?.Reason != reason || before?.Message != message;
        var updated = await writer.UpdateAsync(entity, e =>
        {
            mutate?.Invoke(e);
            var status = ensureStatus(e);
            status.Phase = phase;
            status.Set(Conditions.Ready, ready, reason, message, e.Metadata.Generation);
        }, ct).ConfigureAwait(false);
        if (changed && eventType is { } type)
        {
            await events.RecordAsync(updated, type, reason, message, ct).ConfigureAwait(false);
        }

        return updated;
    }
}
