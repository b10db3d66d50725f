using System.Collections.Concurrent;
using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.LocalCluster;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Hosting;
using Cd4ml.Runtime.LeaderElection;
using Cd4ml.Runtime.Metrics;
using Cd4ml.Testing;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// The Deployment controller in the test process, watching one fresh namespace of a control plane, with a
/// private metrics registry; plus helpers to create ModelVersions and Deployments and read what the controller made.
/// </summary>
internal sealed class RolloutHarness : IAsyncDisposable
{
    private readonly HttpClient http;
    private Func<Task> stop = () => Task.CompletedTask;
    private Func<Task> freezeCaches = () => throw new InvalidOperationException("Only without a controller.");

    private RolloutHarness(IKubernetes client, string ns, RolloutMetrics metrics, HttpClient http)
    {
        Client = client;
        Namespace = ns;
        Metrics = metrics;
        this.http = http;
    }

    public IKubernetes Client { get; }

    public string Namespace { get; }

    public RolloutMetrics Metrics { get; }

    /// <summary>The reconciler the controller runs (only set by <see cref="StartAsync"/>).</summary>
    public ModelDeploymentReconciler Reconciler { get; private set; } = null!;

    /// <summary>What the reconciler reads (only set by <see cref="StartAsync"/>).</summary>
    public RolloutCache Cache { get; private set; } = null!;

    public ResourceClient<ModelDeployment> Deployments => new(Client);

    public ResourceClient<ModelVersion> Versions => new(Client);

    /// <param name="runController">
    /// False: no controller, only the caches the reconciler reads run, and the test calls <see cref="Reconciler"/> itself.
    /// </param>
    /// <param name="reconcilerRequests">Sees every request the reconciler sends (and only those: the caches have their own client).</param>
    public static async Task<RolloutHarness> StartAsync(ControlPlane plane, string? prometheusAddress = null,
        string image = "ghcr.io/cd4ml/cd4ml:test", ILoggerFactory? loggers = null, bool runController = true,
        bool allowFaultInjection = false, DelegatingHandler? reconcilerRequests = null)
    {
        var client = plane.CreateClient();
        var reconcilerClient = reconcilerRequests is null ? client : new Kubernetes(plane.ClientConfiguration(), reconcilerRequests);
        var ns = await plane.CreateNamespaceAsync("rollout");
        loggers ??= NullLoggerFactory.Instance;

        var registry = Prometheus.Metrics.NewCustomRegistry();
        var runtimeMetrics = new RuntimeMetrics(registry);
        var manager = runController
            ? new ControllerManager(client, new ControllerManagerOptions
            {
                Namespace = ns,
                LeaderElection = new LeaderElectionOptions { Enabled = false },
                ShutdownGracePeriod = TimeSpan.FromSeconds(5),
            }, runtimeMetrics, loggers)
            : null;
        var informers = manager?.Informers ?? new InformerRegistry(client, ns, runtimeMetrics, loggers);
        var metrics = new RolloutMetrics(registry);
        var index = new ModelDeploymentIndex();
        var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var harness = new RolloutHarness(client, ns, metrics, http);
        var options = new OperatorOptions
        {
            Image = image, PrometheusAddress = prometheusAddress, LeaderElection = false, AllowFaultInjection = allowFaultInjection,
        };
        harness.Cache = new RolloutCache(() => informers);
        harness.Reconciler = new ModelDeploymentReconciler(reconcilerClient, options,
            new EventRecorder(reconcilerClient, "cd4ml-test", "test", loggers.CreateLogger<EventRecorder>()), metrics,
            new PrometheusClient(http), index, harness.Cache, TimeProvider.System,
            new PlatformDefaultsSource(client, options), loggers.CreateLogger<ModelDeploymentReconciler>());
        if (manager is null)
        {
            IResourceInformer[] caches =
            [
                informers.Get<ModelVersion>(), informers.Get<V1Deployment>(), informers.Get<V1Service>(),
                informers.GetOptional<HttpRoute>(),
            ];
            var stopCaches = new CancellationTokenSource();
            var loops = caches.Select(cache => Task.Run(() => cache.RunAsync(stopCaches.Token))).ToArray();
            harness.freezeCaches = async () =>
            {
                await stopCaches.CancelAsync();
                await Task.WhenAll(loops);
            };
            harness.stop = async () =>
            {
                await harness.freezeCaches();
                stopCaches.Dispose();
                if (reconcilerClient != client)
                {
                    reconcilerClient.Dispose();
                }
            };
            await Task.WhenAll(caches.Where(cache => !cache.IsOptional).Select(cache => cache.WaitForSyncAsync(CancellationToken.None)))
                .WaitAsync(TimeSpan.FromSeconds(30));
            return harness;
        }

        manager.AddController(harness.Reconciler, o => RolloutControllers.Wire(o, index, 2));
        await manager.StartAsync(CancellationToken.None);
        harness.stop = async () =>
        {
            await manager.StopAsync(CancellationToken.None);
            manager.Dispose();
            if (reconcilerClient != client)
            {
                reconcilerClient.Dispose();
            }
        };
        await WaitAsync(() => Task.FromResult(manager.IsLeading), "controller manager leading");
        return harness;
    }

    /// <summary>
    /// The same, but the controller comes from the operator's own composition: <see cref="OperatorHost"/> with its
    /// dependency injection, watching only the test's namespace, without leader election.
    /// </summary>
    public static async Task<RolloutHarness> StartOperatorHostAsync(ControlPlane plane)
    {
        var client = plane.CreateClient();
        var ns = await plane.CreateNamespaceAsync("rollout");
        var app = OperatorHost.Build(new OperatorOptions
        {
            Kubeconfig = plane.KubeconfigPath,
            ListenUrl = $"http://127.0.0.1:{LoopbackPorts.Free()}",
            Namespace = ns,
            LeaderElection = false,
            Image = "ghcr.io/cd4ml/cd4ml:test",
        }, services => services.AddLogging(logging => logging.ClearProviders()));
        var harness = new RolloutHarness(client, ns, app.Services.GetRequiredService<RolloutMetrics>(), new HttpClient());
        await app.StartAsync();
        harness.stop = async () =>
        {
            await app.StopAsync();
            await app.DisposeAsync();
        };
        var manager = app.Services.GetRequiredService<ControllerManager>();
        await WaitAsync(() => Task.FromResult(manager.IsLeading), "operator leading");
        return harness;
    }

    /// <summary>Once per control plane, before harnesses start (concurrent installs conflict).</summary>
    public static async Task InstallCrdsAsync(ControlPlane plane)
    {
        using var client = plane.CreateClient();
        await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
    }

    /// <summary>Stops the caches' watches (without a controller only): they keep what they hold and see nothing more.</summary>
    public Task FreezeCachesAsync() => freezeCaches();

    public async Task<ModelVersion> CreateVersionAsync(string model, int version, bool approved = true, bool ready = true,
        S3StorageSpec? storage = null, string? uri = null, string? sha256 = null)
    {
        var created = await Versions.CreateAsync(new ModelVersion
        {
            Metadata = new V1ObjectMeta { Name = $"{model}-v{version}", NamespaceProperty = Namespace },
            Spec = new ModelVersionSpec
            {
                ModelName = model,
                Version = version,
                Approved = approved,
                Storage = storage,
                Artifact = new ArtifactSpec
                {
                    Uri = uri ?? $"s3://models/{model}/{version}/model.zip",
                    Sha256 = sha256 ?? new string((char)('a' + version % 6), 64),
                },
            },
        });
        if (ready)
        {
            created.Status = new ModelVersionStatus { Phase = ModelVersionStatus.Ready, Validated = true };
            created = await Versions.ReplaceStatusAsync(created);
        }

        return created;
    }

    public Task<ModelDeployment> CreateDeploymentAsync(string name, ModelDeploymentSpec spec) =>
        Deployments.CreateAsync(new ModelDeployment
        {
            Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace },
            Spec = spec,
        });

    public async Task<ModelDeployment> GetAsync(string name) => (await Deployments.GetAsync(Namespace, name))!;

    /// <summary>Sets an annotation the way a user would (a merge patch of metadata only).</summary>
    public Task AnnotateAsync(string name, string annotation, string value) =>
        Deployments.PatchAsync(Namespace, name, new V1Patch(
            $"{{\"metadata\":{{\"annotations\":{{\"{annotation}\":\"{value}\"}}}}}}", V1Patch.PatchType.MergePatch));

    public async Task<V1Deployment?> TrackAsync(string name, string track)
    {
        try
        {
            return await Client.AppsV1.ReadNamespacedDeploymentAsync($"{name}-{track}", Namespace);
        }
        catch (Exception e) when (ApiErrors.IsNotFound(e))
        {
            return null;
        }
    }

    public async Task<ModelDeployment> WaitForAsync(string name, Func<ModelDeployment, bool> condition, string what,
        double seconds = 30)
    {
        ModelDeployment? last = null;
        try
        {
            await WaitAsync(async () => condition(last = await GetAsync(name)), what, seconds);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last status: {KubernetesJson.Serialize(last?.Status)}", e);
        }

        return last!;
    }

    public async Task WaitForTrackAsync(string name, string track, Func<V1Deployment?, bool> condition, string what,
        double seconds = 30) =>
        await WaitAsync(async () => condition(await TrackAsync(name, track)), what, seconds);

    public async Task<IReadOnlyList<Corev1Event>> EventsAsync(string name) =>
        (await Client.CoreV1.ListNamespacedEventAsync(Namespace)).Items
        .Where(e => e.InvolvedObject.Name == name && e.InvolvedObject.Kind == ModelDeployment.KindName)
        .ToList();

    public double Rollbacks(string name) => Metrics.Rollbacks.WithLabels(Namespace, name).Value;

    public static Task WaitAsync(Func<Task<bool>> condition, string what, double seconds = 30) =>
        ControlPlane.WaitUntilAsync(condition, TimeSpan.FromSeconds(seconds), what);

    public async ValueTask DisposeAsync()
    {
        await stop();
        http.Dispose();
        Client.Dispose();
    }
}

/// <summary>
/// Without a kubelet Pods never become ready; this marks the Pods of a namespace Running and Ready at the API boundary
/// (as a kubelet would report; all of them, or those <c>mayBecomeReady</c> accepts) and removes Pods stuck
/// terminating, so Deployments report ready replicas.
/// </summary>
internal sealed class FakePodReadiness : IAsyncDisposable
{
    private static int nextAddress;
    private readonly CancellationTokenSource stop = new();
    private readonly Task loop;

    public FakePodReadiness(IKubernetes client, string ns, Func<V1Pod, bool>? mayBecomeReady = null) =>
        loop = Task.Run(() => RunAsync(client, ns, mayBecomeReady ?? (_ => true), stop.Token));

    public static bool IsReady(V1Pod pod) => pod.Status?.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true;

    /// <summary>Reports <paramref name="pod"/> Running and Ready with a loopback IP, as a kubelet would.</summary>
    public static async Task MarkReadyAsync(IKubernetes client, V1Pod pod, CancellationToken ct = default)
    {
        var now = DateTime.UtcNow;
        pod.Status = new V1PodStatus
        {
            Phase = "Running",
            PodIP = $"127.0.200.{Interlocked.Increment(ref nextAddress) % 250 + 1}",
            StartTime = now,
            Conditions =
            [
                new V1PodCondition { Type = "Ready", Status = "True", LastTransitionTime = now },
                new V1PodCondition { Type = "ContainersReady", Status = "True", LastTransitionTime = now },
            ],
        };
        await client.CoreV1.ReplaceNamespacedPodStatusAsync(pod, pod.Metadata.Name, pod.Metadata.NamespaceProperty,
            cancellationToken: ct);
    }

    private static async Task RunAsync(IKubernetes client, string ns, Func<V1Pod, bool> mayBecomeReady, CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                foreach (var pod in (await client.CoreV1.ListNamespacedPodAsync(ns, cancellationToken: ct)).Items)
                {
                    if (pod.Metadata.DeletionTimestamp is not null)
                    {
                        await client.CoreV1.DeleteNamespacedPodAsync(pod.Metadata.Name, ns, gracePeriodSeconds: 0, cancellationToken: ct);
                    }
                    else if (!IsReady(pod) && mayBecomeReady(pod))
                    {
                        await MarkReadyAsync(client, pod, ct);
                    }
                }
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                // Stopped in the middle of a request.
                return;
            }
            catch (Exception e) when (e is not OperationCanceledException)
            {
                // Conflicts and pods vanishing between list and write: the next pass catches up.
            }

            try
            {
                await Task.Delay(200, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
        }
    }

    public async ValueTask DisposeAsync()
    {
        await stop.CancelAsync();
        await loop;
        stop.Dispose();
    }
}

/// <summary>Records the method and path of every request passing through, to test what a component sends.</summary>
internal sealed class RequestLog : DelegatingHandler
{
    private readonly ConcurrentQueue<string> sent = new();

    public IReadOnlyList<string> Sent => [.. sent];

    public void Clear() => sent.Clear();

    protected override Task<HttpResponseMessage> SendAsync(HttpRequestMessage request, CancellationToken cancellationToken)
    {
        sent.Enqueue($"{request.Method} {request.RequestUri?.PathAndQuery}");
        return base.SendAsync(request, cancellationToken);
    }
}
