using Cd4ml.Testing;

namespace Cd4ml.Training.Tests;

/// <summary>Stops the shared s3rver after all tests; its data and log are kept when a test failed.</summary>
[SetUpFixture]
public sealed class S3ServerLifetime
{
    [OneTimeTearDown]
    public Task StopS3() => S3Server.StopSharedAsync(keepLogs: TestContext.CurrentContext.Result.FailCount > 0);
}
