using Cd4ml.Api.V1Alpha1;
using Cd4ml.LocalCluster;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Operator.Tests.Rollouts;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>
/// cd4ml.io Deployments driven by the real controller into each phase Argo CD must tell apart (Pods are made ready at
/// the API boundary, on a private control plane without a scheduler); each state is the status document the health
/// scripts are tested on (written to config/argocd/testdata by `make golden`).
/// </summary>
[Parallelizable(ParallelScope.Children)]
public sealed class DeploymentStatusScenarios
{
    private ControlPlane plane = null!;
    private WebApplication prometheus = null!;
    private string prometheusAddress = "";

    [OneTimeSetUp]
    public async Task Start()
    {
        plane = await ControlPlane.StartAsync(new ControlPlaneOptions { Scheduler = false });
        await RolloutHarness.InstallCrdsAsync(plane);
        // Prometheus' query API answering 0.5 to every query: a canary error rate far above any sane threshold.
        prometheusAddress = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(prometheusAddress);
        prometheus = builder.Build();
        prometheus.MapGet("/api/v1/query", () => Results.Text(
            "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"0.5\"]}]}}",
            "application/json"));
        await prometheus.StartAsync();
    }

    [OneTimeTearDown]
    public async Task Stop()
    {
        await prometheus.DisposeAsync();
        await plane.DisposeAsync();
    }

    private static ModelDeploymentSpec Spec(string model, params CanaryStep[] steps) => new()
    {
        ModelName = model,
        Replicas = 2,
        Strategy = steps.Length == 0 ? null : new RolloutStrategy { Canary = new CanaryStrategy { Steps = [.. steps] } },
    };

    private static bool Observed(ModelDeployment d) => d.Status?.ObservedGeneration == d.Metadata.Generation;

    [Test]
    public async Task NoApprovedVersion_IsPending_WaitingForApproval()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1, approved: false);
        await harness.CreateDeploymentAsync("sales-api", Spec("sales"));
        var md = await harness.WaitForAsync("sales-api", d => Observed(d) && d.Status!.Phase == ModelDeploymentStatus.Pending, "Pending");
        Assert.That(md.Status!.Find(Conditions.Ready)!.Message, Does.Contain("no approved and Ready ModelVersion"));
        await StatusGolden.WriteAsync("deployment-awaiting-approval", md);
    }

    [Test]
    public async Task PinnedVersionNotRegisteredYet_IsPending()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        var spec = Spec("sales");
        spec.Version = 2;
        await harness.CreateDeploymentAsync("sales-api", spec);
        var md = await harness.WaitForAsync("sales-api", d => Observed(d) && d.Status!.Phase == ModelDeploymentStatus.Pending, "Pending");
        Assert.That(md.Status!.Find(Conditions.Ready)!.Message, Does.Contain("with version 2"));
        await StatusGolden.WriteAsync("deployment-pinned-pending", md);
    }

    [Test]
    public async Task StableReplicasNotReady_IsProgressing()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales-api", Spec("sales"));
        var md = await harness.WaitForAsync("sales-api", d => Observed(d) && d.Status!.StableVersion == "sales-v1", "v1 stable");
        Assert.That(md.Status!.Phase, Is.EqualTo(ModelDeploymentStatus.Progressing));
        await StatusGolden.WriteAsync("deployment-stable-not-ready", md);
    }

    [Test]
    public async Task ReadyStable_IsHealthy()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales-api", Spec("sales"));
        var md = await harness.WaitForAsync("sales-api", d => Observed(d) && d.Status!.Phase == ModelDeploymentStatus.Healthy, "Healthy");
        await StatusGolden.WriteAsync("deployment-healthy", md);
    }

    [Test]
    public async Task ServingWorkloads_CarryNoArgoCdTrackingFromTheDeployment_AndAreOwnedByIt()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        var synced = new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "sales-api", NamespaceProperty = harness.Namespace },
            Spec = Spec("sales"),
        };
        ArgoCdTracking.Mark(synced.Metadata, ModelDeployment.KindName);
        var owner = await harness.Deployments.CreateAsync(synced);
        await harness.WaitForTrackAsync("sales-api", "stable", d => d is not null, "stable Deployment");

        var stable = (await harness.TrackAsync("sales-api", "stable"))!;
        ArgoCdTracking.AssertUntracked(stable, stable.Spec.Template.Metadata);
        Assert.That(stable.Metadata.OwnerReferences.Single().Uid, Is.EqualTo(owner.Metadata.Uid));
        var service = await harness.Client.CoreV1.ReadNamespacedServiceAsync("sales-api", harness.Namespace);
        ArgoCdTracking.AssertUntracked(service);
        Assert.That(service.Metadata.OwnerReferences.Single().Uid, Is.EqualTo(owner.Metadata.Uid));
    }

    [Test]
    public async Task CanaryWaitingForItsPods_IsProgressing_AtItsStep()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace,
            pod => pod.Metadata.Labels is { } labels && labels.TryGetValue("cd4ml.io/track", out var track) && track == "stable");
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales-api", Spec("sales", new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales-api", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        await harness.CreateVersionAsync("sales", 2);
        var md = await harness.WaitForAsync("sales-api", d => Observed(d) && d.Status!.CanaryVersion == "sales-v2"
            && d.Status.Find(ModelDeploymentReconciler.ProgressingCondition)?.Reason == "RolloutInProgress", "canary waiting");
        Assert.That(md.Status!.Phase, Is.EqualTo(ModelDeploymentStatus.Progressing));
        await StatusGolden.WriteAsync("deployment-canary-progressing", md);
    }

    [Test]
    public async Task PauseStep_IsPaused_UntilPromoted()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("sales-api", Spec("sales", new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() }));
        await harness.WaitForAsync("sales-api", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        await harness.CreateVersionAsync("sales", 2);
        var md = await harness.WaitForAsync("sales-api", d => Observed(d) && d.Status!.Phase == ModelDeploymentStatus.Paused, "Paused");
        Assert.That(md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo("PauseStep"));
        await StatusGolden.WriteAsync("deployment-paused", md);
    }

    [Test]
    public async Task FailedAnalysis_RollsBack_NamingMetricValueAndThreshold()
    {
        await using var harness = await RolloutHarness.StartAsync(plane, prometheusAddress);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        var spec = Spec("sales", new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "30s" } });
        spec.Strategy!.Canary!.Analysis = new AnalysisSpec
        {
            Interval = "1s", FailureLimit = 1, MinSampleCount = 0,
            Metrics = [new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 }],
        };
        await harness.CreateDeploymentAsync("sales-api", spec);
        await harness.WaitForAsync("sales-api", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        await harness.CreateVersionAsync("sales", 2);
        var md = await harness.WaitForAsync("sales-api", d => Observed(d) && d.Status!.Phase == ModelDeploymentStatus.Degraded, "rolled back", 60);
        Assert.That(md.Status!.AbortReason, Does.Contain("error-rate=0.5 above max 0.05"));
        await StatusGolden.WriteAsync("deployment-rolled-back", md);
    }
}
