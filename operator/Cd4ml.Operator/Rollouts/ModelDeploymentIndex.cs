using System.Collections.Concurrent;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Client;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// Which Deployments serve which model and manage which HTTPRoute, so a ModelVersion or route change wakes exactly
/// those. Filled by the reconciler; the controller reconciles every Deployment when it starts, so the index is complete
/// once the first round has run.
/// </summary>
public sealed class ModelDeploymentIndex
{
    private readonly ConcurrentDictionary<NamespacedName, Entry> entries = new();

    /// <param name="route">The HTTPRoute the Deployment sets weights in (GatewayApi routing), or null.</param>
    public void Set(NamespacedName deployment, string model, string? route) => entries[deployment] = new Entry(model, route);

    public void Remove(NamespacedName deployment) => entries.TryRemove(deployment, out _);

    public IEnumerable<NamespacedName> DeploymentsFor(ModelVersion version) =>
        In(version.Metadata.NamespaceProperty, entry => entry.Model == version.Spec.ModelName);

    public IEnumerable<NamespacedName> DeploymentsFor(HttpRoute route) =>
        In(route.Metadata.NamespaceProperty, entry => entry.Route == route.Metadata.Name);

    private List<NamespacedName> In(string? @namespace, Func<Entry, bool> matches) => entries
        .Where(pair => pair.Key.Namespace == @namespace && matches(pair.Value))
        .Select(pair => pair.Key)
        .ToList();

    private sealed record Entry(string Model, string? Route);
}
