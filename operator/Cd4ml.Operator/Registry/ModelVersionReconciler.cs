using System.Text;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Artifacts;
using Cd4ml.Operator.Platform;
using Cd4ml.Operator.Training;
using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Controllers;
using Cd4ml.Runtime.Events;
using Cd4ml.Runtime.Status;
using k8s;

namespace Cd4ml.Operator.Registry;

/// <summary>
/// Reconciles a ModelVersion: validates once that the artifact exists and its sha256 matches, remembers the digest of
/// the spec it validated and reports any later change (other than approved/description) as ImmutableFieldChanged,
/// and keeps servedBy and the headline current. Never writes spec.
/// </summary>
public sealed class ModelVersionReconciler(IKubernetes kubernetes, IEventRecorder events, StorageAccess storage,
    PlatformDefaultsSource platform) : IReconciler<ModelVersion>
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
    private readonly ResourceClient<ModelDeployment> deployments = new(kubernetes);

    public async Task<ReconcileResult> ReconcileAsync(ReconcileRequest<ModelVersion> request, CancellationToken ct)
    {
        if (request.Entity is not { } version || request.IsBeingDeleted)
        {
            return ReconcileResult.Done();
        }

        var servedBy = await ServedByAsync(version, ct);
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

    private async Task<List<string>> ServedByAsync(ModelVersion version, CancellationToken ct)
    {
        var names = new List<string>();
        string? next = null;
        do
        {
            var page = await deployments.ListAsync(version.Metadata.NamespaceProperty, 500, next, ct);
            names.AddRange(page.Items.Where(d => ServedByIndex.Served(d).Contains(version.Metadata.Name)).Select(d => d.Metadata.Name));
            next = page.Metadata.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));

        names.Sort(StringComparer.Ordinal);
        return names;
    }
}
