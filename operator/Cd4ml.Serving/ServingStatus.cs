using Cd4ml.Training;
using Cd4ml.Training.Scoring;

namespace Cd4ml.Serving;

public enum ServingState
{
    /// <summary>Downloading, verifying or checking the model (or retrying after S3 errors).</summary>
    Loading,

    /// <summary>Verified and checked; predictions are served.</summary>
    Ready,

    /// <summary>The model must not be served (digest mismatch, skew, unreadable model); only a new pod helps.</summary>
    Failed,

    /// <summary>SIGTERM received: unready, so traffic goes elsewhere; predictions are still answered until the listener closes.</summary>
    ShuttingDown,
}

/// <summary>
/// What /readyz reports. Immutable; the server swaps in a new one on every change. <see cref="Profile"/> is the model's
/// training profile when one was found and is usable (drift is measured against it).
/// </summary>
public sealed record ServingStatus(ServingState State, string Reason, IReadOnlyList<string> Warnings, ScoringModel? Model = null,
    TrainingProfile? Profile = null)
{
    public static readonly ServingStatus Starting = new(ServingState.Loading, "loading the model", []);

    public bool IsReady => State == ServingState.Ready && Model is not null;
}
