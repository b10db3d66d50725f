using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Rollouts;

/// <summary>
/// A test class whose tests share one <see cref="ServingCluster"/> with Prometheus scraping every second; each test
/// starts its own harness on it (<see cref="ServingCluster.StartHarnessAsync"/>).
/// </summary>
public abstract class ServingClusterFixture
{
    private protected ServingCluster cluster = null!;

    [OneTimeSetUp]
    public async Task StartCluster() => cluster = await ServingCluster.StartAsync(TimeSpan.FromSeconds(1), TestContext.Progress);

    [OneTimeTearDown]
    public async Task StopCluster() => await cluster.DisposeAsync();
}
