using System.Globalization;
using System.Text.Json;
using Cd4ml.Training;

namespace Cd4ml.Serving.Load;

/// <summary>One request of the load generator: the /predict body (a row without its label) and the true label, if known.</summary>
public sealed record LoadRow(string Body, string? Label)
{
    /// <summary>The /feedback body for a prediction of this row: the label as a JSON number when it is one.</summary>
    public string FeedbackBody(string predictionId)
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer))
        {
            json.WriteStartObject();
            json.WriteString("predictionId", predictionId);
            if (double.TryParse(Label, NumberStyles.Float, CultureInfo.InvariantCulture, out var number) && double.IsFinite(number))
            {
                json.WriteNumber("label", number);
            }
            else
            {
                json.WriteString("label", Label);
            }

            json.WriteEndObject();
        }

        return System.Text.Encoding.UTF8.GetString(buffer.ToArray());
    }
}

public static class LoadRows
{
    /// <summary>
    /// Every row of a dataset as a request: values as the CSV holds them (the server parses numbers, booleans and dates
    /// from text), empty cells as null, the label column left out of the body and kept for feedback.
    /// </summary>
    public static IReadOnlyList<LoadRow> From(CsvTable table, string? labelColumn)
    {
        var label = labelColumn is null ? -1 : table.IndexOf(labelColumn);
        if (labelColumn is not null && label < 0)
        {
            throw new FormatException($"the dataset has no label column '{labelColumn}' (columns: {string.Join(", ", table.Columns)})");
        }

        if (table.Rows.Count == 0)
        {
            throw new FormatException("the dataset has no rows");
        }

        var rows = new List<LoadRow>(table.Rows.Count);
        foreach (var values in table.Rows)
        {
            var body = new Dictionary<string, string?>(table.Columns.Count);
            for (var i = 0; i < table.Columns.Count; i++)
            {
                if (i != label)
                {
                    body[table.Columns[i]] = string.IsNullOrEmpty(values[i]) ? null : values[i];
                }
            }

            rows.Add(new LoadRow(JsonSerializer.Serialize(body), label < 0 ? null : values[label]));
        }

        return rows;
    }
}
