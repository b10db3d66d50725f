using System.Text;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Runtime.Client;
using k8s;

namespace Cd4ml.Operator.Training;

/// <summary>The operator's own S3 settings for a resource, or why there are none (Secret or key missing).</summary>
public sealed record StorageResolution(S3Settings? Settings, string? Problem);

/// <summary>
/// How the operator reaches the S3 a resource names: the resource's endpoint, region and path style (the endpoint
/// replaced by <see cref="OperatorOptions.S3EndpointOverride"/> when set), with the credentials read from the
/// referenced Secret. Secret values stay in memory; messages name only the Secret and key.
/// </summary>
public sealed class StorageAccess(IKubernetes kubernetes, OperatorOptions options)
{
    public static readonly string[] CredentialKeys = [S3Settings.AccessKeyIdVariable, S3Settings.SecretAccessKeyVariable];

    public async Task<StorageResolution> ResolveAsync(string @namespace, S3StorageSpec? storage, CancellationToken ct)
    {
        string? accessKey = null, secretKey = null;
        if (storage?.SecretRef is { } reference)
        {
            k8s.Models.V1Secret secret;
            try
            {
                secret = await kubernetes.CoreV1.ReadNamespacedSecretAsync(reference.Name, @namespace, cancellationToken: ct);
            }
            catch (Exception e) when (ApiErrors.IsNotFound(e))
            {
                return new StorageResolution(null, $"Secret {reference.Name} does not exist in namespace {@namespace}.");
            }

            string? Value(string key) => secret.Data?.TryGetValue(key, out var bytes) == true && bytes.Length > 0
                ? Encoding.UTF8.GetString(bytes).Trim()
                : secret.StringData?.TryGetValue(key, out var text) == true && text.Length > 0 ? text : null;

            accessKey = Value(CredentialKeys[0]);
            secretKey = Value(CredentialKeys[1]);
            if (CredentialKeys.FirstOrDefault(k => Value(k) is null) is { } missing)
            {
                return new StorageResolution(null, $"Secret {reference.Name} has no key {missing}.");
            }
        }

        var endpoint = options.S3EndpointOverride is { Length: > 0 } overridden ? overridden
            : storage?.Endpoint is { Length: > 0 } configured ? configured : null;
        return new StorageResolution(new S3Settings
        {
            ServiceUrl = endpoint,
            Region = storage?.Region is { Length: > 0 } region ? region : S3Settings.DefaultRegion,
            ForcePathStyle = storage?.ForcePathStyle ?? endpoint is not null,
            AccessKeyId = accessKey,
            SecretAccessKey = secretKey,
        }, null);
    }
}
