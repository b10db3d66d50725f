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
    public const string FeedbackMatched = "matched";
    public const string FeedbackUnknown = "unknown";

    private static readonly double[] DurationBuckets = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

    private readonly IReadOnlyDictionary<string, Counter.Child> predictions;
    private readonly Histogram.Child duration;
    private readonly Gauge.Child ready;
    private readonly Counter logRows;
    private readonly Counter logDropped;
    private readonly Counter feedback;
    private readonly Gauge liveRmse;
    private readonly Gauge liveMae;
    private readonly Gauge liveAccuracy;
    private readonly string[] labels;
    private readonly string[] labelNames = ["model", "version", "track", "deployment"];

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

        labels = [model, version, track, deployment];
        string[] names = labelNames;
        logRows = factory.CreateCounter("cd4ml_prediction_log_rows_total", "Rows written to the prediction log (kind predictions) or the feedback store (kind feedback).",
            new CounterConfiguration { LabelNames = [.. names, "kind"] });
        logDropped = factory.CreateCounter("cd4ml_prediction_log_dropped_total",
            "Rows not logged: the buffer was full or S3 failed (kind predictions or feedback). Predictions are answered regardless.",
            new CounterConfiguration { LabelNames = [.. names, "kind"] });
        feedback = factory.CreateCounter("cd4ml_feedback_total", "Feedback rows: matched (joined to a prediction this server logged) or unknown.",
            new CounterConfiguration { LabelNames = [.. names, "outcome"] });
        // No series until feedback has been joined: an absent value is not a perfect one.
        var live = new GaugeConfiguration { LabelNames = names, SuppressInitialValue = true };
        liveRmse = factory.CreateGauge("cd4ml_live_rmse", "RMSE of the last 1000 predictions joined with feedback (regression).", live);
        liveMae = factory.CreateGauge("cd4ml_live_mae", "MAE of the last 1000 predictions joined with feedback (regression).", live);
        liveAccuracy = factory.CreateGauge("cd4ml_live_accuracy", "Accuracy of the last 1000 predictions joined with feedback (classification).", live);
        foreach (var kind in new[] { PredictionLog.PredictionsKind, PredictionLog.FeedbackKind })
        {
            LogRows(kind);
            LogDropped(kind);
        }

        Feedback(FeedbackMatched);
        Feedback(FeedbackUnknown);
    }

    /// <summary>
    /// Exports <paramref name="drift"/> from now on, computed at each scrape: <c>cd4ml_drift_window_rows</c> always,
    /// <c>cd4ml_feature_drift</c> (per feature) and <c>cd4ml_prediction_drift</c> only while the window holds at least
    /// <paramref name="minimumRows"/> rows (a PSI over a handful of rows is noise, and no series is not a zero).
    /// </summary>
    internal void ExportDrift(DriftMonitor drift, long minimumRows)
    {
        var factory = Metrics.WithCustomRegistry(Registry);
        var rows = factory.CreateGauge("cd4ml_drift_window_rows", "Rows scored within the drift window (CD4ML_DRIFT_WINDOW).",
            new GaugeConfiguration { LabelNames = labelNames }).WithLabels(labels);
        var features = factory.CreateGauge("cd4ml_feature_drift",
            "Population stability index of a feature's live values in the drift window against its training distribution (profile.json).",
            new GaugeConfiguration { LabelNames = [.. labelNames, "feature"], SuppressInitialValue = true });
        var prediction = factory.CreateGauge("cd4ml_prediction_drift",
            "Population stability index of the predictions in the drift window against the predictions on the validation data (profile.json).",
            new GaugeConfiguration { LabelNames = labelNames, SuppressInitialValue = true });
        var names = drift.Features;
        Registry.AddBeforeCollectCallback(() =>
        {
            var (count, psi, predicted) = drift.Measure();
            rows.Set(count);
            for (var i = 0; i < names.Count; i++)
            {
                string[] featureLabels = [.. labels, names[i]];
                if (count >= minimumRows)
                {
                    features.WithLabels(featureLabels).Set(psi[i]);
                }
                else
                {
                    features.RemoveLabelled(featureLabels);
                }
            }

            if (count >= minimumRows)
            {
                prediction.WithLabels(labels).Set(predicted);
            }
            else
            {
                prediction.RemoveLabelled(labels);
            }
        });
    }

    public Counter.Child LogRows(string kind) => logRows.WithLabels([.. labels, kind]);

    public Counter.Child LogDropped(string kind) => logDropped.WithLabels([.. labels, kind]);

    public Counter.Child Feedback(string outcome) => feedback.WithLabels([.. labels, outcome]);

    public void SetLiveRegression(double rmse, double mae)
    {
        liveRmse.WithLabels(labels).Set(rmse);
        liveMae.WithLabels(labels).Set(mae);
    }

    public void SetLiveAccuracy(double accuracy) => liveAccuracy.WithLabels(labels).Set(accuracy);

    public CollectorRegistry Registry { get; } = Metrics.NewCustomRegistry();

    public void Observe(string outcome, TimeSpan elapsed)
    {
        predictions[outcome].Inc();
        duration.Observe(elapsed.TotalSeconds);
    }

    public void SetReady(bool value) => ready.Set(value ? 1 : 0);
}
