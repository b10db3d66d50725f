using System.Text.Json.Nodes;
using k8s;
using k8s.Models;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// Whether a live object still holds what the operator set: every field of the desired object has the same value in
/// the live one. Fields only the live object has (server defaults such as a probe's timeoutSeconds, or an annotation
/// `kubectl rollout restart` adds) do not count; a changed or removed field, or a list of another length (an env var
/// added by hand), does. Resource quantities compare by value (the server writes 1000m back as 1).
/// </summary>
public static class DesiredFields
{
    public static bool AreKeptIn<T>(T desired, T live) =>
        Covers(JsonNode.Parse(KubernetesJson.Serialize(desired)), JsonNode.Parse(KubernetesJson.Serialize(live)), false);

    private static bool Covers(JsonNode? desired, JsonNode? live, bool quantities)
    {
        switch (desired)
        {
            case null:
                return true;
            case JsonObject fields:
                return live is JsonObject liveFields && fields.All(field =>
                    field.Value is null
                    || (liveFields.TryGetPropertyValue(field.Key, out var value)
                        && Covers(field.Value, value, quantities || field.Key == "resources")));
            case JsonArray items:
                return live is JsonArray liveItems && items.Count == liveItems.Count
                    && items.Select((item, i) => Covers(item, liveItems[i], quantities)).All(kept => kept);
            default:
                return live is JsonValue && (JsonNode.DeepEquals(desired, live)
                    || (quantities && SameQuantity(desired.ToString(), live.ToString())));
        }
    }

    private static bool SameQuantity(string desired, string live)
    {
        try
        {
            return new ResourceQuantity(desired).ToDecimal() == new ResourceQuantity(live).ToDecimal();
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException)
        {
            return false;
        }
    }
}
