using Cd4ml.Artifacts;

namespace Cd4ml.Training.Scoring;

public sealed record HoldoutEvaluation(int Rows, IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<Prediction> Predictions);

/// <summary>
/// Re-scores holdout.csv with a model and computes the same metrics as the trainer, for comparison with
/// <see cref="MetricsDocument.Holdout"/> (e.g. a model server's training/serving skew check).
/// </summary>
public static class HoldoutEvaluator
{
    public static HoldoutEvaluation Evaluate(ScoringModel model, ReadOnlySpan<byte> holdoutCsv)
    {
        var table = CsvTable.Parse(holdoutCsv);
        var manifest = model.Manifest;
        var predictions = model.ScoreTable(table);
        var rows = ModelTrainer.EvaluationRows(table, predictions, manifest.LabelColumn.Name, manifest.WeightColumn);
        return new HoldoutEvaluation(table.RowCount, MetricsCalculator.Compute(manifest.Task, rows), predictions);
    }

    /// <summary>Reads holdout.csv from the training run's output prefix.</summary>
    public static async Task<HoldoutEvaluation> EvaluateAsync(ScoringModel model, ArtifactStore store, S3Location prefix,
        CancellationToken cancellationToken = default) =>
        Evaluate(model, await store.GetBytesAsync(prefix.AsPrefix().Combine(ModelManifest.HoldoutFileName), cancellationToken));
}
