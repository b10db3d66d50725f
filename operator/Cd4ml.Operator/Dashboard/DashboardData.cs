using System.Text.Json;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Dashboard;

/// <summary>
/// What the dashboard reads: the operator's own informer caches for the cd4ml kinds (shared with the controllers, so
/// a standby replica serves them too), and a few reads of the API for what the operator does not cache (events, pods,
/// status fields newer than this build). Never writes.
/// </summary>
public sealed class DashboardData
{
    private readonly ResourceInformer<TrainingRun> runs;
    private readonly ResourceInformer<ModelVersion> versions;
    private readonly ResourceInformer<ModelDeployment> deployments;
    private readonly IKubernetes kubernetes;

    public DashboardData(InformerRegistry informers, IKubernetes kubernetes)
    {
        // Taken when the endpoints are mapped, before the manager starts its informers.
        runs = informers.Get<TrainingRun>();
        versions = informers.Get<ModelVersion>();
        deployments = informers.Get<ModelDeployment>();
        this.kubernetes = kubernetes;
    }

    public bool HasSynced => runs.HasSynced && versions.HasSynced && deployments.HasSynced;

    public IReadOnlyList<TrainingRun> TrainingRuns(string? ns = null, string? model = null) =>
        runs.List().Where(r => Matches(r.Metadata, ns) && (model is null || r.Spec.ModelName == model))
            .OrderBy(r => r.Metadata.CreationTimestamp).ThenBy(r => r.Metadata.Name, StringComparer.Ordinal).ToList();

    public IReadOnlyList<ModelVersion> ModelVersions(string? ns = null, string? model = null) =>
        versions.List().Where(v => Matches(v.Metadata, ns) && (model is null || v.Spec.ModelName == model))
            .OrderBy(v => v.Spec.Version).ThenBy(v => v.Metadata.Name, StringComparer.Ordinal).ToList();

    public IReadOnlyList<ModelDeployment> Deployments(string? ns = null, string? model = null) =>
        deployments.List().Where(d => Matches(d.Metadata, ns) && (model is null || d.Spec.ModelName == model))
            .OrderBy(d => d.Metadata.NamespaceProperty, StringComparer.Ordinal).ThenBy(d => d.Metadata.Name, StringComparer.Ordinal).ToList();

    public ModelDeployment? Deployment(string ns, string name) => deployments.Get(new NamespacedName(ns, name));

    public ModelVersion? ModelVersion(string ns, string name) => versions.Get(new NamespacedName(ns, name));

    public TrainingRun? TrainingRun(string ns, string name) => runs.Get(new NamespacedName(ns, name));

    /// <summary>Events the operator recorded about a Deployment (kept by the cluster for about an hour).</summary>
    public async Task<IReadOnlyList<Corev1Event>> EventsAsync(ModelDeployment deployment, CancellationToken ct)
    {
        var list = await kubernetes.CoreV1.ListNamespacedEventAsync(deployment.Metadata.NamespaceProperty,
            fieldSelector: $"involvedObject.uid={deployment.Metadata.Uid}", cancellationToken: ct).ConfigureAwait(false);
        return list.Items.ToList();
    }

    /// <summary>The pods of a Deployment's serving workloads, by the label every one of them carries.</summary>
    public async Task<IReadOnlyList<V1Pod>> PodsAsync(ModelDeployment deployment, CancellationToken ct)
    {
        var list = await kubernetes.CoreV1.ListNamespacedPodAsync(deployment.Metadata.NamespaceProperty,
            labelSelector: $"{ServingWorkloads.DeploymentLabel}={deployment.Metadata.Name}", cancellationToken: ct).ConfigureAwait(false);
        return list.Items.OrderBy(p => p.Metadata.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>
    /// <c>status.monitoring</c> as the API serves it, read untyped so the dashboard shows the field whatever this
    /// build knows of it; null when the Deployment has none.
    /// </summary>
    public async Task<JsonElement?> MonitoringAsync(ModelDeployment deployment, CancellationToken ct)
    {
        var raw = await kubernetes.CustomObjects.GetNamespacedCustomObjectAsync(ApiGroup.Group, ApiGroup.Version,
            deployment.Metadata.NamespaceProperty, ModelDeployment.Plural, deployment.Metadata.Name, cancellationToken: ct)
            .ConfigureAwait(false);
        var json = raw is JsonElement element ? element : JsonSerializer.SerializeToElement(raw);
        return json.TryGetProperty("status", out var status) && status.ValueKind == JsonValueKind.Object
               && status.TryGetProperty("monitoring", out var monitoring) && monitoring.ValueKind != JsonValueKind.Null
            ? monitoring
            : null;
    }

    private static bool Matches(V1ObjectMeta metadata, string? ns) => ns is null || metadata.NamespaceProperty == ns;
}
