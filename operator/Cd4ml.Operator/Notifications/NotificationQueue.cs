using System.Threading.Channels;
using Prometheus;

namespace Cd4ml.Operator.Notifications;

/// <summary>
/// The bounded hand-off between event recording (reconciles) and <see cref="NotificationSender"/>: enqueueing never
/// waits; when the sender falls behind (a slow or dead receiver) new notifications are dropped and counted.
/// </summary>
public sealed class NotificationQueue
{
    private readonly Channel<Notification> channel;

    public NotificationQueue(NotificationMetrics metrics, int capacity = 1000)
    {
        Metrics = metrics;
        channel = Channel.CreateBounded<Notification>(new BoundedChannelOptions(capacity)
        {
            FullMode = BoundedChannelFullMode.Wait, // with Wait, TryWrite fails when full instead of blocking
            SingleReader = true,
        });
    }

    public NotificationMetrics Metrics { get; }

    public ChannelReader<Notification> Reader => channel.Reader;

    /// <returns>False when the queue is full and the notification was dropped.</returns>
    public bool TryEnqueue(Notification notification)
    {
        if (channel.Writer.TryWrite(notification))
        {
            return true;
        }

        Metrics.Dropped.WithLabels(notification.Reason).Inc();
        return false;
    }
}

/// <summary>Notification counters, on the operator's registry so /metrics shows them.</summary>
public sealed class NotificationMetrics
{
    public NotificationMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        Sent = factory.CreateCounter("cd4ml_notifications_sent_total",
            "Webhook notifications the receiver accepted (2xx).", "reason");
        Failed = factory.CreateCounter("cd4ml_notifications_failed_total",
            "Webhook notifications given up after the last retry or refused with a 4xx.", "reason");
        Dropped = factory.CreateCounter("cd4ml_notifications_dropped_total",
            "Webhook notifications dropped because the queue was full (the receiver is slow or down).", "reason");
    }

    public Counter Sent { get; }

    public Counter Failed { get; }

    public Counter Dropped { get; }
}
