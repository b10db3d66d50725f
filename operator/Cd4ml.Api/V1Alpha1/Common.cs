using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;
using Cd4ml.Api.Schema;

namespace Cd4ml.Api.V1Alpha1;

/// <summary>The API group and version of every kind here.</summary>
public static class ApiGroup
{
    public const string Group = "cd4ml.io";
    public const string Version = "v1alpha1";
    public const string ApiVersion = Group + "/" + Version;
    public const string Category = "cd4ml";
}

/// <summary>Where S3 objects live and which credentials reach them.</summary>
public sealed class S3StorageSpec
{
    [Description("Secret in the same namespace with keys AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY. Omit to use ambient credentials (IRSA, instance profile).")]
    public SecretReference? SecretRef { get; set; }

    [Description("S3 endpoint URL for S3-compatible stores (MinIO, s3rver). Empty means AWS.")]
    [RegularExpression(Patterns.HttpUrl)]
    public string? Endpoint { get; set; }

    [Description("Region; defaults to us-east-1.")]
    [StringLength(64)]
    public string? Region { get; set; }

    [Description("Address buckets as a path (endpoint/bucket/key) rather than a host name; needed by most S3-compatible stores.")]
    public bool? ForcePathStyle { get; set; }
}

/// <summary>The values the operator uses for what a resource leaves to the platform's defaults.</summary>
public sealed class EffectiveSettings
{
    [Description("S3 as used: the resource's own fields, else the namespace's ConfigMap cd4ml-defaults, else the operator's defaults. Absent: AWS with ambient credentials.")]
    public EffectiveStorage? Storage { get; set; }

    [Description("Prometheus address canary analysis queries (Deployments only).")]
    public string? Prometheus { get; set; }

    [Description("Image of the training Job or model server.")]
    public string? Image { get; set; }

    [Description("The platform analysis template the canary analysis starts from (Deployments only).")]
    public string? AnalysisTemplate { get; set; }
}

public sealed class EffectiveStorage
{
    [Description("S3 endpoint URL; empty means AWS.")]
    public string? Endpoint { get; set; }

    [Description("S3 region; empty means us-east-1.")]
    public string? Region { get; set; }

    [Description("Whether buckets are addressed as a path.")]
    public bool? ForcePathStyle { get; set; }

    [Description("Secret holding the S3 credentials; empty means ambient credentials.")]
    public string? SecretName { get; set; }
}

public sealed class SecretReference
{
    [Description("Name of the Secret in the resource's namespace, e.g. s3-credentials.")]
    [Required]
    [RegularExpression("^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$")]
    [StringLength(253, MinimumLength = 1)]
    public string Name { get; set; } = "";
}

[JsonConverter(typeof(JsonStringEnumConverter<MlTask>))]
public enum MlTask
{
    Regression,
    BinaryClassification,
    MulticlassClassification,
}
