using System.Net;
using System.Text;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Cd4ml.Operator.Notifications;

/// <summary>How hard <see cref="NotificationSender"/> tries one notification.</summary>
public sealed record NotificationDelivery
{
    /// <summary>Attempts per notification, the first included.</summary>
    public int Attempts { get; init; } = 4;

    /// <summary>Wait before the second attempt; doubles for each later one.</summary>
    public TimeSpan FirstRetryDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>How long one attempt may take before it counts as failed.</summary>
    public TimeSpan AttemptTimeout { get; init; } = TimeSpan.FromSeconds(5);
}

/// <summary>
/// Drains the <see cref="NotificationQueue"/> in the background: posts each notification to its namespace's webhook,
/// retrying 5xx, 408, 429 and network errors with exponential backoff up to <see cref="NotificationDelivery.Attempts"/>.
/// One line per notification given up; the URL is never logged beyond scheme, host and port.
/// </summary>
public sealed class NotificationSender(NotificationQueue queue, NotificationTargets targets, NotificationDelivery delivery,
    TimeProvider clock, ILogger<NotificationSender> logger) : BackgroundService
{
    private readonly HttpClient http = new() { Timeout = Timeout.InfiniteTimeSpan };

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var notification in queue.Reader.ReadAllAsync(stoppingToken).ConfigureAwait(false))
            {
                try
                {
                    var target = await targets.ForNamespaceAsync(notification.Namespace, stoppingToken).ConfigureAwait(false);
                    if (target is not null && target.Wants(notification.Reason))
                    {
                        await SendAsync(notification, target, stoppingToken).ConfigureAwait(false);
                    }
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    queue.Metrics.Failed.WithLabels(notification.Reason).Inc();
                    logger.LogWarning("Notification {Reason} of {Namespace}/{Name} not sent: {Error}", notification.Reason,
                        notification.Namespace, notification.Name, e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    public override void Dispose()
    {
        http.Dispose();
        base.Dispose();
    }

    private async Task SendAsync(Notification notification, NotificationTarget target, CancellationToken ct)
    {
        var body = NotificationBody.Render(notification, target.Format);
        string problem = "";
        for (var attempt = 1; attempt <= delivery.Attempts; attempt++)
        {
            if (attempt > 1)
            {
                await Task.Delay(delivery.FirstRetryDelay * Math.Pow(2, attempt - 2), clock, ct).ConfigureAwait(false);
            }

            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(delivery.AttemptTimeout);
            try
            {
                using var content = new StringContent(body, Encoding.UTF8, "application/json");
                using var response = await http.PostAsync(target.Url, content, timeout.Token).ConfigureAwait(false);
                if (response.IsSuccessStatusCode)
                {
                    queue.Metrics.Sent.WithLabels(notification.Reason).Inc();
                    return;
                }

                problem = $"HTTP {(int)response.StatusCode}";
                if (!IsTransient(response.StatusCode))
                {
                    break;
                }
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                problem = $"no answer within {delivery.AttemptTimeout.TotalSeconds:0.#}s";
            }
            catch (HttpRequestException e)
            {
                // HttpRequestException names host and port at most, never the path that holds a webhook's secret.
                problem = e.HttpRequestError.ToString();
            }
        }

        queue.Metrics.Failed.WithLabels(notification.Reason).Inc();
        logger.LogWarning("Notification {Reason} of {Namespace}/{Name} to {Webhook} given up: {Problem}",
            notification.Reason, notification.Namespace, notification.Name, NotificationTarget.Redact(target.Url), problem);
    }

    private static bool IsTransient(HttpStatusCode status) =>
        (int)status >= 500 || status is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests;
}
