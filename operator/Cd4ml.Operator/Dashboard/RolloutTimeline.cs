using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using k8s.Models;

namespace Cd4ml.Operator.Dashboard;

/// <summary>One point of the canary's weight over time.</summary>
public sealed record WeightStep(DateTime Time, int Weight, string Label);

/// <summary>A promotion or a rollback, with the reason the operator gave.</summary>
public sealed record RolloutOutcome(DateTime Time, string Version, string Outcome, string? Reason);

/// <summary>The canary weight over time and the outcomes of a Deployment's rollouts.</summary>
public sealed record RolloutTimeline(IReadOnlyList<WeightStep> Steps, IReadOnlyList<RolloutOutcome> Outcomes)
{
    // In the order they happen within a rollout; Promoted and RolledBack both end one.
    private static readonly string?[] TimelineReasons =
        ["RolloutStarted", "StepCompleted", "Promoted", ModelDeploymentReconciler.RolledBackReason];

    /// <summary>
    /// Rebuilds the weight steps from the operator's rollout events (RolloutStarted, StepCompleted, Promoted,
    /// RolledBack) by their <see cref="RolloutEventFields"/> annotations, never by their wording, ending at the weight
    /// in status now. Events without those fields (recorded by an operator before they existed) are skipped. Outcomes
    /// come from status.history, which outlives events: those from the first step on, or all of them when no event is
    /// left to draw steps from.
    /// </summary>
    public static RolloutTimeline Build(ModelDeployment deployment, IEnumerable<Corev1Event> events, DateTime now)
    {
        var steps = new List<WeightStep>();
        var recorded = events
            .Select(e => (Event: e, Time: EventTime(e), Rank: Array.IndexOf(TimelineReasons, e.Reason), Fields: RolloutEventFields.Of(e)))
            .Where(r => r.Time is not null && r.Rank >= 0 && r.Fields is not null)
            // Event times have whole seconds: within one, a rollout starts, then completes its steps, then ends.
            .OrderBy(r => r.Time).ThenBy(r => r.Rank).ThenBy(r => r.Fields!.Step);
        foreach (var (e, time, _, fields) in recorded)
        {
            var label = e.Reason == "RolloutStarted" ? $"rollout of {fields!.Version} started" : e.Message ?? e.Reason!;
            steps.Add(new WeightStep(time!.Value, fields!.Weight, label));
        }

        var status = deployment.Status;
        if (status?.CanaryVersion is { } canary)
        {
            steps.Add(new WeightStep(now, status.CanaryWeight ?? 0,
                $"now: {canary} at {status.CanaryWeight ?? 0}% ({status.CurrentStepText ?? "starting"})"));
        }

        var outcomes = (status?.History ?? [])
            .Where(h => h.Time is not null)
            .Select(h => new RolloutOutcome(h.Time!.Value.ToUniversalTime(), h.Version, h.Outcome, h.Reason))
            .Where(h => steps.Count == 0 || h.Time >= steps[0].Time)
            .OrderBy(h => h.Time)
            .ToList();
        return new RolloutTimeline(steps, outcomes);
    }

    private static DateTime? EventTime(Corev1Event e) =>
        (e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp ?? e.Metadata?.CreationTimestamp)?.ToUniversalTime();
}
