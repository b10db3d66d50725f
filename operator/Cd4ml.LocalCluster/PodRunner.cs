using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;
using k8s;
using k8s.Autorest;
using k8s.Models;

namespace Cd4ml.LocalCluster;

/// <summary>One Pod's containers as local processes, and the Pod status a kubelet would report for them.</summary>
internal sealed partial class PodRunner
{
    private const int MaxTerminationMessageBytes = 4096;

    private readonly IKubernetes client;
    private readonly LocalKubeletOptions options;
    private readonly string ns;
    private readonly string name;
    private readonly string uid;
    private readonly string workDirectory;
    private readonly DateTime startTime = DateTime.UtcNow;
    private readonly List<ContainerRunner> containers;
    private V1Pod pod;
    private string lastStatusJson = "";
    private Task? deletion;

    public PodRunner(IKubernetes client, V1Pod pod, string podIp, LocalKubeletOptions options)
    {
        this.client = client;
        this.pod = pod;
        this.options = options;
        PodIp = podIp;
        ns = pod.Metadata.NamespaceProperty;
        name = pod.Metadata.Name;
        uid = pod.Metadata.Uid;
        workDirectory = Directory.CreateTempSubdirectory($"cd4ml-pod-{name}-").FullName;
        containers = pod.Spec.Containers.Select(c => new ContainerRunner(this, c)).ToList();
    }

    public string PodIp { get; }

    /// <summary>The Pod is gone from the API (its final delete is done).</summary>
    public bool Removed { get; private set; }

    private string RestartPolicy => pod.Spec.RestartPolicy ?? "Always";

    public async Task SyncAsync(V1Pod current, CancellationToken ct)
    {
        pod = current;
        if (pod.Metadata.DeletionTimestamp is not null)
        {
            deletion ??= DeleteAsync(TimeSpan.FromSeconds(Math.Clamp(pod.Metadata.DeletionGracePeriodSeconds ?? 30, 0, 30)));
            if (deletion.IsCompleted)
            {
                await deletion;
                Removed = true;
            }

            return;
        }

        foreach (var container in containers)
        {
            await container.SyncAsync(ct);
        }

        await WriteStatusAsync(ct);
    }

    public async Task StopAsync(TimeSpan grace)
    {
        await Task.WhenAll(containers.Select(c => c.StopAsync(grace)));
        TryDeleteWorkDirectory();
    }

    public ScrapeTarget? ScrapeTarget()
    {
        var annotations = pod.Metadata.Annotations ?? new Dictionary<string, string>();
        if (Removed || deletion is not null || !containers.Any(c => c.IsRunning)
            || !annotations.TryGetValue("prometheus.io/scrape", out var scrape) || scrape != "true")
        {
            return null;
        }

        var port = annotations.TryGetValue("prometheus.io/port", out var p)
            ? p
            : pod.Spec.Containers.SelectMany(c => c.Ports ?? []).FirstOrDefault()?.ContainerPort.ToString();
        if (port is null)
        {
            return null;
        }

        var labels = new Dictionary<string, string> { ["namespace"] = ns, ["pod"] = name };
        foreach (var (key, value) in pod.Metadata.Labels ?? new Dictionary<string, string>())
        {
            labels[LabelName().Replace(key, "_")] = value;
        }

        return new ScrapeTarget($"{PodIp}:{port}", labels);
    }

    private async Task DeleteAsync(TimeSpan grace)
    {
        await StopAsync(grace);
        try
        {
            await client.CoreV1.DeleteNamespacedPodAsync(name, ns, new V1DeleteOptions
            {
                GracePeriodSeconds = 0,
                Preconditions = new V1Preconditions { Uid = uid },
            });
        }
        catch (HttpOperationException e) when (e.Response.StatusCode is HttpStatusCode.NotFound or HttpStatusCode.Conflict)
        {
        }
    }

    private async Task WriteStatusAsync(CancellationToken ct)
    {
        var statuses = containers.Select(c => c.Status()).ToList();
        var allReady = statuses.All(s => s.Ready);
        var phase = Phase(statuses);
        var now = DateTime.UtcNow;
        var status = new V1PodStatus
        {
            Phase = phase,
            HostIP = "127.0.0.1",
            PodIP = PodIp,
            PodIPs = [new V1PodIP { Ip = PodIp }],
            StartTime = startTime,
            QosClass = "BestEffort",
            ContainerStatuses = statuses,
            Conditions =
            [
                Condition("Initialized", true, now),
                Condition("Ready", allReady && phase == "Running", now),
                Condition("ContainersReady", allReady && phase == "Running", now),
                Condition("PodScheduled", true, now),
            ],
        };
        var json = KubernetesJson.Serialize(new { status });
        if (json == lastStatusJson)
        {
            return;
        }

        try
        {
            await client.CoreV1.PatchNamespacedPodStatusAsync(new V1Patch(json, V1Patch.PatchType.MergePatch), name, ns,
                cancellationToken: ct);
            lastStatusJson = json;
        }
        catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
        {
            Removed = true;
        }
    }

    // Transition times only move when the condition's value does.
    private readonly Dictionary<string, (bool Value, DateTime Since)> conditionSince = [];

    private V1PodCondition Condition(string type, bool value, DateTime now)
    {
        if (!conditionSince.TryGetValue(type, out var previous) || previous.Value != value)
        {
            conditionSince[type] = previous = (value, now);
        }

        return new V1PodCondition
        {
            Type = type,
            Status = value ? "True" : "False",
            LastTransitionTime = previous.Since,
            Reason = value ? null : type == "Initialized" || type == "PodScheduled" ? null : "ContainersNotReady",
        };
    }

    private string Phase(IReadOnlyList<V1ContainerStatus> statuses)
    {
        if (statuses.Any(s => s.State.Running is not null))
        {
            return "Running";
        }

        var terminated = statuses.Where(s => s.State.Terminated is not null).ToList();
        if (terminated.Count == statuses.Count && RestartPolicy != "Always")
        {
            if (terminated.All(s => s.State.Terminated.ExitCode == 0))
            {
                return "Succeeded";
            }

            if (RestartPolicy == "Never")
            {
                return "Failed";
            }
        }

        return statuses.Any(s => s.RestartCount > 0) ? "Running" : "Pending";
    }

    private void TryDeleteWorkDirectory()
    {
        try
        {
            Directory.Delete(workDirectory, recursive: true);
        }
        catch (IOException)
        {
        }
    }

    [GeneratedRegex("[^a-zA-Z0-9_]")]
    private static partial Regex LabelName();

    [GeneratedRegex(@"\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)")]
    private static partial Regex VariableReference();

    /// <summary>Kubernetes' $(VAR) expansion: known names are replaced, $$ escapes, unknown references stay.</summary>
    internal static string Expand(string text, IReadOnlyDictionary<string, string> env) =>
        VariableReference().Replace(text, m => m.Value == "$$" ? "$"
            : env.TryGetValue(m.Groups[1].Value, out var value) ? value : m.Value);

    /// <summary>One container: start, probe, exit, restart with back-off.</summary>
    private sealed class ContainerRunner(PodRunner pod, V1Container spec)
    {
        private readonly object gate = new();
        private LocalProcess? process;
        private V1ContainerState state = new() { Waiting = new V1ContainerStateWaiting { Reason = "ContainerCreating" } };
        private V1ContainerState? lastState;
        private int restarts;
        private bool ready;
        private DateTime notBefore = DateTime.MinValue;
        private TimeSpan backoff = TimeSpan.FromSeconds(1);
        private CancellationTokenSource? probing;
        private bool stopped;

        private string TerminationLogPath => Path.Combine(pod.workDirectory, spec.Name + ".termination-log");

        private string LogPath => Path.Combine(pod.options.LogDirectory!, $"{pod.ns}_{pod.name}_{spec.Name}.log");

        public bool IsRunning
        {
            get
            {
                lock (gate)
                {
                    return state.Running is not null;
                }
            }
        }

        public async Task SyncAsync(CancellationToken ct)
        {
            bool shouldStart;
            lock (gate)
            {
                shouldStart = !stopped && process is null && DateTime.UtcNow >= notBefore && state.Terminated is null
                              || !stopped && process is null && state.Terminated is not null && Restarts() && DateTime.UtcNow >= notBefore;
            }

            if (shouldStart)
            {
                await StartAsync(ct);
            }
        }

        private bool Restarts()
        {
            var exitCode = state.Terminated?.ExitCode ?? 0;
            return pod.RestartPolicy == "Always" || pod.RestartPolicy == "OnFailure" && exitCode != 0;
        }

        private async Task StartAsync(CancellationToken ct)
        {
            var commandLine = ResolveCommandLine();
            if (commandLine is null)
            {
                SetWaiting("ErrImagePull",
                    $"image \"{spec.Image}\" cannot run on the local kubelet: only the cd4ml image and commands on this machine's PATH run here");
                return;
            }

            Dictionary<string, string> env;
            try
            {
                env = await ResolveEnvironmentAsync(ct);
            }
            catch (ContainerConfigException e)
            {
                SetWaiting("CreateContainerConfigError", e.Message);
                return;
            }

            var args = commandLine.Select(a => Expand(a, env)).ToList();
            var start = new ProcessStartInfo(args[0]) { WorkingDirectory = pod.workDirectory };
            foreach (var argument in args.Skip(1))
            {
                start.ArgumentList.Add(argument);
            }

            // A container sees only its own environment, not the host's.
            start.Environment.Clear();
            foreach (var inherited in new[] { "PATH", "DOTNET_ROOT", "LANG" })
            {
                if (Environment.GetEnvironmentVariable(inherited) is { } value)
                {
                    start.Environment[inherited] = value;
                }
            }

            start.Environment["HOME"] = pod.workDirectory;
            start.Environment["TMPDIR"] = Path.GetTempPath();
            start.Environment["HOSTNAME"] = pod.name;
            start.Environment["DOTNET_CLI_TELEMETRY_OPTOUT"] = "1";
            // Stands in for the kubelet's mount of terminationMessagePath (default /dev/termination-log).
            start.Environment["CD4ML_TERMINATION_LOG"] = TerminationLogPath;
            foreach (var (key, value) in env)
            {
                start.Environment[key] = value;
            }

            File.Delete(TerminationLogPath);
            LocalProcess started;
            try
            {
                started = LocalProcess.Start(start, LogPath);
            }
            catch (System.ComponentModel.Win32Exception e)
            {
                SetWaiting("RunContainerError", $"cannot start {args[0]}: {e.Message}");
                return;
            }

            var startedAt = DateTime.UtcNow;
            lock (gate)
            {
                process = started;
                if (state.Terminated is not null)
                {
                    lastState = state;
                    restarts++;
                }

                state = new V1ContainerState { Running = new V1ContainerStateRunning { StartedAt = startedAt } };
                ready = spec.ReadinessProbe is null;
            }

            probing = new CancellationTokenSource();
            if (spec.ReadinessProbe is not null)
            {
                _ = Task.Run(() => ProbeLoopAsync(spec.ReadinessProbe, probing.Token), CancellationToken.None);
            }

            _ = started.Exited.ContinueWith(exit => OnExited(started, exit.Result, startedAt), TaskScheduler.Default);
        }

        private void OnExited(LocalProcess exited, int exitCode, DateTime startedAt)
        {
            probing?.Cancel();
            var message = ReadTerminationMessage(exitCode);
            lock (gate)
            {
                process = null;
                ready = false;
                state = new V1ContainerState
                {
                    Terminated = new V1ContainerStateTerminated
                    {
                        ExitCode = exitCode,
                        Reason = exitCode == 0 ? "Completed" : "Error",
                        Message = message,
                        StartedAt = startedAt,
                        FinishedAt = DateTime.UtcNow,
                        ContainerID = $"local://{exited.Id}",
                    },
                };
                notBefore = DateTime.UtcNow + backoff;
                backoff = TimeSpan.FromTicks(Math.Min(backoff.Ticks * 2, pod.options.MaxRestartBackoff.Ticks));
            }
        }

        private string? ReadTerminationMessage(int exitCode)
        {
            var text = File.Exists(TerminationLogPath) ? ReadTail(TerminationLogPath, MaxTerminationMessageBytes, head: true) : "";
            if (text.Length == 0 && exitCode != 0 && spec.TerminationMessagePolicy == "FallbackToLogsOnError"
                && File.Exists(LogPath))
            {
                text = ReadTail(LogPath, 2048, head: false);
            }

            return text.Length == 0 ? null : text;
        }

        private static string ReadTail(string path, int bytes, bool head)
        {
            var all = File.ReadAllBytes(path);
            var slice = all.Length <= bytes ? all : head ? all[..bytes] : all[^bytes..];
            return Encoding.UTF8.GetString(slice);
        }

        private async Task ProbeLoopAsync(V1Probe probe, CancellationToken ct)
        {
            var period = TimeSpan.FromSeconds(probe.PeriodSeconds ?? 10);
            var delay = TimeSpan.FromSeconds(probe.InitialDelaySeconds ?? 0);
            if (pod.options.MaxProbePeriod is { } cap)
            {
                period = period > cap ? cap : period;
                delay = delay > cap ? cap : delay;
            }

            var failures = 0;
            using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(Math.Max(1, probe.TimeoutSeconds ?? 1)) };
            try
            {
                await Task.Delay(delay, ct);
                while (!ct.IsCancellationRequested)
                {
                    var ok = await ProbeOnceAsync(probe, http, ct);
                    failures = ok ? 0 : failures + 1;
                    lock (gate)
                    {
                        if (ok)
                        {
                            ready = true;
                        }
                        else if (failures >= (probe.FailureThreshold ?? 3) || !ready)
                        {
                            ready = false;
                        }
                    }

                    await Task.Delay(period, ct);
                }
            }
            catch (OperationCanceledException)
            {
            }
        }

        private async Task<bool> ProbeOnceAsync(V1Probe probe, HttpClient http, CancellationToken ct)
        {
            try
            {
                if (probe.HttpGet is { } get)
                {
                    var port = Port(get.Port);
                    var scheme = (get.Scheme ?? "HTTP").ToLowerInvariant();
                    using var response = await http.GetAsync($"{scheme}://{get.Host ?? pod.PodIp}:{port}{get.Path ?? "/"}", ct);
                    return (int)response.StatusCode is >= 200 and < 400;
                }

                if (probe.TcpSocket is { } tcp)
                {
                    using var socket = new TcpClient();
                    await socket.ConnectAsync(tcp.Host ?? pod.PodIp, Port(tcp.Port), ct);
                    return true;
                }

                return true; // exec probes are not run locally: documented limitation
            }
            catch (Exception e) when (e is HttpRequestException or SocketException or TaskCanceledException)
            {
                return false;
            }
        }

        private int Port(IntOrString port) =>
            int.TryParse(port.Value, out var number)
                ? number
                : spec.Ports?.FirstOrDefault(p => p.Name == port.Value)?.ContainerPort
                  ?? throw new InvalidOperationException($"no container port named {port.Value}");

        public async Task StopAsync(TimeSpan grace)
        {
            LocalProcess? running;
            lock (gate)
            {
                stopped = true;
                running = process;
            }

            probing?.Cancel();
            if (running is not null)
            {
                await running.StopAsync(grace > TimeSpan.Zero ? grace : TimeSpan.FromMilliseconds(1));
            }
        }

        public V1ContainerStatus Status()
        {
            lock (gate)
            {
                return new V1ContainerStatus
                {
                    Name = spec.Name,
                    Image = spec.Image,
                    ImageID = "local://" + spec.Image,
                    ContainerID = process is { } p ? $"local://{p.Id}" : state.Terminated?.ContainerID,
                    Ready = ready && state.Running is not null,
                    Started = state.Running is not null,
                    RestartCount = restarts,
                    State = CrashLoop() ?? state,
                    LastState = (CrashLoop() is null ? lastState : state) ?? new V1ContainerState(),
                };
            }
        }

        // While waiting to restart after a crash, a kubelet reports Waiting/CrashLoopBackOff.
        private V1ContainerState? CrashLoop()
        {
            if (state.Terminated is null || process is not null || !Restarts())
            {
                return null;
            }

            return new V1ContainerState
            {
                Waiting = new V1ContainerStateWaiting
                {
                    Reason = "CrashLoopBackOff",
                    Message = $"back-off restarting failed container {spec.Name} in pod {pod.name}",
                },
            };
        }

        private void SetWaiting(string reason, string message)
        {
            lock (gate)
            {
                state = new V1ContainerState { Waiting = new V1ContainerStateWaiting { Reason = reason, Message = message } };
                notBefore = DateTime.UtcNow + TimeSpan.FromSeconds(1);
            }
        }

        private IReadOnlyList<string>? ResolveCommandLine()
        {
            if (pod.options.ResolveImage?.Invoke(spec) is { } custom)
            {
                return custom;
            }

            var command = spec.Command ?? [];
            var args = spec.Args ?? [];
            var isCd4mlImage = ImageName().IsMatch(spec.Image ?? "");
            if (pod.options.Cd4mlCliPath is { } cli && (command.Count == 0 && isCd4mlImage
                                                         || command.Count > 0 && Path.GetFileName(command[0]) == "cd4ml"))
            {
                return ["dotnet", cli, .. command.Skip(1), .. args];
            }

            if (command.Count > 0 && OnPath(command[0]))
            {
                return [.. command, .. args];
            }

            return null;
        }

        private static bool OnPath(string executable) =>
            Path.IsPathRooted(executable)
                ? File.Exists(executable)
                : (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':')
                .Any(dir => File.Exists(Path.Combine(dir, executable)));

        private async Task<Dictionary<string, string>> ResolveEnvironmentAsync(CancellationToken ct)
        {
            var env = new Dictionary<string, string>();
            foreach (var source in spec.EnvFrom ?? [])
            {
                IDictionary<string, string> data = new Dictionary<string, string>();
                if (source.SecretRef is { } secretRef)
                {
                    data = (await ReadSecretAsync(secretRef.Name, secretRef.Optional == true, ct))
                        .ToDictionary(kv => kv.Key, kv => Encoding.UTF8.GetString(kv.Value));
                }
                else if (source.ConfigMapRef is { } mapRef)
                {
                    data = await ReadConfigMapAsync(mapRef.Name, mapRef.Optional == true, ct);
                }

                foreach (var (key, value) in data)
                {
                    env[(source.Prefix ?? "") + key] = value;
                }
            }

            foreach (var variable in spec.Env ?? [])
            {
                var value = variable.ValueFrom switch
                {
                    null => Expand(variable.Value ?? "", env),
                    { SecretKeyRef: { } key } => await SecretKeyAsync(key, ct),
                    { ConfigMapKeyRef: { } key } => await ConfigMapKeyAsync(key, ct),
                    { FieldRef: { } field } => Field(field.FieldPath),
                    _ => null,
                };
                if (value is not null)
                {
                    env[variable.Name] = value;
                }
            }

            return env;
        }

        private string? Field(string path)
        {
            var labels = pod.pod.Metadata.Labels ?? new Dictionary<string, string>();
            var annotations = pod.pod.Metadata.Annotations ?? new Dictionary<string, string>();
            var match = Regex.Match(path, @"^metadata\.(labels|annotations)\['(.+)'\]$");
            if (match.Success)
            {
                var map = match.Groups[1].Value == "labels" ? labels : annotations;
                return map.TryGetValue(match.Groups[2].Value, out var value) ? value : "";
            }

            return path switch
            {
                "metadata.name" => pod.name,
                "metadata.namespace" => pod.ns,
                "metadata.uid" => pod.uid,
                "spec.nodeName" => pod.options.NodeName,
                "spec.serviceAccountName" => pod.pod.Spec.ServiceAccountName,
                "status.podIP" => pod.PodIp,
                "status.hostIP" => "127.0.0.1",
                _ => throw new ContainerConfigException($"unsupported fieldRef {path}"),
            };
        }

        private async Task<string?> SecretKeyAsync(V1SecretKeySelector key, CancellationToken ct)
        {
            var data = await ReadSecretAsync(key.Name, key.Optional == true, ct);
            if (data.TryGetValue(key.Key, out var bytes))
            {
                return Encoding.UTF8.GetString(bytes);
            }

            return key.Optional == true
                ? null
                : throw new ContainerConfigException($"couldn't find key {key.Key} in Secret {pod.ns}/{key.Name}");
        }

        private async Task<string?> ConfigMapKeyAsync(V1ConfigMapKeySelector key, CancellationToken ct)
        {
            var data = await ReadConfigMapAsync(key.Name, key.Optional == true, ct);
            if (data.TryGetValue(key.Key, out var value))
            {
                return value;
            }

            return key.Optional == true
                ? null
                : throw new ContainerConfigException($"couldn't find key {key.Key} in ConfigMap {pod.ns}/{key.Name}");
        }

        private async Task<IDictionary<string, byte[]>> ReadSecretAsync(string secretName, bool optional, CancellationToken ct)
        {
            try
            {
                var secret = await pod.client.CoreV1.ReadNamespacedSecretAsync(secretName, pod.ns, cancellationToken: ct);
                return secret.Data ?? new Dictionary<string, byte[]>();
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return optional
                    ? new Dictionary<string, byte[]>()
                    : throw new ContainerConfigException($"secret \"{secretName}\" not found");
            }
        }

        private async Task<IDictionary<string, string>> ReadConfigMapAsync(string mapName, bool optional, CancellationToken ct)
        {
            try
            {
                var map = await pod.client.CoreV1.ReadNamespacedConfigMapAsync(mapName, pod.ns, cancellationToken: ct);
                return map.Data ?? new Dictionary<string, string>();
            }
            catch (HttpOperationException e) when (e.Response.StatusCode == HttpStatusCode.NotFound)
            {
                return optional
                    ? new Dictionary<string, string>()
                    : throw new ContainerConfigException($"configmap \"{mapName}\" not found");
            }
        }
    }

    [GeneratedRegex(@"(^|/)cd4ml(:|@|$)")]
    private static partial Regex ImageName();

    private sealed class ContainerConfigException(string message) : Exception(message);
}
