using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace Cd4ml.Training;

/// <summary>Why a run failed: a <see cref="TrainingFailureReason"/> name (or TrainingFailed) and a message for humans.</summary>
public sealed record TerminationError(string Reason = nameof(TrainingFailureReason.TrainingFailed), string Message = "");

/// <summary>
/// The JSON a training container leaves in its termination log for the operator: on success the flat metrics, the
/// dataset digest, the model's SHA-256 and the output prefix; on failure only <see cref="Error"/>. The trainer writes it
/// with <see cref="ToMessage"/>, the operator reads it with <see cref="Parse"/>: one type, so the two cannot drift.
/// </summary>
public sealed record TrainerTermination
{
    /// <summary>Kubernetes keeps at most this many bytes of a termination message.</summary>
    public const int MaximumBytes = 4096;

    // A message this long is useless in a condition anyway; the rest of the 4 KB is the envelope's.
    private const int MaximumErrorMessageLength = 3000;

    // Dropped in this order until the message fits: per-slice metrics, then holdout and worst-slice metrics.
    private static readonly string[] DroppableMetricPrefixes = ["slice.", "holdout.", "worstSlice."];

    public IReadOnlyDictionary<string, double>? Metrics { get; init; }

    public string? DatasetDigest { get; init; }

    public string? ModelSha256 { get; init; }

    public string? OutputUri { get; init; }

    public TerminationError? Error { get; init; }

    [JsonIgnore]
    public bool IsSuccess => Metrics is not null;

    [JsonIgnore]
    public string? ErrorReason => Error?.Reason;

    [JsonIgnore]
    public string? ErrorMessage => Error?.Message;

    public static TrainerTermination Success(IReadOnlyDictionary<string, double> metrics, string datasetDigest, string modelSha256,
        string outputUri) =>
        new() { Metrics = metrics, DatasetDigest = datasetDigest, ModelSha256 = modelSha256, OutputUri = outputUri };

    public static TrainerTermination Failure(TrainingFailureReason reason, string message) => new()
    {
        Error = new TerminationError(reason.ToString(),
            message.Length > MaximumErrorMessageLength ? message[..MaximumErrorMessageLength] + "…" : message),
    };

    /// <summary>Compact JSON under <see cref="MaximumBytes"/>: metrics are dropped by prefix until it fits.</summary>
    public string ToMessage()
    {
        var termination = this;
        foreach (var prefix in DroppableMetricPrefixes)
        {
            var text = JsonSerializer.Serialize(termination, TrainingJson.Options);
            if (termination.Metrics is null || Encoding.UTF8.GetByteCount(text) < MaximumBytes)
            {
                return text;
            }

            termination = termination with
            {
                Metrics = termination.Metrics.Where(m => !m.Key.StartsWith(prefix, StringComparison.Ordinal)).ToDictionary(),
            };
        }

        return JsonSerializer.Serialize(termination, TrainingJson.Options);
    }

    /// <summary>
    /// Reads what <see cref="ToMessage"/> wrote. Anything else (a log tail kept by FallbackToLogsOnError, or JSON that
    /// is neither a success nor an error) becomes a TrainingFailed error whose message is that text; empty input gives null.
    /// </summary>
    public static TrainerTermination? Parse(string? message)
    {
        if (string.IsNullOrWhiteSpace(message))
        {
            return null;
        }

        try
        {
            // Lenient about properties a newer trainer may add.
            if (JsonSerializer.Deserialize<TrainerTermination>(message, TrainingJson.Documents) is { } parsed
                && (parsed.Metrics is not null || parsed.Error is not null))
            {
                return parsed;
            }
        }
        catch (JsonException)
        {
        }

        return new TrainerTermination { Error = new TerminationError(Message: message.Trim()) };
    }
}
