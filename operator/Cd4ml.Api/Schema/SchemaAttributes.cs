namespace Cd4ml.Api.Schema;

/// <summary>Short names and categories of a kind (kubectl get tr, kubectl get cd4ml).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ResourceNamesAttribute : Attribute
{
    public string[] ShortNames { get; init; } = [];
    public string[] Categories { get; init; } = [];
}

/// <summary>An additional printer column for kubectl get.</summary>
[AttributeUsage(AttributeTargets.Class, AllowMultiple = true)]
public sealed class PrinterColumnAttribute(string name, string jsonPath, string type = "string") : Attribute
{
    public string Name { get; } = name;
    public string JsonPath { get; } = jsonPath;
    public string Type { get; } = type;
    public int Priority { get; init; }
    public string? Description { get; init; }
}

/// <summary>Exactly one of the named properties must be set (schema oneOf over required).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class ExactlyOneOfAttribute(params string[] properties) : Attribute
{
    public string[] Properties { get; } = properties;
}

/// <summary>At least one of the named properties must be set (schema anyOf over required).</summary>
[AttributeUsage(AttributeTargets.Class)]
public sealed class AtLeastOneOfAttribute(params string[] properties) : Attribute
{
    public string[] Properties { get; } = properties;
}

/// <summary>The property's minimum and maximum items (arrays) or properties (maps).</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class ItemsAttribute : Attribute
{
    public int Min { get; init; } = -1;
    public int Max { get; init; } = -1;
}

/// <summary>Common validation patterns, shared by the schema and the controllers.</summary>
public static class Patterns
{
    public const string DnsLabel = "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$";
    public const string S3Uri = "^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/.+$";
    public const string S3Prefix = "^s3://[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]/(.*/)?$";
    public const string Sha256Digest = "^sha256:[a-f0-9]{64}$";
    public const string Sha256Hex = "^[a-f0-9]{64}$";
    public const string Duration = "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))+$";

    /// <summary>A <see cref="Duration"/> with at least one part above zero (RE2 has no lookahead, hence the spelling out).</summary>
    public const string PositiveDuration =
        "^([0-9]+(\\.[0-9]+)?(ms|s|m|h))*(0*[1-9][0-9]*(\\.[0-9]+)?|[0-9]+\\.[0-9]*[1-9][0-9]*)(ms|s|m|h)([0-9]+(\\.[0-9]+)?(ms|s|m|h))*$";
    public const string HttpUrl = "^https?://[^\\s]+$";
}
