using System.Text.Json.Nodes;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using k8s;
using k8s.Models;
using static Cd4ml.Operator.Rollouts.ModelDeploymentReconciler;

namespace Cd4ml.Operator.Rollouts;

/// <summary>Whether the HTTPRoute of GatewayApi routing was found, and if so as the whole JSON object.</summary>
public sealed record RouteObservation(bool Found, JsonObject? Route = null)
{
    public static readonly RouteObservation Missing = new(false);
}

/// <summary>One round of analysis as measured in Prometheus: the canary's request count and each metric's verdict.</summary>
public sealed record RolloutMeasurement(QueryResult Samples, IReadOnlyList<Verdict> Verdicts);

/// <summary>What to measure: the canary's and the stable track's series with the analysis settings in force.</summary>
public sealed record MeasureRequest(QueryTarget Canary, QueryTarget Stable, AnalysisSettings Analysis);

/// <summary>
/// Everything a plan depends on, read from the cluster (caches where there are any), the operator's options and,
/// once measured, Prometheus.
/// </summary>
public sealed record RolloutObservation(
    ModelDeployment Owner,
    IReadOnlyList<ModelVersion> Versions,
    V1Deployment? StableTrack,
    V1Deployment? CanaryTrack,
    RouteObservation? Route,
    IReadOnlyList<SpecProblem> SpecProblems,
    OperatorOptions Options,
    RolloutMeasurement? Measurement = null);

/// <summary>
/// The desired apps/v1 Deployments and Services of one cd4ml Deployment; no canary: its track scales to zero; no
/// autoscaler: none may exist.
/// </summary>
public sealed record RolloutWorkloads(V1Deployment Stable, V1Deployment? Canary, IReadOnlyList<V1Service> Services,
    V2HorizontalPodAutoscaler? Autoscaler = null);

/// <summary>
/// Everything a reconcile writes: the new status, the workloads and route weight to apply, the events to record and
/// when to look again. A plan with <see cref="Measure"/> set is not applied: measure, then plan again with the result.
/// </summary>
public sealed record RolloutPlan(
    ModelDeploymentStatus Status,
    RolloutWorkloads? Workloads,
    int? RouteWeight,
    IReadOnlyList<(EventType Type, string Reason, string Message, RolloutEventFields? Fields)> Events,
    TimeSpan? Requeue,
    MeasureRequest? Measure,
    bool RolledBack);

/// <summary>
/// Plans a reconcile of a cd4ml.io Deployment: which version is stable, which is the canary, where its rollout is
/// (weights, pauses, analysis, promotion, rollback), what the workloads and the HTTPRoute must look like, and the
/// status, conditions and events that say so. Pure: the reconciler observes, plans, measures when asked to, and
/// applies the plan once.
/// </summary>
public static class RolloutPlanner
{
    private const int MaxHistory = 10;
    private const int MaxMeasurements = 10;

    public static RolloutPlan Plan(RolloutObservation observed, DateTime now)
    {
        var run = new Run(observed, now);
        var requests = TakeRequests(run);
        ChooseVersions(run, ModelVersionResolver.Desired(run.Owner.Spec, observed.Versions), requests);
        RolloutAction? action = null;
        if (run.RolloutActive && (run.SpecProblem ?? run.RouteProblem) is { } problem && !requests.Abort)
        {
            // With an invalid spec, or without the route to move weights, hold the canary (an abort still rolls back).
            action = problem;
            if (requests.Promote || requests.PromoteFull)
            {
                run.Event(EventType.Warning, "RequestIgnored", $"Promote request ignored: {problem.Message}");
            }
        }
        else if (run.RolloutActive)
        {
            action = Step(run, requests);
            if (action.Kind == RolloutActionKind.Measure && observed.Measurement is null)
            {
                return new RolloutPlan(run.Status, null, null, [], null, run.MeasureRequest(), false);
            }
        }

        if (action is null && (requests.Promote || requests.PromoteFull || requests.Abort))
        {
            // Handled all the same: a request must not fire later, by surprise, on the next rollout.
            run.Event(EventType.Normal, "RequestIgnored", "No rollout in progress: promote/abort request ignored");
        }

        var split = Split(run);
        SetPhaseAndConditions(run, action, split);
        return new RolloutPlan(run.Status, run.Pending ? null : Workloads(run, split),
            run.Pending || observed.Route?.Found != true ? null : run.Status.CanaryWeight ?? 0,
            run.Events, NextLook(run, action), null, run.RolledBack);
    }

    /// <summary>New values of the steering annotations, each acted on once; handled values are kept in status.</summary>
    private static Requests TakeRequests(Run run)
    {
        bool Take(string annotation)
        {
            var value = ValueOf(run.Owner.Metadata.Annotations, annotation);
            if (string.IsNullOrEmpty(value))
            {
                return false;
            }

            var handled = run.Status.HandledRequests ??= [];
            if (handled.GetValueOrDefault(annotation) == value)
            {
                return false;
            }

            handled[annotation] = value;
            return true;
        }

        return new Requests(Take(ModelDeployment.PromoteAnnotation), Take(ModelDeployment.AbortAnnotation),
            Take(ModelDeployment.RetryAnnotation), Take(ModelDeployment.PromoteFullAnnotation));
    }

    /// <summary>Decides which version is stable and which (if any) is the canary.</summary>
    private static void ChooseVersions(Run run, ModelVersion? desired, Requests requests)
    {
        var status = run.Status;
        var stable = run.Find(status.StableVersion);
        if (stable is null)
        {
            if (desired is null)
            {
                run.Pending = true;
                run.PendingMessage = status.StableVersion is null
                    ? ModelVersionResolver.WhyNone(run.Owner.Spec)
                    : $"the stable ModelVersion {status.StableVersion} no longer exists and {ModelVersionResolver.WhyNone(run.Owner.Spec)}";
                return;
            }

            // The first version (or one replacing a vanished stable version) has nothing to be compared with.
            EndRollout(run);
            status.StableVersion = desired.Metadata.Name;
            AddHistory(run, desired.Metadata.Name, "Deployed", "first version of this deployment");
            run.Event(EventType.Normal, "Deployed", $"Serving {desired.Metadata.Name} on the stable track");
            return;
        }

        // No desired version (e.g. the canary's approval was withdrawn) means keep serving stable.
        var desiredName = desired?.Metadata.Name ?? status.StableVersion!;
        if (desiredName == status.StableVersion)
        {
            if (status.CanaryVersion is not null)
            {
                if (run.RolloutActive)
                {
                    AddHistory(run, status.CanaryVersion, "Cancelled", $"the desired version is {desiredName} again");
                    run.Event(EventType.Normal, "RolloutCancelled",
                        $"Rollout of {status.CanaryVersion} cancelled: the desired version is the stable {desiredName}");
                }

                EndRollout(run);
            }

            return;
        }

        if (desiredName == status.CanaryVersion)
        {
            if (run.Aborted && (requests.Retry || run.Owner.Metadata.Generation != status.AbortedGeneration)
                && !HeldByInvalidSpec(run, desiredName))
            {
                StartRollout(run, desiredName, requests.Retry ? "retry requested by annotation cd4ml.io/retry" : "the spec changed");
            }

            return;
        }

        if (HeldByInvalidSpec(run, desiredName))
        {
            return;
        }

        if (run.RolloutActive)
        {
            AddHistory(run, status.CanaryVersion!, "Superseded", $"{desiredName} arrived during the rollout");
        }

        StartRollout(run, desiredName, $"new version replacing stable {status.StableVersion}");
    }

    /// <summary>No rollout starts while the spec is invalid: the version waits, named in the Paused condition.</summary>
    private static bool HeldByInvalidSpec(Run run, string version)
    {
        if (run.SpecProblem is null)
        {
            return false;
        }

        run.HeldVersion = version;
        return true;
    }

    private static void StartRollout(Run run, string version, string why)
    {
        var status = run.Status;
        status.CanaryVersion = version;
        status.AbortReason = null;
        status.AbortedGeneration = null;
        status.CurrentStep = 0;
        status.StepStartTime = run.Now;
        status.Analysis = new AnalysisStatus();
        // Whatever weight a superseded canary had, this version's pods are not Ready yet.
        status.CanaryWeight = 0;
        run.Event(EventType.Normal, "RolloutStarted",
            $"Rolling out {version} as canary of {status.StableVersion} (traffic routing {run.Mode}): {why}",
            new RolloutEventFields(version, Weight: 0));
    }

    private static void EndRollout(Run run)
    {
        var status = run.Status;
        status.CanaryVersion = null;
        status.AbortReason = null;
        status.AbortedGeneration = null;
        status.CurrentStep = null;
        status.CurrentStepText = null;
        status.StepStartTime = null;
        status.CanaryWeight = 0;
        status.RequestedWeight = 0;
    }

    /// <summary>
    /// Runs the rollout's decisions until it has to wait: advance, pause, promote or roll back; a due measurement
    /// takes the observed one, or ends the plan asking for it.
    /// </summary>
    private static RolloutAction Step(Run run, Requests requests)
    {
        var status = run.Status;
        if (requests.Retry)
        {
            // Retry of a running rollout: analyse the current step again from scratch.
            status.StepStartTime = run.Now;
            status.Analysis = new AnalysisStatus();
            run.Event(EventType.Normal, "RetryRequested", $"Restarting step {run.Plan.Describe(status.CurrentStep ?? 0)}");
        }

        var promote = requests.Promote;
        var abort = requests.Abort;
        var measurement = run.Observed.Measurement;
        var measured = false;
        RolloutAction action;
        if (requests.PromoteFull && !abort)
        {
            // Skips every remaining step, analysis included (an abort set at the same time wins).
            action = new RolloutAction(RolloutActionKind.Promote, "PromotedFully",
                $"remaining steps skipped by annotation {ModelDeployment.PromoteFullAnnotation}");
        }
        else for (var round = 0; ; round++)
        {
            var step = status.CurrentStep ?? 0;
            var canaryReplicas = run.Split(run.Plan.WeightAt(step)).Canary;
            var canaryReady = ServingWorkloads.ServedVersion(run.Observed.CanaryTrack) == status.CanaryVersion
                              && ServingWorkloads.IsReady(run.Observed.CanaryTrack, canaryReplicas);
            action = RolloutDecision.Decide(new RolloutSnapshot(run.Plan, run.Analysis, step,
                status.StepStartTime ?? run.Now, run.Now, canaryReady, Counters(status.Analysis), promote, abort));
            promote = abort = false;
            if (round > 4 * run.Plan.Count + 8)
            {
                break;
            }

            if (action.Kind == RolloutActionKind.Measure)
            {
                if (measurement is null)
                {
                    // Not measured yet: the plan ends here asking for it. Measured once already: look again at once.
                    return measured ? action with { Kind = RolloutActionKind.Wait, After = TimeSpan.Zero } : action;
                }

                Record(run, measurement);
                measurement = null;
                measured = true;
            }
            else if (action.Kind == RolloutActionKind.Advance)
            {
                run.Event(EventType.Normal, "StepCompleted", $"Step {run.Plan.Describe(step)} of {status.CanaryVersion}: {action.Message}",
                    new RolloutEventFields(status.CanaryVersion!, run.Plan.WeightAt(step), step));
                status.CurrentStep = step + 1;
                status.StepStartTime = run.Now;
                status.Analysis = new AnalysisStatus();
            }
            else
            {
                break;
            }
        }

        switch (action.Kind)
        {
            case RolloutActionKind.RollBack:
                RollBack(run, action);
                break;
            case RolloutActionKind.Promote:
                var canary = status.CanaryVersion!;
                AddHistory(run, canary, "Promoted", action.Message);
                run.Event(EventType.Normal, "Promoted", $"{canary} promoted to stable, replacing {status.StableVersion}",
                    new RolloutEventFields(canary, Weight: 100));
                status.StableVersion = canary;
                EndRollout(run);
                break;
        }

        return action;
    }

    /// <summary>
    /// The one place a rollback happens: all traffic back on stable, this version's rollout stopped until the spec
    /// changes or cd4ml.io/retry is set; the reason goes to status (Degraded and Ready conditions), history and a
    /// warning event.
    /// </summary>
    private static void RollBack(Run run, RolloutAction action)
    {
        var status = run.Status;
        var canary = status.CanaryVersion!;
        var reason = action.Reason == "Aborted"
            ? $"Rollout of {canary} aborted by annotation cd4ml.io/abort"
            : $"Rollout of {canary} rolled back: {action.Message}";
        status.AbortReason = reason;
        status.AbortedGeneration = run.Owner.Metadata.Generation;
        status.CurrentStep = null;
        status.CurrentStepText = null;
        status.StepStartTime = null;
        AddHistory(run, canary, "RolledBack", reason);
        run.Event(EventType.Warning, RolledBackReason, $"{reason}; all traffic is back on {status.StableVersion}",
            new RolloutEventFields(canary, Weight: 0));
        run.RolledBack = true;
    }

    /// <summary>Counts one round of measurements into status.analysis.</summary>
    private static void Record(Run run, RolloutMeasurement measurement)
    {
        var analysis = run.Status.Analysis ??= new AnalysisStatus();
        var verdicts = measurement.Verdicts;
        var phase = AnalysisJudge.Combine(verdicts);
        var warmingUp = phase == MeasurementPhase.Inconclusive
                        && RolloutDecision.InWarmUp(run.Analysis, run.Status.StepStartTime ?? run.Now, run.Now);
        switch (phase)
        {
            case MeasurementPhase.Successful:
                analysis.Successful++;
                break;
            case MeasurementPhase.Failed:
                analysis.Failed++;
                run.Event(EventType.Warning, "AnalysisFailed", string.Join("; ",
                    verdicts.Where(v => v.Phase == MeasurementPhase.Failed).Select(v => v.Message)));
                break;
            case MeasurementPhase.Inconclusive when !warmingUp:
                analysis.Inconclusive++;
                break;
        }

        analysis.ConsecutiveErrors = phase == MeasurementPhase.Error ? analysis.ConsecutiveErrors + 1 : 0;
        analysis.LastMeasurementTime = run.Now;
        var samples = measurement.Samples;
        var measurements = analysis.Measurements ??= [];
        measurements.AddRange(verdicts.Select(v => new Measurement
        {
            Metric = v.Metric,
            Phase = v.Phase.ToString(),
            Value = Finite(v.Value),
            Threshold = v.Threshold,
            SampleCount = samples.HasNumber ? Finite(samples.Value) : null,
            Message = warmingUp && v.Phase == MeasurementPhase.Inconclusive
                ? $"{v.Message} (not counted: the canary has served this step for less than one window, {DurationText.ToPromQl(run.Analysis.Window)})"
                : v.Message,
            Time = run.Now,
        }));
        measurements.RemoveRange(0, Math.Max(0, measurements.Count - MaxMeasurements));
    }

    private static AnalysisCounters Counters(AnalysisStatus? analysis) => analysis is null
        ? AnalysisCounters.Empty
        : new AnalysisCounters(analysis.Successful, analysis.Failed, analysis.Inconclusive, analysis.ConsecutiveErrors,
            analysis.LastMeasurementTime, LastFailures(analysis.Measurements));

    /// <summary>
    /// Every metric that failed in the last round with a failure, in the order measured ("error-rate=0.3 above max 0.02;
    /// latency-p99=0.5 above max 0.25"): a rollback names all of them, not only the last one measured.
    /// </summary>
    private static string? LastFailures(List<Measurement>? measurements)
    {
        const string failed = nameof(MeasurementPhase.Failed);
        if (measurements?.LastOrDefault(m => m.Phase == failed) is not { } last)
        {
            return null;
        }

        return string.Join("; ", measurements.Where(m => m.Phase == failed && m.Time == last.Time).Select(m => m.Message).Distinct());
    }

    /// <summary>
    /// The plan's weight at the current step sizes the tracks. By pod count the canary gets its share of pods (which
    /// may differ from the step's weight); with GatewayApi the route's weight (status.canaryWeight) follows the step
    /// only as canary pods become Ready.
    /// </summary>
    private static ReplicaSplit Split(Run run)
    {
        var status = run.Status;
        var step = status.CurrentStep ?? 0;
        var target = run.RolloutActive ? run.Plan.WeightAt(step) : 0;
        status.CurrentStepText = run.RolloutActive ? run.Plan.Describe(step) : null;
        run.TargetWeight = target;
        status.RequestedWeight = target;
        var split = run.Split(target);
        if (run.GatewayApi)
        {
            run.ReadyCanaryPods = ServingWorkloads.ReadyPods(run.Observed.CanaryTrack, status.CanaryVersion);
            status.CanaryWeight = CanaryRouteWeight.Next(target, status.CanaryWeight ?? 0, run.Plan.WeightsUpTo(step),
                run.ReadyCanaryPods, weight => run.Split(weight).Canary);
        }
        else
        {
            // Pods share the Service's traffic equally: the canary gets its share of pods, whatever the step asked.
            status.CanaryWeight = split.CanaryPercent;
        }

        return split;
    }

    private static RolloutWorkloads Workloads(Run run, ReplicaSplit split)
    {
        var owner = run.Owner;
        var image = run.Observed.Options.Image;
        var defaults = run.Observed.Options.Platform;
        var monitoring = MonitoringSettings.From(owner, defaults);
        var stable = ServingWorkloads.Deployment(owner, run.Find(run.Status.StableVersion)!, ServingWorkloads.Stable,
            split.Stable, image, defaults: defaults, monitoring: monitoring);
        var canaryVersion = run.Find(run.Status.CanaryVersion);
        var fault = run.Observed.Options.AllowFaultInjection ? owner.Spec.FaultInjection : null;
        var canary = canaryVersion is null
            ? null
            : ServingWorkloads.Deployment(owner, canaryVersion, ServingWorkloads.Canary, split.Canary, image, fault, defaults,
                monitoring);
        List<V1Service> services = [ServingWorkloads.Service(owner)];
        if (run.GatewayApi)
        {
            services.Add(ServingWorkloads.TrackService(owner, ServingWorkloads.Stable));
            services.Add(ServingWorkloads.TrackService(owner, ServingWorkloads.Canary));
        }

        return new RolloutWorkloads(stable, canary, services, ServingWorkloads.Autoscaler(owner));
    }

    private static void SetPhaseAndConditions(Run run, RolloutAction? action, ReplicaSplit split)
    {
        var status = run.Status;
        var generation = run.Owner.Metadata.Generation;
        var stableTrack = run.Observed.StableTrack;
        var canaryTrack = run.Observed.CanaryTrack;
        var stableReady = !run.Pending && ServingWorkloads.ServedVersion(stableTrack) == status.StableVersion
                          && ServingWorkloads.IsReady(stableTrack, split.Stable);
        status.ReadyReplicas = (stableTrack?.Status?.ReadyReplicas ?? 0) + (canaryTrack?.Status?.ReadyReplicas ?? 0);
        // A broken route pauses even without a rollout: the weights it should carry cannot be kept. An invalid spec
        // pauses a rollout in progress or one waiting to start.
        var pause = run.RolloutActive && action?.Kind == RolloutActionKind.Pause ? action
            : !run.Pending && !run.Aborted ? run.RouteProblem ?? (run.HeldVersion is null ? null : run.SpecProblem)
            : null;
        var paused = pause is not null;
        var wasPaused = status.IsTrue(PausedCondition);
        var previousPauseReason = status.Find(PausedCondition)?.Reason;

        if (run.Pending)
        {
            status.Phase = ModelDeploymentStatus.Pending;
            status.Set(Conditions.Ready, false, "NoModelVersion", run.PendingMessage!, generation, run.Now);
            status.Set(ProgressingCondition, false, "NoModelVersion", run.PendingMessage!, generation, run.Now);
        }
        else if (run.Aborted)
        {
            status.Phase = ModelDeploymentStatus.Degraded;
            status.Set(Conditions.Ready, false, RolledBackReason, status.AbortReason!, generation, run.Now);
            status.Set(ProgressingCondition, false, RolledBackReason, status.AbortReason!, generation, run.Now);
        }
        else
        {
            status.Phase = paused ? ModelDeploymentStatus.Paused
                : run.RolloutActive || !stableReady ? ModelDeploymentStatus.Progressing
                : ModelDeploymentStatus.Healthy;
            status.Set(Conditions.Ready, stableReady, stableReady ? "StableReady" : "StableNotReady",
                $"{status.StableVersion}: {stableTrack?.Status?.ReadyReplicas ?? 0}/{split.Stable} stable replicas ready",
                generation, run.Now);
            if (run.RolloutActive)
            {
                status.Set(ProgressingCondition, true, "RolloutInProgress",
                    $"{status.CanaryVersion} at step {status.CurrentStepText}, weight {status.CanaryWeight} ({run.Mode}): {action?.Message}",
                    generation, run.Now);
            }
            else
            {
                status.Set(ProgressingCondition, !stableReady, stableReady ? "RolloutComplete" : "Deploying",
                    $"serving {status.StableVersion}", generation, run.Now);
            }
        }

        SetInvalidSpecCondition(run);
        if (pause is not null)
        {
            var message = run.HeldVersion is { } held && pause == run.SpecProblem
                ? $"the rollout of {held} waits for a valid spec: {pause.Message}"
                : pause.Message;
            status.Set(PausedCondition, true, pause.Reason, message, generation, run.Now);
            // An invalid spec has its own warning event.
            if ((!wasPaused || previousPauseReason != pause.Reason) && pause != run.SpecProblem)
            {
                run.Event(pause.Reason == "PauseStep" ? EventType.Normal : EventType.Warning, "Paused",
                    status.CanaryVersion is null ? $"Paused: {pause.Message}"
                        : $"Rollout of {status.CanaryVersion} paused: {pause.Message}");
            }
        }
        else
        {
            status.Set(PausedCondition, false, "NotPaused", "the rollout is not paused", generation, run.Now);
        }

        SetTrafficRoutingCondition(run, split);
        status.Set(DegradedCondition, run.Aborted, run.Aborted ? RolledBackReason : "NotDegraded",
            run.Aborted ? status.AbortReason! : "no rollback in effect", generation, run.Now);
    }

    /// <summary>True with every problem of the spec, and a warning event when they first show or change.</summary>
    private static void SetInvalidSpecCondition(Run run)
    {
        var status = run.Status;
        var generation = run.Owner.Metadata.Generation;
        if (run.SpecProblems.Count == 0)
        {
            status.Set(InvalidSpecCondition, false, "SpecValid", "the spec is valid", generation, run.Now);
            return;
        }

        var message = string.Join("; ", run.SpecProblems.Select(p => p.Message));
        var previous = status.Find(InvalidSpecCondition);
        if (previous?.Status != "True" || previous.Message != message)
        {
            run.Event(EventType.Warning, InvalidSpecReason, message);
        }

        status.Set(InvalidSpecCondition, true, run.SpecProblems[0].Reason, message, generation, run.Now);
    }

    /// <summary>Says which routing mode is in effect and how traffic is split now.</summary>
    private static void SetTrafficRoutingCondition(Run run, ReplicaSplit split)
    {
        var status = run.Status;
        var generation = run.Owner.Metadata.Generation;
        var weight = status.CanaryWeight ?? 0;
        if (run.RouteProblem is { } problem)
        {
            status.Set(TrafficRoutingCondition, false, problem.Reason, $"{run.Mode}: {problem.Message}", generation, run.Now);
        }
        else if (run.GatewayApi)
        {
            var weights = $"HTTPRoute {run.RouteName} weights: {run.Owner.Metadata.Name}-stable {100 - weight}, "
                          + $"{run.Owner.Metadata.Name}-canary {weight}";
            if (run.WaitingForCanaryPods)
            {
                status.Set(TrafficRoutingCondition, true, WaitingForCanaryPodsReason,
                    $"{weights}; waiting for canary pods to be Ready ({run.ReadyCanaryPods}/{run.Split(run.TargetWeight).Canary}) "
                    + $"before moving to weight {run.TargetWeight}", generation, run.Now);
            }
            else
            {
                status.Set(TrafficRoutingCondition, true, nameof(TrafficRoutingMode.GatewayApi), weights, generation, run.Now);
            }
        }
        else if (weight != run.TargetWeight)
        {
            var exact = !run.Autoscaled && ReplicaSplit.ReplicasFor(run.TargetWeight, run.Replicas) is { } replicas
                ? $"; spec.replicas {replicas} would split it exactly"
                : "";
            status.Set(TrafficRoutingCondition, true, WeightApproximatedReason,
                $"step {status.CurrentStepText} asks for weight {run.TargetWeight}, but Service {run.Owner.Metadata.Name} " +
                $"splits by pod count: {split.Stable} stable, {split.Canary} canary give the canary {weight}%{exact}",
                generation, run.Now);
        }
        else
        {
            status.Set(TrafficRoutingCondition, true, nameof(TrafficRoutingMode.ReplicaRatio),
                $"Service {run.Owner.Metadata.Name} splits by pod count: {split.Stable} stable, {split.Canary} canary",
                generation, run.Now);
        }
    }

    private static TimeSpan? NextLook(Run run, RolloutAction? action)
    {
        if (run.RouteProblem is not null)
        {
            return RouteRetry;
        }

        // Advance/Measure never end a run; a pause without a duration waits for an annotation (a watched change).
        var after = action?.After ?? (action?.Kind is RolloutActionKind.Wait ? RolloutDecision.ReadinessPoll : null);
        if (run.WaitingForCanaryPods && (after is null || after > RolloutDecision.ReadinessPoll))
        {
            // Pod changes wake the controller too; this is the safety net while the route holds a lower weight.
            after = RolloutDecision.ReadinessPoll;
        }

        return after is { } delay && delay < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : after;
    }

    private static void AddHistory(Run run, string version, string outcome, string reason)
    {
        var history = run.Status.History ??= [];
        history.Add(new RolloutRecord { Version = version, Outcome = outcome, Reason = reason, Time = run.Now });
        history.RemoveRange(0, Math.Max(0, history.Count - MaxHistory));
    }

    private static string? ValueOf(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    private sealed record Requests(bool Promote, bool Abort, bool Retry, bool PromoteFull);

    /// <summary>One plan's working state: a private copy of status, the resolved plan and the events to record.</summary>
    private sealed class Run
    {
        private RolloutAction? specPause;

        public Run(RolloutObservation observed, DateTime now)
        {
            Observed = observed;
            Owner = observed.Owner;
            Now = now;
            Status = Owner.Status is null
                ? new ModelDeploymentStatus()
                : KubernetesJson.Deserialize<ModelDeploymentStatus>(KubernetesJson.Serialize(Owner.Status));
            Analysis = AnalysisSettings.From(Owner.Spec.Strategy?.Canary?.Analysis, observed.Options.PrometheusAddress);
            Plan = CanaryPlan.From(Owner.Spec.Strategy?.Canary, Analysis.Interval);
            SpecProblems = observed.SpecProblems;
            RouteProblem = !GatewayApi ? null
                : string.IsNullOrEmpty(RouteName) ? new RolloutAction(RolloutActionKind.Pause, "HTTPRouteNotSet",
                    $"{RouteField} is not set: traffic routing GatewayApi needs the name of an HTTPRoute in namespace " +
                    Owner.Metadata.NamespaceProperty, RouteRetry)
                : observed.Route?.Found != true ? new RolloutAction(RolloutActionKind.Pause, "HTTPRouteNotFound",
                    $"HTTPRoute {RouteName} ({RouteField}) not found in namespace {Owner.Metadata.NamespaceProperty}", RouteRetry)
                : null;
        }

        public RolloutObservation Observed { get; }

        public ModelDeployment Owner { get; }

        public DateTime Now { get; }

        public ModelDeploymentStatus Status { get; }

        public CanaryPlan Plan { get; }

        public AnalysisSettings Analysis { get; }

        public int Replicas => Owner.Spec.Replicas ?? ServingWorkloads.DefaultReplicas;

        public TrafficRoutingMode Mode => Owner.Spec.TrafficRouting?.Mode ?? TrafficRoutingMode.ReplicaRatio;

        public bool GatewayApi => Mode == TrafficRoutingMode.GatewayApi;

        public string? RouteName => Owner.Spec.TrafficRouting?.HttpRoute;

        /// <summary>What is wrong with the spec (nothing rolls out until it is fixed).</summary>
        public IReadOnlyList<SpecProblem> SpecProblems { get; }

        /// <summary>The pause an invalid spec puts a rollout in, or null.</summary>
        public RolloutAction? SpecProblem => SpecProblems.Count == 0
            ? null
            : specPause ??= new RolloutAction(RolloutActionKind.Pause, InvalidSpecReason,
                $"invalid spec ({string.Join("; ", SpecProblems.Select(p => p.Message))})");

        /// <summary>A version that would start a rollout but waits for the spec to be fixed.</summary>
        public string? HeldVersion { get; set; }

        /// <summary>Why the HTTPRoute cannot be managed (a pause), or null.</summary>
        public RolloutAction? RouteProblem { get; }

        /// <summary>The plan's canary weight at the current step (0 without an active rollout).</summary>
        public int TargetWeight { get; set; }

        /// <summary>Ready canary pods of the canary version, as the gate on the route's weight counts them.</summary>
        public int ReadyCanaryPods { get; set; }

        /// <summary>With GatewayApi, the route holds a lower weight than the plan's until more canary pods are Ready.</summary>
        public bool WaitingForCanaryPods => GatewayApi && (Status.CanaryWeight ?? 0) < TargetWeight;

        public bool Pending { get; set; }

        public string? PendingMessage { get; set; }

        public bool RolledBack { get; set; }

        public bool RolloutActive => Status.CanaryVersion is not null && Status.AbortReason is null;

        public bool Aborted => Status.CanaryVersion is not null && Status.AbortReason is not null;

        public List<(EventType Type, string Reason, string Message, RolloutEventFields? Fields)> Events { get; } = [];

        /// <summary>Pods per track for a canary weight: the route splits traffic with GatewayApi, pod counts otherwise.</summary>
        public ReplicaSplit Split(int weight) =>
            Autoscaled ? ReplicaSplit.ForAutoscaled(AutoscaledStable, weight, GatewayApi)
            : GatewayApi ? ReplicaSplit.ForRoutedTraffic(Replicas, weight)
            : ReplicaSplit.For(Replicas, weight);

        /// <summary>spec.autoscaling: an HPA owns the stable track's replicas, the plan never changes them.</summary>
        public bool Autoscaled => Owner.Spec.Autoscaling is not null;

        /// <summary>The stable pods the HPA asks for now (minReplicas before the track exists).</summary>
        public int AutoscaledStable => Math.Max(1, Observed.StableTrack?.Spec?.Replicas ?? Owner.Spec.Autoscaling?.MinReplicas ?? 1);

        public ModelVersion? Find(string? name) => name is null
            ? null
            : Observed.Versions.FirstOrDefault(v => v.Metadata.Name == name && v.Metadata.DeletionTimestamp is null);

        public void Event(EventType type, string reason, string message, RolloutEventFields? fields = null) =>
            Events.Add((type, reason, message, fields));

        /// <summary>The canary's series (of the model its ModelVersion names) and the stable version's, to measure.</summary>
        public MeasureRequest MeasureRequest()
        {
            var model = Find(Status.CanaryVersion)?.Spec.ModelName ?? Owner.Spec.ModelName;
            var canary = new QueryTarget(Owner.Metadata.NamespaceProperty ?? "", Owner.Metadata.Name, model,
                Status.CanaryVersion!, ServingWorkloads.Canary);
            return new MeasureRequest(canary, canary with { Version = Status.StableVersion!, Track = ServingWorkloads.Stable },
                Analysis);
        }
    }
}
