using System.Collections.Concurrent;
using Cd4ml.Runtime.Client;
using k8s;

namespace Cd4ml.Operator.Platform;

/// <summary>
/// The defaults that apply in one namespace: its ConfigMap <see cref="PlatformDefaults.ConfigMapName"/> over the
/// operator's cluster-wide ones, or why they cannot apply (a malformed value). A namespace's ConfigMap is read at most
/// once per <see cref="Ttl"/> (a reconcile costs no GET), so a change takes effect within that time.
/// </summary>
public sealed class PlatformDefaultsSource(IKubernetes kubernetes, OperatorOptions options, TimeProvider? time = null)
{
    public static readonly TimeSpan Ttl = TimeSpan.FromSeconds(15);

    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private readonly ConcurrentDictionary<string, (NamespaceDefaults Value, DateTimeOffset Expires)> cache = new();

    /// <summary>The operator's own: its environment's S3 and resources, its image and Prometheus.</summary>
    public PlatformDefaults Cluster { get; } = options.Platform with
    {
        Image = options.Image,
        PrometheusAddress = options.PrometheusAddress,
    };

    public async Task<NamespaceDefaults> ForAsync(string @namespace, CancellationToken ct)
    {
        var now = clock.GetUtcNow();
        if (cache.TryGetValue(@namespace, out var cached) && cached.Expires > now)
        {
            return cached.Value;
        }

        IDictionary<string, string>? data = null;
        var found = true;
        try
        {
            data = (await kubernetes.CoreV1.ReadNamespacedConfigMapAsync(PlatformDefaults.ConfigMapName, @namespace, cancellationToken: ct)).Data;
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            found = false;
        }

        var (own, problem) = found ? PlatformDefaults.FromConfigMap(data) : (PlatformDefaults.None, null);
        var value = new NamespaceDefaults(
            PlatformDefaults.Resolve(own, Cluster),
            problem is null ? null
                : $"ConfigMap {PlatformDefaults.ConfigMapName} in namespace {@namespace}, key {problem.Key}: {problem.Message}.");
        cache[@namespace] = (value, now + Ttl);
        return value;
    }
}

/// <summary>The effective defaults of a namespace, or (with them the cluster's alone) what is wrong with its ConfigMap.</summary>
public sealed record NamespaceDefaults(PlatformDefaults Defaults, string? Problem)
{
    /// <summary>The operator's options as seen from this namespace: its image, Prometheus and platform defaults.</summary>
    public OperatorOptions Apply(OperatorOptions cluster) => cluster with
    {
        Image = Defaults.Image ?? cluster.Image,
        PrometheusAddress = Defaults.PrometheusAddress,
        Platform = Defaults,
    };
}
