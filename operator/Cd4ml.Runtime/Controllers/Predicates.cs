using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Controllers;

/// <summary>Filters for update events of the primary kind.</summary>
public static class Predicates
{
    /// <summary>
    /// True when an update matters to the controller: spec (generation), labels, annotations, finalizers or deletion
    /// changed. Status-only writes — including the controller's own — are ignored so they do not loop.
    /// </summary>
    public static bool GenerationOrMetadataChanged(IKubernetesObject<V1ObjectMeta>? old, IKubernetesObject<V1ObjectMeta> current)
    {
        if (old is null)
        {
            return true;
        }

        var before = old.Metadata;
        var after = current.Metadata;
        return before.Generation != after.Generation
               || before.DeletionTimestamp != after.DeletionTimestamp
               || !SameMap(before.Annotations, after.Annotations)
               || !SameMap(before.Labels, after.Labels)
               || !(before.Finalizers ?? []).SequenceEqual(after.Finalizers ?? []);
    }

    private static bool SameMap(IDictionary<string, string>? a, IDictionary<string, string>? b)
    {
        if ((a?.Count ?? 0) != (b?.Count ?? 0))
        {
            return false;
        }

        return a is null || a.All(pair => b!.TryGetValue(pair.Key, out var value) && value == pair.Value);
    }
}
