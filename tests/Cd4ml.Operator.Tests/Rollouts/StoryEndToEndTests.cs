using System.Diagnostics;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Entities;
using Cd4ml.Serving.Load;
using Cd4ml.Testing;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// The story `make run` tells, step by step through the API, with real model servers (local kubelet), a real Prometheus
/// and the built-in load generator (`cd4ml load`) as the traffic: v1 serves; v2 is canaried under that traffic and
/// promoted; a bad version (its canary answers half its requests with 500) is rolled back automatically with the reason.
/// And `promote --full` (annotation cd4ml.io/promote-full) ends a paused rollout at once.
/// </summary>
[NonParallelizable]
public sealed class StoryEndToEndTests : ServingClusterFixture
{
    private ModelDeploymentSpec Spec(params CanaryStep[] steps) => new()
    {
        ModelName = "sales",
        Replicas = 2,
        Storage = cluster.Storage,
        Strategy = new RolloutStrategy
        {
            Canary = new CanaryStrategy
            {
                Steps = [.. steps],
                Analysis = new AnalysisSpec
                {
                    Interval = "2s",
                    Window = "6s",
                    FailureLimit = 2,
                    InconclusiveLimit = 3,
                    MinSampleCount = 20,
                    Metrics = [new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 },
                               new AnalysisMetric { Name = "latency-p99", Builtin = BuiltinMetric.LatencyP99, Max = 2 }],
                },
            },
        },
    };

    [Test]
    public async Task Story_V2IsPromotedUnderTheLoadGeneratorsTraffic_ThenABadVersionIsRolledBackWithTheReason()
    {
        await using var harness = await cluster.StartHarnessAsync(allowFaultInjection: true);
        var ns = harness.Namespace;
        await harness.CreateVersionAsync("sales", 1, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
        await harness.CreateDeploymentAsync("sales-api",
            Spec(new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "8s" } }));
        await harness.WaitForAsync("sales-api", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy", 120);

        // The load generator, spreading requests over the ready Pods as kube-proxy would spread the Service's.
        await using var pods = new ReadyPods(cluster, ns, "sales-api");
        var rows = LoadRows.From(CsvTable.Parse(RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 500, Seed = 99 })),
            RetailDatasetGenerator.LabelColumn);
        var load = new LoadGenerator(pods.Pick, rows, new LoadSettings(Rate: 60, Concurrency: 4, Feedback: true), TimeProvider.System);
        using var stop = new CancellationTokenSource();
        var reports = new List<LoadReport>();
        var running = load.RunAsync(TimeSpan.FromSeconds(2), r => { lock (reports) { reports.Add(r); } }, stop.Token);

        await ControlPlane.WaitUntilAsync(() => Task.FromResult(load.AnsweredBy.GetValueOrDefault("sales-v1") >= 50),
            TimeSpan.FromSeconds(60), "v1 answers the load generator");

        // v2: canaried with analysis on the generator's traffic, then promoted.
        await harness.CreateVersionAsync("sales", 2, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
        var promoted = await harness.WaitForAsync("sales-api", d => d.Status?.StableVersion == "sales-v2", "v2 promoted", 120);
        Assert.That(promoted.Status!.History!.Last().Outcome, Is.EqualTo("Promoted"));
        Assert.That(promoted.Status.History!.Last().Reason, Is.EqualTo("all canary steps passed"));
        Assert.That(load.AnsweredBy.GetValueOrDefault("sales-v2"), Is.GreaterThan(0), "the canary answered part of the traffic");
        await harness.WaitForAsync("sales-api", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "healthy on v2", 120);

        // The bad version: its canary answers half of its requests with 500 (spec.faultInjection, what
        // examples/bad-model applies), so the analysis fails and the operator rolls it back on its own.
        await harness.Deployments.PatchAsync(ns, "sales-api", new V1Patch(
            """{"spec":{"faultInjection":{"errorRate":0.5}}}""", V1Patch.PatchType.MergePatch));
        var serverErrorsBefore = load.Count(5);
        await harness.CreateVersionAsync("sales", 3, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
        await harness.WaitForAsync("sales-api", d => d.Status?.CanaryVersion == "sales-v3", "v3 canary started", 60);
        var clock = Stopwatch.StartNew();
        var rolledBack = await harness.WaitForAsync("sales-api", d => d.Status?.Phase == ModelDeploymentStatus.Degraded, "v3 rolled back", 120);
        TestContext.Progress.WriteLine($"v3 rolled back {clock.Elapsed.TotalSeconds:F1}s after its rollout started");

        var status = rolledBack.Status!;
        Assert.That(status.StableVersion, Is.EqualTo("sales-v2"), "the last good version keeps serving");
        Assert.That(status.AbortReason, Does.StartWith("Rollout of sales-v3 rolled back: "));
        Assert.That(status.AbortReason, Does.Match(@"error-rate=0\.\d+ above max 0\.05"));
        Assert.That(status.History!.Select(h => (h.Version, h.Outcome)),
            Is.EqualTo(new[] { ("sales-v1", "Deployed"), ("sales-v2", "Promoted"), ("sales-v3", "RolledBack") }));
        Assert.That(status.History!.Last().Reason, Is.EqualTo(status.AbortReason));
        Assert.That(load.Count(5), Is.GreaterThan(serverErrorsBefore), "the bad canary's errors reached the client");
        await harness.WaitForTrackAsync("sales-api", "canary", d => d?.Spec.Replicas == 0 && (d.Status?.ReadyReplicas ?? 0) == 0,
            "bad canary pods gone", 60);
        var v2Before = load.AnsweredBy.GetValueOrDefault("sales-v2");
        await ControlPlane.WaitUntilAsync(() => Task.FromResult(load.AnsweredBy.GetValueOrDefault("sales-v2") >= v2Before + 50),
            TimeSpan.FromSeconds(60), "v2 keeps answering after the rollback");

        await stop.CancelAsync();
        await running;
        var totals = load.Totals;
        TestContext.Progress.WriteLine($"load generator: {totals.Describe()}");
        Assert.That(totals.FeedbackSent, Is.GreaterThan(0), "feedback with the true label was accepted");
        Assert.That(totals.ClientErrors, Is.Zero, "every generated row is a valid request");
        lock (reports)
        {
            Assert.That(reports, Is.Not.Empty, "one summary per interval");
        }
    }

    [Test]
    public async Task PromoteFullAnnotation_EndsAPausedRollout_AtOnce()
    {
        await using var harness = await cluster.StartHarnessAsync(allowFaultInjection: true);
        await harness.CreateVersionAsync("sales", 1, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
        await harness.CreateDeploymentAsync("sales-api", Spec(new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() },
            new CanaryStep { Analysis = new AnalysisStep { Duration = "10m" } }));
        await harness.WaitForAsync("sales-api", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy", 120);
        await harness.CreateVersionAsync("sales", 2, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
        await harness.WaitForAsync("sales-api", d => d.Status?.Find(ModelDeploymentReconciler.PausedCondition)?.Reason == "PauseStep",
            "v2 paused at its pause step", 120);

        await harness.AnnotateAsync("sales-api", ModelDeployment.PromoteFullAnnotation, "now");

        var md = await harness.WaitForAsync("sales-api", d => d.Status?.StableVersion == "sales-v2", "v2 promoted", 30);
        Assert.That(md.Status!.CanaryVersion, Is.Null);
        Assert.That(md.Status.History!.Last().Reason, Is.EqualTo("remaining steps skipped by annotation cd4ml.io/promote-full"));
        Assert.That(md.Status.Analysis?.Measurements, Is.Null.Or.Empty, "the 10-minute analysis step was skipped, not run");
        await harness.WaitForAsync("sales-api", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "healthy on v2", 120);
        await harness.WaitForTrackAsync("sales-api", "stable",
            d => d?.Spec.Template.Metadata.Labels[ServingWorkloads.VersionLabel] == "sales-v2" && d.Status?.ReadyReplicas == 2,
            "both stable pods serve v2", 120);
    }

    /// <summary>Ready Pods of a Deployment, refreshed every 250 ms; <see cref="Pick"/> chooses one uniformly.</summary>
    private sealed class ReadyPods : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly Task refresher;
        private volatile IReadOnlyList<Uri> servers = [];

        public ReadyPods(ServingCluster cluster, string ns, string deployment) => refresher = Task.Run(async () =>
        {
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    servers = [.. (await cluster.ReadyPodsAsync(ns, deployment)).Select(p => new Uri($"http://{p.Ip}:8080/"))];
                    await Task.Delay(250, stop.Token);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                catch (Exception)
                {
                    // The API server is busy: keep the last list.
                }
            }
        });

        /// <summary>A ready server; with none, an address that refuses (counted as a failed request).</summary>
        public Uri Pick()
        {
            var current = servers;
            return current.Count == 0 ? new Uri("http://127.0.0.1:1/") : current[Random.Shared.Next(current.Count)];
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await refresher;
            stop.Dispose();
        }
    }
}
