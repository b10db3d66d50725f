using Prometheus;

namespace Cd4ml.Serving;

/// <summary>
/// The server's Prometheus metrics, in a registry of its own so several servers in one process (tests) each expose
/// only their own series. All outcome series exist from start-up with value 0, so rate() works from the first scrape.
/// Every series carries the label <c>deployment</c> (the cd4ml Deployment, empty when not set), so that analysis can
/// select one Deployment's traffic when two serve the same version in one namespace.
/// </summary>
public sealed class ServingMetrics
{
    public const string Success = "success";
    public const string ClientError = "client_error";
    public const string ServerError = "server_error";

    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly IReadOnlyDictionary<string, Counter.Child> predictions;
    private readonly Histogram.Child duration;
    private readonly Gauge.Child ready;

    public ServingMetrics(string model, string version, string track, string deployment)
    {
        var factory = Metrics.WithCustomRegistry(Registry);
        var counter = factory.CreateCounter("cd4ml_predictions_total", "Prediction requests by outcome (success, client_error, server_error).",
            new CounterConfiguration { LabelNames = ["model", "version", "track", "deployment", "outcome"] });
        predictions = new[] { Success, ClientError, ServerError }.ToDictionary(o => o, o => counter.WithLabels(model, version, track, deployment, o));
        duration = factory.CreateHistogram("cd4ml_prediction_duration_seconds", "Time to answer a prediction request, any outcome.",
            new HistogramConfiguration { LabelNames = ["model", "version", "track", "deployment"], Buckets = DurationBuckets })
            .WithLabels(model, version, track, deployment);
        ready = factory.CreateGauge("cd4ml_model_ready", "1 when the model is loaded, verified and passed the skew check.",
            new GaugeConfiguration { LabelNames = ["model", "version", "deployment"] }).WithLabels(model, version, deployment);
    }

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public void Observe(string outcome, TimeSpan elapsed)
    {
        predictions[outcome].Inc();
        duration.Observe(elapsed.TotalSeconds);
    }

    public void SetReady(bool value) => ready.Set(value ? 1 : 0);
}
