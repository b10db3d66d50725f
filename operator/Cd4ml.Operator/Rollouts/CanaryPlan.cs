using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Operator.Rollouts;

public enum StepKind
{
    SetWeight,
    Pause,
    Analysis,
}

/// <summary>One resolved canary step: a weight, a pause (no duration = until promoted) or an analysis period.</summary>
public sealed record PlanStep(StepKind Kind, int Weight = 0, TimeSpan? Duration = null)
{
    public override string ToString() => Kind switch
    {
        StepKind.SetWeight => $"setWeight {Weight}",
        StepKind.Pause => "pause",
        _ => "analysis",
    };
}

/// <summary>The steps of a canary rollout with the defaults filled in.</summary>
public sealed class CanaryPlan
{
    private CanaryPlan(IReadOnlyList<PlanStep> steps) => Steps = steps;

    public IReadOnlyList<PlanStep> Steps { get; }

    public int Count => Steps.Count;

    /// <summary>Resolves spec.strategy.canary.steps; analysis steps default to three analysis intervals.</summary>
    public static CanaryPlan From(CanaryStrategy? canary, TimeSpan analysisInterval)
    {
        var defaultAnalysis = analysisInterval * 3;
        var steps = canary?.Steps is { Count: > 0 } specified
            ? specified.Select(step => Resolve(step, defaultAnalysis)).ToList()
            :
            [
                new PlanStep(StepKind.SetWeight, 20),
                new PlanStep(StepKind.Analysis, Duration: defaultAnalysis),
                new PlanStep(StepKind.SetWeight, 50),
                new PlanStep(StepKind.Analysis, Duration: defaultAnalysis),
            ];
        return new CanaryPlan(steps);
    }

    /// <summary>The canary's weight while at <paramref name="step"/>: the last setWeight at or before it.</summary>
    public int WeightAt(int step)
    {
        for (var i = Math.Min(step, Count - 1); i >= 0; i--)
        {
            if (Steps[i].Kind == StepKind.SetWeight)
            {
                return Steps[i].Weight;
            }
        }

        return 0;
    }

    /// <summary>The weights of the setWeight steps up to and including <paramref name="step"/>, in order.</summary>
    public IEnumerable<int> WeightsUpTo(int step) =>
        Steps.Take(step + 1).Where(s => s.Kind == StepKind.SetWeight).Select(s => s.Weight);

    /// <summary>"2/4 analysis": the step as people count it.</summary>
    public string Describe(int step) => step < Count ? $"{step + 1}/{Count} {Steps[step]}" : $"{Count}/{Count} done";

    private static PlanStep Resolve(CanaryStep step, TimeSpan defaultAnalysis)
    {
        if (step.SetWeight is { } weight)
        {
            return new PlanStep(StepKind.SetWeight, weight);
        }

        if (step.Pause is { } pause)
        {
            return new PlanStep(StepKind.Pause, Duration: string.IsNullOrEmpty(pause.Duration) ? null : DurationText.Parse(pause.Duration));
        }

        return new PlanStep(StepKind.Analysis, Duration: DurationText.ParseOr(step.Analysis?.Duration, defaultAnalysis));
    }
}

/// <summary>spec.strategy.canary.analysis with the defaults filled in.</summary>
public sealed record AnalysisSettings(
    TimeSpan Interval,
    TimeSpan Window,
    string? PrometheusAddress,
    IReadOnlyList<AnalysisMetric> Metrics,
    int FailureLimit,
    int InconclusiveLimit,
    int ErrorLimit,
    int MinSampleCount)
{
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(30);

    public static AnalysisSettings From(AnalysisSpec? spec, string? defaultPrometheus)
    {
        var interval = DurationText.ParseOr(spec?.Interval, DefaultInterval);
        var window = DurationText.ParseOr(spec?.Window,
            TimeSpan.FromTicks(Math.Max((interval * 2).Ticks, TimeSpan.FromSeconds(30).Ticks)));
        var address = spec?.Prometheus?.Address is { Length: > 0 } own ? own : defaultPrometheus;
        IReadOnlyList<AnalysisMetric> metrics = spec?.Metrics is { Count: > 0 } listed
            ? listed
            :
            [
                new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 },
                new AnalysisMetric { Name = "latency-p99", Builtin = BuiltinMetric.LatencyP99, Max = 1.0 },
            ];
        return new AnalysisSettings(interval, window, string.IsNullOrEmpty(address) ? null : address, metrics,
            spec?.FailureLimit ?? 2, spec?.InconclusiveLimit ?? 3, spec?.ErrorLimit ?? 3, spec?.MinSampleCount ?? 20);
    }
}
