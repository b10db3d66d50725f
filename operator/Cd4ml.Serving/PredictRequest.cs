using System.Text.Json;

namespace Cd4ml.Serving;

/// <summary>A request the server refuses with 400; <see cref="Field"/> and <see cref="Row"/> say where, when known.</summary>
public sealed class PredictRequestException(string message, string? field = null, int? row = null) : Exception(message)
{
    public string? Field { get; } = field;

    public int? Row { get; } = row;
}

/// <summary>
/// The body of <c>POST /predict</c>: one row as a JSON object (<c>{"store_nbr": 1, …}</c>) or a batch
/// (<c>{"instances": [{…}, {…}]}</c>). Field values are checked later, by the model's input schema.
/// </summary>
public static class PredictRequest
{
    public const string InstancesField = "instances";
    public const int MaximumInstances = 10_000;

    public static IReadOnlyList<IReadOnlyDictionary<string, JsonElement>> ReadRows(JsonElement body)
    {
        if (body.ValueKind != JsonValueKind.Object)
        {
            throw new PredictRequestException(
                $"the request body must be a JSON object (one row, or {{\"{InstancesField}\": [rows]}}); got {body.ValueKind}.");
        }

        if (!body.TryGetProperty(InstancesField, out var instances))
        {
            return [Row(body)];
        }

        if (instances.ValueKind != JsonValueKind.Array)
        {
            throw new PredictRequestException($"field '{InstancesField}' must be an array of rows; got {instances.ValueKind}.", InstancesField);
        }

        var count = instances.GetArrayLength();
        if (count is 0 or > MaximumInstances)
        {
            throw new PredictRequestException($"field '{InstancesField}' must hold 1 to {MaximumInstances} rows; got {count}.", InstancesField);
        }

        var rows = new List<IReadOnlyDictionary<string, JsonElement>>(count);
        foreach (var instance in instances.EnumerateArray())
        {
            if (instance.ValueKind != JsonValueKind.Object)
            {
                throw new PredictRequestException($"row {rows.Count}: '{InstancesField}[{rows.Count}]' must be a JSON object; got {instance.ValueKind}.",
                    InstancesField, rows.Count);
            }

            rows.Add(Row(instance));
        }

        return rows;
    }

    private static Dictionary<string, JsonElement> Row(JsonElement value)
    {
        var row = new Dictionary<string, JsonElement>(StringComparer.Ordinal);
        foreach (var property in value.EnumerateObject())
        {
            row[property.Name] = property.Value;
        }

        return row;
    }
}
