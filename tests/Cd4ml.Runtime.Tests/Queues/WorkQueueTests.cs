using Cd4ml.Runtime.Metrics;
using Cd4ml.Runtime.Queues;
using Prometheus;

namespace Cd4ml.Runtime.Tests.Queues;

public sealed class WorkQueueTests
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(5);

    [Test]
    public async Task Add_CoalescesAKeyWhileItWaits()
    {
        using var queue = new WorkQueue<string>("test");
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");

        Assert.That(queue.Count, Is.EqualTo(2));
        Assert.That((await queue.GetAsync()).Item, Is.EqualTo("a"));
        Assert.That((await queue.GetAsync()).Item, Is.EqualTo("b"));
    }

    [Test]
    public async Task KeyAddedWhileProcessing_IsHandedOutAgainOnlyAfterDone()
    {
        using var queue = new WorkQueue<string>("test");
        queue.Add("a");
        var (first, _) = await queue.GetAsync();
        queue.Add("a");
        queue.Add("a");

        var second = queue.GetAsync();
        await Task.Delay(50);
        Assert.That(second.IsCompleted, Is.False, "a key in flight is never handed to a second worker");

        queue.Done(first);
        Assert.That((await second.WaitAsync(Timeout)).Item, Is.EqualTo("a"));
        Assert.That(queue.Count, Is.Zero, "the two adds while in flight coalesced into one");
    }

    [Test]
    public async Task ManyWorkers_NeverProcessTheSameKeyConcurrently()
    {
        using var queue = new WorkQueue<int>("test");
        var inFlight = new int[10];
        var overlaps = 0;
        var processed = 0;
        using var stop = new CancellationTokenSource();

        var workers = Enumerable.Range(0, 8).Select(_ => Task.Run(async () =>
        {
            while (true)
            {
                var (key, ok) = await queue.GetAsync();
                if (!ok)
                {
                    return;
                }

                if (Interlocked.Increment(ref inFlight[key]) > 1)
                {
                    Interlocked.Increment(ref overlaps);
                }

                await Task.Yield();
                Thread.SpinWait(1000);
                Interlocked.Decrement(ref inFlight[key]);
                Interlocked.Increment(ref processed);
                queue.Done(key);
            }
        })).ToArray();

        for (var i = 0; i < 5000; i++)
        {
            queue.Add(i % 10);
            if (i % 100 == 0)
            {
                await Task.Yield();
            }
        }

        while (queue.Count > 0)
        {
            await Task.Delay(10);
        }

        await Task.Delay(50);
        queue.ShutDown();
        await Task.WhenAll(workers).WaitAsync(Timeout);

        Assert.That(overlaps, Is.Zero);
        Assert.That(processed, Is.GreaterThanOrEqualTo(10));
    }

    [Test]
    public async Task AddRateLimited_WaitsLongerForEachFailure_AndForgetResets()
    {
        var registry = Prometheus.Metrics.NewCustomRegistry();
        var metrics = new RuntimeMetrics(registry);
        using var queue = new WorkQueue<string>("retries",
            new ExponentialBackoffRateLimiter<string>(TimeSpan.FromMilliseconds(40), TimeSpan.FromSeconds(10)), metrics);

        var waits = new List<TimeSpan>();
        for (var i = 0; i < 3; i++)
        {
            var started = System.Diagnostics.Stopwatch.StartNew();
            queue.AddRateLimited("a");
            var (key, _) = await queue.GetAsync().WaitAsync(Timeout);
            waits.Add(started.Elapsed);
            queue.Done(key);
        }

        Assert.That(waits[0], Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(35)));
        Assert.That(waits[1], Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(75)));
        Assert.That(waits[2], Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(155)));
        Assert.That(queue.NumRequeues("a"), Is.EqualTo(3));
        Assert.That(metrics.WorkQueueRetries.WithLabels("retries").Value, Is.EqualTo(3));

        queue.Forget("a");
        Assert.That(queue.NumRequeues("a"), Is.Zero);
    }

    [Test]
    public async Task AddAfter_DelaysTheKey()
    {
        using var queue = new WorkQueue<string>("test");
        queue.AddAfter("a", TimeSpan.FromMilliseconds(150));
        Assert.That(queue.Count, Is.Zero);

        var started = System.Diagnostics.Stopwatch.StartNew();
        var (key, _) = await queue.GetAsync().WaitAsync(Timeout);
        Assert.That(key, Is.EqualTo("a"));
        Assert.That(started.Elapsed, Is.GreaterThanOrEqualTo(TimeSpan.FromMilliseconds(140)));
    }

    [Test]
    public async Task ShutDown_ReleasesWaitingWorkers_AndStopsHandingOutKeys()
    {
        using var queue = new WorkQueue<string>("test");
        var waiting = queue.GetAsync();
        queue.ShutDown();

        Assert.That((await waiting.WaitAsync(Timeout)).Ok, Is.False);
        queue.Add("a");
        Assert.That((await queue.GetAsync().WaitAsync(Timeout)).Ok, Is.False);
    }

    [Test]
    public async Task Metrics_TrackDepthAndAdds()
    {
        var metrics = new RuntimeMetrics(Prometheus.Metrics.NewCustomRegistry());
        using var queue = new WorkQueue<string>("depth", metrics: metrics);
        queue.Add("a");
        queue.Add("b");
        queue.Add("a");
        Assert.That(metrics.WorkQueueDepth.WithLabels("depth").Value, Is.EqualTo(2));
        Assert.That(metrics.WorkQueueAdds.WithLabels("depth").Value, Is.EqualTo(2));

        await queue.GetAsync();
        Assert.That(metrics.WorkQueueDepth.WithLabels("depth").Value, Is.EqualTo(1));
    }
}
