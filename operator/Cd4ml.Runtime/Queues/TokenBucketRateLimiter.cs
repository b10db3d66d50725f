namespace Cd4ml.Runtime.Queues;

/// <summary>
/// An overall token bucket shared by all keys (controller-runtime: 10 qps, burst 100). Each retry reserves a token;
/// when the bucket is empty the returned delay is how long until that reservation's token exists.
/// </summary>
public sealed class TokenBucketRateLimiter<T>(double perSecond, int burst, TimeProvider? time = null) : IRateLimiter<T>
{
    private readonly TimeProvider clock = time ?? TimeProvider.System;
    private readonly object gate = new();
    private double tokens = burst;
    private DateTimeOffset last = (time ?? TimeProvider.System).GetUtcNow();

    public TimeSpan When(T item)
    {
        lock (gate)
        {
            var now = clock.GetUtcNow();
            tokens = Math.Min(burst, tokens + (now - last).TotalSeconds * perSecond);
            last = now;
            tokens -= 1;
            return tokens >= 0 ? TimeSpan.Zero : TimeSpan.FromSeconds(-tokens / perSecond);
        }
    }

    public void Forget(T item)
    {
    }

    public int NumRequeues(T item) => 0;
}
