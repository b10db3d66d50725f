using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Text.Json.Serialization;

namespace Cd4ml.Runtime.Entities;

/// <summary>One observation in the style of metav1.Condition.</summary>
public sealed class Condition
{
    public const string True = "True";
    public const string False = "False";
    public const string Unknown = "Unknown";

    [JsonPropertyName("type")]
    [Required]
    [Description("CamelCase kind of observation, e.g. Ready.")]
    public string Type { get; set; } = "";

    [Description("True, False or Unknown: whether the condition of this type holds.")]
    [JsonPropertyName("status")]
    [Required]
    [AllowedValues(True, False, Unknown)]
    public string Status { get; set; } = Unknown;

    [JsonPropertyName("reason")]
    [Description("CamelCase machine-readable reason for the last transition.")]
    public string? Reason { get; set; }

    [JsonPropertyName("message")]
    [Description("Human-readable detail.")]
    public string? Message { get; set; }

    [Description("When status last changed (RFC 3339 UTC), e.g. 2026-11-30T17:00:00Z.")]
    [JsonPropertyName("lastTransitionTime")]
    public DateTime? LastTransitionTime { get; set; }

    [Description("The metadata.generation this condition was set for; older than the current generation means it may be stale.")]
    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }
}
