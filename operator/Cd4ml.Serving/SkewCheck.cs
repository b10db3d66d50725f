using System.Globalization;
using Cd4ml.Training;

namespace Cd4ml.Serving;

/// <summary>A holdout metric the server could not reproduce within the tolerance.</summary>
public sealed record SkewViolation(string Metric, double Recorded, double? Observed)
{
    public override string ToString() => Observed is { } observed
        ? string.Create(CultureInfo.InvariantCulture,
            $"{Metric}: recorded {Recorded:G6}, observed {observed:G6} (relative difference {Math.Abs(observed - Recorded) / Math.Max(Math.Abs(Recorded), double.Epsilon):G3})")
        : string.Create(CultureInfo.InvariantCulture, $"{Metric}: recorded {Recorded:G6}, observed undefined");
}

/// <summary>
/// The training/serving skew check: the server re-scores holdout.csv and must reproduce the metrics the trainer
/// recorded on exactly those rows. Same model, same rows and same formulas give the same numbers, so any real
/// difference means the server reads inputs or runs the model differently from the trainer.
/// </summary>
public static class SkewCheck
{
    /// <summary>Differences below this are float noise, whatever the tolerance (a recorded 0 would otherwise allow nothing).</summary>
    private const double AbsoluteFloor = 1e-9;

    public static IReadOnlyList<SkewViolation> Compare(MetricGroup recorded, int observedRows, IReadOnlyDictionary<string, double> observed,
        double tolerance)
    {
        var violations = new List<SkewViolation>();
        if (observedRows != recorded.Rows)
        {
            violations.Add(new SkewViolation("rows", recorded.Rows, observedRows));
        }

        foreach (var (metric, value) in recorded.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
        {
            if (!observed.TryGetValue(metric, out var actual) || !double.IsFinite(actual))
            {
                violations.Add(new SkewViolation(metric, value, null));
            }
            else if (Math.Abs(actual - value) > Math.Max(tolerance * Math.Abs(value), AbsoluteFloor))
            {
                violations.Add(new SkewViolation(metric, value, actual));
            }
        }

        return violations;
    }
}
