using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Caching;
using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// What the Deployment controller reads, from the runtime's shared informer caches that its watches keep synced:
/// ModelVersions, the apps/v1 Deployments and Services it owns, and HTTPRoutes. Read what you watch: a reconcile in
/// steady state sends no request. The caches belong to the controller manager, which is built after (and from) the
/// reconciler, so they are looked up on first use. Cached objects are shared instances: read them only, clone to change.
/// </summary>
public sealed class RolloutCache(Func<InformerRegistry> informers)
{
    private InformerRegistry? registry;

    private InformerRegistry Registry => registry ??= informers();

    /// <summary>The cached ModelVersions of <paramref name="namespace"/>.</summary>
    public IList<ModelVersion> ModelVersionsIn(string? @namespace) => Synced(Registry.Get<ModelVersion>()).List()
        .Where(version => version.Metadata.NamespaceProperty == @namespace)
        .ToList();

    public V1Deployment? Deployment(string? @namespace, string name) =>
        Synced(Registry.Get<V1Deployment>()).Get(new NamespacedName(@namespace, name));

    public V1Service? Service(string? @namespace, string name) =>
        Synced(Registry.Get<V1Service>()).Get(new NamespacedName(@namespace, name));

    /// <summary>
    /// The cached HTTPRoute, or null when it does not exist. False when the cache cannot tell: HTTPRoutes are watched
    /// optionally and the manager does not wait for them, so until the kind is served and listed the caller asks the API.
    /// </summary>
    public bool TryGetRoute(string? @namespace, string name, out HttpRoute? route)
    {
        var routes = Registry.GetOptional<HttpRoute>();
        route = routes.HasSynced ? routes.Get(new NamespacedName(@namespace, name)) : null;
        return routes.HasSynced;
    }

    private static ResourceInformer<T> Synced<T>(ResourceInformer<T> informer) where T : class, IKubernetesObject<V1ObjectMeta> =>
        informer.HasSynced
            ? informer
            : throw new InvalidOperationException(
                $"The {informer.Kind} cache is not synced: the Deployment controller must watch {informer.Kind}s.");
}
