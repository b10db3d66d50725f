using System.Collections.Concurrent;
using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Client;

namespace Cd4ml.Operator.Registry;

/// <summary>
/// Maps a change of a cd4ml Deployment to the ModelVersions whose servedBy it affects: the versions it serves now and
/// the ones it served before the change (remembered here, since a watch only delivers the new object).
/// </summary>
public sealed class ServedByIndex
{
    private readonly ConcurrentDictionary<NamespacedName, string[]> served = new();

    public IEnumerable<NamespacedName> VersionsToReconcile(ModelDeployment deployment)
    {
        var key = NamespacedName.Of(deployment);
        var now = Served(deployment);
        var before = served.TryGetValue(key, out var previous) ? previous : [];
        served[key] = now;
        return now.Union(before).Select(name => new NamespacedName(key.Namespace, name)).ToList();
    }

    public static string[] Served(ModelDeployment deployment) =>
        new[] { deployment.Status?.StableVersion, deployment.Status?.CanaryVersion }
            .OfType<string>().Where(n => n.Length > 0).Distinct().ToArray();
}
