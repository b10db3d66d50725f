using System.Globalization;
using Cd4ml.Api.V1Alpha1;

namespace Cd4ml.Operator.Rollouts;

public enum MeasurementPhase
{
    Successful,
    Failed,
    Inconclusive,
    Error,
}

/// <summary>What one metric measured once, and what that means for the rollout.</summary>
public sealed record Verdict(string Metric, MeasurementPhase Phase, double? Value, string Threshold, string Message);

/// <summary>
/// Judges one measurement. Too little evidence (no data, NaN, fewer than minSampleCount requests) is Inconclusive and
/// never Failed; a query that could not run is Error. Only a real number beyond a threshold fails.
/// </summary>
public static class AnalysisJudge
{
    public static Verdict Judge(AnalysisMetric metric, QueryResult canary, QueryResult sampleCount, int minSampleCount,
        QueryResult? stable = null)
    {
        var threshold = Threshold(metric);
        Verdict Make(MeasurementPhase phase, string message) =>
            new(metric.Name, phase, canary.HasNumber ? canary.Value : null, threshold, message);

        if (canary.Status == QueryStatus.Error)
        {
            return Make(MeasurementPhase.Error, $"{metric.Name}: query failed: {canary.Message}");
        }

        if (sampleCount.Status == QueryStatus.Error)
        {
            return Make(MeasurementPhase.Error, $"{metric.Name}: sample count query failed: {sampleCount.Message}");
        }

        var requests = sampleCount.HasNumber ? sampleCount.Value : 0;
        if (requests < minSampleCount)
        {
            return Make(MeasurementPhase.Inconclusive,
                $"{metric.Name}: {Format(requests)} canary requests in the window, fewer than minSampleCount {minSampleCount}");
        }

        if (!canary.HasNumber)
        {
            return Make(MeasurementPhase.Inconclusive, $"{metric.Name}: no data ({canary.Message ?? "NaN"})");
        }

        var value = canary.Value;
        if (metric.Max is { } max && value > max)
        {
            return Make(MeasurementPhase.Failed, $"{metric.Name}={Format(value)} above max {Format(max)}");
        }

        if (metric.Min is { } min && value < min)
        {
            return Make(MeasurementPhase.Failed, $"{metric.Name}={Format(value)} below min {Format(min)}");
        }

        if (metric.MaxIncreaseOverStable is { } increase)
        {
            if (stable is null || stable.Status == QueryStatus.Error)
            {
                return Make(MeasurementPhase.Error, $"{metric.Name}: stable query failed: {stable?.Message}");
            }

            if (!stable.HasNumber)
            {
                return Make(MeasurementPhase.Inconclusive, $"{metric.Name}: no stable data to compare with");
            }

            if (value - stable.Value > increase)
            {
                return Make(MeasurementPhase.Failed,
                    $"{metric.Name}={Format(value)} exceeds stable {Format(stable.Value)} by more than {Format(increase)}");
            }
        }

        return Make(MeasurementPhase.Successful, $"{metric.Name}={Format(value)} within {threshold}");
    }

    /// <summary>The outcome of a round of measurements: Failed beats Error beats Inconclusive beats Successful.</summary>
    public static MeasurementPhase Combine(IEnumerable<Verdict> verdicts)
    {
        var phases = verdicts.Select(v => v.Phase).ToList();
        return phases.Contains(MeasurementPhase.Failed) ? MeasurementPhase.Failed
            : phases.Contains(MeasurementPhase.Error) ? MeasurementPhase.Error
            : phases.Contains(MeasurementPhase.Inconclusive) ? MeasurementPhase.Inconclusive
            : MeasurementPhase.Successful;
    }

    public static string Threshold(AnalysisMetric metric)
    {
        var parts = new List<string>();
        if (metric.Max is { } max)
        {
            parts.Add($"max {Format(max)}");
        }

        if (metric.Min is { } min)
        {
            parts.Add($"min {Format(min)}");
        }

        if (metric.MaxIncreaseOverStable is { } increase)
        {
            parts.Add($"max +{Format(increase)} over stable");
        }

        return parts.Count == 0 ? "none" : string.Join(", ", parts);
    }

    public static string Format(double value) => value.ToString("0.####", CultureInfo.InvariantCulture);
}
