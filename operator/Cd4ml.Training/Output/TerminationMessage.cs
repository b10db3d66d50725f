namespace Cd4ml.Training;

/// <summary>The trainer's termination log: a <see cref="TrainerTermination"/> (the contract the operator parses).</summary>
public static class TerminationMessage
{
    public static string ForSuccess(TrainingResult result) =>
        TrainerTermination.Success(result.Metrics, result.DatasetDigest, result.ModelSha256, result.OutputUri.ToString()).ToMessage();

    public static string ForFailure(TrainingFailureReason reason, string message) => TrainerTermination.Failure(reason, message).ToMessage();
}
