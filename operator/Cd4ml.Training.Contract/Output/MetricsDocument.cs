using System.Text.Json;

namespace Cd4ml.Training;

/// <summary>Metrics of one group of rows: the validation set, a slice, or the holdout sample.</summary>
public sealed record MetricGroup(int Rows, IReadOnlyDictionary<string, double> Metrics);

/// <summary>Metrics of the rows whose <see cref="Column"/> equals <see cref="Value"/>.</summary>
public sealed record SliceMetrics(string Column, string Value, int Rows, IReadOnlyDictionary<string, double> Metrics);

/// <summary>
/// metrics.json. <see cref="Metrics"/> is the flat map also sent in the termination message; <see cref="Holdout"/>
/// holds the metrics of exactly the rows in holdout.csv, which is what a re-scoring must reproduce.
/// </summary>
public sealed record MetricsDocument
{
    public required MlTask Task { get; init; }

    public required TrainingAlgorithm Algorithm { get; init; }

    public required IReadOnlyDictionary<string, double> Metrics { get; init; }

    public required MetricGroup Validation { get; init; }

    public required MetricGroup Holdout { get; init; }

    public IReadOnlyList<SliceMetrics> Slices { get; init; } = [];

    /// <summary>The slice with the worst <see cref="WorstSliceMetric"/> among slices of at least <see cref="MinimumSliceRows"/> rows.</summary>
    public SliceMetrics? WorstSlice { get; init; }

    public string? WorstSliceMetric { get; init; }

    public int MinimumSliceRows { get; init; }

    /// <summary>The schema the run validated against, inferred from the data when <see cref="SchemaInferred"/>.</summary>
    public IReadOnlyList<ColumnDefinition> Schema { get; init; } = [];

    public bool SchemaInferred { get; init; }

    /// <summary>Every hyperparameter the learner used, defaults included.</summary>
    public IReadOnlyDictionary<string, string> Hyperparameters { get; init; } = new Dictionary<string, string>();

    public static MetricsDocument Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<MetricsDocument>(json, TrainingJson.Documents) ?? throw new InvalidDataException("metrics.json is empty.");

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, TrainingJson.Documents);
}
