using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Caching;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// The ModelVersions the Deployment controller reads: the runtime's shared informer cache, which the controller's
/// watch on ModelVersions keeps synced. The cache belongs to the controller manager, which is built after (and from)
/// the reconciler, so it is looked up on first use.
/// </summary>
public sealed class ModelVersionCache(Func<InformerRegistry> informers)
{
    private ResourceInformer<ModelVersion>? informer;

    /// <summary>The cached ModelVersions of <paramref name="namespace"/>: shared instances, read them only.</summary>
    public IList<ModelVersion> In(string? @namespace)
    {
        informer ??= informers().Get<ModelVersion>();
        if (!informer.HasSynced)
        {
            throw new InvalidOperationException("The ModelVersion cache is not synced: the controller must watch ModelVersions.");
        }

        return informer.List().Where(version => version.Metadata.NamespaceProperty == @namespace).ToList();
    }
}
