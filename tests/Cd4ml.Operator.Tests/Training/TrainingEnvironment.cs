using System.Net;
using System.Net.Sockets;
using Cd4ml.Api;
using Cd4ml.Api.Schema;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.LocalCluster;
using Cd4ml.Operator.Tests.Rollouts;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using Cd4ml.Testing;
using Cd4ml.Training.Datasets;
using k8s;
using k8s.Models;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>
/// What the training and registry tests run against: the shared control plane with the CRDs, the shared s3rver with a
/// fresh bucket and a credentials Secret, one namespace, the operator in-process (scoped to that namespace) and,
/// when asked, a local kubelet whose node only this environment's runs select; or all that on a <see cref="ServingCluster"/>.
/// </summary>
internal sealed class TrainingEnvironment : IAsyncDisposable
{
    public const string SecretName = "s3-credentials";

    private readonly OperatorOptions operatorOptions;
    private readonly Action<IServiceCollection>? configureOperator;
    private WebApplication host;
    private readonly LocalKubelet? kubelet;

    private TrainingEnvironment(ControlPlane plane, IKubernetes client, S3Server s3, S3Location bucket, string ns,
        string nodeName, OperatorOptions operatorOptions, Action<IServiceCollection>? configureOperator, WebApplication host,
        LocalKubelet? kubelet)
    {
        this.configureOperator = configureOperator;
        Plane = plane;
        Client = client;
        S3 = s3;
        Bucket = bucket;
        Namespace = ns;
        NodeName = nodeName;
        this.operatorOptions = operatorOptions;
        this.host = host;
        this.kubelet = kubelet;
        Runs = new ResourceClient<TrainingRun>(client);
        Versions = new ResourceClient<ModelVersion>(client);
    }

    public ControlPlane Plane { get; }
    public IKubernetes Client { get; }
    public S3Server S3 { get; }
    public S3Location Bucket { get; }
    public string Namespace { get; }
    public string NodeName { get; }

    /// <summary>
    /// A third-party trainer following the training contract's files but writing no termination message
    /// (the local kubelet runs `cd4ml train` and then empties the message).
    /// </summary>
    public const string SilentTrainerImage = "example.com/silent-trainer:1";
    public ResourceClient<TrainingRun> Runs { get; }
    public ResourceClient<ModelVersion> Versions { get; }
    public string? KubeletLogs => kubelet?.LogDirectory;

    /// <summary>The bucket's endpoint with the credentials Secret of <see cref="Namespace"/>.</summary>
    public S3StorageSpec Storage => new()
    {
        SecretRef = new SecretReference { Name = SecretName },
        Endpoint = S3.Settings.ServiceUrl,
        ForcePathStyle = true,
    };

    /// <param name="configureOperator">Extra services of the in-process operator (e.g. a log capture).</param>
    public static async Task<TrainingEnvironment> StartAsync(string prefix, bool withKubelet,
        Action<IServiceCollection>? configureOperator = null)
    {
        var plane = await ControlPlane.SharedAsync();
        var client = plane.CreateClient();
        await CrdInstaller.InstallAsync(client, ApiKinds.All.Select(CrdGenerator.Generate));
        var s3 = await S3Server.SharedAsync();
        var nodeName = $"{prefix}-node";
        var kubelet = withKubelet
            ? await LocalKubelet.StartAsync(client, new LocalKubeletOptions
            {
                NodeName = nodeName,
                Cd4mlCliPath = Path.Combine(AppContext.BaseDirectory, "cd4ml.dll"),
                ResolveImage = container => container.Image == SilentTrainerImage
                    ? ["sh", "-c", "dotnet \"$0\" train && : > \"$CD4ML_TERMINATION_LOG\"", Path.Combine(AppContext.BaseDirectory, "cd4ml.dll")]
                    : null,
            })
            : null;
        return await StartAsync(prefix, plane, client, s3, nodeName, kubelet, new OperatorOptions(), configureOperator);
    }

    /// <summary>
    /// The same on a <see cref="ServingCluster"/> (which owns the control plane with the CRDs, s3rver, Prometheus and
    /// the kubelet): training Jobs and model servers run side by side on its node, and the operator also rolls out
    /// Deployments with the cluster's image, judged by its Prometheus.
    /// </summary>
    public static Task<TrainingEnvironment> StartAsync(ServingCluster cluster, string prefix, Action<IServiceCollection>? configureOperator = null) =>
        StartAsync(prefix, cluster.Plane, cluster.Plane.CreateClient(), cluster.S3, ServingCluster.NodeName, ownKubelet: null, new OperatorOptions
        {
            Image = ServingCluster.Image,
            PrometheusAddress = cluster.Prometheus.Address.ToString().TrimEnd('/'),
        }, configureOperator);

    private static async Task<TrainingEnvironment> StartAsync(string prefix, ControlPlane plane, IKubernetes client, S3Server s3,
        string nodeName, LocalKubelet? ownKubelet, OperatorOptions options, Action<IServiceCollection>? configureOperator)
    {
        var bucket = await s3.CreateUniqueBucketAsync(prefix);
        var ns = await plane.CreateNamespaceAsync(prefix);
        await S3Server.CreateCredentialsSecretAsync(client, ns, SecretName);

        options = options with
        {
            Kubeconfig = plane.KubeconfigPath,
            LeaderElection = false,
            Namespace = ns,
            ListenUrl = $"http://127.0.0.1:{LoopbackPorts.Free()}",
        };
        var host = OperatorHost.Build(options, configureOperator);
        await host.StartAsync();
        return new TrainingEnvironment(plane, client, s3, bucket, ns, nodeName, options, configureOperator, host, ownKubelet);
    }

    /// <summary>Stops the in-process operator and starts a new one: only what the API stores survives.</summary>
    public async Task RestartOperatorAsync()
    {
        await host.StopAsync();
        await host.DisposeAsync();
        host = OperatorHost.Build(operatorOptions, configureOperator);
        await host.StartAsync();
    }

    /// <summary>Uploads the generated retail dataset and returns its URI.</summary>
    public async Task<string> UploadRetailAsync(string name, int rows = 1200, int seed = 42)
    {
        var location = Bucket.Combine($"datasets/{name}.csv");
        await S3.Store.PutBytesAsync(location, RetailDatasetGenerator.GenerateCsv(new RetailDatasetOptions { Rows = rows, Seed = seed }));
        return location.ToString();
    }

    /// <summary>A run on the retail dataset with the preset that trains on it (schema, returns filter, time split).</summary>
    public TrainingRun RetailRun(string name, string datasetUri, Action<TrainingRunSpec>? configure = null)
    {
        var spec = new TrainingRunSpec
        {
            ModelName = name,
            Dataset = new DatasetSpec
            {
                Uri = datasetUri,
                LabelColumn = RetailDatasetGenerator.LabelColumn,
                Columns = RetailDatasetGenerator.Schema.Select(c => new ColumnSpec
                {
                    Name = c.Name, Type = (Api.V1Alpha1.ColumnType)(int)c.Type, Nullable = c.Nullable ? true : null, Min = c.Min, Max = c.Max,
                }).ToList(),
                Filters = [new Api.V1Alpha1.RowFilter { Column = RetailDatasetGenerator.LabelColumn, Min = 0 }],
                Split = new SplitSpec { Method = Api.V1Alpha1.SplitMethod.Time, TimeColumn = "date" },
                SliceColumns = ["store_nbr"],
            },
            Trainer = new TrainerSpec { Hyperparameters = new Dictionary<string, string> { ["numberOfTrees"] = "20" } },
            Storage = Storage,
            NodeSelector = new Dictionary<string, string> { ["kubernetes.io/hostname"] = NodeName },
            ActiveDeadlineSeconds = 300,
        };
        configure?.Invoke(spec);
        return new TrainingRun { Metadata = new V1ObjectMeta { Name = name, NamespaceProperty = Namespace }, Spec = spec };
    }

    public Task<TrainingRun> CreateAsync(TrainingRun run) => Runs.CreateAsync(run);

    public Task<TrainingRun> WaitForRunAsync(string name, Func<TrainingRun, bool> condition, string what, double seconds = 120) =>
        WaitForAsync(Runs, name, condition, what, seconds);

    public Task<ModelVersion> WaitForVersionAsync(string name, Func<ModelVersion, bool> condition, string what, double seconds = 60) =>
        WaitForAsync(Versions, name, condition, what, seconds);

    /// <summary>Polls one object of <see cref="Namespace"/> until <paramref name="condition"/> holds; the failure names the last status seen.</summary>
    public async Task<T> WaitForAsync<T>(ResourceClient<T> resources, string name, Func<T, bool> condition, string what, double seconds)
        where T : class, IKubernetesObject<V1ObjectMeta>, IHasStatus
    {
        T? last = null;
        try
        {
            await ControlPlane.WaitUntilAsync(async () =>
            {
                last = await resources.GetAsync(Namespace, name);
                return last is not null && condition(last);
            }, TimeSpan.FromSeconds(seconds), what);
        }
        catch (TimeoutException e)
        {
            throw new TimeoutException($"{e.Message}; last status: {(last?.Status is { } status ? KubernetesJson.Serialize((object)status) : "none")}", e);
        }

        return last!;
    }

    public async Task<IReadOnlyList<Corev1Event>> EventsAsync(string involvedName) =>
        (await Client.CoreV1.ListNamespacedEventAsync(Namespace, fieldSelector: $"involvedObject.name={involvedName}")).Items.ToList();

    public async Task<IReadOnlyList<ModelVersion>> VersionsOfAsync(string model) =>
        (await Versions.ListAsync(Namespace, 500, null, CancellationToken.None)).Items.Where(v => v.Spec.ModelName == model).ToList();

    public async ValueTask DisposeAsync()
    {
        await host.StopAsync();
        await host.DisposeAsync();
        if (kubelet is not null)
        {
            await kubelet.DisposeAsync();
        }

        Client.Dispose();
    }

}
