using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Operator.Rollouts;

/// <summary>Which pods a query is about: one track of one deployment serving one ModelVersion.</summary>
public sealed record QueryTarget(string Namespace, string Deployment, string Model, string Version, string Track);

/// <summary>
/// PromQL for canary analysis over the serving contract's metrics (<c>cd4ml_predictions_total</c>,
/// <c>cd4ml_prediction_duration_seconds</c>).
/// </summary>
public static class AnalysisQueries
{
    /// <summary>
    /// Selects one track of one version of one cd4ml Deployment: the model server labels its series with
    /// <c>deployment</c> (from CD4ML_DEPLOYMENT), so two Deployments serving the same version are never judged on each
    /// other's traffic. <c>namespace=~"ns|"</c> also matches series without a namespace label, for scrape configs
    /// that do not add one.
    /// </summary>
    public static string Selector(QueryTarget target) =>
        $"deployment=\"{Escape(target.Deployment)}\",model=\"{Escape(target.Model)}\",version=\"{Escape(target.Version)}\"," +
        $"track=\"{Escape(target.Track)}\",namespace=~\"{Escape(target.Namespace)}|\"";

    /// <summary>Requests served in the window, whatever their outcome.</summary>
    public static string SampleCount(QueryTarget target, TimeSpan window) =>
        $"sum(increase(cd4ml_predictions_total{{{Selector(target)}}}[{DurationText.ToPromQl(window)}]))";

    /// <summary>
    /// Server errors / all requests. A server that never failed has no server_error series yet, hence <c>or vector(0)</c>
    /// on the numerator; no requests at all still gives no data (or NaN), which is inconclusive.
    /// </summary>
    public static string ErrorRate(QueryTarget target, TimeSpan window)
    {
        var range = DurationText.ToPromQl(window);
        var selector = Selector(target);
        return $"(sum(rate(cd4ml_predictions_total{{{selector},outcome=\"server_error\"}}[{range}])) or vector(0))" +
               $" / sum(rate(cd4ml_predictions_total{{{selector}}}[{range}]))";
    }

    public static string LatencyP99(QueryTarget target, TimeSpan window) =>
        $"histogram_quantile(0.99, sum by (le) (rate(cd4ml_prediction_duration_seconds_bucket{{{Selector(target)}}}" +
        $"[{DurationText.ToPromQl(window)}])))";

    /// <summary>
    /// The highest population stability index of the track's inputs (<c>cd4ml_feature_drift</c>, per feature) and of its
    /// predictions (<c>cd4ml_prediction_drift</c>) against the training profile, averaged over the window and taken as
    /// the worst pod's. No profile or no traffic: no data.
    /// </summary>
    public static string Drift(QueryTarget target, TimeSpan window) =>
        $"max({FeatureDrift(target, window)} or {PredictionDrift(target, window)})";

    /// <summary>PSI per feature (label <c>feature</c>) over the window, the worst pod's.</summary>
    public static string FeatureDrift(QueryTarget target, TimeSpan window) =>
        $"max by (feature) (avg_over_time(cd4ml_feature_drift{{{Selector(target)}}}[{DurationText.ToPromQl(window)}]))";

    /// <summary>PSI of the prediction distribution over the window, the worst pod's.</summary>
    public static string PredictionDrift(QueryTarget target, TimeSpan window) =>
        $"max(avg_over_time(cd4ml_prediction_drift{{{Selector(target)}}}[{DurationText.ToPromQl(window)}]))";

    /// <summary>
    /// The track's live error where feedback has arrived, so that higher is worse for every task: RMSE for regression
    /// (<c>cd4ml_live_rmse</c>), 1 − accuracy for classification (<c>cd4ml_live_accuracy</c>); the worst pod's latest
    /// value in the window. No feedback yet: no data (inconclusive).
    /// </summary>
    public static string LiveQuality(QueryTarget target, TimeSpan window)
    {
        var range = DurationText.ToPromQl(window);
        var selector = Selector(target);
        return $"max(last_over_time(cd4ml_live_rmse{{{selector}}}[{range}]) or (1 - last_over_time(cd4ml_live_accuracy{{{selector}}}[{range}])))";
    }

    /// <summary>One live-quality metric (rmse, mae or accuracy) of every version and track of a deployment, latest in the window.</summary>
    public static string LiveQualityByTrack(string @namespace, string deployment, string metric, TimeSpan window) =>
        $"max by (version, track) (last_over_time(cd4ml_live_{metric}{{deployment=\"{Escape(deployment)}\"," +
        $"namespace=~\"{Escape(@namespace)}|\"}}[{DurationText.ToPromQl(window)}]))";

    /// <summary>The query a metric runs for <paramref name="target"/>: its built-in or its own with placeholders filled.</summary>
    public static string For(AnalysisMetric metric, QueryTarget target, TimeSpan window) => metric.Builtin switch
    {
        BuiltinMetric.ErrorRate => ErrorRate(target, window),
        BuiltinMetric.LatencyP99 => LatencyP99(target, window),
        BuiltinMetric.Drift => Drift(target, window),
        BuiltinMetric.LiveQuality => LiveQuality(target, window),
        _ when !string.IsNullOrWhiteSpace(metric.Query) => Fill(metric.Query, target, window),
        _ => throw new ArgumentException($"Metric {metric.Name} has neither builtin nor query."),
    };

    public static string Fill(string query, QueryTarget target, TimeSpan window) => query
        .Replace("{{namespace}}", target.Namespace, StringComparison.Ordinal)
        .Replace("{{deployment}}", target.Deployment, StringComparison.Ordinal)
        .Replace("{{model}}", target.Model, StringComparison.Ordinal)
        .Replace("{{version}}", target.Version, StringComparison.Ordinal)
        .Replace("{{track}}", target.Track, StringComparison.Ordinal)
        .Replace("{{window}}", DurationText.ToPromQl(window), StringComparison.Ordinal);

    private static string Escape(string value) => value.Replace("\\", "\\\\", StringComparison.Ordinal)
        .Replace("\"", "\\\"", StringComparison.Ordinal);
}
