using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.RealNode.Tests;

/// <summary>
/// `realnode.sh down` puts the machine back as it was before `up`. Takes the shared node down (a later test would
/// bring it up again), so it is named to run after the other fixtures.
/// </summary>
public sealed class TeardownTests
{
    [Test]
    public async Task Down_LeavesNoProcessMountNetworkNamespaceIptablesRuleCgroupOrChangedSysctl()
    {
        await RealNodeSetup.NodeAsync();
        var before = RealNodeCluster.FootprintBeforeUp!;
        var whileUp = await RealNodeCluster.FootprintAsync();

        await RealNodeCluster.StopSharedAsync();
        var after = await RealNodeCluster.FootprintAsync();

        // The footprint does see a running node (so the comparison below can fail) ...
        Assert.That(whileUp, Does.Contain("cd4ml-node").And.Contain("kubelet"));
        Assert.That(whileUp, Is.Not.EqualTo(before));
        // ... and after down it is exactly what it was before up.
        Assert.That(after, Is.EqualTo(before), Diff(before, after));
    }

    private static string Diff(string before, string after)
    {
        var was = before.Split('\n').ToHashSet();
        var now = after.Split('\n').ToHashSet();
        return "left behind:\n  " + string.Join("\n  ", now.Except(was)) + "\nmissing now:\n  " + string.Join("\n  ", was.Except(now));
    }
}
