using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Tests.Rollouts;
using Cd4ml.Operator.Tests.Training;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Training.Datasets;
using k8s.Models;
using Microsoft.Extensions.DependencyInjection;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Loop;

/// <summary>
/// The loop back from production, end to end with the whole operator in-process, training Jobs and model servers run
/// by the local kubelet, a real Prometheus and s3rver: v1 trained and served → production traffic whose inputs have
/// drifted from the training data, with feedback labels → the Deployment turns Drifting → the TrainingRun retrains on
/// its dataset plus the logged predictions joined with feedback → v2 registered with that lineage → canary → promoted.
/// </summary>
[NonParallelizable]
public sealed class ProductionLoopEndToEndTests
{
    private const double PatienceSeconds = 240;

    [Test]
    public async Task DriftingTraffic_RetrainsOnCuratedProductionData_AndTheNewVersionIsCanariedAndPromoted()
    {
        await using var cluster = await ServingCluster.StartAsync(TimeSpan.FromSeconds(1), TestContext.Progress,
            extraEnvironment: ["CD4ML_LOG_FLUSH_INTERVAL=2s", "CD4ML_DRIFT_MIN_ROWS=50"]);
        await using var env = await TrainingEnvironment.StartAsync(cluster, "loop",
            services => services.AddSingleton(new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry())));
        var ns = env.Namespace;
        var bucket = env.Bucket;
        var dataset = await env.UploadRetailAsync("retail", rows: 1500, seed: 5);

        var runs = env.Runs;
        var versions = env.Versions;
        var deployments = new ResourceClient<ModelDeployment>(env.Client);

        // v1: trained from the base dataset; the run also watches the Deployment for drift and curates from its logs.
        await runs.CreateAsync(new TrainingRun
        {
            Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = ns },
            Spec = new TrainingRunSpec
            {
                ModelName = "sales",
                Dataset = new DatasetSpec
                {
                    Uri = dataset,
                    LabelColumn = RetailDatasetGenerator.LabelColumn,
                    FromFeedback = new FromFeedbackSpec { Deployment = "sales", Window = "1h" },
                },
                Trainer = new TrainerSpec { Hyperparameters = new Dictionary<string, string> { ["numberOfTrees"] = "20" } },
                Output = new OutputSpec { Uri = bucket.Combine("runs/sales/").ToString() },
                Storage = env.Storage,
                RetrainOn = new RetrainOnSpec { Drift = new DriftTrigger { Deployment = "sales", MinInterval = "0s" } },
                NodeSelector = new Dictionary<string, string> { ["kubernetes.io/hostname"] = env.NodeName },
                ActiveDeadlineSeconds = 300,
            },
        });
        var v1 = await env.WaitForAsync(runs, "sales", r => r.Status?.Phase == TrainingRunStatus.Succeeded && r.Status.ModelVersion is not null,
            "v1 trained and registered", PatienceSeconds);
        var v1Name = v1.Status!.ModelVersion!;
        await ApproveAsync(versions, ns, v1Name);

        await deployments.CreateAsync(new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = "sales", NamespaceProperty = ns },
            Spec = new ModelDeploymentSpec
            {
                ModelName = "sales",
                Replicas = 2,
                Storage = env.Storage,
                Monitoring = new MonitoringSpec
                {
                    LogSampleRate = 1,
                    LogUri = bucket.Combine("logs/").ToString(),
                    Drift = new DriftSpec { Max = 0.2, Window = "1m", CheckInterval = "3s" },
                },
                Strategy = new RolloutStrategy
                {
                    Canary = new CanaryStrategy
                    {
                        Steps = [new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "10s" } }],
                        Analysis = new AnalysisSpec
                        {
                            Interval = "2s", Window = "6s", FailureLimit = 2, InconclusiveLimit = 5, MinSampleCount = 5,
                            Metrics = [new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = 0.05 }],
                        },
                    },
                },
            },
        });
        await env.WaitForAsync(deployments, "sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy && d.Status.StableVersion == v1Name,
            "v1 serving", PatienceSeconds);

        // Production: every request is the same row with an unseen store, far from the training distribution; each
        // prediction gets its true label back as feedback.
        await using var traffic = new FeedbackTraffic(cluster, ns, "sales", ShiftedRow(cluster.RequestBody));
        var drifting = await env.WaitForAsync(deployments, "sales",
            d => d.Status?.Find("Drifting") is { Status: Condition.True }, "the Deployment to turn Drifting", PatienceSeconds);
        var status = drifting.Status!;
        TestContext.Out.WriteLine($"Drifting: {status.Find("Drifting")!.Message}");
        Assert.That(status.Monitoring?.Drift, Is.Not.Empty, "the most drifted features are shown");

        var retrained = await env.WaitForAsync(runs, "sales",
            r => r.Status?.Attempt >= 2 && r.Status.Phase == TrainingRunStatus.Succeeded && r.Status.ModelVersion != v1Name,
            "the drift-triggered attempt trained and registered v2", PatienceSeconds);
        var v2 = (await versions.GetAsync(ns, retrained.Status!.ModelVersion!))!;
        var production = v2.Spec.Lineage?.Production;
        TestContext.Out.WriteLine($"v2 {v2.Metadata.Name}: {JsonSerializer.Serialize(production)}; traffic {traffic.Summary}");
        Assert.That(production, Is.Not.Null, "the lineage names the production data");
        Assert.That(production!.Deployment, Is.EqualTo("sales"));
        Assert.That(production.Rows, Is.GreaterThan(0), "logged predictions joined with feedback went into the training set");
        Assert.That(production.Objects, Is.Not.Empty, "the prediction-log and feedback objects it read");
        Assert.That(production.CuratedDatasetUri, Does.StartWith("s3://"));
        Assert.That(await cluster.S3.Store.ExistsAsync(S3Location.Parse(production.CuratedDatasetUri!)), Is.True,
            "the curated dataset is kept");
        var history = retrained.Status.History!.Last();
        Assert.That(history.Trigger, Is.EqualTo("Drift"), "the attempt says drift started it");

        await ApproveAsync(versions, ns, v2.Metadata.Name);
        var promoted = await env.WaitForAsync(deployments, "sales",
            d => d.Status?.Phase == ModelDeploymentStatus.Healthy && d.Status.StableVersion == v2.Metadata.Name, "v2 canaried and promoted", PatienceSeconds);
        Assert.That(promoted.Status!.History!.Select(h => (h.Version, h.Outcome)),
            Does.Contain((v2.Metadata.Name, "Promoted")));
    }

    private static string ShiftedRow(string body)
    {
        var row = JsonNode.Parse(body)!.AsObject();
        row["store_nbr"] = 9999;
        row["item_nbr"] = 999999;
        return row.ToJsonString();
    }

    private static async Task ApproveAsync(ResourceClient<ModelVersion> versions, string ns, string name) =>
        await versions.PatchAsync(ns, name, new V1Patch("""{"spec":{"approved":true}}""", V1Patch.PatchType.MergePatch));

    /// <summary>/predict to the Deployment's ready pods with one fixed row, then /feedback with a label for each answer.</summary>
    private sealed class FeedbackTraffic : IAsyncDisposable
    {
        private readonly CancellationTokenSource stop = new();
        private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };
        private readonly Task loop;
        private int predictions;
        private int feedback;
        private int failures;

        public FeedbackTraffic(ServingCluster cluster, string ns, string deployment, string body) =>
            loop = Task.Run(() => RunAsync(cluster, ns, deployment, body));

        public string Summary => $"{predictions} predictions, {feedback} feedback, {failures} failures";

        private async Task RunAsync(ServingCluster cluster, string ns, string deployment, string body)
        {
            var random = new Random(7);
            IReadOnlyList<(string Ip, string Track)> pods = [];
            var refreshed = DateTime.MinValue;
            while (!stop.IsCancellationRequested)
            {
                try
                {
                    if (DateTime.UtcNow - refreshed > TimeSpan.FromSeconds(1))
                    {
                        pods = await cluster.ReadyPodsAsync(ns, deployment);
                        refreshed = DateTime.UtcNow;
                    }

                    if (pods.Count == 0)
                    {
                        await Task.Delay(200, stop.Token);
                        continue;
                    }

                    var (ip, _) = pods[random.Next(pods.Count)];
                    using var answer = await http.PostAsync($"http://{ip}:8080/predict",
                        new StringContent(body, Encoding.UTF8, "application/json"), stop.Token);
                    if (!answer.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref failures);
                        continue;
                    }

                    Interlocked.Increment(ref predictions);
                    using var json = JsonDocument.Parse(await answer.Content.ReadAsStringAsync(stop.Token));
                    var id = json.RootElement.GetProperty("predictions")[0].GetProperty("predictionId").GetString();
                    var label = 5 + random.NextDouble() * 20;
                    using var posted = await http.PostAsJsonAsync($"http://{ip}:8080/feedback",
                        new Dictionary<string, object?> { ["predictionId"] = id, ["label"] = label }, stop.Token);
                    if (posted.IsSuccessStatusCode)
                    {
                        Interlocked.Increment(ref feedback);
                    }

                    await Task.Delay(20, stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                }
                catch (Exception e) when (e is HttpRequestException or TaskCanceledException or JsonException or KeyNotFoundException)
                {
                    Interlocked.Increment(ref failures);
                }
            }
        }

        public async ValueTask DisposeAsync()
        {
            await stop.CancelAsync();
            await loop;
            http.Dispose();
            stop.Dispose();
        }
    }
}
