using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Cd4ml.LocalCluster;
using k8s;
using k8s.Autorest;
using k8s.Models;

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
    private readonly ControlPlaneOptions options;

    private ControlPlane(LocalControlPlane plane, ControlPlaneOptions options)
    {
        this.plane = plane;
        this.options = options;
    }

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
        }, ct), options);
    }

    public KubernetesClientConfiguration ClientConfiguration() => plane.ClientConfiguration();

    public IKubernetes CreateClient() => plane.CreateClient();

    /// <summary>Creates a fresh namespace and waits until its default ServiceAccount exists (Pods need it).</summary>
    public async Task<string> CreateNamespaceAsync(string prefix = "test", CancellationToken ct = default)
    {
        using var client = CreateClient();
        var created = await client.CoreV1.CreateNamespaceAsync(
            new V1Namespace { Metadata = new V1ObjectMeta { GenerateName = Sanitize(prefix) + "-" } }, cancellationToken: ct);
        var name = created.Metadata.Name;
        if (options.ControllerManager)
        {
            await WaitUntilAsync(async () =>
            {
                try
                {
                    await client.CoreV1.ReadNamespacedServiceAccountAsync("default", name, cancellationToken: ct);
                    return true;
                }
                catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
                {
                    return false;
                }
            }, TimeSpan.FromSeconds(60), $"default ServiceAccount in {name}", ct);
        }

        return name;
    }

    /// <summary>Stops kube-apiserver and starts it again with the same flags and storage.</summary>
    public Task RestartApiServerAsync(CancellationToken ct = default) => plane.RestartApiServerAsync(ct);

    /// <summary>Compacts etcd to its current revision: older resourceVersions then answer 410 Gone.</summary>
    public async Task CompactEtcdAsync(CancellationToken ct = default)
    {
        using var http = new HttpClient();
        var range = await http.PostAsJsonAsync($"{EtcdUrl}/v3/kv/range",
            new { key = Convert.ToBase64String("/"u8.ToArray()) }, ct);
        range.EnsureSuccessStatusCode();
        using var body = JsonDocument.Parse(await range.Content.ReadAsStringAsync(ct));
        var revision = body.RootElement.GetProperty("header").GetProperty("revision").GetString();
        var compact = await http.PostAsJsonAsync($"{EtcdUrl}/v3/kv/compaction",
            new { revision, physical = true }, ct);
        compact.EnsureSuccessStatusCode();
    }

    public ValueTask DisposeAsync() => plane.DisposeAsync();

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; throws after <paramref name="timeout"/>.</summary>
    public static Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what,
        CancellationToken ct = default) => LocalControlPlane.WaitUntilAsync(condition, timeout, what, ct);

    private static string Sanitize(string prefix)
    {
        var builder = new StringBuilder();
        foreach (var c in prefix.ToLowerInvariant())
        {
            builder.Append(char.IsAsciiLetterOrDigit(c) ? c : '-');
        }

        var text = builder.ToString().Trim('-');
        return text.Length == 0 ? "test" : text[..Math.Min(text.Length, 40)];
    }
}
