using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using Cd4ml.Runtime.Entities;
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

    /// <summary>
    /// How many other Queued runs of the namespace have waited longer than <paramref name="run"/>: free slots go to them
    /// first (oldest first; the name breaks ties), so a run that arrives while others wait cannot overtake them.
    /// A run that is not Queued yet joins the end of the queue.
    /// </summary>
    public static int QueuedAhead(IEnumerable<TrainingRun> runs, TrainingRun run)
    {
        var mine = QueuedSince(run);
        return runs.Count(other =>
            other.Metadata.Uid != run.Metadata.Uid
            && other.Metadata.DeletionTimestamp is null
            && QueuedSince(other) is { } since
            && (mine is null || since < mine || (since == mine && string.CompareOrdinal(other.Metadata.Name, run.Metadata.Name) < 0)));
    }

    /// <summary>When a Queued run started waiting (its Ready condition's transition to Queued); null when not Queued.</summary>
    private static DateTime? QueuedSince(TrainingRun run) =>
        run.Status is { Phase: TrainingRunStatus.Queued } status
            ? status.Find(Conditions.Ready)?.LastTransitionTime ?? run.Metadata.CreationTimestamp ?? DateTime.MinValue
            : null;

    /// <summary>Null when one more attempt may start; else why the run waits (the Ready message of a Queued run).</summary>
    /// <param name="limit">0 or null: unlimited.</param>
    /// <param name="active">Training Jobs running in the namespace.</param>
    /// <param name="ahead">Queued runs that waited longer (<see cref="QueuedAhead"/>); they take free slots first.</param>
    public static string? WaitReason(int? limit, int active, int ahead, string @namespace)
    {
        if (limit is not { } max || max <= 0 || active + ahead < max)
        {
            return null;
        }

        var waiting = ahead > 0 ? $"; {ahead} queued run{(ahead == 1 ? "" : "s")} waiting longer go{(ahead == 1 ? "es" : "")} first" : "";
        return $"{active} of {max} training attempts running in namespace {@namespace} (limit from ConfigMap "
               + $"{PlatformDefaults.ConfigMapName} key {PlatformDefaults.TrainingMaxConcurrentKey}, else the operator's "
               + $"{PlatformDefaults.Keys[PlatformDefaults.TrainingMaxConcurrentKey]}){waiting}; waiting.";
    }
}
