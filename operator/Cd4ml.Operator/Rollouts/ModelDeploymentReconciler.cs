using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Status;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// Serves the desired ModelVersion of a cd4ml.io Deployment: the first version goes straight to the stable track; each
/// later one runs as a canary through the plan's steps (weights by replica ratio, pauses, Prometheus analysis), then is
/// promoted or rolled back. Reads the world, decides with <see cref="RolloutDecision"/>, applies the Deployments and
/// Services, and with GatewayApi routing the backend weights of the user's HTTPRoute (raised only as canary pods become
/// Ready, see <see cref="CanaryRouteWeight"/>); records status and events.
/// Never writes spec or annotations.
/// </summary>
public sealed class ModelDeploymentReconciler(
    IKubernetes kubernetes,
    OperatorOptions options,
    IEventRecorder events,
    RolloutMetrics metrics,
    PrometheusClient prometheus,
    ModelDeploymentIndex index,
    ModelVersionCache modelVersions,
    TimeProvider clock,
    ILogger<ModelDeploymentReconciler> logger) : IReconciler<ModelDeployment>
{
    public const string ProgressingCondition = "Progressing";
    public const string PausedCondition = "Paused";
    public const string DegradedCondition = "Degraded";
    public const string RolledBackReason = "RolledBack";
    public const string TrafficRoutingCondition = "TrafficRouting";
    public const string InvalidSpecCondition = "InvalidSpec";
    public const string InvalidSpecReason = "InvalidSpec";
    public const string WeightApproximatedReason = "WeightApproximated";
    public const string WaitingForCanaryPodsReason = "WaitingForCanaryPods";
    public const string RouteField = "spec.trafficRouting.httpRoute";

    /// <summary>
    /// How often to look for a missing HTTPRoute. Routes are watched, but when their CRD is installed after the operator
    /// started, the watch begins only at its next check (up to 60 s later): looking every few seconds is quicker.
    /// </summary>
    public static readonly TimeSpan RouteRetry = TimeSpan.FromSeconds(5);

    private const int MaxHistory = 10;
    private const int MaxMeasurements = 10;
    private readonly ResourceClient<ModelDeployment> deployments = new(kubernetes);
    private readonly StatusWriter<ModelDeployment> statusWriter = new(kubernetes);

    /// <summary>The resourceVersion each Deployment's last status write produced, until the cache is known to hold it.</summary>
    private readonly ConcurrentDictionary<NamespacedName, string> statusWrites = new();

    /// <summary>Prometheus' verdict on each Deployment's custom queries, for the generation it was asked about.</summary>
    private readonly ConcurrentDictionary<NamespacedName, (long? Generation, IReadOnlyList<SpecProblem> Problems)> queryChecks = new();

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest<ModelDeployment> request, CancellationToken ct)
    {
        if (request.IsDeleted)
        {
            index.Remove(request.Key);
            statusWrites.TryRemove(request.Key, out _);
            queryChecks.TryRemove(request.Key, out _);
            metrics.CanaryWeight.RemoveLabelled(request.Key.Namespace ?? "", request.Key.Name);
            return ReconcileResult.Done();
        }

        var owner = await CurrentAsync(request.Key, request.Entity!, ct).ConfigureAwait(false);
        if (owner is null || owner.Metadata.DeletionTimestamp is not null)
        {
            return ReconcileResult.Done();
        }

        var run = new Run(owner, clock.GetUtcNow().UtcDateTime, options.PrometheusAddress);
        run.SpecProblems = [.. SpecValidation.Problems(owner.Spec, options.AllowFaultInjection),
            .. await CheckQueriesAsync(run, request.Key, ct).ConfigureAwait(false)];
        index.Set(request.Key, owner.Spec.ModelName, run.GatewayApi ? run.RouteName : null);
        var versions = modelVersions.In(owner.Metadata.NamespaceProperty);
        var stableTrack = await ReadDeploymentAsync(owner, ServingWorkloads.Stable, ct).ConfigureAwait(false);
        var canaryTrack = await ReadDeploymentAsync(owner, ServingWorkloads.Canary, ct).ConfigureAwait(false);

        var route = run.GatewayApi ? await ReadRouteAsync(run, ct).ConfigureAwait(false) : null;

        var requests = TakeRequests(run);
        ChooseVersions(run, ModelVersionResolver.Desired(owner.Spec, versions), versions, requests);
        RolloutAction? action = null;
        if (run.RolloutActive && (run.SpecProblem ?? run.RouteProblem) is { } problem && !requests.Abort)
        {
            // With an invalid spec, or without the route to move weights, hold the canary (an abort still rolls back).
            action = problem;
            if (requests.Promote)
            {
                run.Event(EventType.Warning, "RequestIgnored", $"Promote request ignored: {problem.Message}");
            }
        }
        else if (run.RolloutActive)
        {
            action = await StepAsync(run, versions, canaryTrack, requests, ct).ConfigureAwait(false);
        }

        if (action is null && (requests.Promote || requests.Abort))
        {
            // Handled all the same: a request must not fire later, by surprise, on the next rollout.
            run.Event(EventType.Normal, "RequestIgnored", "No rollout in progress: promote/abort request ignored");
        }

        var split = ApplySplit(run, canaryTrack);
        if (!run.Pending)
        {
            await ApplyWorkloadsAsync(run, versions, split, stableTrack, canaryTrack, ct).ConfigureAwait(false);
            if (route is not null)
            {
                await SetRouteWeightsAsync(run, route, ct).ConfigureAwait(false);
            }
        }

        SetPhaseAndConditions(run, action, split, stableTrack, canaryTrack);
        var written = await statusWriter.UpdateAsync(owner, md => md.Status = run.Status, ct).ConfigureAwait(false);
        if (written.Metadata.ResourceVersion != owner.Metadata.ResourceVersion)
        {
            statusWrites[request.Key] = written.Metadata.ResourceVersion;
        }
        metrics.CanaryWeight.WithLabels(owner.Metadata.NamespaceProperty ?? "", owner.Metadata.Name).Set(run.Status.CanaryWeight ?? 0);
        foreach (var (type, reason, message) in run.Events)
        {
            logger.LogInformation("{Reason}: {Message}", reason, message);
            await events.RecordAsync(owner, type, reason, message, ct).ConfigureAwait(false);
        }

        return NextLook(run, action);
    }

    /// <summary>
    /// The cached Deployment, unless it may predate our own last status write: a reconcile computed from an older status
    /// would undo that write (analysis counters, handled requests), so then it is read from the API. The cache is
    /// known to hold the write once it shows the version the write produced, or the same version the API returns.
    /// </summary>
    private async Task<ModelDeployment?> CurrentAsync(NamespacedName key, ModelDeployment cached, CancellationToken ct)
    {
        if (!statusWrites.TryGetValue(key, out var written) || written == cached.Metadata.ResourceVersion)
        {
            return cached;
        }

        var current = await deployments.GetAsync(key.Namespace, key.Name, ct).ConfigureAwait(false);
        if (current is null || current.Metadata.ResourceVersion == cached.Metadata.ResourceVersion)
        {
            statusWrites.TryRemove(new KeyValuePair<NamespacedName, string>(key, written));
        }

        return current;
    }

    /// <summary>
    /// Asks Prometheus to parse the custom queries, once per generation of the spec (so a mistake shows when the spec
    /// changes, not when a rollout reaches its analysis). Unanswered checks are asked again on the next reconcile.
    /// </summary>
    private async Task<IReadOnlyList<SpecProblem>> CheckQueriesAsync(Run run, NamespacedName key, CancellationToken ct)
    {
        var generation = run.Owner.Metadata.Generation;
        var queries = SpecValidation.CustomQueries(run.Owner.Spec.Strategy?.Canary?.Analysis?.Metrics).ToList();
        if (run.Analysis.PrometheusAddress is not { } address || queries.Count == 0)
        {
            return [];
        }

        if (queryChecks.TryGetValue(key, out var known) && known.Generation == generation)
        {
            return known.Problems;
        }

        var target = new QueryTarget(run.Owner.Metadata.NamespaceProperty ?? "", run.Owner.Metadata.Name,
            run.Owner.Spec.ModelName, run.Status.StableVersion ?? run.Owner.Spec.ModelName, ServingWorkloads.Canary);
        var problems = new List<SpecProblem>();
        var answered = true;
        foreach (var (field, metric) in queries)
        {
            var (checkedOk, error) = await prometheus.CheckQueryAsync(address,
                AnalysisQueries.Fill(metric.Query!, target, run.Analysis.Window), ct).ConfigureAwait(false);
            answered &= checkedOk;
            if (error is not null)
            {
                problems.Add(SpecValidation.QueryRefused(field, metric, error));
            }
        }

        if (answered)
        {
            queryChecks[key] = (generation, problems);
        }

        return problems;
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
            Take(ModelDeployment.RetryAnnotation));
    }

    /// <summary>Decides which version is stable and which (if any) is the canary.</summary>
    private static void ChooseVersions(Run run, ModelVersion? desired, IList<ModelVersion> versions, Requests requests)
    {
        var status = run.Status;
        var stable = Find(versions, status.StableVersion);
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
            $"Rolling out {version} as canary of {status.StableVersion} (traffic routing {run.Mode}): {why}");
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

    /// <summary>Runs the rollout's decisions until it has to wait: measure, advance, pause, promote or roll back.</summary>
    private async Task<RolloutAction> StepAsync(Run run, IList<ModelVersion> versions, V1Deployment? canaryTrack,
        Requests requests, CancellationToken ct)
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
        RolloutAction action;
        for (var round = 0; ; round++)
        {
            var step = status.CurrentStep ?? 0;
            var weight = run.Plan.WeightAt(step);
            var canaryReplicas = run.Split(weight).Canary;
            var canaryReady = ServingWorkloads.ServedVersion(canaryTrack) == status.CanaryVersion
                              && ServingWorkloads.IsReady(canaryTrack, canaryReplicas);
            action = RolloutDecision.Decide(new RolloutSnapshot(run.Plan, run.Analysis, step,
                status.StepStartTime ?? run.Now, run.Now, canaryReady, Counters(status.Analysis), promote, abort));
            promote = abort = false;
            if (round > 4 * run.Plan.Count + 8)
            {
                break;
            }

            if (action.Kind == RolloutActionKind.Measure)
            {
                await MeasureAsync(run, versions, ct).ConfigureAwait(false);
            }
            else if (action.Kind == RolloutActionKind.Advance)
            {
                run.Event(EventType.Normal, "StepCompleted", $"Step {run.Plan.Describe(step)} of {status.CanaryVersion}: {action.Message}");
                status.CurrentStep = step + 1;
                status.StepStartTime = run.Now;
                status.Analysis = new AnalysisStatus();
            }
            else
            {
                break;
            }
        }

        var canary = status.CanaryVersion!;
        switch (action.Kind)
        {
            case RolloutActionKind.RollBack:
                var reason = action.Reason == "Aborted"
                    ? $"Rollout of {canary} aborted by annotation cd4ml.io/abort"
                    : $"Rollout of {canary} rolled back: {action.Message}";
                status.AbortReason = reason;
                status.AbortedGeneration = run.Owner.Metadata.Generation;
                status.CurrentStep = null;
                status.CurrentStepText = null;
                status.StepStartTime = null;
                AddHistory(run, canary, "RolledBack", reason);
                run.Event(EventType.Warning, RolledBackReason, $"{reason}; all traffic is back on {status.StableVersion}");
                metrics.Rollbacks.WithLabels(run.Owner.Metadata.NamespaceProperty ?? "", run.Owner.Metadata.Name).Inc();
                break;
            case RolloutActionKind.Promote:
                AddHistory(run, canary, "Promoted", action.Message);
                run.Event(EventType.Normal, "Promoted", $"{canary} promoted to stable, replacing {status.StableVersion}");
                status.StableVersion = canary;
                EndRollout(run);
                break;
        }

        return action;
    }

    /// <summary>One round: the canary's request count, then every metric judged against its thresholds.</summary>
    private async Task MeasureAsync(Run run, IList<ModelVersion> versions, CancellationToken ct)
    {
        var status = run.Status;
        var settings = run.Analysis;
        var address = settings.PrometheusAddress!;
        var model = Find(versions, status.CanaryVersion)?.Spec.ModelName ?? run.Owner.Spec.ModelName;
        var canary = new QueryTarget(run.Owner.Metadata.NamespaceProperty ?? "", run.Owner.Metadata.Name, model,
            status.CanaryVersion!, ServingWorkloads.Canary);
        var stable = canary with { Version = status.StableVersion!, Track = ServingWorkloads.Stable };
        var samples = await prometheus.QueryAsync(address, AnalysisQueries.SampleCount(canary, settings.Window), ct)
            .ConfigureAwait(false);

        var verdicts = new List<Verdict>();
        foreach (var metric in settings.Metrics)
        {
            if (metric.Builtin is null && string.IsNullOrWhiteSpace(metric.Query))
            {
                verdicts.Add(new Verdict(metric.Name, MeasurementPhase.Error, null, AnalysisJudge.Threshold(metric),
                    $"{metric.Name}: neither builtin nor query is set"));
                continue;
            }

            var value = await prometheus.QueryAsync(address, AnalysisQueries.For(metric, canary, settings.Window), ct)
                .ConfigureAwait(false);
            var stableValue = metric.MaxIncreaseOverStable is null
                ? null
                : await prometheus.QueryAsync(address, AnalysisQueries.For(metric, stable, settings.Window), ct)
                    .ConfigureAwait(false);
            verdicts.Add(AnalysisJudge.Judge(metric, value, samples, settings.MinSampleCount, stableValue));
        }

        var analysis = status.Analysis ??= new AnalysisStatus();
        var phase = AnalysisJudge.Combine(verdicts);
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
            case MeasurementPhase.Inconclusive:
                analysis.Inconclusive++;
                break;
        }

        analysis.ConsecutiveErrors = phase == MeasurementPhase.Error ? analysis.ConsecutiveErrors + 1 : 0;
        analysis.LastMeasurementTime = run.Now;
        var measurements = analysis.Measurements ??= [];
        measurements.AddRange(verdicts.Select(v => new Measurement
        {
            Metric = v.Metric,
            Phase = v.Phase.ToString(),
            Value = Finite(v.Value),
            Threshold = v.Threshold,
            SampleCount = samples.HasNumber ? Finite(samples.Value) : null,
            Message = v.Message,
            Time = run.Now,
        }));
        measurements.RemoveRange(0, Math.Max(0, measurements.Count - MaxMeasurements));
        foreach (var verdict in verdicts)
        {
            metrics.Measurements.WithLabels(canary.Namespace, canary.Deployment, verdict.Phase.ToString()).Inc();
        }
    }

    private static AnalysisCounters Counters(AnalysisStatus? analysis) => analysis is null
        ? AnalysisCounters.Empty
        : new AnalysisCounters(analysis.Successful, analysis.Failed, analysis.Inconclusive, analysis.ConsecutiveErrors,
            analysis.LastMeasurementTime,
            analysis.Measurements?.LastOrDefault(m => m.Phase == nameof(MeasurementPhase.Failed))?.Message);

    /// <summary>
    /// The plan's weight at the current step sizes the tracks. By pod count the canary gets that share at once; with
    /// GatewayApi the route's weight (status.canaryWeight) follows it only as canary pods become Ready.
    /// </summary>
    private static ReplicaSplit ApplySplit(Run run, V1Deployment? canaryTrack)
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
            run.ReadyCanaryPods = ServingWorkloads.ReadyPods(canaryTrack, status.CanaryVersion);
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

    private async Task ApplyWorkloadsAsync(Run run, IList<ModelVersion> versions, ReplicaSplit split,
        V1Deployment? stableTrack, V1Deployment? canaryTrack, CancellationToken ct)
    {
        var owner = run.Owner;
        var stable = Find(versions, run.Status.StableVersion)!;
        await EnsureDeploymentAsync(stableTrack,
            ServingWorkloads.Deployment(owner, stable, ServingWorkloads.Stable, split.Stable, options.Image), ct)
            .ConfigureAwait(false);

        var canary = Find(versions, run.Status.CanaryVersion);
        if (canary is not null)
        {
            var fault = options.AllowFaultInjection ? owner.Spec.FaultInjection : null;
            await EnsureDeploymentAsync(canaryTrack,
                ServingWorkloads.Deployment(owner, canary, ServingWorkloads.Canary, split.Canary, options.Image, fault), ct)
                .ConfigureAwait(false);
        }
        else if (canaryTrack is not null && canaryTrack.Spec.Replicas != 0)
        {
            await kubernetes.AppsV1.PatchNamespacedDeploymentAsync(
                new V1Patch("{\"spec\":{\"replicas\":0}}", V1Patch.PatchType.MergePatch),
                canaryTrack.Metadata.Name, canaryTrack.Metadata.NamespaceProperty, cancellationToken: ct).ConfigureAwait(false);
        }

        await EnsureServiceAsync(ServingWorkloads.Service(owner), ct).ConfigureAwait(false);
        if (run.GatewayApi)
        {
            await EnsureServiceAsync(ServingWorkloads.TrackService(owner, ServingWorkloads.Stable), ct).ConfigureAwait(false);
            await EnsureServiceAsync(ServingWorkloads.TrackService(owner, ServingWorkloads.Canary), ct).ConfigureAwait(false);
        }
    }

    /// <summary>The HTTPRoute named in spec.trafficRouting, or null with <see cref="Run.RouteProblem"/> saying why.</summary>
    private async Task<JsonObject?> ReadRouteAsync(Run run, CancellationToken ct)
    {
        var ns = run.Owner.Metadata.NamespaceProperty;
        if (string.IsNullOrEmpty(run.RouteName))
        {
            run.RouteProblem = new RolloutAction(RolloutActionKind.Pause, "HTTPRouteNotSet",
                $"{RouteField} is not set: traffic routing GatewayApi needs the name of an HTTPRoute in namespace {ns}",
                RouteRetry);
            return null;
        }

        if (await GetRouteAsync(ns, run.RouteName, ct).ConfigureAwait(false) is { } route)
        {
            return route;
        }

        run.RouteProblem = new RolloutAction(RolloutActionKind.Pause, "HTTPRouteNotFound",
            $"HTTPRoute {run.RouteName} ({RouteField}) not found in namespace {ns}", RouteRetry);
        return null;
    }

    /// <summary>The HTTPRoute as whole JSON (every field the user wrote survives a replace), or null when it does not exist.</summary>
    private async Task<JsonObject?> GetRouteAsync(string ns, string name, CancellationToken ct)
    {
        try
        {
            using var response = await kubernetes.CustomObjects.GetNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(
                HttpRouteBackends.Group, HttpRouteBackends.Version, ns, HttpRouteBackends.Plural, name,
                cancellationToken: ct).ConfigureAwait(false);
            return response.Body;
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return null;
        }
    }

    /// <summary>
    /// Points the route's rules at the track Services with the current weight. Read-modify-replace: the replace
    /// carries the resourceVersion read, so a concurrent edit by someone else conflicts and is re-read, never lost.
    /// </summary>
    private async Task SetRouteWeightsAsync(Run run, JsonObject route, CancellationToken ct)
    {
        var owner = run.Owner;
        var ns = owner.Metadata.NamespaceProperty;
        var stable = ServingWorkloads.DeploymentName(owner, ServingWorkloads.Stable);
        var canary = ServingWorkloads.DeploymentName(owner, ServingWorkloads.Canary);
        var weight = run.Status.CanaryWeight ?? 0;
        for (var attempt = 1; ; attempt++)
        {
            if (!HttpRouteBackends.SetWeights(route, stable, canary, weight, ServingWorkloads.Port(owner),
                    bothTracksService: owner.Metadata.Name))
            {
                return;
            }

            try
            {
                using var _ = await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(
                    route, HttpRouteBackends.Group, HttpRouteBackends.Version, ns, HttpRouteBackends.Plural, run.RouteName,
                    cancellationToken: ct).ConfigureAwait(false);
                run.Event(EventType.Normal, "TrafficShifted",
                    $"HTTPRoute {run.RouteName} (GatewayApi): {stable} {100 - weight}%, {canary} {weight}%");
                return;
            }
            catch (Exception e) when (ApiErrors.IsConflict(e) && attempt < 5)
            {
                // Deleted meanwhile: the next reconcile reports the missing route.
                if (await GetRouteAsync(ns, run.RouteName!, ct).ConfigureAwait(false) is not { } latest)
                {
                    return;
                }

                route = latest;
            }
        }
    }

    private async Task EnsureDeploymentAsync(V1Deployment? existing, V1Deployment desired, CancellationToken ct)
    {
        var ns = desired.Metadata.NamespaceProperty;
        if (existing is null)
        {
            await kubernetes.AppsV1.CreateNamespacedDeploymentAsync(desired, ns, cancellationToken: ct).ConfigureAwait(false);
            return;
        }

        EnsureOwned(existing, desired);
        // Compared field by field, not by a hash of what was last written: an edit by hand is put back too.
        if (existing.Spec.Replicas == desired.Spec.Replicas
            && DesiredFields.AreKeptIn(desired.Spec.Template, existing.Spec.Template)
            && DesiredFields.AreKeptIn(desired.Metadata.Labels, existing.Metadata.Labels))
        {
            return;
        }

        existing.Metadata.Labels = desired.Metadata.Labels;
        existing.Spec.Replicas = desired.Spec.Replicas;
        existing.Spec.Template = desired.Spec.Template;
        await kubernetes.AppsV1.ReplaceNamespacedDeploymentAsync(existing, existing.Metadata.Name, ns, cancellationToken: ct)
            .ConfigureAwait(false);
    }

    private async Task EnsureServiceAsync(V1Service desired, CancellationToken ct)
    {
        var ns = desired.Metadata.NamespaceProperty;
        V1Service existing;
        try
        {
            existing = await kubernetes.CoreV1.ReadNamespacedServiceAsync(desired.Metadata.Name, ns, cancellationToken: ct)
                .ConfigureAwait(false);
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            await kubernetes.CoreV1.CreateNamespacedServiceAsync(desired, ns, cancellationToken: ct).ConfigureAwait(false);
            return;
        }

        EnsureOwned(existing, desired);
        var port = desired.Spec.Ports[0];
        if (existing.Spec.Ports is [var current] && current.Port == port.Port && current.TargetPort?.Value == port.TargetPort.Value
            && existing.Spec.Selector?.Count == desired.Spec.Selector.Count
            && desired.Spec.Selector.All(label => ValueOf(existing.Spec.Selector, label.Key) == label.Value))
        {
            return;
        }

        existing.Spec.Selector = desired.Spec.Selector;
        existing.Spec.Ports = desired.Spec.Ports;
        await kubernetes.CoreV1.ReplaceNamespacedServiceAsync(existing, existing.Metadata.Name, ns, cancellationToken: ct)
            .ConfigureAwait(false);
    }

    /// <summary>Refuses to take over an object of the same name that something else controls.</summary>
    private static void EnsureOwned(IKubernetesObject<V1ObjectMeta> existing, IKubernetesObject<V1ObjectMeta> desired)
    {
        var uid = desired.Metadata.OwnerReferences[0].Uid;
        if (existing.Metadata.OwnerReferences?.Any(r => r.Controller == true && r.Uid == uid) != true)
        {
            throw new InvalidOperationException(
                $"{existing.Kind ?? "object"} {existing.Metadata.Name} exists and is not controlled by this deployment");
        }
    }

    private async Task<V1Deployment?> ReadDeploymentAsync(ModelDeployment owner, string track, CancellationToken ct)
    {
        try
        {
            return await kubernetes.AppsV1.ReadNamespacedDeploymentAsync(ServingWorkloads.DeploymentName(owner, track),
                owner.Metadata.NamespaceProperty, cancellationToken: ct).ConfigureAwait(false);
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return null;
        }
    }

    private static void SetPhaseAndConditions(Run run, RolloutAction? action, ReplicaSplit split, V1Deployment? stableTrack,
        V1Deployment? canaryTrack)
    {
        var status = run.Status;
        var generation = run.Owner.Metadata.Generation;
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
            status.Set(Conditions.Ready, false, "NoModelVersion", run.PendingMessage!, generation);
            status.Set(ProgressingCondition, false, "NoModelVersion", run.PendingMessage!, generation);
        }
        else if (run.Aborted)
        {
            status.Phase = ModelDeploymentStatus.Degraded;
            status.Set(Conditions.Ready, false, RolledBackReason, status.AbortReason!, generation);
            status.Set(ProgressingCondition, false, RolledBackReason, status.AbortReason!, generation);
        }
        else
        {
            status.Phase = paused ? ModelDeploymentStatus.Paused
                : run.RolloutActive || !stableReady ? ModelDeploymentStatus.Progressing
                : ModelDeploymentStatus.Healthy;
            status.Set(Conditions.Ready, stableReady, stableReady ? "StableReady" : "StableNotReady",
                $"{status.StableVersion}: {stableTrack?.Status?.ReadyReplicas ?? 0}/{split.Stable} stable replicas ready",
                generation);
            if (run.RolloutActive)
            {
                status.Set(ProgressingCondition, true, "RolloutInProgress",
                    $"{status.CanaryVersion} at step {status.CurrentStepText}, weight {status.CanaryWeight} ({run.Mode}): {action?.Message}",
                    generation);
            }
            else
            {
                status.Set(ProgressingCondition, !stableReady, stableReady ? "RolloutComplete" : "Deploying",
                    $"serving {status.StableVersion}", generation);
            }
        }

        SetInvalidSpecCondition(run);
        if (pause is not null)
        {
            var message = run.HeldVersion is { } held && pause == run.SpecProblem
                ? $"the rollout of {held} waits for a valid spec: {pause.Message}"
                : pause.Message;
            status.Set(PausedCondition, true, pause.Reason, message, generation);
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
            status.Set(PausedCondition, false, "NotPaused", "the rollout is not paused", generation);
        }

        SetTrafficRoutingCondition(run, split);
        status.Set(DegradedCondition, run.Aborted, run.Aborted ? RolledBackReason : "NotDegraded",
            run.Aborted ? status.AbortReason! : "no rollback in effect", generation);
    }

    /// <summary>True with every problem of the spec, and a warning event when they first show or change.</summary>
    private static void SetInvalidSpecCondition(Run run)
    {
        var status = run.Status;
        var generation = run.Owner.Metadata.Generation;
        if (run.SpecProblems.Count == 0)
        {
            status.Set(InvalidSpecCondition, false, "SpecValid", "the spec is valid", generation);
            return;
        }

        var message = string.Join("; ", run.SpecProblems.Select(p => p.Message));
        var previous = status.Find(InvalidSpecCondition);
        if (previous?.Status != "True" || previous.Message != message)
        {
            run.Event(EventType.Warning, InvalidSpecReason, message);
        }

        status.Set(InvalidSpecCondition, true, run.SpecProblems[0].Reason, message, generation);
    }

    /// <summary>Says which routing mode is in effect and how traffic is split now.</summary>
    private static void SetTrafficRoutingCondition(Run run, ReplicaSplit split)
    {
        var status = run.Status;
        var generation = run.Owner.Metadata.Generation;
        var weight = status.CanaryWeight ?? 0;
        if (run.RouteProblem is { } problem)
        {
            status.Set(TrafficRoutingCondition, false, problem.Reason, $"{run.Mode}: {problem.Message}", generation);
        }
        else if (run.GatewayApi)
        {
            var weights = $"HTTPRoute {run.RouteName} weights: {run.Owner.Metadata.Name}-stable {100 - weight}, "
                          + $"{run.Owner.Metadata.Name}-canary {weight}";
            if (run.WaitingForCanaryPods)
            {
                status.Set(TrafficRoutingCondition, true, WaitingForCanaryPodsReason,
                    $"{weights}; waiting for canary pods to be Ready ({run.ReadyCanaryPods}/{run.Split(run.TargetWeight).Canary}) "
                    + $"before moving to weight {run.TargetWeight}", generation);
            }
            else
            {
                status.Set(TrafficRoutingCondition, true, nameof(TrafficRoutingMode.GatewayApi), weights, generation);
            }
        }
        else if (weight != run.TargetWeight)
        {
            var exact = ReplicaSplit.ReplicasFor(run.TargetWeight, run.Replicas) is { } replicas
                ? $"; spec.replicas {replicas} would split it exactly"
                : "";
            status.Set(TrafficRoutingCondition, true, WeightApproximatedReason,
                $"step {status.CurrentStepText} asks for weight {run.TargetWeight}, but Service {run.Owner.Metadata.Name} " +
                $"splits by pod count: {split.Stable} stable, {split.Canary} canary give the canary {weight}%{exact}",
                generation);
        }
        else
        {
            status.Set(TrafficRoutingCondition, true, nameof(TrafficRoutingMode.ReplicaRatio),
                $"Service {run.Owner.Metadata.Name} splits by pod count: {split.Stable} stable, {split.Canary} canary",
                generation);
        }
    }

    private static ReconcileResult NextLook(Run run, RolloutAction? action)
    {
        if (run.RouteProblem is not null)
        {
            return ReconcileResult.RequeueAfter(RouteRetry);
        }

        // Advance/Measure never end a run; a pause without a duration waits for an annotation (a watched change).
        var after = action?.After ?? (action?.Kind is RolloutActionKind.Wait ? RolloutDecision.ReadinessPoll : null);
        if (run.WaitingForCanaryPods && (after is null || after > RolloutDecision.ReadinessPoll))
        {
            // Pod changes wake the controller too; this is the safety net while the route holds a lower weight.
            after = RolloutDecision.ReadinessPoll;
        }

        return after is { } delay
            ? ReconcileResult.RequeueAfter(delay < TimeSpan.FromMilliseconds(100) ? TimeSpan.FromMilliseconds(100) : delay)
            : ReconcileResult.Done();
    }

    private static void AddHistory(Run run, string version, string outcome, string reason)
    {
        var history = run.Status.History ??= [];
        history.Add(new RolloutRecord { Version = version, Outcome = outcome, Reason = reason, Time = run.Now });
        history.RemoveRange(0, Math.Max(0, history.Count - MaxHistory));
    }

    private static ModelVersion? Find(IList<ModelVersion> versions, string? name) =>
        name is null ? null : versions.FirstOrDefault(v => v.Metadata.Name == name && v.Metadata.DeletionTimestamp is null);

    private static string? ValueOf(IDictionary<string, string>? map, string key) =>
        map is not null && map.TryGetValue(key, out var value) ? value : null;

    private static double? Finite(double? value) => value is { } v && double.IsFinite(v) ? v : null;

    private sealed record Requests(bool Promote, bool Abort, bool Retry);

    /// <summary>One reconcile's working state: a private copy of status, the resolved plan and the events to record.</summary>
    private sealed class Run
    {
        public Run(ModelDeployment owner, DateTime now, string? defaultPrometheus)
        {
            Owner = owner;
            Now = now;
            Status = owner.Status is null
                ? new ModelDeploymentStatus()
                : KubernetesJson.Deserialize<ModelDeploymentStatus>(KubernetesJson.Serialize(owner.Status));
            Analysis = AnalysisSettings.From(owner.Spec.Strategy?.Canary?.Analysis, defaultPrometheus);
            Plan = CanaryPlan.From(owner.Spec.Strategy?.Canary, Analysis.Interval);
        }

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
        public IReadOnlyList<SpecProblem> SpecProblems { get; set; } = [];

        /// <summary>The pause an invalid spec puts a rollout in, or null.</summary>
        public RolloutAction? SpecProblem => SpecProblems.Count == 0
            ? null
            : specPause ??= new RolloutAction(RolloutActionKind.Pause, InvalidSpecReason,
                $"invalid spec ({string.Join("; ", SpecProblems.Select(p => p.Message))})");

        /// <summary>A version that would start a rollout but waits for the spec to be fixed.</summary>
        public string? HeldVersion { get; set; }

        private RolloutAction? specPause;

        /// <summary>Why the HTTPRoute cannot be managed (a pause), or null.</summary>
        public RolloutAction? RouteProblem { get; set; }

        /// <summary>The plan's canary weight at the current step (0 without an active rollout).</summary>
        public int TargetWeight { get; set; }

        /// <summary>Ready canary pods of the canary version, as the gate on the route's weight counts them.</summary>
        public int ReadyCanaryPods { get; set; }

        /// <summary>With GatewayApi, the route holds a lower weight than the plan's until more canary pods are Ready.</summary>
        public bool WaitingForCanaryPods => GatewayApi && (Status.CanaryWeight ?? 0) < TargetWeight;

        /// <summary>Pods per track for a canary weight: the route splits traffic with GatewayApi, pod counts otherwise.</summary>
        public ReplicaSplit Split(int weight) =>
            GatewayApi ? ReplicaSplit.ForRoutedTraffic(Replicas, weight) : ReplicaSplit.For(Replicas, weight);

        public bool Pending { get; set; }

        public string? PendingMessage { get; set; }

        public bool RolloutActive => Status.CanaryVersion is not null && Status.AbortReason is null;

        public bool Aborted => Status.CanaryVersion is not null && Status.AbortReason is not null;

        public List<(EventType Type, string Reason, string Message)> Events { get; } = [];

        public void Event(EventType type, string reason, string message) => Events.Add((type, reason, message));
    }
}
