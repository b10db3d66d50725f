using Cd4ml.Operator.Platform;
using k8s.Models;

namespace Cd4ml.Operator.Training;

/// <summary>
/// The per-namespace limit of concurrent training attempts (<see cref="PlatformDefaults.MaxConcurrentTraining"/>):
/// which Jobs count as running, and whether one more attempt may start. Pure.
/// </summary>
public static class TrainingConcurrency
{
    public static readonly TimeSpan QueuedRecheck = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The operator's training Jobs that are still running, other than <paramref name="runUid"/>'s own (a run that
    /// starts a new attempt deletes its unfinished one, so that one does not hold a slot).
    /// </summary>
    public static int Active(IEnumerable<V1Job> jobs, string? runUid) => jobs.Count(job =>
        job.Metadata.Labels is { } labels
        && labels.TryGetValue(TrainingJobBuilder.ManagedByLabel, out var managedBy) && managedBy == TrainingJobBuilder.ManagedBy
        && labels.ContainsKey(TrainingJobBuilder.RunLabel)
        && job.Metadata.DeletionTimestamp is null
        && job.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Uid == runUid) != true
        && job.Status?.Conditions?.Any(c => c.Type is "Complete" or "Failed" && c.Status == "True") != true);

    /// <summary>Null when one more attempt may start; else why the run waits (the Ready message of a Queued run).</summary>
    /// <param name="limit">0 or null: unlimited.</param>
    public static string? WaitReason(int? limit, int active, string @namespace) =>
        limit is { } max && max > 0 && active >= max
            ? $"{active} of {max} training attempts running in namespace {@namespace} (limit from ConfigMap "
              + $"{PlatformDefaults.ConfigMapName} key {PlatformDefaults.TrainingMaxConcurrentKey}, else the operator's "
              + $"{PlatformDefaults.Keys[PlatformDefaults.TrainingMaxConcurrentKey]}); waiting."
            : null;
}
