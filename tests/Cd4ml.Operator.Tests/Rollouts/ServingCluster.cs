using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using System.Text.Json;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.LocalCluster;
using Cd4ml.Testing;
using Cd4ml.Training;
using Cd4ml.Training.Datasets;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// Real model servers on a private control plane: a local kubelet runs the Pods as <c>cd4ml serve</c> processes on
/// their own loopback addresses and publishes them to a real Prometheus; one model trained on generated retail data
/// sits in s3rver; the CRDs are installed. Used by the end-to-end rollout tests and the rollback benchmark.
/// </summary>
internal sealed class ServingCluster : IAsyncDisposable
{
    public const string Image = "ghcr.io/cd4ml/cd4ml:rollout-test";
    public const string SecretName = "s3";

    private ServingCluster(ControlPlane plane, PrometheusServer prometheus, S3Server s3, LocalKubelet kubelet,
        IKubernetes client, string modelUri, string sha256, string requestBody)
    {
        Plane = plane;
        Prometheus = prometheus;
        S3 = s3;
        Kubelet = kubelet;
        Client = client;
        ModelUri = modelUri;
        ModelSha256 = sha256;
        RequestBody = requestBody;
    }

    public ControlPlane Plane { get; }

    public PrometheusServer Prometheus { get; }

    public S3Server S3 { get; }

    public LocalKubelet Kubelet { get; }

    public IKubernetes Client { get; }

    public string ModelUri { get; }

    public string ModelSha256 { get; }

    /// <summary>One valid /predict body (a holdout row without its label).</summary>
    public string RequestBody { get; }

    public S3StorageSpec Storage => new()
    {
        SecretRef = new SecretReference { Name = SecretName },
        Endpoint = S3.Settings.ServiceUrl,
        ForcePathStyle = true,
    };

    /// <summary>The local kubelet's node: Pods that must run here (training Jobs) select it by hostname.</summary>
    public const string NodeName = "rollouts-node";

    /// <param name="extraEnvironment">NAME=value pairs every Pod of <see cref="Image"/> also gets (e.g. a short log flush interval).</param>
    public static async Task<ServingCluster> StartAsync(TimeSpan scrapeInterval, TextWriter log, IReadOnlyList<string>? extraEnvironment = null)
    {
        log.WriteLine("starting control plane, Prometheus, s3rver");
        var planeTask = ControlPlane.StartAsync();
        var prometheusTask = PrometheusServer.StartAsync(scrapeInterval);
        var s3 = await S3Server.StartAsync();
        var (uri, sha, body) = await TrainAsync(s3);
        var plane = await planeTask;
        var prometheus = await prometheusTask;
        await RolloutHarness.InstallCrdsAsync(plane);
        var client = plane.CreateClient();
        var cli = Path.Combine(AppContext.BaseDirectory, "cd4ml.dll");
        var kubelet = await LocalKubelet.StartAsync(client, new LocalKubeletOptions
        {
            NodeName = NodeName,
            Cd4mlCliPath = cli,
            MaxProbePeriod = TimeSpan.FromMilliseconds(500),
            // The test image is the cd4ml image with fault injection enabled (POST /admin/fault).
            ResolveImage = container => container.Image == Image
                ? ["/usr/bin/env", "CD4ML_ADMIN=1", .. extraEnvironment ?? [], "dotnet", cli, .. container.Args ?? []]
                : null,
            ScrapeTargetsChanged = targets => prometheus.SetTargetsAsync(targets.Select(t => (t.Address, t.Labels))),
        });
        log.WriteLine($"cluster ready; model {uri}");
        return new ServingCluster(plane, prometheus, s3, kubelet, client, uri, sha, body);
    }

    /// <summary>
    /// The Deployment controller in the test process on a fresh namespace of this cluster, making Pods of <see cref="Image"/>
    /// that read the model through <see cref="Storage"/> and judging canaries by this cluster's Prometheus (or
    /// <paramref name="prometheusAddress"/>).
    /// </summary>
    public async Task<RolloutHarness> StartHarnessAsync(string? prometheusAddress = null, bool allowFaultInjection = false)
    {
        var harness = await RolloutHarness.StartAsync(Plane, prometheusAddress ?? Prometheus.Address.ToString(), Image,
            allowFaultInjection: allowFaultInjection);
        await CreateStorageSecretAsync(harness.Namespace);
        return harness;
    }

    /// <summary>The Secret <see cref="Storage"/> names, in <paramref name="ns"/>.</summary>
    public Task CreateStorageSecretAsync(string ns) => S3Server.CreateCredentialsSecretAsync(Client, ns, SecretName);

    /// <summary>Ready Pods of one cd4ml.io Deployment (optionally one track) with their loopback addresses.</summary>
    public async Task<IReadOnlyList<(string Ip, string Track)>> ReadyPodsAsync(string ns, string deployment, string? track = null)
    {
        var selector = $"cd4ml.io/deployment={deployment}" + (track is null ? "" : $",cd4ml.io/track={track}");
        var pods = await Client.CoreV1.ListNamespacedPodAsync(ns, labelSelector: selector);
        return pods.Items
            .Where(p => p.Metadata.DeletionTimestamp is null && p.Status?.PodIP is { Length: > 0 }
                        && p.Status.Conditions?.Any(c => c.Type == "Ready" && c.Status == "True") == true)
            .Select(p => (p.Status.PodIP, p.Metadata.Labels["cd4ml.io/track"]))
            .ToList();
    }

    /// <summary>Sets the injected server-error rate on every ready canary Pod.</summary>
    public async Task<int> InjectCanaryFaultAsync(string ns, string deployment, double errorRate, int port = 8080)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        var pods = await ReadyPodsAsync(ns, deployment, "canary");
        foreach (var (ip, _) in pods)
        {
            var body = $"{{\"errorRate\":{errorRate.ToString(CultureInfo.InvariantCulture)}}}";
            using var response = await http.PostAsync($"http://{ip}:{port}/admin/fault",
                new StringContent(body, Encoding.UTF8, "application/json"));
            response.EnsureSuccessStatusCode();
        }

        return pods.Count;
    }

    public async ValueTask DisposeAsync()
    {
        await Kubelet.DisposeAsync();
        Client.Dispose();
        await Prometheus.DisposeAsync();
        await S3.DisposeAsync();
        await Plane.DisposeAsync();
    }

    private static async Task<(string Uri, string Sha256, string Body)> TrainAsync(S3Server s3)
    {
        var bucket = await s3.CreateUniqueBucketAsync("rollout");
        var dataset = bucket.Combine("datasets/retail.csv");
        await s3.Store.PutBytesAsync(dataset, RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = 2000, Seed = 11 }));
        var settings = RetailDatasetGenerator.TrainingPreset(dataset, bucket.Combine("runs/sales-1/"), s3.Settings);
        var result = await new ModelTrainer(s3.Store, TextWriter.Null).RunAsync(settings);
        var holdout = CsvTable.Parse(await s3.Store.GetBytesAsync(settings.OutputUri.Combine(ModelManifest.HoldoutFileName)));
        var row = holdout.Columns.Select((column, i) => (column, value: holdout.Rows[0][i]))
            .Where(x => x.column != RetailDatasetGenerator.LabelColumn)
            .ToDictionary(x => x.column, x => x.column is "store_nbr" or "item_nbr" or "perishable" or "holiday" && x.value is { Length: > 0 } v
                ? (object?)long.Parse(v, CultureInfo.InvariantCulture)
                : string.IsNullOrEmpty(x.value) ? null : x.value);
        return (settings.OutputUri.Combine(ModelManifest.ModelFileName).ToString(), result.ModelSha256, JsonSerializer.Serialize(row));
    }
}

/// <summary>
/// Client traffic as kube-proxy would spread it: each request goes to a ready Pod of the deployment picked uniformly
/// (Endpoints reject loopback addresses, so the Service cannot be used here). Counts answers per track.
/// </summary>
internal sealed class TrafficGenerator : IAsyncDisposable
{
    private readonly ServingCluster cluster;
    private readonly string ns;
    private readonly string deployment;
    private readonly string body;
    private readonly CancellationTokenSource stop = new();
    private readonly HttpClient http = new() { Timeout = TimeSpan.FromSeconds(5) };
    private readonly ConcurrentDictionary<(string Track, int Status), int> answers = new();
    private readonly Task refresher;
    private readonly Task[] workers;
    private volatile IReadOnlyList<(string Ip, string Track)> pods = [];

    public TrafficGenerator(ServingCluster cluster, string ns, string deployment, int concurrency = 4,
        TimeSpan? pace = null)
    {
        this.cluster = cluster;
        this.ns = ns;
        this.deployment = deployment;
        body = cluster.RequestBody;
        refresher = Task.Run(RefreshAsync);
        var delay = pace ?? TimeSpan.FromMilliseconds(20);
        workers = Enumerable.Range(0, concurrency).Select(_ => Task.Run(() => SendAsync(delay))).ToArray();
    }

    /// <summary>Answers by (track, HTTP status); status 0 means the connection failed.</summary>
    public IReadOnlyDictionary<(string Track, int Status), int> Answers => answers;

    public int Count(string track, Func<int, bool> status) => answers.Where(a => a.Key.Track == track && status(a.Key.Status)).Sum(a => a.Value);

    private async Task RefreshAsync()
    {
        while (!stop.IsCancellationRequested)
        {
            try
            {
                pods = await cluster.ReadyPodsAsync(ns, deployment);
                await Task.Delay(250, stop.Token);
            }
            catch (OperationCanceledException)
            {
                return;
            }
            catch (Exception)
            {
                // The API server is busy: keep the last list.
            }
        }
    }

    private async Task SendAsync(TimeSpan delay)
    {
        while (!stop.IsCancellationRequested)
        {
            var current = pods;
            if (current.Count > 0)
            {
                var (ip, track) = current[Random.Shared.Next(current.Count)];
                int status;
                try
                {
                    using var response = await http.PostAsync($"http://{ip}:8080/predict",
                        new StringContent(body, Encoding.UTF8, "application/json"), stop.Token);
                    status = (int)response.StatusCode;
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception)
                {
                    status = 0;
                }

                answers.AddOrUpdate((track, status), 1, (_, n) => n + 1);
            }

            try
            {
                await Task.Delay(delay, stop.Token);
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
        await Task.WhenAll([refresher, .. workers]);
        http.Dispose();
        stop.Dispose();
    }
}
