using Cd4ml.Runtime.Queues;

namespace Cd4ml.Runtime.Tests.Queues;

public sealed class RateLimiterTests
{
    [Test]
    public void Backoff_DoublesPerFailure_From5ms_CappedAt1000s_AndResetsOnForget()
    {
        var limiter = new ExponentialBackoffRateLimiter<string>(TimeSpan.FromMilliseconds(5), TimeSpan.FromSeconds(1000));

        var delays = Enumerable.Range(0, 5).Select(_ => limiter.When("a").TotalMilliseconds).ToArray();
        Assert.That(delays, Is.EqualTo(new[] { 5.0, 10, 20, 40, 80 }));
        Assert.That(limiter.When("b"), Is.EqualTo(TimeSpan.FromMilliseconds(5)), "keys back off independently");

        for (var i = 0; i < 30; i++)
        {
            limiter.When("a");
        }

        Assert.That(limiter.When("a"), Is.EqualTo(TimeSpan.FromSeconds(1000)));

        limiter.Forget("a");
        Assert.That(limiter.When("a"), Is.EqualTo(TimeSpan.FromMilliseconds(5)));
        Assert.That(limiter.NumRequeues("a"), Is.EqualTo(1));
    }

    [Test]
    public void TokenBucket_AllowsBurstOf100_ThenSpacesRetriesAt10PerSecond()
    {
        var clock = new ManualClock();
        var bucket = new TokenBucketRateLimiter<string>(10, 100, clock);

        var burst = Enumerable.Range(0, 100).Select(i => bucket.When($"k{i}")).ToArray();
        Assert.That(burst, Is.All.EqualTo(TimeSpan.Zero));

        Assert.That(bucket.When("x").TotalMilliseconds, Is.EqualTo(100).Within(0.001));
        Assert.That(bucket.When("y").TotalMilliseconds, Is.EqualTo(200).Within(0.001));

        clock.Advance(TimeSpan.FromSeconds(10));
        Assert.That(bucket.When("z"), Is.EqualTo(TimeSpan.Zero), "the bucket refills over time");
    }

    [Test]
    public void Default_TakesTheLongerOfPerKeyBackoffAndOverallBucket()
    {
        var clock = new ManualClock();
        var limiter = RateLimiters.Default<string>(clock);

        Assert.That(limiter.When("a"), Is.EqualTo(TimeSpan.FromMilliseconds(5)));
        for (var i = 0; i < 120; i++)
        {
            limiter.When($"other{i}");
        }

        Assert.That(limiter.When("a"), Is.GreaterThan(TimeSpan.FromSeconds(1)), "bucket exhausted: its delay wins");
    }
}
