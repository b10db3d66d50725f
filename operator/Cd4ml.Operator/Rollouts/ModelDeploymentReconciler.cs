using System.Collections.Concurrent;
using System.Text.Json.Nodes;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
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
/// promoted or rolled back. A reconcile observes (from the informer caches: ModelVersions, the owned Deployments and
/// Services, the HTTPRoute; Prometheus' verdict on custom queries), plans with <see cref="RolloutPlanner"/> (measuring
/// in Prometheus when the plan asks, then planning again with the result), applies the workloads and route weights,
/// writes status and records events; in steady state it sends no request at all. A cache may lag the controller's own
/// writes: a create that finds the object exists, or a write from an older resourceVersion, conflicts and the reconcile
/// plans again shortly rather than forcing anything. A status write that conflicts is never forced either: the plan is
/// made again from the object as it is now. Never writes spec or annotations.
/// </summary>
public sealed class ModelDeploymentReconciler(
    IKubernetes kubernetes,
    OperatorOptions options,
    IEventRecorder events,
    RolloutMetrics metrics,
    PrometheusClient prometheus,
    ModelDeploymentIndex index,
    RolloutCache cache,
    TimeProvider clock,
    PlatformDefaultsSource platform,
    ILogger<ModelDeploymentReconciler> logger) : IReconciler<ModelDeployment>
{
    public const string ProgressingCondition = "Progressing";
    public const string PausedCondition = "Paused";
    public const string DegradedCondition = "Degraded";
    public const string RolledBackReason = "RolledBack";
    public const string TrafficRoutingCondition = "TrafficRouting";
    public const string InvalidSpecCondition = "InvalidSpec";
    public const string InvalidSpecReason = "InvalidSpec";
    public const string InvalidPlatformDefaultsReason = "InvalidPlatformDefaults";
    public const string WeightApproximatedReason = "WeightApproximated";
    public const string WaitingForCanaryPodsReason = "WaitingForCanaryPods";
    public const string RouteField = "spec.trafficRouting.httpRoute";

    /// <summary>
    /// How often to look for a missing HTTPRoute. Routes are watched, but when their CRD is installed after the operator
    /// started, the watch begins only at its next check (up to 60 s later): looking every few seconds is quicker.
    /// </summary>
    public static readonly TimeSpan RouteRetry = TimeSpan.FromSeconds(5);

    /// <summary>How soon to plan again after a status write conflicted (the watch event of the newer write comes too).</summary>
    private static readonly TimeSpan ConflictRetry = TimeSpan.FromMilliseconds(200);

    /// <summary>Plans per reconcile when status writes conflict, before leaving it to the queue.</summary>
    private const int MaxAttempts = 3;

    private readonly ResourceClient<ModelDeployment> deployments = new(kubernetes);

    // One attempt: on a conflict the status was computed from an older state and must not be written at all.
    private readonly StatusWriter<ModelDeployment> statusWriter = new(new ResourceClient<ModelDeployment>(kubernetes), maxAttempts: 1);

    /// <summary>
    /// Prometheus' verdict on each Deployment's custom queries, for the generation and queries it was asked about (a
    /// platform template's queries change without the generation).
    /// </summary>
    private readonly ConcurrentDictionary<NamespacedName, (long? Generation, string Queries, IReadOnlyList<SpecProblem> Problems)> queryChecks = new();

    /// <summary>
    /// The HPA each Deployment was last brought to (its JSON; null: made sure none exists), so a reconcile in steady
    /// state sends no request for it. HPAs are not watched (the served API version differs between clusters): an HPA
    /// edited or deleted by hand is put right when the spec changes or the operator restarts.
    /// </summary>
    private readonly ConcurrentDictionary<NamespacedName, string?> autoscalers = new();

    /// <summary>autoscaling/v2 where served (1.23+), else autoscaling/v2beta2 (same fields for what is set here); asked once.</summary>
    private string? autoscalingVersion;

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest<ModelDeployment> request, CancellationToken ct)
    {
        if (request.IsDeleted)
        {
            index.Remove(request.Key);
            queryChecks.TryRemove(request.Key, out _);
            autoscalers.TryRemove(request.Key, out _);
            metrics.CanaryWeight.RemoveLabelled(request.Key.Namespace ?? "", request.Key.Name);
            metrics.Drifting.RemoveLabelled(request.Key.Namespace ?? "", request.Key.Name);
            return ReconcileResult.Done();
        }

        var owner = request.Entity!;
        var applied = new List<(EventType Type, string Reason, string Message)>();
        for (var attempt = 1; owner.Metadata.DeletionTimestamp is null; attempt++)
        {
            var observed = await ObserveAsync(request.Key, owner, ct).ConfigureAwait(false);
            var now = clock.GetUtcNow().UtcDateTime;
            var plan = RolloutPlanner.Plan(observed, now);
            if (plan.Measure is { } measure)
            {
                observed = observed with { Measurement = await MeasureAsync(measure, ct).ConfigureAwait(false) };
                plan = RolloutPlanner.Plan(observed, now);
            }

            try
            {
                applied.AddRange(await ApplyAsync(observed, plan, ct).ConfigureAwait(false));
            }
            catch (Exception e) when (ApiErrors.IsConflict(e))
            {
                // Applied to a cached workload older than the server's (our own last write not seen yet, or someone
                // else's): a create found it exists, or a replace carried an old resourceVersion. Plan again once the
                // cache has caught up (its watch event wakes this Deployment too); this plan's status is not written.
                logger.LogDebug("Applying the plan of {Key} conflicted, planning again: {Error}", request.Key, e.Message);
                await RecordAsync(owner, applied, ct).ConfigureAwait(false);
                return ReconcileResult.RequeueAfter(ConflictRetry);
            }

            var monitored = await MonitorAsync(observed, plan.Status, now, ct).ConfigureAwait(false);
            try
            {
                plan.Status.Effective = Effective(observed, plan.Status);
                await statusWriter.UpdateAsync(owner, md => md.Status = plan.Status, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (ApiErrors.IsConflict(e))
            {
                // Planned from an older state (a cache behind our own last write, or another writer): plan again from
                // the object as it is now rather than overwrite it; the plan's events did not happen.
                if (attempt == MaxAttempts
                    || await deployments.GetAsync(request.Key.Namespace, request.Key.Name, ct).ConfigureAwait(false) is not { } fresh)
                {
                    await RecordAsync(owner, applied, ct).ConfigureAwait(false);
                    return ReconcileResult.RequeueAfter(ConflictRetry);
                }

                owner = fresh;
                continue;
            }

            RecordMetrics(owner, observed.Measurement, plan, monitored);
            await RecordAsync(owner, plan.Events, ct).ConfigureAwait(false);
            await RecordAsync(owner, [.. monitored.Events, .. applied], ct).ConfigureAwait(false);
            TimeSpan? next = plan.Requeue is { } after && (monitored.Requeue is not { } check || after < check) ? after : monitored.Requeue;
            return next is { } delay ? ReconcileResult.RequeueAfter(delay) : ReconcileResult.Done();
        }

        return ReconcileResult.Done();
    }

    private Task RecordAsync(ModelDeployment owner, IEnumerable<(EventType Type, string Reason, string Message)> happened,
        CancellationToken ct) =>
        RecordAsync(owner, happened.Select(e => (e.Type, e.Reason, e.Message, (RolloutEventFields?)null)), ct);

    private async Task RecordAsync(ModelDeployment owner,
        IEnumerable<(EventType Type, string Reason, string Message, RolloutEventFields? Fields)> happened, CancellationToken ct)
    {
        foreach (var (type, reason, message, fields) in happened)
        {
            logger.LogInformation("{Reason}: {Message}", reason, message);
            await events.RecordAsync(owner, type, reason, message, fields?.ToAnnotations(), ct).ConfigureAwait(false);
        }
    }

    /// <summary>Everything the plan needs except a measurement.</summary>
    private async Task<RolloutObservation> ObserveAsync(NamespacedName key, ModelDeployment owner, CancellationToken ct)
    {
        var gatewayApi = owner.Spec.TrafficRouting?.Mode == TrafficRoutingMode.GatewayApi;
        var routeName = owner.Spec.TrafficRouting?.HttpRoute;
        index.Set(key, owner.Spec.ModelName, gatewayApi ? routeName : null);
        var ns = owner.Metadata.NamespaceProperty;
        var stableTrack = cache.Deployment(ns, ServingWorkloads.DeploymentName(owner, ServingWorkloads.Stable));
        var canaryTrack = cache.Deployment(ns, ServingWorkloads.DeploymentName(owner, ServingWorkloads.Canary));
        var route = !gatewayApi || string.IsNullOrEmpty(routeName) ? null
            : await ReadRouteAsync(ns, routeName, ct).ConfigureAwait(false) is { } found
                ? new RouteObservation(true, found)
                : RouteObservation.Missing;
        // The operator's options as seen from this namespace: its platform defaults (image, Prometheus, S3, resources).
        var defaults = await platform.ForAsync(owner.Metadata.NamespaceProperty, ct).ConfigureAwait(false);
        var scoped = defaults.Apply(options);
        var (analysis, unknownTemplate) = AnalysisTemplates.Resolve(owner.Spec.Strategy?.Canary?.Analysis,
            scoped.Platform.AnalysisTemplates);
        // Everything after this sees the analysis with its template; the status is still written to the object as read.
        owner = WithAnalysis(owner, analysis);
        IReadOnlyList<SpecProblem> problems = [.. SpecValidation.Problems(owner.Spec, options.AllowFaultInjection),
            .. defaults.Problem is { } broken ? [new SpecProblem(InvalidPlatformDefaultsReason, broken)] : Array.Empty<SpecProblem>(),
            .. unknownTemplate is null ? Array.Empty<SpecProblem>() : [unknownTemplate],
            .. await CheckQueriesAsync(key, owner, scoped, ct).ConfigureAwait(false)];
        return new RolloutObservation(owner, [.. cache.ModelVersionsIn(ns)], stableTrack,
            canaryTrack, route, problems, scoped);
    }

    /// <summary>A copy of the Deployment whose canary analysis is <paramref name="analysis"/> (itself when unchanged).</summary>
    private static ModelDeployment WithAnalysis(ModelDeployment owner, AnalysisSpec? analysis)
    {
        if (ReferenceEquals(analysis, owner.Spec.Strategy?.Canary?.Analysis))
        {
            return owner;
        }

        var copy = ResourceClient<ModelDeployment>.Clone(owner);
        // Its own copy of the analysis too: the template's objects are shared by every Deployment that names it.
        copy.Spec.Strategy!.Canary!.Analysis = analysis is null ? null : KubernetesJson.Deserialize<AnalysisSpec>(KubernetesJson.Serialize(analysis));
        return copy;
    }

    /// <summary>status.effective: the storage the model servers get (the Deployment's, else the stable version's, with the platform defaults), the image and Prometheus.</summary>
    private static EffectiveSettings Effective(RolloutObservation observed, ModelDeploymentStatus status)
    {
        var spec = observed.Owner.Spec;
        var stable = observed.Versions.FirstOrDefault(v => v.Metadata.Name == status.StableVersion);
        var effective = observed.Options.Platform.Effective(spec.Storage ?? stable?.Spec.Storage,
            AnalysisSettings.From(spec.Strategy?.Canary?.Analysis, observed.Options.PrometheusAddress).PrometheusAddress);
        effective.Image = spec.Image ?? observed.Options.Image;
        effective.AnalysisTemplate = spec.Strategy?.Canary?.Analysis?.Template;
        return effective;
    }

    /// <summary>One round: the canary's request count, then every metric judged against its thresholds.</summary>
    private async Task<RolloutMeasurement> MeasureAsync(MeasureRequest request, CancellationToken ct)
    {
        var settings = request.Analysis;
        var address = settings.PrometheusAddress!;
        var samples = await prometheus.QueryAsync(address, AnalysisQueries.SampleCount(request.Canary, settings.Window), ct)
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

            var value = await prometheus.QueryAsync(address, AnalysisQueries.For(metric, request.Canary, settings.Window), ct)
                .ConfigureAwait(false);
            var stableValue = metric.MaxIncreaseOverStable is null
                ? null
                : await prometheus.QueryAsync(address, AnalysisQueries.For(metric, request.Stable, settings.Window), ct)
                    .ConfigureAwait(false);
            verdicts.Add(AnalysisJudge.Judge(metric, value, samples, settings.MinSampleCount, stableValue));
        }

        return new RolloutMeasurement(samples, verdicts);
    }

    /// <summary>
    /// The monitoring step: when spec.monitoring is set and a check is due, reads the stable version's drift and every
    /// track's live quality from Prometheus, then lets <see cref="MonitoringCheck"/> write them into the plan's status.
    /// </summary>
    private async Task<MonitoringPlan> MonitorAsync(RolloutObservation observed, ModelDeploymentStatus status, DateTime now,
        CancellationToken ct)
    {
        var owner = observed.Owner;
        var settings = MonitoringSettings.From(owner, observed.Options.Platform);
        var address = AnalysisSettings.From(owner.Spec.Strategy?.Canary?.Analysis, observed.Options.PrometheusAddress).PrometheusAddress;
        MonitoringReading? reading = null;
        if (settings is not null && address is not null && status.StableVersion is { } stable && MonitoringCheck.Due(status, settings, now))
        {
            var model = observed.Versions.FirstOrDefault(v => v.Metadata.Name == stable)?.Spec.ModelName ?? owner.Spec.ModelName;
            var target = new QueryTarget(owner.Metadata.NamespaceProperty ?? "", owner.Metadata.Name, model, stable,
                ServingWorkloads.Stable);
            reading = await ReadMonitoringAsync(address, target, settings.Window, ct).ConfigureAwait(false);
        }

        return MonitoringCheck.Plan(status, settings, address, reading, now, owner.Metadata.Generation);
    }

    private async Task<MonitoringReading> ReadMonitoringAsync(string address, QueryTarget stable, TimeSpan window,
        CancellationToken ct)
    {
        var features = await prometheus.QueryVectorAsync(address, AnalysisQueries.FeatureDrift(stable, window), ct)
            .ConfigureAwait(false);
        if (features.Error is { } error)
        {
            return MonitoringReading.Failed(error);
        }

        var predictions = await prometheus.QueryAsync(address, AnalysisQueries.PredictionDrift(stable, window), ct)
            .ConfigureAwait(false);
        if (predictions.Status == QueryStatus.Error)
        {
            return MonitoringReading.Failed(predictions.Message!);
        }

        var quality = new List<LiveQualityStatus>();
        foreach (var metric in MonitoringCheck.LiveQualityMetrics)
        {
            var values = await prometheus.QueryVectorAsync(address,
                AnalysisQueries.LiveQualityByTrack(stable.Namespace, stable.Deployment, metric, window), ct).ConfigureAwait(false);
            if (values.Error is { } qualityError)
            {
                return MonitoringReading.Failed(qualityError);
            }

            quality.AddRange(values.Samples.Select(sample => new LiveQualityStatus
            {
                Version = sample.Labels.GetValueOrDefault("version", ""),
                Track = sample.Labels.GetValueOrDefault("track", ""),
                Metric = metric,
                Value = sample.Value,
            }));
        }

        return new MonitoringReading(
            [.. features.Samples.Select(sample => new FeatureDrift { Feature = sample.Labels.GetValueOrDefault("feature", ""), Value = sample.Value })],
            predictions.HasNumber ? predictions.Value : null, quality);
    }

    /// <summary>Applies the plan's workloads and route weights; returns the events that applying them produced.</summary>
    private async Task<IReadOnlyList<(EventType Type, string Reason, string Message)>> ApplyAsync(RolloutObservation observed,
        RolloutPlan plan, CancellationToken ct)
    {
        if (plan.Workloads is not { } workloads)
        {
            return [];
        }

        await EnsureDeploymentAsync(observed.StableTrack, workloads.Stable, ct).ConfigureAwait(false);
        if (workloads.Canary is not null)
        {
            await EnsureDeploymentAsync(observed.CanaryTrack, workloads.Canary, ct).ConfigureAwait(false);
        }
        else if (observed.CanaryTrack is { } canaryTrack && canaryTrack.Spec.Replicas != 0)
        {
            await kubernetes.AppsV1.PatchNamespacedDeploymentAsync(
                new V1Patch("{\"spec\":{\"replicas\":0}}", V1Patch.PatchType.MergePatch),
                canaryTrack.Metadata.Name, canaryTrack.Metadata.NamespaceProperty, cancellationToken: ct).ConfigureAwait(false);
        }

        foreach (var service in workloads.Services)
        {
            await EnsureServiceAsync(service, ct).ConfigureAwait(false);
        }

        await EnsureAutoscalerAsync(observed.Owner, workloads.Autoscaler, ct).ConfigureAwait(false);

        return plan.RouteWeight is { } weight && observed.Route?.Route is { } route
            ? await SetRouteWeightsAsync(observed.Owner, route, weight, ct).ConfigureAwait(false)
            : [];
    }

    private void RecordMetrics(ModelDeployment owner, RolloutMeasurement? measurement, RolloutPlan plan, MonitoringPlan monitored)
    {
        var ns = owner.Metadata.NamespaceProperty ?? "";
        metrics.CanaryWeight.WithLabels(ns, owner.Metadata.Name).Set(plan.Status.CanaryWeight ?? 0);
        if (monitored.Drifting is { } drifting)
        {
            metrics.Drifting.WithLabels(ns, owner.Metadata.Name).Set(drifting ? 1 : 0);
        }
        else
        {
            metrics.Drifting.RemoveLabelled(ns, owner.Metadata.Name);
        }

        if (plan.RolledBack)
        {
            metrics.Rollbacks.WithLabels(ns, owner.Metadata.Name).Inc();
        }

        foreach (var verdict in measurement?.Verdicts ?? [])
        {
            metrics.Measurements.WithLabels(ns, owner.Metadata.Name, verdict.Phase.ToString()).Inc();
        }
    }

    /// <summary>
    /// Asks Prometheus to parse the custom queries, once per generation of the spec (so a mistake shows when the spec
    /// changes, not when a rollout reaches its analysis). Unanswered checks are asked again on the next reconcile.
    /// </summary>
    private async Task<IReadOnlyList<SpecProblem>> CheckQueriesAsync(NamespacedName key, ModelDeployment owner,
        OperatorOptions scoped, CancellationToken ct)
    {
        var generation = owner.Metadata.Generation;
        var queries = SpecValidation.CustomQueries(owner.Spec.Strategy?.Canary?.Analysis?.Metrics).ToList();
        var analysis = AnalysisSettings.From(owner.Spec.Strategy?.Canary?.Analysis, scoped.PrometheusAddress);
        if (analysis.PrometheusAddress is not { } address || queries.Count == 0)
        {
            return [];
        }

        var asked = string.Join("\n", queries.Select(q => q.Metric.Query));
        if (queryChecks.TryGetValue(key, out var known) && known.Generation == generation && known.Queries == asked)
        {
            return known.Problems;
        }

        var target = new QueryTarget(owner.Metadata.NamespaceProperty ?? "", owner.Metadata.Name,
            owner.Spec.ModelName, owner.Status?.StableVersion ?? owner.Spec.ModelName, ServingWorkloads.Canary);
        var problems = new List<SpecProblem>();
        var answered = true;
        foreach (var (field, metric) in queries)
        {
            var (checkedOk, error) = await prometheus.CheckQueryAsync(address,
                AnalysisQueries.Fill(metric.Query!, target, analysis.Window), ct).ConfigureAwait(false);
            answered &= checkedOk;
            if (error is not null)
            {
                problems.Add(SpecValidation.QueryRefused(field, metric, error));
            }
        }

        if (answered)
        {
            queryChecks[key] = (generation, asked, problems);
        }

        return problems;
    }

    /// <summary>
    /// The HTTPRoute as whole JSON (every field the user wrote survives a replace), or null when it does not exist: from
    /// the cache, or from the API while the cache cannot tell (HTTPRoutes not served when last checked).
    /// </summary>
    private async Task<JsonObject?> ReadRouteAsync(string ns, string name, CancellationToken ct) =>
        cache.TryGetRoute(ns, name, out var cached) ? cached?.ToJson() : await GetRouteAsync(ns, name, ct).ConfigureAwait(false);

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
    /// carries the resourceVersion read, so a cached copy behind the server, or a concurrent edit by someone else,
    /// conflicts and is re-read from the API, never lost.
    /// </summary>
    private async Task<IReadOnlyList<(EventType Type, string Reason, string Message)>> SetRouteWeightsAsync(
        ModelDeployment owner, JsonObject route, int weight, CancellationToken ct)
    {
        var ns = owner.Metadata.NamespaceProperty;
        var routeName = owner.Spec.TrafficRouting!.HttpRoute!;
        var stable = ServingWorkloads.DeploymentName(owner, ServingWorkloads.Stable);
        var canary = ServingWorkloads.DeploymentName(owner, ServingWorkloads.Canary);
        for (var attempt = 1; ; attempt++)
        {
            if (!HttpRouteBackends.SetWeights(route, stable, canary, weight, ServingWorkloads.Port(owner),
                    bothTracksService: owner.Metadata.Name))
            {
                return [];
            }

            try
            {
                using var _ = await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectWithHttpMessagesAsync<JsonObject>(
                    route, HttpRouteBackends.Group, HttpRouteBackends.Version, ns, HttpRouteBackends.Plural, routeName,
                    cancellationToken: ct).ConfigureAwait(false);
                return [(EventType.Normal, "TrafficShifted",
                    $"HTTPRoute {routeName} (GatewayApi): {stable} {100 - weight}%, {canary} {weight}%")];
            }
            catch (Exception e) when (ApiErrors.IsConflict(e) && attempt < 5)
            {
                // Deleted meanwhile: the next reconcile reports the missing route.
                if (await GetRouteAsync(ns, routeName, ct).ConfigureAwait(false) is not { } latest)
                {
                    return [];
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

        // The cached instance is shared: change a copy. Its resourceVersion makes a replace over a newer state conflict.
        var updated = ResourceClient<V1Deployment>.Clone(existing);
        updated.Metadata.Labels = desired.Metadata.Labels;
        updated.Spec.Replicas = desired.Spec.Replicas;
        updated.Spec.Template = desired.Spec.Template;
        await kubernetes.AppsV1.ReplaceNamespacedDeploymentAsync(updated, updated.Metadata.Name, ns, cancellationToken: ct)
            .ConfigureAwait(false);
    }

    private async Task EnsureServiceAsync(V1Service desired, CancellationToken ct)
    {
        var ns = desired.Metadata.NamespaceProperty;
        if (cache.Service(ns, desired.Metadata.Name) is not { } existing)
        {
            await kubernetes.CoreV1.CreateNamespacedServiceAsync(desired, ns, cancellationToken: ct).ConfigureAwait(false);
            return;
        }

        EnsureOwned(existing, desired);
        var port = desired.Spec.Ports[0];
        if (existing.Spec.Ports is [var current] && current.Port == port.Port && current.TargetPort?.Value == port.TargetPort.Value
            && existing.Spec.Selector?.Count == desired.Spec.Selector.Count
            && desired.Spec.Selector.All(label => existing.Spec.Selector.TryGetValue(label.Key, out var value) && value == label.Value))
        {
            return;
        }

        var updated = ResourceClient<V1Service>.Clone(existing);
        updated.Spec.Selector = desired.Spec.Selector;
        updated.Spec.Ports = desired.Spec.Ports;
        await kubernetes.CoreV1.ReplaceNamespacedServiceAsync(updated, updated.Metadata.Name, ns, cancellationToken: ct)
            .ConfigureAwait(false);
    }

    /// <summary>
    /// Creates, updates or deletes the stable track's HPA. Only its spec is replaced, never replicas: the HPA owns
    /// those, and the plan leaves the stable Deployment's replicas as the HPA set them.
    /// </summary>
    private async Task EnsureAutoscalerAsync(ModelDeployment owner, V2HorizontalPodAutoscaler? desired, CancellationToken ct)
    {
        var key = new NamespacedName(owner.Metadata.NamespaceProperty, owner.Metadata.Name);
        var json = desired is null ? null : KubernetesJson.Serialize(desired);
        if (autoscalers.TryGetValue(key, out var known) && known == json)
        {
            return;
        }

        var ns = owner.Metadata.NamespaceProperty;
        var name = ServingWorkloads.DeploymentName(owner, ServingWorkloads.Stable);
        var version = autoscalingVersion ??= await AutoscalingVersionAsync(ct).ConfigureAwait(false);
        V2HorizontalPodAutoscaler? existing;
        try
        {
            existing = await kubernetes.CustomObjects.GetNamespacedCustomObjectAsync<V2HorizontalPodAutoscaler>(
                "autoscaling", version, ns, "horizontalpodautoscalers", name, ct).ConfigureAwait(false);
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            existing = null;
        }

        if (desired is null)
        {
            // Only ours: an HPA of the same name that this Deployment does not control is left alone.
            if (existing?.Metadata.OwnerReferences?.Any(r => r.Controller == true && r.Uid == owner.Metadata.Uid) == true)
            {
                await kubernetes.CustomObjects.DeleteNamespacedCustomObjectAsync("autoscaling", version, ns,
                    "horizontalpodautoscalers", name, cancellationToken: ct).ConfigureAwait(false);
                logger.LogInformation("Deleted HorizontalPodAutoscaler {Namespace}/{Name}: spec.autoscaling was removed", ns, name);
            }
        }
        else
        {
            desired.ApiVersion = $"autoscaling/{version}";
            if (existing is null)
            {
                await kubernetes.CustomObjects.CreateNamespacedCustomObjectAsync(desired, "autoscaling", version, ns,
                    "horizontalpodautoscalers", cancellationToken: ct).ConfigureAwait(false);
            }
            else
            {
                EnsureOwned(existing, desired);
                existing.Spec = desired.Spec;
                existing.Metadata.Labels = desired.Metadata.Labels;
                await kubernetes.CustomObjects.ReplaceNamespacedCustomObjectAsync(existing, "autoscaling", version, ns,
                    "horizontalpodautoscalers", name, cancellationToken: ct).ConfigureAwait(false);
            }
        }

        autoscalers[key] = json;
    }

    private async Task<string> AutoscalingVersionAsync(CancellationToken ct)
    {
        var group = await kubernetes.Autoscaling.GetAPIGroupAsync(ct).ConfigureAwait(false);
        return group.Versions.Any(v => v.Version == "v2") ? "v2" : "v2beta2";
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
}
