using Cd4ml.LocalCluster;
using k8s;

namespace Cd4ml.Testing;

/// <summary>Settings for a private control plane.</summary>
public sealed record ControlPlaneOptions
{
    /// <summary>The apiserver's watch cache. Off, watches go straight to etcd and a compaction yields 410 Gone at once.</summary>
    public bool WatchCache { get; init; } = true;

    /// <summary>Run kube-controller-manager (Jobs → Pods, ServiceAccounts, garbage collection).</summary>
    public bool ControllerManager { get; init; } = true;

    /// <summary>Run kube-scheduler.</summary>
    public bool Scheduler { get; init; } = true;
}

/// <summary>
/// The real control plane of <see cref="LocalControlPlane"/> for tests: one shared per test process (started on
/// first use, stopped by the assembly's SetUpFixture with logs kept on failure), or private ones for tests that
/// restart the apiserver or compact etcd.
/// </summary>
public sealed class ControlPlane : IAsyncDisposable
{
    private static readonly Lazy<Task<ControlPlane>> Shared = new(() => StartAsync());
    private readonly LocalControlPlane plane;

    private ControlPlane(LocalControlPlane plane) => this.plane = plane;

    public string ServerUrl => plane.ServerUrl;

    public string EtcdUrl => plane.EtcdUrl;

    public string KubeconfigPath => plane.KubeconfigPath;

    public string LogDirectory => plane.LogDirectory;

    public bool KeepLogs
    {
        get => plane.KeepLogs;
        set => plane.KeepLogs = value;
    }

    public static Task<ControlPlane> SharedAsync() => Shared.Value;

    /// <summary>Stops the shared control plane if it was started; keeps its logs when asked to.</summary>
    public static async Task StopSharedAsync(bool keepLogs)
    {
        if (!Shared.IsValueCreated)
        {
            return;
        }

        var shared = await Shared.Value;
        shared.KeepLogs = keepLogs || shared.KeepLogs;
        if (shared.KeepLogs)
        {
            NUnit.Framework.TestContext.Progress.WriteLine($"control plane logs kept in {shared.LogDirectory}");
        }

        await shared.DisposeAsync();
    }

    public static async Task<ControlPlane> StartAsync(ControlPlaneOptions? options = null, CancellationToken ct = default)
    {
        options ??= new ControlPlaneOptions();
        return new ControlPlane(await LocalControlPlane.StartAsync(new LocalControlPlaneOptions
        {
            WatchCache = options.WatchCache,
            ControllerManager = options.ControllerManager,
            Scheduler = options.Scheduler,
        }, ct));
    }

    public KubernetesClientConfiguration ClientConfiguration() => plane.ClientConfiguration();

    public IKubernetes CreateClient() => plane.CreateClient();

    public Task<string> CreateNamespaceAsync(string prefix = "test", CancellationToken ct = default) =>
        plane.CreateNamespaceAsync(prefix, ct);

    public Task RestartApiServerAsync(CancellationToken ct = default) => plane.RestartApiServerAsync(ct);

    public Task CompactEtcdAsync(CancellationToken ct = default) => plane.CompactEtcdAsync(ct);

    public ValueTask DisposeAsync() => plane.DisposeAsync();

    public static Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what,
        CancellationToken ct = default) => LocalControlPlane.WaitUntilAsync(condition, timeout, what, ct);
}
