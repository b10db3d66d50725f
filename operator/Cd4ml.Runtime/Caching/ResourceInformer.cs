using System.Collections.Concurrent;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Metrics;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Runtime.Caching;

/// <summary>
/// List-then-watch cache of one kind: lists in pages, watches from the list's resourceVersion with bookmarks,
/// re-lists when the server says the version expired (410) and emits synthetic deletes for keys that vanished
/// meanwhile, and reconnects with jittered backoff after errors. One instance per kind is shared by all controllers.
/// An optional informer (<see cref="IsOptional"/>) is for a kind the cluster may not serve, such as a CRD installed
/// separately: while listing it answers 404 it says so once, checks again every
/// <see cref="InformerOptions.MissingKindRecheck"/>, and starts listing and watching once the kind is served.
/// </summary>
public sealed class ResourceInformer<T> : IResourceInformer where T : class, IKubernetesObject<V1ObjectMeta>
{
    private readonly ResourceClient<T> client;
    private readonly IReadOnlyList<string?> namespaces;
    private readonly InformerOptions options;
    private readonly RuntimeMetrics metrics;
    private readonly ILogger logger;
    private readonly ConcurrentDictionary<NamespacedName, T> cache = new();
    private readonly List<Action<InformerEvent<T>>> handlers = [];
    private readonly TaskCompletionSource synced = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int namespacesListed;

    public ResourceInformer(IKubernetes kubernetes, string? @namespace, RuntimeMetrics metrics, ILogger logger,
        InformerOptions? options = null)
    {
        client = new ResourceClient<T>(kubernetes);
        this.options = options ?? new InformerOptions();
        namespaces = @namespace is not null ? [@namespace]
            : this.options.Namespaces is { Count: > 0 } some ? [.. some]
            : [null];
        this.metrics = metrics;
        this.logger = logger;
    }

    public string Kind => client.Type.Kind;

    public bool HasSynced => synced.Task.IsCompletedSuccessfully;

    /// <summary>
    /// True when only optional watches use this kind: the manager does not wait for its cache, and a kind the API does
    /// not serve is waited for instead of being an error. Any required use makes it required.
    /// </summary>
    public bool IsOptional { get; internal set; }

    public int Count => cache.Count;

    /// <summary>Registers a handler; handlers run on the informer's loop, so they must be quick (enqueue a key).</summary>
    public void AddHandler(Action<InformerEvent<T>> handler)
    {
        lock (handlers)
        {
            handlers.Add(handler);
        }
    }

    /// <summary>The cached object; treat it as read-only (it is shared), clone before changing it.</summary>
    public T? Get(NamespacedName key) => cache.GetValueOrDefault(key);

    public IReadOnlyCollection<T> List() => cache.Values.ToList();

    public IEnumerable<NamespacedName> Keys => cache.Keys;

    public Task WaitForSyncAsync(CancellationToken ct) => synced.Task.WaitAsync(ct);

    /// <summary>Lists and watches each namespace (or the whole cluster) on its own; synced once every one is listed.</summary>
    public Task RunAsync(CancellationToken ct) => Task.WhenAll(namespaces.Select(ns => RunAsync(new WatchScope(ns), ct)));

    private async Task RunAsync(WatchScope watch, CancellationToken ct)
    {
        var @namespace = watch.Namespace;
        using var scope = logger.BeginScope(new Dictionary<string, object?> { ["kind"] = Kind, ["namespace"] = @namespace });
        var failures = 0;
        var mustList = true;
        var notServed = false;
        while (!ct.IsCancellationRequested)
        {
            try
            {
                if (mustList)
                {
                    await ListAsync(watch, ct).ConfigureAwait(false);
                    mustList = false;
                    if (!watch.Listed)
                    {
                        watch.Listed = true;
                        if (Interlocked.Increment(ref namespacesListed) == namespaces.Count)
                        {
                            synced.TrySetResult();
                        }
                    }
                    if (notServed)
                    {
                        notServed = false;
                        logger.LogInformation("{Resource} is served now; watching it", client.Type);
                    }
                }

                await WatchAsync(watch, ct).ConfigureAwait(false);
                failures = 0;
                metrics.WatchRestarts.WithLabels(Kind, "timeout").Inc();
                logger.LogDebug("Watch of {Kind} closed by the server at resourceVersion {ResourceVersion}; reconnecting",
                    Kind, watch.ResourceVersion);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                break;
            }
            catch (Exception e) when (IsOptional && ApiErrors.IsNotFound(e))
            {
                // The kind is not served (its CRD is not installed, or was removed): its objects are gone too.
                metrics.WatchRestarts.WithLabels(Kind, "not_served").Inc();
                if (!notServed)
                {
                    notServed = true;
                    logger.LogInformation("{Resource} is not served by the API server; checking every {Interval}s and "
                                          + "watching it once it is", client.Type, options.MissingKindRecheck.TotalSeconds);
                }

                RemoveAllExcept([], @namespace);
                mustList = true;
                try
                {
                    await Task.Delay(options.MissingKindRecheck, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
            catch (Exception e) when (ApiErrors.IsGone(e))
            {
                metrics.WatchRestarts.WithLabels(Kind, "expired").Inc();
                logger.LogInformation("resourceVersion {ResourceVersion} of {Kind} expired; re-listing", watch.ResourceVersion, Kind);
                mustList = true;
            }
            catch (Exception e)
            {
                metrics.WatchRestarts.WithLabels(Kind, "error").Inc();
                var delay = Backoff(failures++);
                logger.LogWarning("Watch of {Kind} failed ({Error}); retrying in {Delay:F1}s", Kind, e.Message,
                    delay.TotalSeconds);
                try
                {
                    await Task.Delay(delay, ct).ConfigureAwait(false);
                }
                catch (OperationCanceledException)
                {
                    break;
                }
            }
        }
    }

    /// <summary>Full re-list: replaces the cache and reports adds, changes and synthetic deletes against it.</summary>
    private async Task ListAsync(WatchScope watch, CancellationToken ct)
    {
        var @namespace = watch.Namespace;
        var seen = new HashSet<NamespacedName>();
        string? continueToken = null;
        string listVersion;
        do
        {
            ResourceList<T> page;
            try
            {
                page = await client.ListAsync(@namespace, options.PageSize, continueToken, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (continueToken is not null && ApiErrors.IsGone(e))
            {
                // The continue token's snapshot was compacted: start the list over.
                seen.Clear();
                continueToken = null;
                continue;
            }

            foreach (var item in page.Items)
            {
                var key = NamespacedName.Of(item);
                seen.Add(key);
                Upsert(key, item);
            }

            continueToken = page.Metadata?.ContinueProperty;
            listVersion = page.Metadata?.ResourceVersion ?? "";
            if (string.IsNullOrEmpty(continueToken))
            {
                watch.ResourceVersion = listVersion;
                break;
            }
        }
        while (true);

        RemoveAllExcept(seen, @namespace);
        logger.LogDebug("Listed {Count} {Kind} at resourceVersion {ResourceVersion}", cache.Count, Kind, watch.ResourceVersion);
    }

    private async Task WatchAsync(WatchScope watch, CancellationToken ct)
    {
        var timeout = options.MinWatchTimeoutSeconds + Random.Shared.Next(options.MinWatchTimeoutSeconds);
        await foreach (var (type, item) in client.WatchAsync(watch.Namespace, watch.ResourceVersion, timeout, ct).ConfigureAwait(false))
        {
            var version = item.Metadata?.ResourceVersion;
            switch (type)
            {
                case WatchEventType.Added:
                case WatchEventType.Modified:
                    Upsert(NamespacedName.Of(item), item);
                    break;
                case WatchEventType.Deleted:
                    var key = NamespacedName.Of(item);
                    cache.TryRemove(key, out var old);
                    Notify(new InformerEvent<T>(WatchEventType.Deleted, old, Strip(item)));
                    break;
            }

            if (!string.IsNullOrEmpty(version))
            {
                watch.ResourceVersion = version;
            }
        }
    }

    /// <summary>
    /// Drops the cached objects of <paramref name="namespace"/> (null: all) whose keys are not in <paramref name="keep"/>,
    /// reporting each as deleted.
    /// </summary>
    private void RemoveAllExcept(HashSet<NamespacedName> keep, string? @namespace)
    {
        foreach (var key in cache.Keys)
        {
            if ((@namespace is null || key.Namespace == @namespace) && !keep.Contains(key) && cache.TryRemove(key, out var gone))
            {
                Notify(new InformerEvent<T>(WatchEventType.Deleted, gone, gone));
            }
        }
    }

    private void Upsert(NamespacedName key, T item)
    {
        Strip(item);
        T? old = null;
        cache.AddOrUpdate(key, item, (_, existing) =>
        {
            old = existing;
            return item;
        });

        if (old is null)
        {
            Notify(new InformerEvent<T>(WatchEventType.Added, null, item));
        }
        else if (old.Metadata.ResourceVersion != item.Metadata.ResourceVersion)
        {
            Notify(new InformerEvent<T>(WatchEventType.Modified, old, item));
        }
    }

    /// <summary>
    /// Trims the object before it is cached: managedFields are often the largest part of an object and no controller
    /// reads them. The namespace, apiVersion and kind strings, equal across cached objects, are kept once instead of
    /// once per object. (kubectl's last-applied annotation stays: a controller that writes back a cached object whole
    /// would otherwise delete it on the server.)
    /// </summary>
    private static T Strip(T item)
    {
        item.Metadata.ManagedFields = null;
        item.Metadata.NamespaceProperty = Shared(item.Metadata.NamespaceProperty);
        item.ApiVersion = Shared(item.ApiVersion);
        item.Kind = Shared(item.Kind);
        return item;
    }

    private static string? Shared(string? value) => value is null ? null : string.Intern(value);

    private void Notify(InformerEvent<T> change)
    {
        Action<InformerEvent<T>>[] snapshot;
        lock (handlers)
        {
            snapshot = handlers.ToArray();
        }

        foreach (var handler in snapshot)
        {
            try
            {
                handler(change);
            }
            catch (Exception e)
            {
                logger.LogError(e, "Informer handler for {Kind} failed", Kind);
            }
        }
    }

    /// <summary>One list-then-watch loop: the whole cluster or one namespace, with its own resourceVersion.</summary>
    private sealed class WatchScope(string? @namespace)
    {
        public string? Namespace { get; } = @namespace;

        public string ResourceVersion { get; set; } = "";

        public bool Listed { get; set; }
    }

    private TimeSpan Backoff(int failures)
    {
        var capped = Math.Min(options.MaxReconnectDelay.TotalMilliseconds,
            options.InitialReconnectDelay.TotalMilliseconds * Math.Pow(2, Math.Min(failures, 20)));
        return TimeSpan.FromMilliseconds(capped * (0.5 + Random.Shared.NextDouble() * 0.5));
    }
}

public sealed record InformerOptions
{
    /// <summary>Items per list request (limit/continue paging).</summary>
    public int PageSize { get; init; } = 500;

    /// <summary>Watches ask the server to close after a random time between this and twice this, like client-go.</summary>
    public int MinWatchTimeoutSeconds { get; init; } = 300;

    public TimeSpan InitialReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(200);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Namespaces to list and watch (each with its own namespaced list and watch, so namespaced RBAC suffices) when the
    /// informer is given no single namespace; null or empty watches the whole cluster.
    /// </summary>
    public IReadOnlyList<string>? Namespaces { get; init; }

    /// <summary>How often an optional informer checks whether the API server serves its kind yet.</summary>
    public TimeSpan MissingKindRecheck { get; init; } = TimeSpan.FromSeconds(60);
}
