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

public sealed class SecretReference
{
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
