using System.Net;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Cd4ml.LocalCluster;

/// <summary>
/// A kubelet for machines without a container runtime: registers a Node, runs the Pods the scheduler binds to it as
/// local processes, each on its own loopback address, and reports their status through the API exactly as a kubelet
/// does (phase, podIP, container states, exit codes, termination messages, readiness). Controllers cannot tell the
/// difference at the API boundary; what it cannot do (images, volumes, liveness probes, kubectl logs/exec) is left out.
/// </summary>
public sealed class LocalKubelet : IAsyncDisposable
{
    private readonly IKubernetes client;
    private readonly LocalKubeletOptions options;
    private readonly Dictionary<string, PodRunner> runners = [];
    private readonly AddressPool addresses = new();
    private readonly CancellationTokenSource stopping = new();
    private Task loop = Task.CompletedTask;
    private Task heartbeat = Task.CompletedTask;
    private string lastTargets = "";

    private LocalKubelet(IKubernetes client, LocalKubeletOptions options)
    {
        this.client = client;
        this.options = options with
        {
            LogDirectory = options.LogDirectory ?? Directory.CreateTempSubdirectory("cd4ml-kubelet-").FullName,
        };
        Directory.CreateDirectory(this.options.LogDirectory!);
    }

    public string NodeName => options.NodeName;

    public string LogDirectory => options.LogDirectory!;

    public static async Task<LocalKubelet> StartAsync(IKubernetes client, LocalKubeletOptions options,
        CancellationToken ct = default)
    {
        var kubelet = new LocalKubelet(client, options);
        await kubelet.RegisterNodeAsync(ct);
        kubelet.loop = Task.Run(() => kubelet.SyncLoopAsync(kubelet.stopping.Token), CancellationToken.None);
        kubelet.heartbeat = Task.Run(() => kubelet.HeartbeatLoopAsync(kubelet.stopping.Token), CancellationToken.None);
        return kubelet;
    }

    /// <summary>The output file of one container of a Pod (the local stand-in for kubectl logs).</summary>
    public string LogPath(string ns, string pod, string container) =>
        Path.Combine(LogDirectory, $"{ns}_{pod}_{container}.log");

    public async ValueTask DisposeAsync()
    {
        await stopping.CancelAsync();
        await Task.WhenAll(loop, heartbeat);
        await Task.WhenAll(runners.Values.Select(r => r.StopAsync(TimeSpan.FromSeconds(5))));
        runners.Clear();
    }

    private async Task RegisterNodeAsync(CancellationToken ct)
    {
        var node = new V1Node
        {
            Metadata = new V1ObjectMeta
            {
                Name = options.NodeName,
                Labels = new Dictionary<string, string>
                {
                    ["kubernetes.io/hostname"] = options.NodeName,
                    ["kubernetes.io/os"] = "linux",
                    ["cd4ml.io/local-kubelet"] = "true",
                },
            },
        };
        try
        {
            await client.CoreV1.CreateNodeAsync(node, cancellationToken: ct);
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.Conflict)
        {
        }

        await WriteNodeStatusAsync(ct);
    }

    private Task WriteNodeStatusAsync(CancellationToken ct)
    {
        var now = DateTime.UtcNow;
        var status = new V1NodeStatus
        {
            Capacity = Resources(),
            Allocatable = Resources(),
            Addresses = [new V1NodeAddress { Type = "InternalIP", Address = "127.0.0.1" },
                         new V1NodeAddress { Type = "Hostname", Address = options.NodeName }],
            Conditions =
            [
                new V1NodeCondition
                {
                    Type = "Ready", Status = "True", Reason = "KubeletReady",
                    Message = "local kubelet is posting ready status", LastHeartbeatTime = now, LastTransitionTime = now,
                },
            ],
            NodeInfo = new V1NodeSystemInfo
            {
                Architecture = "amd64", OperatingSystem = "linux", KubeletVersion = "v1.20.2-local",
                KubeProxyVersion = "v1.20.2-local", ContainerRuntimeVersion = "local-process://1",
                OsImage = "local", KernelVersion = Environment.OSVersion.VersionString,
                MachineID = "local", SystemUUID = "local", BootID = "local",
            },
        };
        var patch = new V1Patch(KubernetesJson.Serialize(new { status }), V1Patch.PatchType.MergePatch);
        return client.CoreV1.PatchNodeStatusAsync(patch, options.NodeName, cancellationToken: ct);
    }

    private static Dictionary<string, ResourceQuantity> Resources() => new()
    {
        ["cpu"] = new ResourceQuantity("16"),
        ["memory"] = new ResourceQuantity("64Gi"),
        ["pods"] = new ResourceQuantity("110"),
        ["ephemeral-storage"] = new ResourceQuantity("100Gi"),
    };

    private async Task HeartbeatLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(options.HeartbeatInterval, ct);
                await WriteNodeStatusAsync(ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException)
            {
                // The apiserver may be restarting; the next heartbeat retries.
            }
        }
    }

    private async Task SyncLoopAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await SyncOnceAsync(ct);
                await Task.Delay(options.SyncInterval, ct);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception e) when (e is HttpOperationException or HttpRequestException or IOException)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ContinueWith(_ => { }, CancellationToken.None);
            }
        }
    }

    private async Task SyncOnceAsync(CancellationToken ct)
    {
        var pods = await client.CoreV1.ListPodForAllNamespacesAsync(
            fieldSelector: $"spec.nodeName={options.NodeName}", cancellationToken: ct);
        var seen = new HashSet<string>();
        foreach (var pod in pods.Items)
        {
            var uid = pod.Metadata.Uid;
            seen.Add(uid);
            if (!runners.TryGetValue(uid, out var runner))
            {
                if (pod.Status?.Phase is "Succeeded" or "Failed")
                {
                    continue; // finished before this kubelet started (or by an earlier one)
                }

                runner = new PodRunner(client, pod, addresses.Next(), options);
                runners[uid] = runner;
            }

            await runner.SyncAsync(pod, ct);
            if (runner.Removed)
            {
                runners.Remove(uid);
                addresses.Release(runner.PodIp);
            }
        }

        // Pods deleted with no grace period vanish at once: stop whatever still runs for them.
        foreach (var gone in runners.Keys.Where(uid => !seen.Contains(uid)).ToList())
        {
            var runner = runners[gone];
            runners.Remove(gone);
            await runner.StopAsync(TimeSpan.Zero);
            addresses.Release(runner.PodIp);
        }

        await PublishScrapeTargetsAsync();
    }

    private async Task PublishScrapeTargetsAsync()
    {
        if (options.ScrapeTargetsChanged is null)
        {
            return;
        }

        var targets = runners.Values.Select(r => r.ScrapeTarget()).OfType<ScrapeTarget>()
            .OrderBy(t => t.Address, StringComparer.Ordinal).ToList();
        var fingerprint = string.Join(';', targets.Select(t => t.Address + string.Join(',', t.Labels.OrderBy(l => l.Key))));
        if (fingerprint == lastTargets)
        {
            return;
        }

        lastTargets = fingerprint;
        await options.ScrapeTargetsChanged(targets);
    }

    /// <summary>Loopback addresses for Pods, so several servers can each listen on the same port.</summary>
    private sealed class AddressPool
    {
        private readonly int block = Random.Shared.Next(20, 250);
        private readonly HashSet<string> used = [];
        private int next = 1;

        public string Next()
        {
            while (true)
            {
                var n = next++;
                var address = $"127.{block}.{(n / 250) % 250}.{n % 250 + 1}";
                if (used.Add(address))
                {
                    return address;
                }
            }
        }

        public void Release(string address) => used.Remove(address);
    }
}
