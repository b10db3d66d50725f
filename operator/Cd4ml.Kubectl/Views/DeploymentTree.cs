using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Entities;
using Spectre.Console;
using Spectre.Console.Rendering;

namespace Cd4ml.Kubectl.Views;

/// <summary>Pods of one track as its apps/v1 Deployment reports them.</summary>
public sealed record TrackPods(int Desired, int Ready);

/// <summary>
/// A cd4ml Deployment → its stable and canary tracks (version, pods, weight), the canary's step and last analysis
/// measurements against their thresholds, why it is paused or was rolled back, and the rollout history.
/// </summary>
public static class DeploymentTree
{
    private const int HistoryShown = 5;

    public static IRenderable Render(ModelDeployment deployment, TrackPods? stablePods, TrackPods? canaryPods)
    {
        var status = deployment.Status;
        var tree = new Tree($"Deployment {Format.Name(deployment.Metadata.Name)}  model {Format.Escape(deployment.Spec.ModelName)}  "
                            + Format.Phase(status?.Phase));
        if (status is null)
        {
            return tree;
        }

        var canaryWeight = status.CanaryVersion is null ? 0 : status.CanaryWeight ?? 0;
        if (status.StableVersion is not null)
        {
            tree.AddNode(TrackLine("stable", status.StableVersion, stablePods, 100 - canaryWeight));
        }

        if (status.CanaryVersion is not null)
        {
            var canary = tree.AddNode(TrackLine("canary", status.CanaryVersion, canaryPods, canaryWeight)
                                      + (status.CurrentStepText is { Length: > 0 } step ? $"  step {Format.Escape(step)}" : ""));
            if (status.Analysis is { } analysis)
            {
                AddAnalysis(canary, analysis);
            }
        }

        if (status.Find(ModelDeploymentReconciler.PausedCondition) is { Status: Condition.True } paused)
        {
            tree.AddNode($"[yellow]⏸ paused[/] ({Format.Escape(paused.Reason)}): {Format.Escape(paused.Message)}");
        }

        if (!string.IsNullOrEmpty(status.AbortReason))
        {
            tree.AddNode($"[red]↩ rolled back[/]: {Format.Escape(status.AbortReason)}");
        }

        else if (status.Find(Conditions.Ready) is { Status: Condition.False } notReady)
        {
            // e.g. NoModelVersion: why nothing is served yet.
            tree.AddNode($"[yellow]not ready[/] ({Format.Escape(notReady.Reason)}): {Format.Escape(notReady.Message)}");
        }

        if (status.Find(ModelDeploymentReconciler.TrafficRoutingCondition) is { } routing)
        {
            tree.AddNode($"traffic {Format.Escape(routing.Reason)}: {Format.Dim(routing.Message)}");
        }

        if (status.History is { Count: > 0 } history)
        {
            var node = tree.AddNode("history");
            foreach (var record in history.TakeLast(HistoryShown).Reverse())
            {
                node.AddNode($"{Format.Dim(Format.Time(record.Time))}  {Format.Escape(record.Version)}  {Outcome(record.Outcome)}"
                             + (string.IsNullOrEmpty(record.Reason) ? "" : $"  {Format.Escape(record.Reason)}"));
            }
        }

        return tree;
    }

    private static string TrackLine(string track, string version, TrackPods? pods, int weight)
    {
        var line = $"{track}  {Format.Name(version)}";
        if (pods is not null)
        {
            var colour = pods.Ready >= pods.Desired ? "green" : "yellow";
            line += $"  pods [{colour}]{pods.Ready}/{pods.Desired}[/] ready";
        }

        return line + $"  weight {weight}%";
    }

    private static void AddAnalysis(TreeNode canary, AnalysisStatus analysis)
    {
        var node = canary.AddNode($"analysis  {Format.Passed} {analysis.Successful} successful  {Format.Failed} {analysis.Failed} failed  "
                                  + $"{Format.Unknown} {analysis.Inconclusive} inconclusive  errors {analysis.ConsecutiveErrors}");
        // The latest measurement of each metric: what the next decision is based on.
        var latest = (analysis.Measurements ?? []).GroupBy(m => m.Metric).Select(g => g.Last());
        foreach (var measurement in latest)
        {
            var symbol = measurement.Phase switch
            {
                "Successful" => Format.Passed,
                "Failed" => Format.Failed,
                _ => Format.Unknown,
            };
            var value = measurement.Value is { } v ? Format.Number(v) : "no value";
            var line = $"{symbol} {Format.Escape(measurement.Metric)} = {value}  ({Format.Escape(measurement.Threshold)})";
            if (measurement.SampleCount is { } samples)
            {
                // Prometheus extrapolates increase() to the window: the count is an estimate, shown whole.
                line += $"  {Format.Number(Math.Round(samples))} requests";
            }

            if (measurement.Phase != "Successful" && !string.IsNullOrEmpty(measurement.Message))
            {
                line += $"  {Format.Escape(measurement.Phase)}: {Format.Escape(measurement.Message)}";
            }

            node.AddNode(line + $"  {Format.Dim(Format.Time(measurement.Time))}");
        }
    }

    private static string Outcome(string outcome) => outcome switch
    {
        "RolledBack" or "Aborted" => $"[red]{Format.Escape(outcome)}[/]",
        "Promoted" or "Deployed" => $"[green]{Format.Escape(outcome)}[/]",
        _ => Format.Escape(outcome),
    };
}
