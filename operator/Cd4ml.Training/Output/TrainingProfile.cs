using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cd4ml.Training;

/// <summary>
/// profile.json, written next to model.zip (and listed in the manifest's artifacts): what the model saw in training, so
/// a model server can tell when live inputs and predictions drift away from it. Per feature the distribution of the
/// training rows; for the model's output the distribution of its predictions on the validation rows, and of the
/// validation labels for comparison. Every distribution is a <see cref="ColumnProfile"/>.
/// </summary>
public sealed record TrainingProfile
{
    public const string FileName = "profile.json";

    /// <summary>Quantile bins per numeric column (fewer when values repeat).</summary>
    public const int DefaultBins = 10;

    /// <summary>Most frequent values kept per string column; the rest count as "other".</summary>
    public const int DefaultTopValues = 20;

    public int FormatVersion { get; init; } = 1;

    /// <summary>Feature distributions over the training rows, in the manifest's feature order.</summary>
    public required IReadOnlyList<ColumnProfile> Features { get; init; }

    /// <summary>
    /// The predictions on the validation rows: <c>score</c> (regression: the predicted value), <c>probability</c>
    /// (binary: P(true)) or <c>predictedLabel</c> (multiclass).
    /// </summary>
    public required ColumnProfile Prediction { get; init; }

    /// <summary>The labels of the validation rows, in the same form as <see cref="Prediction"/> would take them.</summary>
    public required ColumnProfile Label { get; init; }

    public static TrainingProfile Parse(ReadOnlySpan<byte> json) =>
        JsonSerializer.Deserialize<TrainingProfile>(json, TrainingJson.Documents) ?? throw new InvalidDataException("profile.json is empty.");

    public byte[] ToJson() => JsonSerializer.SerializeToUtf8Bytes(this, TrainingJson.Documents);

    /// <summary>
    /// The profile of a run: features over <paramref name="train"/>, predictions and labels over
    /// <paramref name="validation"/> (one prediction per validation row, in order).
    /// </summary>
    public static TrainingProfile Build(MlTask task, CsvTable train, IReadOnlyList<ColumnDefinition> features, CsvTable validation,
        ColumnDefinition label, IReadOnlyList<Prediction> predictions)
    {
        var profiles = features.Select(feature => feature.Type switch
        {
            ColumnType.String => ColumnProfile.Categorical(feature.Name, feature.Type, Texts(train, feature.Name), DefaultTopValues),
            ColumnType.Date => ColumnProfile.MissingOnly(feature.Name, feature.Type, Texts(train, feature.Name)),
            _ => ColumnProfile.Numeric(feature.Name, feature.Type, Numbers(train, feature), DefaultBins),
        }).ToList();
        var labels = Texts(validation, label.Name);
        return task switch
        {
            MlTask.Regression => new TrainingProfile
            {
                Features = profiles,
                Prediction = ColumnProfile.Numeric(ColumnProfile.ScoreColumn, ColumnType.Number, predictions.Select(p => (double?)p.Score).ToList(), DefaultBins),
                Label = ColumnProfile.Numeric(label.Name, label.Type, Numbers(validation, label), DefaultBins),
            },
            MlTask.BinaryClassification => new TrainingProfile
            {
                Features = profiles,
                Prediction = ColumnProfile.Numeric(ColumnProfile.ProbabilityColumn, ColumnType.Number,
                    predictions.Select(p => p.Probability).ToList(), DefaultBins),
                Label = ColumnProfile.Categorical(label.Name, label.Type,
                    labels.Select(l => l is not null && ColumnValues.TryParseBoolean(l, out var flag) ? (flag ? "true" : "false") : l).ToList(), DefaultTopValues),
            },
            _ => new TrainingProfile
            {
                Features = profiles,
                Prediction = ColumnProfile.Categorical(ColumnProfile.PredictedLabelColumn, ColumnType.String,
                    predictions.Select(p => p.PredictedLabel).ToList(), DefaultTopValues),
                Label = ColumnProfile.Categorical(label.Name, label.Type, labels.Select(l => l?.Trim()).ToList(), DefaultTopValues),
            },
        };
    }

    private static List<string?> Texts(CsvTable table, string column)
    {
        var index = table.IndexOf(column);
        var texts = new List<string?>(table.RowCount);
        for (var row = 0; row < table.RowCount; row++)
        {
            texts.Add(table.Cell(row, index));
        }

        return texts;
    }

    // Number, Integer and Boolean (1/0) as the model input holds them: floats. Bins are cut on float values, so a server
    // comparing the float it scored with the edges puts an edge value in the same bin as training did.
    private static List<double?> Numbers(CsvTable table, ColumnDefinition column)
    {
        var index = table.IndexOf(column.Name);
        var typed = table.Typed(index, column.Type);
        var values = new List<double?>(typed.States.Length);
        for (var row = 0; row < typed.States.Length; row++)
        {
            values.Add(typed.States[row] == TypedColumn.Valid ? typed.ToSingle(row, table, index) : null);
        }

        return values;
    }
}

/// <summary>
/// The distribution of one column. Missing values (empty, null) count in <see cref="MissingRate"/>; the others in
/// <see cref="Frequencies"/>, as shares of the non-missing values. Numbers: <see cref="Edges"/> are the ascending cut
/// points, bin <c>i</c> holds values <c>v</c> with <c>Edges[i-1] &lt; v ≤ Edges[i]</c> (the first bin everything up
/// to <c>Edges[0]</c>, the last everything above the last edge), so there is one frequency more than edges. Strings:
/// <see cref="Values"/> are the most frequent values, and the last frequency is that of every other value. A Date
/// column has neither (only its missing rate): dates move on by nature, so their drift says nothing.
/// </summary>
public sealed record ColumnProfile
{
    public const string ScoreColumn = "score";
    public const string ProbabilityColumn = "probability";
    public const string PredictedLabelColumn = "predictedLabel";

    public required string Name { get; init; }

    public required ColumnType Type { get; init; }

    /// <summary>Rows counted, missing ones included.</summary>
    public required int Rows { get; init; }

    public required double MissingRate { get; init; }

    public IReadOnlyList<double>? Edges { get; init; }

    public IReadOnlyList<string>? Values { get; init; }

    public IReadOnlyList<double> Frequencies { get; init; } = [];

    /// <summary>Whether live values can be compared with this profile (numbers or strings, not dates).</summary>
    [JsonIgnore]
    public bool HasDistribution => Edges is not null || Values is not null;

    /// <summary>
    /// Buckets of the comparison: bucket 0 holds missing values, then one per bin (numbers) or per value plus "other"
    /// (strings).
    /// </summary>
    [JsonIgnore]
    public int BucketCount => 1 + Frequencies.Count;

    /// <summary>The expected share of each bucket (see <see cref="BucketCount"/>); they sum to 1.</summary>
    public double[] ExpectedShares()
    {
        var shares = new double[BucketCount];
        shares[0] = MissingRate;
        for (var i = 0; i < Frequencies.Count; i++)
        {
            shares[i + 1] = (1 - MissingRate) * Frequencies[i];
        }

        return shares;
    }

    /// <summary>The bucket of a number: 0 for NaN (missing), else 1 + its bin (binary search on the edges).</summary>
    public static int BucketOf(double value, double[] edges)
    {
        if (double.IsNaN(value))
        {
            return 0;
        }

        // The first edge at or above the value (lower bound); past the last edge: the last bin.
        int low = 0, high = edges.Length;
        while (low < high)
        {
            var middle = (low + high) >>> 1;
            if (edges[middle] < value)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return 1 + low;
    }

    /// <summary>Quantile bins: up to <paramref name="bins"/> bins cut at the training quantiles (repeated cut points merge).</summary>
    public static ColumnProfile Numeric(string name, ColumnType type, IReadOnlyList<double?> values, int bins)
    {
        var present = values.Where(v => v is { } number && !double.IsNaN(number)).Select(v => v!.Value).Order().ToArray();
        var edges = new List<double>();
        for (var q = 1; q < bins && present.Length > 0; q++)
        {
            // The q/bins quantile: the smallest value with at least that share of the values at or below it.
            var edge = present[(int)(((long)q * present.Length + bins - 1) / bins) - 1];
            // An edge at the maximum would leave the last bin empty by construction.
            if (edge < present[^1] && (edges.Count == 0 || edge > edges[^1]))
            {
                edges.Add(edge);
            }
        }

        var cuts = edges.ToArray();
        var counts = new double[cuts.Length + 1];
        foreach (var value in present)
        {
            counts[BucketOf(value, cuts) - 1]++;
        }

        return new ColumnProfile
        {
            Name = name, Type = type, Rows = values.Count, MissingRate = Share(values.Count - present.Length, values.Count), Edges = cuts,
            Frequencies = counts.Select(c => Share(c, present.Length)).ToArray(),
        };
    }

    /// <summary>The <paramref name="topValues"/> most frequent values (ties in ordinal order) and "other".</summary>
    public static ColumnProfile Categorical(string name, ColumnType type, IReadOnlyList<string?> values, int topValues)
    {
        var present = values.Where(v => !ColumnValues.IsNull(v)).Select(v => v!).ToList();
        var counts = present.GroupBy(v => v, StringComparer.Ordinal)
            .Select(g => (Value: g.Key, Count: g.Count()))
            .OrderByDescending(g => g.Count).ThenBy(g => g.Value, StringComparer.Ordinal)
            .ToList();
        var top = counts.Take(topValues).ToList();
        var other = present.Count - top.Sum(t => t.Count);
        return new ColumnProfile
        {
            Name = name, Type = type, Rows = values.Count, MissingRate = Share(values.Count - present.Count, values.Count),
            Values = top.Select(t => t.Value).ToArray(),
            Frequencies = [.. top.Select(t => Share(t.Count, present.Count)), Share(other, present.Count)],
        };
    }

    /// <summary>Only the missing rate (Date columns).</summary>
    public static ColumnProfile MissingOnly(string name, ColumnType type, IReadOnlyList<string?> values) => new()
    {
        Name = name, Type = type, Rows = values.Count, MissingRate = Share(values.Count(ColumnValues.IsNull), values.Count),
    };

    private static double Share(double count, int total) => total == 0 ? 0 : count / total;
}
