namespace Cd4ml.Runtime.Controllers;

public enum ReconcileOutcome
{
    /// <summary>Converged; nothing to do until something changes.</summary>
    Done,

    /// <summary>Converged for now; look again after a fixed delay (polling an external system).</summary>
    RequeueAfter,

    /// <summary>Failed transiently; retry with per-key exponential backoff.</summary>
    Retry,

    /// <summary>Failed in a way retrying cannot fix; stop until the object changes.</summary>
    Terminal,
}

/// <summary>What a reconcile asks the controller to do next.</summary>
public sealed record ReconcileResult(ReconcileOutcome Outcome, TimeSpan? Delay = null, string? Message = null,
    Exception? Exception = null)
{
    private static readonly ReconcileResult DoneResult = new(ReconcileOutcome.Done);

    public static ReconcileResult Done() => DoneResult;

    public static ReconcileResult RequeueAfter(TimeSpan delay) => new(ReconcileOutcome.RequeueAfter, delay);

    public static ReconcileResult Retry(string message, Exception? exception = null) =>
        new(ReconcileOutcome.Retry, Message: message, Exception: exception);

    public static ReconcileResult Terminal(string message) => new(ReconcileOutcome.Terminal, Message: message);
}
