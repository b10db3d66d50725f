using System.Text.Json.Serialization;

namespace Cd4ml.Training;

/// <summary>
/// dataset.fromFeedback as the trainer receives it (<c>CD4ML_FROM_FEEDBACK</c>, JSON): where a Deployment's model
/// servers log predictions and feedback, for which model, and how much of it to append to the dataset.
/// </summary>
/// <param name="LogUri">The prediction-log prefix (the Deployment's status.monitoring.logUri), ending in '/'.</param>
/// <param name="Model">The model name in the log's <c>model=</c> partition.</param>
/// <param name="WindowSeconds">Logged predictions younger than this are used.</param>
/// <param name="MaxRows">At most this many production rows, the newest.</param>
/// <param name="Deployment">The Deployment the log belongs to, for the lineage.</param>
public sealed record FeedbackSource(string LogUri, string Model, long WindowSeconds, int MaxRows, string? Deployment = null)
{
    public const int DefaultMaxRows = 1_000_000;

    [JsonIgnore]
    public TimeSpan Window => TimeSpan.FromSeconds(WindowSeconds);
}
