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
    [Required]
    [RegularExpression(Patterns.DnsLabel)]
    [StringLength(50, MinimumLength = 1)]
    public string ModelName { get; set; } = "";

    [Required]
    [Range(1, int.MaxValue)]
    public int Version { get; set; }

    [Required]
    public ArtifactSpec Artifact { get; set; } = new();

    public MlTask? Task { get; set; }

    [Description("Metrics recorded at training, on the validation set.")]
    public Dictionary<string, double>? Metrics { get; set; }

    public Lineage? Lineage { get; set; }

    [Description("The human governance gate: Deployments tracking the latest approved version only pick approved ones.")]
    public bool? Approved { get; set; }

    public S3StorageSpec? Storage { get; set; }

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
    public string? TrainingRun { get; set; }
    public int? Attempt { get; set; }
    public string? DatasetUri { get; set; }
    public string? DatasetDigest { get; set; }
    public string? Image { get; set; }
    public string? Algorithm { get; set; }
    public Dictionary<string, string>? Parameters { get; set; }
    public string? TrainerVersion { get; set; }
}

public sealed class ModelVersionStatus : ResourceStatus
{
    public const string Pending = "Pending";
    public const string Ready = "Ready";
    public const string Invalid = "Invalid";

    [Description("The artifact exists and its sha256 matches spec.artifact.sha256.")]
    public bool? Validated { get; set; }

    public long? ArtifactSize { get; set; }

    public string? Headline { get; set; }

    [Description("sha256 of the spec first validated; a different spec later is reported as ImmutableFieldChanged.")]
    public string? SpecDigest { get; set; }

    [Description("cd4ml.io Deployments serving this version (stable or canary).")]
    public List<string>? ServedBy { get; set; }

    [Description("The platform defaults in effect: storage, image and Prometheus after filling in what the spec leaves unset.")]
    public EffectiveSettings? Effective { get; set; }
}
