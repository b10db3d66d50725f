using NUnit.Framework;

namespace Cd4ml.Operator.Tests.Training;

/// <summary>
/// A test class whose tests share one <see cref="TrainingEnvironment"/> with a local kubelet; when a test failed,
/// the teardown names the kubelet's log directory (what the training Jobs printed).
/// </summary>
/// <param name="prefix">Names the environment's namespace, bucket and node.</param>
public abstract class TrainingEnvironmentFixture(string prefix)
{
    private protected TrainingEnvironment env = null!;

    [OneTimeSetUp]
    public async Task StartEnvironment() => env = await TrainingEnvironment.StartAsync(prefix, withKubelet: true);

    [OneTimeTearDown]
    public async Task StopEnvironment()
    {
        if (TestContext.CurrentContext.Result.FailCount > 0 && env?.KubeletLogs is { } logs)
        {
            TestContext.Progress.WriteLine($"kubelet logs: {logs}");
        }

        if (env is not null)
        {
            await env.DisposeAsync();
        }
    }
}
