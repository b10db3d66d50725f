namespace Cd4ml.Runtime.Queues;

/// <summary>The longest delay any of its limiters asks for; the default combines per-key backoff and an overall bucket.</summary>
public sealed class MaxOfRateLimiter<T>(params IRateLimiter<T>[] limiters) : IRateLimiter<T>
{
    public TimeSpan When(T item)
    {
        var delay = TimeSpan.Zero;
        foreach (var limiter in limiters)
        {
            var next = limiter.When(item);
            if (next > delay)
            {
                delay = next;
            }
        }

        return delay;
    }

    public void Forget(T item)
    {
        foreach (var limiter in limiters)
        {
            limiter.Forget(item);
        }
    }

    public int NumRequeues(T item) => limiters.Max(l => l.NumRequeues(item));
}

public static class RateLimiters
{
    /// <summary>controller-runtime's default: per-key 5 ms → 1000 s, overall 10 qps with burst 100.</summary>
    public static IRateLimiter<T> Default<T>(TimeProvider? time = null) where T : notnull =>
        new MaxOfRateLimiter<T>(
            new ExponentialBackoffRateLimiter<T>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000)),
            new TokenBucketRateLimiter<T>(10, 100, time));
}
