using Cd4ml.Api.V1Alpha1;
using Cd4ml.Runtime.Entities;
using Cd4ml.Runtime.Events;

namespace Cd4ml.Operator.Rollouts;

/// <summary>
/// What one monitoring check read from Prometheus: PSI per feature and of the predictions for the stable version over
/// the window, and live quality of every version and track that reported some; or why it could not read.
/// </summary>
public sealed record MonitoringReading(
    IReadOnlyList<FeatureDrift> Features,
    double? PredictionDrift,
    IReadOnlyList<LiveQualityStatus> LiveQuality,
    string? Error = null)
{
    public static MonitoringReading Failed(string error) => new([], null, [], error);
}

/// <summary>What a monitoring check changes besides status: events, when to check next, and the Drifting state (null: unknown or off).</summary>
public sealed record MonitoringPlan(
    IReadOnlyList<(EventType Type, string Reason, string Message)> Events,
    TimeSpan? Requeue,
    bool? Drifting);

/// <summary>
/// The monitoring step of a Deployment with spec.monitoring: every checkInterval the reconciler reads the drift and
/// live-quality figures from Prometheus (outside this class) and <see cref="Plan"/> turns them into status.monitoring,
/// the <see cref="DriftingCondition"/> condition and the DriftDetected / DriftResolved events. Pure.
/// </summary>
public static class MonitoringCheck
{
    public const string DriftingCondition = "Drifting";
    public const string DriftDetectedReason = "DriftDetected";
    public const string DriftResolvedReason = "DriftResolved";
    public const int MaxFeatures = 5;

    /// <summary>Live-quality metrics the model server exports (<c>cd4ml_live_&lt;metric&gt;</c>).</summary>
    public static readonly IReadOnlyList<string> LiveQualityMetrics = ["rmse", "mae", "accuracy"];

    /// <summary>True when the figures in status are older than checkInterval (or there are none).</summary>
    public static bool Due(ModelDeploymentStatus status, MonitoringSettings settings, DateTime now) =>
        status.Monitoring?.LastCheckTime is not { } last || now - last >= settings.CheckInterval;

    /// <summary>
    /// Updates <paramref name="status"/> (the plan's copy) from <paramref name="reading"/>, or, without one (not due,
    /// or nothing to read), keeps the last figures. <paramref name="prometheus"/> is the address the figures come from.
    /// </summary>
    public static MonitoringPlan Plan(ModelDeploymentStatus status, MonitoringSettings? settings, string? prometheus,
        MonitoringReading? reading, DateTime now, long? generation)
    {
        if (settings is null)
        {
            status.Monitoring = null;
            status.Remove(DriftingCondition);
            return new MonitoringPlan([], null, null);
        }

        var monitoring = status.Monitoring ??= new MonitoringStatus();
        monitoring.LogUri = settings.LogUri;
        monitoring.LogSampleRate = settings.LogSampleRate;
        var wasDrifting = status.IsTrue(DriftingCondition);
        var window = DurationText.ToPromQl(settings.Window);
        var threshold = AnalysisJudge.Format(settings.DriftMax);
        bool? drifting;
        if (prometheus is null)
        {
            drifting = Unknown(status, "NoPrometheus",
                "no Prometheus to read drift from: set spec.strategy.canary.analysis.prometheus.address or the platform default prometheus.address",
                generation, now);
        }
        else if (status.StableVersion is not { } stable)
        {
            drifting = Unknown(status, "NoStableVersion", "no version is served yet", generation, now);
        }
        else if (reading is null)
        {
            // Not due: the condition stands as the last check left it.
            drifting = status.Find(DriftingCondition)?.Status switch { "True" => true, "False" => false, _ => null };
        }
        else
        {
            monitoring.LastCheckTime = now;
            if (reading.Error is { } error)
            {
                drifting = Unknown(status, "PrometheusError", $"drift of {stable} could not be read: {error}", generation, now);
            }
            else
            {
                monitoring.Drift = [.. reading.Features.Where(f => double.IsFinite(f.Value))
                    .OrderByDescending(f => f.Value).ThenBy(f => f.Feature, StringComparer.Ordinal).Take(MaxFeatures)];
                monitoring.PredictionDrift = reading.PredictionDrift is { } p && double.IsFinite(p) ? p : null;
                monitoring.LiveQuality = [.. reading.LiveQuality
                    .Where(q => double.IsFinite(q.Value) && (q.Version == stable || q.Version == status.CanaryVersion))
                    .OrderBy(q => q.Track == ServingWorkloads.Stable ? 0 : 1).ThenBy(q => q.Version, StringComparer.Ordinal)
                    .ThenBy(q => q.Metric, StringComparer.Ordinal)];
                drifting = Judge(status, monitoring, settings, stable, window, threshold, generation, now);
            }
        }

        var events = new List<(EventType, string, string)>();
        if (drifting == true && !wasDrifting)
        {
            events.Add((EventType.Warning, DriftDetectedReason, status.Find(DriftingCondition)!.Message ?? ""));
        }
        else if (drifting == false && wasDrifting)
        {
            events.Add((EventType.Normal, DriftResolvedReason, status.Find(DriftingCondition)!.Message ?? ""));
        }

        var next = monitoring.LastCheckTime is { } last ? last + settings.CheckInterval - now : settings.CheckInterval;
        return new MonitoringPlan(events, next < TimeSpan.FromSeconds(1) ? TimeSpan.FromSeconds(1) : next, drifting);
    }

    private static bool? Judge(ModelDeploymentStatus status, MonitoringStatus monitoring, MonitoringSettings settings,
        string stable, string window, string threshold, long? generation, DateTime now)
    {
        if (monitoring.Drift is [] && monitoring.PredictionDrift is null)
        {
            return Unknown(status, "NoDriftData",
                $"no drift figures for {stable} (stable) in the last {window}: the model has no training profile (profile.json), " +
                "or the stable track served no traffic", generation, now);
        }

        var above = monitoring.Drift!.Where(f => f.Value > settings.DriftMax)
            .Select(f => $"feature {f.Feature} PSI {AnalysisJudge.Format(f.Value)}").ToList();
        if (monitoring.PredictionDrift is { } predictions && predictions > settings.DriftMax)
        {
            above.Add($"prediction PSI {AnalysisJudge.Format(predictions)}");
        }

        if (above.Count > 0)
        {
            status.Set(DriftingCondition, true, "DriftAboveThreshold",
                $"{stable} (stable), last {window}: {string.Join(", ", above)} above drift.max {threshold}", generation, now);
            return true;
        }

        var highest = monitoring.Drift is [var top, ..] ? $" (highest: {top.Feature} {AnalysisJudge.Format(top.Value)})" : "";
        var predictionText = monitoring.PredictionDrift is { } p ? $"; prediction PSI {AnalysisJudge.Format(p)}" : "";
        status.Set(DriftingCondition, false, "NoDrift",
            $"{stable} (stable), last {window}: no feature above drift.max {threshold}{highest}{predictionText}", generation, now);
        return false;
    }

    private static bool? Unknown(ModelDeploymentStatus status, string reason, string message, long? generation, DateTime now)
    {
        status.Set(DriftingCondition, null, reason, message, generation, now);
        return null;
    }
}
