using System.ComponentModel;
using System.Text.Json.Serialization;

namespace Cd4ml.Runtime.Entities;

/// <summary>Status fields every kind shares: a phase, the generation last acted on, and conditions.</summary>
public abstract class ResourceStatus
{
    [JsonPropertyName("phase")]
    [Description("A one-word summary of where the object is in its lifecycle.")]
    public string? Phase { get; set; }

    [JsonPropertyName("observedGeneration")]
    [Description("The metadata.generation the controller last acted on.")]
    public long? ObservedGeneration { get; set; }

    [JsonPropertyName("conditions")]
    [Description("Observations of the object's state; every kind has a Ready condition.")]
    public List<Condition> Conditions { get; set; } = [];
}
