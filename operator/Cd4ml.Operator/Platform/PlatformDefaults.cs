using System.Globalization;
using Cd4ml.Api.V1Alpha1;
using k8s.Models;
using YamlDotNet.Core;
using YamlDotNet.Serialization;
using YamlDotNet.Serialization.NamingConventions;

namespace Cd4ml.Operator.Platform;

/// <summary>
/// The platform's plumbing, configured once so team manifests need not repeat it: S3 (endpoint, region, path style,
/// credentials Secret), Prometheus, the image and default container resources. Cluster-wide from the operator's
/// environment (<see cref="FromEnvironment"/>), per namespace from the ConfigMap <see cref="ConfigMapName"/>
/// (<see cref="FromConfigMap"/>). Every field is optional; <see cref="Resolve"/> is the one place that decides which
/// value a resource gets: its own field, else the namespace's, else the cluster's.
/// </summary>
public sealed record PlatformDefaults
{
    public const string ConfigMapName = "cd4ml-defaults";

    // ConfigMap keys; the environment variable of each cluster-wide default is named next to it in Keys.
    public const string S3EndpointKey = "s3.endpoint";
    public const string S3RegionKey = "s3.region";
    public const string S3ForcePathStyleKey = "s3.forcePathStyle";
    public const string S3SecretNameKey = "s3.secretName";
    public const string PrometheusAddressKey = "prometheus.address";
    public const string ImageKey = "image";
    public const string TrainingRequestsKey = "training.requests";
    public const string TrainingLimitsKey = "training.limits";
    public const string ServingRequestsKey = "serving.requests";
    public const string ServingLimitsKey = "serving.limits";
    public const string TrainingMaxConcurrentKey = "training.maxConcurrent";
    public const string MonitoringLogUriKey = "monitoring.logUri";
    public const string AnalysisTemplatesKey = "analysisTemplates";

    /// <summary>ConfigMap key → the operator's environment variable for the same default.</summary>
    public static readonly IReadOnlyDictionary<string, string> Keys = new Dictionary<string, string>
    {
        [S3EndpointKey] = "CD4ML_S3_ENDPOINT",
        [S3RegionKey] = "CD4ML_S3_REGION",
        [S3ForcePathStyleKey] = "CD4ML_S3_FORCE_PATH_STYLE",
        [S3SecretNameKey] = "CD4ML_S3_SECRET_NAME",
        [PrometheusAddressKey] = "CD4ML_PROMETHEUS_ADDRESS",
        [ImageKey] = "CD4ML_IMAGE",
        [TrainingRequestsKey] = "CD4ML_TRAINING_REQUESTS",
        [TrainingLimitsKey] = "CD4ML_TRAINING_LIMITS",
        [ServingRequestsKey] = "CD4ML_SERVING_REQUESTS",
        [ServingLimitsKey] = "CD4ML_SERVING_LIMITS",
        [TrainingMaxConcurrentKey] = "CD4ML_MAX_CONCURRENT_TRAINING",
        [MonitoringLogUriKey] = "CD4ML_MONITORING_LOG_URI",
        [AnalysisTemplatesKey] = "CD4ML_ANALYSIS_TEMPLATES",
    };

    public string? S3Endpoint { get; init; }
    public string? S3Region { get; init; }
    public bool? S3ForcePathStyle { get; init; }
    public string? S3SecretName { get; init; }
    public string? PrometheusAddress { get; init; }
    public string? Image { get; init; }
    public V1ResourceRequirements? TrainingResources { get; init; }
    public V1ResourceRequirements? ServingResources { get; init; }

    /// <summary>Training attempts that may run at once in a namespace; 0 or unset: unlimited.</summary>
    public int? MaxConcurrentTraining { get; init; }

    /// <summary>S3 prefix under which each Deployment's prediction log goes, as <c>&lt;namespace&gt;/&lt;deployment&gt;/</c>.</summary>
    public string? MonitoringLogUri { get; init; }

    /// <summary>
    /// Named canary analyses a Deployment starts from (spec.strategy.canary.analysis.template), each in the shape of
    /// spec.strategy.canary.analysis: the platform's SLO metrics, thresholds and limits, defined once.
    /// </summary>
    public IReadOnlyDictionary<string, AnalysisSpec>? AnalysisTemplates { get; init; }

    public static readonly PlatformDefaults None = new();

    /// <summary>Namespace defaults over cluster defaults, field by field. Pure.</summary>
    public static PlatformDefaults Resolve(PlatformDefaults? @namespace, PlatformDefaults cluster) => @namespace is null
        ? cluster
        : new PlatformDefaults
        {
            S3Endpoint = @namespace.S3Endpoint ?? cluster.S3Endpoint,
            S3Region = @namespace.S3Region ?? cluster.S3Region,
            S3ForcePathStyle = @namespace.S3ForcePathStyle ?? cluster.S3ForcePathStyle,
            S3SecretName = @namespace.S3SecretName ?? cluster.S3SecretName,
            PrometheusAddress = @namespace.PrometheusAddress ?? cluster.PrometheusAddress,
            Image = @namespace.Image ?? cluster.Image,
            TrainingResources = @namespace.TrainingResources ?? cluster.TrainingResources,
            ServingResources = @namespace.ServingResources ?? cluster.ServingResources,
            MaxConcurrentTraining = @namespace.MaxConcurrentTraining ?? cluster.MaxConcurrentTraining,
            MonitoringLogUri = @namespace.MonitoringLogUri ?? cluster.MonitoringLogUri,
            AnalysisTemplates = Merge(@namespace.AnalysisTemplates, cluster.AnalysisTemplates),
        };

    /// <summary>Template by template: a namespace's template replaces the cluster's of the same name as a whole.</summary>
    private static IReadOnlyDictionary<string, AnalysisSpec>? Merge(IReadOnlyDictionary<string, AnalysisSpec>? @namespace,
        IReadOnlyDictionary<string, AnalysisSpec>? cluster) =>
        @namespace is null ? cluster
        : cluster is null ? @namespace
        : cluster.Where(t => !@namespace.ContainsKey(t.Key)).Concat(@namespace).ToDictionary(t => t.Key, t => t.Value);

    /// <summary>
    /// A resource's storage with the defaults filled in, field by field: what the resource sets wins. Null when
    /// neither sets anything (ambient AWS credentials and endpoint). Pure; never touches the resource's spec.
    /// </summary>
    public S3StorageSpec? Storage(S3StorageSpec? resource)
    {
        var secret = resource?.SecretRef?.Name is { Length: > 0 } own ? own : S3SecretName;
        var storage = new S3StorageSpec
        {
            SecretRef = secret is null ? null : new SecretReference { Name = secret },
            Endpoint = resource?.Endpoint is { Length: > 0 } endpoint ? endpoint : S3Endpoint,
            Region = resource?.Region is { Length: > 0 } region ? region : S3Region,
            ForcePathStyle = resource?.ForcePathStyle ?? S3ForcePathStyle,
        };
        return storage is { SecretRef: null, Endpoint: null, Region: null, ForcePathStyle: null } ? null : storage;
    }

    /// <summary>What status.effective shows for a resource's storage and Prometheus address.</summary>
    public EffectiveSettings Effective(S3StorageSpec? resourceStorage, string? prometheus = null)
    {
        var storage = Storage(resourceStorage);
        return new EffectiveSettings
        {
            Storage = storage is null ? null : new EffectiveStorage
            {
                Endpoint = storage.Endpoint,
                Region = storage.Region,
                ForcePathStyle = storage.ForcePathStyle,
                SecretName = storage.SecretRef?.Name,
            },
            Prometheus = prometheus,
        };
    }

    /// <summary>Cluster-wide defaults from the operator's environment (image and Prometheus come from <see cref="OperatorOptions"/>).</summary>
    public static PlatformDefaults FromEnvironment()
    {
        var values = Keys
            .Where(k => k.Key is not (ImageKey or PrometheusAddressKey))
            .Select(k => (k.Key, Value: Environment.GetEnvironmentVariable(k.Value)))
            .Where(k => !string.IsNullOrWhiteSpace(k.Value))
            .ToDictionary(k => k.Key, k => k.Value!);
        var (defaults, problem) = Parse(values);
        return problem is null
            ? defaults
            : throw new ArgumentException($"{Keys[problem.Key]}: {problem.Message}");
    }

    /// <summary>A namespace's defaults from the data of its ConfigMap; a malformed value is a problem naming the key.</summary>
    public static (PlatformDefaults Defaults, PlatformDefaultsProblem? Problem) FromConfigMap(IDictionary<string, string>? data) =>
        Parse(data ?? new Dictionary<string, string>());

    private static (PlatformDefaults, PlatformDefaultsProblem?) Parse(IDictionary<string, string> data)
    {
        if (data.Keys.FirstOrDefault(k => !Keys.ContainsKey(k)) is { } unknown)
        {
            return (None, new PlatformDefaultsProblem(unknown, $"unknown key; known keys: {string.Join(", ", Keys.Keys)}"));
        }

        string? Text(string key) => data.TryGetValue(key, out var value) && !string.IsNullOrWhiteSpace(value) ? value.Trim() : null;

        foreach (var key in new[] { S3EndpointKey, PrometheusAddressKey })
        {
            if (Text(key) is { } url && !(Uri.TryCreate(url, UriKind.Absolute, out var parsed) && parsed.Scheme is "http" or "https"))
            {
                return (None, new PlatformDefaultsProblem(key, $"\"{url}\" is not an http(s) URL"));
            }
        }

        if (Text(MonitoringLogUriKey) is { } logUri && !System.Text.RegularExpressions.Regex.IsMatch(logUri, Cd4ml.Api.Schema.Patterns.S3Prefix))
        {
            return (None, new PlatformDefaultsProblem(MonitoringLogUriKey,
                $"\"{logUri}\" is not an S3 prefix s3://<bucket>/<path>/ (ending in /)"));
        }

        bool? pathStyle = null;
        if (Text(S3ForcePathStyleKey) is { } flag)
        {
            if (!bool.TryParse(flag, out var parsedFlag))
            {
                return (None, new PlatformDefaultsProblem(S3ForcePathStyleKey, $"\"{flag}\" is not true or false"));
            }

            pathStyle = parsedFlag;
        }

        int? maxConcurrent = null;
        if (Text(TrainingMaxConcurrentKey) is { } count)
        {
            if (!int.TryParse(count, NumberStyles.None, CultureInfo.InvariantCulture, out var parsedCount))
            {
                return (None, new PlatformDefaultsProblem(TrainingMaxConcurrentKey, $"\"{count}\" is not a whole number >= 0 (0: unlimited)"));
            }

            maxConcurrent = parsedCount;
        }

        IReadOnlyDictionary<string, AnalysisSpec>? templates = null;
        if (Text(AnalysisTemplatesKey) is { } yaml)
        {
            if (!TryParseTemplates(yaml, out templates, out var error))
            {
                return (None, new PlatformDefaultsProblem(AnalysisTemplatesKey, error!));
            }
        }

        var quantities = new Dictionary<string, Dictionary<string, ResourceQuantity>?>();
        foreach (var key in new[] { TrainingRequestsKey, TrainingLimitsKey, ServingRequestsKey, ServingLimitsKey })
        {
            if (!TryParseQuantities(Text(key), out var parsed, out var error))
            {
                return (None, new PlatformDefaultsProblem(key, error!));
            }

            quantities[key] = parsed;
        }

        return (new PlatformDefaults
        {
            S3Endpoint = Text(S3EndpointKey),
            S3Region = Text(S3RegionKey),
            S3ForcePathStyle = pathStyle,
            S3SecretName = Text(S3SecretNameKey),
            PrometheusAddress = Text(PrometheusAddressKey),
            Image = Text(ImageKey),
            TrainingResources = Resources(quantities[TrainingRequestsKey], quantities[TrainingLimitsKey]),
            ServingResources = Resources(quantities[ServingRequestsKey], quantities[ServingLimitsKey]),
            MaxConcurrentTraining = maxConcurrent,
            MonitoringLogUri = Text(MonitoringLogUriKey),
            AnalysisTemplates = templates,
        }, null);
    }

    private static readonly IDeserializer TemplateReader = new DeserializerBuilder()
        .WithNamingConvention(CamelCaseNamingConvention.Instance)
        .Build();

    /// <summary>YAML: template name → a spec.strategy.canary.analysis (interval, window, prometheus, metrics, limits).</summary>
    private static bool TryParseTemplates(string yaml, out IReadOnlyDictionary<string, AnalysisSpec>? templates, out string? error)
    {
        templates = null;
        error = null;
        Dictionary<string, AnalysisSpec>? parsed;
        try
        {
            parsed = TemplateReader.Deserialize<Dictionary<string, AnalysisSpec>?>(yaml);
        }
        catch (YamlException e)
        {
            var cause = e.InnerException?.Message ?? e.Message;
            error = $"not a map of template name to analysis (interval, window, prometheus, metrics, failureLimit, " +
                    $"inconclusiveLimit, errorLimit, minSampleCount): line {e.Start.Line}: {cause}";
            return false;
        }

        foreach (var (name, template) in parsed ?? [])
        {
            if (!System.Text.RegularExpressions.Regex.IsMatch(name, Cd4ml.Api.Schema.Patterns.DnsLabel))
            {
                error = $"template name \"{name}\" is not a DNS label (lower-case letters, digits and -)";
                return false;
            }

            if (template is null)
            {
                error = $"template {name} is empty";
                return false;
            }

            if (!string.IsNullOrEmpty(template.Template))
            {
                error = $"template {name} names template {template.Template}: templates do not nest";
                return false;
            }

            if (template.Metrics?.FirstOrDefault(m => string.IsNullOrEmpty(m.Name)) is not null)
            {
                error = $"template {name}: every metric needs a name";
                return false;
            }
        }

        templates = parsed ?? [];
        return true;
    }

    private static V1ResourceRequirements? Resources(Dictionary<string, ResourceQuantity>? requests, Dictionary<string, ResourceQuantity>? limits) =>
        requests is null && limits is null ? null : new V1ResourceRequirements { Requests = requests, Limits = limits };

    /// <summary>"cpu=500m,memory=512Mi".</summary>
    private static bool TryParseQuantities(string? text, out Dictionary<string, ResourceQuantity>? quantities, out string? error)
    {
        quantities = null;
        error = null;
        if (text is null)
        {
            return true;
        }

        quantities = [];
        foreach (var pair in text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = pair.Split('=', 2, StringSplitOptions.TrimEntries);
            if (parts.Length != 2 || parts[0].Length == 0 || !IsQuantity(parts[1]))
            {
                error = $"\"{pair}\" is not <resource>=<quantity>, e.g. cpu=500m,memory=512Mi";
                return false;
            }

            quantities[parts[0]] = new ResourceQuantity(parts[1]);
        }

        return true;
    }

    private static bool IsQuantity(string text)
    {
        var number = text.TrimEnd('k', 'K', 'M', 'G', 'T', 'P', 'E', 'i', 'm', 'n', 'u');
        return number.Length > 0 && decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out _);
    }
}

/// <summary>A malformed default, naming its ConfigMap key.</summary>
public sealed record PlatformDefaultsProblem(string Key, string Message);
