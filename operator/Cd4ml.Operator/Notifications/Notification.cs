using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cd4ml.Operator.Notifications;

/// <summary>What a webhook receiver gets about one event: which object, why, what happened, when.</summary>
public sealed record Notification(
    [property: JsonPropertyName("namespace")] string Namespace,
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("reason")] string Reason,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("time")] DateTimeOffset Time);

public enum NotificationFormat
{
    /// <summary>The <see cref="Notification"/> fields as a JSON object.</summary>
    Json,

    /// <summary><c>{"text": "…"}</c>, what Slack (and Mattermost, Rocket.Chat, Teams' Slack-compatible hooks) accept.</summary>
    Slack,
}

/// <summary>Request bodies of a notification in each <see cref="NotificationFormat"/>.</summary>
public static class NotificationBody
{
    private static readonly JsonSerializerOptions Options = new() { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Render(Notification notification, NotificationFormat format) => format switch
    {
        NotificationFormat.Slack => JsonSerializer.Serialize(new { text = SlackText(notification) }, Options),
        _ => JsonSerializer.Serialize(notification, Options),
    };

    /// <summary>One line a person reads in a channel: <c>[ns] Deployment/fraud RolledBack: message</c>.</summary>
    public static string SlackText(Notification n) => $"[{n.Namespace}] {n.Kind}/{n.Name} {n.Reason}: {n.Message}";

    /// <summary>Parses <c>json</c> or <c>slack</c> (any case); null for anything else.</summary>
    public static NotificationFormat? ParseFormat(string? text) => text?.Trim().ToLowerInvariant() switch
    {
        "json" => NotificationFormat.Json,
        "slack" => NotificationFormat.Slack,
        _ => null,
    };
}
