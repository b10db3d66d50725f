using Cd4ml.Testing;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>
/// The aggregated roles in config/rbac (installed by config/default) on a real apiserver: a namespace's editors and viewers
/// get the cd4ml.io kinds through the built-in edit and view roles, asked with `kubectl auth can-i --as`.
/// </summary>
public sealed class TenancyRbacTests
{
    private ControlPlane plane = null!;
    private string team = "";
    private string otherTeam = "";

    [OneTimeSetUp]
    public async Task InstallRolesAndBindATeam()
    {
        var rendered = await Tool.RunAsync("kubectl", "kustomize", RepositoryRoot.Combine("config", "default"));
        Assert.That(rendered.Output, Does.Contain("name: cd4ml-edit").And.Contain("name: cd4ml-view"), "config/default installs the roles");

        plane = await ControlPlane.SharedAsync();
        foreach (var arguments in new[] { new[] { "-k", RepositoryRoot.Combine("crds") },
                                          new[] { "-f", RepositoryRoot.Combine("config", "rbac", "aggregated_roles.yaml") } })
        {
            var applied = await Cd4ml.Testing.Kubectl.RunAsync(plane, null, ["apply", .. arguments]);
            Assert.That(applied.ExitCode, Is.Zero, applied.All);
        }

        team = await plane.CreateNamespaceAsync("team");
        otherTeam = await plane.CreateNamespaceAsync("other-team");
        using var client = plane.CreateClient();
        foreach (var (user, role) in new[] { ("alice", "edit"), ("bob", "view") })
        {
            await client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(new V1RoleBinding
            {
                Metadata = new V1ObjectMeta { Name = $"{user}-{role}" },
                RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "ClusterRole", Name = role },
                Subjects = [new Rbacv1Subject { ApiGroup = "rbac.authorization.k8s.io", Kind = "User", Name = user }],
            }, team);
        }

        // The controller-manager aggregates the labelled ClusterRoles into edit and view shortly after they exist.
        await ControlPlane.WaitUntilAsync(async () => await CanAsync("alice", "create trainingruns.cd4ml.io")
                                                      && await CanAsync("bob", "list deployments.cd4ml.io"),
            TimeSpan.FromSeconds(60), "cd4ml-edit and cd4ml-view aggregated into edit and view");
    }

    private async Task<bool> CanAsync(string user, string check, string? ns = null)
    {
        var result = await Cd4ml.Testing.Kubectl.RunAsync(plane, null,
            ["auth", "can-i", .. check.Split(' '), "-n", ns ?? team, "--as", user]);
        var answer = result.Output.Trim();
        Assert.That(answer, Is.EqualTo("yes").Or.EqualTo("no"), result.All);
        return answer == "yes";
    }

    [TestCase("create trainingruns.cd4ml.io")]
    [TestCase("patch trainingruns.cd4ml.io")]
    [TestCase("delete trainingruns.cd4ml.io")]
    [TestCase("create deployments.cd4ml.io")]
    [TestCase("patch deployments.cd4ml.io")]
    [TestCase("patch modelversions.cd4ml.io")]
    [TestCase("get modelversions.cd4ml.io")]
    public async Task NamespaceEditor_ManagesTrainingRunsAndDeployments_AndApprovesModelVersions(string check) =>
        Assert.That(await CanAsync("alice", check), Is.True, check);

    [TestCase("get trainingruns.cd4ml.io")]
    [TestCase("list modelversions.cd4ml.io")]
    [TestCase("watch deployments.cd4ml.io")]
    [TestCase("get deployments.cd4ml.io --subresource=status")]
    public async Task NamespaceViewer_Reads(string check) =>
        Assert.That(await CanAsync("bob", check), Is.True, check);

    [TestCase("bob", "create trainingruns.cd4ml.io")]
    [TestCase("bob", "patch modelversions.cd4ml.io")]
    [TestCase("bob", "delete deployments.cd4ml.io")]
    [TestCase("alice", "patch trainingruns.cd4ml.io --subresource=status")]
    [TestCase("alice", "update modelversions.cd4ml.io --subresource=status")]
    [TestCase("alice", "patch deployments.cd4ml.io --subresource=status")]
    [TestCase("bob", "patch deployments.cd4ml.io --subresource=status")]
    public async Task NoTeamMember_WritesStatus_AndViewersWriteNothing(string user, string check) =>
        Assert.That(await CanAsync(user, check), Is.False, $"{user}: {check}");

    [Test]
    public async Task RolesReachOnlyTheBoundNamespace()
    {
        Assert.That(await CanAsync("alice", "create trainingruns.cd4ml.io", otherTeam), Is.False);
        Assert.That(await CanAsync("bob", "get trainingruns.cd4ml.io", otherTeam), Is.False);
    }
}
