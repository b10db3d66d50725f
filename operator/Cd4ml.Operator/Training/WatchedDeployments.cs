using System.Collections.Concurrent;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Client;

namespace Cd4ml.Operator.Training;

/// <summary>
/// Which TrainingRuns name which cd4ml Deployment (retrainOn.drift, dataset.fromFeedback), so a change to that
/// Deployment (its Drifting condition, its log prefix) wakes exactly those runs. Filled by the reconciler; the
/// controller reconciles every run when it starts, so the index is complete once the first round has run.
/// </summary>
public sealed class WatchedDeployments
{
    private readonly ConcurrentDictionary<NamespacedName, string[]> runs = new();

    public void Set(NamespacedName run, TrainingRunSpec spec)
    {
        var named = new[] { spec.RetrainOn?.Drift?.Deployment, spec.Dataset.FromFeedback?.Deployment }
            .OfType<string>().Where(n => n.Length > 0).Distinct().ToArray();
        if (named.Length == 0)
        {
            runs.TryRemove(run, out _);
        }
        else
        {
            runs[run] = named;
        }
    }

    public void Remove(NamespacedName run) => runs.TryRemove(run, out _);

    public IEnumerable<NamespacedName> RunsWatching(ModelDeployment deployment) => runs
        .Where(pair => pair.Key.Namespace == deployment.Metadata.NamespaceProperty && pair.Value.Contains(deployment.Metadata.Name))
        .Select(pair => pair.Key)
        .ToList();
}
