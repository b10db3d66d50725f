using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.Json.Nodes;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// The loop back from production on the Deployment side, against a real control plane and a real Prometheus that
/// scrapes a target the test controls: it exposes the serving contract's series (drift, live quality, request counts)
/// with the values each test needs, as model servers would. Also spec.autoscaling, the other half of running a model
/// in production: the HPA the operator owns, and replicas it leaves to the HPA.
/// </summary>
public sealed class MonitoringControllerTests
{
    private ControlPlane plane = null!;
    private PrometheusServer prometheus = null!;
    private ContractMetrics target = null!;

    [OneTimeSetUp]
    public async Task StartAsync()
    {
        var planeTask = ControlPlane.StartAsync(new ControlPlaneOptions { Scheduler = false });
        prometheus = await PrometheusServer.StartAsync(TimeSpan.FromSeconds(1));
        target = ContractMetrics.Start();
        await prometheus.SetTargetsAsync([(target.Address, new Dictionary<string, string>())]);
        await prometheus.WaitForTargetsUpAsync([target.Address]);
        plane = await planeTask;
        await RolloutHarness.InstallCrdsAsync(plane);
    }

    [OneTimeTearDown]
    public async Task StopAsync()
    {
        target.Dispose();
        await prometheus.DisposeAsync();
        await plane.DisposeAsync();
    }

    [Test]
    public async Task Drift_AboveMax_TurnsDriftingTrue_WithFeatureValueAndThreshold_ThenFalseWhenItFalls()
    {
        await using var harness = await RolloutHarness.StartAsync(plane, prometheus.Address.ToString());
        target.Series = () =>
            Gauge("cd4ml_feature_drift", "drift", "sales-v1", "stable", 0.41, "price") +
            Gauge("cd4ml_feature_drift", "drift", "sales-v1", "stable", 0.03, "store") +
            Gauge("cd4ml_prediction_drift", "drift", "sales-v1", "stable", 0.05) +
            Gauge("cd4ml_live_rmse", "drift", "sales-v1", "stable", 3.5);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("drift", new ModelDeploymentSpec
        {
            ModelName = "sales",
            Replicas = 1,
            Monitoring = new MonitoringSpec
            {
                LogSampleRate = 0.5, LogUri = "s3://logs/drift/",
                Drift = new DriftSpec { Max = 0.2, Window = "3s", CheckInterval = "1s" },
            },
        });

        var md = await harness.WaitForAsync("drift", d => d.Status?.IsTrue(MonitoringCheck.DriftingCondition) == true, "Drifting True", 60);
        var drifting = md.Status!.Find(MonitoringCheck.DriftingCondition)!;
        Assert.That(drifting.Message, Does.Contain("feature price PSI 0.41").And.Contain("above drift.max 0.2"));
        var monitoring = md.Status!.Monitoring!;
        Assert.That((monitoring.LogUri, monitoring.LogSampleRate), Is.EqualTo(("s3://logs/drift/", (double?)0.5)));
        Assert.That(monitoring.Drift!.Select(f => f.Feature), Is.EqualTo(new[] { "price", "store" }));
        Assert.That(monitoring.PredictionDrift, Is.EqualTo(0.05).Within(1e-9));
        Assert.That(monitoring.LiveQuality!.Single(), Has.Property("Metric").EqualTo("rmse").And.Property("Value").EqualTo(3.5)
            .And.Property("Track").EqualTo("stable"));
        // The gauge is set just after the status write that the wait above saw.
        await RolloutHarness.WaitAsync(() => Task.FromResult(harness.Metrics.Drifting.WithLabels(harness.Namespace, "drift").Value == 1),
            "cd4ml_deployment_drifting 1", 5);
        var env = (await harness.TrackAsync("drift", "stable"))!.Spec.Template.Spec.Containers[0].Env.ToDictionary(e => e.Name);
        Assert.That((env["CD4ML_LOG_URI"].Value, env["CD4ML_LOG_SAMPLE_RATE"].Value), Is.EqualTo(("s3://logs/drift/", "0.5")));

        target.Series = () => Gauge("cd4ml_feature_drift", "drift", "sales-v1", "stable", 0.02, "price") +
                              Gauge("cd4ml_prediction_drift", "drift", "sales-v1", "stable", 0.01);
        md = await harness.WaitForAsync("drift", d => d.Status?.Find(MonitoringCheck.DriftingCondition)?.Status == "False",
            "Drifting False", 60);
        Assert.That(md.Status!.Find(MonitoringCheck.DriftingCondition)!.Message, Does.Contain("no feature above drift.max 0.2"));
        // Events are recorded just after the status write.
        await RolloutHarness.WaitAsync(async () => (await harness.EventsAsync("drift")).Select(e => e.Reason).ToHashSet()
            .IsSupersetOf(["DriftDetected", "DriftResolved"]), "events DriftDetected and DriftResolved", 10);
        await RolloutHarness.WaitAsync(() => Task.FromResult(harness.Metrics.Drifting.WithLabels(harness.Namespace, "drift").Value == 0),
            "cd4ml_deployment_drifting 0", 5);
    }

    [Test]
    public async Task NoDriftSeries_IsUnknown_SayingThereIsNoProfileOrNoTraffic()
    {
        await using var harness = await RolloutHarness.StartAsync(plane, prometheus.Address.ToString());
        target.Series = () => "";
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("quiet", new ModelDeploymentSpec
        {
            ModelName = "sales", Replicas = 1, Monitoring = new MonitoringSpec { Drift = new DriftSpec { CheckInterval = "1s" } },
        });

        var md = await harness.WaitForAsync("quiet", d => d.Status?.Find(MonitoringCheck.DriftingCondition) is not null, "Drifting set");
        var drifting = md.Status!.Find(MonitoringCheck.DriftingCondition)!;
        Assert.That((drifting.Status, drifting.Reason), Is.EqualTo(("Unknown", "NoDriftData")));
        Assert.That(drifting.Message, Does.Contain("no training profile"));
    }

    [Test]
    public async Task CanaryWithGoodHttpButWorseLiveQuality_IsRolledBack()
    {
        await using var harness = await RolloutHarness.StartAsync(plane, prometheus.Address.ToString());
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        var started = DateTime.UtcNow;
        // Both tracks answer every request with 200; the canary's predictions are far off once feedback arrives.
        target.Series = () =>
        {
            var requests = Math.Floor((DateTime.UtcNow - started).TotalSeconds * 20);
            return Counter("cd4ml_predictions_total", "canary-ml", "sales-v1", "stable", requests) +
                   Counter("cd4ml_predictions_total", "canary-ml", "sales-v2", "canary", requests) +
                   Gauge("cd4ml_live_rmse", "canary-ml", "sales-v1", "stable", 5) +
                   Gauge("cd4ml_live_rmse", "canary-ml", "sales-v2", "canary", 12.5);
        };
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("canary-ml", new ModelDeploymentSpec
        {
            ModelName = "sales",
            Replicas = 2,
            Strategy = new RolloutStrategy
            {
                Canary = new CanaryStrategy
                {
                    Steps = [new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "60s" } }],
                    Analysis = new AnalysisSpec
                    {
                        Interval = "1s", Window = "5s", FailureLimit = 1, MinSampleCount = 5,
                        Metrics =
                        [
                            new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 },
                            new AnalysisMetric { Name = "live-quality", Builtin = BuiltinMetric.LiveQuality, MaxIncreaseOverStable = 2 },
                        ],
                    },
                },
            },
        });
        await harness.WaitForAsync("canary-ml", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        await harness.CreateVersionAsync("sales", 2);

        var md = await harness.WaitForAsync("canary-ml", d => d.Status?.Phase == ModelDeploymentStatus.Degraded, "rolled back", 60);
        Assert.That(md.Status!.AbortReason, Does.Contain("live-quality=12.5 exceeds stable 5 by more than 2"));
        Assert.That(md.Status.AbortReason, Does.Not.Contain("error-rate"), "HTTP was fine");
        Assert.That(md.Status.StableVersion, Is.EqualTo("sales-v1"));
        // The metric is counted just after the status write that the wait above saw.
        await RolloutHarness.WaitAsync(() => Task.FromResult(harness.Rollbacks("canary-ml") == 1), "one rollback counted", 5);
    }

    [Test]
    public async Task Autoscaling_CreatesAnOwnedHpaForTheStableTrack_LeavesItsReplicasToIt_AndRemovingItDeletesIt()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await harness.CreateVersionAsync("sales", 1);
        var owner = await harness.CreateDeploymentAsync("scaled", new ModelDeploymentSpec
        {
            ModelName = "sales",
            Autoscaling = new AutoscalingSpec { MinReplicas = 2, MaxReplicas = 6, TargetCpuUtilization = 70, TargetRequestsPerSecond = 50 },
        });

        // Kubernetes 1.20 serves autoscaling/v2beta2, newer clusters autoscaling/v2: the fields used are the same.
        var hpa = await HpaAsync(harness, "scaled-stable", 30);
        Assert.That(hpa, Is.Not.Null, "HPA created");
        var spec = hpa!["spec"]!;
        Assert.That((string?)spec["scaleTargetRef"]!["name"], Is.EqualTo("scaled-stable"));
        Assert.That((string?)spec["scaleTargetRef"]!["kind"], Is.EqualTo("Deployment"));
        Assert.That(((int?)spec["minReplicas"], (int?)spec["maxReplicas"]), Is.EqualTo(((int?)2, (int?)6)));
        var metrics = spec["metrics"]!.AsArray();
        Assert.That((int?)metrics.Single(m => (string?)m!["type"] == "Resource")!["resource"]!["target"]!["averageUtilization"], Is.EqualTo(70));
        var pods = metrics.Single(m => (string?)m!["type"] == "Pods")!["pods"]!;
        Assert.That(((string?)pods["metric"]!["name"], (string?)pods["target"]!["averageValue"]), Is.EqualTo(("cd4ml_requests_per_second", "50")));
        Assert.That((string?)hpa["metadata"]!["ownerReferences"]![0]!["uid"], Is.EqualTo(owner.Metadata.Uid));
        Assert.That((await harness.TrackAsync("scaled", "stable"))!.Spec.Replicas, Is.EqualTo(2), "created at minReplicas");

        // What the HPA does when load grows: the operator leaves the replicas as they are.
        await harness.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch("{\"spec\":{\"replicas\":5}}", V1Patch.PatchType.MergePatch), "scaled-stable", harness.Namespace);
        await harness.AnnotateAsync("scaled", "example.com/poke", "1");
        await Task.Delay(2000);
        Assert.That((await harness.TrackAsync("scaled", "stable"))!.Spec.Replicas, Is.EqualTo(5), "the HPA's replicas stand");

        var current = await harness.GetAsync("scaled");
        current.Spec.Autoscaling = null;
        await harness.Deployments.ReplaceAsync(current);
        await RolloutHarness.WaitAsync(async () => await HpaAsync(harness, "scaled-stable", 0) is null, "HPA deleted");
    }

    [Test]
    public async Task Autoscaling_CanaryReplicas_FollowTheStepsWeightOfTheCurrentStableTotal()
    {
        await using var harness = await RolloutHarness.StartAsync(plane);
        await using var pods = new FakePodReadiness(harness.Client, harness.Namespace);
        await harness.CreateVersionAsync("sales", 1);
        await harness.CreateDeploymentAsync("grown", new ModelDeploymentSpec
        {
            ModelName = "sales",
            Autoscaling = new AutoscalingSpec { MinReplicas = 2, MaxReplicas = 10 },
            Strategy = new RolloutStrategy { Canary = new CanaryStrategy { Steps = [new CanaryStep { SetWeight = 50 }, new CanaryStep { Pause = new PauseStep() }] } },
        });
        await harness.WaitForAsync("grown", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy");
        await harness.Client.AppsV1.PatchNamespacedDeploymentScaleAsync(
            new V1Patch("{\"spec\":{\"replicas\":4}}", V1Patch.PatchType.MergePatch), "grown-stable", harness.Namespace);
        await harness.WaitForTrackAsync("grown", "stable", d => d?.Status?.ReadyReplicas == 4, "4 stable pods ready");

        await harness.CreateVersionAsync("sales", 2);

        await harness.WaitForTrackAsync("grown", "canary", d => d?.Spec.Replicas == 4, "canary at 50% of all pods: 4 beside 4 stable");
        await harness.WaitForAsync("grown", d => d.Status?.CanaryWeight == 50 && d.Status.CurrentStepText?.Contains("pause") == true,
            "weight 50, then the pause step");
        Assert.That((await harness.TrackAsync("grown", "stable"))!.Spec.Replicas, Is.EqualTo(4), "stable untouched");
    }

    private static async Task<JsonNode?> HpaAsync(RolloutHarness harness, string name, double waitSeconds)
    {
        JsonNode? found = null;
        async Task<bool> Read()
        {
            foreach (var version in new[] { "v2", "v2beta2" })
            {
                try
                {
                    found = await harness.Client.CustomObjects.GetNamespacedCustomObjectAsync<JsonNode>(
                        "autoscaling", version, harness.Namespace, "horizontalpodautoscalers", name);
                    return true;
                }
                catch (k8s.Autorest.HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                }
            }

            found = null;
            return false;
        }

        if (waitSeconds <= 0)
        {
            await Read();
            return found;
        }

        await RolloutHarness.WaitAsync(Read, $"HPA {name}", waitSeconds);
        return found;
    }

    private static string Labels(string deployment, string version, string track, string? feature = null) =>
        $"model=\"sales\",version=\"{version}\",track=\"{track}\",deployment=\"{deployment}\"" +
        (feature is null ? "" : $",feature=\"{feature}\"");

    private static string Gauge(string name, string deployment, string version, string track, double value, string? feature = null) =>
        $"{name}{{{Labels(deployment, version, track, feature)}}} {value.ToString(CultureInfo.InvariantCulture)}\n";

    private static string Counter(string name, string deployment, string version, string track, double value) =>
        $"{name}{{{Labels(deployment, version, track)},outcome=\"success\"}} {value.ToString(CultureInfo.InvariantCulture)}\n";

    /// <summary>A scrape target on loopback whose exposition text the test sets, evaluated at each scrape.</summary>
    private sealed class ContractMetrics : IDisposable
    {
        private readonly HttpListener listener;

        private ContractMetrics(HttpListener listener, string address)
        {
            this.listener = listener;
            Address = address;
        }

        public string Address { get; }

        public Func<string> Series { get; set; } = () => "";

        public static ContractMetrics Start()
        {
            var probe = new TcpListener(IPAddress.Loopback, 0);
            probe.Start();
            var port = ((IPEndPoint)probe.LocalEndpoint).Port;
            probe.Stop();
            var listener = new HttpListener();
            listener.Prefixes.Add($"http://127.0.0.1:{port}/");
            listener.Start();
            var metrics = new ContractMetrics(listener, $"127.0.0.1:{port}");
            _ = Task.Run(metrics.ServeAsync);
            return metrics;
        }

        private async Task ServeAsync()
        {
            while (listener.IsListening)
            {
                HttpListenerContext context;
                try
                {
                    context = await listener.GetContextAsync();
                }
                catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
                {
                    return;
                }

                try
                {
                    var body = Encoding.UTF8.GetBytes(Series());
                    context.Response.ContentType = "text/plain; version=0.0.4";
                    await context.Response.OutputStream.WriteAsync(body);
                    context.Response.Close();
                }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
                {
                    // A scrape that timed out and hung up: the next one is served all the same.
                }
            }
        }

        public void Dispose() => listener.Close();
    }
}
