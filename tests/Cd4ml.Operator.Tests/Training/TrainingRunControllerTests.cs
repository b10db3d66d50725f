using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Registry;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using Cd4ml.Training.Datasets;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>The TrainingRun controller in-process against the real control plane, s3rver and a local kubelet that runs `cd4ml train`.</summary>
[NonParallelizable]
public sealed class TrainingRunControllerTests() : TrainingEnvironmentFixture("training")
{
    private static Condition? Ready(TrainingRun run) => run.Status?.Find(Conditions.Ready);

    private async Task<IReadOnlyList<V1Job>> JobsOfAsync(string run) =>
        (await env.Client.BatchV1.ListNamespacedJobAsync(env.Namespace, labelSelector: $"{TrainingJobBuilder.RunLabel}={run}")).Items.ToList();

    [Test]
    public async Task MissingSecret_SetsCredentialsMissing_AndCreatesNoJob()
    {
        var dataset = await env.UploadRetailAsync("no-secret");
        await env.CreateAsync(env.RetailRun("no-secret", dataset, s => s.Storage!.SecretRef = new SecretReference { Name = "absent" }));

        var run = await env.WaitForRunAsync("no-secret", r => Ready(r)?.Reason == TrainingRunReconciler.CredentialsMissing, "CredentialsMissing");

        Assert.That(Ready(run)!.Status, Is.EqualTo(Condition.False));
        Assert.That(Ready(run)!.Message, Does.Contain("absent"));
        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Pending));
        Assert.That(await JobsOfAsync("no-secret"), Is.Empty);
        await ControlPlane.WaitUntilAsync(async () => (await env.EventsAsync("no-secret")).Any(e => e.Reason == TrainingRunReconciler.CredentialsMissing),
            TimeSpan.FromSeconds(10), "CredentialsMissing event");
    }

    [Test]
    public async Task SecretWithoutKey_SetsCredentialsMissing_NamingTheKey()
    {
        await env.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "half" },
            StringData = new Dictionary<string, string> { [S3Settings.AccessKeyIdVariable] = S3Server.AccessKey },
        }, env.Namespace);
        var dataset = await env.UploadRetailAsync("half-secret");
        await env.CreateAsync(env.RetailRun("half-secret", dataset, s => s.Storage!.SecretRef = new SecretReference { Name = "half" }));

        var run = await env.WaitForRunAsync("half-secret", r => Ready(r)?.Reason == TrainingRunReconciler.CredentialsMissing, "CredentialsMissing");

        Assert.That(Ready(run)!.Message, Does.Contain(S3Settings.SecretAccessKeyVariable));
        Assert.That(await JobsOfAsync("half-secret"), Is.Empty);
    }

    [Test]
    public async Task MissingDataset_SetsDatasetNotFound_AndCreatesNoJob()
    {
        await env.CreateAsync(env.RetailRun("no-data", env.Bucket.Combine("datasets/absent.csv").ToString()));

        var run = await env.WaitForRunAsync("no-data", r => Ready(r)?.Reason == TrainingRunReconciler.DatasetNotFound, "DatasetNotFound");

        Assert.That(Ready(run)!.Message, Does.Contain("absent.csv"));
        Assert.That(await JobsOfAsync("no-data"), Is.Empty);
    }

    [Test]
    public async Task AlgorithmInvalidForTask_SetsInvalidSpec_WithWarningEventNamingTheField()
    {
        var dataset = await env.UploadRetailAsync("bad-algo");
        await env.CreateAsync(env.RetailRun("bad-algo", dataset, s => s.Trainer!.Algorithm = Algorithm.LogisticRegression));

        var run = await env.WaitForRunAsync("bad-algo", r => Ready(r)?.Reason == TrainingRunReconciler.InvalidSpec, "InvalidSpec");

        Assert.That(Ready(run)!.Message, Does.Contain("spec.trainer.algorithm").And.Contain("LogisticRegression"));
        // The event follows the status write.
        await ControlPlane.WaitUntilAsync(async () => (await env.EventsAsync("bad-algo")).Any(e =>
                e.Type == "Warning" && e.Reason == TrainingRunReconciler.InvalidSpec && e.Message.Contains("spec.trainer.algorithm")),
            TimeSpan.FromSeconds(10), "InvalidSpec warning event");
        Assert.That(await JobsOfAsync("bad-algo"), Is.Empty);
    }

    [Test]
    public async Task RetailRun_TrainsForReal_SucceedsWithMetrics_AndRegistersAValidatedModelVersionWithLineage()
    {
        var dataset = await env.UploadRetailAsync("sales");
        await env.CreateAsync(env.RetailRun("sales", dataset, s => s.Gates =
        [
            new QualityGate { Metric = "rmse", Comparison = Comparison.LessThan, Value = 1e6 },
            new QualityGate { Metric = "r2", Comparison = Comparison.GreaterThan, Value = -1e6 },
        ]));

        var run = await env.WaitForRunAsync("sales", r => r.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed,
            "run finished", seconds: 180);

        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Succeeded), Ready(run)?.Message);
        Assert.That(run.Status.Metrics, Does.ContainKey("rmse").And.ContainKey("mae").And.ContainKey("r2"));
        Assert.That(run.Status.Headline, Does.StartWith("rmse="));
        Assert.That(run.Status.GatesSummary, Is.EqualTo("2/2 passed"));
        Assert.That(run.Status.DatasetDigest, Does.StartWith("sha256:"));
        Assert.That(run.Status.ModelVersion, Is.EqualTo("sales-1"));
        Assert.That(run.Status.Find(TrainingRunReconciler.JobComplete)?.Status, Is.EqualTo(Condition.True));
        Assert.That(run.Status.Find(TrainingRunReconciler.GatesPassed)?.Status, Is.EqualTo(Condition.True));
        Assert.That(Ready(run)!.Reason, Is.EqualTo(TrainingRunReconciler.Registered));
        Assert.That(run.Status.History, Has.Count.EqualTo(1));

        var listed = await KubectlProcess.RunAsync(env.Plane, null, "get", "tr", "sales", "-n", env.Namespace);
        Assert.That(listed.Output, Does.Contain("Succeeded").And.Contain(run.Status.Headline).And.Contain("2/2 passed").And.Contain("sales-1"));

        var version = await env.WaitForVersionAsync("sales-1", v => v.Status?.Phase == ModelVersionStatus.Ready, "ModelVersion Ready");
        Assert.Multiple(() =>
        {
            Assert.That(version.Spec.Version, Is.EqualTo(1));
            Assert.That(version.Spec.Approved, Is.False);
            Assert.That(version.Spec.Artifact.Sha256, Is.EqualTo(run.Status.ModelSha256));
            Assert.That(version.Spec.Artifact.Uri, Does.EndWith("/sales/1/model.zip"));
            Assert.That(version.Spec.Metrics!["rmse"], Is.EqualTo(run.Status.Metrics!["rmse"]));
            Assert.That(version.Spec.Lineage!.TrainingRun, Is.EqualTo("sales"));
            Assert.That(version.Spec.Lineage.Attempt, Is.EqualTo(1));
            Assert.That(version.Spec.Lineage.DatasetUri, Is.EqualTo(dataset));
            Assert.That(version.Spec.Lineage.DatasetDigest, Is.EqualTo(run.Status.DatasetDigest));
            Assert.That(version.Spec.Lineage.Algorithm, Is.EqualTo("LightGbm"), "the default algorithm");
            Assert.That(version.Spec.Lineage.Parameters!["numberOfTrees"], Is.EqualTo("20"));
            Assert.That(version.Spec.Lineage.TrainerVersion, Is.Not.Empty);
            Assert.That(version.Spec.Lineage.Image, Is.EqualTo(new OperatorOptions().Image));
            Assert.That(version.Metadata.OwnerReferences, Is.Null.Or.Empty, "a ModelVersion outlives its run");
            Assert.That(version.Status!.Validated, Is.True);
            Assert.That(version.Status.Headline, Is.EqualTo(run.Status.Headline));
        });
    }

    [Test]
    public async Task FailingGate_SetsGatesPassedFalse_NamingTheMetric_AndRegistersNothing()
    {
        var dataset = await env.UploadRetailAsync("strict");
        await env.CreateAsync(env.RetailRun("strict", dataset, s => s.Gates =
            [new QualityGate { Metric = "rmse", Comparison = Comparison.LessThan, Value = 0.001 }]));

        var run = await env.WaitForRunAsync("strict", r => r.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed,
            "run finished", seconds: 180);

        var gates = run.Status!.Find(TrainingRunReconciler.GatesPassed);
        Assert.That(gates?.Status, Is.EqualTo(Condition.False), Ready(run)?.Message);
        Assert.That(gates!.Reason, Is.EqualTo(TrainingRunReconciler.GatesFailed));
        Assert.That(gates.Message, Does.Contain("rmse").And.Contain("0.001"));
        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Failed));
        Assert.That(run.Status.GatesSummary, Is.EqualTo("0/1 passed"));
        Assert.That(run.Status.Metrics, Does.ContainKey("rmse"), "metrics are written back even when gates fail");
        Assert.That(run.Status.ModelVersion, Is.Null);
        Assert.That(await env.VersionsOfAsync("strict"), Is.Empty);
    }

    [Test]
    public async Task SchemaViolation_FailsWithJobFailed_AndTheTrainersMessage()
    {
        var dataset = await env.UploadRetailAsync("schema");
        // holiday is 0/1 in the data; declaring it at most -1 makes every row violate the schema.
        await env.CreateAsync(env.RetailRun("schema", dataset, s => s.Dataset.Columns!.Single(c => c.Name == "holiday").Max = -1));

        var run = await env.WaitForRunAsync("schema", r => r.Status?.Phase == TrainingRunStatus.Failed, "run failed", seconds: 180);

        Assert.That(Ready(run)!.Reason, Is.EqualTo(TrainingRunReconciler.JobFailed));
        Assert.That(Ready(run)!.Message, Does.StartWith("SchemaViolation").And.Contain("holiday"));
        Assert.That(run.Status!.Find(TrainingRunReconciler.JobComplete)?.Status, Is.EqualTo(Condition.False));
        Assert.That(await env.VersionsOfAsync("schema"), Is.Empty);
    }

    [Test]
    public async Task AttemptOverItsDeadline_FailsWithDeadlineExceeded_AndRegistersNothing()
    {
        var dataset = await env.UploadRetailAsync("slow");
        // One second is less than the trainer needs even to start: the Job controller stops it at the deadline.
        await env.CreateAsync(env.RetailRun("slow", dataset, s => s.ActiveDeadlineSeconds = 1));

        var run = await env.WaitForRunAsync("slow", r => r.Status?.Phase == TrainingRunStatus.Failed, "run failed", seconds: 120);

        Assert.That(Ready(run)!.Reason, Is.EqualTo(TrainingRunReconciler.DeadlineExceeded));
        Assert.That(Ready(run)!.Message, Does.Contain("ran longer than 1s"));
        Assert.That(await env.VersionsOfAsync("slow"), Is.Empty);
    }

    [Test]
    public async Task TrainerWithoutTerminationMessage_MetricsAndArtifactComeFromMetricsJsonAndManifest()
    {
        var dataset = await env.UploadRetailAsync("silent");
        await env.CreateAsync(env.RetailRun("silent", dataset, s => s.Trainer!.Image = TrainingEnvironment.SilentTrainerImage));

        var run = await env.WaitForRunAsync("silent", r => r.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed,
            "run finished", seconds: 180);

        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Succeeded), Ready(run)?.Message);
        Assert.That(run.Status.Metrics, Does.ContainKey("rmse"));
        Assert.That(run.Status.ModelSha256, Does.Match("^[a-f0-9]{64}$"));
        var pod = (await env.Client.CoreV1.ListNamespacedPodAsync(env.Namespace, labelSelector: $"job-name={run.Status.JobName}")).Items.Single();
        Assert.That(pod.Status.ContainerStatuses.Single().State.Terminated.Message, Is.Null.Or.Empty,
            "the fallback is what supplied the metrics");
    }

    [Test]
    public async Task SpecChange_StartsAttempt2_WithItsOwnJob()
    {
        var dataset = await env.UploadRetailAsync("respec");
        await env.CreateAsync(env.RetailRun("respec", dataset));
        var first = await env.WaitForRunAsync("respec", r => r.Status?.Phase == TrainingRunStatus.Succeeded, "attempt 1 succeeded", seconds: 180);
        Assert.That(first.Status!.Attempt, Is.EqualTo(1));

        first.Spec.Trainer!.Hyperparameters!["numberOfTrees"] = "10";
        await env.Runs.ReplaceAsync(first);

        var second = await env.WaitForRunAsync("respec", r => r.Status?.Attempt == 2 && r.Status.Phase == TrainingRunStatus.Succeeded,
            "attempt 2 succeeded", seconds: 180);
        Assert.That(second.Status!.JobName, Is.EqualTo("respec-2"));
        Assert.That(second.Status.History!.Select(h => h.Attempt), Is.EqualTo(new[] { 1, 2 }));
        Assert.That(second.Status.History![1].Generation, Is.EqualTo(second.Metadata.Generation));
        Assert.That(second.Status.ModelVersion, Is.EqualTo("respec-2"));
        Assert.That((await JobsOfAsync("respec")).Select(j => j.Metadata.Name), Is.EquivalentTo(new[] { "respec-1", "respec-2" }));
    }

    [Test]
    public async Task DatasetCheck_OnlyHeadsAnUnchangedDataset_AlsoAfterAnOperatorRestart_SurvivesAnS3Outage_AndAChangedOneStartsANewAttempt()
    {
        using var s3 = new S3Proxy(env.S3.Port);
        var dataset = await env.UploadRetailAsync("drift", seed: 1);
        var location = S3Location.Parse(dataset);
        await env.CreateAsync(env.RetailRun("drift", dataset, s =>
        {
            s.Storage!.Endpoint = s3.Url;
            s.RetrainOnDatasetChange = true;
            s.DatasetCheckInterval = "2s";
        }));
        var first = await env.WaitForRunAsync("drift", r => r.Status?.Phase == TrainingRunStatus.Succeeded, "attempt 1 succeeded", seconds: 180);
        Assert.That(first.Status!.Dataset?.Digest, Is.EqualTo(first.Status.DatasetDigest), "the operator hashed what the trainer read");
        Assert.That(first.Status.Dataset!.ETag, Is.Not.Empty);
        Assert.That(first.Status.Dataset.Size, Is.GreaterThan(0));

        // Before the attempt the operator hashed the dataset and the trainer read it: the proxy sees downloads.
        var downloads = s3.Count("GET", location);
        Assert.That(downloads, Is.Positive);
        await WaitForChecksAsync(s3, location, 3);
        Assert.That(s3.Count("GET", location), Is.EqualTo(downloads), "an unchanged ETag and size must not download the dataset");

        await env.RestartOperatorAsync();
        await WaitForChecksAsync(s3, location, 2);
        Assert.That(s3.Count("GET", location), Is.EqualTo(downloads), "status.dataset survives a restart of the operator");
        Assert.That(s3.UnparsedConnections, Is.Zero, "every request through the proxy was counted");
        Assert.That((await env.Runs.GetAsync(env.Namespace, "drift"))!.Status!.Attempt, Is.EqualTo(1), "unchanged data must not retrain");

        // S3 away during a check: a warning event; the finished attempt's phase and Ready stand.
        s3.Stop();
        await ControlPlane.WaitUntilAsync(async () => (await env.EventsAsync("drift")).Any(e =>
                e.Type == "Warning" && e.Reason == TrainingRunReconciler.StorageUnavailable && e.Message.Contains("Connection refused")),
            TimeSpan.FromSeconds(30), "StorageUnavailable warning event");
        var during = (await env.Runs.GetAsync(env.Namespace, "drift"))!;
        Assert.That(during.Status!.Phase, Is.EqualTo(TrainingRunStatus.Succeeded));
        Assert.That(Ready(during)!.Reason, Is.EqualTo(TrainingRunReconciler.Registered));
        s3.Start();

        await env.UploadRetailAsync("drift", seed: 2);
        var second = await env.WaitForRunAsync("drift", r => r.Status?.Attempt == 2 && r.Status.Phase == TrainingRunStatus.Succeeded,
            "attempt 2 succeeded", seconds: 180);
        Assert.That(second.Status!.DatasetDigest, Is.Not.EqualTo(first.Status!.DatasetDigest));
        Assert.That(second.Status.History![1].DatasetDigest, Is.EqualTo(second.Status.DatasetDigest));
        Assert.That(second.Status.Dataset!.Digest, Is.EqualTo(second.Status.DatasetDigest));
        Assert.That(second.Status.Dataset.ETag, Is.Not.EqualTo(first.Status.Dataset.ETag));
        Assert.That(s3.Count("GET", location), Is.GreaterThan(downloads));
        Assert.That((await env.EventsAsync("drift")).Select(e => e.Reason), Does.Contain("DatasetChanged"));
    }

    /// <summary>Waits until the operator has looked at the dataset <paramref name="checks"/> more times (one HEAD each).</summary>
    private static async Task WaitForChecksAsync(S3Proxy s3, S3Location dataset, int checks)
    {
        var heads = s3.Count("HEAD", dataset) + checks;
        await ControlPlane.WaitUntilAsync(() => Task.FromResult(s3.Count("HEAD", dataset) >= heads), TimeSpan.FromSeconds(60),
            $"{checks} more dataset checks");
    }

    [Test]
    public async Task S3Unreachable_BeforeTheAttempt_SetsStorageUnavailable_KeepsRetrying_AndTrainsOnceItIsBack()
    {
        using var s3 = new S3Proxy(env.S3.Port);
        s3.Stop();
        var dataset = await env.UploadRetailAsync("outage");
        await env.CreateAsync(env.RetailRun("outage", dataset, s => s.Storage!.Endpoint = s3.Url));

        var waiting = await env.WaitForRunAsync("outage", r => Ready(r)?.Reason == TrainingRunReconciler.StorageUnavailable,
            "StorageUnavailable", seconds: 60);
        Assert.That(waiting.Status!.Phase, Is.EqualTo(TrainingRunStatus.Pending));
        Assert.That(Ready(waiting)!.Status, Is.EqualTo(Condition.False));
        Assert.That(Ready(waiting)!.Message, Does.Contain(dataset).And.Contain("Connection refused").And.Contain("retrying"));
        await ControlPlane.WaitUntilAsync(async () => (await env.EventsAsync("outage")).Any(e =>
                e.Type == "Warning" && e.Reason == TrainingRunReconciler.StorageUnavailable && e.Message.Contains("Connection refused")),
            TimeSpan.FromSeconds(10), "StorageUnavailable warning event");

        // S3 stays away for a while: the run waits, it does not fail and starts no attempt.
        await Task.Delay(TimeSpan.FromSeconds(5));
        var still = (await env.Runs.GetAsync(env.Namespace, "outage"))!;
        Assert.That(still.Status!.Phase, Is.EqualTo(TrainingRunStatus.Pending));
        Assert.That(Ready(still)!.Reason, Is.EqualTo(TrainingRunReconciler.StorageUnavailable));
        Assert.That(still.Status.Attempt, Is.Null);
        Assert.That(await JobsOfAsync("outage"), Is.Empty);

        s3.Start();
        var run = await env.WaitForRunAsync("outage", r => r.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed,
            "run finished after S3 came back", seconds: 180);
        Assert.That(run.Status!.Phase, Is.EqualTo(TrainingRunStatus.Succeeded), Ready(run)?.Message);
        Assert.That(Ready(run)!.Reason, Is.EqualTo(TrainingRunReconciler.Registered));
        Assert.That(run.Status.Attempt, Is.EqualTo(1), "the outage cost no attempt");
        Assert.That(run.Status.ModelVersion, Is.EqualTo("outage-1"));
        var reasons = (await env.EventsAsync("outage")).OrderBy(e => e.FirstTimestamp).Select(e => e.Reason).ToList();
        Assert.That(reasons.IndexOf("AttemptStarted"), Is.GreaterThan(reasons.IndexOf(TrainingRunReconciler.StorageUnavailable)));
    }

    [Test]
    public async Task BaselineRatchet_AgainstWhatADeploymentServes_FailsNamingValueBaselineAndThreshold_OrRegistersWhenNotWorse()
    {
        // Two versions of a served model, one better than any real training and one worse, each served by a cd4ml Deployment.
        var storage = new S3StorageSpec
        {
            SecretRef = new SecretReference { Name = TrainingEnvironment.SecretName },
            Endpoint = env.S3.Settings.ServiceUrl,
            ForcePathStyle = true,
        };
        foreach (var (number, rmse) in new[] { (1, 0.001), (2, 1e6) })
        {
            var content = System.Text.Encoding.UTF8.GetBytes($"served model {number}");
            var artifact = env.Bucket.Combine($"served/{number}/model.zip");
            await env.S3.Store.PutBytesAsync(artifact, content);
            await env.Versions.CreateAsync(new ModelVersion
            {
                Metadata = new V1ObjectMeta { Name = $"served-{number}", NamespaceProperty = env.Namespace },
                Spec = new ModelVersionSpec
                {
                    ModelName = "served", Version = number, Task = MlTask.Regression, Approved = true, Storage = storage,
                    Artifact = new ArtifactSpec { Uri = artifact.ToString(), Sha256 = ContentDigest.Sha256Hex(content) },
                    Metrics = new Dictionary<string, double> { ["rmse"] = rmse, ["r2"] = 0.5 },
                },
            });
        }

        var deployments = new ResourceClient<ModelDeployment>(env.Client);
        foreach (var (name, version) in new[] { ("strict-api", 1), ("loose-api", 2) })
        {
            await deployments.CreateAsync(new ModelDeployment
            {
                Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = env.Namespace },
                Spec = new ModelDeploymentSpec { ModelName = "served", Version = version, Replicas = 0, Storage = storage },
            });
            // The ratchet reads status.stableVersion, as the Deployment controller (running here too) records it.
            await ControlPlane.WaitUntilAsync(async () => (await deployments.GetAsync(env.Namespace, name))?.Status?.StableVersion == $"served-{version}",
                TimeSpan.FromSeconds(60), $"{name} serving served-{version}");
        }

        var dataset = await env.UploadRetailAsync("ratchet");
        foreach (var (run, deployment) in new[] { ("ratchet-strict", "strict-api"), ("ratchet-loose", "loose-api") })
        {
            await env.CreateAsync(env.RetailRun(run, dataset, s =>
                s.Baseline = new BaselineGate { Deployment = deployment, Metric = "rmse", Tolerance = 0.05 }));
        }

        bool Finished(TrainingRun r) => r.Status?.Phase is TrainingRunStatus.Succeeded or TrainingRunStatus.Failed;
        var strict = await env.WaitForRunAsync("ratchet-strict", Finished, "strict run finished", seconds: 180);
        var loose = await env.WaitForRunAsync("ratchet-loose", Finished, "loose run finished", seconds: 180);

        var value = strict.Status!.Metrics!["rmse"];
        Assert.That(value, Is.GreaterThan(0.00105), "the trained model is worse than the strict baseline");
        var gates = strict.Status.Find(TrainingRunReconciler.GatesPassed);
        Assert.That(gates?.Status, Is.EqualTo(Condition.False), Ready(strict)?.Message);
        Assert.That(gates!.Reason, Is.EqualTo(TrainingRunReconciler.GatesFailed));
        Assert.That(gates.Message, Does.Contain($"rmse = {QualityGates.Format(value)} fails <= 0.00105")
            .And.Contain("baseline served-1 = 0.001").And.Contain("tolerance 5%"));
        Assert.That(strict.Status.Phase, Is.EqualTo(TrainingRunStatus.Failed));
        Assert.That(strict.Status.GatesSummary, Is.EqualTo("0/1 passed"));
        var gate = strict.Status.Gates!.Single();
        Assert.That((gate.Metric, gate.Value, gate.Passed), Is.EqualTo(("rmse", (double?)value, false)));
        Assert.That(gate.Threshold, Is.EqualTo(0.00105).Within(1e-12), "the baseline plus 5%");
        Assert.That(strict.Status.ModelVersion, Is.Null);
        Assert.That(await env.VersionsOfAsync("ratchet-strict"), Is.Empty);

        Assert.That(loose.Status!.Phase, Is.EqualTo(TrainingRunStatus.Succeeded), Ready(loose)?.Message);
        Assert.That(loose.Status.Find(TrainingRunReconciler.GatesPassed)?.Status, Is.EqualTo(Condition.True));
        Assert.That(loose.Status.Gates!.Single().Message, Does.Contain("meets").And.Contain("baseline served-2 = 1E+06"));
        Assert.That(loose.Status.ModelVersion, Is.EqualTo("ratchet-loose-1"));
        Assert.That((await env.VersionsOfAsync("ratchet-loose")).Select(v => v.Metadata.Name), Is.EqualTo(new[] { "ratchet-loose-1" }));
    }
}
