using Prometheus;

namespace Cd4ml.Runtime.Metrics;

/// <summary>
/// Every metric the runtime exports, created on one <see cref="CollectorRegistry"/> so tests can use a private registry.
/// </summary>
public sealed class RuntimeMetrics
{
    public RuntimeMetrics(CollectorRegistry? registry = null)
    {
        Registry = registry ?? Prometheus.Metrics.DefaultRegistry;
        var factory = Prometheus.Metrics.WithCustomRegistry(Registry);

        ReconcileTotal = factory.CreateCounter("cd4ml_reconcile_total",
            "Reconciles by controller and result (done, requeue, retry, error, terminal).", "controller", "result");
        ReconcileErrors = factory.CreateCounter("cd4ml_reconcile_errors_total",
            "Reconciles that threw or asked for a retry.", "controller");
        ReconcileDuration = factory.CreateHistogram("cd4ml_reconcile_duration_seconds",
            "Time spent in one reconcile.", new HistogramConfiguration
            {
                LabelNames = ["controller"],
                Buckets = Histogram.ExponentialBuckets(0.005, 2, 14),
            });
        WorkQueueDepth = factory.CreateGauge("cd4ml_workqueue_depth", "Keys waiting in the work queue.", "name");
        WorkQueueAdds = factory.CreateCounter("cd4ml_workqueue_adds_total", "Keys added to the work queue.", "name");
        WorkQueueRetries = factory.CreateCounter("cd4ml_workqueue_retries_total", "Rate-limited re-adds.", "name");
        WorkQueueLongestRunning = factory.CreateGauge("cd4ml_workqueue_longest_running_processor_seconds",
            "How long the oldest in-flight key has been processed.", "name");
        WatchRestarts = factory.CreateCounter("cd4ml_watch_restarts_total",
            "Watch restarts by kind and reason (timeout, expired, error, not_served).", "kind", "reason");
        Leader = factory.CreateGauge("cd4ml_leader", "1 while this instance holds the leader lease.", "identity");
    }

    public CollectorRegistry Registry { get; }

    public Counter ReconcileTotal { get; }

    public Counter ReconcileErrors { get; }

    public Histogram ReconcileDuration { get; }

    public Gauge WorkQueueDepth { get; }

    public Counter WorkQueueAdds { get; }

    public Counter WorkQueueRetries { get; }

    public Gauge WorkQueueLongestRunning { get; }

    public Counter WatchRestarts { get; }

    public Gauge Leader { get; }
}
