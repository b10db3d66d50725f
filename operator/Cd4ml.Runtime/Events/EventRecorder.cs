using System.Security.Cryptography;
using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Events;

public enum EventType
{
    Normal,
    Warning,
}

/// <summary>Records core/v1 Events about objects, as <c>kubectl describe</c> shows them.</summary>
public interface IEventRecorder
{
    Task RecordAsync(IKubernetesObject<V1ObjectMeta> involved, EventType type, string reason, string message,
        CancellationToken ct = default) => RecordAsync(involved, type, reason, message, annotations: null, ct);

    /// <summary>
    /// Records an Event whose <paramref name="annotations"/> carry machine-readable facts for programs (the message is
    /// for people and may be reworded). Events differing only in annotations are distinct Events.
    /// </summary>
    Task RecordAsync(IKubernetesObject<V1ObjectMeta> involved, EventType type, string reason, string message,
        IReadOnlyDictionary<string, string>? annotations, CancellationToken ct = default);
}

/// <summary>
/// Writes core/v1 Events. A repeat of the same (object, type, reason, message, annotations) bumps count and
/// lastTimestamp of the existing Event instead of creating another; the bump leaves its annotations as they are.
/// Recording never throws: a failed write is logged and dropped.
/// Events are readable by anyone who can read the namespace: never put secret values into a message. Messages pass
/// through <see cref="EventMessageSanitizer"/> as a safety net for obvious <c>password=…</c> patterns, not as a licence.
/// </summary>
public sealed class EventRecorder(IKubernetes kubernetes, string reportingController, string reportingInstance,
    ILogger<EventRecorder> logger, TimeProvider? time = null) : IEventRecorder
{
    private const int MaxRemembered = 4096;
    private const int MaxMessageLength = 1024;
    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private readonly Dictionary<(string Uid, EventType Type, string Reason, string Message, string Annotations), (string Name, int Count)> seen = [];
    private readonly SemaphoreSlim gate = new(1, 1);

    public Task RecordAsync(IKubernetesObject<V1ObjectMeta> involved, EventType type, string reason, string message,
        CancellationToken ct = default) => RecordAsync(involved, type, reason, message, annotations: null, ct);

    public async Task RecordAsync(IKubernetesObject<V1ObjectMeta> involved, EventType type, string reason, string message,
        IReadOnlyDictionary<string, string>? annotations, CancellationToken ct = default)
    {
        message = EventMessageSanitizer.Sanitize(message);
        if (message.Length > MaxMessageLength)
        {
            message = message[..(MaxMessageLength - 3)] + "...";
        }

        var @namespace = involved.Metadata.NamespaceProperty ?? "default";
        var key = (involved.Metadata.Uid ?? NamespacedName.Of(involved).ToString(), type, reason, message, Canonical(annotations));
        await gate.WaitAsync(ct).ConfigureAwait(false);
        try
        {
            var now = clock.GetUtcNow().UtcDateTime;
            if (seen.TryGetValue(key, out var previous) && await TryBumpAsync(@namespace, previous, now, ct).ConfigureAwait(false))
            {
                seen[key] = (previous.Name, previous.Count + 1);
                return;
            }

            var created = await kubernetes.CoreV1.CreateNamespacedEventAsync(
                NewEvent(involved, @namespace, type, reason, message, annotations, now), @namespace, cancellationToken: ct)
                .ConfigureAwait(false);
            if (seen.Count >= MaxRemembered)
            {
                seen.Clear();
            }

            seen[key] = (created.Metadata.Name, 1);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogWarning("Could not record event {Reason} for {Object}: {Error}", reason, NamespacedName.Of(involved),
                e.Message);
        }
        finally
        {
            gate.Release();
        }
    }

    private async Task<bool> TryBumpAsync(string @namespace, (string Name, int Count) previous, DateTime now,
        CancellationToken ct)
    {
        var patch = new V1Patch(new { count = previous.Count + 1, lastTimestamp = now }, V1Patch.PatchType.MergePatch);
        try
        {
            await kubernetes.CoreV1.PatchNamespacedEventAsync(patch, previous.Name, @namespace, cancellationToken: ct)
                .ConfigureAwait(false);
            return true;
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            // The Event expired (events have a TTL): start a new one.
            return false;
        }
    }

    /// <summary>
    /// A fresh Event name for an object: its name, a dot and 16 random hex digits, as kubectl shows them. A name too long
    /// for the suffix (object names may have 253 characters, Event names too) is cut so the suffix always fits, and
    /// the cut never leaves a '-' or '.' before the dot, so the result stays a valid DNS subdomain.
    /// </summary>
    public static string EventName(string objectName)
    {
        const int MaxName = 253;
        var suffix = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        var prefix = objectName.Length + 1 + suffix.Length <= MaxName
            ? objectName
            : objectName[..(MaxName - 1 - suffix.Length)].TrimEnd('-', '.');
        return $"{prefix}.{suffix}";
    }

    /// <summary>The annotations as one comparable string: sorted, each key and value length-prefixed.</summary>
    private static string Canonical(IReadOnlyDictionary<string, string>? annotations) =>
        annotations is null ? "" : string.Concat(annotations.OrderBy(a => a.Key, StringComparer.Ordinal)
            .Select(a => $"{a.Key.Length}:{a.Key}{a.Value.Length}:{a.Value}"));

    private Corev1Event NewEvent(IKubernetesObject<V1ObjectMeta> involved, string @namespace, EventType type,
        string reason, string message, IReadOnlyDictionary<string, string>? annotations, DateTime now)
    {
        var resourceType = ResourceType.Of(involved.GetType());
        return new Corev1Event
        {
            Metadata = new V1ObjectMeta
            {
                Name = EventName(involved.Metadata.Name),
                NamespaceProperty = @namespace,
                Annotations = annotations is { Count: > 0 } ? new Dictionary<string, string>(annotations) : null,
            },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = string.IsNullOrEmpty(involved.ApiVersion) ? resourceType.ApiVersion : involved.ApiVersion,
                Kind = string.IsNullOrEmpty(involved.Kind) ? resourceType.Kind : involved.Kind,
                Name = involved.Metadata.Name,
                NamespaceProperty = involved.Metadata.NamespaceProperty,
                Uid = involved.Metadata.Uid,
                ResourceVersion = involved.Metadata.ResourceVersion,
            },
            Type = type.ToString(),
            Reason = reason,
            Message = message,
            Count = 1,
            FirstTimestamp = now,
            LastTimestamp = now,
            Source = new V1EventSource { Component = reportingController },
            ReportingComponent = reportingController,
            ReportingInstance = reportingInstance,
        };
    }
}
