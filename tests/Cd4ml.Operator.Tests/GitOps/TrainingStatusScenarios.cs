using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Registry;
using Cd4ml.Operator.Tests.Training;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Entities;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>
/// TrainingRuns and the ModelVersions they register, driven by the real controllers (and real training under the local
/// kubelet) into each phase Argo CD must tell apart; each state is the status document the health scripts are tested
/// on (written to config/argocd/testdata by `make golden`).
/// </summary>
[NonParallelizable]
public sealed class TrainingStatusScenarios
{
    private TrainingEnvironment env = null!;

    [OneTimeSetUp]
    public async Task Start()
    {
        env = await TrainingEnvironment.StartAsync("golden", withKubelet: true);
        // The three that train start together: on two cores they finish sooner than one after another.
        var dataset = await env.UploadRetailAsync("golden");
        // Synced by Argo CD: what the run creates must not look synced too.
        var sales = env.RetailRun("sales", dataset, s => s.Gates =
            [new QualityGate { Metric = "rmse", Comparison = Comparison.LessThan, Value = 1e6 }]);
        ArgoCdTracking.Mark(sales.Metadata, TrainingRun.KindName);
        await env.CreateAsync(sales);
        await env.CreateAsync(env.RetailRun("strict", dataset, s => s.Gates =
            [new QualityGate { Metric = "rmse", Comparison = Comparison.LessThan, Value = 0.001 }]));
        await env.CreateAsync(env.RetailRun("schema", dataset, s => s.Dataset.Columns!.Single(c => c.Name == "holiday").Max = -1));
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        if (env is not null)
        {
            await env.DisposeAsync();
        }
    }

    private static Condition Ready(ResourceStatus? status) => status!.Find(Conditions.Ready)!;

    private static bool Finished(TrainingRun r) =>
        r.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed && r.Status.ObservedGeneration == r.Metadata.Generation;

    [Test]
    public async Task Succeeded_RegistersAVersion_ThatWaitsForApproval_UntilSpecApprovedIsSet()
    {
        var run = await env.WaitForRunAsync("sales", Finished, "run finished", seconds: 240);
        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Succeeded), Ready(run.Status).Message);
        await StatusGolden.WriteAsync("trainingrun-succeeded", run);

        var version = await env.WaitForVersionAsync("sales-1", v => v.Status?.Phase == ModelVersionStatus.Ready, "sales-1 validated");
        Assert.That(version.Spec.Approved, Is.False);
        await StatusGolden.WriteAsync("modelversion-awaiting-approval", version);

        await env.Versions.PatchAsync(env.Namespace, "sales-1", new V1Patch("{\"spec\":{\"approved\":true}}", V1Patch.PatchType.MergePatch));
        version = await env.WaitForVersionAsync("sales-1", v => v.Spec.Approved == true && v.Status?.ObservedGeneration == v.Metadata.Generation,
            "approval observed");
        Assert.That(version.Status!.Phase, Is.EqualTo(ModelVersionStatus.Ready));
        await StatusGolden.WriteAsync("modelversion-approved", version);
    }

    [Test]
    public async Task JobAndModelVersion_CarryNoArgoCdTrackingFromTheRun_TheJobIsOwnedAndTheVersionIsNot()
    {
        var run = await env.WaitForRunAsync("sales", Finished, "run finished", seconds: 240);
        var job = await env.Client.BatchV1.ReadNamespacedJobAsync(run.Status!.JobName, env.Namespace);
        ArgoCdTracking.AssertUntracked(job, job.Spec.Template.Metadata);
        Assert.That(job.Metadata.OwnerReferences.Single().Uid, Is.EqualTo(run.Metadata.Uid), "Argo CD shows it under its run");

        var version = await env.WaitForVersionAsync("sales-1", v => v.Status?.Phase == ModelVersionStatus.Ready, "sales-1 validated");
        ArgoCdTracking.AssertUntracked(version);
        Assert.That(version.Metadata.OwnerReferences, Is.Null.Or.Empty, "outlives its run: the AppProject ignores it as an orphan");
    }

    [Test]
    public async Task FailingGate_Fails_NamingMetricValueAndThreshold()
    {
        var run = await env.WaitForRunAsync("strict", Finished, "run finished", seconds: 240);
        Assert.That((run.Status!.Phase, Ready(run.Status).Reason), Is.EqualTo((TrainingRunStatus.Failed, TrainingRunReconciler.GatesFailed)));
        Assert.That(Ready(run.Status).Message, Does.Contain("rmse").And.Contain("0.001"));
        await StatusGolden.WriteAsync("trainingrun-gates-failed", run);
    }

    [Test]
    public async Task TrainerFailure_Fails_WithTheTrainersReason()
    {
        var run = await env.WaitForRunAsync("schema", Finished, "run finished", seconds: 240);
        Assert.That((run.Status!.Phase, Ready(run.Status).Reason), Is.EqualTo((TrainingRunStatus.Failed, TrainingRunReconciler.JobFailed)));
        Assert.That(Ready(run.Status).Message, Does.StartWith("SchemaViolation"));
        await StatusGolden.WriteAsync("trainingrun-job-failed", run);
    }

    [Test]
    public async Task InvalidSpec_Fails_NamingTheField()
    {
        var dataset = await env.UploadRetailAsync("invalid");
        await env.CreateAsync(env.RetailRun("invalid", dataset, s => s.Trainer!.Algorithm = Algorithm.LogisticRegression));
        var run = await env.WaitForRunAsync("invalid", r => r.Status?.Phase == TrainingRunStatus.Failed, "InvalidSpec");
        Assert.That(Ready(run.Status).Reason, Is.EqualTo(TrainingRunReconciler.InvalidSpec));
        await StatusGolden.WriteAsync("trainingrun-invalid-spec", run);
    }

    [Test]
    public async Task MissingDataset_StaysPending_SayingWhich()
    {
        await env.CreateAsync(env.RetailRun("no-data", env.Bucket.Combine("datasets/absent.csv").ToString()));
        var run = await env.WaitForRunAsync("no-data", r => r.Status is { } s && s.Find(Conditions.Ready)?.Reason == TrainingRunReconciler.DatasetNotFound,
            "DatasetNotFound");
        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Pending));
        await StatusGolden.WriteAsync("trainingrun-pending-dataset", run);
    }

    [Test]
    public async Task UnschedulableTrainer_IsRunning_WhileItsJobIsActive()
    {
        var dataset = await env.UploadRetailAsync("waiting");
        // No node has this name: the Job's Pod stays Pending, the Job active, the run Running.
        await env.CreateAsync(env.RetailRun("waiting", dataset, s => s.NodeSelector = new Dictionary<string, string>
            { ["kubernetes.io/hostname"] = "no-such-node" }));
        var run = await env.WaitForRunAsync("waiting", r => r.Status?.Phase == TrainingRunStatus.Running, "Running");
        await StatusGolden.WriteAsync("trainingrun-running", run);
    }

    [Test]
    public async Task MissingCredentials_KeepAModelVersionPending()
    {
        var storage = env.RetailRun("x", "s3://x/y.csv").Spec.Storage!;
        storage.SecretRef = new SecretReference { Name = "absent" };
        await env.Versions.CreateAsync(new ModelVersion
        {
            Metadata = new V1ObjectMeta { Name = "locked-1", NamespaceProperty = env.Namespace },
            Spec = new ModelVersionSpec
            {
                ModelName = "locked", Version = 1, Storage = storage,
                Artifact = new ArtifactSpec { Uri = env.Bucket.Combine("locked/model.zip").ToString(), Sha256 = new string('b', 64) },
            },
        });
        var version = await env.WaitForVersionAsync("locked-1", v => v.Status?.Find(Conditions.Ready)?.Reason == ModelVersionReconciler.CredentialsMissing,
            "CredentialsMissing");
        Assert.That(version.Status!.Phase, Is.EqualTo(ModelVersionStatus.Pending));
        await StatusGolden.WriteAsync("modelversion-pending-credentials", version);
    }

    [Test]
    public async Task MissingArtifact_MakesAModelVersionInvalid()
    {
        await env.Versions.CreateAsync(new ModelVersion
        {
            Metadata = new V1ObjectMeta { Name = "lost-1", NamespaceProperty = env.Namespace },
            Spec = new ModelVersionSpec
            {
                ModelName = "lost", Version = 1,
                Artifact = new ArtifactSpec { Uri = env.Bucket.Combine("nowhere/model.zip").ToString(), Sha256 = new string('a', 64) },
                Storage = env.RetailRun("x", "s3://x/y.csv").Spec.Storage,
            },
        });
        var version = await env.WaitForVersionAsync("lost-1", v => v.Status?.Phase == ModelVersionStatus.Invalid, "Invalid");
        Assert.That(Ready(version.Status).Reason, Is.EqualTo(ModelVersionReconciler.ArtifactNotFound));
        await StatusGolden.WriteAsync("modelversion-artifact-missing", version);
    }
}
