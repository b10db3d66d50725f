using Cd4ml.Runtime.Metrics;

namespace Cd4ml.Runtime.Queues;

/// <summary>
/// A de-duplicating work queue in the style of client-go's: a key waiting in the queue is stored once ("dirty"),
/// a key being processed is never handed to a second worker ("processing"); if it is added meanwhile it is queued
/// again when the first worker calls <see cref="Done"/>. Failures come back through <see cref="AddRateLimited"/>.
/// </summary>
public sealed class WorkQueue<T> : IDisposable where T : notnull
{
    private readonly object gate = new();
    private readonly Queue<T> queue = new();
    private readonly HashSet<T> dirty = [];
    private readonly Dictionary<T, long> processing = [];
    private readonly SemaphoreSlim available = new(0);
    private readonly CancellationTokenSource shutdown = new();
    private readonly IRateLimiter<T> rateLimiter;
    private readonly TimeProvider time;
    private readonly string name;
    private readonly RuntimeMetrics? metrics;
    private readonly ITimer? metricsTimer;

    public WorkQueue(string name, IRateLimiter<T>? rateLimiter = null, RuntimeMetrics? metrics = null,
        TimeProvider? time = null)
    {
        this.name = name;
        this.time = time ?? TimeProvider.System;
        this.rateLimiter = rateLimiter ?? RateLimiters.Default<T>(this.time);
        this.metrics = metrics;
        if (metrics is not null)
        {
            metricsTimer = this.time.CreateTimer(_ => UpdateLongestRunning(), null, TimeSpan.FromSeconds(1),
                TimeSpan.FromSeconds(1));
        }
    }

    public bool IsShuttingDown => shutdown.IsCancellationRequested;

    /// <summary>Keys waiting to be handed out (not counting those in flight).</summary>
    public int Count
    {
        get
        {
            lock (gate)
            {
                return queue.Count;
            }
        }
    }

    public void Add(T item)
    {
        lock (gate)
        {
            if (IsShuttingDown || !dirty.Add(item))
            {
                return;
            }

            metrics?.WorkQueueAdds.WithLabels(name).Inc();
            if (processing.ContainsKey(item))
            {
                return;
            }

            queue.Enqueue(item);
            metrics?.WorkQueueDepth.WithLabels(name).Set(queue.Count);
        }

        available.Release();
    }

    /// <summary>Adds the key once <paramref name="delay"/> has passed.</summary>
    public void AddAfter(T item, TimeSpan delay)
    {
        if (IsShuttingDown)
        {
            return;
        }

        if (delay <= TimeSpan.Zero)
        {
            Add(item);
            return;
        }

        _ = DelayThenAdd(item, delay);
    }

    /// <summary>Adds the key after the rate limiter's delay; every call counts as one more failure for the key.</summary>
    /// <returns>The delay before the key comes back.</returns>
    public TimeSpan AddRateLimited(T item)
    {
        metrics?.WorkQueueRetries.WithLabels(name).Inc();
        var delay = rateLimiter.When(item);
        AddAfter(item, delay);
        return delay;
    }

    /// <summary>Resets the key's backoff after it was processed successfully.</summary>
    public void Forget(T item) => rateLimiter.Forget(item);

    public int NumRequeues(T item) => rateLimiter.NumRequeues(item);

    /// <summary>Waits for the next key; returns (default, false) once the queue shuts down.</summary>
    public async Task<(T Item, bool Ok)> GetAsync(CancellationToken ct = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(ct, shutdown.Token);
        try
        {
            await available.WaitAsync(linked.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (shutdown.IsCancellationRequested)
        {
            return (default!, false);
        }

        lock (gate)
        {
            if (IsShuttingDown)
            {
                return (default!, false);
            }

            var item = queue.Dequeue();
            dirty.Remove(item);
            processing[item] = time.GetTimestamp();
            metrics?.WorkQueueDepth.WithLabels(name).Set(queue.Count);
            return (item, true);
        }
    }

    /// <summary>Marks the key finished; if it was added while in flight it is queued again now.</summary>
    public void Done(T item)
    {
        bool requeue;
        lock (gate)
        {
            processing.Remove(item);
            requeue = dirty.Contains(item) && !IsShuttingDown;
            if (requeue)
            {
                queue.Enqueue(item);
                metrics?.WorkQueueDepth.WithLabels(name).Set(queue.Count);
            }
        }

        if (requeue)
        {
            available.Release();
        }
    }

    /// <summary>Stops handing out keys: waiting workers return at once, in-flight keys may still call Done.</summary>
    public void ShutDown() => shutdown.Cancel();

    public void Dispose()
    {
        shutdown.Cancel();
        metricsTimer?.Dispose();
        shutdown.Dispose();
        available.Dispose();
    }

    private async Task DelayThenAdd(T item, TimeSpan delay)
    {
        try
        {
            await Task.Delay(delay, time, shutdown.Token).ConfigureAwait(false);
            Add(item);
        }
        catch (OperationCanceledException)
        {
        }
        catch (ObjectDisposedException)
        {
        }
    }

    private void UpdateLongestRunning()
    {
        long oldest;
        lock (gate)
        {
            oldest = processing.Count == 0 ? 0 : processing.Values.Min();
        }

        var seconds = oldest == 0 ? 0 : time.GetElapsedTime(oldest).TotalSeconds;
        metrics?.WorkQueueLongestRunning.WithLabels(name).Set(seconds);
    }
}
