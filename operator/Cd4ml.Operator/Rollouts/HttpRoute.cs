using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// A Gateway API HTTPRoute as the controller watches it: only its metadata, which is all that is needed to find the
/// Deployments naming it (<see cref="ModelDeploymentIndex.DeploymentsFor(HttpRoute)"/>). The route's weights are read
/// and written as whole JSON documents (<see cref="HttpRouteBackends"/>), so no field is lost by this narrow model;
/// never write this type back.
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
}
