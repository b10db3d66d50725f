using System.Text.Json;

namespace Cd4ml.Training;

/// <summary>One file written by the trainer, with its SHA-256 (lower-case hex).</summary>
public sealed record ArtifactEntry(string Uri, string Sha256, long Size);

public sealed record DatasetInfo(string Uri, string Digest, int Rows, int DroppedRows, int TrainRows, int ValidationRows)
{
    /// <summary><see cref="DroppedRows"/> by reason: <c>filters</c> and <c>missingLabels</c>.</summary>
    public IReadOnlyDictionary<string, int> DroppedRowsByReason { get; init; } = new Dictionary<string, int>();
}

/// <summary>
/// The production rows a run appended to its dataset (dataset.fromFeedback): logged predictions joined with feedback
/// labels. <see cref="CuratedDatasetUri"/> is null when there were none and the run trained on the dataset alone.
/// </summary>
/// <param name="Objects">Every prediction-log and feedback object read, as S3 URIs in key order.</param>
public sealed record ProductionData(string LogUri, string? Deployment, long WindowSeconds, int Rows, IReadOnlyList<string> Objects)
{
    public string? CuratedDatasetUri { get; init; }

    /// <summary><c>sha256:&lt;hex&gt;</c> of the curated dataset.</summary>
    public string? CuratedDatasetDigest { get; init; }
}

/// <summary>
/// manifest.json, written last: what was trained from what, and the SHA-256 of every other artifact. The model server
/// builds its input from <see cref="FeatureColumns"/> and <see cref="LabelColumn"/>.
/// </summary>
public sealed record ModelManifest
{
    public const string FileName = "manifest.json";
    public const string ModelFileName = "model.zip";
    public const string MetricsFileName = "metrics.json";
    public const string HoldoutFileName = "holdout.csv";

    public int FormatVersion { get; init; } = 1;

    public required string TrainerVersion { get; init; }

    public string? RunName { get; init; }

    public int Attempt { get; init; }

    public string? Image { get; init; }

    public required DateTimeOffset CreatedAt { get; init; }

    public required MlTask Task { get; init; }

    public required TrainingAlgorithm Algorithm { get; init; }

    /// <summary>Every hyperparameter the learner used: the run's and the defaults it did not set (<see cref="AlgorithmCatalog.Resolve"/>).</summary>
    public IReadOnlyDictionary<string, string> Hyperparameters { get; init; } = new Dictionary<string, string>();

    public required DatasetInfo Dataset { get; init; }

    public required ColumnDefinition LabelColumn { get; init; }

    public required IReadOnlyList<ColumnDefinition> FeatureColumns { get; init; }

    public string? WeightColumn { get; init; }

    /// <summary>Class names (multiclass), in the model's score order.</summary>
    public IReadOnlyList<string>? Classes { get; init; }

    /// <summary>The schema the run validated against: the one given, or the one inferred (<see cref="SchemaInferred"/>).</summary>
    public IReadOnlyList<ColumnDefinition> Schema { get; init; } = [];

    public bool SchemaInferred { get; init; }

    public MissingLabelPolicy MissingLabels { get; init; }

    public IReadOnlyList<RowFilter> Filters { get; init; } = [];

    public required SplitSettings Split { get; init; }

    public IReadOnlyList<string> SliceColumns { get; init; } = [];

    /// <summary>Production data appended to <see cref="Dataset"/> (which stays the base dataset); null without dataset.fromFeedback.</summary>
    public ProductionData? Production { get; init; }

    /// <summary>model.zip, metrics.json, holdout.csv and profile.json (the training profile) by file name.</summary>
    public required IReadOnlyDictionary<string, ArtifactEntry> Artifacts { get; init; }

    public static ModelManifest Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<ModelManifest>(json, TrainingJson.Documents) ?? throw new InvalidDataException("manifest.json is empty.");

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, TrainingJson.Documents);
}
