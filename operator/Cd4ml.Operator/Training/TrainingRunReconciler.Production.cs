using System.Globalization;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;
using Cd4ml.Training;

namespace Cd4ml.Operator.Training;

/// <summary>Why an attempt started (<see cref="AttemptRecord.Trigger"/>): Spec, DatasetChange or Drift, with what said so.</summary>
public sealed record AttemptTrigger(string Kind, string? Message = null)
{
    public const string SpecKind = "Spec";
    public const string DatasetChangeKind = "DatasetChange";

    public static readonly AttemptTrigger Spec = new(SpecKind);

    /// <summary>Started by the run itself, not by a spec change: counted in cd4ml_retrains_total.</summary>
    public bool IsRetrain => Kind != SpecKind;
}

/// <summary>
/// The loop back from production: retrainOn.drift (a finished run starts a new attempt when the Deployment it watches
/// drifts, within the loop guards of <see cref="RetrainDecision"/>) and dataset.fromFeedback (the attempt's trainer gets
/// the Deployment's prediction-log prefix, and the curated dataset it reports goes into status and lineage). The
/// Deployments are read from the informer cache that the controller's watch keeps synced.
/// </summary>
public sealed partial class TrainingRunReconciler
{
    /// <summary>Condition (True while a loop guard holds a drift-triggered attempt back) and its event.</summary>
    public const string RetrainDeferred = "RetrainDeferred";
    public const string RetrainTriggered = "RetrainTriggered";

    /// <summary>Condition on what the current attempt took from production (dataset.fromFeedback).</summary>
    public const string ProductionData = "ProductionData";
    public const string ProductionLogUnknown = "ProductionLogUnknown";
    public const string DatasetCurated = "DatasetCurated";
    public const string NoProductionData = "NoProductionData";

    /// <summary>
    /// retrainOn.drift for a run whose current attempt has finished: starts an attempt (returned as Started), or records
    /// why a loop guard defers it and when to look again (Recheck), or does nothing.
    /// </summary>
    private async Task<(TrainingRun Run, ReconcileResult? Started, TimeSpan? Recheck)> CheckDriftAsync(TrainingRun run, CancellationToken ct)
    {
        var verdict = run.Spec.RetrainOn?.Drift is { } trigger
            ? RetrainDecision.Decide(trigger, Deployment(run, trigger.Deployment)?.Status?.Find(RetrainDecision.DriftingCondition),
                run.Status?.History ?? [], Now())
            : null;
        if (verdict is { Action: RetrainAction.Start })
        {
            return (run, await StartAttemptAsync(run, CurrentAttempt(run), new AttemptTrigger(RetrainDecision.DriftTrigger, verdict.Message), ct), null);
        }

        if (verdict is { Action: RetrainAction.Defer, NotBefore: { } notBefore, Reason: { } reason })
        {
            if (run.Status?.Find(RetrainDeferred)?.Message != verdict.Message)
            {
                run = await status.UpdateAsync(run, r => r.EnsureStatus().Set(RetrainDeferred, true, reason, verdict.Message, r.Metadata.Generation), ct);
                await events.RecordAsync(run, EventType.Normal, RetrainDeferred, verdict.Message, ct);
            }

            return (run, null, notBefore - Now());
        }

        if (run.Status?.Find(RetrainDeferred) is not null)
        {
            run = await status.UpdateAsync(run, r => r.EnsureStatus().Remove(RetrainDeferred), ct);
        }

        return (run, null, null);
    }

    /// <summary>After a retrain-triggered attempt was recorded: the metric and, for drift, the RetrainTriggered event.</summary>
    private async Task RecordRetrainAsync(TrainingRun run, int attempt, AttemptTrigger trigger, CancellationToken ct)
    {
        metrics.Retrains.WithLabels(run.Metadata.NamespaceProperty, run.Metadata.Name, trigger.Kind).Inc();
        if (trigger.Kind == RetrainDecision.DriftTrigger)
        {
            await events.RecordAsync(run, EventType.Normal, RetrainTriggered, $"Attempt {attempt} retrains: {trigger.Message}", ct);
        }
    }

    /// <summary>
    /// dataset.fromFeedback: the trainer's production source from the Deployment's status.monitoring.logUri. Without it
    /// the attempt trains on the dataset alone, and ProductionData=False says which Deployment field to set.
    /// </summary>
    private async Task<(TrainingRun Run, FeedbackSource? Source)> ProductionSourceAsync(TrainingRun run, int attempt, CancellationToken ct)
    {
        if (run.Spec.Dataset.FromFeedback is not { } fromFeedback)
        {
            return (run, null);
        }

        var deployment = Deployment(run, fromFeedback.Deployment);
        if (deployment?.Status?.Monitoring?.LogUri is { } logUri && S3Location.TryParse(logUri, out var log) && log.IsPrefix)
        {
            return (run, TrainingJobBuilder.FromFeedback(run, logUri));
        }

        var alone = $"attempt {attempt} trains on {run.Spec.Dataset.Uri} alone.";
        var message = deployment is null
            ? $"Deployment {fromFeedback.Deployment} (spec.dataset.fromFeedback.deployment) does not exist; {alone}"
            : $"Deployment {fromFeedback.Deployment} reports no prediction log (status.monitoring.logUri): set spec.monitoring.logSampleRate " +
              $"(and spec.monitoring.logUri unless the platform defaults give one) on Deployment {fromFeedback.Deployment}; {alone}";
        if (run.Status?.Find(ProductionData)?.Message != message)
        {
            run = await status.UpdateAsync(run, r => r.EnsureStatus().Set(ProductionData, false, ProductionLogUnknown, message, r.Metadata.Generation), ct);
            await events.RecordAsync(run, EventType.Warning, ProductionLogUnknown, message, ct);
        }

        return (run, null);
    }

    /// <summary>What the finished attempt took from production (manifest.json), as the ProductionData condition.</summary>
    public static void RecordProductionData(TrainingRun run, int attempt, ModelManifest? manifest)
    {
        if (ProductionDataCondition(attempt, manifest) is { } condition)
        {
            run.EnsureStatus().Set(ProductionData, condition.Status == Condition.True, condition.Reason!, condition.Message!, run.Metadata.Generation);
        }
    }

    private async Task ProductionDataEventAsync(TrainingRun run, int attempt, ModelManifest? manifest, CancellationToken ct)
    {
        if (ProductionDataCondition(attempt, manifest) is { } condition)
        {
            await events.RecordAsync(run, EventType.Normal, condition.Reason!, condition.Message!, ct);
        }
    }

    /// <summary>ProductionData for a finished attempt: True DatasetCurated, or False NoProductionData; null without fromFeedback.</summary>
    public static Condition? ProductionDataCondition(int attempt, ModelManifest? manifest)
    {
        if (manifest?.Production is not { } production)
        {
            return null;
        }

        var window = WindowText(production.WindowSeconds);
        return production.CuratedDatasetUri is { } curated
            ? new Condition
            {
                Type = ProductionData, Status = Condition.True, Reason = DatasetCurated,
                Message = $"Attempt {attempt} trained on {curated} ({production.CuratedDatasetDigest}): the dataset and {production.Rows} " +
                          $"production rows from {production.Objects.Count} log and feedback objects (window {window}).",
            }
            : new Condition
            {
                Type = ProductionData, Status = Condition.False, Reason = NoProductionData,
                Message = $"No logged prediction with feedback in the last {window} under {production.LogUri} " +
                          $"({production.Objects.Count} objects read); attempt {attempt} trained on the dataset alone.",
            };
    }

    /// <summary>A window in the API's duration style: 168h, 90m or 45s.</summary>
    public static string WindowText(long seconds) =>
        seconds % 3600 == 0 ? $"{seconds / 3600}h" : seconds % 60 == 0 ? $"{seconds / 60}m" : string.Create(CultureInfo.InvariantCulture, $"{seconds}s");

    private ModelDeployment? Deployment(TrainingRun run, string name) =>
        informers.Get<ModelDeployment>().Get(new NamespacedName(run.Metadata.NamespaceProperty, name));

    /// <summary>The sooner of the dataset check's requeue and the time a deferred drift retrain may start.</summary>
    private static ReconcileResult Sooner(ReconcileResult result, TimeSpan? recheck) => recheck switch
    {
        null => result,
        { } delay when result.Outcome == ReconcileOutcome.Done
            || (result.Outcome == ReconcileOutcome.RequeueAfter && result.Delay > delay) => ReconcileResult.RequeueAfter(Max(delay, TimeSpan.FromSeconds(1))),
        _ => result,
    };

    private static TimeSpan Max(TimeSpan a, TimeSpan b) => a > b ? a : b;
}
