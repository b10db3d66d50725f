using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using Cd4ml.Api.Schema;
using Cd4ml.Runtime.Entities;
using k8s.Models;

namespace Cd4ml.Api.V1Alpha1;

[KubernetesEntity(Group = ApiGroup.Group, ApiVersion = ApiGroup.Version, Kind = "ModelVersion", PluralName = "modelversions")]
[ResourceNames(ShortNames = ["mv"], Categories = [ApiGroup.Category])]
[PrinterColumn("Model", ".spec.modelName")]
[PrinterColumn("Version", ".spec.version", "integer")]
[PrinterColumn("Approved", ".spec.approved", "boolean")]
[PrinterColumn("Phase", ".status.phase")]
[PrinterColumn("Metric", ".status.headline")]
[PrinterColumn("Served-By", ".status.servedBy", Priority = 1)]
[PrinterColumn("Age", ".metadata.creationTimestamp", "date")]
[Description("An immutable, versioned model artifact in S3 with its metrics, lineage and an approval gate.")]
public sealed class ModelVersion : CustomResource<ModelVersionSpec, ModelVersionStatus>
{
    public const string KindName = "ModelVersion";
    public const string Plural = "modelversions";
}

public sealed class ModelVersionSpec
{
    [Description("Name of the model (a DNS label); the versions the operator registers are named <modelName>-<version>.")]
    [Required]
    [RegularExpression(Patterns.DnsLabel)]
    [StringLength(50, MinimumLength = 1)]
    public string ModelName { get; set; } = "";

    [Description("Version number within the model, from 1; higher is newer.")]
    [Required]
    [Range(1, int.MaxValue)]
    public int Version { get; set; }

    [Description("The model object in S3 and its sha256; the registry validates both.")]
    [Required]
    public ArtifactSpec Artifact { get; set; } = new();

    [Description("The ML task the model solves: Regression, BinaryClassification or MulticlassClassification.")]
    public MlTask? Task { get; set; }

    [Description("Metrics recorded at training, on the validation set.")]
    public Dictionary<string, double>? Metrics { get; set; }

    [Description("Where the model came from: run, attempt, dataset, image, algorithm and parameters.")]
    public Lineage? Lineage { get; set; }

    [Description("The human governance gate: Deployments tracking the latest approved version only pick approved ones.")]
    public bool? Approved { get; set; }

    [Description("S3 endpoint and credentials to read the artifact; unset fields come from the platform defaults (see status.effective).")]
    public S3StorageSpec? Storage { get; set; }

    [Description("Free text for people, e.g. Trained by TrainingRun sales-run-1, attempt 2.")]
    [StringLength(1024)]
    public string? Description { get; set; }
}

public sealed class ArtifactSpec
{
    [Required]
    [Description("The model object, e.g. s3://models/sales/run-1/1/model.zip. Siblings manifest.json, metrics.json and holdout.csv are used when present.")]
    [RegularExpression(Patterns.S3Uri)]
    [StringLength(1024)]
    public string Uri { get; set; } = "";

    [Required]
    [Description("sha256 of the model object, lower-case hex.")]
    [RegularExpression(Patterns.Sha256Hex)]
    public string Sha256 { get; set; } = "";
}

public sealed class Lineage
{
    [Description("The TrainingRun that produced the model.")]
    public string? TrainingRun { get; set; }

    [Description("The run's attempt that produced the model.")]
    public int? Attempt { get; set; }

    [Description("The S3 URI of the training dataset.")]
    public string? DatasetUri { get; set; }

    [Description("sha256:<hex> of the dataset content trained on.")]
    public string? DatasetDigest { get; set; }

    [Description("The training image.")]
    public string? Image { get; set; }

    [Description("The ML.NET learner, e.g. LightGbm.")]
    public string? Algorithm { get; set; }

    [Description("The hyperparameters trained with, including the defaults of those not set, e.g. numberOfTrees: \"100\".")]
    public Dictionary<string, string>? Parameters { get; set; }

    [Description("Version of the trainer that wrote the model (from manifest.json).")]
    public string? TrainerVersion { get; set; }

    [Description("Production data that fed the training set (dataset.fromFeedback): the curated dataset and the prediction-log and feedback objects it was built from.")]
    public ProductionLineage? Production { get; set; }
}

public sealed class ModelVersionStatus : ResourceStatus
{
    public const string Pending = "Pending";
    public const string Ready = "Ready";
    public const string Invalid = "Invalid";

    [Description("The artifact exists and its sha256 matches spec.artifact.sha256.")]
    public bool? Validated { get; set; }

    [Description("Size of the model object in bytes.")]
    public long? ArtifactSize { get; set; }

    [Description("The task's headline metric from spec.metrics, e.g. rmse=0.412.")]
    public string? Headline { get; set; }

    [Description("sha256 of the spec first validated; a different spec later is reported as ImmutableFieldChanged.")]
    public string? SpecDigest { get; set; }

    [Description("cd4ml.io Deployments serving this version (stable or canary).")]
    public List<string>? ServedBy { get; set; }

    [Description("The platform defaults in effect: storage, image and Prometheus after filling in what the spec leaves unset.")]
    public EffectiveSettings? Effective { get; set; }
}

public sealed class ProductionLineage
{
    [Description("Deployment whose prediction log and feedback were used.")]
    public string? Deployment { get; set; }

    [Description("The curated dataset object (base dataset + production rows) the model was trained on.")]
    public string? CuratedDatasetUri { get; set; }

    [Description("Rows taken from production (logged predictions joined with a feedback label).")]
    public long? Rows { get; set; }

    [Description("Window of the logged predictions used, e.g. 168h.")]
    public string? Window { get; set; }

    [Description("Prediction-log and feedback objects read (at most 100 listed; Sources counts all).")]
    public List<string>? Objects { get; set; }

    [Description("How many log and feedback objects were read in all.")]
    public int? Sources { get; set; }
}
