using System.Diagnostics;
using System.Net.Sockets;
using System.Security.Cryptography;
using k8s;

namespace Cd4ml.LocalCluster;

/// <summary>Settings for a private control plane.</summary>
public sealed record LocalControlPlaneOptions
{
    /// <summary>The apiserver's watch cache. Off, watches go straight to etcd and a compaction yields 410 Gone at once.</summary>
    public bool WatchCache { get; init; } = true;

    /// <summary>Run kube-controller-manager (Jobs → Pods, ServiceAccounts, garbage collection).</summary>
    public bool ControllerManager { get; init; } = true;

    /// <summary>Run kube-scheduler.</summary>
    public bool Scheduler { get; init; } = true;
}

/// <summary>
/// A real Kubernetes control plane for local runs and tests (etcd, kube-apiserver, kube-controller-manager, kube-scheduler) on
/// free loopback ports. There is no kubelet: Pods are scheduled nowhere and stay Pending.
/// </summary>
public sealed class LocalControlPlane : IAsyncDisposable
{
    private const string AdminToken = "cd4ml-test-admin-token";
    private static readonly HttpClient Http = new(new HttpClientHandler
    {
        ServerCertificateCustomValidationCallback = HttpClientHandler.DangerousAcceptAnyServerCertificateValidator,
    }) { Timeout = TimeSpan.FromSeconds(5) };

    private readonly LocalControlPlaneOptions options;
    private readonly string workDirectory;
    private readonly string binDirectory;
    private readonly int etcdPort;
    private readonly int apiPort;
    private readonly List<LocalProcess> processes = [];
    private LocalProcess? apiServer;
    private bool disposed;

    private LocalControlPlane(LocalControlPlaneOptions options, string binDirectory)
    {
        this.options = options;
        this.binDirectory = binDirectory;
        workDirectory = Directory.CreateTempSubdirectory("cd4ml-control-plane-").FullName;
        Directory.CreateDirectory(LogDirectory);
        etcdPort = LoopbackPorts.Free();
        apiPort = LoopbackPorts.Free();
        KubeconfigPath = Path.Combine(workDirectory, "kubeconfig");
        AppDomain.CurrentDomain.ProcessExit += (_, _) => KillAll();
    }

    public string ServerUrl => $"https://127.0.0.1:{apiPort}";

    internal string EtcdUrl => $"http://127.0.0.1:{etcdPort}";

    /// <summary>An admin kubeconfig for child processes and kubectl.</summary>
    public string KubeconfigPath { get; }

    public string LogDirectory => Path.Combine(workDirectory, "logs");

    /// <summary>Keep the work directory (logs) after dispose. Also set by CD4ML_KEEP_LOGS=1.</summary>
    public bool KeepLogs { get; set; } = Environment.GetEnvironmentVariable("CD4ML_KEEP_LOGS") == "1";

    public static async Task<LocalControlPlane> StartAsync(LocalControlPlaneOptions? options = null, CancellationToken ct = default)
    {
        var plane = new LocalControlPlane(options ?? new LocalControlPlaneOptions(), LocateBinaries());
        try
        {
            await plane.StartAllAsync(ct);
            return plane;
        }
        catch
        {
            plane.KeepLogs = true;
            await plane.DisposeAsync();
            throw;
        }
    }

    public KubernetesClientConfiguration ClientConfiguration() => new()
    {
        Host = ServerUrl,
        AccessToken = AdminToken,
        SkipTlsVerify = true,
    };

    public IKubernetes CreateClient() => new Kubernetes(ClientConfiguration());

    /// <summary>
    /// Stops kube-apiserver and starts it again with the same flags and storage. Only tests restart it (watch
    /// resilience); they reach it through Cd4ml.Testing.
    /// </summary>
    internal async Task RestartApiServerAsync(CancellationToken ct = default)
    {
        await apiServer!.StopAsync(TimeSpan.FromSeconds(10));
        processes.Remove(apiServer);
        await StartApiServerAsync(ct);
    }

    public async ValueTask DisposeAsync()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        foreach (var process in Enumerable.Reverse(processes))
        {
            await process.StopAsync(TimeSpan.FromSeconds(10));
        }

        if (KeepLogs)
        {
            Console.Error.WriteLine($"control plane logs kept in {LogDirectory}");
        }
        else
        {
            TryDelete(workDirectory);
        }
    }

    private async Task StartAllAsync(CancellationToken ct)
    {
        WriteCredentials();
        var etcdData = Path.Combine(workDirectory, "etcd");
        var peerPort = LoopbackPorts.Free();
        Launch("etcd",
            "--name", "default",
            "--data-dir", etcdData,
            "--listen-client-urls", EtcdUrl,
            "--advertise-client-urls", EtcdUrl,
            "--listen-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-advertise-peer-urls", $"http://127.0.0.1:{peerPort}",
            "--initial-cluster", $"default=http://127.0.0.1:{peerPort}",
            "--quota-backend-bytes", $"{4L << 30}");
        await WaitUntilAsync(() => ProbeAsync($"{EtcdUrl}/health"), TimeSpan.FromSeconds(30), "etcd", ct);

        await StartApiServerAsync(ct);

        var kubeconfig = KubeconfigPath;
        if (options.ControllerManager)
        {
            Launch("kube-controller-manager",
                "--kubeconfig", kubeconfig,
                "--authentication-kubeconfig", kubeconfig,
                "--authorization-kubeconfig", kubeconfig,
                "--service-account-private-key-file", Path.Combine(workDirectory, "sa.key"),
                "--root-ca-file", Path.Combine(workDirectory, "certs", "apiserver.crt"),
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--port=0",
                $"--secure-port={LoopbackPorts.Free()}",
                "--feature-gates=TTLAfterFinished=true",
                "--controllers=*,tokencleaner",
                "--concurrent-gc-syncs=5");
        }

        if (options.Scheduler)
        {
            Launch("kube-scheduler",
                "--kubeconfig", kubeconfig,
                "--authentication-kubeconfig", kubeconfig,
                "--authorization-kubeconfig", kubeconfig,
                "--leader-elect=false",
                "--bind-address=127.0.0.1",
                "--port=0",
                $"--secure-port={LoopbackPorts.Free()}");
        }
    }

    private async Task StartApiServerAsync(CancellationToken ct)
    {
        apiServer = Launch("kube-apiserver",
            "--etcd-servers", EtcdUrl,
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            $"--secure-port={apiPort}",
            "--insecure-port=0",
            "--cert-dir", Path.Combine(workDirectory, "certs"),
            "--token-auth-file", Path.Combine(workDirectory, "tokens.csv"),
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc",
            "--service-account-key-file", Path.Combine(workDirectory, "sa.pub"),
            "--service-account-signing-key-file", Path.Combine(workDirectory, "sa.key"),
            "--service-cluster-ip-range=10.0.0.0/24",
            "--endpoint-reconciler-type=none",
            "--allow-privileged=true",
            "--feature-gates=TTLAfterFinished=true",
            $"--watch-cache={(options.WatchCache ? "true" : "false")}");
        await WaitUntilAsync(() => ProbeAsync($"{ServerUrl}/readyz", AdminToken), TimeSpan.FromSeconds(90),
            "kube-apiserver", ct);
    }

    private void WriteCredentials()
    {
        using var rsa = RSA.Create(2048);
        File.WriteAllText(Path.Combine(workDirectory, "sa.key"), rsa.ExportRSAPrivateKeyPem());
        File.WriteAllText(Path.Combine(workDirectory, "sa.pub"), rsa.ExportSubjectPublicKeyInfoPem());
        File.WriteAllText(Path.Combine(workDirectory, "tokens.csv"), $"{AdminToken},admin,admin-uid,system:masters\n");
        File.WriteAllText(KubeconfigPath, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: cd4ml-test
              cluster:
                server: {ServerUrl}
                insecure-skip-tls-verify: true
            users:
            - name: admin
              user:
                token: {AdminToken}
            contexts:
            - name: cd4ml-test
              context:
                cluster: cd4ml-test
                user: admin
                namespace: default
            current-context: cd4ml-test
            """);
    }

    private LocalProcess Launch(string binary, params string[] arguments)
    {
        var process = LocalProcess.Start(Path.Combine(binDirectory, binary), arguments,
            Path.Combine(LogDirectory, binary + ".log"));
        processes.Add(process);
        return process;
    }

    private void KillAll()
    {
        foreach (var process in processes)
        {
            process.Kill();
        }
    }

    private async Task<bool> ProbeAsync(string url, string? token = null)
    {
        var died = processes.FirstOrDefault(p => p.HasExited);
        if (died is not null)
        {
            throw new InvalidOperationException($"{died.Name} exited with {died.Exited.Result}; see {LogDirectory}");
        }

        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, url);
            if (token is not null)
            {
                request.Headers.Authorization = new("Bearer", token);
            }

            using var response = await Http.SendAsync(request);
            return response.IsSuccessStatusCode;
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            return false;
        }
    }

    /// <summary>Polls <paramref name="condition"/> every 100 ms until it holds; throws after <paramref name="timeout"/>.</summary>
    internal static async Task WaitUntilAsync(Func<Task<bool>> condition, TimeSpan timeout, string what,
        CancellationToken ct = default)
    {
        var deadline = Stopwatch.StartNew();
        while (!await condition())
        {
            if (deadline.Elapsed > timeout)
            {
                throw new TimeoutException($"{what} not ready after {timeout.TotalSeconds:0} s");
            }

            await Task.Delay(100, ct);
        }
    }

    private static string LocateBinaries()
    {
        string[] required = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler"];
        var cache = Environment.GetEnvironmentVariable("CD4ML_CACHE")
                    ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "cd4ml");
        var candidates = new[]
        {
            Environment.GetEnvironmentVariable("CD4ML_KUBE_BIN"),
            Environment.GetEnvironmentVariable("KUBEBUILDER_ASSETS"),
            Path.Combine(cache, "kube-bin"),
        };
        foreach (var folder in candidates.Where(c => !string.IsNullOrEmpty(c)))
        {
            if (required.All(b => File.Exists(Path.Combine(folder!, b))))
            {
                return folder!;
            }
        }

        throw new InvalidOperationException(
            "No control-plane binaries: run `make test` or `make run` (or tests/env/kube-binaries.sh), or set KUBEBUILDER_ASSETS " +
            "to a folder holding etcd, kube-apiserver, kube-controller-manager and kube-scheduler.");
    }

    private static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (IOException)
        {
        }
        catch (UnauthorizedAccessException)
        {
        }
    }
}
