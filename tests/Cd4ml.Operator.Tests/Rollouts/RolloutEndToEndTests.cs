using System.Diagnostics;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Entities;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// Rollouts with real model servers (run by the local kubelet), a real Prometheus scraping them every second and client
/// traffic spread over the ready Pods. Sequential: each test runs several server processes on two cores.
/// </summary>
[NonParallelizable]
public sealed class RolloutEndToEndTests : ServingClusterFixture
{
    private async Task<(RolloutHarness Harness, string Namespace)> StartAsync(string? prometheusAddress = null)
    {
        var harness = await cluster.StartHarnessAsync(prometheusAddress);
        return (harness, harness.Namespace);
    }

    private ModelDeploymentSpec Spec(string analysisDuration, AnalysisSpec analysis, string? prometheus = null) => new()
    {
        ModelName = "sales",
        Replicas = 2,
        Storage = cluster.Storage,
        Strategy = new RolloutStrategy
        {
            Canary = new CanaryStrategy
            {
                Steps = [new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = analysisDuration } }],
                Analysis = analysis,
            },
        },
    };

    private static AnalysisSpec FastAnalysis(int failureLimit = 2, int inconclusiveLimit = 3, int minSamples = 20) => new()
    {
        Interval = "2s",
        Window = "6s",
        FailureLimit = failureLimit,
        InconclusiveLimit = inconclusiveLimit,
        MinSampleCount = minSamples,
        Metrics = [new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 },
                   new AnalysisMetric { Name = "latency-p99", Builtin = BuiltinMetric.LatencyP99, Max = 2 }],
    };

    /// <summary>v1 stable and healthy with its Pods ready, then v2 approved: the canary starts.</summary>
    private async Task StableThenCanaryAsync(RolloutHarness harness, ModelDeploymentSpec spec)
    {
        await harness.CreateVersionAsync("sales", 1, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
        await harness.CreateDeploymentAsync("sales", spec);
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy (pods ready)", 120);
        await harness.CreateVersionAsync("sales", 2, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
    }

    [Test]
    public async Task Rollback_WhenCanaryErrorRateExceedsThreshold_ForFailureLimitMeasurements()
    {
        var (harness, ns) = await StartAsync();
        await using var _ = harness;
        await StableThenCanaryAsync(harness, Spec("120s", FastAnalysis()));
        await using var traffic = new TrafficGenerator(cluster, ns, "sales");
        await harness.WaitForAsync("sales", d => d.Status?.CurrentStep == 1 && d.Status.Analysis?.Successful >= 1,
            "a successful canary measurement", 120);

        var injected = await cluster.InjectCanaryFaultAsync(ns, "sales", 0.5);
        Assert.That(injected, Is.EqualTo(1));
        var clock = Stopwatch.StartNew();
        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Degraded, "rolled back", 60);
        var decided = clock.Elapsed;
        await harness.WaitForTrackAsync("sales", "canary", d => d?.Spec.Replicas == 0 && (d.Status?.ReadyReplicas ?? 0) == 0,
            "canary pods gone", 60);
        var drained = clock.Elapsed;
        TestContext.Progress.WriteLine($"rollback decided {decided.TotalSeconds:F1}s and canary drained {drained.TotalSeconds:F1}s after the fault");

        var status = md.Status!;
        Assert.That(status.AbortReason, Does.Match(@"error-rate=0\.\d+ above max 0\.05"));
        Assert.That(status.AbortReason, Does.Contain("failureLimit 2"));
        Assert.That(status.Find(ModelDeploymentReconciler.DegradedCondition)!.Message, Is.EqualTo(status.AbortReason));
        Assert.That(status.StableVersion, Is.EqualTo("sales-v1"));
        Assert.That(harness.Rollbacks("sales"), Is.EqualTo(1));
        Assert.That((await harness.TrackAsync("sales", "stable"))!.Spec.Replicas, Is.EqualTo(2));
        Assert.That(decided, Is.LessThan(TimeSpan.FromSeconds(20)), "2 failed measurements at a 2 s interval, 1 s scrape, 6 s window");
        Assert.That(traffic.Count("stable", s => s == 200), Is.GreaterThan(0));
    }

    [Test]
    public async Task HealthyCanary_IsPromotedAfterAnalysis()
    {
        var (harness, ns) = await StartAsync();
        await using var _ = harness;
        await StableThenCanaryAsync(harness, Spec("8s", FastAnalysis()));
        await using var traffic = new TrafficGenerator(cluster, ns, "sales");

        var md = await harness.WaitForAsync("sales", d => d.Status?.StableVersion == "sales-v2", "v2 promoted", 120);
        // 503 is a draining server (the canary Pod is stopped at promotion, a moment before the status says so).
        var canaryErrors = traffic.Count("canary", s => s >= 500 && s != 503);
        Assert.That(md.Status!.History!.Last().Outcome, Is.EqualTo("Promoted"));
        Assert.That(md.Status.History!.Last().Reason, Is.EqualTo("all canary steps passed"));
        Assert.That(harness.Rollbacks("sales"), Is.EqualTo(0));
        await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "healthy on v2", 120);
        await harness.WaitForTrackAsync("sales", "canary", d => d?.Spec.Replicas == 0, "canary scaled down");
        Assert.That(canaryErrors, Is.EqualTo(0), string.Join(", ", traffic.Answers.Select(a => $"{a.Key.Track} {a.Key.Status}: {a.Value}")));
    }

    [Test]
    public async Task CanaryWithoutTraffic_StaysInconclusive_AndPausesInsteadOfRollingBack()
    {
        var (harness, _) = await StartAsync();
        await using var h = harness;
        await StableThenCanaryAsync(harness, Spec("60s", FastAnalysis(inconclusiveLimit: 2)));

        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused", 120);
        var paused = md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!;
        Assert.That(paused.Reason, Is.EqualTo("AnalysisInconclusive"));
        Assert.That(md.Status!.Analysis!.Inconclusive, Is.EqualTo(2));
        Assert.That(md.Status!.Analysis.Failed, Is.EqualTo(0));
        Assert.That(md.Status!.Analysis.Measurements!.Last().Message, Does.Contain("fewer than minSampleCount 20"));
        Assert.That(md.Status!.AbortReason, Is.Null);
        Assert.That(harness.Rollbacks("sales"), Is.EqualTo(0));
        Assert.That((await harness.TrackAsync("sales", "canary"))!.Spec.Replicas, Is.EqualTo(1), "the canary is held, not removed");
    }

    [Test]
    public async Task PrometheusUnreachable_DoesNotRollBack_AndStableKeepsServing()
    {
        var (harness, ns) = await StartAsync(prometheusAddress: "http://127.0.0.1:1");
        await using var h = harness;
        var analysis = FastAnalysis();
        analysis.ErrorLimit = 2;
        await StableThenCanaryAsync(harness, Spec("60s", analysis));
        await using var traffic = new TrafficGenerator(cluster, ns, "sales");

        var md = await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "paused", 120);
        Assert.That(md.Status!.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo("AnalysisError"));
        var servedBefore = traffic.Count("stable", s => s == 200);
        await Task.Delay(3000);
        md = await harness.GetAsync("sales");
        Assert.That(md.Status!.Phase, Is.EqualTo(ModelDeploymentStatus.Paused));
        Assert.That(md.Status!.StableVersion, Is.EqualTo("sales-v1"));
        Assert.That(harness.Rollbacks("sales"), Is.EqualTo(0));
        Assert.That(traffic.Count("stable", s => s == 200), Is.GreaterThan(servedBefore), "stable keeps answering while paused");
        // The stable Pod removed when the canary took its share may refuse (503, connection closed) while it drains.
        Assert.That(traffic.Count("stable", s => s >= 500 && s != 503), Is.EqualTo(0),
            string.Join(", ", traffic.Answers.Select(a => $"{a.Key.Track} {a.Key.Status}: {a.Value}")));
    }

    [Test]
    public async Task TwoDeploymentsOfTheSameVersion_AreEachJudgedOnTheirOwnTraffic()
    {
        // Needs the model server's deployment label (CD4ML_DEPLOYMENT): without it both canaries' series look alike.
        var (harness, ns) = await StartAsync();
        await using var h = harness;
        await harness.CreateVersionAsync("sales", 1, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
        await harness.CreateDeploymentAsync("busy", Spec("60s", FastAnalysis(inconclusiveLimit: 2)));
        await harness.CreateDeploymentAsync("idle", Spec("60s", FastAnalysis(inconclusiveLimit: 2)));
        await harness.WaitForAsync("busy", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "busy healthy", 120);
        await harness.WaitForAsync("idle", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "idle healthy", 120);
        await harness.CreateVersionAsync("sales", 2, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
        await using var traffic = new TrafficGenerator(cluster, ns, "busy");

        await harness.WaitForAsync("busy", d => d.Status?.Analysis?.Successful >= 1, "busy's canary passes a measurement on its traffic", 120);
        var idle = await harness.WaitForAsync("idle", d => d.Status?.Phase == ModelDeploymentStatus.Paused, "idle paused", 120);
        Assert.That(idle.Status!.Find(ModelDeploymentReconciler.PausedCondition)!.Reason, Is.EqualTo("AnalysisInconclusive"));
        Assert.That((idle.Status!.Analysis!.Successful, idle.Status.Analysis.Failed), Is.EqualTo((0, 0)),
            "the idle canary served nothing: busy's requests to the same version must not count for it");
        Assert.That(idle.Status.Analysis.Measurements!.Last().Message, Does.Contain("fewer than minSampleCount 20"));
        Assert.That(traffic.Count("canary", s => s == 200), Is.GreaterThan(20));
    }
}
