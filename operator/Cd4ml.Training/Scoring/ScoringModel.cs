using System.Text.Json;
using Microsoft.ML;

namespace Cd4ml.Training.Scoring;

/// <summary>A request value that does not fit the model's input; names the field (and the row for batches).</summary>
public sealed class ScoringInputException(string field, int row, string message) : Exception(message)
{
    public string Field { get; } = field;

    public int Row { get; } = row;
}

/// <summary>
/// Scores rows with a trained model. Input columns and their types come from the manifest, so any model the trainer
/// wrote can be served without code. Thread-safe: each call builds its own data view.
/// </summary>
public sealed class ScoringModel
{
    private readonly MLContext ml = new();
    private readonly ITransformer transformer;
    private readonly ModelInputLayout layout;

    public ScoringModel(ModelArtifact artifact)
    {
        Manifest = artifact.Manifest;
        using var stream = new MemoryStream(artifact.ModelBytes, writable: false);
        transformer = ml.Model.Load(stream, out _);
        layout = new ModelInputLayout(Manifest.Task, Manifest.LabelColumn, Manifest.FeatureColumns);
    }

    public ModelManifest Manifest { get; }

    /// <summary>The fields a request must (or, when nullable, may) carry.</summary>
    public IReadOnlyList<ColumnDefinition> InputColumns => Manifest.FeatureColumns;

    /// <summary>Scores JSON rows: numbers as JSON numbers or numeric strings, booleans as true/false or 1/0, dates as ISO strings.</summary>
    public IReadOnlyList<Prediction> Score(IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> rows) =>
        Score(rows.Select((row, index) => (IReadOnlyDictionary<string, string?>)row.ToDictionary(f => f.Key, f => ToText(f.Key, index, f.Value))).ToList());

    /// <summary>Scores rows of raw text values, read as the trainer read the CSV.</summary>
    public IReadOnlyList<Prediction> Score(IReadOnlyList<IReadOnlyDictionary<string, string?>> rows)
    {
        var columns = InputColumns.Select(c => c.Name).ToList();
        var values = new List<string?[]>(rows.Count);
        for (var r = 0; r < rows.Count; r++)
        {
            var row = new string?[columns.Count];
            for (var c = 0; c < columns.Count; c++)
            {
                var column = InputColumns[c];
                var raw = rows[r].TryGetValue(column.Name, out var value) ? value : null;
                if (ColumnValues.IsNull(raw))
                {
                    if (!column.Nullable)
                    {
                        throw new ScoringInputException(column.Name, r, $"row {r}: field '{column.Name}' ({column.Type}) is required.");
                    }
                }
                else if (!ColumnValues.IsValid(column.Type, raw!))
                {
                    throw new ScoringInputException(column.Name, r, $"row {r}: field '{column.Name}' must be a {column.Type}; got '{raw}'.");
                }

                row[c] = raw;
            }

            values.Add(row);
        }

        return ScoreTable(new CsvTable(columns, values), withLabel: false);
    }

    /// <summary>Scores a validated table (e.g. holdout.csv) in which the label column may be present.</summary>
    internal IReadOnlyList<Prediction> ScoreTable(CsvTable table, bool withLabel)
    {
        var scored = transformer.Transform(layout.BuildDataView(table, withLabel));
        return ModelPipeline.ReadPredictions(scored, Manifest.Task, Manifest.Classes ?? []);
    }

    private static string? ToText(string field, int row, JsonElement value) => value.ValueKind switch
    {
        JsonValueKind.Null or JsonValueKind.Undefined => null,
        JsonValueKind.String => value.GetString(),
        JsonValueKind.Number => value.GetRawText(),
        JsonValueKind.True => "true",
        JsonValueKind.False => "false",
        _ => throw new ScoringInputException(field, row, $"row {row}: field '{field}' must be a string, number or boolean; got {value.ValueKind}."),
    };
}
