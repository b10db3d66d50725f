// rollout.rollback_latency: with a 5 s scrape and a 5 s analysis interval (default window, failureLimit 2), the time
// from the moment the canary's error rate jumps past the threshold (fault injected) to the canary being scaled to 0
// (weight 0: every ready Pod left serves stable). Median of N runs; ratio = latency / analysis interval.
using System.Diagnostics;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Tests.Rollouts;

var runs = args.Length > 0 ? int.Parse(args[0]) : 3;
var interval = TimeSpan.FromSeconds(5);
await using var cluster = await ServingCluster.StartAsync(interval, Console.Out);

var latencies = new List<double>();
for (var run = 1; run <= runs; run++)
{
    await using var harness = await RolloutHarness.StartAsync(cluster.Plane, cluster.Prometheus.Address.ToString(), ServingCluster.Image);
    var ns = harness.Namespace;
    await cluster.CreateStorageSecretAsync(ns);
    await harness.CreateVersionAsync("sales", 1, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
    await harness.CreateDeploymentAsync("sales", new ModelDeploymentSpec
    {
        ModelName = "sales",
        Replicas = 2,
        Storage = cluster.Storage,
        Strategy = new RolloutStrategy
        {
            Canary = new CanaryStrategy
            {
                Steps = [new CanaryStep { SetWeight = 50 }, new CanaryStep { Analysis = new AnalysisStep { Duration = "10m" } }],
                Analysis = new AnalysisSpec { Interval = "5s" },
            },
        },
    });
    await harness.WaitForAsync("sales", d => d.Status?.Phase == ModelDeploymentStatus.Healthy, "v1 healthy", 180);
    await harness.CreateVersionAsync("sales", 2, uri: cluster.ModelUri, sha256: cluster.ModelSha256);
    await using var traffic = new TrafficGenerator(cluster, ns, "sales");
    await harness.WaitForAsync("sales", d => d.Status?.CurrentStep == 1 && d.Status.Analysis?.Successful >= 2,
        "two successful canary measurements", 180);

    await cluster.InjectCanaryFaultAsync(ns, "sales", 0.5);
    var clock = Stopwatch.StartNew();
    await harness.WaitForTrackAsync("sales", "canary", d => d?.Spec.Replicas == 0, "canary scaled to 0", 120);
    var latency = clock.Elapsed.TotalSeconds;
    var md = await harness.GetAsync("sales");
    Console.WriteLine($"run {run}: traffic back on stable {latency:F1}s after the fault; phase {md.Status?.Phase}; {md.Status?.AbortReason}");
    latencies.Add(latency);
}

latencies.Sort();
var median = latencies[latencies.Count / 2];
Console.WriteLine($"rollout.rollback_latency: {median:F1}s interval={interval.TotalSeconds:0}s ratio={median / interval.TotalSeconds:F2} " +
                  $"(target <= 15s) runs=[{string.Join(", ", latencies.Select(l => l.ToString("F1", System.Globalization.CultureInfo.InvariantCulture)))}]");
return 0;
