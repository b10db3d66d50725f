using System.Globalization;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Operator.Platform;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Rollouts;

/// <summary>The apps/v1 Deployment of one track and the Service in front of both, built from the serving contract.</summary>
public static class ServingWorkloads
{
    public const string Stable = "stable";
    public const string Canary = "canary";
    public const string DeploymentLabel = "cd4ml.io/deployment";
    public const string TrackLabel = "cd4ml.io/track";
    public const string VersionLabel = "cd4ml.io/model-version";
    public const string ContainerName = "model-server";
    public const int DefaultPort = 8080;
    public const int DefaultReplicas = 2;

    /// <summary>Requested when spec.resources states neither a request nor a limit for cpu or memory.</summary>
    public static readonly IReadOnlyDictionary<string, ResourceQuantity> DefaultRequests = new Dictionary<string, ResourceQuantity>
    {
        ["cpu"] = new("100m"),
        ["memory"] = new("256Mi"),
    };

    public static string DeploymentName(ModelDeployment owner, string track) => $"{owner.Metadata.Name}-{track}";

    public static int Port(ModelDeployment owner) => owner.Spec.Port ?? DefaultPort;

    /// <summary>
    /// The Deployment for <paramref name="track"/> serving <paramref name="version"/> with <paramref name="replicas"/>
    /// pods; <paramref name="fault"/> (canary only, when the operator allows it) makes its pods misbehave on purpose;
    /// <paramref name="defaults"/> fill in the storage and resources the Deployment and the version leave unset;
    /// <paramref name="monitoring"/> tells the server where to log predictions and feedback, and how many.
    /// </summary>
    public static V1Deployment Deployment(ModelDeployment owner, ModelVersion version, string track, int replicas,
        string defaultImage, FaultInjection? fault = null, PlatformDefaults? defaults = null, MonitoringSettings? monitoring = null)
    {
        var selector = new Dictionary<string, string>
        {
            [DeploymentLabel] = owner.Metadata.Name,
            [TrackLabel] = track,
        };
        var template = PodTemplate(owner, version, track, defaultImage, defaults ?? PlatformDefaults.None);
        foreach (var variable in FaultEnvironment(fault).Concat(MonitoringEnvironment(monitoring)))
        {
            template.Spec.Containers[0].Env.Add(variable);
        }
        return new V1Deployment
        {
            ApiVersion = "apps/v1",
            Kind = "Deployment",
            Metadata = new V1ObjectMeta
            {
                Name = DeploymentName(owner, track),
                NamespaceProperty = owner.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string>(template.Metadata.Labels),
                OwnerReferences = [OwnerReference(owner)],
            },
            Spec = new V1DeploymentSpec
            {
                Replicas = replicas,
                Selector = new V1LabelSelector { MatchLabels = selector },
                Template = template,
            },
        };
    }

    /// <summary>The Pods metric spec.autoscaling.targetRequestsPerSecond scales on (served by a custom-metrics adapter).</summary>
    public const string RequestsPerSecondMetric = "cd4ml_requests_per_second";

    public const int DefaultCpuUtilization = 80;

    /// <summary>
    /// spec.autoscaling as a HorizontalPodAutoscaler (autoscaling/v2 shape, also valid as v2beta2) of the stable track's
    /// Deployment, named like it; null without spec.autoscaling. CPU at 80% when no target is given.
    /// </summary>
    public static V2HorizontalPodAutoscaler? Autoscaler(ModelDeployment owner)
    {
        if (owner.Spec.Autoscaling is not { } spec)
        {
            return null;
        }

        var metrics = new List<V2MetricSpec>();
        if (spec.TargetCpuUtilization is not null || spec.TargetRequestsPerSecond is null)
        {
            metrics.Add(new V2MetricSpec
            {
                Type = "Resource",
                Resource = new V2ResourceMetricSource
                {
                    Name = "cpu",
                    Target = new V2MetricTarget { Type = "Utilization", AverageUtilization = spec.TargetCpuUtilization ?? DefaultCpuUtilization },
                },
            });
        }

        if (spec.TargetRequestsPerSecond is { } rps)
        {
            metrics.Add(new V2MetricSpec
            {
                Type = "Pods",
                Pods = new V2PodsMetricSource
                {
                    Metric = new V2MetricIdentifier { Name = RequestsPerSecondMetric },
                    Target = new V2MetricTarget
                    {
                        Type = "AverageValue",
                        AverageValue = new ResourceQuantity(rps.ToString("0.###", CultureInfo.InvariantCulture)),
                    },
                },
            });
        }

        var name = DeploymentName(owner, Stable);
        return new V2HorizontalPodAutoscaler
        {
            ApiVersion = "autoscaling/v2",
            Kind = "HorizontalPodAutoscaler",
            Metadata = new V1ObjectMeta
            {
                Name = name,
                NamespaceProperty = owner.Metadata.NamespaceProperty,
                Labels = new Dictionary<string, string> { [DeploymentLabel] = owner.Metadata.Name, [TrackLabel] = Stable },
                OwnerReferences = [OwnerReference(owner)],
            },
            Spec = new V2HorizontalPodAutoscalerSpec
            {
                ScaleTargetRef = new V2CrossVersionObjectReference { ApiVersion = "apps/v1", Kind = "Deployment", Name = name },
                MinReplicas = spec.MinReplicas ?? 1,
                MaxReplicas = spec.MaxReplicas,
                Metrics = metrics,
            },
        };
    }

    /// <summary>One Service selecting the pods of both tracks: with ReplicaRatio routing, pod counts split traffic.</summary>
    public static V1Service Service(ModelDeployment owner) => new()
    {
        ApiVersion = "v1",
        Kind = "Service",
        Metadata = new V1ObjectMeta
        {
            Name = owner.Metadata.Name,
            NamespaceProperty = owner.Metadata.NamespaceProperty,
            Labels = new Dictionary<string, string> { [DeploymentLabel] = owner.Metadata.Name },
            OwnerReferences = [OwnerReference(owner)],
        },
        Spec = new V1ServiceSpec
        {
            Selector = new Dictionary<string, string> { [DeploymentLabel] = owner.Metadata.Name },
            Ports = [new V1ServicePort { Name = "http", Port = Port(owner), TargetPort = Port(owner), Protocol = "TCP" }],
        },
    };

    /// <summary>The Service in front of one track's pods: the backends an HTTPRoute weights with GatewayApi routing.</summary>
    public static V1Service TrackService(ModelDeployment owner, string track)
    {
        var service = Service(owner);
        service.Metadata.Name = DeploymentName(owner, track);
        service.Metadata.Labels[TrackLabel] = track;
        service.Spec.Selector[TrackLabel] = track;
        return service;
    }

    public static V1OwnerReference OwnerReference(ModelDeployment owner) => new()
    {
        ApiVersion = ApiGroup.ApiVersion,
        Kind = ModelDeployment.KindName,
        Name = owner.Metadata.Name,
        Uid = owner.Metadata.Uid,
        Controller = true,
        BlockOwnerDeletion = true,
    };

    /// <summary>The ModelVersion a track's Deployment serves, from its template's label.</summary>
    public static string? ServedVersion(V1Deployment? deployment) =>
        deployment?.Spec?.Template?.Metadata?.Labels?.TryGetValue(VersionLabel, out var version) == true ? version : null;

    /// <summary>True when the Deployment has rolled out its current spec and all its pods are ready.</summary>
    public static bool IsReady(V1Deployment? deployment, int replicas)
    {
        if (deployment is null)
        {
            return replicas == 0;
        }

        var status = deployment.Status;
        return status?.ObservedGeneration >= deployment.Metadata.Generation
               && deployment.Spec.Replicas == replicas
               && (status.UpdatedReplicas ?? 0) >= replicas
               && (status.ReadyReplicas ?? 0) >= replicas
               && (status.Replicas ?? 0) == replicas;
    }

    /// <summary>
    /// Ready pods serving <paramref name="version"/> in a track's Deployment: none until the Deployment controller has
    /// observed the current spec, while pods of an older template remain (they may serve another version), and while it
    /// scales down: its status still counts pods on their way out (e.g. a canary scaled to zero by an abort, as a cache
    /// that lags shows it when the rollout is retried).
    /// </summary>
    public static int ReadyPods(V1Deployment? deployment, string? version)
    {
        var status = deployment?.Status;
        if (status is null || version is null || ServedVersion(deployment) != version
            || !(status.ObservedGeneration >= deployment!.Metadata.Generation)
            || (status.UpdatedReplicas ?? 0) != (status.Replicas ?? 0)
            || (deployment.Spec.Replicas is { } wanted && (status.Replicas ?? 0) > wanted))
        {
            return 0;
        }

        return status.ReadyReplicas ?? 0;
    }

    private static V1PodTemplateSpec PodTemplate(ModelDeployment owner, ModelVersion version, string track,
        string defaultImage, PlatformDefaults defaults)
    {
        var port = Port(owner);
        var labels = new Dictionary<string, string>
        {
            ["app.kubernetes.io/name"] = "cd4ml-model-server",
            ["app.kubernetes.io/managed-by"] = "cd4ml",
            [DeploymentLabel] = owner.Metadata.Name,
            [TrackLabel] = track,
            [VersionLabel] = version.Metadata.Name,
        };
        return new V1PodTemplateSpec
        {
            Metadata = new V1ObjectMeta
            {
                Labels = labels,
                Annotations = new Dictionary<string, string>
                {
                    ["prometheus.io/scrape"] = "true",
                    ["prometheus.io/port"] = port.ToString(CultureInfo.InvariantCulture),
                    ["prometheus.io/path"] = "/metrics",
                },
            },
            Spec = RestrictedPod.Apply(new V1PodSpec
            {
                ServiceAccountName = owner.Spec.ServiceAccountName,
                TerminationGracePeriodSeconds = 35,
                Containers =
                [
                    new V1Container
                    {
                        Name = ContainerName,
                        Image = owner.Spec.Image ?? defaultImage,
                        Args = ["serve"],
                        Ports = [new V1ContainerPort { Name = "http", ContainerPort = port, Protocol = "TCP" }],
                        Env = Environment(owner, version, track, port, defaults),
                        Resources = owner.Spec.Resources ?? defaults.ServingResources,
                        ReadinessProbe = new V1Probe
                        {
                            HttpGet = new V1HTTPGetAction { Path = "/readyz", Port = port },
                            PeriodSeconds = 2,
                            FailureThreshold = 3,
                        },
                        LivenessProbe = new V1Probe
                        {
                            HttpGet = new V1HTTPGetAction { Path = "/healthz", Port = port },
                            PeriodSeconds = 10,
                            FailureThreshold = 6,
                        },
                    },
                ],
            }, DefaultRequests),
        };
    }

    /// <summary>The serving contract's environment (see Cd4ml.Serving).</summary>
    private static List<V1EnvVar> Environment(ModelDeployment owner, ModelVersion version, string track, int port,
        PlatformDefaults defaults)
    {
        var env = new List<V1EnvVar>
        {
            new() { Name = "CD4ML_MODEL_URI", Value = version.Spec.Artifact.Uri },
            new() { Name = "CD4ML_MODEL_SHA256", Value = version.Spec.Artifact.Sha256 },
            new() { Name = "CD4ML_MODEL_NAME", Value = version.Spec.ModelName },
            new() { Name = "CD4ML_MODEL_VERSION", Value = version.Metadata.Name },
            new() { Name = "CD4ML_TRACK", Value = track },
            // The server labels its series with it, so analysis tells apart two Deployments serving the same version.
            new() { Name = "CD4ML_DEPLOYMENT", Value = owner.Metadata.Name },
            new()
            {
                Name = "CD4ML_LISTEN_HOST",
                ValueFrom = new V1EnvVarSource { FieldRef = new V1ObjectFieldSelector { FieldPath = "status.podIP" } },
            },
            new() { Name = "CD4ML_PORT", Value = port.ToString(CultureInfo.InvariantCulture) },
            // Keep answering for a moment after SIGTERM while endpoints stop routing here (zero-downtime rollouts).
            new() { Name = "CD4ML_SHUTDOWN_DELAY", Value = "5s" },
        };

        // The Deployment's storage wins; else the ModelVersion's own; what both leave unset, the platform's defaults.
        var storage = defaults.Storage(owner.Spec.Storage ?? version.Spec.Storage);
        if (storage is null)
        {
            return env;
        }

        if (storage.SecretRef is { } secret)
        {
            env.Add(SecretEnv("AWS_ACCESS_KEY_ID", secret.Name));
            env.Add(SecretEnv("AWS_SECRET_ACCESS_KEY", secret.Name));
        }

        env.Add(new V1EnvVar { Name = "AWS_REGION", Value = storage.Region ?? "us-east-1" });
        if (storage.Endpoint is { Length: > 0 } endpoint)
        {
            env.Add(new V1EnvVar { Name = "CD4ML_S3_ENDPOINT", Value = endpoint });
        }

        if (storage.ForcePathStyle is { } pathStyle)
        {
            env.Add(new V1EnvVar { Name = "CD4ML_S3_FORCE_PATH_STYLE", Value = pathStyle ? "true" : "false" });
        }

        return env;
    }

    private static V1EnvVar SecretEnv(string name, string secret) => new()
    {
        Name = name,
        ValueFrom = new V1EnvVarSource { SecretKeyRef = new V1SecretKeySelector { Name = secret, Key = name } },
    };

    /// <summary>
    /// The serving contract's prediction log: the prefix (written with the model's S3 credentials and endpoint) and the
    /// sampled share. Without a prefix the server still computes drift and live quality, it only stores nothing.
    /// </summary>
    private static IEnumerable<V1EnvVar> MonitoringEnvironment(MonitoringSettings? monitoring)
    {
        if (monitoring is null)
        {
            yield break;
        }

        if (monitoring.LogUri is { } uri)
        {
            yield return new V1EnvVar { Name = "CD4ML_LOG_URI", Value = uri };
        }

        yield return new V1EnvVar
        {
            Name = "CD4ML_LOG_SAMPLE_RATE",
            Value = monitoring.LogSampleRate.ToString("R", CultureInfo.InvariantCulture),
        };
    }

    /// <summary>The serving contract's fault injection variables; the server reads single-unit durations, hence ms.</summary>
    private static IEnumerable<V1EnvVar> FaultEnvironment(FaultInjection? fault)
    {
        if (fault?.ErrorRate is { } rate && rate > 0)
        {
            yield return new V1EnvVar { Name = "CD4ML_FAULT_ERROR_RATE", Value = rate.ToString("R", CultureInfo.InvariantCulture) };
        }

        if (fault?.Latency is { Length: > 0 } text && DurationText.Parse(text) is var latency && latency > TimeSpan.Zero)
        {
            yield return new V1EnvVar
            {
                Name = "CD4ML_FAULT_LATENCY",
                Value = $"{latency.TotalMilliseconds.ToString("0.###", CultureInfo.InvariantCulture)}ms",
            };
        }
    }
}
