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

/// <summary>What /readyz reports. Immutable; the server swaps in a new one on every change.</summary>
public sealed record ServingStatus(ServingState State, string Reason, IReadOnlyList<string> Warnings, ScoringModel? Model = null)
{
    public static readonly ServingStatus Starting = new(ServingState.Loading, "loading the model", []);

    public bool IsReady => State == ServingState.Ready && Model is not null;
}
