using k8s;

namespace Cd4ml.Testing;

/// <summary>
/// The real single-node cluster of <c>tests/env/realnode.sh</c>: containerd, kubelet and kube-proxy 1.20.2 with the
/// test control plane, S3 and Prometheus inside a private network namespace, and the project's image (built from
/// the repository's Dockerfile) on the node as <see cref="Image"/>. One per test process: <see cref="SharedAsync"/>
/// brings it up on first use (provisioning, cached, on a cold machine), <see cref="StopSharedAsync"/> takes it down
/// and puts the machine back as it was. Needs root on Linux; <see cref="UnavailableReason"/> says what is missing.
/// <para>
/// Addresses: the apiserver, S3 and Prometheus are forwarded to this machine's loopback (<see cref="KubeconfigPath"/>,
/// <see cref="S3Url"/>, <see cref="PrometheusUrl"/>); Pods reach S3 and Prometheus at <see cref="S3PodUrl"/> and
/// <see cref="PrometheusPodUrl"/> and the apiserver as the <c>kubernetes</c> Service. Pod and ClusterIP addresses exist
/// only inside the namespace: use <see cref="RunInNamespaceAsync"/> (e.g. curl) or <see cref="ForwardAsync"/>.
/// </para>
/// </summary>
public sealed class RealNodeCluster
{
    private static readonly SemaphoreSlim SharedLock = new(1, 1);
    private static readonly Lazy<string?> Unavailable = new(CheckMachine);
    private static RealNodeCluster? shared;
    private static Exception? startFailure;

    private RealNodeCluster(IReadOnlyDictionary<string, string> env)
    {
        string Get(string name) => env.TryGetValue(name, out var value)
            ? value
            : throw new InvalidOperationException($"{name} missing from {Script} up's env file");
        WorkDirectory = Get("CD4ML_REALNODE_DIR");
        NetworkNamespacePath = Get("CD4ML_REALNODE_NETNS_PATH");
        KubeconfigPath = Get("CD4ML_REALNODE_KUBECONFIG");
        Image = Get("CD4ML_REALNODE_IMAGE");
        NodeIp = Get("CD4ML_REALNODE_NODE_IP");
        S3Url = new Uri(Get("CD4ML_REALNODE_S3_URL"));
        S3PodUrl = new Uri(Get("CD4ML_REALNODE_S3_POD_URL"));
        PrometheusUrl = new Uri(Get("CD4ML_REALNODE_PROMETHEUS_URL"));
        PrometheusPodUrl = new Uri(Get("CD4ML_REALNODE_PROMETHEUS_POD_URL"));
        LogDirectory = Get("CD4ML_REALNODE_LOGS");
    }

    public static string Script => RepositoryRoot.Combine("tests", "env", "realnode.sh");

    /// <summary>Why this machine cannot run the real node (not root, not Linux, ...), or null when it can.</summary>
    public static string? UnavailableReason => Unavailable.Value;

    /// <summary><c>realnode.sh footprint</c> taken just before this process first brought the node up.</summary>
    public static string? FootprintBeforeUp { get; private set; }

    public static bool IsSharedRunning => shared is not null;

    public string WorkDirectory { get; }

    public string NetworkNamespacePath { get; }

    /// <summary>An admin kubeconfig for the apiserver, forwarded to 127.0.0.1.</summary>
    public string KubeconfigPath { get; }

    /// <summary>The project's image on the node (cd4ml.local/cd4ml:dev); Pods use it without pulling.</summary>
    public string Image { get; }

    /// <summary>The node's address inside the namespace.</summary>
    public string NodeIp { get; }

    /// <summary>s3rver (buckets <c>datasets</c> and <c>models</c>; credentials S3RVER/S3RVER) from this machine.</summary>
    public Uri S3Url { get; }

    /// <summary>The same s3rver as Pods reach it.</summary>
    public Uri S3PodUrl { get; }

    /// <summary>Prometheus from this machine; it scrapes Pods annotated prometheus.io/scrape and the operator every second.</summary>
    public Uri PrometheusUrl { get; }

    /// <summary>The same Prometheus as Pods (the operator's canary analysis) reach it.</summary>
    public Uri PrometheusPodUrl { get; }

    /// <summary>Logs of every process of the node (kubelet.log, kube-apiserver.log, containerd.log, ...); kept after down.</summary>
    public string LogDirectory { get; }

    /// <summary>Brings the node up on first use (throws with the reason when this machine cannot run it).</summary>
    public static async Task<RealNodeCluster> SharedAsync(CancellationToken cancellationToken = default)
    {
        await SharedLock.WaitAsync(cancellationToken);
        try
        {
            if (shared is not null)
            {
                return shared;
            }

            if (UnavailableReason is { } reason)
            {
                throw new InvalidOperationException(reason);
            }

            // A failed bring-up fails every test that needs the node, once: not one slow retry per test.
            if (startFailure is not null)
            {
                throw new InvalidOperationException("the real node did not come up", startFailure);
            }

            FootprintBeforeUp ??= await FootprintAsync(cancellationToken);
            var up = await RunScriptAsync(["up"], TimeSpan.FromMinutes(90), cancellationToken);
            if (up.ExitCode != 0)
            {
                startFailure = new InvalidOperationException($"{Script} up failed ({up.ExitCode}):\n{Tail(up.Error)}");
                throw startFailure;
            }

            var envFile = Path.Combine(Environment.GetEnvironmentVariable("CD4ML_REALNODE_DIR")
                ?? RepositoryRoot.Combine(".cache", "realnode"), "realnode.env");
            shared = new RealNodeCluster(ParseEnvFile(await File.ReadAllTextAsync(envFile, cancellationToken)));
            return shared;
        }
        finally
        {
            SharedLock.Release();
        }
    }

    /// <summary>Takes the shared node down if this process brought it up (call from a [SetUpFixture]'s teardown).</summary>
    public static async Task StopSharedAsync(CancellationToken cancellationToken = default)
    {
        await SharedLock.WaitAsync(cancellationToken);
        try
        {
            if (shared is null)
            {
                return;
            }

            var down = await RunScriptAsync(["down"], TimeSpan.FromMinutes(5), cancellationToken);
            NUnit.Framework.TestContext.Progress.WriteLine($"real node logs kept in {shared.LogDirectory}");
            shared = null;
            if (down.ExitCode != 0)
            {
                throw new InvalidOperationException($"{Script} down failed ({down.ExitCode}):\n{Tail(down.Error)}");
            }
        }
        finally
        {
            SharedLock.Release();
        }
    }

    /// <summary>What a run could leave on this machine: processes, mounts, network namespaces, iptables, sysctls, cgroups.</summary>
    public static async Task<string> FootprintAsync(CancellationToken cancellationToken = default) =>
        (await RunScriptAsync(["footprint"], TimeSpan.FromMinutes(1), cancellationToken)).Output;

    public IKubernetes CreateClient() =>
        new Kubernetes(KubernetesClientConfiguration.BuildConfigFromConfigFile(KubeconfigPath));

    public Task<Kubectl.Result> KubectlAsync(string? stdin, params string[] arguments) =>
        Kubectl.RunAsync(KubeconfigPath, stdin, arguments);

    /// <summary>Runs a command in the node's network namespace (where Pod IPs and ClusterIPs route), e.g. curl.</summary>
    public Task<Command.Result> RunInNamespaceAsync(IEnumerable<string> command, TimeSpan? timeout = null,
        CancellationToken cancellationToken = default) =>
        Command.RunAsync("nsenter", [$"--net={NetworkNamespacePath}", .. command], timeout: timeout,
            cancellationToken: cancellationToken);

    /// <summary>
    /// Forwards a free 127.0.0.1 port to <paramref name="host"/>:<paramref name="port"/> inside the namespace (a Pod IP
    /// or a ClusterIP). Each client connection opens its own connection there, so a Service balances per connection.
    /// </summary>
    public async Task<NamespaceForward> ForwardAsync(string host, int port, CancellationToken cancellationToken = default)
    {
        var portsFile = Path.Combine(WorkDirectory, $"forward-{Guid.NewGuid():N}.ports");
        var process = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("python3")
        {
            ArgumentList =
            {
                RepositoryRoot.Combine("tests", "env", "netns-forward.py"), "--netns", NetworkNamespacePath,
                "--ports-file", portsFile, $"target={host}:{port}",
            },
            UseShellExecute = false,
        }) ?? throw new InvalidOperationException("python3 did not start");
        try
        {
            await ControlPlane.WaitUntilAsync(() => Task.FromResult(File.Exists(portsFile) || process.HasExited),
                TimeSpan.FromSeconds(20), $"a loopback forward to {host}:{port}", cancellationToken);
            if (process.HasExited)
            {
                throw new InvalidOperationException($"netns-forward.py exited with {process.ExitCode}");
            }

            var localPort = int.Parse(File.ReadAllText(portsFile).Trim().Split('=')[1], System.Globalization.CultureInfo.InvariantCulture);
            File.Delete(portsFile);
            return new NamespaceForward(process, new Uri($"http://127.0.0.1:{localPort}"));
        }
        catch
        {
            process.Kill();
            process.Dispose();
            throw;
        }
    }

    internal static IReadOnlyDictionary<string, string> ParseEnvFile(string text) =>
        text.Split('\n')
            .Select(line => line.Trim())
            .Where(line => line.StartsWith("export ", StringComparison.Ordinal))
            .Select(line => line["export ".Length..].Split('=', 2))
            .ToDictionary(pair => pair[0], pair => pair[1].Trim('"'));

    private static Task<Command.Result> RunScriptAsync(string[] arguments, TimeSpan timeout, CancellationToken cancellationToken) =>
        Command.RunAsync("bash", [Script, .. arguments], timeout: timeout,
            progress: line => NUnit.Framework.TestContext.Progress.WriteLine(line), cancellationToken: cancellationToken);

    private static string? CheckMachine()
    {
        if (!OperatingSystem.IsLinux())
        {
            return "the real node needs Linux";
        }

        var check = Command.RunAsync("bash", [Script, "check"]).GetAwaiter().GetResult();
        return check.ExitCode == 0 ? null : check.Output.Trim();
    }

    private static string Tail(string text) => string.Join('\n', text.Split('\n').TakeLast(30));
}

/// <summary>A loopback port forwarded into the node's namespace; stops forwarding on dispose.</summary>
public sealed class NamespaceForward(System.Diagnostics.Process process, Uri address) : IAsyncDisposable
{
    /// <summary>http://127.0.0.1:port</summary>
    public Uri Address { get; } = address;

    public async ValueTask DisposeAsync()
    {
        process.Kill();
        await process.WaitForExitAsync();
        process.Dispose();
    }
}
