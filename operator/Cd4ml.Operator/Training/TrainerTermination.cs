using System.Text.Json;

namespace Cd4ml.Operator.Training;

/// <summary>What a training container reported in its termination message (the training contract's result JSON).</summary>
public sealed record TrainerTermination
{
    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    public string? DatasetDigest { get; init; }

    public string? ModelSha256 { get; init; }

    public string? OutputUri { get; init; }

    public string? ErrorReason { get; init; }

    public string? ErrorMessage { get; init; }

    public bool IsSuccess => Metrics is not null;

    /// <summary>
    /// Parses <c>{"metrics":…}</c> or <c>{"error":{"reason","message"}}</c>. Anything else (a log tail kept by
    /// FallbackToLogsOnError) becomes an error whose message is that text; empty input gives null.
    /// </summary>
    public static TrainerTermination? Parse(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(message);
            var root = document.RootElement;
            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("error", out var error) && error.ValueKind == JsonValueKind.Object)
            {
                return new TrainerTermination
                {
                    ErrorReason = Text(error, "reason") ?? "TrainingFailed",
                    ErrorMessage = Text(error, "message") ?? "",
                };
            }

            if (root.ValueKind == JsonValueKind.Object && root.TryGetProperty("metrics", out var metrics) && metrics.ValueKind == JsonValueKind.Object)
            {
                return new TrainerTermination
                {
                    Metrics = metrics.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Number)
                        .ToDictionary(p => p.Name, p => p.Value.GetDouble()),
                    DatasetDigest = Text(root, "datasetDigest"),
                    ModelSha256 = Text(root, "modelSha256"),
                    OutputUri = Text(root, "outputUri"),
                };
            }
        }
        catch (JsonException)
        {
        }

        return new TrainerTermination { ErrorReason = "TrainingFailed", ErrorMessage = message.Trim() };
    }

    private static string? Text(JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;
}
