using System.Collections.Concurrent;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Platform;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Status;
using Cd4ml.Training;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Operator.Training;

/// <summary>
/// Reconciles a TrainingRun: validate the spec; when this generation has no attempt yet, check credentials and the
/// dataset, record the attempt and create its Job; while it runs, mirror the Job; when it finishes, write back the
/// trainer's metrics, apply the quality gates and register a ModelVersion; afterwards, with retrainOnDatasetChange,
/// poll the dataset's digest (a HEAD, and a download only when its ETag or size changed) and start a new attempt when
/// it changed; with retrainOn.drift, start one when the watched Deployment drifts (TrainingRunReconciler.Production.cs).
/// S3 being unreachable shows as Ready=False StorageUnavailable and retries with backoff.
/// </summary>
public sealed partial class TrainingRunReconciler(
    IKubernetes kubernetes,
    IEventRecorder events,
    OperatorOptions options,
    StorageAccess storage,
    PlatformDefaultsSource platform,
    TimeProvider clock,
    InformerRegistry informers,
    WatchedDeployments watched,
    TrainingMetrics metrics,
    ILogger<TrainingRunReconciler> logger) : IReconciler<TrainingRun>
{
    public const string JobComplete = "JobComplete";
    public const string GatesPassed = "GatesPassed";
    public const string Registered = "Registered";

    public const string InvalidSpec = "InvalidSpec";
    public const string InvalidPlatformDefaults = "InvalidPlatformDefaults";
    public const string CredentialsMissing = "CredentialsMissing";
    public const string DatasetNotFound = "DatasetNotFound";
    public const string StorageError = "StorageError";
    public const string StorageUnavailable = "StorageUnavailable";
    public const string JobFailed = "JobFailed";
    public const string DeadlineExceeded = "DeadlineExceeded";
    public const string GatesFailed = "GatesFailed";
    public const string Running = "Running";
    public const string Pending = "Pending";
    public const string Queued = "Queued";
    public const string Superseded = "Superseded";

    public static readonly TimeSpan PreflightRecheck = TimeSpan.FromSeconds(30);
    public const int DefaultHistoryLimit = 10;

    private readonly ResourceClient<TrainingRun> runs = new(kubernetes);
    private readonly StatusWriter<TrainingRun> status = new(kubernetes);
    private readonly StatusTransitions<TrainingRun> transitions = new(kubernetes, events, r => r.EnsureStatus());
    private readonly ModelRegistrar registrar = new(kubernetes);
    private readonly ConcurrentDictionary<string, SemaphoreSlim> attemptStarts = new();

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest<TrainingRun> request, CancellationToken ct)
    {
        if (request.Entity is not { } run || request.IsBeingDeleted)
        {
            watched.Remove(request.Key);
            return ReconcileResult.Done();
        }

        watched.Set(request.Key, run.Spec);

        if (TrainingSpecValidator.Validate(run) is { } problem)
        {
            await transitions.TransitionAsync(run, TrainingRunStatus.Failed, false, InvalidSpec, problem.ToString(), EventType.Warning, ct: ct);
            return ReconcileResult.Done();
        }

        var current = CurrentAttempt(run);
        if (current is null || current.Generation != run.Metadata.Generation)
        {
            // The cache may not have seen our last status write yet (a Job event can overtake it): decide on fresh data.
            if (await runs.GetAsync(run.Metadata.NamespaceProperty, run.Metadata.Name, ct) is not { } fresh)
            {
                return ReconcileResult.Done();
            }

            run = fresh;
            current = CurrentAttempt(run);
            if (current is null || current.Generation != run.Metadata.Generation)
            {
                return await StartAttemptAsync(run, current, ct);
            }
        }

        if (run.Status?.Phase is TrainingRunStatus.Pending or TrainingRunStatus.Running)
        {
            return await ObserveJobAsync(run, current, ct);
        }

        var (checkedRun, started, recheck) = await CheckDriftAsync(run, ct);
        return started ?? Sooner(await CheckDatasetAsync(checkedRun, ct), recheck);
    }

    private Task<ReconcileResult> StartAttemptAsync(TrainingRun run, AttemptRecord? previous, CancellationToken ct) =>
        StartAttemptAsync(run, previous, AttemptTrigger.Spec, ct);

    private async Task<ReconcileResult> StartAttemptAsync(TrainingRun run, AttemptRecord? previous, AttemptTrigger trigger, CancellationToken ct)
    {
        var @namespace = run.Metadata.NamespaceProperty;
        // A malformed default must not silently become another value: no attempt until the ConfigMap is fixed.
        var platformDefaults = await platform.ForAsync(@namespace, ct);
        if (platformDefaults.Problem is { } defaultsProblem)
        {
            await transitions.TransitionAsync(run, TrainingRunStatus.Pending, false, InvalidPlatformDefaults, defaultsProblem, EventType.Warning, ct: ct);
            return ReconcileResult.RequeueAfter(PreflightRecheck);
        }

        using var access = await storage.ResolveAsync(@namespace, run.Spec.Storage, ct);
        if (access.Store is not { } store)
        {
            await transitions.TransitionAsync(run, TrainingRunStatus.Pending, false, CredentialsMissing, access.Problem!, EventType.Warning, ct: ct);
            return ReconcileResult.RequeueAfter(PreflightRecheck);
        }

        var dataset = S3Location.Parse(run.Spec.Dataset.Uri);
        DatasetObservation? observed = null;
        try
        {
            if (await store.HeadAsync(dataset, ct) is not { } head)
            {
                await transitions.TransitionAsync(run, TrainingRunStatus.Pending, false, DatasetNotFound,
                    $"Dataset {dataset} does not exist.", EventType.Warning, ct: ct);
                return ReconcileResult.RequeueAfter(PreflightRecheck);
            }

            // The digest the attempt starts from, so a failed attempt is not retried until the data changes again.
            if (run.Spec.RetrainOnDatasetChange == true)
            {
                observed = await DatasetDigest.ObserveAsync(store, head, run.Status?.Dataset, ct);
            }
        }
        catch (ArtifactStoreException e) when (!e.IsTransient)
        {
            await transitions.TransitionAsync(run, TrainingRunStatus.Pending, false, StorageError, e.Message, EventType.Warning, ct: ct);
            return ReconcileResult.RequeueAfter(PreflightRecheck);
        }
        catch (ArtifactStoreException e)
        {
            return await StorageUnavailableAsync(run, TrainingRunStatus.Pending, $"checking dataset {dataset}", e, ct);
        }

        // One attempt start per namespace at a time, so two runs cannot both take the last slot.
        var starts = attemptStarts.GetOrAdd(@namespace, _ => new SemaphoreSlim(1, 1));
        await starts.WaitAsync(ct);
        try
        {
            if (await WaitForSlotAsync(run, platformDefaults.Defaults.MaxConcurrentTraining, ct) is { } wait)
            {
                return wait;
            }

            return await RecordAttemptAsync(run, previous, platformDefaults, observed, trigger, ct);
        }
        finally
        {
            starts.Release();
        }
    }

    /// <summary>
    /// With a limit of concurrent attempts, the run is Queued (Ready=False, reason Queued) while the namespace's
    /// training Jobs fill it, and looks again every few seconds; a free slot goes to the run queued longest. The Jobs
    /// and runs are listed, not read from the cache: the cache may not hold yet the Job another run created a moment
    /// ago, and attempt starts are rare.
    /// </summary>
    private async Task<ReconcileResult?> WaitForSlotAsync(TrainingRun run, int? limit, CancellationToken ct)
    {
        if (limit is not > 0)
        {
            return null;
        }

        var @namespace = run.Metadata.NamespaceProperty;
        var jobs = await kubernetes.BatchV1.ListNamespacedJobAsync(@namespace,
            labelSelector: $"{TrainingJobBuilder.ManagedByLabel}={TrainingJobBuilder.ManagedBy}", cancellationToken: ct);
        var queue = await runs.ListAsync(@namespace, 0, null, ct);
        var ahead = TrainingConcurrency.QueuedAhead(queue.Items, run);
        if (TrainingConcurrency.WaitReason(limit, TrainingConcurrency.Active(jobs.Items, run.Metadata.Uid), ahead, @namespace) is not { } reason)
        {
            return null;
        }

        await transitions.TransitionAsync(run, TrainingRunStatus.Queued, false, Queued, reason, EventType.Normal, ct: ct);
        return ReconcileResult.RequeueAfter(TrainingConcurrency.QueuedRecheck);
    }

    private async Task<ReconcileResult> RecordAttemptAsync(TrainingRun run, AttemptRecord? previous, NamespaceDefaults platformDefaults,
        DatasetObservation? observed, AttemptTrigger trigger, CancellationToken ct)
    {
        var @namespace = run.Metadata.NamespaceProperty;
        var digest = observed?.Digest;
        if (previous is { CompletionTime: null } && run.Status?.JobName is { } oldJob)
        {
            await DeleteJobAsync(@namespace, oldJob, ct);
        }

        var attempt = (run.Status?.Attempt ?? 0) + 1;
        var jobName = TrainingJobBuilder.JobName(run.Metadata.Name, attempt);
        var now = Now();
        var why = trigger.IsRetrain ? $" ({trigger.Kind}: {trigger.Message})" : previous is null ? "" : $" (spec generation {run.Metadata.Generation})";
        var image = TrainingJobBuilder.Image(run, platformDefaults.Apply(options));
        // Record the attempt before creating its Job: a crash in between finds the attempt and creates the same Job.
        run = await status.UpdateAsync(run, r =>
        {
            var s = r.EnsureStatus();
            if (s.History?.LastOrDefault() is { } last && last.Attempt == s.Attempt && last.CompletionTime is null)
            {
                last.Phase = Superseded;
                last.Reason = Superseded;
                last.CompletionTime = now;
            }

            s.Attempt = attempt;
            s.JobName = jobName;
            s.Phase = TrainingRunStatus.Pending;
            s.StartTime = now;
            s.CompletionTime = null;
            s.Metrics = null;
            s.Headline = null;
            s.Gates = null;
            s.GatesSummary = null;
            s.ModelVersion = null;
            s.ModelUri = null;
            s.ModelSha256 = null;
            s.DatasetDigest = digest ?? s.DatasetDigest;
            s.Dataset = observed ?? s.Dataset;
            s.OutputUri = TrainingJobBuilder.OutputUri(r, attempt).ToString();
            s.Effective = platformDefaults.Defaults.Effective(r.Spec.Storage);
            s.Effective.Image = image;
            if (digest is not null)
            {
                s.LastDatasetCheckTime = now;
            }

            s.History ??= [];
            s.History.Add(new AttemptRecord
            {
                Attempt = attempt, Generation = r.Metadata.Generation, JobName = jobName, Phase = TrainingRunStatus.Pending,
                StartTime = now, DatasetDigest = digest, Trigger = trigger.Kind, TriggerMessage = trigger.Message,
            });
            var limit = r.Spec.HistoryLimit ?? DefaultHistoryLimit;
            if (s.History.Count > limit)
            {
                s.History.RemoveRange(0, s.History.Count - limit);
            }

            s.Remove(GatesPassed);
            s.Remove(Registered);
            s.Remove(RetrainDeferred);
            s.Remove(ProductionData);
            s.Set(JobComplete, null, Pending, $"Job {jobName} is being created.", r.Metadata.Generation);
            s.Set(Conditions.Ready, false, Pending, $"Attempt {attempt} is starting.", r.Metadata.Generation);
        }, ct);
        await events.RecordAsync(run, EventType.Normal, "AttemptStarted", $"Attempt {attempt} started{why}.", ct);
        if (trigger.IsRetrain)
        {
            await RecordRetrainAsync(run, attempt, trigger, ct);
        }

        return await CreateJobAsync(run, attempt, ct);
    }

    private async Task<ReconcileResult> CreateJobAsync(TrainingRun run, int attempt, CancellationToken ct)
    {
        (run, var fromFeedback) = await ProductionSourceAsync(run, attempt, ct);
        var job = TrainingJobBuilder.Build(run, attempt, await OptionsAsync(run, ct), fromFeedback);
        try
        {
            await kubernetes.BatchV1.CreateNamespacedJobAsync(job, run.Metadata.NamespaceProperty, cancellationToken: ct);
            await events.RecordAsync(run, EventType.Normal, "JobCreated", $"Created Job {job.Metadata.Name}.", ct);
        }
        catch (Exception e) when (ApiErrors.IsAlreadyExists(e))
        {
            // Created by an earlier reconcile whose status write was lost; the Job's own events take it from here.
        }

        return ReconcileResult.Done();
    }

    private async Task<ReconcileResult> ObserveJobAsync(TrainingRun run, AttemptRecord current, CancellationToken ct)
    {
        var @namespace = run.Metadata.NamespaceProperty;
        var jobName = run.Status!.JobName ?? TrainingJobBuilder.JobName(run.Metadata.Name, current.Attempt);
        V1Job job;
        try
        {
            job = await kubernetes.BatchV1.ReadNamespacedJobAsync(jobName, @namespace, cancellationToken: ct);
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return await CreateJobAsync(run, current.Attempt, ct);
        }

        if (job.Metadata.OwnerReferences?.Any(o => o.Controller == true && o.Uid == run.Metadata.Uid) != true)
        {
            // Typically the Job of a deleted run of the same name, still waiting for garbage collection.
            return ReconcileResult.Retry($"Job {jobName} exists but belongs to another owner.");
        }

        var failed = job.Status?.Conditions?.FirstOrDefault(c => c.Type == "Failed" && c.Status == "True");
        if (failed is not null)
        {
            return await FailAsync(run, current.Attempt, job, failed, ct);
        }

        if (job.Status?.Conditions?.Any(c => c.Type == "Complete" && c.Status == "True") == true)
        {
            return await CompleteAsync(run, current.Attempt, job, ct);
        }

        if ((job.Status?.Active ?? 0) > 0 && run.Status.Phase != TrainingRunStatus.Running)
        {
            await transitions.TransitionAsync(run, TrainingRunStatus.Running, false, Running, $"Job {jobName} is running.", EventType.Normal, r =>
            {
                r.EnsureStatus().Set(JobComplete, null, Running, $"Job {jobName} is running.", r.Metadata.Generation);
                UpdateHistory(r, h => h.Phase = TrainingRunStatus.Running);
            }, ct);
        }

        return ReconcileResult.Done();
    }

    private async Task<ReconcileResult> FailAsync(TrainingRun run, int attempt, V1Job job, V1JobCondition failed, CancellationToken ct)
    {
        string reason, message;
        if (failed.Reason == "DeadlineExceeded")
        {
            reason = DeadlineExceeded;
            message = $"Job {job.Metadata.Name} ran longer than {job.Spec.ActiveDeadlineSeconds}s and was stopped.";
        }
        else
        {
            reason = JobFailed;
            var termination = TrainerTermination.Parse(await TerminationMessageAsync(job, succeeded: false, ct));
            message = termination is { ErrorReason: { } trainerReason }
                ? $"{trainerReason}: {termination.ErrorMessage}"
                : $"Job {job.Metadata.Name} failed ({failed.Reason}): {failed.Message}";
        }

        await transitions.TransitionAsync(run, TrainingRunStatus.Failed, false, reason, message, EventType.Warning, r =>
        {
            var s = r.EnsureStatus();
            s.CompletionTime ??= Now();
            s.Set(JobComplete, false, reason, message, r.Metadata.Generation);
            UpdateHistory(r, h =>
            {
                h.Phase = TrainingRunStatus.Failed;
                h.Reason = reason;
                h.CompletionTime = s.CompletionTime;
            });
        }, ct);
        return NextDatasetCheck(run);
    }

    private async Task<ReconcileResult> CompleteAsync(TrainingRun run, int attempt, V1Job job, CancellationToken ct)
    {
        var termination = TrainerTermination.Parse(await TerminationMessageAsync(job, succeeded: true, ct));
        using var access = await storage.ResolveAsync(run.Metadata.NamespaceProperty, run.Spec.Storage, ct);
        var output = S3Location.Parse(run.Status!.OutputUri ?? TrainingJobBuilder.OutputUri(run, attempt).ToString());
        ModelManifest? manifest = null;
        IReadOnlyDictionary<string, double>? metrics = termination is { IsSuccess: true } ? termination.Metrics : null;
        if (access.Store is { } store)
        {
            try
            {
                manifest = await ReadAsync(store, output.Combine(ModelManifest.FileName), b => ModelManifest.Parse(b), ct);
                // No (or an unreadable) termination message: the trainer's metrics.json says the same.
                metrics ??= (await ReadAsync(store, output.Combine(ModelManifest.MetricsFileName), b => MetricsDocument.Parse(b), ct))?.Metrics;
            }
            catch (ArtifactStoreException e) when (e.IsTransient)
            {
                return await StorageUnavailableAsync(run, run.Status.Phase ?? TrainingRunStatus.Running, $"reading the results under {output}", e, ct);
            }
            catch (ArtifactStoreException e)
            {
                logger.LogWarning("Could not read the results under {Output}: {Error}", output, e.Message);
            }
        }

        if (metrics is null)
        {
            var message = $"Job {job.Metadata.Name} completed but reported no metrics (no termination message, no {output.Combine(ModelManifest.MetricsFileName)}).";
            await FinishAsync(run, TrainingRunStatus.Failed, JobFailed, message, EventType.Warning, _ => { }, ct);
            return NextDatasetCheck(run);
        }

        var task = run.Spec.Trainer?.Task ?? Api.V1Alpha1.MlTask.Regression;
        var gates = QualityGates.Evaluate(run.Spec.Gates, metrics).ToList();
        if (run.Spec.Baseline is { } baseline)
        {
            var (value, source) = await BaselineAsync(run, baseline, ct);
            gates.Add(QualityGates.EvaluateBaseline(baseline, metrics, value, source));
        }

        var modelUri = manifest?.Artifacts.GetValueOrDefault(ModelManifest.ModelFileName)?.Uri ?? output.Combine(ModelManifest.ModelFileName).ToString();
        var modelSha = manifest?.Artifacts.GetValueOrDefault(ModelManifest.ModelFileName)?.Sha256 ?? termination?.ModelSha256;
        var datasetDigest = termination?.DatasetDigest ?? manifest?.Dataset.Digest;
        var headline = QualityGates.Headline(task, metrics);
        var summary = QualityGates.Summary(gates);
        void RecordResults(TrainingRun r)
        {
            var s = r.EnsureStatus();
            s.Metrics = new Dictionary<string, double>(metrics);
            s.Headline = headline;
            s.Gates = gates;
            s.GatesSummary = summary;
            s.ModelUri = modelUri;
            s.ModelSha256 = modelSha;
            s.DatasetDigest = datasetDigest ?? s.DatasetDigest;
            RecordDataset(s, manifest);
            RecordProductionData(r, attempt, manifest);
            s.Set(JobComplete, true, "Completed", $"Job {job.Metadata.Name} completed.", r.Metadata.Generation);
            UpdateHistory(r, h =>
            {
                h.Headline = headline;
                h.DatasetDigest = datasetDigest ?? h.DatasetDigest;
            });
        }

        await ProductionDataEventAsync(run, attempt, manifest, ct);
        var failedGates = gates.Where(g => !g.Passed).ToList();
        if (failedGates.Count > 0)
        {
            var message = "Quality gates failed: " + string.Join("; ", failedGates.Select(g => g.Message));
            await FinishAsync(run, TrainingRunStatus.Failed, GatesFailed, message, EventType.Warning, r =>
            {
                RecordResults(r);
                r.EnsureStatus().Set(GatesPassed, false, GatesFailed, message, r.Metadata.Generation);
            }, ct);
            return NextDatasetCheck(run);
        }

        if (modelSha is null)
        {
            var message = $"Job {job.Metadata.Name} completed but neither its termination message nor manifest.json gives the model's sha256.";
            await FinishAsync(run, TrainingRunStatus.Failed, JobFailed, message, EventType.Warning, RecordResults, ct);
            return NextDatasetCheck(run);
        }

        var image = TrainingJobBuilder.Image(run, await OptionsAsync(run, ct));
        var (version, created) = await registrar.RegisterAsync(run, attempt,
            new Registration(modelUri, modelSha, metrics, datasetDigest, image, manifest), ct);
        var registered = $"Registered ModelVersion {version.Metadata.Name} ({headline ?? "no headline metric"}, gates {summary}).";
        if (created)
        {
            await events.RecordAsync(run, EventType.Normal, Registered, registered, ct);
        }

        await FinishAsync(run, TrainingRunStatus.Succeeded, Registered, registered, null, r =>
        {
            RecordResults(r);
            var s = r.EnsureStatus();
            s.ModelVersion = version.Metadata.Name;
            s.Set(GatesPassed, true, "GatesPassed", $"Quality gates {summary}.", r.Metadata.Generation);
            s.Set(Registered, true, Registered, registered, r.Metadata.Generation);
            UpdateHistory(r, h => h.ModelVersion = version.Metadata.Name);
        }, ct);
        return NextDatasetCheck(run);
    }

    /// <summary>What the trainer made of the dataset (from manifest.json): the schema it used and the rows it dropped.</summary>
    public static void RecordDataset(TrainingRunStatus status, ModelManifest? manifest)
    {
        if (manifest is null)
        {
            return;
        }

        status.Schema = manifest.Schema
            .Select(c => new ColumnSpec { Name = c.Name, Type = ContractEnums.ByName<Api.V1Alpha1.ColumnType>(c.Type), Nullable = c.Nullable, Min = c.Min, Max = c.Max })
            .ToList();
        status.SchemaInferred = manifest.SchemaInferred;
        status.DroppedRows = manifest.Dataset.DroppedRowsByReason.Count > 0 ? new Dictionary<string, int>(manifest.Dataset.DroppedRowsByReason) : null;
    }
    /// <summary>The operator's options with the platform defaults of the run's namespace.</summary>
    private async Task<OperatorOptions> OptionsAsync(TrainingRun run, CancellationToken ct) =>
        (await platform.ForAsync(run.Metadata.NamespaceProperty, ct)).Apply(options);

    private Task FinishAsync(TrainingRun run, string phase, string reason, string message, EventType? eventType,
        Action<TrainingRun> mutate, CancellationToken ct) =>
        transitions.TransitionAsync(run, phase, phase == TrainingRunStatus.Succeeded, reason, message, eventType, r =>
        {
            mutate(r);
            var s = r.EnsureStatus();
            s.CompletionTime ??= Now();
            UpdateHistory(r, h =>
            {
                h.Phase = phase;
                h.Reason = reason;
                h.CompletionTime = s.CompletionTime;
            });
        }, ct);

    /// <summary>With retrainOnDatasetChange, a finished run polls its dataset's digest and starts a new attempt when it changed.</summary>
    private async Task<ReconcileResult> CheckDatasetAsync(TrainingRun run, CancellationToken ct)
    {
        if (run.Spec.RetrainOnDatasetChange != true)
        {
            return ReconcileResult.Done();
        }

        var interval = TrainingSpecValidator.DatasetCheckInterval(run.Spec);
        var due = (run.Status?.LastDatasetCheckTime ?? DateTime.MinValue).ToUniversalTime() + interval;
        var now = Now();
        if (now < due)
        {
            return ReconcileResult.RequeueAfter(due - now);
        }

        using var access = await storage.ResolveAsync(run.Metadata.NamespaceProperty, run.Spec.Storage, ct);
        if (access.Store is not { } store)
        {
            logger.LogWarning("Cannot check the dataset of {Run}: {Problem}", NamespacedName.Of(run), access.Problem);
            return ReconcileResult.RequeueAfter(interval);
        }

        var dataset = S3Location.Parse(run.Spec.Dataset.Uri);
        DatasetObservation? observed = null;
        try
        {
            // HEAD first: only an ETag or size other than the last hashed one costs a download.
            if (await store.HeadAsync(dataset, ct) is { } head)
            {
                observed = await DatasetDigest.ObserveAsync(store, head, run.Status?.Dataset, ct);
            }
        }
        catch (ArtifactNotFoundException)
        {
            // Deleted between HEAD and GET: as if it were missing; the next check looks again.
        }
        catch (ArtifactStoreException e) when (e.IsTransient)
        {
            return await StorageUnavailableAsync(run, run.Status?.Phase ?? TrainingRunStatus.Pending, $"checking dataset {dataset}", e, ct);
        }

        var previous = run.Status?.DatasetDigest;
        var digest = observed?.Digest;
        run = await status.UpdateAsync(run, r =>
        {
            var s = r.EnsureStatus();
            s.LastDatasetCheckTime = Now();
            s.Dataset = observed ?? s.Dataset;
        }, ct);
        if (digest is null || digest == previous)
        {
            return ReconcileResult.RequeueAfter(interval);
        }

        var change = $"Dataset {dataset} changed ({previous ?? "unknown"} → {digest})";
        await events.RecordAsync(run, EventType.Normal, "DatasetChanged", $"{change}; retraining.", ct);
        return await StartAttemptAsync(run, CurrentAttempt(run), new AttemptTrigger(AttemptTrigger.DatasetChangeKind, change), ct);
    }

    /// <summary>
    /// S3 could not be reached: a warning event, and the work queue retries with its per-item backoff; the run neither
    /// fails nor moves on while S3 is away. Before or during an attempt Ready says so (in <paramref name="phase"/>); a
    /// finished attempt of this generation (a dataset check) keeps its phase and Ready, which describe that attempt.
    /// </summary>
    private async Task<ReconcileResult> StorageUnavailableAsync(TrainingRun run, string phase, string activity,
        ArtifactStoreException e, CancellationToken ct)
    {
        var message = $"S3 unavailable while {activity}: {e.Message}; retrying with backoff.";
        if (run.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed
            && CurrentAttempt(run)?.Generation == run.Metadata.Generation)
        {
            await events.RecordAsync(run, EventType.Warning, StorageUnavailable, message, ct);
        }
        else
        {
            await transitions.TransitionAsync(run, phase, false, StorageUnavailable, message, EventType.Warning, ct: ct);
        }

        return ReconcileResult.Retry(message, e);
    }

    private ReconcileResult NextDatasetCheck(TrainingRun run) => run.Spec.RetrainOnDatasetChange == true
        ? ReconcileResult.RequeueAfter(TrainingSpecValidator.DatasetCheckInterval(run.Spec))
        : ReconcileResult.Done();

    private async Task<(double? Value, string Source)> BaselineAsync(TrainingRun run, BaselineGate baseline, CancellationToken ct)
    {
        var @namespace = run.Metadata.NamespaceProperty;
        var deployment = await new ResourceClient<ModelDeployment>(kubernetes).GetAsync(@namespace, baseline.Deployment, ct);
        if (deployment is null)
        {
            return (null, $"Deployment {baseline.Deployment} does not exist");
        }

        if (deployment.Status?.StableVersion is not { Length: > 0 } stable)
        {
            return (null, $"Deployment {baseline.Deployment} serves no stable version yet");
        }

        var version = await new ResourceClient<ModelVersion>(kubernetes).GetAsync(@namespace, stable, ct);
        return version?.Spec.Metrics?.TryGetValue(baseline.Metric, out var value) == true
            ? (value, stable)
            : (null, $"ModelVersion {stable} has no {baseline.Metric}");
    }

    /// <summary>The termination message of the attempt's Pod: the succeeded one, or the last one to fail.</summary>
    private async Task<string?> TerminationMessageAsync(V1Job job, bool succeeded, CancellationToken ct)
    {
        var pods = await kubernetes.CoreV1.ListNamespacedPodAsync(job.Metadata.NamespaceProperty,
            labelSelector: $"job-name={job.Metadata.Name}", cancellationToken: ct);
        return pods.Items
            .Where(p => succeeded ? p.Status?.Phase == "Succeeded" : p.Status?.Phase == "Failed")
            .Select(p => p.Status?.ContainerStatuses?.FirstOrDefault(c => c.Name == TrainingJobBuilder.ContainerName)
                ?? p.Status?.ContainerStatuses?.FirstOrDefault())
            .Select(c => c?.State?.Terminated ?? c?.LastState?.Terminated)
            .Where(t => t is not null)
            .OrderByDescending(t => t!.FinishedAt ?? DateTime.MinValue)
            .Select(t => t!.Message)
            .FirstOrDefault(m => !string.IsNullOrWhiteSpace(m));
    }

    private async Task DeleteJobAsync(string @namespace, string name, CancellationToken ct)
    {
        try
        {
            await kubernetes.BatchV1.DeleteNamespacedJobAsync(name, @namespace, propagationPolicy: "Background", cancellationToken: ct);
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
        }
    }

    private static async Task<T?> ReadAsync<T>(ArtifactStore store, S3Location location, Func<byte[], T> parse, CancellationToken ct)
        where T : class
    {
        try
        {
            return parse(await store.GetBytesAsync(location, ct));
        }
        catch (ArtifactNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or InvalidDataException)
        {
            return null;
        }
    }

    private DateTime Now() => clock.GetUtcNow().UtcDateTime;

    private static AttemptRecord? CurrentAttempt(TrainingRun run) =>
        run.Status is { Attempt: { } attempt, History: { } history } ? history.LastOrDefault(h => h.Attempt == attempt) : null;

    private static void UpdateHistory(TrainingRun run, Action<AttemptRecord> update)
    {
        if (CurrentAttempt(run) is { } record)
        {
            update(record);
        }
    }
}
