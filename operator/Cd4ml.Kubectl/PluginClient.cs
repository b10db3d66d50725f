using System.Net;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Kubectl.Views;
using Cd4ml.Operator.Rollouts;
using Cd4ml.Runtime.Client;
using k8s;
using k8s.Models;

namespace Cd4ml.Kubectl;

/// <summary>The plugin's reads and writes in one namespace; every API failure becomes a one-line <see cref="PluginException"/>.</summary>
public sealed class PluginClient(ClusterConnection connection)
{
    private const int PageSize = 500;

    public ClusterConnection Connection => connection;

    public string Namespace => connection.Namespace;

    public ResourceClient<T> Resource<T>() where T : class, IKubernetesObject<V1ObjectMeta> => new(connection.Client);

    public async Task<T> GetAsync<T>(string name, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var client = Resource<T>();
        var found = await CallAsync("get", client.Type.ToString(), name, () => client.GetAsync(Namespace, name, ct));
        return found ?? throw new PluginException($"{client.Type} \"{name}\" not found in namespace \"{Namespace}\"");
    }

    public async Task<IReadOnlyList<T>> ListAsync<T>(CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var client = Resource<T>();
        var items = new List<T>();
        string? next = null;
        do
        {
            var page = await CallAsync("list", client.Type.ToString(), null, () => client.ListAsync(Namespace, PageSize, next, ct));
            items.AddRange(page.Items);
            next = page.Metadata?.ContinueProperty;
        }
        while (!string.IsNullOrEmpty(next));

        return items.OrderBy(i => i.Metadata.Name, StringComparer.Ordinal).ToList();
    }

    /// <summary>One merge patch: the single API call behind promote, abort, retry and approve.</summary>
    public Task<T> MergePatchAsync<T>(string name, object patch, CancellationToken ct) where T : class, IKubernetesObject<V1ObjectMeta>
    {
        var client = Resource<T>();
        return CallAsync("patch", client.Type.ToString(), name,
            () => client.PatchAsync(Namespace, name, new V1Patch(patch, V1Patch.PatchType.MergePatch), ct));
    }

    /// <summary>
    /// Pods of a Deployment's track from its apps/v1 Deployment; null when it does not exist or the user may not read
    /// it (the tree then leaves pods out rather than failing).
    /// </summary>
    public async Task<TrackPods?> TrackPodsAsync(ModelDeployment owner, string track, CancellationToken ct)
    {
        try
        {
            var workload = await connection.Client.AppsV1.ReadNamespacedDeploymentAsync(
                ServingWorkloads.DeploymentName(owner, track), Namespace, cancellationToken: ct);
            return new TrackPods(workload.Spec.Replicas ?? 0, workload.Status?.ReadyReplicas ?? 0);
        }
        catch (Exception e) when (ApiErrors.StatusOf(e) is HttpStatusCode.NotFound or HttpStatusCode.Forbidden)
        {
            return null;
        }
    }

    public async Task<T> CallAsync<T>(string verb, string resource, string? name, Func<Task<T>> call)
    {
        try
        {
            return await call();
        }
        catch (Exception e) when (e is not OperationCanceledException
                                  && ApiFailures.Describe(e, verb, resource, name, Namespace, connection.Server) is { } message)
        {
            throw new PluginException(message);
        }
    }
}
