namespace Cd4ml.Training;

/// <summary>An observed label (raw text), the model's prediction and the row's nwrmsle weight.</summary>
public sealed record EvaluationRow(string Actual, Prediction Predicted, double Weight = 1.0);

/// <summary>
/// Metrics computed from predictions, so that the whole validation set, each slice, the holdout sample and a model
/// server's re-scoring all use the same formulas. Undefined values (AUC of a one-class slice, r2 of a constant
/// label) are left out rather than reported as NaN.
/// </summary>
public static class MetricsCalculator
{
    /// <summary>Weight of a row whose weight column is truthy (Favorita's perishable items).</summary>
    public const double HeavyWeight = 1.25;

    private const double ProbabilityFloor = 1e-15;

    /// <summary>Metric names where a lower value is better; all others are better when higher.</summary>
    public static readonly IReadOnlySet<string> LowerIsBetter = new HashSet<string> { "rmse", "mae", "nwrmsle", "logLoss" };

    /// <summary>The metric that ranks slices: the worst slice is the one worst on it.</summary>
    public static string PrimaryMetric(MlTask task) => task == MlTask.Regression ? "rmse" : "accuracy";

    public static double WeightOf(string? raw) =>
        raw is not null && ColumnValues.TryParseBoolean(raw, out var heavy) && heavy ? HeavyWeight : 1.0;

    public static Dictionary<string, double> Compute(MlTask task, IReadOnlyList<EvaluationRow> rows)
    {
        var metrics = new Dictionary<string, double>();
        if (rows.Count == 0)
        {
            return metrics;
        }

        switch (task)
        {
            case MlTask.Regression:
                Regression(rows, metrics);
                break;
            case MlTask.BinaryClassification:
                Binary(rows, metrics);
                break;
            default:
                Multiclass(rows, metrics);
                break;
        }

        foreach (var key in metrics.Where(m => !double.IsFinite(m.Value)).Select(m => m.Key).ToList())
        {
            metrics.Remove(key);
        }

        return metrics;
    }

    // nwrmsle follows Favorita: sqrt(sum w (ln(p+1) - ln(y+1))^2 / sum w), with p and y clipped at 0.
    private static void Regression(IReadOnlyList<EvaluationRow> rows, Dictionary<string, double> metrics)
    {
        var actual = rows.Select(r => double.Parse(r.Actual, System.Globalization.CultureInfo.InvariantCulture)).ToArray();
        var predicted = rows.Select(r => r.Predicted.Score).ToArray();
        double squared = 0, absolute = 0, logSquared = 0, weights = 0;
        var mean = actual.Average();
        double total = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            var error = predicted[i] - actual[i];
            squared += error * error;
            absolute += Math.Abs(error);
            total += (actual[i] - mean) * (actual[i] - mean);
            var logError = Math.Log(Math.Max(predicted[i], 0) + 1) - Math.Log(Math.Max(actual[i], 0) + 1);
            logSquared += rows[i].Weight * logError * logError;
            weights += rows[i].Weight;
        }

        metrics["rmse"] = Math.Sqrt(squared / actual.Length);
        metrics["mae"] = absolute / actual.Length;
        metrics["r2"] = total > 0 ? 1 - squared / total : double.NaN;
        metrics["nwrmsle"] = Math.Sqrt(logSquared / weights);
    }

    private static void Binary(IReadOnlyList<EvaluationRow> rows, Dictionary<string, double> metrics)
    {
        var actual = rows.Select(r => ModelInputLayout.ParseBinaryLabel(r.Actual)).ToArray();
        var probability = rows.Select(r => r.Predicted.Probability ?? 0).ToArray();
        var predicted = rows.Select(r => r.Predicted.PredictedLabel == "true").ToArray();
        int truePositive = 0, falsePositive = 0, falseNegative = 0, correct = 0;
        double logLoss = 0;
        for (var i = 0; i < actual.Length; i++)
        {
            correct += actual[i] == predicted[i] ? 1 : 0;
            truePositive += actual[i] && predicted[i] ? 1 : 0;
            falsePositive += !actual[i] && predicted[i] ? 1 : 0;
            falseNegative += actual[i] && !predicted[i] ? 1 : 0;
            var p = Math.Clamp(probability[i], ProbabilityFloor, 1 - ProbabilityFloor);
            logLoss -= actual[i] ? Math.Log(p) : Math.Log(1 - p);
        }

        metrics["accuracy"] = (double)correct / actual.Length;
        metrics["auc"] = Auc(actual, probability);
        var precision = truePositive + falsePositive == 0 ? 0 : (double)truePositive / (truePositive + falsePositive);
        var recall = truePositive + falseNegative == 0 ? 0 : (double)truePositive / (truePositive + falseNegative);
        metrics["f1"] = precision + recall == 0 ? 0 : 2 * precision * recall / (precision + recall);
        metrics["logLoss"] = logLoss / actual.Length;
    }

    // Mann-Whitney: the probability that a random positive outranks a random negative, ties counting half.
    private static double Auc(bool[] actual, double[] probability)
    {
        var order = Enumerable.Range(0, actual.Length).OrderBy(i => probability[i]).ToArray();
        var positives = actual.Count(a => a);
        var negatives = actual.Length - positives;
        if (positives == 0 || negatives == 0)
        {
            return double.NaN;
        }

        double rankSum = 0;
        for (var start = 0; start < order.Length;)
        {
            var end = start;
            while (end + 1 < order.Length && probability[order[end + 1]] == probability[order[start]])
            {
                end++;
            }

            var averageRank = (start + end) / 2.0 + 1;
            for (var k = start; k <= end; k++)
            {
                if (actual[order[k]])
                {
                    rankSum += averageRank;
                }
            }

            start = end + 1;
        }

        return (rankSum - positives * (positives + 1) / 2.0) / ((double)positives * negatives);
    }

    private static void Multiclass(IReadOnlyList<EvaluationRow> rows, Dictionary<string, double> metrics)
    {
        var correct = 0;
        double logLoss = 0;
        var perClass = new Dictionary<string, (int Correct, int Total)>();
        foreach (var row in rows)
        {
            var actual = row.Actual.Trim();
            var hit = row.Predicted.PredictedLabel == actual;
            correct += hit ? 1 : 0;
            var (classCorrect, classTotal) = perClass.GetValueOrDefault(actual);
            perClass[actual] = (classCorrect + (hit ? 1 : 0), classTotal + 1);
            var p = row.Predicted.ClassProbabilities?.GetValueOrDefault(actual) ?? 0;
            logLoss -= Math.Log(Math.Clamp(p, ProbabilityFloor, 1));
        }

        metrics["accuracy"] = (double)correct / rows.Count;
        metrics["macroAccuracy"] = perClass.Values.Average(c => (double)c.Correct / c.Total);
        metrics["logLoss"] = logLoss / rows.Count;
    }
}
