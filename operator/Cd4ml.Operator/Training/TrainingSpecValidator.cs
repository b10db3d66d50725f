using Cd4ml.Api.V1Alpha1;
using Cd4ml.Training;
using ApiTask = Cd4ml.Api.V1Alpha1.MlTask;

namespace Cd4ml.Operator.Training;

/// <summary>A spec problem the schema cannot catch, naming the field.</summary>
public sealed record SpecProblem(string Field, string Message)
{
    public override string ToString() => $"{Field}: {Message}";
}

/// <summary>
/// Checks what the CRD schema cannot: the algorithm fits the task, hyperparameter names and values, gate metrics
/// exist for the task, columns named in one place are declared, durations parse. Pure.
/// </summary>
public static class TrainingSpecValidator
{
    public static readonly TimeSpan DefaultDatasetCheckInterval = TimeSpan.FromMinutes(10);

    // The trainer's messages name environment variables; users know the spec fields.
    private static readonly Dictionary<string, string> FieldOfVariable = new()
    {
        [TrainingSettings.DatasetUriVariable] = "spec.dataset.uri",
        [TrainingSettings.DatasetDigestVariable] = "spec.dataset.digest",
        [TrainingSettings.OutputUriVariable] = "spec.output.uri",
        [TrainingSettings.SplitVariable] = "spec.dataset.split",
        [TrainingSettings.FeatureColumnsVariable] = "spec.dataset.featureColumns",
        [TrainingSettings.SchemaVariable] = "spec.dataset.columns",
        [TrainingSettings.FiltersVariable] = "spec.dataset.filters",
    };

    public static SpecProblem? Validate(TrainingRun run)
    {
        var spec = run.Spec;
        var task = spec.Trainer?.Task ?? ApiTask.Regression;
        try
        {
            TrainingJobBuilder.Settings(run, 1, "validation");
        }
        catch (TrainingException e)
        {
            var field = e.Reason switch
            {
                TrainingFailureReason.UnknownAlgorithm => "spec.trainer.algorithm",
                TrainingFailureReason.InvalidHyperparameter => "spec.trainer.hyperparameters",
                _ => FieldOfVariable.FirstOrDefault(f => e.Message.Contains(f.Key, StringComparison.Ordinal)).Value ?? "spec",
            };
            return new SpecProblem(field, e.Message);
        }
        catch (FormatException e)
        {
            return new SpecProblem("spec", e.Message);
        }

        if (spec.Dataset.Columns is { Count: > 0 } columns)
        {
            var declared = columns.Select(c => c.Name).ToHashSet();
            var named = new List<(string Field, string? Column)> { ("spec.dataset.labelColumn", spec.Dataset.LabelColumn) };
            named.AddRange((spec.Dataset.FeatureColumns ?? []).Select(c => ("spec.dataset.featureColumns", (string?)c)));
            named.AddRange((spec.Dataset.SliceColumns ?? []).Select(c => ("spec.dataset.sliceColumns", (string?)c)));
            named.AddRange((spec.Dataset.Filters ?? []).Select(f => ("spec.dataset.filters", (string?)f.Column)));
            named.Add(("spec.dataset.weightColumn", spec.Dataset.WeightColumn));
            named.Add(("spec.dataset.split.timeColumn", spec.Dataset.Split?.TimeColumn));
            if (named.FirstOrDefault(n => n.Column is { Length: > 0 } c && !declared.Contains(c)) is { Column: not null } missing)
            {
                return new SpecProblem(missing.Field, $"column '{missing.Column}' is not declared in spec.dataset.columns.");
            }
        }

        for (var i = 0; i < (spec.Gates?.Count ?? 0); i++)
        {
            var metric = spec.Gates![i].Metric;
            if (!QualityGates.IsKnownMetric(task, metric))
            {
                return new SpecProblem($"spec.gates[{i}].metric",
                    $"'{metric}' is not a metric {task} reports; use one of {string.Join(", ", QualityGates.MetricsFor(task))} " +
                    "(optionally prefixed holdout. or worstSlice.), or a count such as trainRows.");
            }
        }

        if (spec.Baseline is { } baseline)
        {
            if (!QualityGates.IsKnownMetric(task, baseline.Metric))
            {
                return new SpecProblem("spec.baseline.metric",
                    $"'{baseline.Metric}' is not a metric {task} reports; use one of {string.Join(", ", QualityGates.MetricsFor(task))}.");
            }

            if (baseline.HigherIsBetter is null && QualityGates.IsHigherBetter(baseline.Metric) is null)
            {
                return new SpecProblem("spec.baseline.higherIsBetter", $"the direction of '{baseline.Metric}' is not known; set higherIsBetter.");
            }
        }

        if (spec.RetrainOnDatasetChange == true && spec.Dataset.Digest is not null)
        {
            return new SpecProblem("spec.retrainOnDatasetChange",
                "a pinned spec.dataset.digest never changes; remove the digest or retrainOnDatasetChange.");
        }

        if (spec.DatasetCheckInterval is { } interval && ParseDuration(interval) is null)
        {
            return new SpecProblem("spec.datasetCheckInterval", $"'{interval}' is not a duration such as 30s, 10m or 1h30m.");
        }

        return null;
    }

    public static TimeSpan DatasetCheckInterval(TrainingRunSpec spec) =>
        spec.DatasetCheckInterval is { } text && ParseDuration(text) is { } interval && interval > TimeSpan.Zero
            ? interval
            : DefaultDatasetCheckInterval;

    /// <summary>Go-style durations as the schema allows them: 500ms, 30s, 10m, 1h30m.</summary>
    public static TimeSpan? ParseDuration(string text) => DurationText.TryParse(text);
}
