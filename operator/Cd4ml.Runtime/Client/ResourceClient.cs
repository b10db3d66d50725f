using System.Runtime.CompilerServices;
using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Client;

/// <summary>
/// Typed access to one kind through the CustomObjects API, which serves core kinds too (group "" maps to /api/v1),
/// so built-in and custom resources share one code path.
/// </summary>
public sealed class ResourceClient<T>(IKubernetes kubernetes) where T : class, IKubernetesObject<V1ObjectMeta>
{
    public ResourceType Type { get; } = ResourceType.Of<T>();

    public IKubernetes Kubernetes => kubernetes;

    /// <summary>One page of a list; <paramref name="namespace"/> null lists across all namespaces.</summary>
    public async Task<ResourceList<T>> ListAsync(string? @namespace, int limit, string? continueToken, CancellationToken ct)
    {
        using var response = @namespace is null
            ? await kubernetes.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<ResourceList<T>>(
                Type.Group, Type.Version, Type.Plural, continueParameter: continueToken, limit: limit, cancellationToken: ct)
            : await kubernetes.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<ResourceList<T>>(
                Type.Group, Type.Version, @namespace, Type.Plural, continueParameter: continueToken, limit: limit,
                cancellationToken: ct);
        return response.Body;
    }

    /// <summary>
    /// Streams watch events from <paramref name="resourceVersion"/> (with bookmarks). ERROR events (e.g. 410 Expired)
    /// arrive as a thrown <see cref="KubernetesException"/>; the stream ends when the server closes it. Each event is
    /// parsed once, straight into <typeparamref name="T"/>.
    /// </summary>
    public async IAsyncEnumerable<(WatchEventType Type, T Object)> WatchAsync(string? @namespace, string resourceVersion,
        int timeoutSeconds, [EnumeratorCancellation] CancellationToken ct)
    {
        Exception? error = null;
        var response = @namespace is null
            ? kubernetes.CustomObjects.ListClusterCustomObjectWithHttpMessagesAsync<ResourceList<T>>(Type.Group,
                Type.Version, Type.Plural, allowWatchBookmarks: true, resourceVersion: resourceVersion,
                timeoutSeconds: timeoutSeconds, watch: true, cancellationToken: ct)
            : kubernetes.CustomObjects.ListNamespacedCustomObjectWithHttpMessagesAsync<ResourceList<T>>(Type.Group,
                Type.Version, @namespace, Type.Plural, allowWatchBookmarks: true, resourceVersion: resourceVersion,
                timeoutSeconds: timeoutSeconds, watch: true, cancellationToken: ct);

        // The client's replacement for custom objects yields each object as a JsonElement, to be parsed a second
        // time into T; this overload parses every line once into T (an informer's main cost per event).
#pragma warning disable CS0618
        var events = response.WatchAsync<T, ResourceList<T>>(e => error ??= e, ct);
#pragma warning restore CS0618
        await foreach (var (type, item) in events.WithCancellation(ct).ConfigureAwait(false))
        {
            if (error is not null)
            {
                break;
            }

            yield return (type, item);
        }

        if (error is not null)
        {
            throw error;
        }
    }

    /// <summary>The object, or null when it does not exist.</summary>
    public async Task<T?> GetAsync(string? @namespace, string name, CancellationToken ct = default)
    {
        try
        {
            using var response = await kubernetes.CustomObjects.GetNamespacedCustomObjectWithHttpMessagesAsync<T>(
                Type.Group, Type.Version, @namespace ?? "", Type.Plural, name, cancellationToken: ct);
            return response.Body;
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return null;
        }
    }

    public async Task<T> CreateAsync(T entity, CancellationToken ct = default)
    {
        using var response = await kubernetes.CustomObjects.CreateNamespacedCustomObjectWithHttpMessagesAsync<T>(
            WithTypeMeta(entity), Type.Group, Type.Version, entity.Metadata.NamespaceProperty ?? "", Type.Plural,
            cancellationToken: ct);
        return response.Body;
    }

    public async Task<T> ReplaceAsync(T entity, CancellationToken ct = default)
    {
        using var response = await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectWithHttpMessagesAsync<T>(
            WithTypeMeta(entity), Type.Group, Type.Version, entity.Metadata.NamespaceProperty ?? "", Type.Plural,
            entity.Metadata.Name, cancellationToken: ct);
        return response.Body;
    }

    /// <summary>PUT to the status subresource: the server ignores everything but .status and enforces resourceVersion.</summary>
    public async Task<T> ReplaceStatusAsync(T entity, CancellationToken ct = default)
    {
        using var response = await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectStatusWithHttpMessagesAsync<T>(
            WithTypeMeta(entity), Type.Group, Type.Version, entity.Metadata.NamespaceProperty ?? "", Type.Plural,
            entity.Metadata.Name, cancellationToken: ct);
        return response.Body;
    }

    public async Task<T> PatchAsync(string? @namespace, string name, V1Patch patch, CancellationToken ct = default)
    {
        using var response = await kubernetes.CustomObjects.PatchNamespacedCustomObjectWithHttpMessagesAsync<T>(
            patch, Type.Group, Type.Version, @namespace ?? "", Type.Plural, name, cancellationToken: ct);
        return response.Body;
    }

    /// <summary>Deletes the object; returns false when it was already gone.</summary>
    public async Task<bool> DeleteAsync(string? @namespace, string name, CancellationToken ct = default)
    {
        try
        {
            using var response = await kubernetes.CustomObjects.DeleteNamespacedCustomObjectWithHttpMessagesAsync<object>(
                Type.Group, Type.Version, @namespace ?? "", Type.Plural, name, propagationPolicy: "Background",
                cancellationToken: ct);
            return true;
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return false;
        }
    }

    /// <summary>A deep copy, so callers can mutate without touching the informer's cached instance.</summary>
    public static T Clone(T entity) => KubernetesJson.Deserialize<T>(KubernetesJson.Serialize(entity));

    private T WithTypeMeta(T entity)
    {
        if (string.IsNullOrEmpty(entity.ApiVersion))
        {
            entity.ApiVersion = Type.ApiVersion;
        }

        if (string.IsNullOrEmpty(entity.Kind))
        {
            entity.Kind = Type.Kind;
        }

        return entity;
    }
}
