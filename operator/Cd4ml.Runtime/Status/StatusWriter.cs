using Cd4ml.Runtime.Client;
using Cd4ml.Runtime.Entities;
using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Status;

/// <summary>
/// Writes .status through the status subresource only. The mutation is applied to a copy, observedGeneration is set,
/// nothing is sent when the status did not change, and on 409 Conflict the fresh object is read and the same
/// mutation applied again — so concurrent writers converge instead of overwriting each other blindly.
/// </summary>
public sealed class StatusWriter<T>(ResourceClient<T> client, int maxAttempts = 10)
    where T : class, IKubernetesObject<V1ObjectMeta>, IHasStatus
{
    public StatusWriter(IKubernetes kubernetes) : this(new ResourceClient<T>(kubernetes))
    {
    }

    /// <summary>Applies <paramref name="mutate"/> to (a copy of) <paramref name="entity"/>'s status and writes it.</summary>
    /// <returns>The object as the server returned it, or the unchanged copy when there was nothing to write.</returns>
    public async Task<T> UpdateAsync(T entity, Action<T> mutate, CancellationToken ct = default)
    {
        var current = ResourceClient<T>.Clone(entity);
        for (var attempt = 1; ; attempt++)
        {
            var before = StatusJson(current);
            mutate(current);
            if (current.Status is { } status)
            {
                status.ObservedGeneration = current.Metadata.Generation;
            }

            if (StatusJson(current) == before)
            {
                return current;
            }

            try
            {
                return await client.ReplaceStatusAsync(current, ct).ConfigureAwait(false);
            }
            catch (Exception e) when (ApiErrors.IsConflict(e) && attempt < maxAttempts)
            {
                current = await client.GetAsync(current.Metadata.NamespaceProperty, current.Metadata.Name, ct)
                              .ConfigureAwait(false)
                          ?? throw new InvalidOperationException(
                              $"{client.Type.Kind} {NamespacedName.Of(entity)} was deleted while writing its status.", e);
            }
        }
    }

    private static string StatusJson(T entity) => entity.Status is { } status ? KubernetesJson.Serialize(status) : "";
}
