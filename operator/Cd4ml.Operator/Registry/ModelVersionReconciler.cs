using System.Text;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Status;
using k8s;

namespace Cd4ml.Operator.Registry;

/// <summary>
/// Reconciles a ModelVersion: validates once that the artifact exists and its sha256 matches, remembers the digest of
/// the spec it validated and reports any later change (other than approved/description) as ImmutableFieldChanged,
/// and keeps servedBy (read from the cache of cd4ml Deployments) and the headline current. Never writes spec.
/// </summary>
public sealed class ModelVersionReconciler(IKubernetes kubernetes, IEventRecorder events, StorageAccess storage,
    InformerRegistry informers, PlatformDefaultsSource platform) : IReconciler<ModelVersion>
{
    public const string Validated = "Validated";
    public const string ArtifactNotFound = "ArtifactNotFound";
    public const string ArtifactMismatch = "ArtifactMismatch";
    public const string ImmutableFieldChanged = "ImmutableFieldChanged";
    public const string CredentialsMissing = "CredentialsMissing";
    public const string StorageError = "StorageError";
    public const string StorageUnavailable = "StorageUnavailable";

    public static readonly TimeSpan Recheck = TimeSpan.FromSeconds(30);

    private readonly StatusWriter<ModelVersion> status = new(kubernetes);
    private readonly StatusTransitions<ModelVersion> transitions = new(kubernetes, events, v => v.EnsureStatus());
    private readonly ResourceInformer<ModelDeployment> deployments = informers.Get<ModelDeployment>();

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest<ModelVersion> request, CancellationToken ct)
    {
        if (request.Entity is not { } version || request.IsBeingDeleted)
        {
            return ReconcileResult.Done();
        }

        var servedBy = ServedBy(version);
        var headline = QualityGates.Headline(version.Spec.Task ?? MlTask.Regression, version.Spec.Metrics);
        var defaults = (await platform.ForAsync(version.Metadata.NamespaceProperty, ct)).Defaults;
        void Observed(ModelVersion v)
        {
            var s = v.EnsureStatus();
            s.Effective = defaults.Effective(v.Spec.Storage);
            s.ServedBy = servedBy.Count > 0 ? servedBy : null;
            s.Headline = headline;
        }

        var digest = SpecDigest(version.Spec);
        var recorded = version.Status?.SpecDigest;
        if (recorded is not null && recorded != digest)
        {
            await transitions.TransitionAsync(version, ModelVersionStatus.Invalid, false, ImmutableFieldChanged,
                "The spec changed after validation; only approved and description may change. Register a new ModelVersion instead.",
                EventType.Warning, Observed, ct);
            return ReconcileResult.Done();
        }

        if (version.Status?.Validated == true && recorded == digest)
        {
            await status.UpdateAsync(version, Observed, ct);
            return ReconcileResult.Done();
        }

        using var access = await storage.ResolveAsync(version.Metadata.NamespaceProperty, version.Spec.Storage, ct);
        if (access.Store is not { } store)
        {
            await transitions.TransitionAsync(version, ModelVersionStatus.Pending, false, CredentialsMissing, access.Problem!, EventType.Warning, Observed, ct);
            return ReconcileResult.RequeueAfter(Recheck);
        }

        var artifact = S3Location.Parse(version.Spec.Artifact.Uri);
        try
        {
            if (await store.HeadAsync(artifact, ct) is not { } info)
            {
                await transitions.TransitionAsync(version, ModelVersionStatus.Invalid, false, ArtifactNotFound,
                    $"Artifact {artifact} does not exist.", EventType.Warning, Observed, ct);
                return ReconcileResult.RequeueAfter(Recheck);
            }

            var sha256 = await store.ComputeSha256Async(artifact, ct);
            if (!string.Equals(sha256, version.Spec.Artifact.Sha256, StringComparison.OrdinalIgnoreCase))
            {
                await transitions.TransitionAsync(version, ModelVersionStatus.Invalid, false, ArtifactMismatch,
                    $"sha256 of {artifact} is {sha256}, but spec.artifact.sha256 is {version.Spec.Artifact.Sha256}.",
                    EventType.Warning, v =>
                    {
                        Observed(v);
                        v.EnsureStatus().Validated = false;
                    }, ct);
                return ReconcileResult.Done();
            }

            await transitions.TransitionAsync(version, ModelVersionStatus.Ready, true, Validated,
                $"Artifact {artifact} exists and its sha256 matches ({info.Size} bytes).", EventType.Normal, v =>
                {
                    Observed(v);
                    var s = v.EnsureStatus();
                    s.Validated = true;
                    s.ArtifactSize = info.Size;
                    s.SpecDigest = digest;
                }, ct);
            return ReconcileResult.Done();
        }
        catch (ArtifactStoreException e) when (e.IsTransient)
        {
            var message = $"S3 unavailable while validating the artifact: {e.Message}; retrying with backoff.";
            await transitions.TransitionAsync(version, ModelVersionStatus.Pending, false, StorageUnavailable, message, EventType.Warning,
                Observed, ct);
            return ReconcileResult.Retry(message, e);
        }
        catch (ArtifactStoreException e)
        {
            await transitions.TransitionAsync(version, ModelVersionStatus.Pending, false, StorageError, e.Message, EventType.Warning, Observed, ct);
            return ReconcileResult.RequeueAfter(Recheck);
        }
    }

    /// <summary>sha256 of the spec without the fields that may change (approved, description).</summary>
    public static string SpecDigest(ModelVersionSpec spec)
    {
        var copy = KubernetesJson.Deserialize<ModelVersionSpec>(KubernetesJson.Serialize(spec));
        copy.Approved = null;
        copy.Description = null;
        return ContentDigest.Sha256Hex(Encoding.UTF8.GetBytes(KubernetesJson.Serialize(copy)));
    }

    /// <summary>
    /// The ModelVersions whose servedBy a cd4ml Deployment is part of: its stable and canary versions. The controller
    /// maps both the old and the new Deployment, so a version it stops serving is reconciled too.
    /// </summary>
    public static IEnumerable<NamespacedName> VersionsServedBy(ModelDeployment deployment) =>
        Served(deployment).Select(name => new NamespacedName(deployment.Metadata.NamespaceProperty, name));

    private static IEnumerable<string> Served(ModelDeployment deployment) =>
        new[] { deployment.Status?.StableVersion, deployment.Status?.CanaryVersion }
            .OfType<string>().Where(n => n.Length > 0).Distinct();

    private List<string> ServedBy(ModelVersion version) => deployments.List()
        .Where(d => d.Metadata.NamespaceProperty == version.Metadata.NamespaceProperty
                    && Served(d).Contains(version.Metadata.Name))
        .Select(d => d.Metadata.Name)
        .Order(StringComparer.Ordinal)
        .ToList();
}
