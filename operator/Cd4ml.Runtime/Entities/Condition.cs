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

    [JsonPropertyName("lastTransitionTime")]
    public DateTime? LastTransitionTime { get; set; }

    [JsonPropertyName("observedGeneration")]
    public long? ObservedGeneration { get; set; }
}
