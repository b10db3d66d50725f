using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Controllers;

/// <summary>
/// The key to reconcile and the informer's cached object, or null when the object no longer exists.
/// The entity is the shared cache instance: read it, and let <c>StatusWriter</c> (which copies) make changes.
/// </summary>
public sealed record ReconcileRequest<TEntity>(NamespacedName Key, TEntity? Entity)
    where TEntity : class, IKubernetesObject<V1ObjectMeta>
{
    public bool IsDeleted => Entity is null;

    /// <summary>True once deletion was requested and only finalizers keep the object.</summary>
    public bool IsBeingDeleted => Entity?.Metadata.DeletionTimestamp is not null;
}
