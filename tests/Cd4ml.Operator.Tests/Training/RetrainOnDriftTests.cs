using System.Globalization;
using System.Text;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Status;
using Cd4ml.Testing;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>
/// From production back to training, the TrainingRun side: a Deployment's status (written here through the status
/// subresource, as the Deployment controller would) turns Drifting, and a run with retrainOn.drift and
/// dataset.fromFeedback retrains for real on the dataset plus the logged predictions joined with their feedback.
/// </summary>
[NonParallelizable]
public sealed class RetrainOnDriftTests() : TrainingEnvironmentFixture("retrain")
{
    [Test]
    public async Task DeploymentDrifting_RetrainsOnCuratedProductionData_WithLineage_AndMaxPerDayDefersTheNextDrift()
    {
        var deployments = new ResourceClient<ModelDeployment>(env.Client);
        var deploymentStatus = new StatusWriter<ModelDeployment>(env.Client);
        var logUri = env.Bucket.Combine("logs/drift-api/");
        var deployment = await deployments.CreateAsync(new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "drift-api", NamespaceProperty = env.Namespace },
            Spec = new ModelDeploymentSpec
            {
                ModelName = "drifty", Replicas = 0, Storage = env.Storage,
                Monitoring = new MonitoringSpec { LogSampleRate = 1, LogUri = logUri.ToString() },
            },
        });
        deployment = await deploymentStatus.UpdateAsync(deployment, d =>
            d.EnsureStatus().Monitoring = new MonitoringStatus { LogUri = logUri.ToString(), LogSampleRate = 1 });
        var objects = await LogProductionAsync(logUri, "drifty", rows: 50);

        var dataset = await env.UploadRetailAsync("drifty");
        await env.CreateAsync(env.RetailRun("drifty", dataset, s =>
        {
            s.RetrainOn = new RetrainOnSpec { Drift = new DriftTrigger { Deployment = "drift-api", MinInterval = "1s", MaxPerDay = 1 } };
            s.Dataset.FromFeedback = new FromFeedbackSpec { Deployment = "drift-api", Window = "24h" };
        }));
        var first = await env.WaitForRunAsync("drifty", r => r.Status?.Phase == TrainingRunStatus.Succeeded, "attempt 1 succeeded", seconds: 240);
        Assert.That(first.Status!.History!.Single().Trigger, Is.EqualTo(AttemptTrigger.SpecKind));

        const string drift = "feature store_nbr PSI 0.41 > 0.2";
        await deploymentStatus.UpdateAsync(deployment, d => d.EnsureStatus().Set(RetrainDecision.DriftingCondition, true, "FeatureDrift", drift, d.Metadata.Generation));
        var second = await env.WaitForRunAsync("drifty", r => r.Status is { Attempt: 2, Phase: TrainingRunStatus.Succeeded }, "attempt 2 succeeded", seconds: 240);

        var attempt = second.Status!.History!.Last();
        Assert.That((attempt.Attempt, attempt.Trigger), Is.EqualTo((2, RetrainDecision.DriftTrigger)));
        Assert.That(attempt.TriggerMessage, Is.EqualTo($"Deployment drift-api is drifting: {drift}"));
        var production = second.Status.Find(TrainingRunReconciler.ProductionData);
        Assert.That((production?.Status, production?.Reason), Is.EqualTo((Condition.True, TrainingRunReconciler.DatasetCurated)), production?.Message);
        Assert.That(second.Status.Metrics![ModelTrainer.ProductionRowsMetric], Is.EqualTo(50));
        var events = (await env.EventsAsync("drifty")).Select(e => e.Reason).ToList();
        Assert.That(events, Does.Contain(TrainingRunReconciler.RetrainTriggered).And.Contain(TrainingRunReconciler.DatasetCurated));

        var version = await env.WaitForVersionAsync(second.Status.ModelVersion!, v => v.Spec.Lineage is not null, "the drift-triggered version");
        var lineage = version.Spec.Lineage!.Production!;
        Assert.That((lineage.Deployment, lineage.Rows, lineage.Window, lineage.Sources), Is.EqualTo(("drift-api", (long?)50, "24h", (int?)2)));
        Assert.That(lineage.Objects, Is.EqualTo(objects));
        var curated = S3Location.Parse(lineage.CuratedDatasetUri!);
        Assert.That(curated, Is.EqualTo(S3Location.Parse(second.Status.OutputUri!).Combine(FeedbackCuration.CuratedFileName)));
        var curatedRows = CsvTable.Parse(await env.S3.Store.GetBytesAsync(curated)).Rows.Count;
        Assert.That(curatedRows, Is.EqualTo(CsvTable.Parse(await env.S3.Store.GetBytesAsync(S3Location.Parse(dataset))).Rows.Count + 50));
        Assert.That(version.Spec.Lineage.DatasetUri, Is.EqualTo(dataset), "the base dataset stays the dataset of record");

        // The drift clears and comes back the same day: maxPerDay holds the next attempt back and says until when.
        deployment = (await deployments.GetAsync(env.Namespace, "drift-api"))!;
        deployment = await deploymentStatus.UpdateAsync(deployment, d => d.EnsureStatus().Set(RetrainDecision.DriftingCondition, false, "NoDrift", "Every feature within 0.2.", d.Metadata.Generation));
        await deploymentStatus.UpdateAsync(deployment, d => d.EnsureStatus().Set(RetrainDecision.DriftingCondition, true, "FeatureDrift", drift, d.Metadata.Generation));
        var deferred = await env.WaitForRunAsync("drifty", r => r.Status?.Find(TrainingRunReconciler.RetrainDeferred) is not null, "RetrainDeferred");
        var condition = deferred.Status!.Find(TrainingRunReconciler.RetrainDeferred)!;
        var allowed = attempt.StartTime!.Value.ToUniversalTime().AddHours(24);
        Assert.That((condition.Status, condition.Reason), Is.EqualTo((Condition.True, RetrainDecision.MaxPerDayReason)));
        Assert.That(condition.Message, Does.Contain($"next attempt allowed at {allowed.ToString("yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture)}Z")
            .And.Contain("1 drift-triggered attempts in the last 24h (retrainOn.drift.maxPerDay 1)"));
        Assert.That(deferred.Status!.Attempt, Is.EqualTo(2));
        Assert.That((await env.EventsAsync("drifty")).Select(e => e.Reason), Does.Contain(TrainingRunReconciler.RetrainDeferred));
    }

    /// <summary>Writes a prediction-log object (retail features, as the model server logs them) and its feedback; returns both URIs.</summary>
    private async Task<IReadOnlyList<string>> LogProductionAsync(S3Location logUri, string model, int rows)
    {
        var live = CsvTable.Parse(RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = rows * 2, Seed = 7 }));
        var label = live.IndexOf(RetailDatasetGenerator.LabelColumn);
        var features = RetailDatasetGenerator.Columns.Where(c => c != RetailDatasetGenerator.LabelColumn).ToList();
        var now = DateTime.UtcNow;
        var time = now.ToString("yyyy-MM-ddTHH:mm:ss.fffZ", CultureInfo.InvariantCulture);
        var predictions = new StringBuilder(string.Join(",", features) + ",prediction,score,predictionId,model,version,track,deployment,time\n");
        var feedback = new StringBuilder("predictionId,label,time\n");
        foreach (var (row, i) in live.Rows.Where(r => !r[label]!.StartsWith('-')).Take(rows).Select((r, i) => (r, i)))
        {
            CsvTable.AppendRecord(predictions, [.. features.Select(f => row[live.IndexOf(f)]), "1", "1", $"p-{i}", model, $"{model}-0", "stable", "drift-api", time]);
            CsvTable.AppendRecord(feedback, [$"p-{i}", row[label], time]);
        }

        var partition = $"model={model}/version={model}-0/date={now:yyyy-MM-dd}/hour={now:HH}/pod-a-000001.csv";
        var predictionObject = logUri.Combine($"{FeedbackCuration.PredictionsFolder}/{partition}");
        var feedbackObject = logUri.Combine($"{FeedbackCuration.FeedbackFolder}/{partition}");
        await env.S3.Store.PutBytesAsync(predictionObject, Encoding.UTF8.GetBytes(predictions.ToString()));
        await env.S3.Store.PutBytesAsync(feedbackObject, Encoding.UTF8.GetBytes(feedback.ToString()));
        return [predictionObject.ToString(), feedbackObject.ToString()];
    }
}
