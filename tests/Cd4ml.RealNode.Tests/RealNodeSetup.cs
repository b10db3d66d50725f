using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.RealNode.Tests;

/// <summary>One real node for the whole assembly: brought up by the first test that asks, taken down at the end.</summary>
[SetUpFixture]
public sealed class RealNodeSetup
{
    [OneTimeTearDown]
    public Task StopNode() => RealNodeCluster.StopSharedAsync();

    /// <summary>The shared node; the test is ignored (with the reason) on a machine that cannot run one.</summary>
    public static Task<RealNodeCluster> NodeAsync()
    {
        if (RealNodeCluster.UnavailableReason is { } reason)
        {
            Assert.Ignore(reason);
        }

        return RealNodeCluster.SharedAsync();
    }
}
