using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.Kubectl.Tests;

/// <summary>Stops the shared control plane after the run, keeping its logs when anything failed.</summary>
[SetUpFixture]
public sealed class TestRun
{
    [OneTimeTearDown]
    public Task StopControlPlane() =>
        ControlPlane.StopSharedAsync(keepLogs: TestContext.CurrentContext.Result.FailCount > 0);
}
