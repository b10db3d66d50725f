namespace Cd4ml.Runtime.Queues;

/// <summary>Per-key backoff: base · 2^(failures-1), capped (controller-runtime: 5 ms → 1000 s).</summary>
public sealed class ExponentialBackoffRateLimiter<T>(TimeSpan baseDelay, TimeSpan maxDelay) : IRateLimiter<T>
    where T : notnull
{
    private readonly Dictionary<T, int> failures = [];

    public TimeSpan When(T item)
    {
        int exponent;
        lock (failures)
        {
            failures.TryGetValue(item, out exponent);
            failures[item] = exponent + 1;
        }

        var delay = baseDelay.TotalMilliseconds * Math.Pow(2, Math.Min(exponent, 62));
        return delay >= maxDelay.TotalMilliseconds ? maxDelay : TimeSpan.FromMilliseconds(delay);
    }

    public void Forget(T item)
    {
        lock (failures)
        {
            failures.Remove(item);
        }
    }

    public int NumRequeues(T item)
    {
        lock (failures)
        {
            return failures.GetValueOrDefault(item);
        }
    }
}
