using System.Text;
using System.Text.Json;

namespace Cd4ml.Training;

/// <summary>
/// The compact JSON a training Pod leaves in its termination log for the operator. Kubernetes keeps at most 4096
/// bytes, so slice metrics go first, then holdout and worst-slice metrics, until it fits.
/// </summary>
public static class TerminationMessage
{
    public const int MaximumBytes = 4096;

    public static string ForSuccess(TrainingResult result)
    {
        var metrics = new Dictionary<string, double>(result.Metrics);
        foreach (var prefix in new[] { "slice.", "holdout.", "worstSlice." })
        {
            var text = Serialize(metrics, result);
            if (Encoding.UTF8.GetByteCount(text) < MaximumBytes)
            {
                return text;
            }

            foreach (var key in metrics.Keys.Where(k => k.StartsWith(prefix, StringComparison.Ordinal)).ToList())
            {
                metrics.Remove(key);
            }
        }

        return Serialize(metrics, result);
    }

    public static string ForFailure(TrainingFailureReason reason, string message)
    {
        // Leave room for the envelope; a message this long is useless in a condition anyway.
        var trimmed = message.Length > 3000 ? message[..3000] + "…" : message;
        return JsonSerializer.Serialize(new { error = new { reason = reason.ToString(), message = trimmed } }, TrainingJson.Options);
    }

    private static string Serialize(Dictionary<string, double> metrics, TrainingResult result) =>
        JsonSerializer.Serialize(new
        {
            metrics,
            datasetDigest = result.DatasetDigest,
            modelSha256 = result.ModelSha256,
            outputUri = result.OutputUri.ToString(),
        }, TrainingJson.Options);
}
