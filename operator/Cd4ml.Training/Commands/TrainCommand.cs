using Cd4ml.Artifacts;

namespace Cd4ml.Training;

/// <summary>
/// <c>cd4ml train</c>: reads <see cref="TrainingSettings"/> from the environment, trains, and writes the termination
/// message. Exit codes: 0 success; 2 bad input that retrying cannot fix (settings, dataset missing or changed, schema
/// violations, unknown algorithm or hyperparameter); 1 anything else (training errors, S3 unreachable).
/// </summary>
public static class TrainCommand
{
    public static async Task<int> RunAsync(IReadOnlyDictionary<string, string?> environment, TextWriter output, CancellationToken ct)
    {
        var terminationLog = environment.TryGetValue(TrainingSettings.TerminationLogVariable, out var path) && !string.IsNullOrWhiteSpace(path)
            ? path
            : TrainingSettings.DefaultTerminationLogPath;
        try
        {
            var settings = TrainingSettings.FromEnvironment(environment);
            using var client = settings.S3.CreateClient();
            var result = await new ModelTrainer(new ArtifactStore(client), output).RunAsync(settings, ct);
            await WriteTerminationLogAsync(terminationLog, TerminationMessage.ForSuccess(result), output);
            output.WriteLine(string.Join(", ", result.MetricsDocument.Validation.Metrics.Select(m => $"{m.Key}={m.Value:G6}")));
            return 0;
        }
        catch (TrainingException e)
        {
            return await FailAsync(terminationLog, e.Reason, e.Message, e.ExitCode, output);
        }
        catch (ArtifactStoreException e)
        {
            return await FailAsync(terminationLog, TrainingFailureReason.TrainingFailed, e.Message, TrainingException.FailureExitCode, output);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            return await FailAsync(terminationLog, TrainingFailureReason.TrainingFailed, $"{e.GetType().Name}: {e.Message}",
                TrainingException.FailureExitCode, output);
        }
    }

    private static async Task<int> FailAsync(string terminationLog, TrainingFailureReason reason, string message, int exitCode, TextWriter output)
    {
        output.WriteLine($"Training failed ({reason}): {message}");
        await WriteTerminationLogAsync(terminationLog, TerminationMessage.ForFailure(reason, message), output);
        return exitCode;
    }

    // Outside Kubernetes the default path may not be writable; the result is still printed.
    private static async Task WriteTerminationLogAsync(string path, string message, TextWriter output)
    {
        try
        {
            await File.WriteAllTextAsync(path, message);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            output.WriteLine($"Could not write the termination log {path}: {e.Message}");
            output.WriteLine(message);
        }
    }
}
