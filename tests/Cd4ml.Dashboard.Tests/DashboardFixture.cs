using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.LocalCluster;
using Cd4ml.Operator.Dashboard;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Testing;
using k8s;
using k8s.Autorest;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Playwright;
using NUnit.Framework;

namespace Cd4ml.Dashboard.Tests;

/// <summary>
/// A live control plane with one model's runs, versions and Deployments as the operator would have left them (written
/// through the API, statuses included), the dashboard served from informer caches of that namespace, and a headless
/// Debian chromium driven by Playwright.
/// </summary>
public sealed class DashboardFixture : IAsyncDisposable
{
    public const string Model = "churn";
    public const string RolledBack = "churn";
    public const string Progressing = "churn-eu";

    /// <summary>auc of v1, v2, v3: what the model page must plot.</summary>
    public static readonly double[] Auc = [0.78, 0.84, 0.91];

    public const double AucGate = 0.8;
    public const double ErrorRateMax = 0.05;
    public const string AbortReason = "Rollout of churn-v3 rolled back: error-rate=0.2 above max 0.05";
    public const string DatasetDigest = "sha256:5f0c7e1d2b9a4c3e8d7f6a5b4c3d2e1f0a9b8c7d6e5f4a3b2c1d0e9f8a7b6c5d";

    /// <summary>Where the rollout's story starts; every event and measurement is placed after it.</summary>
    public static readonly DateTime Start = new DateTime(2026, 11, 30, 12, 0, 0, DateTimeKind.Utc);

    private readonly CancellationTokenSource stop = new();
    private Task? informers;

    public required string Namespace { get; init; }
    public required string Url { get; init; }
    public required WebApplication App { get; init; }
    public required InformerRegistry Registry { get; init; }
    public IPlaywright? Playwright { get; private set; }
    public IBrowser? Browser { get; private set; }

    public static async Task<DashboardFixture> StartAsync()
    {
        var plane = await ControlPlane.SharedAsync();
        var client = plane.CreateClient();
        await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
        var ns = await plane.CreateNamespaceAsync("dashboard");
        await SeedAsync(client, ns);

        var url = $"http://127.0.0.1:{LoopbackPorts.Free()}";
        var registry = new InformerRegistry(client, ns, new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry()),
            NullLoggerFactory.Instance);
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(url);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton<IKubernetes>(client);
        builder.Services.AddSingleton(registry);
        builder.Services.AddDashboard();
        var app = builder.Build();
        app.MapDashboard();
        await app.StartAsync();

        var fixture = new DashboardFixture { Namespace = ns, Url = url, App = app, Registry = registry };
        // The operator's controller manager runs these informers; this host has no controllers, so that no reconcile
        // rewrites the statuses seeded above.
        fixture.informers = Task.WhenAll(registry.All.Select(i => i.RunAsync(fixture.stop.Token)));
        using var synced = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await Task.WhenAll(registry.All.Select(i => i.WaitForSyncAsync(synced.Token)));

        fixture.Playwright = await Microsoft.Playwright.Playwright.CreateAsync();
        fixture.Browser = await fixture.Playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            // Debian's chromium: Playwright downloads no browser of its own.
            ExecutablePath = Environment.GetEnvironmentVariable("CD4ML_CHROMIUM") ?? "/usr/bin/chromium",
            Headless = true,
            Args = ["--no-sandbox"], // tests run as root
        });
        return fixture;
    }

    /// <summary>A page of the dashboard, with the browser's refresh turned off so nothing reloads under an assertion.</summary>
    public async Task<IPage> OpenAsync(string path)
    {
        var page = await Browser!.NewPageAsync(new BrowserNewPageOptions { ViewportSize = new ViewportSize { Width = 1200, Height = 640 } });
        var response = await page.GotoAsync($"{Url}{path}{(path.Contains('?') ? '&' : '?')}refresh=0");
        Assert.That(response?.Status, Is.EqualTo(200), $"GET {path}");
        return page;
    }

    /// <summary>Saves a full-page screenshot under artifacts/screenshots/ (kept by CI as a test artifact).</summary>
    public static async Task<string> ScreenshotAsync(IPage page, string name)
    {
        var path = RepositoryRoot.Combine("artifacts", "screenshots", $"{name}.png");
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
        TestContext.AddTestAttachment(path);
        return path;
    }

    public async ValueTask DisposeAsync()
    {
        if (Browser is not null)
        {
            await Browser.CloseAsync();
        }

        Playwright?.Dispose();
        await stop.CancelAsync();
        if (informers is not null)
        {
            await informers;
        }

        await App.StopAsync();
        await App.DisposeAsync();
        stop.Dispose();
    }

    private static async Task SeedAsync(IKubernetes client, string ns)
    {
        var runs = new ResourceClient<TrainingRun>(client);
        var versions = new ResourceClient<ModelVersion>(client);
        var deployments = new ResourceClient<ModelDeployment>(client);

        var run = await runs.CreateAsync(new TrainingRun
        {
            Metadata = new V1ObjectMeta { Name = "churn-weekly", NamespaceProperty = ns },
            Spec = new TrainingRunSpec
            {
                ModelName = Model,
                Dataset = new DatasetSpec { Uri = "s3://datasets/churn/2026-11.csv", LabelColumn = "churned" },
                Gates = [new QualityGate { Metric = "auc", Comparison = Comparison.GreaterThanOrEqual, Value = AucGate }],
            },
        });
        run.Status = new TrainingRunStatus
        {
            Phase = TrainingRunStatus.Succeeded,
            Attempt = 3,
            Headline = "auc=0.91",
            GatesSummary = "1/1 passed",
            ModelVersion = "churn-v3",
            DatasetDigest = DatasetDigest,
            Gates = [new GateResult { Metric = "auc", Comparison = "GreaterThanOrEqual", Threshold = AucGate, Value = 0.91, Passed = true }],
            History =
            [
                Attempt(1, "Succeeded", "churn-v1", "auc=0.78", "sha256:1111", Start.AddDays(-14)),
                Attempt(2, "Succeeded", "churn-v2", "auc=0.84", "sha256:2222", Start.AddDays(-7)),
                Attempt(3, "Succeeded", "churn-v3", "auc=0.91", DatasetDigest, Start.AddMinutes(-30)),
            ],
        };
        await runs.ReplaceStatusAsync(run);

        for (var v = 1; v <= 3; v++)
        {
            var version = await versions.CreateAsync(new ModelVersion
            {
                Metadata = new V1ObjectMeta { Name = $"churn-v{v}", NamespaceProperty = ns },
                Spec = new ModelVersionSpec
                {
                    ModelName = Model,
                    Version = v,
                    Approved = v < 3,
                    Artifact = new ArtifactSpec { Uri = $"s3://models/churn/v{v}/model.zip", Sha256 = new string((char)('a' + v), 64) },
                    Metrics = new Dictionary<string, double> { ["auc"] = Auc[v - 1], ["logloss"] = 0.5 - 0.05 * v },
                    Lineage = new Lineage
                    {
                        TrainingRun = "churn-weekly",
                        Attempt = v,
                        DatasetUri = "s3://datasets/churn/2026-11.csv",
                        DatasetDigest = v == 3 ? DatasetDigest : $"sha256:{v}{v}{v}{v}",
                        Algorithm = "LightGbm",
                    },
                },
            });
            version.Status = new ModelVersionStatus { Phase = ModelVersionStatus.Ready, Validated = true };
            await versions.ReplaceStatusAsync(version);
        }

        var steps = new List<CanaryStep>
        {
            new() { SetWeight = 20 }, new() { Analysis = new AnalysisStep { Duration = "2m" } },
            new() { SetWeight = 50 }, new() { Analysis = new AnalysisStep { Duration = "2m" } },
        };
        var strategy = new RolloutStrategy
        {
            Canary = new CanaryStrategy
            {
                Steps = steps,
                Analysis = new AnalysisSpec { Metrics = [new AnalysisMetric { Name = "error-rate", Builtin = BuiltinMetric.ErrorRate, Max = ErrorRateMax }] },
            },
        };

        // A rollout of v3 that passed its first analysis at 20%, then failed at 50% and was rolled back.
        var rolledBack = await deployments.CreateAsync(new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = RolledBack, NamespaceProperty = ns },
            Spec = new ModelDeploymentSpec { ModelName = Model, Strategy = strategy },
        });
        rolledBack.Status = new ModelDeploymentStatus
        {
            Phase = ModelDeploymentStatus.Degraded,
            StableVersion = "churn-v2",
            AbortReason = AbortReason,
            ReadyReplicas = 2,
            Analysis = new AnalysisStatus
            {
                Successful = 1,
                Failed = 1,
                Measurements =
                [
                    Measurement("Successful", 0.01, Start.AddMinutes(4)),
                    Measurement("Failed", 0.2, Start.AddMinutes(8)),
                ],
            },
            History =
            [
                new RolloutRecord { Version = "churn-v2", Outcome = "Promoted", Reason = "all steps passed", Time = Start.AddDays(-7) },
                new RolloutRecord { Version = "churn-v3", Outcome = "RolledBack", Reason = AbortReason, Time = Start.AddMinutes(8) },
            ],
        };
        rolledBack = await deployments.ReplaceStatusAsync(rolledBack);
        // The events the operator records on the way (RolloutPlanner's reasons and messages).
        await EventAsync(client, rolledBack, "RolloutStarted", "Rolling out churn-v3 as canary of churn-v2 (traffic routing ReplicaRatio): new version", Start,
            new("churn-v3", 0));
        await EventAsync(client, rolledBack, "StepCompleted", "Step 1/4 setWeight 20 of churn-v3: weight 20 reached", Start.AddMinutes(1),
            new("churn-v3", 20, 0));
        await EventAsync(client, rolledBack, "StepCompleted", "Step 2/4 analysis 2m of churn-v3: analysis passed", Start.AddMinutes(5),
            new("churn-v3", 20, 1));
        await EventAsync(client, rolledBack, "StepCompleted", "Step 3/4 setWeight 50 of churn-v3: weight 50 reached", Start.AddMinutes(6),
            new("churn-v3", 50, 2));
        await EventAsync(client, rolledBack, ModelDeploymentReconciler.RolledBackReason, $"{AbortReason}; all traffic is back on churn-v2", Start.AddMinutes(8),
            new("churn-v3", 0));

        // Another Deployment of the same model, its canary at 20% now.
        var progressing = await deployments.CreateAsync(new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = Progressing, NamespaceProperty = ns },
            Spec = new ModelDeploymentSpec { ModelName = Model, Strategy = strategy },
        });
        progressing.Status = new ModelDeploymentStatus
        {
            Phase = ModelDeploymentStatus.Progressing,
            StableVersion = "churn-v2",
            CanaryVersion = "churn-v3",
            CanaryWeight = 20,
            RequestedWeight = 20,
            CurrentStep = 1,
            CurrentStepText = "2/4 analysis 2m",
            Analysis = new AnalysisStatus { Successful = 1, Measurements = [Measurement("Successful", 0.012, Start.AddMinutes(3))] },
        };
        await deployments.ReplaceStatusAsync(progressing);

        // Serving pods as the workloads label them: two on the stable track of the rolled-back Deployment.
        try
        {
            await client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = "default" } }, ns);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == System.Net.HttpStatusCode.Conflict)
        {
            // the controller-manager made it first
        }

        for (var i = 0; i < 2; i++)
        {
            await client.CoreV1.CreateNamespacedPodAsync(new V1Pod
            {
                Metadata = new V1ObjectMeta
                {
                    Name = $"churn-stable-{i}",
                    Labels = new Dictionary<string, string>
                    {
                        [ServingWorkloads.DeploymentLabel] = RolledBack,
                        [ServingWorkloads.TrackLabel] = "stable",
                        [ServingWorkloads.VersionLabel] = "churn-v2",
                    },
                },
                Spec = new V1PodSpec
                {
                    AutomountServiceAccountToken = false,
                    Containers = [new V1Container { Name = "server", Image = "cd4ml:test" }],
                },
            }, ns);
        }
    }

    private static AttemptRecord Attempt(int attempt, string phase, string version, string headline, string digest, DateTime start) => new()
    {
        Attempt = attempt, Phase = phase, ModelVersion = version, Headline = headline, DatasetDigest = digest,
        StartTime = start, CompletionTime = start.AddMinutes(3),
    };

    private static Measurement Measurement(string phase, double value, DateTime time) => new()
    {
        Metric = "error-rate", Phase = phase, Value = value, Threshold = $"max {ErrorRateMax}", SampleCount = 240, Time = time,
        Message = phase == "Failed" ? $"error-rate={value} above max {ErrorRateMax}" : $"error-rate={value} within max {ErrorRateMax}",
    };

    private static Task EventAsync(IKubernetes client, ModelDeployment deployment, string reason, string message, DateTime time,
        RolloutEventFields fields) =>
        client.CoreV1.CreateNamespacedEventAsync(new Corev1Event
        {
            Metadata = new V1ObjectMeta
            {
                GenerateName = $"{deployment.Metadata.Name}.", NamespaceProperty = deployment.Metadata.NamespaceProperty,
                Annotations = fields.ToAnnotations().ToDictionary(),
            },
            InvolvedObject = new V1ObjectReference
            {
                ApiVersion = ApiGroup.ApiVersion,
                Kind = ModelDeployment.KindName,
                Name = deployment.Metadata.Name,
                NamespaceProperty = deployment.Metadata.NamespaceProperty,
                Uid = deployment.Metadata.Uid,
            },
            Reason = reason,
            Message = message,
            Type = reason == ModelDeploymentReconciler.RolledBackReason ? "Warning" : "Normal",
            Source = new V1EventSource { Component = "cd4ml-operator" },
            FirstTimestamp = time,
            LastTimestamp = time,
            Count = 1,
        }, deployment.Metadata.NamespaceProperty);
}
