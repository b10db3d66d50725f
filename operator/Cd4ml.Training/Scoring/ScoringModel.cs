using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Microsoft.ML;

namespace Cd4ml.Training.Scoring;

/// <summary>
/// Scores rows with a trained model. Input columns and their types come from the manifest, so any model the trainer
/// wrote can be served without code. Thread-safe: each call borrows a <see cref="ScoringEngine"/> from a pool (the
/// model is bound to an engine once, not per request; the pool grows to the number of threads scoring at once).
/// </summary>
public sealed class ScoringModel
{
    private readonly MLContext ml = new();
    private readonly ITransformer transformer;
    private readonly ScoringLayout layout;
    private readonly ConcurrentBag<ScoringEngine> engines = [];

    public ScoringModel(ModelArtifact artifact)
    {
        Manifest = artifact.Manifest;
        using var stream = new MemoryStream(artifact.ModelBytes, writable: false);
        transformer = ml.Model.Load(stream, out _);
        layout = new ScoringLayout(new ModelInputLayout(Manifest.Task, Manifest.LabelColumn, Manifest.FeatureColumns));
        // Bound once now, so a model that cannot score rows fails at load time rather than on the first request.
        engines.Add(CreateEngine());
    }

    public ModelManifest Manifest { get; }

    /// <summary>The fields a request must (or, when nullable, may) carry.</summary>
    public IReadOnlyList<ColumnDefinition> InputColumns => Manifest.FeatureColumns;

    /// <summary>An empty set of rows for this model, to fill and pass to <see cref="Score(ScoringInput)"/>.</summary>
    public ScoringInput CreateInput(int capacity = 1) => new(layout, capacity);

    /// <summary>Scores complete rows of <paramref name="input"/>, one prediction per row, in order.</summary>
    public Prediction[] Score(ScoringInput input)
    {
        if (!engines.TryTake(out var engine))
        {
            engine = CreateEngine();
        }

        try
        {
            var predictions = new Prediction[input.Count];
            for (var r = 0; r < predictions.Length; r++)
            {
                predictions[r] = engine.Score(input, r);
            }

            return predictions;
        }
        finally
        {
            engines.Add(engine);
        }
    }

    /// <summary>Scores JSON rows: numbers as JSON numbers or numeric strings, booleans as true/false or 1/0, dates as ISO strings.</summary>
    public IReadOnlyList<Prediction> Score(IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> rows)
    {
        var input = CreateInput(rows.Count);
        foreach (var row in rows)
        {
            input.BeginRow();
            foreach (var (field, value) in row)
            {
                var feature = input.FeatureIndex(field);
                if (feature < 0)
                {
                    continue;
                }

                switch (value.ValueKind)
                {
                    case JsonValueKind.Null or JsonValueKind.Undefined:
                        input.SetText(feature, null);
                        break;
                    case JsonValueKind.String:
                        input.SetText(feature, value.GetString());
                        break;
                    case JsonValueKind.Number:
                        input.SetNumber(feature, Encoding.UTF8.GetBytes(value.GetRawText()));
                        break;
                    case JsonValueKind.True or JsonValueKind.False:
                        input.SetBoolean(feature, value.GetBoolean());
                        break;
                    default:
                        throw NotAScalar(field, input.CurrentRow, value.ValueKind.ToString());
                }
            }

            input.EndRow();
        }

        return Score(input);
    }

    /// <summary>Scores rows of raw text values, read as the trainer read the CSV.</summary>
    public IReadOnlyList<Prediction> Score(IReadOnlyList<IReadOnlyDictionary<string, string?>> rows)
    {
        var input = CreateInput(rows.Count);
        foreach (var row in rows)
        {
            input.BeginRow();
            for (var f = 0; f < InputColumns.Count; f++)
            {
                input.SetText(f, row.GetValueOrDefault(InputColumns[f].Name));
            }

            input.EndRow();
        }

        return Score(input);
    }

    /// <summary>The error for a field whose value is an object or array.</summary>
    public static ScoringInputException NotAScalar(string field, int row, string kind) =>
        new(field, row, $"row {row}: field '{field}' must be a string, number or boolean; got {kind}.");

    /// <summary>Scores a table of raw text (e.g. holdout.csv) exactly as a server scores requests; other columns (the label) are ignored.</summary>
    internal IReadOnlyList<Prediction> ScoreTable(CsvTable table)
    {
        var indexes = InputColumns.Select(c => table.IndexOf(c.Name) is var i and >= 0 ? i : throw new FormatException($"Column '{c.Name}' is missing.")).ToArray();
        var input = CreateInput(table.RowCount);
        for (var r = 0; r < table.RowCount; r++)
        {
            input.BeginRow();
            for (var f = 0; f < indexes.Length; f++)
            {
                input.SetText(f, table.Cell(r, indexes[f]));
            }

            input.EndRow();
        }

        return Score(input);
    }

    private ScoringEngine CreateEngine() => new(transformer, layout, Manifest.Task, Manifest.Classes ?? []);
}
