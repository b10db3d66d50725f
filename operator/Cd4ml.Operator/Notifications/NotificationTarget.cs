using k8s.Models;

namespace Cd4ml.Operator.Notifications;

/// <summary>Where notifications of one namespace go, in which format, and for which event reasons.</summary>
public sealed record NotificationTarget(Uri Url, NotificationFormat Format, IReadOnlySet<string> Reasons)
{
    /// <summary>Name of the per-namespace ConfigMap that overrides the platform's webhook.</summary>
    public const string ConfigMapName = "cd4ml-notifications";

    /// <summary>
    /// The event reasons that notify: rollback, promotion, pause of a rollout (analysis or a pause step), failed quality
    /// gates, failed training (the trainer failed or ran past its deadline). A namespace may narrow them with
    /// <c>reasons</c>; other reasons are never sent (a webhook is for transitions, not for every event).
    /// </summary>
    public static readonly IReadOnlySet<string> NotifiableReasons = new HashSet<string>(StringComparer.Ordinal)
    {
        "RolledBack", "Promoted", "Paused", "GatesFailed", "JobFailed", "DeadlineExceeded",
    };

    public bool Wants(string reason) => Reasons.Contains(reason);

    /// <summary>The platform's target from operator options, or null when no webhook is configured.</summary>
    public static NotificationTarget? FromOptions(OperatorOptions options)
    {
        if (string.IsNullOrWhiteSpace(options.NotifyWebhook))
        {
            return null;
        }

        return new NotificationTarget(ParseUrl(options.NotifyWebhook, "--notify-webhook"),
            NotificationBody.ParseFormat(options.NotifyFormat)
            ?? throw new ArgumentException($"--notify-format must be json or slack, not '{options.NotifyFormat}'"),
            NotifiableReasons);
    }

    /// <summary>ConfigMap key naming a Secret of the namespace whose key <c>url</c> holds the webhook URL.</summary>
    public const string UrlSecretKey = "urlSecret";

    /// <summary>
    /// The namespace's target: keys of its <see cref="ConfigMapName"/> ConfigMap (<c>url</c> or <c>urlSecret</c>,
    /// <c>format</c>, <c>reasons</c>) override the platform's one by one; an empty <c>url</c> turns notifications off
    /// for the namespace. Webhook URLs usually carry a token (Slack's do), so <c>urlSecret</c> keeps it in a Secret.
    /// </summary>
    /// <param name="secretUrl">The <c>url</c> key of the Secret <c>urlSecret</c> names, as read; null when absent.</param>
    /// <returns>The target, or null (no notifications) with <paramref name="problem"/> set when a key is invalid.</returns>
    public static NotificationTarget? Merge(NotificationTarget? platform, V1ConfigMap? configMap, out string? problem,
        string? secretUrl = null)
    {
        problem = null;
        var data = configMap?.Data;
        if (data is null)
        {
            return platform;
        }

        Uri? url = platform?.Url;
        if (data.TryGetValue(UrlSecretKey, out var secretName))
        {
            if (data.ContainsKey("url"))
            {
                problem = $"ConfigMap {ConfigMapName}: set url or {UrlSecretKey}, not both";
                return null;
            }

            if (string.IsNullOrWhiteSpace(secretUrl) || !TryParseUrl(secretUrl, out url))
            {
                problem = $"ConfigMap {ConfigMapName}: {UrlSecretKey} names Secret '{secretName}', whose key url must hold an "
                          + "absolute http or https URL (create it with kubectl create secret generic "
                          + $"{secretName} --from-literal=url=https://…)";
                return null;
            }
        }
        else if (data.TryGetValue("url", out var urlText))
        {
            if (string.IsNullOrWhiteSpace(urlText))
            {
                return null;
            }

            if (!TryParseUrl(urlText, out url))
            {
                problem = $"ConfigMap {ConfigMapName}: url must be an absolute http or https URL";
                return null;
            }
        }

        if (url is null)
        {
            return null;
        }

        var format = platform?.Format ?? NotificationFormat.Json;
        if (data.TryGetValue("format", out var formatText))
        {
            if (NotificationBody.ParseFormat(formatText) is not { } parsed)
            {
                problem = $"ConfigMap {ConfigMapName}: format must be json or slack, not '{formatText}'";
                return null;
            }

            format = parsed;
        }

        var reasons = platform?.Reasons ?? NotifiableReasons;
        if (data.TryGetValue("reasons", out var reasonsText))
        {
            var listed = reasonsText.Split([',', ' ', '\n'], StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var unknown = listed.Where(r => !NotifiableReasons.Contains(r)).ToList();
            if (unknown.Count > 0)
            {
                problem = $"ConfigMap {ConfigMapName}: reasons {string.Join(", ", unknown)} never notify; "
                          + $"choose from {string.Join(", ", NotifiableReasons)}";
                return null;
            }

            reasons = listed.ToHashSet(StringComparer.Ordinal);
        }

        return new NotificationTarget(url, format, reasons);
    }

    /// <summary>Scheme, host and port only: webhook URLs carry their secret in the path or query, never log those.</summary>
    public static string Redact(Uri url) => url.IsDefaultPort
        ? $"{url.Scheme}://{url.Host}/…"
        : $"{url.Scheme}://{url.Host}:{url.Port}/…";

    private static Uri ParseUrl(string text, string field) => TryParseUrl(text, out var url)
        ? url!
        : throw new ArgumentException($"{field} must be an absolute http or https URL");

    private static bool TryParseUrl(string text, out Uri? url) =>
        Uri.TryCreate(text.Trim(), UriKind.Absolute, out url) && url.Scheme is "http" or "https";
}
