using System.Text;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Platform;
using Cd4ml.Runtime.Client;
using k8s;

namespace Cd4ml.Operator.Training;

/// <summary>
/// The operator's S3 for a resource — a store on a client leased from the <see cref="S3ClientCache"/>; dispose this
/// to return it — or why there is none (Secret or key missing).
/// </summary>
public sealed class StorageResolution : IDisposable
{
    private readonly S3ClientLease? lease;

    private StorageResolution(S3ClientLease? lease, string? problem)
    {
        this.lease = lease;
        Problem = problem;
    }

    public ArtifactStore? Store => lease?.Store;

    public string? Problem { get; }

    public static StorageResolution Of(S3ClientLease lease) => new(lease, null);

    public static StorageResolution Unavailable(string problem) => new(null, problem);

    public void Dispose() => lease?.Dispose();
}

/// <summary>
/// How the operator reaches the S3 a resource names: the resource's endpoint, region, path style and Secret, each
/// filled in from the namespace's platform defaults when unset (the endpoint replaced by
/// <see cref="OperatorOptions.S3EndpointOverride"/> when set), with the credentials read from the Secret. Clients are cached per endpoint and Secret and replaced when the Secret changes (uid or
/// resourceVersion). Secret values stay in memory; messages name only the Secret and key.
/// </summary>
public sealed class StorageAccess(IKubernetes kubernetes, OperatorOptions options, S3ClientCache clients,
    PlatformDefaultsSource platform)
{
    public static readonly string[] CredentialKeys = [S3Settings.AccessKeyIdVariable, S3Settings.SecretAccessKeyVariable];

    public async Task<StorageResolution> ResolveAsync(string @namespace, S3StorageSpec? own, CancellationToken ct)
    {
        var storage = (await platform.ForAsync(@namespace, ct)).Defaults.Storage(own);
        string? accessKey = null, secretKey = null, credentials = null, credentialsVersion = "";
        if (storage?.SecretRef is { } reference)
        {
            var origin = own?.SecretRef is null
                ? $" (named by the platform defaults: key {PlatformDefaults.S3SecretNameKey} of ConfigMap {PlatformDefaults.ConfigMapName} " +
                  $"or the operator's {PlatformDefaults.Keys[PlatformDefaults.S3SecretNameKey]}; set spec.storage.secretRef to use another)"
                : "";
            k8s.Models.V1Secret secret;
            try
            {
                secret = await kubernetes.CoreV1.ReadNamespacedSecretAsync(reference.Name, @namespace, cancellationToken: ct);
            }
            catch (Exception e) when (ApiErrors.IsNotFound(e))
            {
                return StorageResolution.Unavailable($"Secret {reference.Name} does not exist in namespace {@namespace}{origin}.");
            }

            string? Value(string key) => secret.Data?.TryGetValue(key, out var bytes) == true && bytes.Length > 0
                ? Encoding.UTF8.GetString(bytes).Trim()
                : secret.StringData?.TryGetValue(key, out var text) == true && text.Length > 0 ? text : null;

            accessKey = Value(CredentialKeys[0]);
            secretKey = Value(CredentialKeys[1]);
            if (CredentialKeys.FirstOrDefault(k => Value(k) is null) is { } missing)
            {
                return StorageResolution.Unavailable($"Secret {reference.Name} has no key {missing}{origin}.");
            }

            credentials = $"{@namespace}/{reference.Name}";
            credentialsVersion = $"{secret.Metadata.Uid}/{secret.Metadata.ResourceVersion}";
        }

        var endpoint = options.S3EndpointOverride is { Length: > 0 } overridden ? overridden
            : storage?.Endpoint is { Length: > 0 } configured ? configured : null;
        var settings = new S3Settings
        {
            ServiceUrl = endpoint,
            Region = storage?.Region is { Length: > 0 } region ? region : S3Settings.DefaultRegion,
            ForcePathStyle = storage?.ForcePathStyle ?? endpoint is not null,
            AccessKeyId = accessKey,
            SecretAccessKey = secretKey,
        };
        var slot = new S3ClientSlot(settings.ServiceUrl, settings.Region, settings.ForcePathStyle, credentials);
        return StorageResolution.Of(clients.Lease(slot, credentialsVersion, settings));
    }
}
