using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests;

/// <summary>Stops the shared servers after the run, keeping their logs when anything failed.</summary>
[SetUpFixture]
public sealed class TestRun
{
    [OneTimeTearDown]
    public async Task StopSharedServers()
    {
        var failed = TestContext.CurrentContext.Result.FailCount > 0;
        await ControlPlane.StopSharedAsync(keepLogs: failed);
        await S3Server.StopSharedAsync(keepLogs: failed);
    }
}
