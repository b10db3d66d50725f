using System.Globalization;
using System.Text.Json;

namespace Cd4ml.Serving;

/// <summary>
/// The body of <c>POST /feedback</c>: one row <c>{"predictionId": "…", "label": …}</c> or a batch
/// <c>{"instances": [{…}, …]}</c> (1 to 10,000 rows). The label is a number (or numeric string) for regression models;
/// a string, boolean or number for classifiers, compared as text with the predicted label.
/// </summary>
internal static class FeedbackRequest
{
    public const string PredictionIdField = "predictionId";
    public const string LabelField = "label";
    private const int MaximumIdLength = 256;

    public static IReadOnlyList<(string PredictionId, string Label)> Read(JsonElement root, bool regression)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new PredictRequestException(
                $"the body must be a JSON object: {{\"{PredictionIdField}\": \"…\", \"{LabelField}\": …}} or {{\"{PredictRequest.InstancesField}\": [rows]}}.");
        }

        if (!root.TryGetProperty(PredictRequest.InstancesField, out var instances))
        {
            return [Row(root, regression, null)];
        }

        if (instances.ValueKind != JsonValueKind.Array || instances.GetArrayLength() is 0 or > PredictRequest.MaximumInstances)
        {
            throw new PredictRequestException(
                $"field '{PredictRequest.InstancesField}' must be an array of 1 to {PredictRequest.MaximumInstances} rows.", PredictRequest.InstancesField);
        }

        var rows = new List<(string, string)>(instances.GetArrayLength());
        foreach (var instance in instances.EnumerateArray())
        {
            rows.Add(Row(instance, regression, rows.Count));
        }

        return rows;
    }

    private static (string, string) Row(JsonElement row, bool regression, int? index)
    {
        var at = index is { } i ? $"row {i}: " : "";
        if (row.ValueKind != JsonValueKind.Object)
        {
            throw new PredictRequestException($"{at}each row must be a JSON object.", PredictRequest.InstancesField, index);
        }

        if (!row.TryGetProperty(PredictionIdField, out var id) || id.ValueKind != JsonValueKind.String
            || id.GetString() is not { Length: > 0 and <= MaximumIdLength } predictionId)
        {
            throw new PredictRequestException($"{at}field '{PredictionIdField}' must be the id a prediction answered with (a non-empty string).",
                PredictionIdField, index);
        }

        if (!row.TryGetProperty(LabelField, out var label))
        {
            throw new PredictRequestException($"{at}field '{LabelField}' (the true outcome) is required.", LabelField, index);
        }

        if (regression)
        {
            var number = label.ValueKind switch
            {
                JsonValueKind.Number => label.GetDouble(),
                JsonValueKind.String when double.TryParse(label.GetString(), NumberStyles.Float, CultureInfo.InvariantCulture, out var parsed) => parsed,
                _ => double.NaN,
            };
            return double.IsFinite(number)
                ? (predictionId, PredictionLog.Number(number))
                : throw new PredictRequestException($"{at}field '{LabelField}' must be a number for a regression model; got {label.GetRawText()}.", LabelField, index);
        }

        return label.ValueKind switch
        {
            JsonValueKind.String when label.GetString() is { Length: > 0 } text => (predictionId, text),
            JsonValueKind.True => (predictionId, "true"),
            JsonValueKind.False => (predictionId, "false"),
            JsonValueKind.Number => (predictionId, label.GetRawText()),
            _ => throw new PredictRequestException($"{at}field '{LabelField}' must be a class label (a non-empty string, boolean or number); got {label.GetRawText()}.",
                LabelField, index),
        };
    }
}
