namespace Cd4ml.Operator;

/// <summary>How the operator runs; bound from command-line flags and environment variables.</summary>
public sealed record OperatorOptions
{
    /// <summary>The image Jobs and model servers run when a resource names none: the operator's own (CD4ML_IMAGE).</summary>
    public string Image { get; init; } = Environment.GetEnvironmentVariable("CD4ML_IMAGE") is { Length: > 0 } image
        ? image
        : $"ghcr.io/cd4ml/cd4ml:{typeof(OperatorOptions).Assembly.GetName().Version?.ToString(3) ?? "dev"}";

    /// <summary>Watch only this namespace; null watches the whole cluster.</summary>
    public string? Namespace { get; init; }

    /// <summary>
    /// Watch only these namespaces, each with its own namespaced list and watch (CD4ML_WATCH_NAMESPACES, comma-separated);
    /// null or empty watches the whole cluster. <see cref="Namespace"/>, when set, wins.
    /// </summary>
    public IReadOnlyList<string>? WatchNamespaces { get; init; } = ParseNamespaces(Environment.GetEnvironmentVariable("CD4ML_WATCH_NAMESPACES"));

    /// <summary>Address for /metrics, /healthz and /readyz.</summary>
    public string ListenUrl { get; init; } = "http://0.0.0.0:8080";

    /// <summary>A kubeconfig file; null means in-cluster config, else $KUBECONFIG / ~/.kube/config.</summary>
    public string? Kubeconfig { get; init; }

    public bool LeaderElection { get; init; } = true;

    /// <summary>Namespace of the leader-election Lease (the operator's own, in a cluster).</summary>
    public string LeaseNamespace { get; init; } = Environment.GetEnvironmentVariable("POD_NAMESPACE") is { Length: > 0 } ns
        ? ns
        : "default";

    /// <summary>Unique per replica: the pod name in a cluster.</summary>
    public string Identity { get; init; } = Environment.GetEnvironmentVariable("POD_NAME") is { Length: > 0 } pod
        ? pod
        : $"{Environment.MachineName}-{Guid.NewGuid().ToString("N")[..6]}";

    /// <summary>Prometheus used by canary analysis when a Deployment names none.</summary>
    public string? PrometheusAddress { get; init; } = Environment.GetEnvironmentVariable("CD4ML_PROMETHEUS_ADDRESS");

    /// <summary>
    /// Cluster-wide platform defaults from the environment (CD4ML_S3_ENDPOINT, CD4ML_S3_SECRET_NAME, …): what a
    /// resource and its namespace's ConfigMap cd4ml-defaults leave unset. Image and Prometheus are the fields above.
    /// </summary>
    public Platform.PlatformDefaults Platform { get; init; } = Cd4ml.Operator.Platform.PlatformDefaults.FromEnvironment();

    /// <summary>S3 endpoint override for the operator's own reads (metrics.json, artifact checks) from outside the cluster network.</summary>
    public string? S3EndpointOverride { get; init; } = Environment.GetEnvironmentVariable("CD4ML_S3_ENDPOINT_OVERRIDE");

    /// <summary>
    /// Honour a Deployment's spec.faultInjection (CD4ML_ALLOW_FAULT_INJECTION=true): for demos, drills and test
    /// clusters; off by default, so a production operator refuses specs that ask for it.
    /// </summary>
    public bool AllowFaultInjection { get; init; } =
        Environment.GetEnvironmentVariable("CD4ML_ALLOW_FAULT_INJECTION") is { } allow
        && (allow == "1" || allow.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// Webhook for notifications (rollback, promotion, pause, failed gates, failed training) of every namespace that
    /// does not override it (CD4ML_NOTIFY_WEBHOOK); null sends none. Treat it as a secret: it is never logged.
    /// </summary>
    public string? NotifyWebhook { get; init; } = Environment.GetEnvironmentVariable("CD4ML_NOTIFY_WEBHOOK");

    /// <summary>Body of notifications: <c>json</c> or <c>slack</c> (CD4ML_NOTIFY_FORMAT).</summary>
    public string NotifyFormat { get; init; } = Environment.GetEnvironmentVariable("CD4ML_NOTIFY_FORMAT") is { Length: > 0 } format
        ? format
        : "json";

    /// <summary>
    /// Serve the read-only dashboard under /dashboard on <see cref="ListenUrl"/> (CD4ML_DASHBOARD=true); off by default.
    /// </summary>
    public bool Dashboard { get; init; } =
        Environment.GetEnvironmentVariable("CD4ML_DASHBOARD") is { } dashboard
        && (dashboard == "1" || dashboard.Equals("true", StringComparison.OrdinalIgnoreCase));

    /// <summary>Workers per controller.</summary>
    public int Workers { get; init; } = 2;

    /// <summary>Namespaces from <c>ns1,ns2</c>; null when none are named.</summary>
    public static IReadOnlyList<string>? ParseNamespaces(string? text) =>
        text?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Distinct().ToList() is { Count: > 0 } list
            ? list
            : null;
}
