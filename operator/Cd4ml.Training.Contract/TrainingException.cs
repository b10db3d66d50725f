namespace Cd4ml.Training;

/// <summary>Why a training run failed, in a form the operator can put into a condition reason.</summary>
public enum TrainingFailureReason
{
    DatasetNotFound,
    DatasetDigestMismatch,
    SchemaViolation,
    InvalidSettings,
    UnknownAlgorithm,
    InvalidHyperparameter,
    TrainingFailed,
}

/// <summary>A training run failed for a known <see cref="Reason"/>; the message is meant for humans.</summary>
public sealed class TrainingException(TrainingFailureReason reason, string message, Exception? innerException = null)
    : Exception(message, innerException)
{
    /// <summary>Process exit code for input that retrying cannot fix (bad settings, dataset, schema).</summary>
    public const int BadInputExitCode = 2;

    /// <summary>Process exit code for everything else (training errors, unreachable S3): a retry may succeed.</summary>
    public const int FailureExitCode = 1;

    public TrainingFailureReason Reason { get; } = reason;

    public bool IsBadInput => Reason != TrainingFailureReason.TrainingFailed;

    public int ExitCode => IsBadInput ? BadInputExitCode : FailureExitCode;
}
