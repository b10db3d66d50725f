using Cd4ml.Api.V1Alpha1;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Kubectl.Tests;

/// <summary>`kubectl cd4ml get`: trees built from what the API server returns.</summary>
public sealed class GetTests
{
    [Test]
    public async Task TrainingRun_ShowsAttemptsNewestFirst_WithMetricsGatesAndTheModelVersionEachRegistered()
    {
        var cluster = await PluginCluster.StartAsync("get-tr");
        await cluster.CreateAsync(Samples.Run("sales-forecast", Algorithm.LightGbm, "31", 0.412));
        await cluster.CreateAsync(Samples.Version(1, "sales-forecast", "20", Samples.DigestA, 0.45, approved: true));
        await cluster.CreateAsync(Samples.Version(2, "sales-forecast", "31", Samples.DigestB, 0.412, approved: false));

        var result = await cluster.RunAsync("get", "tr", "sales-forecast");
        TestContext.Out.WriteLine(result.Output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var lines = result.Output.Split('\n');
        Assert.Multiple(() =>
        {
            Assert.That(lines[0], Is.EqualTo("TrainingRun sales-forecast  model sales  Succeeded  gates 2/2 passed"));
            Assert.That(result.Output, Does.Contain("dataset s3://data/sales/2026-11.csv  sha256:9999aaaa2222"));
            Assert.That(result.Output, Does.Contain("attempt 2  Succeeded  rmse=0.412  job sales-forecast-2  dataset sha256:9999aaaa2222"));
            Assert.That(result.Output, Does.Contain("metrics  r2=0.91  rmse=0.412  worstSlice.rmse=0.48  trainRows=8000"));
            Assert.That(result.Output, Does.Contain("✔ rmse < 0.5  (got 0.412)"));
            Assert.That(result.Output, Does.Contain("✔ worstSlice.rmse < 0.6  (got 0.48)"));
            Assert.That(result.Output, Does.Contain("ModelVersion sales-2  v2  Ready  ○ not approved"));
            Assert.That(result.Output, Does.Contain("attempt 1  Succeeded  rmse=0.45  job sales-forecast-1  dataset sha256:1111aaaa2222"));
            Assert.That(result.Output, Does.Contain("ModelVersion sales-1  v1  Ready  ✔ approved  served by sales-api"));
            Assert.That(Index(lines, "attempt 2"), Is.LessThan(Index(lines, "sales-2  v2")));
            Assert.That(Index(lines, "sales-2  v2"), Is.LessThan(Index(lines, "attempt 1")), "each version sits under its attempt");
            Assert.That(Index(lines, "attempt 1"), Is.LessThan(Index(lines, "sales-1  v1")));
            Assert.That(result.Output, Does.Not.Contain("\u001b"), "piped output has no escape codes");
        });
    }

    [Test]
    public async Task Deployment_ShowsTracksWithPodsAndWeights_TheStep_AndEachMetricsLastMeasurementAgainstItsThreshold()
    {
        var cluster = await PluginCluster.StartAsync("get-mld");
        await cluster.CreateAsync(Samples.CanaryInAnalysis());
        await cluster.Client.AppsV1.CreateNamespacedDeploymentAsync(TrackWorkload("sales-api-stable", 3), cluster.Namespace);

        var result = await cluster.RunAsync("get", "mld", "sales-api");
        TestContext.Out.WriteLine(result.Output);

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.Multiple(() =>
        {
            Assert.That(result.Output, Does.StartWith("Deployment sales-api  model sales  Progressing"));
            Assert.That(result.Output, Does.Contain("stable  sales-1  pods 0/3 ready  weight 80%"));
            Assert.That(result.Output, Does.Contain("canary  sales-2  weight 20%  step 2/4 analysis"), "no canary workload: pods left out");
            Assert.That(result.Output, Does.Contain("analysis  ✔ 1 successful  ✘ 1 failed  ? 0 inconclusive  errors 0"));
            Assert.That(result.Output, Does.Contain("✔ error-rate = 0.012  (max 0.05)  250 requests  2026-11-30 12:01:00Z"));
            Assert.That(result.Output, Does.Contain("✘ latency-p99 = 1.4  (max 1)  250 requests  Failed: latency-p99=1.4 above max 1"));
            Assert.That(result.Output, Does.Not.Contain("= 0.01 "), "only the latest measurement of each metric");
            Assert.That(result.Output, Does.Contain("2026-11-30 12:00:00Z  sales-1  Deployed  first version of this deployment"));
            Assert.That(result.Output, Does.Not.Contain("paused").And.Not.Contain("rolled back"));
        });
    }

    [Test]
    public async Task WithoutName_ShowsEveryObjectOfTheKind_AndSaysSoWhenThereIsNone()
    {
        var cluster = await PluginCluster.StartAsync("get-all");
        var none = await cluster.RunAsync("get", "mv");
        await cluster.CreateAsync(Samples.Version(1, "sales-forecast", "20", Samples.DigestA, 0.45, approved: true));
        await cluster.CreateAsync(Samples.Version(2, "sales-forecast", "31", Samples.DigestB, 0.412, approved: false));

        var all = await cluster.RunAsync("get", "modelversions");
        TestContext.Out.WriteLine(all.Output);

        Assert.Multiple(() =>
        {
            Assert.That(none.ExitCode, Is.Zero, none.ToString());
            Assert.That(none.Output.Trim(), Is.EqualTo($"No modelversions.cd4ml.io found in namespace {cluster.Namespace}."));
            Assert.That(all.ExitCode, Is.Zero, all.ToString());
            Assert.That(all.Output, Does.StartWith("ModelVersion sales-1  v1  Ready  ✔ approved  served by sales-api  model sales"));
            Assert.That(all.Output, Does.Contain("\nModelVersion sales-2  v2  Ready  ○ not approved  model sales"));
            Assert.That(all.Output, Does.Contain("artifact s3://data/cd4ml/models/sales/sales-forecast/2/model.zip  sha256:aaaaaaaaaaaa  ✔ validated"));
            Assert.That(all.Output, Does.Contain("lineage  run sales-forecast attempt 2"));
            Assert.That(all.Output, Does.Contain("algorithm LightGbm  numberOfLeaves=31"));
        });
    }

    [Test]
    public async Task Watch_RedrawsWhenTheCanaryIsRolledBack_UntilCancelled()
    {
        var cluster = await PluginCluster.StartAsync("get-watch");
        await cluster.CreateAsync(Samples.CanaryInAnalysis());
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var output = new LockedWriter();
        var watching = PluginCluster.RunAsync(cluster.Plane.KubeconfigPath, ["-n", cluster.Namespace, "get", "mld", "sales-api", "--watch"],
            stop.Token, output);
        await WaitForAsync(() => output.Text.Contains("step 2/4 analysis", StringComparison.Ordinal), "the first tree");

        var deployment = (await cluster.GetAsync<ModelDeployment>("sales-api"))!;
        deployment.Status!.Phase = ModelDeploymentStatus.Degraded;
        deployment.Status.CanaryVersion = null;
        deployment.Status.CanaryWeight = 0;
        deployment.Status.AbortReason = "latency-p99=1.4 above max 1 (2 failed measurements, failureLimit 2)";
        deployment.Status.History!.Add(new RolloutRecord
        {
            Version = "sales-2", Outcome = "RolledBack", Reason = deployment.Status.AbortReason, Time = new DateTime(2026, 11, 30, 12, 2, 0, DateTimeKind.Utc),
        });
        await cluster.ReplaceStatusAsync(deployment);
        await WaitForAsync(() => output.Text.Contains("↩ rolled back", StringComparison.Ordinal), "the redrawn tree");
        await stop.CancelAsync();
        var result = await watching;
        TestContext.Out.WriteLine(result.Output);

        Assert.Multiple(() =>
        {
            Assert.That(result.ExitCode, Is.Zero, result.ToString());
            var redrawn = result.Output[result.Output.LastIndexOf("Deployment sales-api", StringComparison.Ordinal)..];
            Assert.That(redrawn, Does.StartWith("Deployment sales-api  model sales  Degraded"));
            Assert.That(redrawn, Does.Contain("stable  sales-1  weight 100%"));
            Assert.That(redrawn, Does.Contain("↩ rolled back: latency-p99=1.4 above max 1 (2 failed measurements, failureLimit 2)"));
            Assert.That(redrawn, Does.Contain("sales-2  RolledBack"));
            Assert.That(redrawn, Does.Not.Contain("canary"));
            Assert.That(result.Output.Split("Deployment sales-api").Length - 1, Is.EqualTo(2), "drawn once per change, not per event");
        });
    }

    private static int Index(string[] lines, string text) => Array.FindIndex(lines, l => l.Contains(text, StringComparison.Ordinal));

    private static async Task WaitForAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline)
            {
                Assert.Fail($"timed out waiting for {what}");
            }

            await Task.Delay(100);
        }
    }

    private static V1Deployment TrackWorkload(string name, int replicas)
    {
        var labels = new Dictionary<string, string> { ["app"] = name };
        return new V1Deployment
        {
            Metadata = new V1ObjectMeta { Name = name },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = labels },
                Template = new V1PodTemplateSpec
                {
                    Metadata = new V1ObjectMeta { Labels = labels },
                    Spec = new V1PodSpec { Containers = [new V1Container { Name = "model-server", Image = "cd4ml:test" }] },
                },
            },
        };
    }
}
