using Cd4ml.Api.V1Alpha1;
using k8s;
using k8s.Models;
using NUnit.Framework;

namespace Cd4ml.Kubectl.Tests;

/// <summary>promote, abort, retry and approve: one merge patch each, and refusals shown as such.</summary>
public sealed class SteerTests
{
    [TestCase("promote", ModelDeployment.PromoteAnnotation)]
    [TestCase("abort", ModelDeployment.AbortAnnotation)]
    [TestCase("retry", ModelDeployment.RetryAnnotation)]
    public async Task SteeringVerb_SetsItsAnnotation_ToANewValueEachTime(string verb, string annotation)
    {
        var cluster = await PluginCluster.StartAsync(verb);
        await cluster.CreateAsync(Samples.CanaryInAnalysis());

        var first = await cluster.RunAsync(verb, "mld", "sales-api");
        var firstValue = (await cluster.GetAsync<ModelDeployment>("sales-api"))!.Metadata.Annotations[annotation];
        var second = await cluster.RunAsync(verb, "deployments.cd4ml.io", "sales-api");
        var after = (await cluster.GetAsync<ModelDeployment>("sales-api"))!;

        Assert.Multiple(() =>
        {
            Assert.That(first.ExitCode, Is.Zero, first.ToString());
            Assert.That(first.Output, Does.StartWith($"deployments.cd4ml.io/sales-api: {annotation}={firstValue} set;"));
            Assert.That(second.ExitCode, Is.Zero, second.ToString());
            Assert.That(after.Metadata.Annotations[annotation], Is.Not.EqualTo(firstValue), "the operator acts once per new value");
            Assert.That(after.Metadata.Annotations.Keys.Where(k => k.StartsWith("cd4ml.io/", StringComparison.Ordinal)),
                Is.EqualTo(new[] { annotation }), "only this verb's annotation");
            Assert.That(after.Status!.CanaryVersion, Is.EqualTo("sales-2"), "status is the operator's: untouched");
        });
    }

    [Test]
    public async Task PromoteFull_SetsThePromoteFullAnnotation_Only()
    {
        var cluster = await PluginCluster.StartAsync("promote-full");
        await cluster.CreateAsync(Samples.CanaryInAnalysis());

        var result = await cluster.RunAsync("promote", "--full", "mld", "sales-api");
        var after = (await cluster.GetAsync<ModelDeployment>("sales-api"))!;

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        var value = after.Metadata.Annotations[ModelDeployment.PromoteFullAnnotation];
        Assert.That(result.Output.Trim(), Is.EqualTo(
            $"deployments.cd4ml.io/sales-api: cd4ml.io/promote-full={value} set; the operator promotes the canary to stable at once"));
        Assert.That(after.Metadata.Annotations.Keys, Is.EqualTo(new[] { ModelDeployment.PromoteFullAnnotation }),
            "not cd4ml.io/promote: that would skip one step");
    }

    [Test]
    public async Task Approve_SetsSpecApproved()
    {
        var cluster = await PluginCluster.StartAsync("approve");
        await cluster.CreateAsync(Samples.Version(2, "sales-forecast", "31", Samples.DigestB, 0.412, approved: false));

        var result = await cluster.RunAsync("approve", "mv", "sales-2");

        Assert.That(result.ExitCode, Is.Zero, result.ToString());
        Assert.That(result.Output.Trim(), Is.EqualTo("modelversions.cd4ml.io/sales-2 approved"));
        Assert.That((await cluster.GetAsync<ModelVersion>("sales-2"))!.Spec.Approved, Is.True);
    }

    [Test]
    public async Task AVerbOnTheWrongKind_OrAMissingObject_FailsWithOneLine()
    {
        var cluster = await PluginCluster.StartAsync("steer-missing");

        var wrongKind = await cluster.RunAsync("approve", "mld", "sales-api");
        var missing = await cluster.RunAsync("abort", "mld", "no-such");
        var missingGet = await cluster.RunAsync("get", "tr", "no-such");

        Assert.Multiple(() =>
        {
            Assert.That(wrongKind.ExitCode, Is.EqualTo(1));
            Assert.That(wrongKind.Error.Trim(), Is.EqualTo("error: approve acts on modelversions.cd4ml.io only, not on \"mld\""));
            Assert.That(missing.ExitCode, Is.EqualTo(1));
            Assert.That(missing.Error.Trim(), Is.EqualTo($"error: deployments.cd4ml.io \"no-such\" not found in namespace \"{cluster.Namespace}\""));
            Assert.That(missingGet.ExitCode, Is.EqualTo(1));
            Assert.That(missingGet.Error.Trim(), Is.EqualTo($"error: trainingruns.cd4ml.io \"no-such\" not found in namespace \"{cluster.Namespace}\""));
        });
    }

    [Test]
    public async Task AUserWhoMayOnlyRead_SeesTheTree_ButAbortIsForbidden_NamingVerbResourceAndNamespace()
    {
        var cluster = await PluginCluster.StartAsync("rbac");
        await cluster.CreateAsync(Samples.CanaryInAnalysis());
        var kubeconfig = await ReadOnlyUserKubeconfigAsync(cluster, "viewer");

        // No -n: the namespace comes from the kubeconfig's context, as with kubectl.
        var get = await PluginCluster.RunAsync(kubeconfig, ["get", "mld", "sales-api"], CancellationToken.None);
        var abort = await PluginCluster.RunAsync(kubeconfig, ["abort", "mld", "sales-api"], CancellationToken.None);
        var approve = await PluginCluster.RunAsync(kubeconfig, ["approve", "mv", "sales-1"], CancellationToken.None);
        TestContext.Out.WriteLine(abort.Error);

        Assert.Multiple(() =>
        {
            Assert.That(get.ExitCode, Is.Zero, get.ToString());
            Assert.That(get.Output, Does.StartWith("Deployment sales-api"));
            Assert.That(abort.ExitCode, Is.EqualTo(1), abort.ToString());
            Assert.That(abort.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries), Has.Length.EqualTo(1), "one line");
            Assert.That(abort.Error, Does.StartWith(
                $"error: forbidden: you may not patch deployments.cd4ml.io \"sales-api\" in namespace \"{cluster.Namespace}\" (RBAC): "));
            Assert.That(abort.Error, Does.Contain($"system:serviceaccount:{cluster.Namespace}:viewer"), "the server's reason names the user");
            Assert.That(approve.ExitCode, Is.EqualTo(1), approve.ToString());
            Assert.That(approve.Error, Does.StartWith("error: forbidden: you may not patch modelversions.cd4ml.io \"sales-1\""));
        });
        Assert.That((await cluster.GetAsync<ModelDeployment>("sales-api"))!.Metadata.Annotations, Is.Null.Or.Empty);
    }

    /// <summary>A ServiceAccount allowed get/list/watch on the cd4ml kinds, and a kubeconfig holding its token.</summary>
    private static async Task<string> ReadOnlyUserKubeconfigAsync(PluginCluster cluster, string name)
    {
        var ns = cluster.Namespace;
        await cluster.Client.CoreV1.CreateNamespacedServiceAccountAsync(new V1ServiceAccount { Metadata = new V1ObjectMeta { Name = name } }, ns);
        await cluster.Client.RbacAuthorizationV1.CreateNamespacedRoleAsync(new V1Role
        {
            Metadata = new V1ObjectMeta { Name = name },
            Rules = [new V1PolicyRule
            {
                ApiGroups = [ApiGroup.Group], Resources = ["trainingruns", "modelversions", "deployments"], Verbs = ["get", "list", "watch"],
            }],
        }, ns);
        await cluster.Client.RbacAuthorizationV1.CreateNamespacedRoleBindingAsync(new V1RoleBinding
        {
            Metadata = new V1ObjectMeta { Name = name },
            RoleRef = new V1RoleRef { ApiGroup = "rbac.authorization.k8s.io", Kind = "Role", Name = name },
            Subjects = [new Rbacv1Subject { Kind = "ServiceAccount", Name = name, NamespaceProperty = ns }],
        }, ns);

        // Kubernetes 1.20's token controller writes the ServiceAccount's token into a Secret.
        string? token = null;
        await Testing.ControlPlane.WaitUntilAsync(async () =>
        {
            var secrets = await cluster.Client.CoreV1.ListNamespacedSecretAsync(ns);
            var secret = secrets.Items.FirstOrDefault(s => s.Type == "kubernetes.io/service-account-token"
                && s.Metadata.Annotations?.TryGetValue("kubernetes.io/service-account.name", out var owner) == true && owner == name);
            token = secret?.Data?.TryGetValue("token", out var bytes) == true ? System.Text.Encoding.UTF8.GetString(bytes) : null;
            return token is not null;
        }, TimeSpan.FromSeconds(30), $"the token of ServiceAccount {name}");

        var path = Path.Combine(Path.GetTempPath(), $"cd4ml-{ns}-{name}.kubeconfig");
        await File.WriteAllTextAsync(path, $"""
            apiVersion: v1
            kind: Config
            clusters:
            - name: test
              cluster:
                server: {cluster.Plane.ServerUrl}
                insecure-skip-tls-verify: true
            users:
            - name: {name}
              user:
                token: {token}
            contexts:
            - name: {name}
              context:
                cluster: test
                user: {name}
                namespace: {ns}
            current-context: {name}
            """);
        return path;
    }
}
