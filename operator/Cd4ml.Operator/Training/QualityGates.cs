using System.Globalization;
using Cd4ml.Api.V1Alpha1;
using ApiTask = Cd4ml.Api.V1Alpha1.MlTask;

namespace Cd4ml.Operator.Training;

/// <summary>
/// Pure decisions about a finished attempt's metrics: which metric names make sense for a task, which way each one
/// improves, the headline, the quality gates and the baseline ratchet.
/// </summary>
public static class QualityGates
{
    private static readonly string[] RegressionMetrics = ["rmse", "mae", "r2", "nwrmsle"];
    private static readonly string[] BinaryMetrics = ["accuracy", "auc", "f1", "logLoss"];
    private static readonly string[] MulticlassMetrics = ["accuracy", "macroAccuracy", "logLoss"];
    private static readonly string[] CountMetrics = ["trainRows", "validationRows", "droppedRows", "holdoutRows"];
    private static readonly HashSet<string> LowerIsBetter = ["rmse", "mae", "nwrmsle", "logLoss"];
    private static readonly HashSet<string> HigherIsBetter = ["r2", "accuracy", "auc", "f1", "macroAccuracy"];

    public static IReadOnlyList<string> MetricsFor(ApiTask task) => task switch
    {
        ApiTask.Regression => RegressionMetrics,
        ApiTask.BinaryClassification => BinaryMetrics,
        _ => MulticlassMetrics,
    };

    /// <summary>
    /// True for names the trainer reports for this task: <c>rmse</c>, <c>trainRows</c>, <c>holdout.rmse</c>,
    /// <c>worstSlice.rmse</c>, <c>slice.&lt;column&gt;.&lt;value&gt;.rmse</c>.
    /// </summary>
    public static bool IsKnownMetric(ApiTask task, string name)
    {
        if (CountMetrics.Contains(name) || MetricsFor(task).Contains(name))
        {
            return true;
        }

        foreach (var prefix in new[] { "holdout.", "worstSlice." })
        {
            if (name.StartsWith(prefix, StringComparison.Ordinal))
            {
                return MetricsFor(task).Contains(name[prefix.Length..]);
            }
        }

        var parts = name.Split('.');
        return parts.Length >= 4 && parts[0] == "slice" && MetricsFor(task).Contains(parts[^1]);
    }

    /// <summary>Whether a larger value is better; null for metrics without a known direction (counts, custom names).</summary>
    public static bool? IsHigherBetter(string metric)
    {
        var name = metric[(metric.LastIndexOf('.') + 1)..];
        return HigherIsBetter.Contains(name) ? true : LowerIsBetter.Contains(name) ? false : null;
    }

    /// <summary>The one number shown in <c>kubectl get</c>: rmse for regression, auc (else accuracy) for binary, accuracy for multiclass.</summary>
    public static string? Headline(ApiTask task, IReadOnlyDictionary<string, double>? metrics)
    {
        if (metrics is null)
        {
            return null;
        }

        string[] candidates = task switch
        {
            ApiTask.Regression => ["rmse"],
            ApiTask.BinaryClassification => ["auc", "accuracy"],
            _ => ["accuracy"],
        };
        return candidates.Where(metrics.ContainsKey).Select(name => $"{name}={Format(metrics[name])}").FirstOrDefault();
    }

    /// <summary>Every gate against the metrics; a metric the run did not report fails its gate.</summary>
    public static IReadOnlyList<GateResult> Evaluate(IEnumerable<QualityGate>? gates, IReadOnlyDictionary<string, double> metrics) =>
        (gates ?? []).Select(gate => Evaluate(gate, metrics)).ToList();

    public static GateResult Evaluate(QualityGate gate, IReadOnlyDictionary<string, double> metrics)
    {
        var result = new GateResult { Metric = gate.Metric, Comparison = gate.Comparison.ToString(), Threshold = gate.Value };
        if (!metrics.TryGetValue(gate.Metric, out var value))
        {
            result.Message = $"{gate.Metric} was not reported by the trainer (gate: {Symbol(gate.Comparison)} {Format(gate.Value)})";
            return result;
        }

        result.Value = value;
        result.Passed = gate.Comparison switch
        {
            Comparison.LessThan => value < gate.Value,
            Comparison.LessThanOrEqual => value <= gate.Value,
            Comparison.GreaterThan => value > gate.Value,
            _ => value >= gate.Value,
        };
        result.Message = $"{gate.Metric} = {Format(value)} {(result.Passed ? "meets" : "fails")} {Symbol(gate.Comparison)} {Format(gate.Value)}";
        return result;
    }

    /// <summary>
    /// The ratchet: the new value may be worse than the baseline by at most <c>tolerance</c> (relative). Without a
    /// baseline (no Deployment, nothing stable yet, metric not recorded) the gate passes and says why.
    /// </summary>
    public static GateResult EvaluateBaseline(BaselineGate gate, IReadOnlyDictionary<string, double> metrics, double? baseline,
        string baselineSource)
    {
        var higherIsBetter = gate.HigherIsBetter ?? IsHigherBetter(gate.Metric) ?? false;
        var tolerance = gate.Tolerance ?? 0;
        var result = new GateResult
        {
            Metric = gate.Metric,
            Comparison = higherIsBetter ? nameof(Comparison.GreaterThanOrEqual) : nameof(Comparison.LessThanOrEqual),
        };
        metrics.TryGetValue(gate.Metric, out var value);
        result.Value = metrics.ContainsKey(gate.Metric) ? value : null;
        if (baseline is not { } reference)
        {
            result.Passed = true;
            result.Message = $"baseline: {baselineSource}; nothing to compare with";
            return result;
        }

        var slack = Math.Abs(reference) * tolerance;
        result.Threshold = higherIsBetter ? reference - slack : reference + slack;
        if (result.Value is null)
        {
            result.Message = $"{gate.Metric} was not reported by the trainer (baseline {baselineSource} = {Format(reference)})";
            return result;
        }

        result.Passed = higherIsBetter ? value >= result.Threshold : value <= result.Threshold;
        result.Message = $"{gate.Metric} = {Format(value)} {(result.Passed ? "meets" : "fails")} " +
                         $"{(higherIsBetter ? ">=" : "<=")} {Format(result.Threshold)} (baseline {baselineSource} = {Format(reference)}, " +
                         $"tolerance {Format(tolerance * 100)}%)";
        return result;
    }

    /// <summary>e.g. "2/2 passed".</summary>
    public static string Summary(IReadOnlyCollection<GateResult> results) =>
        results.Count == 0 ? "none" : $"{results.Count(r => r.Passed)}/{results.Count} passed";

    public static string Format(double value) => value.ToString("G4", CultureInfo.InvariantCulture);

    private static string Symbol(Comparison comparison) => comparison switch
    {
        Comparison.LessThan => "<",
        Comparison.LessThanOrEqual => "<=",
        Comparison.GreaterThan => ">",
        _ => ">=",
    };
}
