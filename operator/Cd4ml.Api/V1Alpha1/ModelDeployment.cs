using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Cd4ml.Api.Schema;
using Cd4ml.Runtime.Entities;
using k8s.Models;

namespace Cd4ml.Api.V1Alpha1;

/// <summary>The kind is Deployment in group cd4ml.io (short name mld); the C# name avoids clashing with apps/v1.</summary>
[KubernetesEntity(Group = ApiGroup.Group, ApiVersion = ApiGroup.Version, Kind = "Deployment", PluralName = "deployments")]
[ResourceNames(ShortNames = ["mld"], Categories = [ApiGroup.Category])]
[PrinterColumn("Model", ".spec.modelName")]
[PrinterColumn("Phase", ".status.phase")]
[PrinterColumn("Stable", ".status.stableVersion")]
[PrinterColumn("Canary", ".status.canaryVersion")]
[PrinterColumn("Weight", ".status.canaryWeight", "integer", Description = "Percent of traffic the canary gets now")]
[PrinterColumn("Requested", ".status.requestedWeight", "integer", Priority = 1, Description = "The current step's setWeight")]
[PrinterColumn("Step", ".status.currentStepText", Priority = 1)]
[PrinterColumn("Reason", ".status.abortReason", Priority = 1)]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date")]
[Description("Serves a ModelVersion and rolls each new version out as a canary analysed in Prometheus, rolling back automatically.")]
public sealed class ModelDeployment : CustomResource<ModelDeploymentSpec, ModelDeploymentStatus>
{
    public const string KindName = "Deployment";
    public const string Plural = "deployments";

    /// <summary>Annotations a user (or the kubectl plugin) sets to steer a rollout; any new value is acted on once.</summary>
    public const string PromoteAnnotation = "cd4ml.io/promote";

    /// <summary>Promote the canary to stable at once, skipping every remaining step and analysis.</summary>
    public const string PromoteFullAnnotation = "cd4ml.io/promote-full";
    public const string AbortAnnotation = "cd4ml.io/abort";
    public const string RetryAnnotation = "cd4ml.io/retry";
}

public sealed class ModelDeploymentSpec
{
    [Description("The model to serve (ModelVersions with this spec.modelName).")]
    [Required]
    [RegularExpression(Patterns.DnsLabel)]
    [StringLength(50, MinimumLength = 1)]
    public string ModelName { get; set; } = "";

    [Description("Pin this version of the model. Omit to follow the latest approved ModelVersion.")]
    [Range(1, int.MaxValue)]
    public int? Version { get; set; }

    [Description("Pods serving the stable version. Default 2.")]
    [Range(0, 1000)]
    public int? Replicas { get; set; }

    [Description("Model server image; defaults to the operator's image running `cd4ml serve`. Any image following the serving contract works.")]
    public string? Image { get; set; }

    [Description("Container port of the model server. Default 8080.")]
    [Range(1, 65535)]
    public int? Port { get; set; }

    [Description("Container resources of the model server pods. Default: the platform defaults' serving resources.")]
    public V1ResourceRequirements? Resources { get; set; }

    [Description("ServiceAccount of the model server pods. Default: the namespace's default ServiceAccount.")]
    public string? ServiceAccountName { get; set; }

    [Description("S3 endpoint and credentials to fetch model artifacts. Omit to use the ModelVersion's; fields left unset come from the platform defaults (see status.effective).")]
    public S3StorageSpec? Storage { get; set; }

    [Description("How a new version rolls out. Default: a canary with the default steps and analysis.")]
    public RolloutStrategy? Strategy { get; set; }

    [Description("How traffic is split between stable and canary. Default: ReplicaRatio.")]
    public TrafficRouting? TrafficRouting { get; set; }

    [Description("Make the canary track misbehave (demos, drills, tests): only honoured when the operator runs with --allow-fault-injection; stable pods are never affected.")]
    public FaultInjection? FaultInjection { get; set; }

    [Description("The loop back from production: prediction logging, drift against the training profile, live quality.")]
    public MonitoringSpec? Monitoring { get; set; }

    [Description("A HorizontalPodAutoscaler for the stable track; replaces replicas. The canary keeps its step's share of the current total.")]
    public AutoscalingSpec? Autoscaling { get; set; }
}

public sealed class MonitoringSpec
{
    [Description("Share of /predict requests logged (features, prediction, version, track, time) to the prediction log, 0 to 1. Default 0 (off); feedback is stored whenever a log location is known.")]
    [Range(0.0, 1.0)]
    public double? LogSampleRate { get; set; }

    [Description("S3 prefix of the prediction log and feedback store, e.g. s3://logs/team-a/sales/. Default: the platform's monitoring.logUri followed by <namespace>/<deployment>/.")]
    [RegularExpression(Patterns.S3Prefix)]
    public string? LogUri { get; set; }

    [Description("When live inputs count as drifted from the training data.")]
    public DriftSpec? Drift { get; set; }
}

public sealed class DriftSpec
{
    [Description("Population stability index (PSI) above which a feature, or the prediction distribution, counts as drifted and the Drifting condition turns True. Default 0.2.")]
    [Range(0.0, 100.0)]
    public double? Max { get; set; }

    [Description("How far back live inputs are compared, as a Prometheus range, e.g. 30m. Default 1h.")]
    [RegularExpression(Patterns.Duration)]
    public string? Window { get; set; }

    [Description("How often the operator reads the drift and live-quality metrics from Prometheus. Default 1m.")]
    [RegularExpression(Patterns.Duration)]
    public string? CheckInterval { get; set; }
}

public sealed class AutoscalingSpec
{
    [Description("Fewest stable replicas. Default 1.")]
    [Range(1, 1000)]
    public int? MinReplicas { get; set; }

    [Description("Most stable replicas.")]
    [Required]
    [Range(1, 1000)]
    public int MaxReplicas { get; set; }

    [Description("Target average CPU utilization in percent of the requests (needs metrics-server). Default 80 when no other target is set.")]
    [Range(1, 1000)]
    public int? TargetCpuUtilization { get; set; }

    [Description("Target requests per second per pod, as the Pods metric cd4ml_requests_per_second (needs a custom-metrics adapter such as prometheus-adapter).")]
    [Range(0.001, 1000000.0)]
    public double? TargetRequestsPerSecond { get; set; }
}

public sealed class FaultInjection
{
    [Description("Share (0 to 1) of the canary's predictions answered with HTTP 500.")]
    [Range(0.0, 1.0)]
    public double? ErrorRate { get; set; }

    [Description("Delay added to every canary prediction, e.g. 200ms.")]
    [RegularExpression(Patterns.Duration)]
    public string? Latency { get; set; }
}

public sealed class RolloutStrategy
{
    [Description("Canary rollout: steps of weights, pauses and analyses; a failed analysis rolls back.")]
    public CanaryStrategy? Canary { get; set; }
}

public sealed class CanaryStrategy
{
    [Description("Steps run in order; after the last the canary is promoted. Omit for the default: setWeight 20, analysis, setWeight 50, analysis; an empty list is refused.")]
    [Items(Min = 1, Max = 64)]
    public List<CanaryStep>? Steps { get; set; }

    [Description("How analysis steps measure the canary in Prometheus: interval, window, metrics and limits.")]
    public AnalysisSpec? Analysis { get; set; }
}

[ExactlyOneOf("setWeight", "pause", "analysis")]
public sealed class CanaryStep
{
    [Description("Percent of traffic (or replicas) to the canary.")]
    [Range(0, 100)]
    public int? SetWeight { get; set; }

    [Description("Wait; without a duration until promoted (annotation cd4ml.io/promote).")]
    public PauseStep? Pause { get; set; }

    [Description("Analyse the canary for the given duration using spec.strategy.canary.analysis.")]
    public AnalysisStep? Analysis { get; set; }
}

public sealed class PauseStep
{
    [Description("How long to wait, e.g. 5m. Omit to wait until promoted (annotation cd4ml.io/promote).")]
    [RegularExpression(Patterns.Duration)]
    public string? Duration { get; set; }
}

public sealed class AnalysisStep
{
    [Description("How long this step analyses (above zero). Default: 3 analysis intervals.")]
    [RegularExpression(Patterns.PositiveDuration)]
    public string? Duration { get; set; }
}

public sealed class AnalysisSpec
{
    [Description("Name of a platform analysis template to start from: key analysisTemplates of the ConfigMap cd4ml-defaults in this namespace, else the operator's CD4ML_ANALYSIS_TEMPLATES. The fields set here win; a metric named like one of the template's replaces it, others are added.")]
    [RegularExpression(Patterns.DnsLabel)]
    public string? Template { get; set; }

    [Description("Time between measurements (above zero). Default 30s.")]
    [RegularExpression(Patterns.PositiveDuration)]
    public string? Interval { get; set; }

    [Description("Range of the built-in queries, e.g. 1m (above zero). Default: 2 × interval, at least 30s.")]
    [RegularExpression(Patterns.PositiveDuration)]
    public string? Window { get; set; }

    [Description("The Prometheus to query. Default: the platform defaults' Prometheus address (see status.effective).")]
    public PrometheusSpec? Prometheus { get; set; }

    [Description("Metrics to check. Default: the built-in error rate (max 0.05) and p99 latency (max 1s).")]
    [Items(Max = 16)]
    public List<AnalysisMetric>? Metrics { get; set; }

    [Description("Failed measurements (of any metric) that roll back. Default 2.")]
    [Range(1, 100)]
    public int? FailureLimit { get; set; }

    [Description("Inconclusive measurements (too little traffic, no data) after which the rollout pauses; those in an analysis step's first window are not counted. Default 3.")]
    [Range(1, 100)]
    public int? InconclusiveLimit { get; set; }

    [Description("Consecutive query errors after which the rollout pauses (never rolls back). Default 3.")]
    [Range(1, 100)]
    public int? ErrorLimit { get; set; }

    [Description("Requests the canary must have served in the window for a measurement to count. Default 20.")]
    [Range(0, 1000000)]
    public int? MinSampleCount { get; set; }
}

public sealed class PrometheusSpec
{
    [Description("Base URL of Prometheus' HTTP API, e.g. http://prometheus.monitoring:9090.")]
    [Required]
    [RegularExpression(Patterns.HttpUrl)]
    public string Address { get; set; } = "";
}

[JsonConverter(typeof(JsonStringEnumConverter<BuiltinMetric>))]
public enum BuiltinMetric
{
    ErrorRate,
    LatencyP99,
    Drift,
    LiveQuality,
}

[ExactlyOneOf("builtin", "query")]
[AtLeastOneOf("max", "min", "maxIncreaseOverStable")]
public sealed class AnalysisMetric
{
    [Description("Name of the metric (a DNS label), shown in measurements and events, e.g. error-rate.")]
    [Required]
    [RegularExpression(Patterns.DnsLabel)]
    public string Name { get; set; } = "";

    [Description("A built-in query over the serving contract's metrics, higher is worse for each: ErrorRate (share of 5xx), LatencyP99 (seconds), Drift (highest PSI of the canary's features and predictions against the training profile), LiveQuality (the canary's live error where feedback arrived: RMSE for regression, 1 - accuracy for classification; no feedback yet is inconclusive).")]
    public BuiltinMetric? Builtin { get; set; }

    [Description("PromQL returning one number. Placeholders: {{namespace}}, {{deployment}}, {{model}}, {{version}}, {{track}}, {{window}}.")]
    [StringLength(4096)]
    public string? Query { get; set; }

    [Description("The measurement fails above this value.")]
    public double? Max { get; set; }

    [Description("The measurement fails below this value.")]
    public double? Min { get; set; }

    [Description("The measurement fails when canary minus stable exceeds this (needs stable traffic).")]
    public double? MaxIncreaseOverStable { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<TrafficRoutingMode>))]
public enum TrafficRoutingMode
{
    ReplicaRatio,
    GatewayApi,
}

public sealed class TrafficRouting
{
    [Description("ReplicaRatio (default) splits by pod count behind one Service; GatewayApi sets HTTPRoute backend weights.")]
    public TrafficRoutingMode? Mode { get; set; }

    [Description("HTTPRoute to manage when mode is GatewayApi.")]
    public string? HttpRoute { get; set; }
}

public sealed class ModelDeploymentStatus : ResourceStatus
{
    public const string Pending = "Pending";
    public const string Progressing = "Progressing";
    public const string Paused = "Paused";
    public const string Healthy = "Healthy";
    public const string Degraded = "Degraded";

    [Description("ModelVersion serving all traffic when no rollout is in progress.")]
    public string? StableVersion { get; set; }

    [Description("ModelVersion being rolled out as the canary; empty when no rollout is in progress.")]
    public string? CanaryVersion { get; set; }

    [Description("Index (from 0) of the canary step in progress.")]
    public int? CurrentStep { get; set; }

    [Description("e.g. 2/4 analysis.")]
    public string? CurrentStepText { get; set; }

    [Description("Percent of traffic the canary gets now: its share of pods (which may differ from the step's weight when the replica count cannot represent it), or with GatewayApi its HTTPRoute weight, which reaches a step's weight once enough canary pods are Ready.")]
    public int? CanaryWeight { get; set; }

    [Description("The weight the current step asks for (its setWeight); canaryWeight says what the canary really gets.")]
    public int? RequestedWeight { get; set; }

    [Description("When the current step started (RFC 3339).")]
    public DateTime? StepStartTime { get; set; }

    [Description("The current rollout's analysis: counters and the latest measurements.")]
    public AnalysisStatus? Analysis { get; set; }

    [Description("Why the last rollout was rolled back or aborted, e.g. the failed measurements.")]
    public string? AbortReason { get; set; }

    [Description("metadata.generation when the canary was rolled back: the rollout of that version stays aborted until the spec changes or cd4ml.io/retry is set.")]
    public long? AbortedGeneration { get; set; }

    [Description("Last steering annotation values acted on, so each request is handled once.")]
    public Dictionary<string, string>? HandledRequests { get; set; }

    [Description("Ready model server pods, stable and canary together.")]
    public int? ReadyReplicas { get; set; }

    [Description("Finished rollouts, oldest first; the last 10 are kept.")]
    public List<RolloutRecord>? History { get; set; }

    [Description("The platform defaults in effect: storage, image and Prometheus after filling in what the spec leaves unset.")]
    public EffectiveSettings? Effective { get; set; }

    [Description("What production looks like now: where predictions are logged, the most drifted features, live quality per track.")]
    public MonitoringStatus? Monitoring { get; set; }
}

public sealed class MonitoringStatus
{
    [Description("S3 prefix the model servers log predictions and feedback under (effective value).")]
    public string? LogUri { get; set; }

    [Description("Share of requests logged (effective value).")]
    public double? LogSampleRate { get; set; }

    [Description("The most drifted features of the stable version (PSI over the window), highest first; at most five.")]
    public List<FeatureDrift>? Drift { get; set; }

    [Description("PSI of the stable version's prediction distribution over the window.")]
    public double? PredictionDrift { get; set; }

    [Description("Live quality per version and track, where feedback has arrived.")]
    public List<LiveQualityStatus>? LiveQuality { get; set; }

    [Description("When the operator last read these figures from Prometheus.")]
    public DateTime? LastCheckTime { get; set; }
}

public sealed class FeatureDrift
{
    [Description("Feature column.")]
    public string Feature { get; set; } = "";

    [Description("Population stability index of live inputs against the training profile.")]
    public double Value { get; set; }
}

public sealed class LiveQualityStatus
{
    [Description("ModelVersion name.")]
    public string Version { get; set; } = "";

    [Description("stable or canary.")]
    public string Track { get; set; } = "";

    [Description("rmse, mae or accuracy.")]
    public string Metric { get; set; } = "";

    [Description("Value over the predictions joined with feedback so far (the server's sliding window).")]
    public double Value { get; set; }
}

public sealed class AnalysisStatus
{
    [Description("Measurements in this rollout that passed every metric.")]
    public int Successful { get; set; }

    [Description("Failed measurements in this rollout; reaching failureLimit rolls back.")]
    public int Failed { get; set; }

    [Description("Inconclusive measurements (too little traffic, no data); reaching inconclusiveLimit pauses.")]
    public int Inconclusive { get; set; }

    [Description("Query errors in a row; reaching errorLimit pauses. Resets on any other outcome.")]
    public int ConsecutiveErrors { get; set; }

    [Description("When the canary was last measured (RFC 3339).")]
    public DateTime? LastMeasurementTime { get; set; }

    [Description("The latest measurements, one per metric each time, oldest first; the last 10 are kept.")]
    public List<Measurement>? Measurements { get; set; }
}

public sealed class Measurement
{
    [Description("The analysis metric's name.")]
    public string Metric { get; set; } = "";

    [Description("Successful, Failed, Inconclusive or Error.")]
    public string Phase { get; set; } = "";

    [Description("The measured value; absent when there was none.")]
    public double? Value { get; set; }

    [Description("The metric's limits as text, e.g. max 0.05.")]
    public string? Threshold { get; set; }

    [Description("Requests the canary served in the window.")]
    public double? SampleCount { get; set; }

    [Description("What the measurement means, e.g. error rate 0.12 > max 0.05.")]
    public string? Message { get; set; }

    [Description("When the measurement was taken (RFC 3339).")]
    public DateTime? Time { get; set; }
}

public sealed class RolloutRecord
{
    [Description("The ModelVersion the record is about.")]
    public string Version { get; set; } = "";

    [Description("Deployed, Promoted, RolledBack, Cancelled or Superseded.")]
    public string Outcome { get; set; } = "";

    [Description("Why, e.g. the failed measurement of a rollback.")]
    public string? Reason { get; set; }

    [Description("When the rollout ended (RFC 3339).")]
    public DateTime? Time { get; set; }
}
