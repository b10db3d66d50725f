using Prometheus;

namespace Cd4ml.Operator.Rollouts;

/// <summary>Rollout metrics, on the same registry as the runtime's so /metrics shows both.</summary>
public sealed class RolloutMetrics
{
    public RolloutMetrics(CollectorRegistry registry)
    {
        var factory = Prometheus.Metrics.WithCustomRegistry(registry);
        Rollbacks = factory.CreateCounter("cd4ml_rollbacks_total",
            "Canary rollouts rolled back (automatically or by cd4ml.io/abort).", "namespace", "deployment");
        CanaryWeight = factory.CreateGauge("cd4ml_canary_weight",
            "Percent of traffic the canary gets: its share of pods, or its HTTPRoute weight with GatewayApi routing.", "namespace", "deployment");
        Measurements = factory.CreateCounter("cd4ml_analysis_measurements_total",
            "Canary analysis measurements by outcome.", "namespace", "deployment", "phase");
        Drifting = factory.CreateGauge("cd4ml_deployment_drifting",
            "1 while a Deployment's Drifting condition is True (a feature's or the predictions' PSI above spec.monitoring.drift.max), " +
            "0 while False; absent when unknown or monitoring is off.", "namespace", "deployment");
    }

    public Counter Rollbacks { get; }

    public Gauge CanaryWeight { get; }

    public Counter Measurements { get; }

    public Gauge Drifting { get; }
}
