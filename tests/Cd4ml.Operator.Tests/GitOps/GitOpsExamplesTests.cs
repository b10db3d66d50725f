using Cd4ml.Testing;
using NUnit.Framework;
using YamlDotNet.RepresentationModel;

namespace Cd4ml.Operator.Tests.GitOps;

/// <summary>
/// examples/gitops renders with kustomize and a real apiserver accepts it: the platform's namespaces and bindings for
/// real, the team's overlays with --dry-run=server. Argo CD's own kinds (no CRDs here) are parsed and cross-checked.
/// </summary>
public sealed class GitOpsExamplesTests
{
    private static readonly string Folder = RepositoryRoot.Combine("examples", "gitops");

    private static async Task<List<YamlMappingNode>> RenderAsync(string kustomization)
    {
        var rendered = await Tool.RunAsync("kubectl", "kustomize", Path.Combine(Folder, kustomization));
        Assert.That(rendered.ExitCode, Is.Zero, rendered.All);
        var yaml = new YamlStream();
        yaml.Load(new StringReader(rendered.Output));
        return yaml.Documents.Select(d => (YamlMappingNode)d.RootNode).ToList();
    }

    private static string Text(YamlNode node, params string[] path)
    {
        foreach (var key in path)
        {
            node = ((YamlMappingNode)node)[key];
        }

        return ((YamlScalarNode)node).Value!;
    }

    private static bool IsArgoCd(YamlMappingNode document) => Text(document, "apiVersion").StartsWith("argoproj.io/", StringComparison.Ordinal);

    private static string ToYaml(IEnumerable<YamlMappingNode> documents)
    {
        var writer = new StringWriter();
        new YamlStream(documents.Select(d => new YamlDocument(d))).Save(writer, assignAnchors: false);
        return writer.ToString();
    }

    [Test]
    public async Task PlatformAndTeamOverlays_AreAcceptedByTheApiServer()
    {
        var plane = await ControlPlane.SharedAsync();
        var crds = await Cd4ml.Testing.Kubectl.RunAsync(plane, null, "apply", "-k", RepositoryRoot.Combine("crds"));
        Assert.That(crds.ExitCode, Is.Zero, crds.All);

        var platform = (await RenderAsync("platform")).Where(d => !IsArgoCd(d)).ToList();
        Assert.That(platform.Select(d => Text(d, "kind")), Does.Contain("Namespace").And.Contain("RoleBinding"));
        var applied = await Cd4ml.Testing.Kubectl.RunAsync(plane, ToYaml(platform), "apply", "-f", "-");
        Assert.That(applied.ExitCode, Is.Zero, applied.All);

        foreach (var overlay in new[] { "staging", "production" })
        {
            var documents = await RenderAsync($"team-repo/overlays/{overlay}");
            Assert.That(documents.Select(d => $"{Text(d, "kind")}/{Text(d, "metadata", "name")}"),
                Is.EquivalentTo(new[] { "TrainingRun/sales", "Deployment/sales-api" }), overlay);
            Assert.That(documents.Select(d => Text(d, "metadata", "namespace")), Has.All.EqualTo($"team-a-{overlay}"));
            Assert.That(documents.Single(d => Text(d, "kind") == "Deployment")["spec"]["version"], Is.Not.Null,
                "each environment pins the approved version");
            // --validate=true (the default) also refuses fields the CRD schema does not know.
            var dryRun = await Cd4ml.Testing.Kubectl.RunAsync(plane, ToYaml(documents), "apply", "--dry-run=server", "-f", "-");
            Assert.That(dryRun.ExitCode, Is.Zero, dryRun.All);
            Assert.That(dryRun.Output, Does.Contain("trainingrun.cd4ml.io/sales created (server dry run)")
                .And.Contain("deployment.cd4ml.io/sales-api created (server dry run)"), overlay);
        }
    }

    [Test]
    public async Task EachApplication_SyncsAnExistingOverlay_IntoANamespaceItsProjectAllows()
    {
        var argo = (await RenderAsync("platform")).Where(IsArgoCd).ToList();
        var project = argo.Single(d => Text(d, "kind") == "AppProject");
        var applications = argo.Where(d => Text(d, "kind") == "Application").ToList();
        Assert.That(applications, Has.Count.EqualTo(2), "one Application per team namespace");

        var repos = ((YamlSequenceNode)project["spec"]["sourceRepos"]).Select(r => ((YamlScalarNode)r).Value).ToList();
        var destinations = ((YamlSequenceNode)project["spec"]["destinations"])
            .Select(d => (Text(d, "server"), Text(d, "namespace"))).ToList();
        var kinds = ((YamlSequenceNode)project["spec"]["namespaceResourceWhitelist"])
            .Select(k => $"{Text(k, "group")}/{Text(k, "kind")}").ToList();
        Assert.That(((YamlSequenceNode)project["spec"]["clusterResourceWhitelist"]).Children, Is.Empty);
        Assert.That(((YamlSequenceNode)project["spec"]["orphanedResources"]["ignore"])
            .Select(k => $"{Text(k, "group")}/{Text(k, "kind")}"), Is.EqualTo(new[] { "cd4ml.io/ModelVersion" }));

        foreach (var application in applications)
        {
            var name = Text(application, "metadata", "name");
            Assert.That(Text(application, "spec", "project"), Is.EqualTo(Text(project, "metadata", "name")), name);
            Assert.That(repos, Does.Contain(Text(application, "spec", "source", "repoURL")), name);
            var destination = (Text(application, "spec", "destination", "server"), Text(application, "spec", "destination", "namespace"));
            Assert.That(destinations, Does.Contain(destination), name);

            // The overlay the Application syncs exists, targets the same namespace, and holds only kinds the project allows.
            var path = Text(application, "spec", "source", "path");
            var documents = await RenderAsync(Path.Combine("team-repo", path));
            foreach (var document in documents)
            {
                var group = Text(document, "apiVersion").Split('/')[0];
                Assert.That(kinds, Does.Contain($"{group}/{Text(document, "kind")}"), $"{name}: {path}");
                Assert.That(Text(document, "metadata", "namespace"), Is.EqualTo(destination.Item2), $"{name}: {path}");
            }
        }
    }
}
