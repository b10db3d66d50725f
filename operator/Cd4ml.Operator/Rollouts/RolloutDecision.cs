using Cd4ml.Operator.Platform;

namespace Cd4ml.Operator.Rollouts;

public enum RolloutActionKind
{
    /// <summary>Nothing to do until <see cref="RolloutAction.After"/> (or a watched change).</summary>
    Wait,

    /// <summary>The current step is done: move to the next.</summary>
    Advance,

    /// <summary>Run one round of analysis now, then decide again.</summary>
    Measure,

    /// <summary>Hold the canary where it is until a person (or the pause's duration) lets it go on.</summary>
    Pause,

    /// <summary>Every step passed: the canary becomes stable.</summary>
    Promote,

    /// <summary>Send all traffic back to stable and stop this version's rollout.</summary>
    RollBack,
}

/// <summary>The next thing a rollout does, with a CamelCase reason and a message people can act on.</summary>
public sealed record RolloutAction(RolloutActionKind Kind, string Reason, string Message, TimeSpan? After = null);

/// <summary>Per-step analysis counters as kept in status.analysis; counted per round of measurements.</summary>
public sealed record AnalysisCounters(int Successful, int Failed, int Inconclusive, int ConsecutiveErrors,
    DateTime? LastMeasurement, string? LastFailure = null)
{
    public static readonly AnalysisCounters Empty = new(0, 0, 0, 0, null);
}

/// <summary>Everything a decision depends on; the caller reads it from status, annotations and the cluster.</summary>
public sealed record RolloutSnapshot(
    CanaryPlan Plan,
    AnalysisSettings Analysis,
    int Step,
    DateTime StepStarted,
    DateTime Now,
    bool CanaryReady,
    AnalysisCounters Counters,
    bool PromoteRequested = false,
    bool AbortRequested = false);

/// <summary>Given where a rollout is, what happens next. Pure: the reconciler applies the answer.</summary>
public static class RolloutDecision
{
    /// <summary>How often to look again while waiting for canary pods (their changes also wake the controller).</summary>
    public static readonly TimeSpan ReadinessPoll = TimeSpan.FromSeconds(2);

    public static RolloutAction Decide(RolloutSnapshot s)
    {
        var analysis = s.Analysis;
        var counters = s.Counters;
        if (s.AbortRequested)
        {
            return new RolloutAction(RolloutActionKind.RollBack, "Aborted", "aborted by annotation cd4ml.io/abort");
        }

        if (counters.Failed >= analysis.FailureLimit)
        {
            return new RolloutAction(RolloutActionKind.RollBack, "AnalysisFailed",
                $"{counters.LastFailure} ({counters.Failed} failed measurements, failureLimit {analysis.FailureLimit})");
        }

        if (s.Step >= s.Plan.Count)
        {
            return new RolloutAction(RolloutActionKind.Promote, "AllStepsPassed", "all canary steps passed");
        }

        if (s.PromoteRequested)
        {
            return new RolloutAction(RolloutActionKind.Advance, "PromotedManually",
                $"step {s.Plan.Describe(s.Step)} skipped by annotation cd4ml.io/promote");
        }

        if (counters.ConsecutiveErrors >= analysis.ErrorLimit)
        {
            return new RolloutAction(RolloutActionKind.Pause, "AnalysisError",
                $"{counters.ConsecutiveErrors} consecutive analysis errors (errorLimit {analysis.ErrorLimit}); " +
                "set cd4ml.io/retry to analyse again or cd4ml.io/promote to skip the step");
        }

        if (counters.Inconclusive >= analysis.InconclusiveLimit)
        {
            return new RolloutAction(RolloutActionKind.Pause, "AnalysisInconclusive",
                $"{counters.Inconclusive} inconclusive measurements (inconclusiveLimit {analysis.InconclusiveLimit}); " +
                "set cd4ml.io/retry to analyse again or cd4ml.io/promote to skip the step");
        }

        var step = s.Plan.Steps[s.Step];
        var elapsed = s.Now - s.StepStarted;
        switch (step.Kind)
        {
            case StepKind.SetWeight:
                return s.CanaryReady
                    ? new RolloutAction(RolloutActionKind.Advance, "WeightSet", $"canary at weight {step.Weight}")
                    : new RolloutAction(RolloutActionKind.Wait, "WaitingForCanary",
                        $"waiting for canary pods at weight {step.Weight} to be ready", ReadinessPoll);

            case StepKind.Pause when step.Duration is null:
                return new RolloutAction(RolloutActionKind.Pause, "PauseStep",
                    "paused until annotation cd4ml.io/promote is set");

            case StepKind.Pause when elapsed >= step.Duration:
                return new RolloutAction(RolloutActionKind.Advance, "PauseElapsed", $"paused for {step.Duration}");

            case StepKind.Pause:
                return new RolloutAction(RolloutActionKind.Pause, "PauseStep", $"paused for {step.Duration}",
                    step.Duration - elapsed);

            default:
                return DecideAnalysis(s, step.Duration ?? analysis.Interval * 3);
        }
    }

    private static RolloutAction DecideAnalysis(RolloutSnapshot s, TimeSpan duration)
    {
        var analysis = s.Analysis;
        if (analysis.PrometheusAddress is null)
        {
            return new RolloutAction(RolloutActionKind.Pause, "NoPrometheus",
                "analysis needs Prometheus: set spec.strategy.canary.analysis.prometheus.address, or the platform " +
                $"default: key {PlatformDefaults.PrometheusAddressKey} of ConfigMap {PlatformDefaults.ConfigMapName} in " +
                "the namespace or the operator's CD4ML_PROMETHEUS_ADDRESS");
        }

        // The step lasts its duration after the warm-up (see InWarmUp), so its counted measurements span all of it.
        var end = s.StepStarted + duration + WarmUp(analysis);
        // The first measurement waits one interval so the window holds canary traffic.
        // A final measurement is taken at the end of a step shorter than the remaining interval.
        var due = Min((s.Counters.LastMeasurement ?? s.StepStarted) + analysis.Interval, end);
        if (s.Now >= due && (s.Counters.LastMeasurement is null || s.Counters.LastMeasurement < end))
        {
            return new RolloutAction(RolloutActionKind.Measure, "MeasurementDue", "measuring the canary");
        }

        if (s.Now >= end)
        {
            return s.Counters.Successful > 0
                ? new RolloutAction(RolloutActionKind.Advance, "AnalysisPassed",
                    $"{s.Counters.Successful} successful measurements, {s.Counters.Failed} failed")
                : new RolloutAction(RolloutActionKind.Pause, "AnalysisInconclusive",
                    "no successful measurement during the analysis step; set cd4ml.io/retry to analyse again or " +
                    "cd4ml.io/promote to skip the step");
        }

        return new RolloutAction(RolloutActionKind.Wait, "Analysing", "analysing the canary",
            (s.Now >= due ? end : due) - s.Now);
    }

    /// <summary>
    /// Whether a measurement at <paramref name="at"/> falls in the step's first window: a canary that has only just
    /// become ready has not yet served a full window, and Prometheus's rate over a series younger than the window
    /// under-counts it. Such a measurement still fails or passes on its evidence, but "too few requests" is expected
    /// then and does not count towards inconclusiveLimit.
    /// </summary>
    public static bool InWarmUp(AnalysisSettings analysis, DateTime stepStarted, DateTime at) => at - stepStarted < analysis.Window;

    /// <summary>How much longer an analysis step lasts for its warm-up: the part of the first window after the first measurement.</summary>
    public static TimeSpan WarmUp(AnalysisSettings analysis) =>
        analysis.Window > analysis.Interval ? analysis.Window - analysis.Interval : TimeSpan.Zero;

    private static DateTime Min(DateTime a, DateTime b) => a < b ? a : b;
}
