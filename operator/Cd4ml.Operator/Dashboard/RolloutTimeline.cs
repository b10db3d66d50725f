using System.Globalization;
using System.Text.RegularExpressions;
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
    // Written by RolloutPlanner: "Step 2/5 setWeight 50 of demo-v2: …" (CanaryPlan.Describe numbers steps from 1).
    private static readonly Regex CompletedStep = new(@"^Step (\d+)/\d+ ", RegexOptions.CultureInvariant);
    private static readonly Regex StartedVersion = new(@"^Rolling out (\S+) ", RegexOptions.CultureInvariant);

    /// <summary>
    /// Rebuilds the weight steps from the operator's events (RolloutStarted, StepCompleted, Promoted, RolledBack) and
    /// the spec's steps, ending at the weight in status now. Outcomes come from status.history, which outlives events:
    /// those from the first step on, or all of them when no event is left to draw steps from.
    /// </summary>
    public static RolloutTimeline Build(ModelDeployment deployment, IEnumerable<Corev1Event> events, DateTime now)
    {
        var plan = deployment.Spec.Strategy?.Canary?.Steps ?? [];
        var steps = new List<WeightStep>();
        foreach (var e in events.Where(e => EventTime(e) is not null).OrderBy(e => EventTime(e)))
        {
            var time = EventTime(e)!.Value;
            var message = e.Message ?? "";
            switch (e.Reason)
            {
                case "RolloutStarted":
                    var version = StartedVersion.Match(message) is { Success: true } started ? started.Groups[1].Value : "canary";
                    steps.Add(new WeightStep(time, 0, $"rollout of {version} started"));
                    break;
                case "StepCompleted" when CompletedStep.Match(message) is { Success: true } completed:
                    var index = int.Parse(completed.Groups[1].Value, CultureInfo.InvariantCulture) - 1;
                    steps.Add(new WeightStep(time, WeightAfter(plan, index), message));
                    break;
                case "Promoted":
                    steps.Add(new WeightStep(time, 100, message));
                    break;
                case ModelDeploymentReconciler.RolledBackReason:
                    steps.Add(new WeightStep(time, 0, message));
                    break;
            }
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

    /// <summary>The weight in force once step <paramref name="index"/> is done: the last setWeight at or before it.</summary>
    public static int WeightAfter(IReadOnlyList<CanaryStep> plan, int index)
    {
        for (var i = Math.Min(index, plan.Count - 1); i >= 0; i--)
        {
            if (plan[i].SetWeight is { } weight)
            {
                return weight;
            }
        }

        return 0;
    }

    private static DateTime? EventTime(Corev1Event e) =>
        (e.LastTimestamp ?? e.EventTime ?? e.FirstTimestamp ?? e.Metadata?.CreationTimestamp)?.ToUniversalTime();
}
