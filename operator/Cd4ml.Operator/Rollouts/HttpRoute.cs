using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// A Gateway API HTTPRoute as the controller watches and caches it: typed metadata (to find the Deployments naming it,
/// <see cref="ModelDeploymentIndex.DeploymentsFor(HttpRoute)"/>) and every other field kept as JSON, so the weights
/// are set on a whole copy (<see cref="ToJson"/>, <see cref="HttpRouteBackends"/>) and no field the user wrote is lost.
/// </summary>
[KubernetesEntity(Group = HttpRouteBackends.Group, ApiVersion = HttpRouteBackends.Version, Kind = "HTTPRoute",
    PluralName = HttpRouteBackends.Plural)]
public sealed class HttpRoute : IKubernetesObject<V1ObjectMeta>
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = $"{HttpRouteBackends.Group}/{HttpRouteBackends.Version}";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "HTTPRoute";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    /// <summary>spec, status and whatever else the route carries, untouched.</summary>
    [JsonExtensionData]
    public Dictionary<string, JsonElement>? Fields { get; set; }

    /// <summary>A copy of the whole route as JSON, to change and write back (the cached instance is shared).</summary>
    public JsonObject ToJson() => JsonNode.Parse(KubernetesJson.Serialize(this))!.AsObject();
}
