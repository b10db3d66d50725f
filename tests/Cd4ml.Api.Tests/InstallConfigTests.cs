using Cd4ml.Testing;
using NUnit.Framework;

namespace Cd4ml.Api.Tests;

/// <summary>The kustomize install in config/ renders and a real apiserver accepts it.</summary>
public sealed class InstallConfigTests
{
    [Test]
    public async Task DefaultInstall_AppliesCrdsRbacAndManager()
    {
        var plane = await ControlPlane.SharedAsync();
        var applied = await KubectlProcess.RunAsync(plane, null, "apply", "-k", RepositoryRoot.Combine("config", "default"));
        Assert.That(applied.ExitCode, Is.Zero, applied.All);
        Assert.That(applied.Output, Does.Contain("customresourcedefinition.apiextensions.k8s.io/deployments.cd4ml.io")
            .And.Contain("clusterrole.rbac.authorization.k8s.io/cd4ml-operator")
            .And.Contain("deployment.apps/cd4ml-operator"));

        // The operator's ServiceAccount may do what its controllers need, and may not write specs of what users own.
        string[] allowed = ["create modelversions.cd4ml.io", "update trainingruns.cd4ml.io --subresource=status", "create jobs.batch",
                            "patch deployments.apps", "get secrets", "create events", "update leases.coordination.k8s.io -n cd4ml-system"];
        foreach (var check in allowed)
        {
            var can = await KubectlProcess.RunAsync(plane, null, ["auth", "can-i", .. check.Split(' '), "--as", "system:serviceaccount:cd4ml-system:cd4ml-operator"]);
            Assert.That(can.Output.Trim(), Is.EqualTo("yes"), check);
        }

        foreach (var check in new[] { "update trainingruns.cd4ml.io", "update deployments.cd4ml.io", "create secrets" })
        {
            var can = await KubectlProcess.RunAsync(plane, null, ["auth", "can-i", .. check.Split(' '), "--as", "system:serviceaccount:cd4ml-system:cd4ml-operator"]);
            Assert.That(can.Output.Trim(), Is.EqualTo("no"), check);
        }
    }

    [TestCase("monitoring", "PodMonitor")]
    [TestCase("argocd", "resource.customizations.health.cd4ml.io_Deployment")]
    public async Task OptionalKustomizations_Render(string folder, string expected)
    {
        var plane = await ControlPlane.SharedAsync();
        var rendered = await KubectlProcess.RunAsync(plane, null, "kustomize", RepositoryRoot.Combine("config", folder));
        Assert.That(rendered.ExitCode, Is.Zero, rendered.All);
        Assert.That(rendered.Output, Does.Contain(expected));
    }
}
