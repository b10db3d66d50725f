using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Status;

/// <summary>
/// Finalizer bookkeeping through merge patches that carry only metadata.finalizers (plus resourceVersion as a
/// precondition, so another writer's finalizer is never dropped; on conflict the fresh list is patched again).
/// </summary>
public static class Finalizers
{
    public static bool Has(IKubernetesObject<V1ObjectMeta> entity, string finalizer) =>
        entity.Metadata.Finalizers?.Contains(finalizer) == true;

    /// <summary>Adds the finalizer unless present; returns the object as stored.</summary>
    public static Task<T> AddFinalizerAsync<T>(this ResourceClient<T> client, T entity, string finalizer,
        CancellationToken ct = default) where T : class, IKubernetesObject<V1ObjectMeta> =>
        PatchFinalizersAsync(client, entity, list => list.Contains(finalizer) ? null : [.. list, finalizer], ct);

    /// <summary>Removes the finalizer if present; returns the object as stored (null when it is gone).</summary>
    public static Task<T> RemoveFinalizerAsync<T>(this ResourceClient<T> client, T entity, string finalizer,
        CancellationToken ct = default) where T : class, IKubernetesObject<V1ObjectMeta> =>
        PatchFinalizersAsync(client, entity, list => list.Contains(finalizer) ? list.Where(f => f != finalizer).ToList() : null,
            ct);

    /// <summary>
    /// For an object being deleted: runs <paramref name="cleanup"/> (which must be idempotent: it runs again if the
    /// removal fails) and then removes the finalizer. Does nothing when the finalizer is already gone.
    /// </summary>
    public static async Task FinalizeAsync<T>(this ResourceClient<T> client, T entity, string finalizer,
        Func<T, CancellationToken, Task> cleanup, CancellationToken ct = default)
        where T : class, IKubernetesObject<V1ObjectMeta>
    {
        if (!Has(entity, finalizer))
        {
            return;
        }

        await cleanup(entity, ct).ConfigureAwait(false);
        await client.RemoveFinalizerAsync(entity, finalizer, ct).ConfigureAwait(false);
    }

    private static async Task<T> PatchFinalizersAsync<T>(ResourceClient<T> client, T entity,
        Func<IList<string>, IList<string>?> change, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var current = entity;
        for (var attempt = 1; ; attempt++)
        {
            var updated = change(current.Metadata.Finalizers ?? []);
            if (updated is null)
            {
                return current;
            }

            var patch = new V1Patch(new
            {
                metadata = new { finalizers = updated, resourceVersion = current.Metadata.ResourceVersion },
            }, V1Patch.PatchType.MergePatch);
            try
            {
                return await client.PatchAsync(current.Metadata.NamespaceProperty, current.Metadata.Name, patch, ct)
                    .ConfigureAwait(false);
            }
            catch (Exception e) when (ApiErrors.IsConflict(e) && attempt < 10)
            {
                current = await client.GetAsync(current.Metadata.NamespaceProperty, current.Metadata.Name, ct)
                    .ConfigureAwait(false) ?? current;
            }
            catch (Exception e) when (ApiErrors.IsNotFound(e))
            {
                return current;
            }
        }
    }
}
