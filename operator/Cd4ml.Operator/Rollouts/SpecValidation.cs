using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Operator.Rollouts;

/// <summary>Why a spec cannot be acted on: a CamelCase reason and a message naming the field and the fix.</summary>
public sealed record SpecProblem(string Reason, string Message);

/// <summary>
/// What the API server's schema cannot check (or did not check when the object was stored under an older schema):
/// found before a rollout starts, reported as the InvalidSpec condition. Pure; custom queries are checked by
/// Prometheus separately (<see cref="PrometheusClient.CheckQueryAsync"/>).
/// </summary>
public static class SpecValidation
{
    public const string FaultInjectionNotAllowed = "FaultInjectionNotAllowed";
    public const string AnalysisQueryInvalid = "AnalysisQueryInvalid";
    private const string Analysis = "spec.strategy.canary.analysis";

    public static IReadOnlyList<SpecProblem> Problems(ModelDeploymentSpec spec, bool faultInjectionAllowed)
    {
        var problems = new List<SpecProblem>();
        if (spec.FaultInjection is not null && !faultInjectionAllowed)
        {
            problems.Add(new SpecProblem(FaultInjectionNotAllowed,
                "spec.faultInjection is set but this operator does not allow fault injection, so nothing is injected: " +
                "remove the field, or run the operator with --allow-fault-injection (CD4ML_ALLOW_FAULT_INJECTION=true)"));
        }

        var canary = spec.Strategy?.Canary;
        if (canary?.Steps is { Count: 0 })
        {
            problems.Add(new SpecProblem("NoSteps",
                "spec.strategy.canary.steps is empty: list at least one step, or leave the field out for the default plan"));
        }

        foreach (var (field, text) in Durations(canary).Concat(
                     [("spec.monitoring.drift.window", spec.Monitoring?.Drift?.Window),
                      ("spec.monitoring.drift.checkInterval", spec.Monitoring?.Drift?.CheckInterval)]))
        {
            if (string.IsNullOrEmpty(text))
            {
                continue;
            }

            if (DurationText.TryParse(text) is not { } duration || duration <= TimeSpan.Zero)
            {
                problems.Add(new SpecProblem("InvalidDuration", $"{field} is '{text}': it must be a duration above zero, e.g. 30s"));
            }
        }

        if (spec.Autoscaling is { MinReplicas: { } min, MaxReplicas: var max } && min > max)
        {
            problems.Add(new SpecProblem("InvalidAutoscaling",
                $"spec.autoscaling.minReplicas {min} is above maxReplicas {max}: raise maxReplicas or lower minReplicas"));
        }

        var metrics = canary?.Analysis?.Metrics ?? [];
        for (var i = 0; i < metrics.Count; i++)
        {
            var metric = metrics[i];
            var field = $"{Analysis}.metrics[{i}] ({metric.Name})";
            if (metric.Builtin is null == string.IsNullOrWhiteSpace(metric.Query))
            {
                problems.Add(new SpecProblem("InvalidMetric", $"{field}: set exactly one of builtin and query"));
            }

            if (metric is { Max: null, Min: null, MaxIncreaseOverStable: null })
            {
                problems.Add(new SpecProblem("InvalidMetric",
                    $"{field}: set a threshold (max, min or maxIncreaseOverStable); without one every measurement passes"));
            }
        }

        return problems;
    }

    /// <summary>The custom queries of <paramref name="metrics"/> with their field paths (builtin ones are ours and valid).</summary>
    public static IEnumerable<(string Field, AnalysisMetric Metric)> CustomQueries(IReadOnlyList<AnalysisMetric>? metrics) =>
        (metrics ?? []).Select((metric, i) => ($"{Analysis}.metrics[{i}].query", metric))
            .Where(m => m.metric.Builtin is null && !string.IsNullOrWhiteSpace(m.metric.Query));

    /// <summary>The InvalidSpec message for a query Prometheus refused.</summary>
    public static SpecProblem QueryRefused(string field, AnalysisMetric metric, string error) =>
        new(AnalysisQueryInvalid, $"{field} of metric {metric.Name} is not valid PromQL: Prometheus says: {error}");

    private static IEnumerable<(string Field, string? Text)> Durations(CanaryStrategy? canary)
    {
        yield return ($"{Analysis}.interval", canary?.Analysis?.Interval);
        yield return ($"{Analysis}.window", canary?.Analysis?.Window);
        var steps = canary?.Steps ?? [];
        for (var i = 0; i < steps.Count; i++)
        {
            yield return ($"spec.strategy.canary.steps[{i}].analysis.duration", steps[i].Analysis?.Duration);
        }
    }
}
