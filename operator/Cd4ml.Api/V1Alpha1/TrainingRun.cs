using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Cd4ml.Api.Schema;
using Cd4ml.Runtime.Entities;
using k8s.Models;

namespace Cd4ml.Api.V1Alpha1;

[KubernetesEntity(Group = ApiGroup.Group, ApiVersion = ApiGroup.Version, Kind = "TrainingRun", PluralName = "trainingruns")]
[ResourceNames(ShortNames = ["tr"], Categories = [ApiGroup.Category])]
[PrinterColumn("Model", ".spec.modelName")]
[PrinterColumn("Phase", ".status.phase")]
[PrinterColumn("Metric", ".status.headline", Description = "The task's headline metric on the validation set")]
[PrinterColumn("Gates", ".status.gatesSummary")]
[PrinterColumn("Version", ".status.modelVersion", Description = "The ModelVersion this run registered")]
[PrinterColumn("Attempt", ".status.attempt", "integer", Priority = 1)]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date")]
[Description("Trains a model as a Kubernetes Job from a versioned dataset in S3, records its metrics, applies quality gates and registers a ModelVersion.")]
public sealed class TrainingRun : CustomResource<TrainingRunSpec, TrainingRunStatus>
{
    public const string KindName = "TrainingRun";
    public const string Plural = "trainingruns";
}

public sealed class TrainingRunSpec
{
    [Required]
    [Description("Name of the model this run trains; ModelVersions are named <modelName>-<n>.")]
    [RegularExpression(Patterns.DnsLabel)]
    [StringLength(50, MinimumLength = 1)]
    public string ModelName { get; set; } = "";

    [Description("The training data: a CSV object in S3, its label column, optional schema, filters, split and slices.")]
    [Required]
    public DatasetSpec Dataset { get; set; } = new();

    [Description("How to train. Defaults: the operator's own image running `cd4ml train`, regression with LightGbm.")]
    public TrainerSpec? Trainer { get; set; }

    [Description("Where artifacts go. Defaults to s3://<dataset bucket>/cd4ml/models/<modelName>/<run>/<attempt>/.")]
    public OutputSpec? Output { get; set; }

    [Description("S3 endpoint and credentials for the dataset and the artifacts. Unset fields come from the platform defaults (ConfigMap cd4ml-defaults in the namespace, else the operator's); see status.effective.")]
    public S3StorageSpec? Storage { get; set; }

    [Description("Quality gates; all must pass for a ModelVersion to be registered.")]
    [Items(Max = 32)]
    public List<QualityGate>? Gates { get; set; }

    [Description("A ratchet: the new model must not be worse than the one the named Deployment serves.")]
    public BaselineGate? Baseline { get; set; }

    [Description("Start a new attempt when the dataset's content (sha256) changes.")]
    public bool? RetrainOnDatasetChange { get; set; }

    [Description("How often to check the dataset's digest when retrainOnDatasetChange is set. Default 10m.")]
    [RegularExpression(Patterns.Duration)]
    public string? DatasetCheckInterval { get; set; }

    [Description("Start a new attempt when production says so: the named Deployment drifts (its Drifting condition turns True).")]
    public RetrainOnSpec? RetrainOn { get; set; }

    [Description("Container resources of the training Job.")]
    public V1ResourceRequirements? Resources { get; set; }

    [Description("Pod retries of the training Job before the attempt fails. Default 1.")]
    [Range(0, 20)]
    public int? BackoffLimit { get; set; }

    [Description("Wall-clock limit of one attempt. Default 3600.")]
    [Range(1, 604800)]
    public long? ActiveDeadlineSeconds { get; set; }

    [Description("Seconds a finished Job is kept. Default 3600.")]
    [Range(0, 2592000)]
    public int? TtlSecondsAfterFinished { get; set; }

    [Description("ServiceAccount the training pod runs as (e.g. one with IRSA for S3). Default: the namespace's default ServiceAccount.")]
    public string? ServiceAccountName { get; set; }

    [Description("Node labels the training pod must match, e.g. node.kubernetes.io/instance-type: m6i.2xlarge.")]
    public Dictionary<string, string>? NodeSelector { get; set; }

    [Description("Tolerations of the training pod, e.g. to run on tainted GPU or batch nodes.")]
    public List<V1Toleration>? Tolerations { get; set; }

    [Description("Attempts kept in status.history. Default 10.")]
    [Range(1, 50)]
    public int? HistoryLimit { get; set; }
}

public sealed class DatasetSpec
{
    [Required]
    [Description("CSV object in S3, e.g. s3://data/sales/2026-11.csv, or a Parquet object (key ending in .parquet).")]
    [RegularExpression(Patterns.S3Uri)]
    [StringLength(1024)]
    public string Uri { get; set; } = "";

    [Description("Expected content digest, sha256:<hex>. When set, training refuses any other content (reproducibility).")]
    [RegularExpression(Patterns.Sha256Digest)]
    public string? Digest { get; set; }

    [Required]
    [Description("The column to predict.")]
    [StringLength(128, MinimumLength = 1)]
    public string LabelColumn { get; set; } = "";

    [Description("Feature columns; empty means every declared column but the label.")]
    public List<string>? FeatureColumns { get; set; }

    [Description("Declared schema; the trainer validates every row against it.")]
    [Items(Max = 512)]
    public List<ColumnSpec>? Columns { get; set; }

    [Description("Rows outside these ranges are dropped before validation (e.g. returns as negative sales).")]
    public List<RowFilter>? Filters { get; set; }

    [Description("How rows are divided into training and validation sets. Default: Random, validationFraction 0.2, seed 42.")]
    public SplitSpec? Split { get; set; }

    [Description("Columns whose values define slices (e.g. store, region); metrics are computed per slice and for the worst slice.")]
    public List<string>? SliceColumns { get; set; }

    [Description("A 0/1 column weighting rows 1.25 when set, as in the normalized weighted RMSLE (nwrmsle).")]
    public string? WeightColumn { get; set; }

    [Description("Rows whose label is empty: Fail (default; the run fails naming the rows) or Drop (dropped and counted in the metrics as droppedRows.missingLabels).")]
    public MissingLabelPolicy? MissingLabels { get; set; }

    [Description("Append production data to this dataset: predictions a Deployment logged, joined with the feedback labels that arrived, over a window. The curated dataset is written as a new object and its digest and sources go into the lineage.")]
    public FromFeedbackSpec? FromFeedback { get; set; }
}

public sealed class FromFeedbackSpec
{
    [Description("Deployment (cd4ml.io, same namespace) whose prediction log and feedback to use.")]
    [Required]
    [RegularExpression(Patterns.DnsLabel)]
    public string Deployment { get; set; } = "";

    [Description("How far back to take logged predictions, e.g. 168h. Default 168h (a week).")]
    [RegularExpression(Patterns.PositiveDuration)]
    public string? Window { get; set; }

    [Description("At most this many production rows (the newest). Default 1000000.")]
    [Range(1, 100000000)]
    public int? MaxRows { get; set; }
}

public sealed class RetrainOnSpec
{
    [Description("Retrain when this Deployment's Drifting condition turns True.")]
    public DriftTrigger? Drift { get; set; }
}

public sealed class DriftTrigger
{
    [Description("Deployment (cd4ml.io, same namespace) to watch.")]
    [Required]
    [RegularExpression(Patterns.DnsLabel)]
    public string Deployment { get; set; } = "";

    [Description("Loop guard: no drift-triggered attempt sooner than this after the previous attempt started. Default 1h.")]
    [RegularExpression(Patterns.Duration)]
    public string? MinInterval { get; set; }

    [Description("Loop guard: at most this many drift-triggered attempts per 24 hours. Default 3.")]
    [Range(1, 100)]
    public int? MaxPerDay { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<MissingLabelPolicy>))]
public enum MissingLabelPolicy
{
    Fail,
    Drop,
}

[JsonConverter(typeof(JsonStringEnumConverter<ColumnType>))]
public enum ColumnType
{
    Number,
    Integer,
    String,
    Boolean,
    Date,
}

public sealed class ColumnSpec
{
    [Description("Column name as in the CSV header row.")]
    [Required]
    [StringLength(128, MinimumLength = 1)]
    public string Name { get; set; } = "";

    [Description("Value type every row must have: Number, Integer, String, Boolean or Date.")]
    [Required]
    public ColumnType Type { get; set; }

    [Description("Whether empty values are allowed.")]
    public bool? Nullable { get; set; }

    [Description("Smallest allowed value (Number and Integer columns); a row below it fails validation.")]
    public double? Min { get; set; }

    [Description("Largest allowed value (Number and Integer columns); a row above it fails validation.")]
    public double? Max { get; set; }
}

public sealed class RowFilter
{
    [Description("The numeric column the filter tests.")]
    [Required]
    public string Column { get; set; } = "";

    [Description("Rows whose value is below this are dropped (counted in status.droppedRows.filters).")]
    public double? Min { get; set; }

    [Description("Rows whose value is above this are dropped (counted in status.droppedRows.filters).")]
    public double? Max { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<SplitMethod>))]
public enum SplitMethod
{
    Random,
    Time,
}

public sealed class SplitSpec
{
    [Description("Random (seeded) or Time (the latest rows by timeColumn validate; right for temporal data).")]
    public SplitMethod? Method { get; set; }

    [Description("Fraction of rows held out for validation. Default 0.2.")]
    [Range(0.01, 0.9)]
    public double? ValidationFraction { get; set; }

    [Description("Seed of the random split. Default 42.")]
    public int? Seed { get; set; }

    [Description("Date column ordering the rows for method Time (required then): its latest dates validate, all rows of one date on the same side.")]
    public string? TimeColumn { get; set; }
}

[JsonConverter(typeof(JsonStringEnumConverter<Algorithm>))]
public enum Algorithm
{
    FastTree,
    LightGbm,
    Sdca,
    LogisticRegression,
}

public sealed class TrainerSpec
{
    [Description("Training image; defaults to the operator's image. Any image following the training contract works.")]
    public string? Image { get; set; }

    [Description("Container entrypoint; only used with a custom image (the operator's own image always runs `cd4ml train`).")]
    public List<string>? Command { get; set; }

    [Description("Container arguments. Default: [train] with the operator's image, the image's own with a custom one.")]
    public List<string>? Args { get; set; }

    [Description("Regression (default), BinaryClassification or MulticlassClassification; decides the metrics and allowed algorithms.")]
    public MlTask? Task { get; set; }

    [Description("ML.NET learner. Default LightGbm. FastTree and Sdca suit regression and binary; LogisticRegression binary only; multiclass takes LightGbm or Sdca.")]
    public Algorithm? Algorithm { get; set; }

    [Description("Algorithm hyperparameters, e.g. numberOfTrees: \"100\".")]
    public Dictionary<string, string>? Hyperparameters { get; set; }
}

public sealed class OutputSpec
{
    [Required]
    [Description("S3 prefix (ending in /) under which each attempt writes <run>/<attempt>/ artifacts.")]
    [RegularExpression(Patterns.S3Prefix)]
    public string Uri { get; set; } = "";
}

[JsonConverter(typeof(JsonStringEnumConverter<Comparison>))]
public enum Comparison
{
    LessThan,
    LessThanOrEqual,
    GreaterThan,
    GreaterThanOrEqual,
}

public sealed class QualityGate
{
    [Required]
    [Description("Metric name as in status.metrics, e.g. rmse, r2, worstSlice.rmse.")]
    public string Metric { get; set; } = "";

    [Description("How the metric must relate to value: LessThan, LessThanOrEqual, GreaterThan or GreaterThanOrEqual.")]
    [Required]
    public Comparison Comparison { get; set; }

    [Description("The threshold, in the metric's own units, e.g. 0.5 for rmse LessThan 0.5.")]
    [Required]
    public double Value { get; set; }
}

public sealed class BaselineGate
{
    [Required]
    [Description("cd4ml.io Deployment whose stable ModelVersion is the baseline: a name in the run's own namespace (no namespace/name).")]
    [RegularExpression("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    [StringLength(253, MinimumLength = 1)]
    public string Deployment { get; set; } = "";

    [Description("Metric compared with the baseline ModelVersion's spec.metrics, e.g. rmse.")]
    [Required]
    public string Metric { get; set; } = "";

    [Description("Allowed relative regression, e.g. 0.05 = 5% worse. Default 0.")]
    [Range(0.0, 10.0)]
    public double? Tolerance { get; set; }

    [Description("Direction of the metric; inferred for known metrics (rmse lower, accuracy higher).")]
    public bool? HigherIsBetter { get; set; }
}

public sealed class TrainingRunStatus : ResourceStatus
{
    public const string Pending = "Pending";
    /// <summary>Waiting for a free slot under the namespace's limit of concurrent training attempts.</summary>
    public const string Queued = "Queued";
    public const string Running = "Running";
    public const string Succeeded = "Succeeded";
    public const string Failed = "Failed";

    [Description("The current attempt, counting from 1.")]
    public int? Attempt { get; set; }

    [Description("The Kubernetes Job of the current attempt, e.g. sales-run-1-2.")]
    public string? JobName { get; set; }

    [Description("When the current attempt started (RFC 3339).")]
    public DateTime? StartTime { get; set; }

    [Description("When the current attempt finished, succeeded or failed (RFC 3339).")]
    public DateTime? CompletionTime { get; set; }

    [Description("Validation metrics of the current attempt.")]
    public Dictionary<string, double>? Metrics { get; set; }

    [Description("The headline metric, e.g. rmse=0.412.")]
    public string? Headline { get; set; }

    [Description("One result per quality gate (and the baseline) of the current attempt.")]
    public List<GateResult>? Gates { get; set; }

    [Description("e.g. 2/2 passed.")]
    public string? GatesSummary { get; set; }

    [Description("sha256:<hex> of the dataset content the current attempt trained on.")]
    public string? DatasetDigest { get; set; }

    [Description("The dataset object as the operator last hashed it. A check whose HEAD shows the same ETag and size reuses this digest instead of downloading the dataset again.")]
    public DatasetObservation? Dataset { get; set; }

    [Description("S3 prefix the current attempt writes its artifacts under, e.g. s3://data/cd4ml/models/sales/run-1/2/.")]
    public string? OutputUri { get; set; }

    [Description("S3 URI of the trained model (model.zip under outputUri).")]
    public string? ModelUri { get; set; }

    [Description("sha256 of the model object, lower-case hex; copied to the ModelVersion's spec.artifact.sha256.")]
    public string? ModelSha256 { get; set; }

    [Description("Name of the registered ModelVersion.")]
    public string? ModelVersion { get; set; }

    [Description("When the dataset's digest was last checked for retrainOnDatasetChange (RFC 3339).")]
    public DateTime? LastDatasetCheckTime { get; set; }

    [Description("The schema the trainer validated the dataset against (from manifest.json): the declared columns, or the ones it inferred when schemaInferred.")]
    public List<ColumnSpec>? Schema { get; set; }

    [Description("True when the spec declared no columns and the trainer inferred the schema from the data.")]
    public bool? SchemaInferred { get; set; }

    [Description("Rows the trainer dropped, by reason (filters, missingLabels).")]
    public Dictionary<string, int>? DroppedRows { get; set; }

    [Description("Past and current attempts, oldest first; at most spec.historyLimit entries.")]
    public List<AttemptRecord>? History { get; set; }

    [Description("The platform defaults in effect: storage, image and Prometheus after filling in what the spec leaves unset.")]
    public EffectiveSettings? Effective { get; set; }
}

public sealed class DatasetObservation
{
    [Description("sha256:<hex> of the content that had this ETag and size.")]
    public string? Digest { get; set; }

    [Description("The object's S3 ETag when it was hashed.")]
    [JsonPropertyName("etag")]
    public string? ETag { get; set; }

    [Description("The object's size in bytes when it was hashed.")]
    public long? Size { get; set; }
}

public sealed class GateResult
{
    [Description("The gated metric, e.g. rmse.")]
    public string Metric { get; set; } = "";

    [Description("LessThan, LessThanOrEqual, GreaterThan or GreaterThanOrEqual.")]
    public string Comparison { get; set; } = "";

    [Description("The value the metric was compared with; for the baseline, the baseline's metric with the tolerance applied.")]
    public double Threshold { get; set; }

    [Description("The metric this attempt measured; absent when it produced none.")]
    public double? Value { get; set; }

    [Description("Whether the metric met the gate.")]
    public bool Passed { get; set; }

    [Description("Why the gate passed or failed, e.g. rmse 0.41 < 0.5.")]
    public string? Message { get; set; }
}

public sealed class AttemptRecord
{
    [Description("The attempt number, counting from 1.")]
    public int Attempt { get; set; }

    [Description("The spec's metadata.generation the attempt trained.")]
    public long? Generation { get; set; }

    [Description("The attempt's Kubernetes Job.")]
    public string? JobName { get; set; }

    [Description("Pending, Running, Succeeded or Failed.")]
    public string? Phase { get; set; }

    [Description("CamelCase reason the attempt ended, e.g. GatesFailed.")]
    public string? Reason { get; set; }

    [Description("Why the attempt started: Spec (a new spec generation), DatasetChange (retrainOnDatasetChange) or Drift (retrainOn.drift).")]
    public string? Trigger { get; set; }

    [Description("What triggered it, e.g. the Deployment's Drifting message.")]
    public string? TriggerMessage { get; set; }

    [Description("sha256:<hex> of the dataset content the attempt trained on.")]
    public string? DatasetDigest { get; set; }

    [Description("The attempt's headline metric, e.g. rmse=0.412.")]
    public string? Headline { get; set; }

    [Description("The ModelVersion the attempt registered, if any.")]
    public string? ModelVersion { get; set; }

    [Description("When the attempt started (RFC 3339).")]
    public DateTime? StartTime { get; set; }

    [Description("When the attempt finished (RFC 3339).")]
    public DateTime? CompletionTime { get; set; }
}
