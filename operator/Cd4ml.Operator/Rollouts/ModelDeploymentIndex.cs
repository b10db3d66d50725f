using System.Collections.Concurrent;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Client;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// Which Deployments serve which model, so a ModelVersion change wakes exactly those. Filled by the reconciler; the
/// controller reconciles every Deployment when it starts, so the index is complete once the first round has run.
/// </summary>
public sealed class ModelDeploymentIndex
{
    private readonly ConcurrentDictionary<NamespacedName, string> models = new();

    public void Set(NamespacedName deployment, string model) => models[deployment] = model;

    public void Remove(NamespacedName deployment) => models.TryRemove(deployment, out _);

    public IEnumerable<NamespacedName> DeploymentsFor(ModelVersion version) => models
        .Where(pair => pair.Key.Namespace == version.Metadata.NamespaceProperty && pair.Value == version.Spec.ModelName)
        .Select(pair => pair.Key)
        .ToList();
}
