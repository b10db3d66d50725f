// runtime.reconcile_1000: the operator runtime vs. a plain KubernetesClient program doing the same writes.
// runtime.rss_10000_objects: resident memory of a process whose informer caches 10,000 objects, run as the operator ships:
// ReadyToRun-compiled (the Dockerfile's publish), with its Deployment's DOTNET_* settings, authenticated the in-cluster way.
using System.Collections.Concurrent;
using System.Diagnostics;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Hosting;
using Cd4ml.Runtime.LeaderElection;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Runtime.Status;
using Cd4ml.Runtime.TestHost;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using Microsoft.Extensions.Logging.Abstractions;

if (args is ["--rss-probe", var probeServer, var probeNamespace])
{
    return await RssProbe.RunAsync(probeServer, Environment.GetEnvironmentVariable(RssProbe.TokenVariable)!, probeNamespace);
}

var count = args.Length > 0 ? int.Parse(args[0]) : 1000;
var rssObjects = args.Length > 1 ? int.Parse(args[1]) : 10_000;
var rounds = args.Length > 2 ? int.Parse(args[2]) : 3;
const int InFlight = 16;

await using var plane = await ControlPlane.StartAsync(new ControlPlaneOptions { ControllerManager = false, Scheduler = false });
using var client = plane.CreateClient();
await WidgetCrd.InstallAsync(client);
var widgets = new ResourceClient<Widget>(client);

// Warm up connections and the JIT on both paths. The operator side runs up to 32 requests at once (16 creates plus 16
// workers), the plain side 16: with a warm-up of a few objects the first operator round opened its extra TLS connections
// inside the timed run (rounds 1 of three runs: 0.53, 0.68, 0.58 against 0.74-1.09 for the other rounds).
await PlainAsync(client, await plane.CreateNamespaceAsync("warm"), 200);
await OperatorAsync(client, await plane.CreateNamespaceAsync("warm"), 200);

// Rounds alternate the two sides (operator first, then plain first) so load that drifts on this shared machine hits
// both alike; the ratio is the median of the rounds' ratios.
var ratios = new List<double>();
for (var round = 1; round <= rounds; round++)
{
    TimeSpan operatorTime, plainTime;
    ReconcileCounts counts;
    if (round % 2 == 1)
    {
        (operatorTime, counts) = await OperatorAsync(client, await plane.CreateNamespaceAsync("operator"), count);
        plainTime = await PlainAsync(client, await plane.CreateNamespaceAsync("plain"), count);
    }
    else
    {
        plainTime = await PlainAsync(client, await plane.CreateNamespaceAsync("plain"), count);
        (operatorTime, counts) = await OperatorAsync(client, await plane.CreateNamespaceAsync("operator"), count);
    }

    ratios.Add(plainTime / operatorTime);
    Console.Error.WriteLine($"round {round}: operator={operatorTime.TotalSeconds:F2}s plain={plainTime.TotalSeconds:F2}s " +
                            $"ratio={plainTime / operatorTime:F2} reconciles={counts.Reconciles} " +
                            $"child_already_existed={counts.ChildAlreadyExisted} load={LoadAverage()}");
}

Console.WriteLine($"runtime.reconcile_{count}: ratio={Median(ratios):F2} (median of {rounds} rounds: " +
                  $"{string.Join(", ", ratios.Select(r => r.ToString("F2")))}; target >= 0.8)");

var rssNamespace = await plane.CreateNamespaceAsync("rss");
await ParallelAsync(rssObjects, i => widgets.CreateAsync(Widget.New(rssNamespace, $"r{i:D5}", i)));
var probeAssembly = await RssProbe.PublishReadyToRunAsync();
var connection = KubernetesClientConfiguration.BuildConfigFromConfigFile(plane.KubeconfigPath);
var probeStart = new ProcessStartInfo("dotnet")
{
    ArgumentList = { probeAssembly, "--rss-probe", connection.Host, rssNamespace },
    RedirectStandardOutput = true,
    Environment = { [RssProbe.TokenVariable] = connection.AccessToken },
};
foreach (var (name, value) in RssProbe.ShippedRuntimeSettings())
{
    probeStart.Environment[name] = value;
}

var probe = Process.Start(probeStart)!;
var rss = (await probe.StandardOutput.ReadToEndAsync()).Trim();
await probe.WaitForExitAsync();
Console.WriteLine($"runtime.rss_{rssObjects}_objects: {rss}MB (target <= 100MB; ReadyToRun, with the operator Deployment's " +
                  $"{string.Join(" ", RssProbe.ShippedRuntimeSettings().Select(s => $"{s.Name}={s.Value}"))})");
return 0;

// The operator: Widgets created by the benchmark, a controller that creates one ConfigMap child and writes status.
async Task<(TimeSpan, ReconcileCounts)> OperatorAsync(IKubernetes kube, string ns, int n)
{
    var done = new ConcurrentDictionary<string, bool>();
    var counts = new ReconcileCounts();
    var manager = new ControllerManager(kube, new ControllerManagerOptions
    {
        Namespace = ns,
        LeaderElection = new LeaderElectionOptions { Enabled = false },
    }, new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry()), NullLoggerFactory.Instance);
    // The runtime's default worker count: what a controller gets unless it says otherwise.
    manager.AddController(new ChildAndStatusReconciler(kube, done, counts), o => o.Owns<V1ConfigMap>());
    await manager.StartAsync(CancellationToken.None);
    while (!manager.IsLeading)
    {
        await Task.Delay(10);
    }

    var clock = Stopwatch.StartNew();
    await ParallelAsync(n, i => widgets.CreateAsync(Widget.New(ns, $"w{i:D5}", 1)));
    while (done.Count < n)
    {
        await Task.Delay(5);
    }

    var elapsed = clock.Elapsed;
    await manager.StopAsync(CancellationToken.None);
    manager.Dispose();
    return (elapsed, counts);
}

// The same writes without a runtime: create the object, patch its status, create its ConfigMap.
async Task<TimeSpan> PlainAsync(IKubernetes kube, string ns, int n)
{
    var clock = Stopwatch.StartNew();
    await ParallelAsync(n, async i =>
    {
        var created = await widgets.CreateAsync(Widget.New(ns, $"p{i:D5}", 1));
        await kube.CustomObjects.PatchNamespacedCustomObjectStatusAsync(
            new V1Patch(new { status = new { observedSize = 1, observedGeneration = created.Metadata.Generation } },
                V1Patch.PatchType.MergePatch), Widget.Group, "v1", ns, "widgets", created.Metadata.Name);
        await kube.CoreV1.CreateNamespacedConfigMapAsync(ChildAndStatusReconciler.ChildOf(created), ns);
    });
    return clock.Elapsed;
}

static double Median(List<double> values)
{
    var sorted = values.Order().ToList();
    return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
}

static string LoadAverage() => File.ReadAllText("/proc/loadavg").Split(' ')[0];

static async Task ParallelAsync(int n, Func<int, Task> action) =>
    await Parallel.ForEachAsync(Enumerable.Range(0, n), new ParallelOptions { MaxDegreeOfParallelism = InFlight },
        async (i, _) => await action(i));

/// <summary>How often the reconciler ran and how often its child was already there (a reconcile that read a stale cache).</summary>
internal sealed class ReconcileCounts
{
    public int Reconciles;
    public int ChildAlreadyExisted;
}

internal sealed class ChildAndStatusReconciler(IKubernetes kube, ConcurrentDictionary<string, bool> done, ReconcileCounts counts)
    : IReconciler<Widget>
{
    private readonly StatusWriter<Widget> status = new(kube);

    public static V1ConfigMap ChildOf(Widget widget) => new()
    {
        Metadata = new V1ObjectMeta
        {
            Name = widget.Metadata.Name + "-config",
            OwnerReferences =
            [
                new V1OwnerReference
                {
                    ApiVersion = $"{Widget.Group}/v1", Kind = "Widget", Name = widget.Metadata.Name,
                    Uid = widget.Metadata.Uid, Controller = true,
                },
            ],
        },
        Data = new Dictionary<string, string> { ["size"] = widget.Spec.Size.ToString() },
    };

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest<Widget> request, CancellationToken ct)
    {
        Interlocked.Increment(ref counts.Reconciles);
        if (request.Entity is not { } widget)
        {
            return ReconcileResult.Done();
        }

        if (widget.Status?.ObservedSize != widget.Spec.Size)
        {
            try
            {
                await kube.CoreV1.CreateNamespacedConfigMapAsync(ChildOf(widget), widget.Metadata.NamespaceProperty,
                    cancellationToken: ct);
            }
            catch (Exception e) when (ApiErrors.IsAlreadyExists(e))
            {
                Interlocked.Increment(ref counts.ChildAlreadyExisted);
            }

            await status.UpdateAsync(widget, w => w.EnsureStatus().ObservedSize = w.Spec.Size, ct);
        }

        done.TryAdd(widget.Metadata.Name, true);
        return ReconcileResult.Done();
    }
}

internal static class RssProbe
{
    /// <summary>The .NET settings (DOTNET_* variables) the shipped operator runs with, read from its Deployment.</summary>
    public static IEnumerable<(string Name, string Value)> ShippedRuntimeSettings() =>
        KubernetesYaml.LoadAllFromString(File.ReadAllText(RepositoryRoot.Combine("config", "manager", "manager.yaml")))
            .OfType<V1Deployment>()
            .SelectMany(d => d.Spec.Template.Spec.Containers)
            .SelectMany(c => c.Env ?? [])
            .Where(e => e.Name.StartsWith("DOTNET_", StringComparison.Ordinal) && e.Value is not null)
            .Select(e => (e.Name, e.Value));

    public const string TokenVariable = "CD4ML_RSS_PROBE_TOKEN";

    /// <summary>
    /// Publishes this program the way the Dockerfile publishes the operator (ReadyToRun, framework-dependent) and returns
    /// the published assembly: precompiled code maps from the file instead of being JIT-compiled into anonymous memory,
    /// so the probe's memory has the shipped shape.
    /// </summary>
    public static async Task<string> PublishReadyToRunAsync()
    {
        var output = RepositoryRoot.Combine("artifacts", "bench", "rss-probe");
        var publish = Process.Start(new ProcessStartInfo("dotnet")
        {
            ArgumentList =
            {
                "publish", RepositoryRoot.Combine("tests", "Cd4ml.Benchmarks.Runtime"), "-c", "Release",
                "-r", System.Runtime.InteropServices.RuntimeInformation.RuntimeIdentifier, "--self-contained", "false",
                "-p:PublishReadyToRun=true", "-o", output,
                // No build server outlives the publish holding its redirected output open.
                "--disable-build-servers",
            },
            RedirectStandardOutput = true,
        })!;
        var log = await publish.StandardOutput.ReadToEndAsync();
        await publish.WaitForExitAsync();
        if (publish.ExitCode != 0)
        {
            throw new InvalidOperationException($"publishing the RSS probe failed:\n{log}");
        }

        return Path.Combine(output, typeof(RssProbe).Assembly.GetName().Name + ".dll");
    }

    /// <summary>
    /// Syncs a Widget informer over the namespace, collects garbage and prints VmRSS in MB. It connects as the operator
    /// does in its Pod (<c>InClusterConfig</c>: the API server's address and a bearer token), not from a kubeconfig: parsing
    /// one loads KubernetesClient's YAML type map of every Kubernetes kind (about 5 MB of heap and 7 MB of JIT code) that
    /// the shipped operator never loads.
    /// </summary>
    public static async Task<int> RunAsync(string server, string token, string ns)
    {
        using var kube = new Kubernetes(new KubernetesClientConfiguration
        {
            Host = server, AccessToken = token, SkipTlsVerify = true,
        });
        var informer = new ResourceInformer<Widget>(kube, ns, new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry()),
            NullLogger.Instance);
        using var stop = new CancellationTokenSource();
        var run = informer.RunAsync(stop.Token);
        await informer.WaitForSyncAsync(CancellationToken.None);
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        await Task.Delay(500);
        var rssKb = File.ReadLines("/proc/self/status").First(l => l.StartsWith("VmRSS:"))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries)[1];
        Console.WriteLine($"{long.Parse(rssKb) / 1024.0:F1}");
        // Where the memory is: anonymous (GC heap, JIT code, native), file-backed (mapped assemblies and libraries), and
        // shared (the runtime's double-mapped executable memory).
        var memory = File.ReadLines("/proc/self/status").Where(l => l.StartsWith("Rss"))
            .Select(l => l.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries))
            .Select(f => $"{f[0].TrimEnd(':')}={long.Parse(f[1]) / 1024.0:F1}MB");
        var gc = GC.GetGCMemoryInfo();
        Console.Error.WriteLine($"cached objects: {informer.Count}; {string.Join(" ", memory)}; " +
                                $"GC heap={gc.HeapSizeBytes / 1048576.0:F1}MB committed={gc.TotalCommittedBytes / 1048576.0:F1}MB");
        await stop.CancelAsync();
        await run;
        GC.KeepAlive(informer);
        return 0;
    }
}
