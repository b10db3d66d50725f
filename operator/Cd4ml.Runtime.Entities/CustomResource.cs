using System.Text.Json.Serialization;
using k8s;
using k8s.Models;

namespace Cd4ml.Runtime.Entities;

/// <summary>A namespaced custom resource with a spec written by users and a status written by its controller.</summary>
public abstract class CustomResource<TSpec, TStatus> : IKubernetesObject<V1ObjectMeta>, IHasStatus
    where TSpec : new()
    where TStatus : ResourceStatus, new()
{
    [JsonPropertyName("apiVersion")]
    public string ApiVersion { get; set; } = "";

    [JsonPropertyName("kind")]
    public string Kind { get; set; } = "";

    [JsonPropertyName("metadata")]
    public V1ObjectMeta Metadata { get; set; } = new();

    [JsonPropertyName("spec")]
    public TSpec Spec { get; set; } = new();

    [JsonPropertyName("status")]
    public TStatus? Status { get; set; }

    ResourceStatus? IHasStatus.Status => Status;

    /// <summary>The status, created empty when the object has none yet.</summary>
    public TStatus EnsureStatus() => Status ??= new TStatus();
}

/// <summary>Gives generic code (status writers, predicates) access to the common status fields.</summary>
public interface IHasStatus
{
    ResourceStatus? Status { get; }
}
