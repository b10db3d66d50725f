using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Dashboard;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// The Deployment controller against a real control plane; Pods are made ready at the API boundary. The plane is
/// private and has no scheduler, so no local kubelet of another test can pick these Pods up and run them.
/// </summary>
[Parallelizable(ParallelScope.Children)]
public sealed class ModelDeploymentControllerTests
{
    private ControlPlane plane = null!;

    [OneTimeSetUp]
    public async Task StartControlPlane()
    {
        plane = await ControlPlane.StartAsync(new ControlPlaneOptions { Scheduler = false });
        await RolloutHarness.InstallCrdsAsync(plane);
    }

    [OneTimeTearDown]
    public async Task StopControlPlane() => await plane.DisposeAsync();

    private static ModelDeploymentSpec Spec(string model, int replicas, params CanaryStep[] steps) => new()
    {
        ModelName = model,
        Replicas = replicas,
        Strategy = steps.Length == 0 ? null : new RolloutStrategy { Canary = new CanaryStrategy { Steps = [.. steps] } },
    };

    [Test]
    public async Task FirstVersion_GoesStraightToStable_WithDeploymentAndServiceOwnedByTheDeployment()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        var v1 = await harness.CreateVersionAsync("sales", 1);
        var owner = await harness.CreateDeploymentAsync("sales", Spec("sales", 3));

        var md = await harness.WaitForAsync("sales", d => d.Status?.StableVersion == v1.Metadata.Name, "stable version set");
        Assert.That(md.Status!.CanaryVersion, Is.Null);
        Assert.That(md.Status.Phase, Is.EqualTo(ModelDeploymentStatus.Progressing), "pods are not ready yet");
        Assert.That(md.Status.History?.Single().Outcome, Is.EqualTo("Deployed"));

        var stable = (await harness.TrackAsync("sales", "stable"))!;
        Assert.That(stable.Spec.Replicas, Is.EqualTo(3));
        var reference = stable.Metadata.OwnerReferences.Single();
        Assert.That((reference.Kind, reference.Uid, reference.Controller), Is.EqualTo(("Deployment", owner.Metadata.Uid, (bool?)true)));
        Assert.That(reference.ApiVersion, Is.EqualTo("cd4ml.io/v1alpha1"));
        var template = stable.Spec.Template;
        Assert.That(template.Metadata.Labels["cd4ml.io/deployment"], Is.EqualTo("sales"));
        Assert.That(template.Metadata.Labels["cd4ml.io/track"], Is.EqualTo("stable"));
        Assert.That(template.Metadata.Labels["cd4ml.io/model-version"], Is.EqualTo("sales-v1"));
        Assert.That(template.Metadata.Annotations["prometheus.io/scrape"], Is.EqualTo("true"));
        Assert.That(template.Metadata.Annotations["prometheus.io/port"], Is.EqualTo("8080"));
        var container = template.Spec.Containers.Single();
        Assert.That(container.Image, Is.EqualTo("ghcr.io/cd4ml/cd4ml:test"));
        Assert.That(container.Args, Is.EqualTo(new[] { "serve" }));
        Assert.That(container.ReadinessProbe.HttpGet.Path, Is.EqualTo("/readyz"));
        var env = container.Env.ToDictionary(e => e.Name);
        Assert.That(env["CD4ML_MODEL_URI"].Value, Is.EqualTo(v1.Spec.Artifact.Uri));
        Assert.That(env["CD4ML_MODEL_SHA256"].Value, Is.EqualTo(v1.Spec.Artifact.Sha256));
        Assert.That(env["CD4ML_MODEL_NAME"].Value, Is.EqualTo("sales"));
        Assert.That(env["CD4ML_MODEL_VERSION"].Value, Is.EqualTo("sales-v1"));
        Assert.That(env["CD4ML_TRACK"].Value, Is.EqualTo("stable"));
        Assert.That(env["CD4ML_PORT"].Value, Is.EqualTo("8080"));
        Assert.That(env["CD4ML_LISTEN_HOST"].ValueFrom.FieldRef.FieldPath, Is.EqualTo("status.podIP"));

        var service = await harness.Client.CoreV1.ReadNamespacedServiceAsync("sales", harness.Namespace);
        Assert.That(service.Spec.Selector, Is.EqualTo(new Dictionary<string, string> { ["cd4ml.io/deployment"] = "sales" }));
        Assert.That(service.Metadata.OwnerReferences.Single().Uid, Is.EqualTo(owner.Metadata.Uid));
        Assert.That(await harness.TrackAsync("sales", "canary"), Is.Null);
    }

    [Test]
    public async Task OperatorHost_RunsTheController_WhichSeesNewModelVersionsThroughTheSharedCache()
    {
        // The host runs the ModelVersion controller too, so the versions are real artifacts it validates in S3 (a
        // hand-written Ready status would race with its own validation).
        await using var harness = await RolloutHarness.StartOperatorHostAsync(plane);
        var s3 = await S3Server.SharedAsync();
        var bucket = await s3.CreateUniqueBucketAsync("host");
        await harness.Client.CoreV1.CreateNamespacedSecretAsync(new V1Secret
        {
            Metadata = new V1ObjectMeta { Name = "s3" },
            StringData = new Dictionary<string, string>
            {
                [S3Settings.AccessKeyIdVariable] = S3Server.AccessKey,
                [S3Settings.SecretAccessKeyVariable] = S3Server.SecretKey,
            },
        }, harness.Namespace);

        async Task RegisterAsync(int version)
        {
            var content = System.Text.Encoding.UTF8.GetBytes($"model {version}");
            var artifact = bucket.Combine($"sales/{version}/model.zip");
            await s3.Store.PutBytesAsync(artifact, content);
            await harness.CreateVersionAsync("sales", version, ready: false, uri: artifact.ToString(), sha256: ContentDigest.Sha256Hex(content),
                storage: new S3StorageSpec { Endpoint = s3.Settings.ServiceUrl, ForcePathStyle = true, SecretRef = new SecretReference { Name = "s3" } });
        }

        await RegisterAsync(1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", 2));
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "v1 validated and stable");
        await harness.WaitForTrackAsync("sales", "stable", d => d?.Spec.Replicas == 2, "stable Deployment");

        await RegisterAsync(2);
        await harness.WaitForAsync("sales", d => d.Status?.CanaryVersion == "sales-v2", "canary v2");
        await harness.WaitForTrackAsync("sales", "canary", d => d?.Spec.Replicas == 1, "canary Deployment");
    }

    [Test]
    public async Task Reconcile_OfACachedCopyOlderThanItsOwnStatusWrite_ContinuesFromThatWrite()
    {
        // No controller: the test hands the reconciler the copy an informer cache lagging the status write would hold.
        await using var harness = await RolloutHarness.StartAsync(plane, runController: false);
        await harness.CreateVersionAsync("sales", 1);
        var beforeWrite = await harness.CreateDeploymentAsync("sales", Spec("sales", 2));
        var request = new ReconcileRequest<ModelDeployment>(NamespacedName.Of(beforeWrite), beforeWrite);
        await RolloutHarness.WaitAsync(async () =>
        {
            await harness.Reconciler.ReconcileAsync(request, CancellationToken.None);
            return (await harness.GetAsync("sales")).Status?.StableVersion == "sales-v1";
        }, "v1 deployed once the ModelVersion cache has it");
        var deployed = (await harness.GetAsync("sales")).Status!.History!.Single();

        await harness.Reconciler.ReconcileAsync(request, CancellationToken.None);

        var status = (await harness.GetAsync("sales")).Status!;
        Assert.That(status.History!.Single().Time, Is.EqualTo(deployed.Time), "not deployed a second time");
        Assert.That((await harness.EventsAsync("sales")).Where(e => e.Reason == "Deployed").Sum(e => e.Count ?? 1),
            Is.EqualTo(1), "one Deployed event");
    }

    [Test]
    public async Task Reconcile_WhileTheCachesHaveNotSeenItsOwnCreates_RequeuesOnAlreadyExists_WithoutASecondDeploy()
    {
        // No controller, and caches frozen before the workloads exist: the second reconcile reads them as missing.
        await using var harness = await RolloutHarness.StartAsync(plane, runController: false);
        await harness.CreateVersionAsync("sales", 1);
        await RolloutHarness.WaitAsync(() => Task.FromResult(harness.Cache.ModelVersionsIn(harness.Namespace)
            .Any(v => v.Status?.Phase == ModelVersionStatus.Ready)), "the Ready ModelVersion cached");
        await harness.FreezeCachesAsync();
        await harness.CreateDeploymentAsync("sales", Spec("sales", 2));

        async Task<ReconcileResult> ReconcileAsync()
        {
            var md = await harness.GetAsync("sales");
            return await harness.Reconciler.ReconcileAsync(new ReconcileRequest<ModelDeployment>(NamespacedName.Of(md), md),
                CancellationToken.None);
        }

        await ReconcileAsync();
        var deployed = await harness.GetAsync("sales");
        Assert.That(deployed.Status?.StableVersion, Is.EqualTo("sales-v1"));
        Assert.That(harness.Cache.Deployment(harness.Namespace, "sales-stable"), Is.Null, "the cache has not seen the create");

        var again = await ReconcileAsync();

        Assert.That(again.Outcome, Is.EqualTo(ReconcileOutcome.RequeueAfter), "no error: planned again");
        Assert.That(again.Delay, Is.LessThanOrEqualTo(TimeSpan.FromSeconds(1)), "shortly, once the cache has caught up");
        var status = (await harness.GetAsync("sales")).Status!;
        Assert.That(status.History!.Single().Time, Is.EqualTo(deployed.Status!.History!.Single().Time), "not deployed a second time");
        Assert.That((await harness.EventsAsync("sales")).Where(e => e.Reason == "Deployed").Sum(e => e.Count ?? 1),
            Is.EqualTo(1), "one Deployed event");
        Assert.That((await harness.TrackAsync("sales", "stable"))!.Spec.Replicas, Is.EqualTo(2));
    }

    [Test]
    public async Task StorageSecret_IsPassedAsSecretKeyRefs()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("fraud", 1);
        var spec = Spec("fraud", 1);
        spec.Storage = new S3StorageSpec
        {
            SecretRef = new SecretReference { Name = "s3-creds" }, Endpoint = "http://127.0.0.1:9000", ForcePathStyle = true,
        };
        await harness.CreateDeploymentAsync("fraud", spec);
        await harness.WaitForTrackAsync("fraud", "stable", d => d is not null, "stable Deployment");
        var env = (await harness.TrackAsync("fraud", "stable"))!.Spec.Template.Spec.Containers[0].Env.ToDictionary(e => e.Name);
        Assert.That(env["AWS_ACCESS_KEY_ID"].ValueFrom.SecretKeyRef.Name, Is.EqualTo("s3-creds"));
        Assert.That(env["AWS_SECRET_ACCESS_KEY"].ValueFrom.SecretKeyRef.Key, Is.EqualTo("AWS_SECRET_ACCESS_KEY"));
        Assert.That(env["CD4ML_S3_ENDPOINT"].Value, Is.EqualTo("http://127.0.0.1:9000"));
        Assert.That(env["CD4ML_S3_FORCE_PATH_STYLE"].Value, Is.EqualTo("true"));
        Assert.That(env["AWS_REGION"].Value, Is.EqualTo("us-east-1"));
    }

    [Test]
    public async Task NoApprovedReadyVersion_StaysPending_UntilOneArrives()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("churn", 1, approved: false);
        await harness.CreateVersionAsync("churn", 2, approved: true, ready: false);
        await harness.CreateDeploymentAsync("churn", Spec("churn", 2));

        var md = await harness.WaitForAsync("churn", d => d.Status?.Phase == ModelDeploymentStatus.Pending, "Pending");
        var ready = md.Status!.Find(Conditions.Ready)!;
        Assert.That((ready.Status, ready.Reason), Is.EqualTo(("False", "NoModelVersion")));
        Assert.That(ready.Message, Is.EqualTo("no approved and Ready ModelVersion of model churn"));
        Assert.That(await harness.TrackAsync("churn", "stable"), Is.Null);

        // A ModelVersion change wakes the controller (no Deployment change needed).
        await harness.CreateVersionAsync("churn", 3);
        await harness.WaitForAsync("churn", d => d.Status?.StableVersion == "churn-v3", "v3 served");
        await harness.WaitForTrackAsync("churn", "stable", d => d?.Spec.Replicas == 2, "stable Deployment");
    }

    [Test]
    public async Task PinnedVersion_IsServedEvenIfNotTheLatest()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("pin", 1, approved: false);
        await harness.CreateVersionAsync("pin", 2);
        var spec = Spec("pin", 1);
        spec.Version = 1;
        await harness.CreateDeploymentAsync("pin", spec);
        await harness.WaitForAsync("pin", d => d.Status?.StableVersion == "pin-v1", "pinned v1 served");
    }

    [Test]
    public async Task NewApprovedVersion_StartsCanary_AtTheReplicaSplitOfTheFirstWeight()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", 4));
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "v1 stable");

        await harness.CreateVersionAsync("sales", 2);
        var md = await harness.WaitForAsync("sales", d => d.Status?.CanaryVersion == "sales-v2", "canary v2");
        // One canary pod of four gets a quarter of the traffic, whatever the step asked for.
        Assert.That((md.Status!.CanaryWeight, md.Status.RequestedWeight), Is.EqualTo(((int?)25, (int?)20)));
        Assert.That(md.Status.CurrentStepText, Is.EqualTo("1/4 setWeight 20"));
        Assert.That(md.Status.Phase, Is.EqualTo(ModelDeploymentStatus.Progressing));
        Assert.That(md.Status.IsTrue(ModelDeploymentReconciler.ProgressingCondition));

        var canary = (await harness.TrackAsync("sales", "canary"))!;
        Assert.That(canary.Spec.Replicas, Is.EqualTo(1), "ceil(4 × 20%)");
        Assert.That(canary.Spec.Template.Metadata.Labels["cd4ml.io/model-version"], Is.EqualTo("sales-v2"));
        Assert.That(canary.Spec.Template.Spec.Containers[0].Env.Single(e => e.Name == "CD4ML_TRACK").Value, Is.EqualTo("canary"));
        var stable = (await harness.TrackAsync("sales", "stable"))!;
        Assert.That(stable.Spec.Replicas, Is.EqualTo(3));
        Assert.That(stable.Spec.Template.Metadata.Labels["cd4ml.io/model-version"], Is.EqualTo("sales-v1"));
        await RolloutHarness.WaitAsync(async () => (await harness.EventsAsync("sales")).Any(e => e.Reason == "RolloutStarted"),
            "RolloutStarted event");
        var started = (await harness.EventsAsync("sales")).Single(e => e.Reason == "RolloutStarted");
        Assert.That(RolloutEventFields.Of(started), Is.EqualTo(new RolloutEventFields("sales-v2", 0)),
            "annotated for the dashboard's timeline");
    }

    [Test]
    public async Task PauseStep_HoldsTheCanary_UntilThePromoteAnnotation_ThenPromotes()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", 2,
            new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");

        await harness.CreateVersionAsync("sales", 2);
        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused at step 2");
        Assert.That(md.Status!.CurrentStepText, Is.EqualTo("2/2 pause"));
        Assert.That(md.Status.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo("PauseStep"));
        Assert.That((await harness.TrackAsync("sales", "canary"))!.Spec.Replicas, Is.EqualTo(1));
        Assert.That((await harness.TrackAsync("sales", "stable"))!.Spec.Replicas, Is.EqualTo(1));

        await Task.Delay(1500);
        Assert.That((await harness.GetAsync("sales")).Status!.Phase, Is.EqualTo(ModelDeploymentStatus.Paused), "still paused");

        await harness.AnnotateAsync("sales", ModelDeployment.PromoteAnnotation, "1");
        md = await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v2", "v2 promoted");
        Assert.That(md.Status!.CanaryVersion, Is.Null);
        Assert.That(md.Status.HandledRequests![ModelDeployment.PromoteAnnotation], Is.EqualTo("1"));
        Assert.That(md.Status.History!.Last().Outcome, Is.EqualTo("Promoted"));
        await harness.WaitForTrackAsync("sales", "stable",
            d => d?.Spec.Replicas == 2 && d.Spec.Template.Metadata.Labels["cd4ml.io/model-version"] == "sales-v2", "stable on v2");
        await harness.WaitForTrackAsync("sales", "canary", d => d?.Spec.Replicas == 0, "canary scaled down");
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "healthy on v2");
        // Events are recorded after the status write that the wait above saw.
        await RolloutHarness.WaitAsync(async () => (await harness.EventsAsync("sales")).Any(e => e.Reason == "Promoted"), "Promoted event");
        var timeline = RolloutTimeline.Build(md, await harness.EventsAsync("sales"), DateTime.UtcNow);
        Assert.That(timeline.Steps.Select(s => s.Weight), Is.EqualTo(new[] { 0, 50, 50, 100 }),
            "the dashboard draws started, setWeight 50, the promoted pause and the promotion from the operator's own events");

        // The same annotation value is not acted on again on the next rollout.
        await harness.CreateVersionAsync("sales", 3);
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "v3 paused");
        Assert.That(md.Status!.CanaryVersion, Is.EqualTo("sales-v3"));
    }

    [Test]
    public async Task AbortAnnotation_RollsBack_StaysAborted_AndRetryRestartsTheRollout()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", 2,
            new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "v1 stable");
        await harness.CreateVersionAsync("sales", 2);
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused");

        await harness.AnnotateAsync("sales", ModelDeployment.AbortAnnotation, "please");
        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Degraded, "rolled back");
        var status = md.Status!;
        Assert.That(status.StableVersion, Is.EqualTo("sales-v1"));
        Assert.That(status.CanaryVersion, Is.EqualTo("sales-v2"));
        Assert.That(status.CanaryWeight, Is.EqualTo(0));
        Assert.That(status.AbortReason, Does.Contain("aborted by annotation cd4ml.io/abort"));
        var degraded = status.Find(ModelDeploymentReconciler.DegradedCondition)!;
        Assert.That((degraded.Status, degraded.Reason), Is.EqualTo(("True", "RolledBack")));
        Assert.That(status.Find(Conditions.Ready)!.Reason, Is.EqualTo("RolledBack"));
        Assert.That(status.History!.Last().Outcome, Is.EqualTo("RolledBack"));
        Assert.That(harness.Rollbacks("sales"), Is.EqualTo(1));
        await harness.WaitForTrackAsync("sales", "canary", d => d?.Spec.Replicas == 0, "canary at 0");
        await harness.WaitForTrackAsync("sales", "stable", d => d?.Spec.Replicas == 2, "stable back to 2");
        var warning = (await harness.EventsAsync("sales")).Single(e => e.Reason == "RolledBack");
        Assert.That(warning.Type, Is.EqualTo("Warning"));
        Assert.That(md.Spec.Version, Is.Null, "spec untouched");
        Assert.That(md.Metadata.Annotations!.Keys, Is.EquivalentTo(new[] { ModelDeployment.AbortAnnotation }));

        await Task.Delay(1500);
        md = await harness.GetAsync("sales");
        Assert.That(md.Status!.Phase, Is.EqualTo(ModelDeploymentStatus.Degraded), "stays aborted for v2");
        Assert.That((await harness.TrackAsync("sales", "canary"))!.Spec.Replicas, Is.EqualTo(0));

        await harness.AnnotateAsync("sales", ModelDeployment.RetryAnnotation, "1");
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "retried and paused again");
        Assert.That((md.Status!.CanaryVersion, md.Status.AbortReason), Is.EqualTo(("sales-v2", (string?)null)));
        Assert.That(harness.Rollbacks("sales"), Is.EqualTo(1));
    }

    [Test]
    public async Task NewVersionMidRollout_RestartsTheRolloutForTheNewVersion()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", 2, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "v1 stable");
        await harness.CreateVersionAsync("sales", 2);
        await harness.WaitForAsync("sales", d => d.Status?.CanaryVersion == "sales-v2", "v2 canary");
        await harness.CreateVersionAsync("sales", 3);
        var md = await harness.WaitForAsync("sales", d => d.Status?.CanaryVersion == "sales-v3", "v3 canary");
        Assert.That(md.Status!.CurrentStep, Is.EqualTo(0));
        Assert.That(md.Status.History!.Select(h => (h.Version, h.Outcome)), Does.Contain(("sales-v2", "Superseded")));
        await harness.WaitForTrackAsync("sales", "canary",
            d => d?.Spec.Template.Metadata.Labels["cd4ml.io/model-version"] == "sales-v3", "canary Deployment on v3");
    }

    [Test]
    public async Task AnalysisWithoutPrometheus_Pauses_WithAClearCondition()
    {
        await using var harness = await RolloutHarness.StartAsync(plane, prometheusAddress: null);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", 2, new CanaryStep { Analysis = new AnalysisStep() }));
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "v1 stable");
        await harness.CreateVersionAsync("sales", 2);
        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused");
        var paused = md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!;
        Assert.That(paused.Reason, Is.EqualTo("NoPrometheus"));
        Assert.That(paused.Message, Does.Contain("prometheus.address"));
    }

    [Test]
    public async Task PrometheusUnreachable_PausesAfterErrorLimit_AndNeverRollsBackTheStableVersion()
    {
        await using var harness = await RolloutHarness.StartAsync(plane, prometheusAddress: "http://127.0.0.1:1");
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        var spec = Spec("sales", 2, new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "30s" } });
        spec.Strategy!.Canary!.Analysis = new AnalysisSpec { Interval = "1s", ErrorLimit = 2, FailureLimit = 1 };
        await harness.CreateDeploymentAsync("sales", spec);
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        await harness.CreateVersionAsync("sales", 2);

        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused", 60);
        var paused = md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!;
        Assert.That(paused.Reason, Is.EqualTo("AnalysisError"));
        Assert.That(md.Status!.Analysis!.ConsecutiveErrors, Is.EqualTo(2));
        Assert.That(md.Status!.Analysis.Measurements!.Last().Message, Does.Contain("unreachable"));
        Assert.That(md.Status!.StableVersion, Is.EqualTo("sales-v1"));
        Assert.That(md.Status!.AbortReason, Is.Null);
        Assert.That(harness.Rollbacks("sales"), Is.EqualTo(0));
        Assert.That((await harness.TrackAsync("sales", "stable"))!.Spec.Replicas, Is.EqualTo(1), "stable keeps serving");

        await Task.Delay(3000);
        md = await harness.GetAsync("sales");
        Assert.That(md.Status!.Phase, Is.EqualTo(ModelDeploymentStatus.Paused));
        Assert.That(md.Status.Analysis!.ConsecutiveErrors, Is.EqualTo(2), "no measurements while paused");
    }

    private static Task CreateAnalysisTemplatesAsync(RolloutHarness harness, string yaml) =>
        harness.Client.CoreV1.CreateNamespacedConfigMapAsync(new V1ConfigMap
        {
            Metadata = new V1ObjectMeta { Name = Cd4ml.Operator.Platform.PlatformDefaults.ConfigMapName },
            Data = new Dictionary<string, string> { [Cd4ml.Operator.Platform.PlatformDefaults.AnalysisTemplatesKey] = yaml },
        }, harness.Namespace);

    [Test]
    public async Task AnalysisTemplate_NamedByTheDeployment_SuppliesItsPrometheusMetricsAndLimits_UnderTheDeploymentsFields()
    {
        // No Prometheus from the operator: the template's is the only one. It is unreachable, so each measurement is an
        // error named after the metric measured; the Deployment's own errorLimit (1) wins over the template's (5).
        await using var harness = await RolloutHarness.StartAsync(plane, prometheusAddress: null);
        await CreateAnalysisTemplatesAsync(harness, """
            slo:
              interval: 1s
              errorLimit: 5
              prometheus:
                address: http://127.0.0.1:1
              metrics:
                - name: platform-error-rate
                  builtin: ErrorRate
                  max: 0.01
            """);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        var spec = Spec("sales", 2, new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "30s" } });
        spec.Strategy!.Canary!.Analysis = new AnalysisSpec { Template = "slo", ErrorLimit = 1 };
        await harness.CreateDeploymentAsync("sales", spec);
        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        Assert.That((md.Status!.Effective?.AnalysisTemplate, md.Status.Effective?.Prometheus), Is.EqualTo(("slo", "http://127.0.0.1:1")));
        await harness.CreateVersionAsync("sales", 2);

        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused", 60);
        Assert.That(md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo("AnalysisError"));
        Assert.That(md.Status!.Analysis!.ConsecutiveErrors, Is.EqualTo(1), "the Deployment's errorLimit");
        Assert.That(md.Status!.Analysis!.Measurements!.Select(m => m.Metric), Is.EqualTo(new[] { "platform-error-rate" }));
        Assert.That((await harness.GetAsync("sales")).Spec.Strategy!.Canary!.Analysis!.Metrics, Is.Null, "spec is never written");
    }

    [Test]
    public async Task UnknownAnalysisTemplate_IsInvalidSpec_NamingItAndWhereTemplatesAreDefined_AndNoRolloutStarts()
    {
        await using var harness = await RolloutHarness.StartAsync(plane, prometheusAddress: "http://127.0.0.1:1");
        await CreateAnalysisTemplatesAsync(harness, "slo:\n  interval: 1s\n");
        await harness.CreateVersionAsync("sales", 1);
        var spec = Spec("sales", 2, new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep() });
        spec.Strategy!.Canary!.Analysis = new AnalysisSpec { Template = "gold" };
        await harness.CreateDeploymentAsync("sales", spec);

        var md = await harness.WaitForAsync("sales", d => d.Status?.IsTrue(ModelDeploymentReconciler.InvalidSpecCondition) == true, "InvalidSpec");
        var invalid = md.Status!.Find(ModelDeploymentReconciler.InvalidSpecCondition)!;
        Assert.That(invalid.Reason, Is.EqualTo(AnalysisTemplates.UnknownTemplateReason));
        Assert.That(invalid.Message, Does.Contain("template gold").And.Contain("known templates: slo")
            .And.Contain("key analysisTemplates of ConfigMap cd4ml-defaults"));
        await RolloutHarness.WaitAsync(async () => (await harness.EventsAsync("sales")).Any(e => e.Reason == "InvalidSpec"), "InvalidSpec event");
        var warning = (await harness.EventsAsync("sales")).Single(e => e.Reason == "InvalidSpec");
        Assert.That((warning.Type, warning.Message), Is.EqualTo(("Warning", invalid.Message)));

        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "the stable version is served");

        await harness.CreateVersionAsync("sales", 2);
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "the rollout waits");
        Assert.That(md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo(ModelDeploymentReconciler.InvalidSpecReason));
        Assert.That(md.Status!.CanaryVersion, Is.Null);
        Assert.That(await harness.TrackAsync("sales", "canary"), Is.Null, "no canary");
    }

    [Test]
    public async Task OneReplica_AtWeight25_ReportsTheWeightThePodsReallyGive_AndWhyItDiffers()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", 1, new CanaryStep { SetWeight = 25 }, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "v1 stable");
        await harness.CreateVersionAsync("sales", 2);

        var md = await harness.WaitForAsync("sales", d => d.Status?.CanaryVersion == "sales-v2", "canary v2");
        Assert.That((md.Status!.CanaryWeight, md.Status.RequestedWeight), Is.EqualTo(((int?)50, (int?)25)), "1 stable and 1 canary pod");
        var routing = md.Status.Find(ModelDeploymentReconciler.TrafficRoutingCondition)!;
        Assert.That(routing.Reason, Is.EqualTo(ModelDeploymentReconciler.WeightApproximatedReason));
        Assert.That(routing.Message, Does.Contain("asks for weight 25").And.Contain("1 stable, 1 canary give the canary 50%")
            .And.Contain("spec.replicas 4 would split it exactly"));
        Assert.That((await harness.TrackAsync("sales", "canary"))!.Spec.Replicas, Is.EqualTo(1));
        Assert.That((await harness.TrackAsync("sales", "stable"))!.Spec.Replicas, Is.EqualTo(1));
    }

    private static readonly object[] Unrepresentable =
    [
        new object[] { "no steps", new CanaryStrategy { Steps = [] }, "spec.strategy.canary.steps" },
        new object[] { "zero interval", new CanaryStrategy { Analysis = new AnalysisSpec { Interval = "0s" } }, "spec.strategy.canary.analysis.interval" },
        new object[] { "zero window", new CanaryStrategy { Analysis = new AnalysisSpec { Window = "0m0s" } }, "spec.strategy.canary.analysis.window" },
        new object[] { "zero analysis step", new CanaryStrategy { Steps = [new CanaryStep { Analysis = new AnalysisStep { Duration = "0ms" } }] }, "spec.strategy.canary.steps" },
        new object[] { "metric with builtin and query", new CanaryStrategy { Analysis = new AnalysisSpec { Metrics = [new AnalysisMetric { Name = "e", Builtin = BuiltinMetric.ErrorRate, Query = "up", Max = 1 }] } }, "spec.strategy.canary.analysis.metrics" },
        new object[] { "metric without threshold", new CanaryStrategy { Analysis = new AnalysisSpec { Metrics = [new AnalysisMetric { Name = "e", Builtin = BuiltinMetric.ErrorRate }] } }, "spec.strategy.canary.analysis.metrics" },
        new object[] { "fault error rate above 1", null!, "spec.faultInjection.errorRate" },
    ];

    [TestCaseSource(nameof(Unrepresentable))]
    public async Task SpecThatWouldRolloutSomethingNobodyAskedFor_IsRejectedByTheApiServer(string why, CanaryStrategy? canary, string field)
    {
        await using var harness = await RolloutHarness.StartAsync(plane, runController: false);
        var spec = new ModelDeploymentSpec { ModelName = "sales", Strategy = new RolloutStrategy { Canary = canary } };
        if (canary is null)
        {
            spec.FaultInjection = new FaultInjection { ErrorRate = 1.5 };
        }

        var refused = Assert.ThrowsAsync<k8s.Autorest.HttpOperationException>(() => harness.CreateDeploymentAsync("bad", spec), why)!;
        Assert.That((int)refused.Response.StatusCode, Is.EqualTo(422), why);
        // 1.20 reports list items without their index; newer servers add it.
        Assert.That(System.Text.RegularExpressions.Regex.Replace(refused.Response.Content, @"\[\d+\]", ""), Does.Contain(field), why);
    }

    [Test]
    public async Task FaultInjection_NotAllowedByTheOperator_IsRefusedWithInvalidSpec_AndNoRolloutStartsUntilRemoved()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        var spec = Spec("sales", 2, new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() });
        spec.FaultInjection = new FaultInjection { ErrorRate = 0.5 };
        await harness.CreateDeploymentAsync("sales", spec);

        // Shown at once, before any new version arrives.
        var md = await harness.WaitForAsync("sales", d => d.Status?.IsTrue(ModelDeploymentReconciler.InvalidSpecCondition) == true, "InvalidSpec");
        var invalid = md.Status!.Find(ModelDeploymentReconciler.InvalidSpecCondition)!;
        Assert.That(invalid.Reason, Is.EqualTo(SpecValidation.FaultInjectionNotAllowed));
        Assert.That(invalid.Message, Does.Contain("--allow-fault-injection"));
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "the stable version is served");
        var warning = (await harness.EventsAsync("sales")).Single(e => e.Reason == "InvalidSpec");
        Assert.That(warning.Type, Is.EqualTo("Warning"));

        await harness.CreateVersionAsync("sales", 2);
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "the rollout waits");
        var paused = md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!;
        Assert.That(paused.Reason, Is.EqualTo(ModelDeploymentReconciler.InvalidSpecReason));
        Assert.That(paused.Message, Does.Contain("the rollout of sales-v2 waits for a valid spec"));
        Assert.That(md.Status!.CanaryVersion, Is.Null);
        await Task.Delay(1000);
        Assert.That(await harness.TrackAsync("sales", "canary"), Is.Null, "no canary pod, with or without the fault");

        await harness.Deployments.PatchAsync(harness.Namespace, "sales",
            new V1Patch("{\"spec\":{\"faultInjection\":null}}", V1Patch.PatchType.MergePatch));
        md = await harness.WaitForAsync("sales", d => d.Status?.CanaryVersion == "sales-v2", "the rollout starts once the spec is valid");
        Assert.That(md.Status!.Find(ModelDeploymentReconciler.InvalidSpecCondition)!.Status, Is.EqualTo("False"));
        await harness.WaitForTrackAsync("sales", "canary", d => d is not null, "canary Deployment");
        Assert.That((await harness.TrackAsync("sales", "canary"))!.Spec.Template.Spec.Containers[0].Env.Select(e => e.Name),
            Has.None.StartsWith("CD4ML_FAULT_"));
    }

    [Test]
    public async Task FaultInjection_AllowedByTheOperator_GoesOnTheCanaryPodsOnly()
    {
        await using var harness = await RolloutHarness.StartAsync(plane, allowFaultInjection: true);
        await harness.CreateVersionAsync("sales", 1);
        var spec = Spec("sales", 2, new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() });
        spec.FaultInjection = new FaultInjection { ErrorRate = 0.25, Latency = "200ms" };
        await harness.CreateDeploymentAsync("sales", spec);
        await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v1", "v1 stable");
        await harness.CreateVersionAsync("sales", 2);

        await harness.WaitForTrackAsync("sales", "canary", d => d is not null, "canary Deployment");
        var canary = (await harness.TrackAsync("sales", "canary"))!.Spec.Template.Spec.Containers[0].Env.ToDictionary(e => e.Name, e => e.Value);
        Assert.That((canary["CD4ML_FAULT_ERROR_RATE"], canary["CD4ML_FAULT_LATENCY"]), Is.EqualTo(("0.25", "200ms")));
        var stable = (await harness.TrackAsync("sales", "stable"))!.Spec.Template.Spec.Containers[0].Env;
        Assert.That(stable.Select(e => e.Name), Has.None.StartsWith("CD4ML_FAULT_"));
        Assert.That((await harness.GetAsync("sales")).Status!.Find(ModelDeploymentReconciler.InvalidSpecCondition)!.Status, Is.EqualTo("False"));
    }

    [Test]
    public async Task PodTemplateEditedByHand_IsPutBackWithinSeconds()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales", Spec("sales", 2));
        await harness.WaitForTrackAsync("sales", "stable", d => d is not null, "stable Deployment");

        // Checked on the patch's answer: a read after it may already find the template put back.
        var edited = await harness.Client.AppsV1.PatchNamespacedDeploymentAsync(new V1Patch(
            """
            [{"op": "replace", "path": "/spec/template/spec/containers/0/image", "value": "someone/else:latest"},
             {"op": "add", "path": "/spec/template/spec/containers/0/env/-", "value": {"name": "CD4ML_FAULT_ERROR_RATE", "value": "1"}}]
            """, V1Patch.PatchType.JsonPatch), "sales-stable", harness.Namespace);
        Assert.That(edited.Spec.Template.Spec.Containers[0].Image, Is.EqualTo("someone/else:latest"));

        await harness.WaitForTrackAsync("sales", "stable", d =>
            d!.Spec.Template.Spec.Containers[0].Image == "ghcr.io/cd4ml/cd4ml:test"
            && d.Spec.Template.Spec.Containers[0].Env.All(e => e.Name != "CD4ML_FAULT_ERROR_RATE"), "template restored", 10);
    }

    [Test]
    public async Task InvalidCustomQuery_ShowsAsInvalidSpec_WhenTheSpecChanges_AndHoldsTheNextVersion()
    {
        var prometheus = await PrometheusServer.SharedAsync();
        await using var harness = await RolloutHarness.StartAsync(plane, prometheusAddress: prometheus.Address.ToString());
        await harness.CreateVersionAsync("sales", 1);
        var spec = Spec("sales", 2, new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep() });
        spec.Strategy!.Canary!.Analysis = new AnalysisSpec
        {
            Metrics =
            [
                new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 },
                new AnalysisMetric { Name = "p95", Query = "histogram_quantile(0.95, sum by (le) (rate(cd4ml_prediction_duration_seconds_bucket[{{window}}]))", Max = 1 },
            ],
        };
        await harness.CreateDeploymentAsync("sales", spec);

        var md = await harness.WaitForAsync("sales", d => d.Status?.IsTrue(ModelDeploymentReconciler.InvalidSpecCondition) == true, "InvalidSpec");
        var invalid = md.Status!.Find(ModelDeploymentReconciler.InvalidSpecCondition)!;
        Assert.That(invalid.Reason, Is.EqualTo(SpecValidation.AnalysisQueryInvalid));
        Assert.That(invalid.Message, Does.Contain("spec.strategy.canary.analysis.metrics[1].query of metric p95 is not valid PromQL")
            .And.Contain("parse error"));

        await harness.CreateVersionAsync("sales", 2);
        md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "the rollout waits");
        Assert.That(md.Status!.CanaryVersion, Is.Null);

        await harness.Deployments.PatchAsync(harness.Namespace, "sales", new V1Patch(
            """{"spec":{"strategy":{"canary":{"analysis":{"metrics":[{"name":"p95","query":"vector(0.1)","max":1}]}}}}}""",
            V1Patch.PatchType.MergePatch));
        md = await harness.WaitForAsync("sales", d => d.Status?.CanaryVersion == "sales-v2", "the rollout starts with a valid query");
        Assert.That(md.Status!.Find(ModelDeploymentReconciler.InvalidSpecCondition)!.Status, Is.EqualTo("False"));
    }
}
