namespace Cd4ml.Artifacts;

/// <summary>
/// How to reach S3. The same environment variables configure the trainer, the model server and the operator;
/// an empty <see cref="ServiceUrl"/> means AWS itself.
/// </summary>
public sealed record S3Settings
{
    public const string AccessKeyIdVariable = "AWS_ACCESS_KEY_ID";
    public const string SecretAccessKeyVariable = "AWS_SECRET_ACCESS_KEY";
    public const string RegionVariable = "AWS_REGION";
    public const string EndpointVariable = "CD4ML_S3_ENDPOINT";
    public const string ForcePathStyleVariable = "CD4ML_S3_FORCE_PATH_STYLE";
    public const string DefaultRegion = "us-east-1";

    /// <summary>Endpoint of an S3-compatible store (MinIO, s3rver), e.g. http://127.0.0.1:9000; null for AWS.</summary>
    public string? ServiceUrl { get; init; }

    public string Region { get; init; } = DefaultRegion;

    /// <summary>Address buckets as http://host/bucket instead of http://bucket.host (needed by most non-AWS stores).</summary>
    public bool ForcePathStyle { get; init; }

    /// <summary>Static credentials; when null the AWS SDK's default chain is used (IRSA, instance profile, …).</summary>
    public string? AccessKeyId { get; init; }

    public string? SecretAccessKey { get; init; }

    public static S3Settings FromEnvironment(IReadOnlyDictionary<string, string?> environment)
    {
        string? Get(string name) => environment.TryGetValue(name, out var value) && !string.IsNullOrWhiteSpace(value)
            ? value.Trim()
            : null;

        var endpoint = Get(EndpointVariable);
        if (endpoint is not null && !Uri.TryCreate(endpoint, UriKind.Absolute, out _))
        {
            throw new FormatException($"{EndpointVariable} must be an absolute URL such as http://127.0.0.1:9000; got '{endpoint}'.");
        }

        var forcePathStyleText = Get(ForcePathStyleVariable);
        var forcePathStyle = forcePathStyleText is null
            ? endpoint is not null
            : bool.TryParse(forcePathStyleText, out var parsed)
                ? parsed
                : throw new FormatException($"{ForcePathStyleVariable} must be true or false; got '{forcePathStyleText}'.");

        if ((Get(AccessKeyIdVariable) is null) != (Get(SecretAccessKeyVariable) is null))
        {
            throw new FormatException($"Set both {AccessKeyIdVariable} and {SecretAccessKeyVariable}, or neither (to use the AWS default credentials).");
        }

        return new S3Settings
        {
            ServiceUrl = endpoint,
            Region = Get(RegionVariable) ?? DefaultRegion,
            ForcePathStyle = forcePathStyle,
            AccessKeyId = Get(AccessKeyIdVariable),
            SecretAccessKey = Get(SecretAccessKeyVariable),
        };
    }

    /// <summary>The inverse of <see cref="FromEnvironment"/>; unset values are left out.</summary>
    public IReadOnlyDictionary<string, string> ToEnvironment()
    {
        var environment = new Dictionary<string, string>
        {
            [RegionVariable] = Region,
            [ForcePathStyleVariable] = ForcePathStyle ? "true" : "false",
        };
        if (ServiceUrl is not null)
        {
            environment[EndpointVariable] = ServiceUrl;
        }

        if (AccessKeyId is not null)
        {
            environment[AccessKeyIdVariable] = AccessKeyId;
        }

        if (SecretAccessKey is not null)
        {
            environment[SecretAccessKeyVariable] = SecretAccessKey;
        }

        return environment;
    }
}
