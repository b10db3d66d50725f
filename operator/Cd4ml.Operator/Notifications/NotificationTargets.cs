using System.Collections.Concurrent;
using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Operator.Notifications;

/// <summary>
/// Resolves each namespace's <see cref="NotificationTarget"/>: the platform's, overridden by the namespace's
/// <c>cd4ml-notifications</c> ConfigMap. The ConfigMap is read with a GET at most once per <see cref="Ttl"/> per
/// namespace (notifications are rare; a watch on every ConfigMap in the cluster would cost more than it saves).
/// </summary>
public sealed class NotificationTargets(IKubernetes kubernetes, NotificationTarget? platform, TimeProvider clock,
    ILogger<NotificationTargets> logger)
{
    private readonly ConcurrentDictionary<string, (NotificationTarget? Target, DateTimeOffset ReadAt)> cache = new();

    public TimeSpan Ttl { get; init; } = TimeSpan.FromSeconds(30);

    public async Task<NotificationTarget?> ForNamespaceAsync(string @namespace, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (cache.TryGetValue(@namespace, out var cached) && now - cached.ReadAt < Ttl)
        {
            return cached.Target;
        }

        NotificationTarget? target;
        try
        {
            var configMap = await kubernetes.CoreV1.ReadNamespacedConfigMapAsync(NotificationTarget.ConfigMapName, @namespace,
                cancellationToken: ct).ConfigureAwait(false);
            var secretUrl = configMap.Data?.TryGetValue(NotificationTarget.UrlSecretKey, out var secretName) == true
                ? await ReadSecretUrlAsync(@namespace, secretName, ct).ConfigureAwait(false)
                : null;
            target = NotificationTarget.Merge(platform, configMap, out var problem, secretUrl);
            if (problem is not null)
            {
                logger.LogWarning("Notifications of namespace {Namespace} are off: {Problem}", @namespace, problem);
            }
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            target = platform;
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Keep what we knew (or the platform's) rather than losing a notification to a transient read error.
            logger.LogDebug(e, "Could not read ConfigMap {Namespace}/{Name}", @namespace, NotificationTarget.ConfigMapName);
            return cached.ReadAt == default ? platform : cached.Target;
        }

        cache[@namespace] = (target, now);
        return target;
    }

    /// <summary>The Secret's <c>url</c> key; null when the Secret or the key is missing (Merge then says so).</summary>
    private async Task<string?> ReadSecretUrlAsync(string @namespace, string name, CancellationToken ct)
    {
        try
        {
            var secret = await kubernetes.CoreV1.ReadNamespacedSecretAsync(name, @namespace, cancellationToken: ct).ConfigureAwait(false);
            return secret.Data?.TryGetValue("url", out var bytes) == true ? System.Text.Encoding.UTF8.GetString(bytes).Trim() : null;
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return null;
        }
    }
}
