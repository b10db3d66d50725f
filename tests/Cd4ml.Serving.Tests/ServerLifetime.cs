using Cd4ml.Testing;

namespace Cd4ml.Serving.Tests;

/// <summary>Stops the shared s3rver and Prometheus after all tests; their data and logs are kept when a test failed.</summary>
[SetUpFixture]
public sealed class ServerLifetime
{
    [OneTimeTearDown]
    public async Task StopServers()
    {
        var failed = TestContext.CurrentContext.Result.FailCount > 0;
        await PrometheusServer.StopSharedAsync(keepLogs: failed);
        await S3Server.StopSharedAsync(keepLogs: failed);
    }
}
