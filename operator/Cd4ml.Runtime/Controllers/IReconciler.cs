using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Controllers;

/// <summary>
/// Level-triggered reconcile of one object: read the world, compare with the desired state, act once, record status.
/// Thrown exceptions count as <see cref="ReconcileResult.Retry"/>.
/// </summary>
public interface IReconciler<TEntity> where TEntity : class, IKubernetesObject<V1ObjectMeta>
{
    Task<ReconcileResult> ReconcileAsync(ReconcileRequest<TEntity> request, CancellationToken ct);
}
