using Prometheus;

namespace Cd4ml.Operator.Training;

/// <summary>Training metrics, on the same registry as the runtime's so /metrics shows both.</summary>
public sealed class TrainingMetrics
{
    public TrainingMetrics(CollectorRegistry registry)
    {
        Retrains = Prometheus.Metrics.WithCustomRegistry(registry).CreateCounter("cd4ml_retrains_total",
            "Attempts a finished TrainingRun started by itself, by reason: Drift (retrainOn.drift) or DatasetChange (retrainOnDatasetChange).",
            "namespace", "trainingrun", "reason");
    }

    public Counter Retrains { get; }
}
