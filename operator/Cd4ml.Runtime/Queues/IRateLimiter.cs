namespace Cd4ml.Runtime.Queues;

/// <summary>Decides how long a failed key waits before it is handed out again.</summary>
public interface IRateLimiter<in T>
{
    /// <summary>The delay for the next retry of <paramref name="item"/>; each call counts as one more failure.</summary>
    TimeSpan When(T item);

    /// <summary>Clears the item's failure history after it succeeded.</summary>
    void Forget(T item);

    int NumRequeues(T item);
}
